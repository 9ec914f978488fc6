"""The function-by-function checks of the convolution notebook (impl/convstep.py): zero_pad, conv_single_step,
conv_forward and conv_backward here, the pooling functions in unit_pool.py.

Each function gets seeded inputs of several shapes (CONV_CASES: strides 1 to 3, pads 0 to 2, f 1 to 3, n_C unlike
n_C_prev, m > 1, n_H_prev unlike n_W_prev; a random upstream dZ for conv_backward) and its outputs are compared with
torch_ref.conv's in the run's dtype, each within rtol times the sum of its terms' absolute values
(unit_harness.terms_scale). Shapes and caches are checked first, then the numbers; a wrong output is matched
against the classic slips (judging/conv_hints.py). The shapes are small: the course's four nested Python loops run
every check in well under a second.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

import torch_ref.conv as ref

from ..impl.base import _describe
from ..judging import conv_hints
from .unit_harness import Unit, Wrong, terms_scale

# (m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad). The first pads, yet every window of its stride lies inside
# A_prev unpadded too ((n_prev - f + 2 pad) % stride >= 2 pad): a dW from the unpadded slice shows in the numbers
# rather than raising; pad > 0 comes first so that padding slips are named before pad 0 is met.
CONV_CASES = (
    (2, 5, 8, 3, 2, 2, 3, 1),
    (2, 5, 7, 3, 4, 3, 2, 2),
    (3, 4, 6, 2, 3, 3, 1, 1),
    (2, 6, 5, 3, 2, 1, 2, 0),
    (2, 5, 6, 2, 3, 2, 1, 0),
)
PAD_CASES = (((2, 3, 4, 2), 2), ((1, 4, 3, 3), 1), ((2, 2, 5, 1), 0))  # zero_pad: (X's shape, pad)
SINGLE_STEP_CASES = ((3, 3, 4), (2, 2, 3), (1, 1, 2))  # conv_single_step: the slice's and W's shape


def hparameters(stride: int, pad: int) -> dict:
    return {"stride": stride, "pad": pad}


def conv_inputs(u: Unit, case: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """A_prev, W, b and hparameters of one CONV_CASES case, in the run's dtype."""
    m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad = case
    W = (u.randn(f, f, n_C_prev, n_C) / np.sqrt(f * f * n_C_prev)).astype(u.dtype)
    return (
        u.randn(m, n_H_prev, n_W_prev, n_C_prev),
        W,
        (u.randn(1, 1, 1, n_C) * 0.5).astype(u.dtype),
        hparameters(stride, pad),
    )


def shaped(output: str, value, shape: tuple[int, ...], hint: Callable[[tuple[int, ...]], str]) -> None:
    """Wrong when `value` is not an array of `shape`; `hint` names the slip its shape suggests."""
    got = getattr(value, "shape", None)
    if not isinstance(value, np.ndarray) or got != shape:
        raise Wrong(output, f"expected an array of shape {shape}, got {_describe(value)}", hint(got) if got else "")


def close(u: Unit, output: str, value, expected: np.ndarray, scale: float, slip: Callable[[float], str]) -> None:
    """u.close, and on a difference the slip that fits (`slip(allowed)`), else diagnose's hint where it is not about
    1/m (the course's conv_backward has none: its own slip says so)."""
    try:
        u.close(output, value, expected, scale)
    except Wrong as wrong:
        if wrong.detail.startswith("it is "):  # a narrower dtype than the run's: that is the hint
            raise
        named = slip(u.rtol * scale) if np.shape(value) == np.shape(expected) else ""
        wrong.hint = named or ("" if "1/m" in wrong.hint else wrong.hint)
        raise


def same_cache(u: Unit, cache, inputs: tuple, names: tuple[str, ...]) -> None:
    """The cache is the course's tuple of the inputs, unchanged: (A_prev, W, b, hparameters) or (A_prev,
    hparameters)."""
    order = f"the course's cache is ({', '.join(names)})"
    if not (isinstance(cache, (tuple, list)) and len(cache) == len(inputs)):
        raise Wrong("cache", f"expected ({', '.join(names)}), got {_describe(cache)}", order)
    for index, (name, value, given) in enumerate(zip(names, cache, inputs)):
        if isinstance(given, dict):
            if value != given:
                raise Wrong(f"cache[{index}] ({name})", f"expected {given}, got {_describe(value)}", order)
        else:
            u.same(f"cache[{index}] ({name})", value, given, conv_hints.padded_cache_slip(name, value, given) or order)


