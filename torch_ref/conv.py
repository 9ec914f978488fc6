"""The convolution course's functions computed by torch, and the one mapping between their layouts.

Course, channels last: A (m, n_H, n_W, n_C), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C). Torch, channels first
(NCHW): input (m, n_C, n_H, n_W), nn.Conv2d.weight (n_C, n_C_prev, f, f), bias (n_C,). Every permute and reshape
between the two lives in the four functions below (to_nchw, to_channels_last, weight_to_torch, weight_to_course);
the rest of the module calls them.

Twins in the course's layout, NumPy in and out (like steps.py): conv_forward, conv_backward, pool_forward,
pool_backward, and tied_windows, the max-pool windows where the course and torch route a gradient differently.
The course's convolution is a cross-correlation, as torch's is: the kernel is never flipped.

Modules for TorchNet, which passes rows (m, n) between layers: ConvMap and PoolMap take and return the course's
(m, n_H, n_W, n_C) arrays flattened channels last, A.reshape(m, n_H * n_W * n_C), and permute to NCHW and back
inside. The flatten before the first dense layer is then no operation at all: the rows already are the course's
channels-last flatten, so the dense layer's nn.Linear.weight is the course's W (n, n_H * n_W * n_C) unchanged.
Chosen over torch's nn.Flatten on NCHW (which orders the features (C, H, W) and would need the dense columns
re-indexed) because the mapping then stays inside the conv and pool maps: dense weights load and their gradients
read back through layout.py as for any dense network, and every layer's rows compare with the course's array
reshaped, with no index map to get wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from torch import nn

from .arrays import Array
from .model import CourseMap

MODES = ("max", "average")


# The layout mapping, the only permutes of this module.


def to_nchw(A: torch.Tensor) -> torch.Tensor:
    """(m, n_H, n_W, n_C), the course's, -> (m, n_C, n_H, n_W), torch's (a view)."""
    return A.permute(0, 3, 1, 2)


def to_channels_last(A: torch.Tensor) -> torch.Tensor:
    """(m, n_C, n_H, n_W), torch's, -> (m, n_H, n_W, n_C), the course's (a view)."""
    return A.permute(0, 2, 3, 1)


def weight_to_torch(W: torch.Tensor) -> torch.Tensor:
    """The course's W (f, f, n_C_prev, n_C) -> nn.Conv2d.weight (n_C, n_C_prev, f, f) (a view)."""
    return W.permute(3, 2, 0, 1)


def weight_to_course(weight: torch.Tensor) -> torch.Tensor:
    """nn.Conv2d.weight (n_C, n_C_prev, f, f) -> the course's W (f, f, n_C_prev, n_C) (a view)."""
    return weight.permute(2, 3, 1, 0)


def output_size(n_prev: int, f: int, stride: int, pad: int = 0) -> int:
    """n = floor((n_prev - f + 2 pad) / stride) + 1, the course's rule (torch's floor mode)."""
    return (n_prev - f + 2 * pad) // stride + 1


# The course's functions, NumPy in and out.


def _t(array: npt.ArrayLike, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(array), requires_grad=grad)


def _np(t: torch.Tensor) -> Array:
    array: Array = t.detach().cpu().numpy().copy()
    return array


def _grad(t: torch.Tensor) -> torch.Tensor:
    if t.grad is None:
        raise ValueError("no gradient to read: run a backward pass first")
    return t.grad


def _conv(A_prev: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, stride: int, pad: int) -> torch.Tensor:
    """Z (m, n_H, n_W, n_C) from A_prev (m, n_H_prev, n_W_prev, n_C_prev) and torch's weight and bias."""
    return to_channels_last(F.conv2d(to_nchw(A_prev), weight, bias, stride=stride, padding=pad))


def _pool(A_prev: torch.Tensor, f: int, stride: int, mode: str) -> torch.Tensor:
    """A (m, n_H, n_W, n_C): the max or the mean of each f x f window, windows `stride` apart, no padding."""
    if mode == "max":
        pooled: torch.Tensor = F.max_pool2d(to_nchw(A_prev), kernel_size=f, stride=stride)
    elif mode == "average":
        pooled = F.avg_pool2d(to_nchw(A_prev), kernel_size=f, stride=stride)
    else:
        raise ValueError(f"unknown pooling mode {mode!r}: choose from {MODES}")
    return to_channels_last(pooled)


