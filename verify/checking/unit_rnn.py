"""The function-by-function checks of the recurrent notebook (impl/rnnstep.py): the basic RNN's rnn_cell_forward,
rnn_forward, rnn_cell_backward and rnn_backward here, the LSTM's in unit_lstm.py, on the comparisons both share.

Each function gets seeded inputs of several shapes (CASES: the course's, n_x, n_a, n_y, m and T_x all different,
T_x = 1, a long sequence with small weights) and a random upstream gradient da; its outputs are compared with
torch_ref.rnn's (nn.RNNCell, nn.LSTMCell and autograd) in the run's dtype, each within rtol times its scale: the size
of the terms it sums, carried through the time steps with the derivatives the network has (judging/tracked.py), so
that backward through time, which sums over the steps, is held to the rounding of all it sums. Shapes and the caches
(the course's (a_next, a_prev, xt, parameters), (list of caches, x)) are checked first, then the numbers; a wrong
output is matched against the classic slips (judging/rnn_hints.py).

A backward function is handed the cache the module's own forward function made of the same inputs, as the course's
backward reads it: a forward whose cache is wrong fails its own check first, and the backward follows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

import torch_ref.rnn as ref

from ..impl.base import _describe
from ..judging import rnn_course as course
from ..judging import rnn_hints
from ..judging.tracked import Tracked, exact, tracked
from .unit_harness import Unit, Wrong

Slips = Callable[[], rnn_hints.Candidates]


@dataclass(frozen=True)
class Case:
    """One shape of the checks: the sizes, and the weights' scale (small for a long sequence: its states and
    gradients neither saturate nor vanish)."""

    n_x: int
    n_a: int
    n_y: int
    m: int
    T_x: int
    weight: float = 1.0


# Wax and Waa swapped computes where n_x = n_a and raises elsewhere: that case comes first, so that the slip is named
# from its numbers rather than met as a shape error. Then the course's own shapes, then all sizes unlike each other.
CASES = (
    Case(4, 4, 3, 2, 3),
    Case(3, 5, 2, 10, 4),
    Case(2, 6, 4, 3, 1),
    Case(5, 3, 2, 4, 20, weight=0.4),
)
RNN_CACHE = ("a_next", "a_prev", "xt", "parameters")
RNN_GRADS = ("dxt", "da_prev", "dWax", "dWaa", "dba")
RNN_SEQUENCE_GRADS = ("dx", "da0", "dWax", "dWaa", "dba")


def rnn_parameters(u: Unit, case: Case) -> dict[str, np.ndarray]:
    """Wax, Waa, Wya, ba, by of the case's sizes, in the run's dtype."""
    shapes = {"Wax": (case.n_a, case.n_x), "Waa": (case.n_a, case.n_a), "ba": (case.n_a, 1)}
    scaled = {k: u.randn(*shape) * u.dtype.type(case.weight) for k, shape in shapes.items()}
    return {**scaled, "Wya": u.randn(case.n_y, case.n_a), "by": u.randn(case.n_y, 1)}


def sequence(u: Unit, case: Case) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (n_x, m, T_x), a0 (n_a, m) and an upstream da (n_a, m, T_x), in the run's dtype."""
    return u.randn(case.n_x, case.m, case.T_x), u.randn(case.n_a, case.m), u.randn(case.n_a, case.m, case.T_x)


def compare(u: Unit, output: str, value, expected: np.ndarray, scale: Tracked, slips: Slips) -> None:
    """u.close within rtol times `scale`'s largest entry; on a difference the slip that fits (its shape included),
    else the generic hint where it is not about 1/m (the course's recurrent gradients have none: a gradient divided by
    the case's m is one of the slips)."""
    try:
        u.close(output, value, expected, scale.scale())
    except Wrong as wrong:
        if wrong.detail.startswith("it is "):  # a narrower dtype than the run's: that is the hint
            raise
        named = rnn_hints.named(output, value, slips(), u.rtol * scale.scale())
        wrong.hint = named or ("" if "1/m" in wrong.hint else wrong.hint)
        raise


