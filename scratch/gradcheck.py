"""Gradient checking: centred finite differences of the cost, the course's third oracle."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from .arrays import Array
from .losses import compute_cost
from .model import L_model_backward, L_model_forward


def numerical_gradients(
    cost_of: Callable[[dict[str, Array]], float],
    parameters: dict[str, Array],
    epsilon: float = 1e-7,
    indices: dict[str, Iterable[tuple[int, ...]]] | None = None,
) -> dict[str, Array]:
    """d theta_i approx (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps), for each parameter entry.

    Returns {"dW1": array, ...} shaped like the parameters. With `indices` ({"W1": [(0, 1), ...]})
    only those entries are perturbed (the others stay 0); each key's value is restored afterwards.
    """
    approx: dict[str, Array] = {}
    for key, theta in parameters.items():
        approx["d" + key] = grad = np.zeros_like(theta)
        entries = np.ndindex(theta.shape) if indices is None else indices.get(key, ())
        for i in entries:
            original = theta[i]
            theta[i] = original + epsilon
            J_plus = cost_of(parameters)
            theta[i] = original - epsilon
            J_minus = cost_of(parameters)
            theta[i] = original
            grad[i] = (J_plus - J_minus) / (2 * epsilon)
    return approx


def relative_difference(grad: Array, approx: Array) -> float:
    """||grad - approx|| / (||grad|| + ||approx||), 0 when both are 0."""
    denominator = np.linalg.norm(grad) + np.linalg.norm(approx)
    return 0.0 if denominator == 0 else float(np.linalg.norm(grad - approx) / denominator)


def gradient_check(
    parameters: dict[str, Array],
    X: Array,
    Y: Array,
    activations: Sequence[str] | None = None,
    loss: str = "bce",
    epsilon: float = 1e-7,
) -> float:
    """The relative difference between backprop's gradients and finite differences, over every parameter.

    Runs in float64 whatever the inputs' dtype: a float32 cost cannot resolve a 1e-7 step.
    The course reads < 1e-7 as right, > 1e-3 as a bug.
    """
    parameters = {key: value.astype(np.float64) for key, value in parameters.items()}
    X, Y = X.astype(np.float64), Y.astype(np.float64)

    def cost_of(p: dict[str, Array]) -> float:
        AL, caches = L_model_forward(X, p, activations)
        return compute_cost(AL, Y, loss, ZL=caches[-1][1])

    AL, caches = L_model_forward(X, parameters, activations)
    grads = L_model_backward(AL, Y, caches, activations, loss)
    approx = numerical_gradients(cost_of, parameters, epsilon)
    keys = sorted(approx)
    grad_vector = np.concatenate([grads[k].ravel() for k in keys])
    approx_vector = np.concatenate([approx[k].ravel() for k in keys])
    return relative_difference(grad_vector, approx_vector)
