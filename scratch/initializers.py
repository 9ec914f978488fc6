"""Initial parameters W[l] (n[l], n[l-1]) and b[l] (n[l], 1) for a network of `layer_dims`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .arrays import Array, FloatDType

# Scale of W[l] = randn(n[l], n[l-1]) * scale(n[l-1]).
INIT_SCALES: dict[str, Callable[[int], float]] = {
    "random": lambda n_prev: 0.01,  # the course's first network: small random weights
    "he": lambda n_prev: np.sqrt(2 / n_prev),  # He et al., for relu layers
    "xavier": lambda n_prev: np.sqrt(1 / n_prev),  # the course's Xavier, for tanh layers
    "zeros": lambda n_prev: 0.0,  # symmetric: every hidden unit stays the same (a lesson, not a choice)
}


def initialize_parameters_deep(
    layer_dims: Sequence[int], init: str = "he", seed: int = 0, dtype: FloatDType = np.float64
) -> dict[str, Array]:
    """W[l] = randn(n[l], n[l-1]) * scale, b[l] = zeros((n[l], 1)), for l = 1..L.

    Draws are made in float64 and then cast, so both dtypes start from the same numbers.
    """
    if init not in INIT_SCALES:
        raise ValueError(f"unknown init {init!r}; choose from {', '.join(INIT_SCALES)}")
    if len(layer_dims) < 2:
        raise ValueError(f"layer_dims needs at least two sizes (n[0], n[L]), got {list(layer_dims)}")
    rng = np.random.default_rng(seed)
    parameters: dict[str, Array] = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = int(layer_dims[l]), int(layer_dims[l - 1])
        W = rng.standard_normal((n, n_prev)) * INIT_SCALES[init](n_prev)
        parameters[f"W{l}"] = W.astype(dtype, copy=False)  # (n[l], n[l-1])
        parameters[f"b{l}"] = np.zeros((n, 1), dtype=dtype)  # (n[l], 1)
    return parameters