def gradients(u: Unit, result, keys: tuple[str, ...]) -> dict:
    """A backward function's dict, with every key the course's returns."""
    if not isinstance(result, dict):
        raise Wrong("", f"expected a dict of gradients ({', '.join(keys)}), got {_describe(result)}")
    missing = [k for k in keys if k not in result]
    if missing:
        raise Wrong(missing[0], f"the gradients have no {missing[0]} (got {', '.join(map(str, result)) or 'none'})")
    return result


def same_cache(u: Unit, name: str, cache, expected: tuple, names: tuple[str, ...], close: dict | None = None) -> None:
    """A cell's cache is the course's tuple: each entry the array the forward computed or was handed, unchanged
    (`expected`); the entries named in `close` (the LSTM's gates, name -> (its float64 value, scale)) are computed,
    within rtol of the course's."""
    order = f"the course's cache is ({', '.join(names)})"
    if not (isinstance(cache, (tuple, list)) and len(cache) == len(names)):
        raise Wrong(name, f"expected ({', '.join(names)}), got {_describe(cache)}", order)
    for index, (entry, value) in enumerate(zip(names, cache)):
        where = f"{name}[{index}] ({entry})"
        if close and entry in close:
            gate, scale = close[entry]
            try:
                u.close(where, value, gate, scale)
            except Wrong as wrong:
                wrong.hint = wrong.hint or order  # another gate in its place, most likely
                raise
            continue
        given = expected[index]
        if isinstance(given, dict):
            same_parameters(u, where, value, given, order)
        else:
            u.same(where, value, given, order)


def same_parameters(u: Unit, where: str, value, given: dict, hint: str) -> None:
    """The cache's parameters: a dict holding each array it was handed, unchanged (more keys are no fault)."""
    if not isinstance(value, dict) or not set(given) <= set(value):
        raise Wrong(where, f"expected the parameters dict, got {_describe(value)}", hint)
    for key, array in given.items():
        u.same(f"{where}[{key!r}]", value[key], array, hint)


def sequence_caches(u: Unit, caches, x: np.ndarray, cell: Callable[[int, object], None]) -> None:
    """(list of the T_x cells' caches, x): `cell(t, cache)` checks step t's."""
    names = "the course's caches are (list of the cells' caches, x)"
    if not (isinstance(caches, (tuple, list)) and len(caches) == 2):
        raise Wrong("caches", f"expected (caches, x), got {_describe(caches)}", names)
    steps, held = caches
    if not (isinstance(steps, (tuple, list)) and len(steps) == x.shape[2]):
        raise Wrong("caches[0]", f"expected a list of T_x = {x.shape[2]} caches, got {_describe(steps)}", names)
    u.same("caches[1] (x)", held, x, names)
    for t, cache in enumerate(steps):
        cell(t, cache)


def own_cache(u: Unit, forward: str, args: tuple, outputs: int):
    """The cache the module's own `forward` makes of `args` (its last output), as the course's backward reads it."""
    result = u.call(*args, function=forward)
    if not (isinstance(result, (tuple, list)) and len(result) == outputs):
        raise Wrong("", f"its cache comes from {forward}, which returned {_describe(result)}")
    return result[-1]


def _check_rnn_cell_forward(u: Unit) -> None:
    for case in CASES:
        P = rnn_parameters(u, case)
        _rnn_cell_forward_case(u, u.randn(case.n_x, case.m), u.randn(case.n_a, case.m), P)


def _rnn_cell_forward_case(u: Unit, xt: np.ndarray, a_prev: np.ndarray, P: dict) -> None:
    a_right, y_right = ref.rnn_cell_forward(xt, a_prev, P)
    a_next, yt_pred, cache = u.parts(u.call(xt, a_prev, P), ("a_next", "yt_pred", "cache"))
    a_scale, y_scale = course.rnn_cell(exact(xt), exact(a_prev), tracked(P))
    slips = partial(rnn_hints.rnn_cell_forward_slips, xt, a_prev, P)
    compare(u, "a_next", a_next, a_right, a_scale, slips)
    compare(u, "yt_pred", yt_pred, y_right, y_scale, slips)
    same_cache(u, "cache", cache, (a_next, a_prev, xt, P), RNN_CACHE)


