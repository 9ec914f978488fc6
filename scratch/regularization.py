"""L2 regularisation, derived by hand (the course's convention).

    J_reg = J + (lambd / (2 m)) sum over l of ||W[l]||_F^2,    dW[l] += (lambd / m) W[l]

m is the number of examples the cost is taken over (a mini-batch's, in mini-batch training).
Biases are not regularised.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .losses import compute_cost


def l2_penalty(parameters: dict, lambd: float, m: int) -> float:
    """(lambd / (2 m)) times the sum of every W[l]'s squared entries."""
    L = len(parameters) // 2
    return lambd / (2 * m) * sum(float(np.sum(np.square(parameters[f"W{l}"]))) for l in range(1, L + 1))


def compute_cost_with_regularization(AL: np.ndarray, Y: np.ndarray, parameters: dict, lambd: float,
                                     loss: str = "bce", ZL: Optional[np.ndarray] = None) -> float:
    """compute_cost(AL, Y) plus the L2 penalty of the weights; pass ZL = Z[L] for exactness."""
    return compute_cost(AL, Y, loss, ZL) + l2_penalty(parameters, lambd, Y.shape[1])
