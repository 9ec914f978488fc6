"""A 2-2-out network with m = 2, worked out by hand with the course's formulas.

This is the only place in the project's torch_ref tests where derivative formulas appear.
"""

import numpy as np
import pytest

from torch_ref import forward_backward, from_params

X = np.array([[1.0, 2.0], [3.0, -1.0]])  # two examples as columns
W1 = np.array([[1.0, -2.0], [0.5, 1.0]])
b1 = np.array([[0.0], [1.0]])
Z1 = np.array([[-5.0, 4.0], [4.5, 1.0]])  # W1 X + b1, worked out on paper
A1 = np.array([[0.0, 4.0], [4.5, 1.0]])  # relu(Z1)
m = 2


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    return np.exp(z) / np.exp(z).sum(axis=0, keepdims=True)


CASES = {
    "sigmoid+bce": dict(
        output="sigmoid",
        loss="bce",
        W2=np.array([[1.0, -1.0]]),
        b2=np.array([[0.5]]),
        Z2=np.array([[-4.0, 3.5]]),
        Y=np.array([[0.0, 1.0]]),
        A2=lambda Z2: sigmoid(Z2),
        J=lambda A2, Y: -np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m,
    ),
    "linear+mse": dict(
        output="linear",
        loss="mse",
        W2=np.array([[1.0, -1.0]]),
        b2=np.array([[0.5]]),
        Z2=np.array([[-4.0, 3.5]]),
        Y=np.array([[-3.0, 3.0]]),
        A2=lambda Z2: Z2,
        J=lambda A2, Y: 0.3125,  # ((-1)^2 + 0.5^2) / (2 * 2)
    ),
    "softmax+ce": dict(
        output="softmax",
        loss="ce",
        W2=np.array([[1.0, -1.0], [0.0, 1.0]]),
        b2=np.array([[0.5], [0.0]]),
        Z2=np.array([[-4.0, 3.5], [4.5, 1.0]]),
        Y=np.array([[0.0, 1.0], [1.0, 0.0]]),
        A2=lambda Z2: softmax(Z2),
        J=lambda A2, Y: -np.sum(Y * np.log(A2)) / m,
    ),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_matches_hand_computation(case, dtype):
    c = CASES[case]
    W2, b2, Y = c["W2"], c["b2"], c["Y"]
    A2 = c["A2"](c["Z2"])
    # Each matched output/loss pair gives the course's dZ[L] = A[L] - Y.
    dZ2 = A2 - Y
    dA1 = W2.T @ dZ2
    dZ1 = dA1 * (Z1 > 0)
    want = {
        "cost": c["J"](A2, Y),
        "Z1": Z1,
        "A1": A1,
        "Z2": c["Z2"],
        "A2": A2,
        "dZ2": dZ2,
        "dW2": dZ2 @ A1.T / m,
        "db2": dZ2.sum(axis=1, keepdims=True) / m,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dZ1 @ X.T / m,
        "db1": dZ1.sum(axis=1, keepdims=True) / m,
        "dA0": W1.T @ dZ1,
    }
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    model = from_params({k: v.astype(dtype) for k, v in params.items()}, ["relu", c["output"]])
    got = forward_backward(model, X.astype(dtype), Y.astype(dtype), c["loss"])

    assert set(got) == set(want)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1e-6, atol=1e-6)
    assert isinstance(got["cost"], float)
    np.testing.assert_allclose(got["cost"], want["cost"], **tol)
    for key in sorted(set(want) - {"cost"}):
        assert got[key].dtype == dtype, key
        np.testing.assert_allclose(got[key], want[key], **tol, err_msg=key)
