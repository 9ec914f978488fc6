"""The course's step functions one by one, computed by torch: forward with torch's own
operations, backward with autograd. Inputs and outputs are NumPy arrays in the course's
layout (examples as columns), so each can be set beside the learner's function of the same name.

The course's backward convention, in one place: with an upstream gradient G of an output O,
autograd of s = sum(O * G) gives the course's dA_prev and dZ directly (they are m times the
cost's gradient), while the course's dW and db are the cost's gradients: autograd's over m.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch.optim.adam import adam
from torch.optim.sgd import sgd

from .arrays import Array
from .layout import grad_of
from .losses import l2_penalty
from .model import make_activation
from .optimizers import momentum_settings, velocity


def _t(array: npt.ArrayLike, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(array), requires_grad=grad)


def _np(t: torch.Tensor) -> Array:
    array: Array = t.detach().numpy().copy()
    return array


def activation(name: str, Z: Array) -> Array:
    """A = g(Z)."""
    with torch.no_grad():
        return _np(make_activation(name, hidden=True)(_t(Z)))


def activation_backward(name: str, dA: Array, Z: Array) -> Array:
    """dZ = dA * g'(Z), as autograd takes it (relu'(0) = 0)."""
    z = _t(Z, grad=True)
    (make_activation(name, hidden=True)(z) * _t(dA)).sum().backward()
    return _np(grad_of(z))


def linear_forward(A_prev: Array, W: Array, b: Array) -> Array:
    """Z = W A_prev + b, by torch's matrix product on the course's columns."""
    with torch.no_grad():
        return _np(_t(W) @ _t(A_prev) + _t(b))


def linear_activation_backward(
    dA: Array, A_prev: Array, W: Array, b: Array, name: str = "linear"
) -> tuple[Array, Array, Array]:
    """(dA_prev, dW, db) for A = g(W A_prev + b) with upstream dA (name "linear": linear_backward, dA = dZ)."""
    a, w, bias = _t(A_prev, grad=True), _t(W, grad=True), _t(b, grad=True)
    A = make_activation(name, hidden=True)(w @ a + bias)
    (A * _t(dA)).sum().backward()
    m = A_prev.shape[1]
    return _np(grad_of(a)), _np(grad_of(w)) / m, _np(grad_of(bias)) / m


def bce_cost(AL: Array, Y: Array) -> float:
    """J = -(1/m) sum [Y log AL + (1-Y) log(1-AL)], from probabilities AL."""
    with torch.no_grad():
        return float(F.binary_cross_entropy(_t(AL), _t(Y)))


def bce_cost_with_regularization(AL: Array, Y: Array, parameters: dict[str, Array], lambd: float) -> float:
    """bce_cost plus torch's L2 penalty of the weights W1, W2, ... (losses.l2_penalty)."""
    weights = [_t(v) for k, v in parameters.items() if k.startswith("W")]
    with torch.no_grad():
        return float(F.binary_cross_entropy(_t(AL), _t(Y)) + l2_penalty(weights, lambd, Y.shape[1]))


def sgd_update(
    parameters: dict[str, Array], grads: Mapping[str, Array | float], learning_rate: float
) -> dict[str, Array]:
    """One torch SGD step, P - learning_rate dP for every parameter P with its gradient dP: the function
    torch.optim.SGD.step runs, as Trainer calls it (constructing the class would import torch._dynamo).
    A gradient may be a number (propagate's db)."""
    tensors = {k: _t(v) for k, v in parameters.items()}
    with torch.no_grad():
        sgd(
            list(tensors.values()),
            [_t(grads[f"d{k}"]) for k in tensors],
            [None] * len(tensors),
            weight_decay=0.0,
            momentum=0.0,
            lr=learning_rate,
            dampening=0.0,
            nesterov=False,
            maximize=False,
        )
    return {k: _np(t) for k, t in tensors.items()}


def propagate(w: Array, b: float, X: Array, Y: Array) -> tuple[dict[str, Array | float], float]:
    """Week 2: A = sigmoid(w^T X + b), the cross-entropy J, and its gradients dw (n_x, 1) and db (a number)."""
    wt, bt = _t(w, grad=True), torch.tensor(float(b), dtype=_t(w).dtype, requires_grad=True)
    z = (wt * _t(X)).sum(dim=0, keepdim=True) + bt  # w^T X: each example's column against w
    cost = F.binary_cross_entropy_with_logits(z, _t(Y))
    cost.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward has no annotations
    return {"dw": _np(grad_of(wt)), "db": float(grad_of(bt))}, float(cost.detach())