def _check_zero_pad(u: Unit) -> None:
    for shape, pad in PAD_CASES:
        _zero_pad_case(u, shape, pad)


def _zero_pad_case(u: Unit, shape: tuple[int, ...], pad: int) -> None:
    X = u.randn(*shape)
    expected = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    X_pad = u.call(X, pad)
    shaped("X_pad", X_pad, expected.shape, partial(conv_hints.pad_slip, shape, pad))
    u.close("X_pad", X_pad, expected, float(np.max(np.abs(X))))


def _check_conv_single_step(u: Unit) -> None:
    for shape in SINGLE_STEP_CASES:
        _single_step_case(u, shape)


def _single_step_case(u: Unit, shape: tuple[int, ...]) -> None:
    a, W, b = u.randn(*shape), u.randn(*shape), u.randn(1, 1, 1)
    Z = u.call(a, W, b)
    if np.size(Z) != 1:
        raise Wrong("Z", f"expected a number, got {_describe(Z)}", "Z = np.sum(a_slice_prev * W) + b.item()")
    if np.ndim(Z) > 0:  # Z + b keeps b's (1, 1, 1): conv_forward's Z[i, h, w, c] = ... then raises (NumPy 2)
        raise Wrong(
            "Z",
            f"expected a number, got an array of shape {np.shape(Z)}",
            "Z + b keeps b's shape (1, 1, 1), which NumPy 2 no longer stores in one entry of conv_forward's Z: "
            "Z = np.sum(a_slice_prev * W) + b.item()",
        )
    expected = np.sum(a.astype(np.float64) * W) + float(b.ravel()[0])
    scale = terms_scale(lambda a, W, b: np.sum(a * W) + b, a, W, b)
    number = np.asarray(Z).reshape(())
    close(u, "Z", number, np.asarray(expected), scale, partial(conv_hints.single_step_slip, number, a, W, b))


def _check_conv_forward(u: Unit) -> None:
    for case in CONV_CASES:
        _conv_forward_case(u, *conv_inputs(u, case))


def _conv_forward_case(u: Unit, A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hp: dict) -> None:
    expected = ref.conv_forward(A_prev, W, b, hp)
    Z, cache = u.parts(u.call(A_prev, W, b, hp), ("Z", "cache"))
    sizes = partial(conv_hints.size_slip, A_prev.shape, W.shape[0], hp["stride"], hp["pad"])
    shaped("Z", Z, expected.shape, sizes)
    scale = terms_scale(lambda a, w, c: conv_hints.conv_z(a, w, c, hp), A_prev, W, b)
    close(u, "Z", Z, expected, scale, partial(conv_hints.conv_forward_slip, Z, A_prev, W, b, hp))
    same_cache(u, cache, (A_prev, W, b, hp), ("A_prev", "W", "b", "hparameters"))


def _check_conv_backward(u: Unit) -> None:
    for case in CONV_CASES:
        _conv_backward_case(u, *conv_inputs(u, case))


def _conv_backward_case(u: Unit, A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hp: dict) -> None:
    dZ = u.randn(*ref.conv_forward(A_prev, W, b, hp).shape)
    expected = ref.conv_backward(dZ, A_prev, W, b, hp)
    dA_prev, dW, db = u.parts(u.call(dZ, (A_prev, W, b, hp)), ("dA_prev", "dW", "db"))
    shaped("dA_prev", dA_prev, A_prev.shape, partial(conv_hints.strip_slip, A_prev.shape, hp["pad"]))
    shaped("dW", dW, W.shape, lambda got: "")
    shaped("db", db, b.shape, partial(conv_hints.db_shape_slip, W.shape[3]))
    grads = partial(conv_hints.conv_grads, hp=hp)
    scales = (
        terms_scale(lambda g, a, w: conv_hints.strip(grads(g, a, w)[0], hp["pad"]), dZ, A_prev, W),
        terms_scale(lambda g, a, w: grads(g, a, w)[1], dZ, A_prev, W),
        terms_scale(lambda g: np.sum(g, axis=(0, 1, 2)), dZ),
    )
    for output, value, right, scale in zip(("dA_prev", "dW", "db"), (dA_prev, dW, db), expected, scales):
        slip = partial(conv_hints.conv_backward_slip, output, value, (dZ, A_prev, W, hp))
        close(u, output, value, right, scale, slip)


CONV_CHECKS: dict[str, Callable[[Unit], str | None]] = {  # the notebook's order
    "zero_pad": _check_zero_pad,
    "conv_single_step": _check_conv_single_step,
    "conv_forward": _check_conv_forward,
    "conv_backward": _check_conv_backward,
}
