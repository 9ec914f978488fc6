"""The course's forward/backward steps: a network worked by hand, gradient checks, shapes and dtypes."""

import numpy as np
import pytest

import scratch
from scratch import (
    L_model_backward,
    L_model_forward,
    compute_cost,
    gradient_check,
    initialize_parameters_deep,
    linear_activation_backward,
    linear_backward,
    update_parameters,
)

HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]
OUTPUTS = {"bce": "sigmoid", "mse": "linear", "ce": "softmax"}


def labels_for(loss, n_y, m, rng):
    """Y that fits the loss: 0/1 for bce, real values for mse, one-hot columns for ce."""
    if loss == "bce":
        return (rng.random((n_y, m)) > 0.5).astype(np.float64)
    if loss == "mse":
        return rng.standard_normal((n_y, m))
    return np.eye(n_y)[:, rng.integers(0, n_y, m)]


def random_problem(layer_dims, loss, m=7, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = initialize_parameters_deep(layer_dims, init="xavier", seed=seed, dtype=dtype)
    for l in range(1, len(layer_dims)):  # non-zero biases, so bias bugs show
        params[f"b{l}"] = (rng.standard_normal((layer_dims[l], 1)) * 0.1).astype(dtype)
    X = rng.standard_normal((layer_dims[0], m)).astype(dtype)
    return params, X, labels_for(loss, layer_dims[-1], m, rng).astype(dtype)


def sig(z):
    return 1 / (1 + np.exp(-z))


def test_tiny_network_worked_by_hand():
    # 2 inputs -> 1 relu unit -> 1 sigmoid output, m = 2 examples (columns).
    X = np.array([[1.0, 2.0], [-1.0, 1.0]])
    Y = np.array([[1.0, 0.0]])
    p = {"W1": np.array([[0.5, -0.5]]), "b1": np.array([[0.1]]), "W2": np.array([[2.0]]), "b2": np.array([[-1.0]])}
    # Z1 = [0.5 + 0.5 + 0.1, 1 - 0.5 + 0.1] = [1.1, 0.6]; A1 = relu(Z1) = Z1
    # Z2 = 2 A1 - 1 = [1.2, 0.2]; A2 = sigmoid(Z2)
    AL, caches = L_model_forward(X, p)
    np.testing.assert_allclose(caches[0][1], [[1.1, 0.6]], rtol=1e-14)
    np.testing.assert_allclose(caches[1][1], [[1.2, 0.2]], rtol=1e-14)
    np.testing.assert_allclose(AL, [[sig(1.2), sig(0.2)]], rtol=1e-14)
    # J = -(1/2) [log sigmoid(1.2) + log(1 - sigmoid(0.2))]
    J = -(np.log(sig(1.2)) + np.log(1 - sig(0.2))) / 2
    assert compute_cost(AL, Y, ZL=caches[1][1]) == pytest.approx(J, rel=1e-15)

    g = L_model_backward(AL, Y, caches)
    d0, d1 = sig(1.2) - 1, sig(0.2)  # dZ2 = A2 - Y
    np.testing.assert_allclose(g["dZ2"], [[d0, d1]], rtol=1e-14)
    np.testing.assert_allclose(g["dW2"], [[(d0 * 1.1 + d1 * 0.6) / 2]], rtol=1e-14)
    np.testing.assert_allclose(g["db2"], [[(d0 + d1) / 2]], rtol=1e-14)
    np.testing.assert_allclose(g["dA1"], [[2 * d0, 2 * d1]], rtol=1e-14)  # W2^T dZ2
    np.testing.assert_allclose(g["dZ1"], [[2 * d0, 2 * d1]], rtol=1e-14)  # relu'(Z1) = 1
    np.testing.assert_allclose(g["dW1"], [[(2 * d0 * 1 + 2 * d1 * 2) / 2, (2 * d0 * -1 + 2 * d1 * 1) / 2]], rtol=1e-14)
    np.testing.assert_allclose(g["db1"], [[(2 * d0 + 2 * d1) / 2]], rtol=1e-14)
    np.testing.assert_allclose(g["dA0"], [[0.5 * 2 * d0, 0.5 * 2 * d1], [-0.5 * 2 * d0, -0.5 * 2 * d1]], rtol=1e-14)

    new = update_parameters(p, g, learning_rate=0.1)
    np.testing.assert_allclose(new["b2"], [[-1.0 - 0.1 * (d0 + d1) / 2]], rtol=1e-14)
    assert p["b2"][0, 0] == -1.0  # the input dict is left as it was


@pytest.mark.parametrize("loss", list(OUTPUTS))
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("layer_dims", [[3, 1], [4, 5, 3], [2, 6, 4, 3], [5, 3, 3, 3, 2]], ids=str)
def test_gradient_check_below_1e7(layer_dims, hidden, loss):
    n_out = 1 if loss == "bce" else layer_dims[-1]
    dims = layer_dims[:-1] + [n_out] if loss == "bce" else layer_dims
    if loss == "ce" and dims[-1] == 1:
        dims = dims[:-1] + [2]
    params, X, Y = random_problem(dims, loss)
    activations = [hidden] * (len(dims) - 2) + [OUTPUTS[loss]]
    assert gradient_check(params, X, Y, activations, loss) < 1e-7


def test_gradient_check_sees_a_wrong_derivative(monkeypatch):
    params, X, Y = random_problem([3, 4, 1], "bce")
    monkeypatch.setitem(
        scratch.ACTIVATIONS, "tanh", scratch.ACTIVATIONS["tanh"].__class__("tanh", np.tanh, lambda Z: 1 - np.tanh(Z))
    )  # the classic slip: 1 - tanh instead of 1 - tanh^2
    assert gradient_check(params, X, Y, ["tanh", "sigmoid"]) > 1e-3


def test_linear_activation_backward_is_dZ_then_linear_backward():
    params, X, Y = random_problem([3, 4, 1], "bce")
    _, caches = L_model_forward(X, params, ["tanh", "sigmoid"])
    dA = np.random.default_rng(1).standard_normal((4, 7))
    linear_cache, Z = caches[0]
    expected = linear_backward(dA * (1 - np.tanh(Z) ** 2), linear_cache)
    for got, want in zip(linear_activation_backward(dA, caches[0], "tanh"), expected):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("loss", list(OUTPUTS))
def test_float32_in_float32_out(loss):
    params, X, Y = random_problem([3, 4, 2], loss, dtype=np.float32)
    activations = ["relu", OUTPUTS[loss]]
    AL, caches = L_model_forward(X, params, activations)
    grads = L_model_backward(AL, Y, caches, activations, loss)
    new = update_parameters(params, grads, 0.1)
    arrays = [AL, *(c[1] for c in caches), *grads.values(), *new.values()]
    assert all(a.dtype == np.float32 for a in arrays)


def test_shapes_are_asserted_with_the_layer_named():
    params, X, _ = random_problem([3, 4, 1], "bce")
    params["W2"] = params["W2"].T  # (4, 1) instead of (1, 4)
    with pytest.raises(AssertionError, match=r"layer 2: W2 is \(4, 1\), expected \(n\[2\], 4\)"):
        L_model_forward(X, params)
    params, X, _ = random_problem([3, 4, 1], "bce")
    params["b1"] = params["b1"].ravel()  # a rank-1 bias: the notes' warning
    with pytest.raises(AssertionError, match=r"layer 1: b1 is \(4,\), expected \(4, 1\)"):
        L_model_forward(X, params)


def test_bad_activation_lists_are_rejected():
    params, X, Y = random_problem([3, 4, 1], "bce")
    with pytest.raises(ValueError, match="2 layers need 2 activations, got 1"):
        L_model_forward(X, params, ["relu"])
    with pytest.raises(ValueError, match="softmax can only be the output activation"):
        L_model_forward(X, params, ["softmax", "sigmoid"])
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        L_model_forward(X, params, ["rleu", "sigmoid"])
    AL, caches = L_model_forward(X, params)
    with pytest.raises(ValueError, match="loss 'mse' goes with a linear output, not sigmoid"):
        L_model_backward(AL, Y, caches, loss="mse")


@pytest.mark.parametrize("keep_prob", [1.0, (0.8, 0.6)])
@pytest.mark.parametrize("lambd", [0.0, 0.3])
def test_a_steps_gradients_are_the_course_results_dW_and_db_bit_for_bit(lambd, keep_prob):
    """parameters_only (train.py's steps): dW and db alone, no dA0 (the gradient of the inputs) and no dA or dZ
    kept, each equal to the course's result; the caches it was handed are left as they were."""
    params, X, Y = random_problem([6, 5, 4, 1], "bce")
    rng = np.random.default_rng(1)
    masks = None if keep_prob == 1.0 else [(rng.random((n, X.shape[1])) < 0.7).astype(X.dtype) for n in (5, 4)] + [None]
    AL, caches = L_model_forward(X, params, None, keep_prob, masks)
    kept = [tuple(np.copy(part) if isinstance(part, np.ndarray) else part for part in c[1:]) for c in caches]
    whole = L_model_backward(AL, Y, caches, lambd=lambd, keep_prob=keep_prob)
    step = L_model_backward(AL, Y, caches, lambd=lambd, keep_prob=keep_prob, parameters_only=True)
    assert sorted(step) == sorted(k for k in whole if k[:2] in ("dW", "db"))
    for key, value in step.items():
        np.testing.assert_array_equal(value, whole[key])
    for cache, before in zip(caches, kept):
        for part, old in zip(cache[1:], before):
            np.testing.assert_array_equal(part, old)
