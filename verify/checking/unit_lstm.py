"""The function-by-function checks of the recurrent notebook's LSTM (impl/rnnstep.py): lstm_cell_forward,
lstm_forward, lstm_cell_backward and lstm_backward, on unit_rnn.py's shapes and comparisons, against torch_ref.rnn's
nn.LSTMCell and autograd (random upstream gradients da, and dc for the cell).

The cache holds the gates ft, it, cct, ot, which torch does not show: they are held to the course's formulas,
computed in float64, within rtol times their own scale; every other entry is an array the forward computed or was
handed, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

import torch_ref.rnn as ref

from ..judging import rnn_course as course
from ..judging import rnn_hints
from ..judging.hint_fits import matches
from ..judging.tracked import exact, tracked
from .unit_harness import Unit, Wrong
from .unit_rnn import CASES, Case, compare, gradients, own_cache, same_cache, sequence, sequence_caches

LSTM_CACHE = ("a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt", "parameters")
GATES = ("ft", "it", "cct", "ot")  # the cache's computed entries, at LSTM_CACHE[4:8]
WEIGHTS = tuple(f"{p}{g}" for g in course.GATES for p in ("dW", "db"))  # dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo
LSTM_GRADS = ("dxt", "da_prev", "dc_prev", *WEIGHTS)
LSTM_SEQUENCE_GRADS = ("dx", "da0", *WEIGHTS)


def lstm_parameters(u: Unit, case: Case) -> dict[str, np.ndarray]:
    """Wf, bf, Wi, bi, Wc, bc, Wo, bo (the gates' (n_a, n_a + n_x), (n_a, 1)), Wy, by, in the run's dtype."""
    weight = u.dtype.type(case.weight)
    P = {}
    for g in course.GATES:
        P[f"W{g}"], P[f"b{g}"] = u.randn(case.n_a, case.n_a + case.n_x) * weight, u.randn(case.n_a, 1) * weight
    return {**P, "Wy": u.randn(case.n_y, case.n_a), "by": u.randn(case.n_y, 1)}


def gates(computed: tuple) -> dict:
    """The course's gates of a computed cache (ft, it, cct, ot at 4..7): name -> (float64 value, scale)."""
    return {name: (value.v, value.scale()) for name, value in zip(GATES, computed[4:8])}


def _course_gates(cache, computed: tuple) -> bool:
    """Whether a cell's cache holds the course's ft, it, cct and ot (at 4..7), each to rounding."""
    held = cache[4:8] if isinstance(cache, (tuple, list)) and len(cache) == len(LSTM_CACHE) else ()
    return len(held) == 4 and all(matches(value, right) for value, (right, _) in zip(held, gates(computed).values()))


def _check_lstm_cell_forward(u: Unit) -> None:
    for case in CASES:
        P = lstm_parameters(u, case)
        xt, a_prev, c_prev = u.randn(case.n_x, case.m), u.randn(case.n_a, case.m), u.randn(case.n_a, case.m)
        _lstm_cell_forward_case(u, xt, a_prev, c_prev, P)


def _lstm_cell_forward_case(u: Unit, xt: np.ndarray, a_prev: np.ndarray, c_prev: np.ndarray, P: dict) -> None:
    a_right, c_right, y_right = ref.lstm_cell_forward(xt, a_prev, c_prev, P)
    names = ("a_next", "c_next", "yt_pred", "cache")
    a_next, c_next, yt_pred, cache = u.parts(u.call(xt, a_prev, c_prev, P), names)
    *scales, computed = course.lstm_cell(exact(xt), exact(a_prev), exact(c_prev), tracked(P))
    slips = partial(rnn_hints.lstm_cell_forward_slips, xt, a_prev, c_prev, P)
    for name, value, right, scale in zip(names, (a_next, c_next, yt_pred), (a_right, c_right, y_right), scales):
        try:
            compare(u, name, value, right, scale, slips)
        except Wrong as wrong:
            if wrong.hint in rnn_hints.GATE_SWAPS.values() and _course_gates(cache, computed):
                wrong.hint = rnn_hints.COMBINED  # the same numbers as a swap, but its gates are right: the formula
            raise
    handed = (a_next, c_next, a_prev, c_prev, *[None] * 4, xt, P)
    same_cache(u, "cache", cache, handed, LSTM_CACHE, gates(computed))


def _check_lstm_forward(u: Unit) -> None:
    for case in CASES:
        x, a0, _ = sequence(u, case)
        _lstm_forward_case(u, x, a0, lstm_parameters(u, case))


def _lstm_forward_case(u: Unit, x: np.ndarray, a0: np.ndarray, P: dict) -> None:
    rights = ref.lstm_forward(x, a0, P)
    a, y, c, caches = u.parts(u.call(x, a0, P), ("a", "y", "c", "caches"))
    *scales, steps = course.lstm_sequence(exact(x), exact(a0), tracked(P))
    slips = partial(rnn_hints.lstm_forward_slips, x, a0, P)
    for name, value, right, scale in zip(("a", "y", "c"), (a, y, c), rights, scales):
        compare(u, name, value, right, scale, slips)

    def cell(t: int, cache) -> None:
        a_prev, c_prev = (a0, np.zeros_like(a0)) if t == 0 else (a[:, :, t - 1], c[:, :, t - 1])
        handed = (a[:, :, t], c[:, :, t], a_prev, c_prev, *[None] * 4, x[:, :, t], P)
        same_cache(u, f"caches[0][{t}]", cache, handed, LSTM_CACHE, gates(steps[t]))

    sequence_caches(u, caches, x, cell)


def _check_lstm_cell_backward(u: Unit) -> None:
    for case in CASES:
        P = lstm_parameters(u, case)
        xt, a_prev, c_prev = u.randn(case.n_x, case.m), u.randn(case.n_a, case.m), u.randn(case.n_a, case.m)
        da_next, dc_next = u.randn(case.n_a, case.m), u.randn(case.n_a, case.m)
        _lstm_cell_backward_case(u, (xt, a_prev, c_prev, P), da_next, dc_next)


def _lstm_cell_backward_case(u: Unit, inputs: tuple, da_next: np.ndarray, dc_next: np.ndarray) -> None:
    """inputs: the forward's (xt, a_prev, c_prev, parameters)."""
    xt, a_prev, c_prev, P = inputs
    expected = ref.lstm_cell_backward(xt, a_prev, c_prev, P, da_next, dc_next)
    cache = own_cache(u, "lstm_cell_forward", inputs, 4)
    grads = gradients(u, u.call(da_next, dc_next, cache), LSTM_GRADS)
    Pt = tracked(P)
    *_, computed = course.lstm_cell(exact(xt), exact(a_prev), exact(c_prev), Pt)
    scales = course.lstm_cell_grads(exact(da_next), exact(dc_next), (*computed, Pt))
    slips = partial(rnn_hints.lstm_cell_backward_slips, xt, a_prev, c_prev, P, da_next, dc_next)
    for key in LSTM_GRADS:
        compare(u, key, grads[key], expected[key], scales[key], slips)


def _check_lstm_backward(u: Unit) -> None:
    for case in CASES:
        x, a0, da = sequence(u, case)
        _lstm_backward_case(u, x, a0, lstm_parameters(u, case), da)


def _lstm_backward_case(u: Unit, x: np.ndarray, a0: np.ndarray, P: dict, da: np.ndarray) -> None:
    expected = ref.lstm_backward(x, a0, P, da)
    caches = own_cache(u, "lstm_forward", (x, a0, P), 4)
    grads = gradients(u, u.call(da, caches), LSTM_SEQUENCE_GRADS)
    steps = course.lstm_sequence(exact(x), exact(a0), tracked(P))[3]
    scales = course.through_time(exact(da), steps, course.lstm_cell_grads, dc=True)
    slips = partial(rnn_hints.lstm_backward_slips, x, a0, P, da)
    for key in LSTM_SEQUENCE_GRADS:
        compare(u, key, grads[key], expected[key], scales[key], slips)


LSTM_CHECKS: dict[str, Callable[[Unit], str | None]] = {  # the notebook's order
    "lstm_cell_forward": _check_lstm_cell_forward,
    "lstm_forward": _check_lstm_forward,
    "lstm_cell_backward": _check_lstm_cell_backward,
    "lstm_backward": _check_lstm_backward,
}
