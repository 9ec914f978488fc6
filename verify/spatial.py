"""Convolution and pooling layers: the layer kinds of the convolution course's step-by-step notebook.

A network passes A[l] between layers as columns (n[l], m). A conv or pool layer's A is the course's image array
(m, n_H, n_W, n_C) with each example flattened channels last, A4.reshape(m, -1).T, so a dense layer after them reads
the course's flatten (Keras's, channels last) and its W is the course's, unchanged; torch_ref.conv's ConvMap and
PoolMap pass the same rows. Columns carry no geometry: a layer's kind holds its input's (n_H_prev, n_W_prev,
n_C_prev), and its word says it after an "@", so that a word alone names the layer: "conv4f3s1p1@8x8x3" is 4
filters of 3 x 3, stride 1, padding 1, on an 8 x 8 x 3 input; "max2s2@8x8x4" a 2 x 2 max pool of stride 2.

--arch spells a conv network as its input's size, its conv and pool layers, `flatten`, then dense sizes:
8x8x3,conv4f3p1,max2,flatten,8,1 (see parse). The forward and backward passes are scratch.conv's, the course's
functions, or those `call` runs (the convolution notebook's, impl/convstep.py): dZ arrives as the gradient of the
summed loss, so dW and db, sums over the examples like conv_backward's, are divided by m to be the mean cost's, as a
dense layer's are.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

import scratch

from .errors import UsageError
from .layers import Call, Gains, LayerKind, Params, scratch_call

Shape = tuple[int, int, int]  # (n_H, n_W, n_C)


IMAGE = re.compile(r"(\d+)x(\d+)(?:x(\d+))?")  # an input's size: 8x8x3 (8x8: one channel)
CONV = re.compile(r"conv(\d+)f(\d+)(?:s(\d+))?(?:p(\d+))?")  # n_C filters of f x f, stride s (1), padding p (0)
POOL = re.compile(r"(max|avg)(\d+)(?:s(\d+))?")  # an f x f window, stride s (f, as Keras's default)
FLATTEN = "flatten"
MODES = {"max": "max", "avg": "average"}  # the spelling's word, pool_forward's mode
SPELLINGS = (
    "an input size like 8x8x3 first, then conv<filters>f<size>[s<stride>][p<pad>] (conv4f3p1), "
    "max<size>[s<stride>] or avg<size>[s<stride>] (max2), flatten, then dense sizes"
)


def _size(n_prev: int, f: int, stride: int, pad: int) -> int:
    return (n_prev + 2 * pad - f) // stride + 1


def _spelled(shape: Shape) -> str:
    return "x".join(map(str, shape))


class Spatial(LayerKind):
    """A layer on images: its input's shape, its output's, and the columns <-> (m, n_H, n_W, n_C) reshape."""

    in_shape: Shape
    out_shape: Shape

    @property
    def n_in(self) -> int:
        return math.prod(self.in_shape)

    @property
    def n_out(self) -> int:
        return math.prod(self.out_shape)

    @property
    def item(self) -> str:
        """How --arch spells this layer: its word without the input's shape."""
        return self.word.split("@")[0]

    def output_size(self, n_in: int) -> int:
        if n_in != self.n_in:
            raise ValueError(f"{self.word} takes {self.n_in} inputs ({_spelled(self.in_shape)}), not {n_in}")
        return self.n_out

    def images(self, A: np.ndarray, shape: Shape) -> np.ndarray:
        """Columns (n, m) as the course's (m, n_H, n_W, n_C)."""
        return A.T.reshape(A.shape[1], *shape)

    @staticmethod
    def columns(A4: np.ndarray) -> np.ndarray:
        """The course's (m, n_H, n_W, n_C) as columns (n_H n_W n_C, m), each example flattened channels last."""
        return A4.reshape(A4.shape[0], -1).T

    @property
    def positions(self) -> int:
        """n_H n_W: the output positions a filter's gradient sums over."""
        return self.out_shape[0] * self.out_shape[1]


@dataclass(frozen=True)
class Window:
    f: int
    stride: int
    pad: int = 0


