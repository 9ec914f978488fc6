"""torch_ref.steps: the course's step functions computed by torch, beside their course formulas."""

import subprocess
import sys

import numpy as np
import pytest
import torch

from torch_ref import steps

RNG = np.random.default_rng(0)


def test_sgd_update_steps_bit_for_bit_like_the_optimizer_class():
    params = {"W1": RNG.standard_normal((3, 4)), "b1": RNG.standard_normal((3, 1))}
    grads = {"dW1": RNG.standard_normal((3, 4)), "db1": RNG.standard_normal((3, 1))}
    tensors = [torch.tensor(params[k], requires_grad=True) for k in ("W1", "b1")]
    for t, k in zip(tensors, ("dW1", "db1")):
        t.grad = torch.tensor(grads[k])
    torch.optim.SGD(tensors, lr=0.3).step()
    updated = steps.sgd_update(params, grads, 0.3)
    for t, k in zip(tensors, ("W1", "b1")):
        np.testing.assert_array_equal(updated[k], t.detach().numpy())


def test_the_course_convention_of_linear_activation_backward():
    A_prev, W, b, dA = RNG.standard_normal((4, 5)), RNG.standard_normal((3, 4)), RNG.standard_normal((3, 1)), RNG.standard_normal((3, 5))
    Z = W @ A_prev + b
    dZ = dA * (1 - np.tanh(Z) ** 2)
    dA_prev, dW, db = steps.linear_activation_backward(dA, A_prev, W, b, "tanh")
    np.testing.assert_allclose(dW, dZ @ A_prev.T / 5, rtol=1e-12)
    np.testing.assert_allclose(db, dZ.sum(axis=1, keepdims=True) / 5, rtol=1e-12)
    np.testing.assert_allclose(dA_prev, W.T @ dZ, rtol=1e-12)  # no 1/m: the course's dA


@pytest.mark.parametrize("name", ["relu", "sigmoid"])
def test_activation_backward_takes_relu_prime_of_0_as_0(name):
    Z = np.array([[0.0, -1.0, 2.0]])
    dZ = steps.activation_backward(name, np.ones_like(Z), Z)
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(dZ, (Z > 0).astype(float) if name == "relu" else s * (1 - s), rtol=1e-12)


def test_propagate_is_the_course_formula():
    w, b, X, Y = RNG.standard_normal((4, 1)), 0.3, RNG.standard_normal((4, 6)), (RNG.random((1, 6)) < 0.5) * 1.0
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    grads, cost = steps.propagate(w, b, X, Y)
    np.testing.assert_allclose(cost, -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)), rtol=1e-12)
    np.testing.assert_allclose(grads["dw"], X @ (A - Y).T / 6, rtol=1e-12)
    np.testing.assert_allclose(grads["db"], np.mean(A - Y), rtol=1e-12)


def test_the_verifier_does_not_import_torch_dynamo():
    """torch.optim's classes import torch._dynamo, about a second of every run's start-up."""
    code = ("import sys, verify; verify.run(verify.Config(arch=(3, 4, 1), iterations=1, examples=8, tensorboard=False, "
            "progress=False)); print('torch._dynamo' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
