"""What one function-by-function check needs: the course's small shapes, seeded inputs, and the comparisons.

A `Unit` calls one course function of the implementation on seeded random inputs and compares each output with
torch's within the run's relative tolerance; the first wrong output raises `Wrong`, which names it, says how it
differs and, where the numbers suggest one, the slip.
"""

from __future__ import annotations

import numpy as np

from ..impl.base import _describe
from ..judging.compare import mismatch
from ..judging.hints import NAN_WHERE_FINITE, diagnose
from ..judging.tolerance import largest

N_PREV, N, M = 4, 3, 5  # a layer's shapes in the unit checks
LEARNING_RATE = 0.1
CACHE_ORDER = "the course's linear cache is (A_prev, W, b) and linear_activation_forward's cache is (linear_cache, Z)"


NOTHING = "got nothing (None)"  # a checked output that is None: an exercise left unfinished, or no return


class Wrong(Exception):
    def __init__(self, output: str, detail: str, hint: str = ""):
        super().__init__(detail)
        self.output, self.detail, self.hint = output, detail, hint


class Unit:
    """What one unit check needs: the implementation's calls, seeded inputs, and comparisons."""

    def __init__(self, impl, function: str, dtype: str, rtol: float, seed: int):
        self.impl, self.function, self.dtype, self.rtol = impl, function, np.dtype(dtype), rtol
        self.rng = np.random.default_rng([seed, 7, len(function)])

    def randn(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape).astype(self.dtype)

    def call(self, *args, function: str | None = None):
        return self.impl.call(function or self.function, *args)

    def parts(self, result, names: tuple[str, ...]) -> tuple:
        if len(names) == 1:
            return (result,)
        if not (isinstance(result, (tuple, list)) and len(result) == len(names)):
            raise Wrong("", f"expected ({', '.join(names)}), got {_describe(result)}")
        return tuple(result)

    def in_run_dtype(self, output: str, value) -> None:
        """A float output narrower than the run's dtype (float32 in a float64 run) has lost the run's precision."""
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < np.dtype(self.dtype).itemsize:
            raise Wrong(
                output,
                f"it is {dtype} in a {self.dtype} run",
                f"a {dtype} array or constant (np.{dtype}(...), .astype({dtype})) rounds the run's numbers",
            )

    def close(self, output: str, value, expected: np.ndarray, scale: float, Z: np.ndarray | None = None) -> None:
        """value agrees with torch's `expected` within rtol x scale (scale: the size of the terms it sums)."""
        expected = np.asarray(expected)
        if value is None:
            raise Wrong(output, f"{NOTHING}: a missing return, a missing key, or a value an exercise's `= None` left")
        self.in_run_dtype(output, value)
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise Wrong(output, f"expected an array, got {_describe(value)}") from None
        if value.shape != expected.shape and value.size == expected.size == 1:
            value = value.reshape(expected.shape)  # a number for a (1, 1) array, or back
        if value.shape != expected.shape:  # the detail says the shapes; the hint only what they suggest
            raise Wrong(
                output,
                f"the shape is {value.shape}, expected {expected.shape}",
                "the shape is transposed" if value.shape == expected.shape[::-1] else "",
            )
        gap = np.abs(value - expected)
        allowed = self.rtol * scale
        if not np.all(np.isfinite(value)) or float(np.max(gap)) > allowed:
            bad = ~(gap <= allowed)
            worst = np.unravel_index(int(np.argmax(np.where(np.isfinite(gap), gap, np.inf))), gap.shape)
            detail = mismatch(int(bad.sum()), gap.size, worst, value[worst], expected[worst])
            hint = diagnose(value, expected, M) or (
                NAN_WHERE_FINITE if np.any(np.isnan(value)) and np.all(np.isfinite(expected)) else ""
            )
            if not hint and Z is not None and np.all(Z[bad] == 0):
                hint = "it differs only where Z is exactly 0: the course's relu'(0) is 0 (dZ[Z <= 0] = 0), as in torch"
            raise Wrong(output, detail, hint)

    def same(self, output: str, value, expected: np.ndarray, hint: str = "") -> None:
        """value is the very array handed in or computed (a cache keeps them as they are), or that array before it
        was stored into a narrower one: a float64 a_next cached, the float32 a[:, :, t] holding its rounding."""
        if not (isinstance(value, np.ndarray) and value.shape == expected.shape):
            raise Wrong(output, f"it should hold the array it was given or computed, got {_describe(value)}", hint)
        if np.array_equal(value, expected) or _rounds_to(value, expected):
            return
        raise Wrong(output, "it should hold the array it was given or computed, unchanged: the entries differ", hint)


def _rounds_to(value: np.ndarray, stored: np.ndarray) -> bool:
    """Whether `stored`, of a narrower float dtype, holds `value` rounded to it."""
    floats = value.dtype.kind == stored.dtype.kind == "f" and value.dtype.itemsize > stored.dtype.itemsize
    return floats and np.array_equal(value.astype(stored.dtype), stored)


def terms_scale(computation, *inputs) -> float:
    """A unit check's scale for a quantity that sums many products (judging/tolerance.py's unit scales: worst-case
    sums of absolute terms): max of the same computation on the inputs' absolute values, in float64. A convolution's
    Z sums f f n_C_prev products and b, its dW sums over the m examples and every output position, db over the same,
    dA_prev over the filters and the windows that meet there; an average pool sums f f entries."""
    return largest(computation(*(np.abs(np.asarray(x, dtype=np.float64)) for x in inputs)))


def layer(u: Unit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A_prev (n[l-1], m), W (n[l], n[l-1]) and b (n[l], 1), random, of the unit checks' shapes."""
    return u.randn(N_PREV, M), u.randn(N, N_PREV) / N_PREV**0.5, u.randn(N, 1) * 0.5


def parameters(u: Unit) -> dict:
    """W1, b1, ..., WL, bL, random, with the run's number of layers L (at least 2), so that a layer named here is
    the layer of the same name in the network checks (W3 is the last layer of both): n = (4, 3, ..., 3, 1)."""
    dims = [N_PREV] + [N] * (max(u.impl.L, 2) - 1) + [1]
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"], params[f"b{l}"] = u.randn(dims[l], dims[l - 1]), u.randn(dims[l], 1)
    return params


def z_with_zeros(u: Unit) -> np.ndarray:
    Z = u.randn(N, M)
    Z[0, :2] = 0  # exactly at the kink: relu'(0) must be 0
    Z[2, 4] = 0
    return Z
