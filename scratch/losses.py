"""Costs J(A[L], Y): sum over output units, mean over the m examples.

Each loss has its natural output activation, with which dZ[L] = A[L] - Y (per example,
course convention). Costs are computed from Z[L] when it is given, so they stay finite
and exact when A[L] rounds to 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .arrays import Array


def softplus(Z: Array) -> Array:
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), which never overflows."""
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))


def bce_cost(AL: Array, Y: Array, ZL: Array | None) -> np.floating[Any]:
    """J = -(1/m) sum [Y log A + (1 - Y) log(1 - A)], with log A = -softplus(-Z), log(1 - A) = -softplus(Z)."""
    m: int = Y.shape[1]
    if ZL is not None:
        log_A, log_1_minus_A = -softplus(-ZL), -softplus(ZL)
    else:  # A alone: keep A away from 0 and 1 so the logs stay finite
        info = np.finfo(AL.dtype)
        A = np.clip(AL, info.tiny, 1 - info.epsneg)
        log_A, log_1_minus_A = np.log(A), np.log1p(-A)
    return -(1 / m) * np.sum(Y * log_A + (1 - Y) * log_1_minus_A)


def mse_cost(AL: Array, Y: Array, ZL: Array | None) -> np.floating[Any]:
    """J = (1/2m) sum (A - Y)^2."""
    m: int = Y.shape[1]
    D = AL - Y  # (n[L], m)
    return (1 / (2 * m)) * np.sum(D * D)


def ce_cost(AL: Array, Y: Array, ZL: Array | None) -> np.floating[Any]:
    """J = -(1/m) sum Y log A, with log A = Z - max(Z) - log sum_j e^(Z_j - max(Z)) (log-softmax)."""
    m: int = Y.shape[1]
    if ZL is not None:
        shifted = ZL - ZL.max(axis=0, keepdims=True)
        log_A: Array = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    else:
        log_A = np.log(np.maximum(AL, np.finfo(AL.dtype).tiny))
    return -(1 / m) * np.sum(Y * log_A)


@dataclass(frozen=True)
class Loss:
    """A cost and the output activation it pairs with (then dZ[L] = A[L] - Y)."""

    name: str
    output_activation: str
    cost: Callable[[Array, Array, Array | None], np.floating[Any]]


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("bce", "sigmoid", bce_cost),
        Loss("mse", "linear", mse_cost),
        Loss("ce", "softmax", ce_cost),
    )
}

# The default loss for each output activation: sigmoid -> bce, linear -> mse, softmax -> ce.
LOSS_FOR_OUTPUT: dict[str, str] = {loss.output_activation: loss.name for loss in LOSSES.values()}


def get_loss(name: str) -> Loss:
    """The registry entry for `name`; ValueError naming the choices otherwise."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}") from None


def compute_cost(AL: Array, Y: Array, loss: str = "bce", ZL: Array | None = None) -> float:
    """The cost J of predictions AL (n[L], m) against labels Y (n[L], m); pass ZL = Z[L] for exactness."""
    assert AL.shape == Y.shape, f"compute_cost: AL is {AL.shape} but Y is {Y.shape}; both must be (n[L], m)"
    return float(get_loss(loss).cost(AL, Y, ZL))