def conv_forward(A_prev: Array, W: Array, b: Array, hparameters: Mapping[str, int]) -> Array:
    """Z[i, h, w, c] = sum(A_pad[i, h s : h s + f, w s : w s + f, :] * W[..., c]) + b[..., c], (m, n_H, n_W, n_C):
    conv2d on the permuted arrays (the course's conv_forward returns a cache too; this returns Z)."""
    n_C = W.shape[3]
    with torch.no_grad():
        Z = _conv(_t(A_prev), weight_to_torch(_t(W)), _t(b).reshape(n_C), hparameters["stride"], hparameters["pad"])
    return _np(Z)


def conv_backward(
    dZ: Array, A_prev: Array, W: Array, b: Array, hparameters: Mapping[str, int]
) -> tuple[Array, Array, Array]:
    """(dA_prev, dW, db) of s = sum(Z * dZ) by autograd: the course's conv_backward, sums over examples and
    positions with no 1/m, dW (f, f, n_C_prev, n_C) and db (1, 1, 1, n_C)."""
    n_C = W.shape[3]
    a = _t(A_prev, grad=True)
    # a leaf in torch's layout and contiguous, as nn.Conv2d holds it (torch's CPU conv2d backward refuses a
    # permuted weight view with one output channel: "grad_weight must be contiguous")
    weight = weight_to_torch(_t(W)).contiguous().requires_grad_()
    bias = _t(b).reshape(n_C).detach().requires_grad_()
    Z = _conv(a, weight, bias, hparameters["stride"], hparameters["pad"])
    torch.autograd.backward(Z, _t(dZ))
    return _np(_grad(a)), _np(weight_to_course(_grad(weight))), _np(_grad(bias)).reshape(1, 1, 1, n_C)


def pool_forward(A_prev: Array, hparameters: Mapping[str, int], mode: str = "max") -> Array:
    """A[i, h, w, c] = max (or mean) of A_prev[i, h s : h s + f, w s : w s + f, c], (m, n_H, n_W, n_C)."""
    with torch.no_grad():
        return _np(_pool(_t(A_prev), hparameters["f"], hparameters["stride"], mode))


def pool_backward(dA: Array, A_prev: Array, hparameters: Mapping[str, int], mode: str = "max") -> Array:
    """dA_prev of s = sum(A * dA) by autograd, like A_prev. Average: each window's dA / (f f) to all its entries.
    Max: dA to the window's maximum; where a window has tied maxima torch sends it to one of them and the course's
    mask x == max(x) to every one (tied_windows says where)."""
    a = _t(A_prev, grad=True)
    torch.autograd.backward(_pool(a, hparameters["f"], hparameters["stride"], mode), _t(dA))
    return _np(_grad(a))


def tied_windows(A_prev: Array, hparameters: Mapping[str, int]) -> npt.NDArray[np.bool_]:
    """True at (i, h, w, c) where max-pool window (h, w) of example i, channel c, holds its maximum more than once,
    (m, n_H, n_W, n_C); .sum() counts them. Only there may pool_backward's max and the course's differ (a window of
    a relu output's zeros is the common case): never a slip."""
    f, stride = hparameters["f"], hparameters["stride"]
    with torch.no_grad():
        a = to_nchw(_t(A_prev))
        m, n_C, n_H_prev, n_W_prev = a.shape
        n_H, n_W = output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride)
        # unfold: (m, n_C f f, n_H n_W), each column one window position, channel-major rows
        windows = F.unfold(a, kernel_size=f, stride=stride).reshape(m, n_C, f * f, n_H, n_W)
        maxima = (windows == windows.amax(dim=2, keepdim=True)).sum(dim=2)  # (m, n_C, n_H, n_W)
        tied: npt.NDArray[np.bool_] = to_channels_last(maxima > 1).numpy().copy()
    return tied


# Modules for TorchNet: rows in, rows out.


def _product(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape))


