"""The function-by-function checks of the course's initialisers, which have no torch counterpart.

Their shapes, dtypes, zero biases, scale and symmetry breaking are checked against the course's rules.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..impl.base import _describe
from .unit_harness import N_PREV, Unit, Wrong

# The initialisers' layers: wide enough that the weights' spread is measured, not guessed (about 5,000 draws).
DEEP_DIMS = [50, 40, 40, 30, 1]
TWO_LAYER_DIMS = [50, 40, 1]
# Small random weights: W[l] scaled by 0.01, 1/sqrt(n[l-1]) or sqrt(2/n[l-1]) (He), so W[l] sqrt(n[l-1]) has a
# spread of at most about 1.4 (He); unscaled randn gives sqrt(n[l-1]), 5 or more here.
SPREAD_LIMIT = 2.5


def missing_layer(key: str, params: dict, dims) -> Wrong | None:
    """Wrong where an initialiser's parameters have no `key` at all: the sizes it was called with, the keys it
    returned, and where the layer missing is the last, its loop over the layers stopping one short."""
    if key in params:
        return None
    last = len(dims) - 1
    return Wrong(
        key,
        f"its parameters for layer sizes {', '.join(map(str, dims))} have no {key} (its keys: "
        f"{', '.join(map(str, params)) or 'none'})",
        f"the loop over the layers stops one short: it must cover layers 1..{last}, for l in range(1, L), L the number "
        "of sizes it is handed (len(layer_dims))"
        if int(key[1:]) == last and all(f"W{l}" in params for l in range(1, last))
        else "",
    )


def wrong_shape(key: str, value, shape: tuple[int, int], dims, sizes: str = "layer_dims") -> Wrong:
    """Wrong for an initialiser's W[l] or b[l] (`key`) that is not an array of `shape`, for the layer sizes `dims`
    it was handed (`sizes`: the course's name for them): a transposed W and a rank-1 b named."""
    hint = ""
    if isinstance(value, np.ndarray) and value.shape == shape[::-1]:
        hint = f"the shape is transposed: W[l] is ({sizes}[l], {sizes}[l-1])"
    elif isinstance(value, np.ndarray) and value.shape == shape[:1]:
        hint = f"a rank-1 array: b[l] is ({sizes}[l], 1), np.zeros(({sizes}[l], 1))"
    return Wrong(
        key,
        f"expected an array of shape {shape} (layer sizes {', '.join(map(str, dims))}), got {_describe(value)}",
        hint,
    )


def _check_weights(u: Unit, params, dims: list[int]) -> None:
    """The course's initialisation: W[l] (n[l], n[l-1]) small and random, b[l] (n[l], 1) zeros."""
    if not isinstance(params, dict):
        raise Wrong("parameters", f"expected a dict, got {_describe(params)}")
    seen: list[tuple[int, np.ndarray]] = []  # (l, W[l]) of the layers checked so far
    for l in range(1, len(dims)):
        W, b = params.get(f"W{l}"), params.get(f"b{l}")
        for key, value, shape in ((f"W{l}", W, (dims[l], dims[l - 1])), (f"b{l}", b, (dims[l], 1))):
            if (absent := missing_layer(key, params, dims)) is not None:
                raise absent
            if not isinstance(value, np.ndarray) or value.shape != shape:
                raise wrong_shape(key, value, shape, dims)
            if not np.issubdtype(value.dtype, np.floating):
                raise Wrong(key, f"its dtype is {value.dtype}, expected a floating-point array")
        assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray), "each was checked just above"
        if np.any(b != 0):
            raise Wrong(f"b{l}", "the course initialises the biases to zeros", "b = np.zeros((n[l], 1))")
        if W.size > 1 and np.all(W == W.flat[0]):
            raise Wrong(
                f"W{l}",
                f"every entry is {W.flat[0]:g}",
                "equal weights never break the symmetry: every unit of the layer learns the same thing",
            )
        if not float(np.std(W)) > 0:
            raise Wrong(f"W{l}", "its entries do not vary", "the course draws random weights")
        for k, other in seen:
            n = min(other.size, W.size)  # a generator re-seeded per layer repeats its first draws, whatever the shapes
            if np.array_equal(other.ravel()[:n], W.ravel()[:n]):
                raise Wrong(
                    f"W{l}",
                    f"its first {n} entries repeat W{k}'s",
                    "each layer must draw its own weights (a generator re-seeded per layer repeats them)",
                )
        seen.append((l, W))
    spread = float(np.sqrt(np.mean(np.concatenate([(W * np.sqrt(W.shape[1])).ravel() ** 2 for _, W in seen]))))
    if spread > SPREAD_LIMIT:
        raise Wrong(
            "W",
            f"the weights times sqrt(n[l-1]) have a spread of {spread:.3g}, where the course's "
            f"initialisations give at most about 1.4",
            "the course draws small random weights: randn(...) * 0.01, or / sqrt(n[l-1]) (He: * sqrt(2 / n[l-1]))",
        )


def _check_initialize_parameters(u: Unit) -> None:
    _check_weights(u, u.call(*TWO_LAYER_DIMS), TWO_LAYER_DIMS)


def _check_initialize_parameters_deep(u: Unit) -> None:
    _check_weights(u, u.call(list(DEEP_DIMS)), DEEP_DIMS)


def _check_initialize_with_zeros(u: Unit) -> None:
    w, b = u.parts(u.call(N_PREV), ("w", "b"))
    if not (isinstance(w, np.ndarray) and w.shape == (N_PREV, 1) and np.issubdtype(w.dtype, np.floating)):
        raise Wrong("w", f"expected a float array of shape {(N_PREV, 1)}, got {_describe(w)}")
    if np.any(w != 0):
        raise Wrong("w", "it should be zeros")
    if not (isinstance(b, (int, float, np.floating, np.integer)) and b == 0):
        raise Wrong(
            "b",
            f"expected the number 0, got {_describe(b) if not isinstance(b, (int, float)) else b}",
            "b is a number (0.0), not an array" if isinstance(b, np.ndarray) else "",
        )


INITIALISER_CHECKS: dict[str, Callable[[Unit], None]] = {  # the course's initialisers
    "initialize_with_zeros": _check_initialize_with_zeros,
    "initialize_parameters": _check_initialize_parameters,
    "initialize_parameters_deep": _check_initialize_parameters_deep,
}
