"""The function-by-function checks of the convolution notebook's pooling (impl/convstep.py): pool_forward,
create_mask_from_window, distribute_value and pool_backward, both modes, against torch_ref.conv and the course's
rules (the convolutions are in unit_conv.py, whose comparisons these share).

Max-pool ties are never a slip: the course's mask x == max(x) sends a window's gradient to every tied maximum,
torch to one. POOL_CASES' relu-like case holds all-zero windows on purpose (torch_ref.conv.tied_windows finds
them); there pool_backward may agree with either, and a difference from torch only there is said in a note.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

import torch_ref.conv as ref

from ..judging import conv_hints
from .unit_conv import close, same_cache, shaped
from .unit_harness import Unit, terms_scale

MODES = ("max", "average")
# (m, n_H_prev, n_W_prev, n_C, f, stride, relu-like): windows apart, overlapping (stride < f), f = 1, and a relu
# output whose windows of zeros tie
POOL_CASES = (
    (2, 5, 7, 3, 2, 2, False),
    (2, 6, 5, 2, 3, 1, False),
    (3, 7, 6, 2, 3, 2, False),
    (2, 4, 5, 3, 1, 1, False),
    (2, 6, 6, 2, 2, 2, True),
)
WINDOWS = ((3, 3), (2, 2), (2, 3))  # create_mask_from_window's x
DISTRIBUTED = ((1.7, (2, 3)), (-0.4, (3, 3)), (2.5, (1, 4)))  # distribute_value's (dz, shape)


def pool_inputs(u: Unit, case: tuple) -> tuple[np.ndarray, dict]:
    """A_prev and hparameters of one POOL_CASES case; a relu-like case has its first window all zeros (a tie)."""
    m, n_H_prev, n_W_prev, n_C, f, stride, relu = case
    A_prev = u.randn(m, n_H_prev, n_W_prev, n_C)
    if relu:
        A_prev = np.maximum(A_prev, 0)
        A_prev[0, :f, :f, :] = 0
    return A_prev, {"f": f, "stride": stride}


def _check_pool_forward(u: Unit) -> None:
    for case in POOL_CASES:
        A_prev, hp = pool_inputs(u, case)
        for mode in MODES:
            _pool_forward_case(u, A_prev, hp, mode)


def _pool_forward_case(u: Unit, A_prev: np.ndarray, hp: dict, mode: str) -> None:
    expected = ref.pool_forward(A_prev, hp, mode)
    A, cache = u.parts(u.call(A_prev, hp, mode), ("A", "cache"))
    shaped(
        f"A ({mode})",
        A,
        expected.shape,
        partial(conv_hints.size_slip, A_prev.shape, hp["f"], hp["stride"], 0, pooling=True),
    )
    scale = terms_scale(lambda a: conv_hints.pool_a(a, hp, mode), A_prev)
    close(u, f"A ({mode})", A, expected, scale, partial(conv_hints.pool_forward_slip, A, A_prev, hp, mode))
    same_cache(u, cache, (A_prev, hp), ("A_prev", "hparameters"))


def _check_create_mask(u: Unit) -> None:
    for shape in WINDOWS:
        x = u.randn(*shape)
        mask = u.call(x)
        shaped("mask", mask, shape, lambda got: "")
        expected = (x == np.max(x)).astype(np.float64)
        close(u, "mask", np.asarray(mask, dtype=np.float64), expected, 0.0, partial(conv_hints.mask_slip, mask, x))


def _check_distribute_value(u: Unit) -> None:
    for dz, shape in DISTRIBUTED:
        value = u.dtype.type(dz)
        a = u.call(value, shape)
        shaped("a", a, shape, lambda got: "")
        size = abs(float(value)) / (shape[0] * shape[1])
        slip = partial(conv_hints.distribute_slip, a, float(value), shape)
        close(u, "a", a, np.full(shape, float(value) / (shape[0] * shape[1])), size, slip)


def _check_pool_backward(u: Unit) -> str | None:
    ties = 0
    for case in POOL_CASES:
        A_prev, hp = pool_inputs(u, case)
        for mode in MODES:
            ties += _pool_backward_case(u, A_prev, hp, mode)
    if not ties:
        return None
    note = (
        f"pool_backward (max) sends the gradient to every tied maximum of {ties} window{'s' if ties > 1 else ''} "
        "(the course's mask x == max(x)) where torch sends it to one: ties, not a slip"
    )
    u.impl.notes["ties"] = note
    return note


def _pool_backward_case(u: Unit, A_prev: np.ndarray, hp: dict, mode: str) -> int:
    """One case of pool_backward, checked; the number of tied windows where it took the course's rule."""
    dA = u.randn(*ref.pool_forward(A_prev, hp, mode).shape)
    expected = ref.pool_backward(dA, A_prev, hp, mode)
    dA_prev = u.call(dA, (A_prev, hp), mode)
    shaped(f"dA_prev ({mode})", dA_prev, A_prev.shape, lambda got: "")
    # each entry sums one dA per window that meets there: an average's shares times f f bound a max's
    scale = terms_scale(lambda g: conv_hints.pool_grad(g, A_prev, hp, "average"), dA) * hp["f"] ** 2
    tied = 0
    if mode == "max":
        expected, tied = _course_at_ties(dA_prev, expected, dA, A_prev, hp, u.rtol * scale)
    close(
        u,
        f"dA_prev ({mode})",
        dA_prev,
        expected,
        scale,
        partial(conv_hints.pool_backward_slip, dA_prev, dA, A_prev, hp, mode),
    )
    return tied


def _course_at_ties(dA_prev, torch_grad, dA, A_prev, hp: dict, allowed: float) -> tuple[np.ndarray, int]:
    """What dA_prev is held to: torch's gradient, except inside tied windows (torch_ref.conv.tied_windows), where
    the course's rule (every tied maximum) is as right, when that is what dA_prev holds there; and the number of
    tied windows where dA_prev took the course's rule rather than torch's."""
    tied = ref.tied_windows(A_prev, hp)
    if not tied.any():
        return torch_grad, 0
    f, stride = hp["f"], hp["stride"]
    covered = np.zeros(A_prev.shape, dtype=bool)
    for i, h, w, c in zip(*np.nonzero(tied)):
        covered[i, h * stride : h * stride + f, w * stride : w * stride + f, c] = True
    course = conv_hints.pool_grad(dA, A_prev, hp, "max")
    value = np.asarray(dA_prev, dtype=np.float64)
    as_course = covered & (np.abs(value - course) <= allowed) & (np.abs(value - torch_grad) > allowed)
    if not as_course.any():
        return torch_grad, 0
    differing = sum(
        1
        for i, h, w, c in zip(*np.nonzero(tied))
        if as_course[i, h * stride : h * stride + f, w * stride : w * stride + f, c].any()
    )
    return np.where(as_course, course, torch_grad), differing


POOL_CHECKS: dict[str, Callable[[Unit], str | None]] = {  # the notebook's order
    "pool_forward": _check_pool_forward,
    "create_mask_from_window": _check_create_mask,
    "distribute_value": _check_distribute_value,
    "pool_backward": _check_pool_backward,
}
