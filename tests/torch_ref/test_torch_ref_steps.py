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
    A_prev, W, b, dA = (
        RNG.standard_normal((4, 5)),
        RNG.standard_normal((3, 4)),
        RNG.standard_normal((3, 1)),
        RNG.standard_normal((3, 5)),
    )
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


@pytest.mark.end_to_end
def test_the_verifier_does_not_import_torch_dynamo():
    """torch.optim's classes import torch._dynamo, about a second of every run's start-up."""
    code = (
        "import sys, verify; verify.run(verify.Config(arch=(3, 4, 1), iterations=1, examples=8, tensorboard=False, "
        "progress=False)); print('torch._dynamo' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def _state(shape_seed=3):
    rng = np.random.default_rng(shape_seed)
    P = {"W1": rng.standard_normal((3, 4)), "b1": rng.standard_normal((3, 1))}
    g = {f"d{k}": rng.standard_normal(p.shape) for k, p in P.items()}
    v = {k: rng.standard_normal(x.shape) * 0.1 for k, x in g.items()}
    s = {k: np.abs(rng.standard_normal(x.shape)) * 0.01 for k, x in g.items()}
    return P, g, v, s


def test_momentum_step_steps_bit_for_bit_like_the_sgd_class_with_its_buffer_loaded():
    P, g, v, _ = _state()
    tensors = {k: torch.tensor(p, requires_grad=True) for k, p in P.items()}
    opt = torch.optim.SGD(list(tensors.values()), lr=0.1 * (1 - 0.9), momentum=0.9, dampening=0.0)
    for k, t in tensors.items():
        t.grad = torch.tensor(g[f"d{k}"])
        opt.state[t]["momentum_buffer"] = torch.tensor(v[f"d{k}"] / (1 - 0.9))
    opt.step()
    params, v_new = steps.momentum_step(P, g, v, 0.9, 0.1)
    for k, t in tensors.items():
        np.testing.assert_array_equal(params[k], t.detach().numpy())
        np.testing.assert_array_equal(v_new[f"d{k}"], (1 - 0.9) * opt.state[t]["momentum_buffer"].numpy())


def test_momentum_step_with_beta_0_is_gradient_descent_and_v_the_gradient():
    P, g, v, _ = _state()
    params, v_new = steps.momentum_step(P, g, v, 0.0, 0.1)
    for k, p in P.items():
        np.testing.assert_array_equal(v_new[f"d{k}"], g[f"d{k}"])  # v = 0 v + 1 dP, whatever v was
        np.testing.assert_allclose(params[k], p - 0.1 * g[f"d{k}"], rtol=1e-15)


def test_adam_step_steps_bit_for_bit_like_the_adam_class_with_its_state_loaded():
    P, g, v, s = _state()
    tensors = {k: torch.tensor(p, requires_grad=True) for k, p in P.items()}
    opt = torch.optim.Adam(list(tensors.values()), lr=0.01, betas=(0.9, 0.999), eps=1e-2)
    for k, t in tensors.items():
        t.grad = torch.tensor(g[f"d{k}"])
        opt.state[t] = {
            "step": torch.tensor(2.0, dtype=t.dtype),
            "exp_avg": torch.tensor(v[f"d{k}"]),
            "exp_avg_sq": torch.tensor(s[f"d{k}"]),
        }
    opt.step()
    params, v_new, s_new, _, _ = steps.adam_step(P, g, v, s, 3, 0.01, 0.9, 0.999, 1e-2)
    for k, t in tensors.items():
        np.testing.assert_array_equal(params[k], t.detach().numpy())
        np.testing.assert_array_equal(v_new[f"d{k}"], opt.state[t]["exp_avg"].numpy())
        np.testing.assert_array_equal(s_new[f"d{k}"], opt.state[t]["exp_avg_sq"].numpy())
