"""The convolution course's step functions, channels last, vectorised over the examples and the output positions.

Shapes (course convention, examples first, channels last):
  A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C), Z and A (m, n_H, n_W, n_C),
  n_H = floor((n_H_prev - f + 2 pad) / stride) + 1, the same for the width (pooling has pad = 0).
Caches are the course's: conv_forward's (A_prev, W, b, hparameters), pool_forward's (A_prev, hparameters).

The course loops over examples, output positions and channels. Here the only loop is over the f x f offsets
(i, j) of the kernel: output position (h, w) reads input row h stride + i and column w stride + j, so for one
offset the rows all positions read are the strided slice i, i + stride, ..., i + (n_H - 1) stride, and the same
for the columns. The course's sums over the window become sums over the offsets of these slices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .arrays import Array

ConvCache = tuple[Array, Array, Array, dict[str, int]]
PoolCache = tuple[Array, dict[str, int]]
POOL_MODES = ("max", "average")


def _output_size(n_prev: int, f: int, pad: int, stride: int) -> int:
    """n = floor((n_prev - f + 2 pad) / stride) + 1."""
    n = (n_prev - f + 2 * pad) // stride + 1
    assert n >= 1, f"a {f} x {f} window does not fit in {n_prev} + 2 * {pad} (pad) rows or columns"
    return n


def _offset(i: int, j: int, n_H: int, n_W: int, stride: int) -> tuple[slice, slice, slice, slice]:
    """The input entries kernel offset (i, j) meets at every output position: rows h stride + i for h < n_H,
    columns w stride + j for w < n_W, of every example and channel. Index (m, n_H_in, n_W_in, n_C) with it."""
    return (slice(None), slice(i, i + stride * n_H, stride), slice(j, j + stride * n_W, stride), slice(None))


def _check_mode(mode: str) -> None:
    if mode not in POOL_MODES:
        raise ValueError(f"unknown pooling mode {mode!r}: expected one of {', '.join(POOL_MODES)}")


def zero_pad(X: Array, pad: int) -> Array:
    """X (m, n_H, n_W, n_C) -> (m, n_H + 2 pad, n_W + 2 pad, n_C): pad zeros around height and width only."""
    assert X.ndim == 4, f"X is {X.shape}, expected (m, n_H, n_W, n_C)"
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="constant", constant_values=0)


def conv_single_step(a_slice_prev: Array, W: Array, b: Array) -> np.floating[Any]:
    """Z = sum(a_slice_prev * W) + b: one window (f, f, n_C_prev) times one filter (f, f, n_C_prev), b (1, 1, 1)."""
    assert a_slice_prev.shape == W.shape, f"the slice is {a_slice_prev.shape} but W is {W.shape}"
    assert b.size == 1, f"b is {b.shape}, expected (1, 1, 1)"
    s = a_slice_prev * W  # (f, f, n_C_prev)
    Z: np.floating[Any] = np.sum(s) + b.ravel()[0]  # b's own dtype: float(b) would turn float32 into float64
    return Z


def conv_forward(A_prev: Array, W: Array, b: Array, hparameters: dict[str, int]) -> tuple[Array, ConvCache]:
    """Z[i, h, w, c] = sum over the window of A_prev_pad[i, h stride + di, w stride + dj, :] * W[di, dj, :, c] + b[c].

    A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C), hparameters
    {"stride", "pad"}; returns Z (m, n_H, n_W, n_C) and the cache (A_prev, W, b, hparameters)."""
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f_W, n_C_prev_W, n_C = W.shape
    assert f == f_W and n_C_prev_W == n_C_prev, f"W is {W.shape}, expected (f, f, {n_C_prev}, n_C)"
    assert b.shape == (1, 1, 1, n_C), f"b is {b.shape}, expected (1, 1, 1, {n_C})"
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = _output_size(n_H_prev, f, pad, stride)
    n_W = _output_size(n_W_prev, f, pad, stride)

    A_prev_pad = zero_pad(A_prev, pad)  # (m, n_H_prev + 2 pad, n_W_prev + 2 pad, n_C_prev)
    Z = np.zeros((m, n_H, n_W, n_C), dtype=np.result_type(A_prev, W, b))
    for i in range(f):
        for j in range(f):
            a_slices = A_prev_pad[_offset(i, j, n_H, n_W, stride)]  # (m, n_H, n_W, n_C_prev)
            Z += np.tensordot(a_slices, W[i, j], axes=([3], [0]))  # (m, n_H, n_W, n_C_prev) . (n_C_prev, n_C)
    Z += b  # broadcast over examples and positions
    return Z, (A_prev, W, b, hparameters)


def conv_backward(dZ: Array, cache: ConvCache) -> tuple[Array, Array, Array]:
    """dA_prev_pad[i, h stride + di, w stride + dj, :] += sum over c of W[di, dj, :, c] dZ[i, h, w, c],
    dW[di, dj, :, c] = sum over i, h, w of A_prev_pad[i, h stride + di, w stride + dj, :] dZ[i, h, w, c],
    db[c] = sum over i, h, w of dZ[i, h, w, c]; no 1/m. Returns dA_prev (m, n_H_prev, n_W_prev, n_C_prev) with the
    padding stripped, dW (f, f, n_C_prev, n_C), db (1, 1, 1, n_C)."""
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    _, n_H, n_W, _ = dZ.shape
    assert dZ.shape == (m, n_H, n_W, n_C) and (n_H, n_W) == (
        _output_size(n_H_prev, f, pad, stride),
        _output_size(n_W_prev, f, pad, stride),
    ), f"dZ is {dZ.shape}, expected Z's shape for A_prev {A_prev.shape}, W {W.shape}, {hparameters}"

    A_prev_pad = zero_pad(A_prev, pad)
    dtype = np.result_type(dZ, A_prev, W)
    dA_prev_pad = np.zeros(A_prev_pad.shape, dtype=dtype)  # (m, n_H_prev + 2 pad, n_W_prev + 2 pad, n_C_prev)
    dW = np.zeros(W.shape, dtype=dtype)  # (f, f, n_C_prev, n_C)
    for i in range(f):
        for j in range(f):
            window = _offset(i, j, n_H, n_W, stride)  # one offset's positions never overlap: += is safe
            dA_prev_pad[window] += np.tensordot(dZ, W[i, j], axes=([3], [1]))  # (m, n_H, n_W, n_C_prev)
            dW[i, j] = np.tensordot(A_prev_pad[window], dZ, axes=([0, 1, 2], [0, 1, 2]))  # (n_C_prev, n_C)
    db = np.sum(dZ, axis=(0, 1, 2), keepdims=True)  # (1, 1, 1, n_C)
    dA_prev = dA_prev_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev, :]  # strip the padding (pad may be 0)
    assert dA_prev.shape == A_prev.shape and dW.shape == W.shape and db.shape == b.shape
    return dA_prev, dW, db


def pool_forward(A_prev: Array, hparameters: dict[str, int], mode: str = "max") -> tuple[Array, PoolCache]:
    """A[i, h, w, c] = max (or mean) over the f x f window A_prev[i, h stride : h stride + f, w stride : ..., c].

    A_prev (m, n_H_prev, n_W_prev, n_C), hparameters {"f", "stride"}, no padding; returns A (m, n_H, n_W, n_C)
    and the cache (A_prev, hparameters)."""
    _check_mode(mode)
    _, n_H_prev, n_W_prev, _ = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H = _output_size(n_H_prev, f, 0, stride)
    n_W = _output_size(n_W_prev, f, 0, stride)

    A = A_prev[_offset(0, 0, n_H, n_W, stride)].copy()  # (m, n_H, n_W, n_C): the windows' first entries
    for i in range(f):
        for j in range(f):
            if i == j == 0:
                continue
            window_entries = A_prev[_offset(i, j, n_H, n_W, stride)]  # (m, n_H, n_W, n_C)
            if mode == "max":
                np.maximum(A, window_entries, out=A)
            else:
                A += window_entries
    if mode == "average":
        A /= f * f
    return A, (A_prev, hparameters)


def create_mask_from_window(x: Array) -> npt.NDArray[np.bool_]:
    """mask = (x == max(x)) for a window x (f, f): True at every entry equal to the maximum, ties included."""
    mask: npt.NDArray[np.bool_] = x == np.max(x)
    return mask


def distribute_value(dz: float | np.floating[Any], shape: tuple[int, int]) -> Array:
    """An (n_H, n_W) array of dz / (n_H n_W): an average's gradient, shared equally by the entries it averaged."""
    n_H, n_W = shape
    average = np.asarray(dz) / (n_H * n_W)  # float32 stays float32; an int or float dz gives float64
    return np.full(shape, average, dtype=average.dtype)


def pool_backward(dA: Array, cache: PoolCache, mode: str = "max") -> Array:
    """dA_prev[i, h stride + di, w stride + dj, c] += mask * dA[i, h, w, c] for max, where mask = (window entry ==
    the window's max), every tied maximum included; += dA[i, h, w, c] / (f f) for average.
    Returns dA_prev like A_prev (m, n_H_prev, n_W_prev, n_C)."""
    _check_mode(mode)
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    _, n_H, n_W, _ = dA.shape
    A, _ = pool_forward(A_prev, hparameters, mode)
    assert dA.shape == A.shape, f"dA is {dA.shape}, expected A's shape {A.shape}"

    dA_prev = np.zeros(A_prev.shape, dtype=np.result_type(dA, A_prev))
    for i in range(f):
        for j in range(f):
            window = _offset(i, j, n_H, n_W, stride)  # one offset's positions never overlap: += is safe
            if mode == "max":
                mask = A_prev[window] == A  # (m, n_H, n_W, n_C): is this offset's entry its window's max?
                dA_prev[window] += mask * dA
            else:
                dA_prev[window] += dA / (f * f)
    return dA_prev