class Conv(Spatial):
    """Z = conv(A_prev, W) + b, the course's conv_forward: W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C)."""

    names = ("W", "b")
    decayed = ("W",)
    offsets = ("b",)

    def __init__(self, in_shape: Shape, n_C: int, window: Window) -> None:
        self.in_shape, self.n_C, self.window = in_shape, n_C, window
        f, s, p = window.f, window.stride, window.pad
        self.out_shape = (_size(in_shape[0], f, s, p), _size(in_shape[1], f, s, p), n_C)
        self.word = f"conv{n_C}f{f}s{s}p{p}@{_spelled(in_shape)}"
        self.hparameters = {"stride": s, "pad": p}

    def shapes(self, n_in: int, n_out: int) -> dict[str, tuple[int, ...]]:
        f = self.window.f
        return {"W": (f, f, self.in_shape[2], self.n_C), "b": (1, 1, 1, self.n_C)}

    def initialize(self, n_in: int, n_out: int, init: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
        shapes = self.shapes(n_in, n_out)  # a filter's fan-in is f f n_C_prev
        fan_in = math.prod(shapes["W"][:3])
        return {"W": rng.standard_normal(shapes["W"]) * scratch.INIT_SCALES[init](fan_in), "b": np.zeros(shapes["b"])}

    def forward(self, A_prev: np.ndarray, P: Params, call: Call = scratch_call) -> tuple[np.ndarray, Any]:
        Z4, cache = call("conv_forward", self.images(A_prev, self.in_shape), P["W"], P["b"], self.hparameters)
        return self.columns(Z4), cache

    def backward(
        self, dZ: np.ndarray, cache: Any, call: Call = scratch_call
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        m = dZ.shape[1]
        dA_prev, dW, db = call("conv_backward", self.images(dZ, self.out_shape), cache)
        return self.columns(dA_prev), {"W": dW / m, "b": db / m}

    def twin(self, n_in: int, n_out: int) -> Any:
        import torch_ref

        w = self.window
        return torch_ref.ConvMap(self.in_shape, self.n_C, w.f, stride=w.stride, pad=w.pad)

    def gains(self, P: Params) -> Gains:
        # as a dense layer's, of the matrix the convolution is: a row holds one filter, a column (an input entry of
        # channel c) at most every filter's weights on channel c
        squares = P["W"] ** 2
        return Gains(
            float(np.sqrt(np.max(squares.sum(axis=(0, 1, 2))))),
            float(np.sqrt(np.max(squares.sum(axis=(0, 1, 3))))),
            float(np.max(np.abs(P["b"]))),
        )

    def gradient_scales(self, E_dZ: float, dZ_mean: float, A_size: float, A_carried: float) -> dict[str, float]:
        # a dense layer's dW entry is a mean over the examples of one product; a filter's sums one at every position
        P = self.positions
        return {"W": P * (E_dZ * A_size + dZ_mean * A_carried), "b": P * E_dZ}

    def reach(self, P: Params) -> float:
        return float(np.max(np.sum(np.abs(P["W"]), axis=(0, 1, 2))))


class Pool(Spatial):
    """A = the max or the mean of each f x f window, the course's pool_forward; no parameters, a linear activation."""

    activation = "linear"

    def __init__(self, in_shape: Shape, mode: str, window: Window) -> None:
        self.in_shape, self.mode, self.window = in_shape, mode, window
        f, s = window.f, window.stride
        self.out_shape = (_size(in_shape[0], f, s, 0), _size(in_shape[1], f, s, 0), in_shape[2])
        word = next(word for word, name in MODES.items() if name == mode)
        self.word = f"{word}{f}s{s}@{_spelled(in_shape)}"
        self.hparameters = {"f": f, "stride": s}

    def shapes(self, n_in: int, n_out: int) -> dict[str, tuple[int, ...]]:
        return {}

    def initialize(self, n_in: int, n_out: int, init: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {}

    def forward(self, A_prev: np.ndarray, P: Params, call: Call = scratch_call) -> tuple[np.ndarray, Any]:
        A4, cache = call("pool_forward", self.images(A_prev, self.in_shape), self.hparameters, self.mode)
        return self.columns(A4), cache

    def backward(
        self, dZ: np.ndarray, cache: Any, call: Call = scratch_call
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        return self.columns(call("pool_backward", self.images(dZ, self.out_shape), cache, self.mode)), {}

    def twin(self, n_in: int, n_out: int) -> Any:
        import torch_ref

        return torch_ref.PoolMap(self.in_shape, self.window.f, self.window.stride, self.mode)

    def gains(self, P: Params) -> Gains:
        # an input entry lies in at most ceil(f / stride)^2 windows; an average weighs each entry 1 / f^2
        f, s = self.window.f, self.window.stride
        overlaps = math.ceil(f / s) ** 2
        weight = 1.0 if self.mode == "max" else 1.0 / (f * f)
        return Gains(forward=1.0 if self.mode == "max" else 1.0 / f, backward=overlaps * weight, offset=0.0)

    def gradient_scales(self, E_dZ: float, dZ_mean: float, A_size: float, A_carried: float) -> dict[str, float]:
        return {}

    def reach(self, P: Params) -> float:
        return 1.0


@lru_cache(maxsize=256)
def kind(word: str) -> Spatial | None:
    """The conv or pool layer a word with its input's shape names ("conv4f3s1p1@8x8x3"), or None."""
    item, _, shape = word.partition("@")
    match = IMAGE.fullmatch(shape)
    if match is None:
        return None
    in_shape: Shape = (int(match[1]), int(match[2]), int(match[3] or 1))
    try:
        return layer(item, in_shape)
    except UsageError:
        return None


def layer(item: str, in_shape: Shape) -> Spatial | None:
    """The layer --arch spells `item` after an input of in_shape; None if it spells no conv or pool layer,
    UsageError if it spells one that cannot be (a stride of 0, a window larger than its input)."""
    conv, pool = CONV.fullmatch(item), POOL.fullmatch(item)
    if conv:
        n_C, f = int(conv[1]), int(conv[2])
        window = Window(f, int(conv[3] or 1), int(conv[4] or 0))
        _check(item, in_shape, window, n_C)
        return Conv(in_shape, n_C, window)
    if pool:
        f = int(pool[2])
        window = Window(f, int(pool[3] or f))
        _check(item, in_shape, window, 1)
        return Pool(in_shape, MODES[pool[1]], window)
    return None


def _check(item: str, in_shape: Shape, window: Window, n_C: int) -> None:
    f, stride, pad = window.f, window.stride, window.pad
    where = f"--arch: {item} on a {_spelled(in_shape)} input"
    if n_C < 1 or f < 1 or stride < 1:
        what = "0 filters" if n_C < 1 else "a window of size 0" if f < 1 else "a stride of 0"
        raise UsageError(f"{where} has {what}; every filter count, window size and stride must be at least 1")
    if min(_size(n, f, stride, pad) for n in in_shape[:2]) < 1:
        padded = f" padded by {pad}" if pad else ""
        raise UsageError(f"{where}: the {f} x {f} window is larger than the input{padded}")


def image(item: str) -> Shape | None:
    """An input's size 8x8x3 (or 8x8: one channel) as (n_H, n_W, n_C); None if item spells none."""
    match = IMAGE.fullmatch(item)
    if match is None:
        return None
    shape = (int(match[1]), int(match[2]), int(match[3] or 1))
    if min(shape) < 1:
        raise UsageError(f"--arch: the input {item} has a size of 0; give one like 8x8x3")
    return shape


__all__ = ["CONV", "FLATTEN", "IMAGE", "POOL", "SPELLINGS", "Conv", "Pool", "Spatial", "Window", "image", "kind"]
__all__ += ["layer", "tied_entries"]


def tied_entries(kind: Spatial, A_prev: np.ndarray) -> np.ndarray | None:
    """For a max-pool layer, the entries of its input A_prev (columns) that lie in a window whose maximum is tied:
    there the course's mask (x == max(x)) sends the gradient to every tied maximum and torch to one, both right.
    None for any other layer."""
    if not isinstance(kind, Pool) or kind.mode != "max":
        return None
    import torch_ref

    A4 = kind.images(A_prev, kind.in_shape)
    tied = torch_ref.conv.tied_windows(A4, kind.hparameters)  # (m, n_H, n_W, n_C), a window each
    if not tied.any():
        return None
    entries = np.zeros(A4.shape, dtype=bool)
    n_H, n_W = kind.out_shape[:2]
    f, stride = kind.window.f, kind.window.stride
    for i in range(f):
        for j in range(f):
            entries[:, i : i + stride * n_H : stride, j : j + stride * n_W : stride, :] |= tied
    return kind.columns(entries)