def two_layer(X: Array, Y: Array, parameters: dict[str, Array]) -> tuple[dict[str, Array], dict[str, Array]]:
    """Week 3: Z1 = W1 X + b1, A1 = tanh(Z1), Z2 = W2 A1 + b2, A2 = sigmoid(Z2); the cost's gradients.

    Returns ({"Z1", "A1", "Z2", "A2"}, {"dW1", "db1", "dW2", "db2"}).
    """
    p = {k: _t(v, grad=True) for k, v in parameters.items()}
    Z1 = p["W1"] @ _t(X) + p["b1"]
    A1 = torch.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    F.binary_cross_entropy_with_logits(Z2, _t(Y)).backward()  # type: ignore[no-untyped-call]  # as in propagate
    cache = {"Z1": _np(Z1), "A1": _np(A1), "Z2": _np(Z2), "A2": _np(torch.sigmoid(Z2))}
    return cache, {f"d{k}": _np(grad_of(v)) for k, v in p.items()}


def momentum_step(
    parameters: dict[str, Array], grads: dict[str, Array], v: dict[str, Array], beta: float, learning_rate: float
) -> tuple[dict[str, Array], dict[str, Array]]:
    """update_parameters_with_momentum by torch's SGD, mapped as optimizers.py says (lr (1 - beta), momentum
    beta, dampening 0) with its buffer loaded with the course's v / (1 - beta). Returns (parameters, v).

    torch's sgd function, which SGD.step runs: constructing the class imports torch._dynamo."""
    tensors = {k: _t(p) for k, p in parameters.items()}
    buffers = [_t(v[f"d{k}"] / (1 - beta)) for k in tensors]
    with torch.no_grad():
        sgd(
            list(tensors.values()),
            [_t(grads[f"d{k}"]) for k in tensors],
            # list[Tensor | None] in torch's signature, for the buffers it creates in place of None; these are all
            # there, updated in place, and read back below
            buffers,  # type: ignore[arg-type]
            weight_decay=0.0,
            **momentum_settings(learning_rate, beta),
            nesterov=False,
            maximize=False,
        )
    # with beta = 0 torch keeps no buffer (plain SGD) and the course's v is the gradient itself
    v = {f"d{k}": velocity(_np(b) if beta else grads[f"d{k}"], beta) for k, b in zip(tensors, buffers)}
    return {k: _np(t) for k, t in tensors.items()}, v


def adam_step(
    parameters: dict[str, Array],
    grads: dict[str, Array],
    v: dict[str, Array],
    s: dict[str, Array],
    t: int,
    learning_rate: float,
    beta1: float,
    beta2: float,
    epsilon: float,
) -> tuple[dict[str, Array], dict[str, Array], dict[str, Array], dict[str, Array], dict[str, Array]]:
    """update_parameters_with_adam by torch's adam function (what Adam.step runs), its state loaded from the
    course's v, s and t - 1 steps taken. Returns (parameters, v, s, v_corrected, s_corrected)."""
    tensors = {k: _t(p) for k, p in parameters.items()}
    exp_avgs, exp_avg_sqs = [_t(v[f"d{k}"]) for k in tensors], [_t(s[f"d{k}"]) for k in tensors]
    state_steps = [torch.tensor(float(t - 1), dtype=p.dtype) for p in tensors.values()]
    with torch.no_grad():
        adam(
            list(tensors.values()),
            [_t(grads[f"d{k}"]) for k in tensors],
            exp_avgs,
            exp_avg_sqs,
            [],
            state_steps,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=learning_rate,
            weight_decay=0.0,
            eps=epsilon,
            maximize=False,
        )
    v = {f"d{k}": _np(x) for k, x in zip(tensors, exp_avgs)}
    s = {f"d{k}": _np(x) for k, x in zip(tensors, exp_avg_sqs)}
    return (
        {k: _np(p) for k, p in tensors.items()},
        v,
        s,
        {k: x / (1 - beta1**t) for k, x in v.items()},
        {k: x / (1 - beta2**t) for k, x in s.items()},
    )