class _SpatialMap(CourseMap):
    """A map on rows (m, n_H_prev n_W_prev n_C_prev), the course's (m, n_H_prev, n_W_prev, n_C_prev) flattened
    channels last, to rows (m, n_H n_W n_C) flattened the same way; TorchNet's rows carry no geometry, so the
    input's (n_H_prev, n_W_prev, n_C_prev) is the constructor's."""

    def __init__(self, in_shape: tuple[int, int, int], out_shape: tuple[int, int, int]) -> None:
        super().__init__()
        if min(out_shape) < 1:
            raise ValueError(f"input {in_shape} gives no output {out_shape}: the window is larger than the input")
        self.in_shape = tuple(int(n) for n in in_shape)
        self.out_shape = out_shape

    @property
    def n_in(self) -> int:
        """n[l-1] = n_H_prev n_W_prev n_C_prev, the width of the rows taken."""
        return _product(self.in_shape)

    @property
    def n_out(self) -> int:
        """n[l] = n_H n_W n_C, the width of the rows returned (the layer's entry in TorchNet's layer_dims)."""
        return _product(self.out_shape)

    def _spatial(self, a: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ValueError(f"{type(self).__name__} takes rows (m, {self.n_in}) of {self.in_shape}, got {a.shape}")
        return self._spatial(a.reshape(a.shape[0], *self.in_shape)).reshape(a.shape[0], self.n_out)


class ConvMap(_SpatialMap):
    """Z = conv(A_prev, W) + b, the course's conv_forward, by an nn.Conv2d (its weight in torch's layout); its
    course parameters W (f, f, n_C_prev, n_C) and b (1, 1, 1, n_C). course_values maps the layout only: a
    gradient read through it is whatever cost the backward pass differentiated (no factor m)."""

    course_names = ("W", "b")

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        n_C: int,
        f: int,
        *,
        stride: int = 1,
        pad: int = 0,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        """in_shape: (n_H_prev, n_W_prev, n_C_prev); n_C filters of f x f; nn.Conv2d's default initial weights."""
        n_H_prev, n_W_prev, n_C_prev = in_shape
        out = (output_size(n_H_prev, f, stride, pad), output_size(n_W_prev, f, stride, pad), int(n_C))
        super().__init__(in_shape, out)
        self.conv = nn.Conv2d(n_C_prev, n_C, f, stride=stride, padding=pad, dtype=dtype, device=device)

    def _spatial(self, a: torch.Tensor) -> torch.Tensor:
        return to_channels_last(self.conv(to_nchw(a)))

    @property
    def _bias(self) -> torch.Tensor:
        bias = self.conv.bias
        if bias is None:  # built with bias=True; nn.Conv2d types it optional
            raise ValueError("ConvMap has no bias")
        return bias

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        f, n_C = self.conv.kernel_size[0], self.out_shape[2]
        return {"W": (f, f, self.in_shape[2], n_C), "b": (1, 1, 1, n_C)}

    def load_course(self, params: Mapping[str, Array]) -> None:
        """weight = W permuted to (n_C, n_C_prev, f, f), bias = b flattened to (n_C,); shapes checked."""
        for name, shape in self._shapes().items():
            if name not in params or params[name].shape != shape:
                got = params[name].shape if name in params else "nothing"
                raise ValueError(f"ConvMap needs {name} of shape {shape}, got {got}")
        with torch.no_grad():
            self.conv.weight.copy_(weight_to_torch(torch.tensor(params["W"])))
            self._bias.copy_(torch.tensor(params["b"]).reshape(-1))

    def course_values(self, value_of: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, Array]:
        """value_of(weight) as W (f, f, n_C_prev, n_C) and value_of(bias) as b (1, 1, 1, n_C)."""
        return {
            "W": _np(weight_to_course(value_of(self.conv.weight))),
            "b": _np(value_of(self._bias)).reshape(self._shapes()["b"]),
        }

    def decayed(self) -> list[torch.Tensor]:
        return [self.conv.weight]


class PoolMap(_SpatialMap):
    """A = the max (mode "max") or the mean ("average") of each f x f window, windows `stride` apart, no padding:
    the course's pool_forward. No parameters."""

    course_names = ()

    def __init__(self, in_shape: tuple[int, int, int], f: int, stride: int, mode: str = "max") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown pooling mode {mode!r}: choose from {MODES}")
        n_H_prev, n_W_prev, n_C_prev = in_shape
        super().__init__(in_shape, (output_size(n_H_prev, f, stride), output_size(n_W_prev, f, stride), n_C_prev))
        self.f, self.stride, self.mode = f, stride, mode

    def _spatial(self, a: torch.Tensor) -> torch.Tensor:
        return _pool(a, self.f, self.stride, self.mode)

    def load_course(self, params: Mapping[str, Array]) -> None:
        if params:
            raise ValueError(f"PoolMap has no parameters, got {sorted(params)}")

    def course_values(self, value_of: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, Array]:
        return {}
