"""Regularisation, derived by hand (the course's conventions).

L2:  J_reg = J + (lambd / (2 m)) sum over l of ||W[l]||_F^2,    dW[l] += (lambd / m) W[l]
m is the number of examples the cost is taken over (a mini-batch's, in mini-batch training).
Biases are not regularised.

Inverted dropout, on hidden layers only (never the input or the output): with a mask
D[l] = rand(A[l].shape) < keep_prob[l] of 0 and 1, A[l] := A[l] * D[l] / keep_prob[l] in forward, and
backward takes the same mask: dA[l] := dA[l] * D[l] / keep_prob[l] before dZ[l] = dA[l] * g'(Z[l]).
The masks are the forward pass's inputs (model.L_model_forward's masks), kept in its caches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .arrays import Array, FloatDType
from .losses import compute_cost

# keep_prob: one number for every hidden layer, or one per hidden layer.
KeepProb = float | list[float] | tuple[float, ...]


def l2_penalty(parameters: dict[str, Array], lambd: float, m: int) -> float:
    """(lambd / (2 m)) times the sum of every W[l]'s squared entries."""
    L = len(parameters) // 2
    return lambd / (2 * m) * sum(float(np.sum(np.square(parameters[f"W{l}"]))) for l in range(1, L + 1))


def compute_cost_with_regularization(
    AL: Array, Y: Array, parameters: dict[str, Array], lambd: float, loss: str = "bce", ZL: Array | None = None
) -> float:
    """compute_cost(AL, Y) plus the L2 penalty of the weights; pass ZL = Z[L] for exactness."""
    return compute_cost(AL, Y, loss, ZL) + l2_penalty(parameters, lambd, Y.shape[1])


def dropout_masks(
    layer_dims: Sequence[int],
    m: int,
    keep_prob: KeepProb,
    rng: np.random.Generator,
    dtype: FloatDType = np.float64,
) -> list[Array | None]:
    """One mask per hidden layer l = 1..L-1: (n[l], m) of 0 and 1, each unit kept with probability keep_prob[l]
    (a number for every layer, or one per hidden layer); None where keep_prob is 1 (no dropout there)."""
    probs = keep_probs(keep_prob, len(layer_dims) - 1)
    return [None if p == 1 else (rng.random((n, m)) < p).astype(dtype) for n, p in zip(layer_dims[1:-1], probs)]


def keep_probs(keep_prob: KeepProb, L: int) -> tuple[float, ...]:
    """keep_prob per hidden layer (L - 1 of them) from one number or a sequence of them."""
    probs = tuple(keep_prob) if isinstance(keep_prob, (list, tuple)) else (keep_prob,) * (L - 1)
    if len(probs) != L - 1:
        raise ValueError(f"{L - 1} hidden layers need {L - 1} keep_prob values, got {len(probs)}")
    for p in probs:
        if not 0 < p <= 1:
            raise ValueError(f"keep_prob must be in (0, 1], got {p}")
    return probs