def _check_rnn_forward(u: Unit) -> None:
    for case in CASES:
        x, a0, _ = sequence(u, case)
        _rnn_forward_case(u, x, a0, rnn_parameters(u, case))


def _rnn_forward_case(u: Unit, x: np.ndarray, a0: np.ndarray, P: dict) -> None:
    a_right, y_right = ref.rnn_forward(x, a0, P)
    a, y_pred, caches = u.parts(u.call(x, a0, P), ("a", "y_pred", "caches"))
    a_scale, y_scale, _ = course.rnn_sequence(exact(x), exact(a0), tracked(P))
    slips = partial(rnn_hints.rnn_forward_slips, x, a0, P)
    compare(u, "a", a, a_right, a_scale, slips)
    compare(u, "y_pred", y_pred, y_right, y_scale, slips)

    def cell(t: int, cache) -> None:
        a_prev = a0 if t == 0 else a[:, :, t - 1]
        same_cache(u, f"caches[0][{t}]", cache, (a[:, :, t], a_prev, x[:, :, t], P), RNN_CACHE)

    sequence_caches(u, caches, x, cell)


def _check_rnn_cell_backward(u: Unit) -> None:
    for case in CASES:
        P = rnn_parameters(u, case)
        xt, a_prev, da_next = u.randn(case.n_x, case.m), u.randn(case.n_a, case.m), u.randn(case.n_a, case.m)
        _rnn_cell_backward_case(u, xt, a_prev, P, da_next)


def _rnn_cell_backward_case(u: Unit, xt: np.ndarray, a_prev: np.ndarray, P: dict, da_next: np.ndarray) -> None:
    expected = ref.rnn_cell_backward(xt, a_prev, P, da_next)
    cache = own_cache(u, "rnn_cell_forward", (xt, a_prev, P), 3)
    grads = gradients(u, u.call(da_next, cache), RNN_GRADS)
    Pt = tracked(P)
    a_next, _ = course.rnn_cell(exact(xt), exact(a_prev), Pt)
    scales = course.rnn_cell_grads(exact(da_next), (a_next, exact(a_prev), exact(xt), Pt))
    slips = partial(rnn_hints.rnn_cell_backward_slips, xt, a_prev, P, da_next)
    for key in RNN_GRADS:
        compare(u, key, grads[key], expected[key], scales[key], slips)


def _check_rnn_backward(u: Unit) -> None:
    for case in CASES:
        x, a0, da = sequence(u, case)
        _rnn_backward_case(u, x, a0, rnn_parameters(u, case), da)


def _rnn_backward_case(u: Unit, x: np.ndarray, a0: np.ndarray, P: dict, da: np.ndarray) -> None:
    expected = ref.rnn_backward(x, a0, P, da)
    caches = own_cache(u, "rnn_forward", (x, a0, P), 3)
    grads = gradients(u, u.call(da, caches), RNN_SEQUENCE_GRADS)
    steps = course.rnn_sequence(exact(x), exact(a0), tracked(P))[2]
    scales = course.through_time(exact(da), steps, course.rnn_cell_grads)
    slips = partial(rnn_hints.rnn_backward_slips, x, a0, P, da)
    for key in RNN_SEQUENCE_GRADS:
        compare(u, key, grads[key], expected[key], scales[key], slips)


RNN_CHECKS: dict[str, Callable[[Unit], str | None]] = {  # the notebook's order
    "rnn_cell_forward": _check_rnn_cell_forward,
    "rnn_forward": _check_rnn_forward,
    "rnn_cell_backward": _check_rnn_cell_backward,
    "rnn_backward": _check_rnn_backward,
}
