"""Centred finite differences: the verifier's own third oracle, independent of the implementation under test.

    dJ/dtheta_i ~ (J(theta + epsilon e_i) - J(theta - epsilon e_i)) / (2 epsilon)

with an error of O(epsilon^2) from J's curvature plus about eps |J| / epsilon from rounding J
(see checks.check_gradients, which holds each row to that floor).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


def centred_differences(
    cost_of: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    epsilon: float,
    indices: dict[str, Iterable[tuple[int, ...]]],
) -> dict[str, np.ndarray]:
    """{"dW1": array, ...} shaped like the parameters: the centred difference of each entry in `indices`
    ({"W1": [(0, 1), ...]}), 0 elsewhere. Each entry is moved in place and put back, even if `cost_of` raises."""
    approx = {}
    for key, theta in params.items():
        approx["d" + key] = grad = np.zeros_like(theta)
        for i in indices.get(key, ()):
            original = theta[i]
            try:
                theta[i] = original + epsilon
                J_plus = cost_of(params)
                theta[i] = original - epsilon
                J_minus = cost_of(params)
            finally:
                theta[i] = original
            grad[i] = (J_plus - J_minus) / (2 * epsilon)
    return approx
