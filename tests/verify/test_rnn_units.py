"""The recurrent notebook's unit checks on their own: scratch.rnn's functions, as a learner's, pass every check in
both dtypes and never raise a false alarm over a bounded sweep of shapes, weights, seeds and dtypes; each output's
tolerance is rtol times its scale and no more, a scale that holds the terms summed over the steps; the course's
computations without a slip are torch's, and every slip the hints know is caught and named as itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratch.rnn
import torch_ref.rnn as ref
from verify.checking import unit_lstm, unit_rnn
from verify.checking.unit_harness import Unit, Wrong
from verify.checking.unit_rnn import CASES, Case
from verify.judging import rnn_course as course
from verify.judging import rnn_hints
from verify.judging.tolerance import DEFAULT_RTOL
from verify.judging.tracked import exact, tracked

CHECKS = {**unit_rnn.RNN_CHECKS, **unit_lstm.LSTM_CHECKS}


class Learner:
    """What a Unit calls: a module's functions by name, with notes (the adapter's interface, without its copies)."""

    def __init__(self, module, **replaced):
        self.module, self.replaced, self.notes = module, replaced, {}

    def call(self, function: str, *args):
        return self.replaced.get(function, getattr(self.module, function))(*args)


def unit(function: str, dtype: str = "float64", seed: int = 0, **replaced) -> Unit:
    return Unit(Learner(scratch.rnn, **replaced), function, dtype, DEFAULT_RTOL[dtype], seed)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("function", CHECKS)
def test_scratch_passes_every_check_in_both_dtypes(function, dtype):
    for seed in range(3):
        CHECKS[function](unit(function, dtype, seed))


def run_case(function: str, case: Case, dtype: str, seed: int) -> None:
    """One function's check on one case, scratch's functions the learner's."""
    u = unit(function, dtype, seed)
    lstm = function.startswith("lstm")
    P = unit_lstm.lstm_parameters(u, case) if lstm else unit_rnn.rnn_parameters(u, case)
    x, a0, da = unit_rnn.sequence(u, case)
    xt, c0, dc = x[:, :, 0], u.randn(case.n_a, case.m), u.randn(case.n_a, case.m)
    calls = {
        "rnn_cell_forward": lambda: unit_rnn._rnn_cell_forward_case(u, xt, a0, P),
        "rnn_forward": lambda: unit_rnn._rnn_forward_case(u, x, a0, P),
        "rnn_cell_backward": lambda: unit_rnn._rnn_cell_backward_case(u, xt, a0, P, da[:, :, 0]),
        "rnn_backward": lambda: unit_rnn._rnn_backward_case(u, x, a0, P, da),
        "lstm_cell_forward": lambda: unit_lstm._lstm_cell_forward_case(u, xt, a0, c0, P),
        "lstm_forward": lambda: unit_lstm._lstm_forward_case(u, x, a0, P),
        "lstm_cell_backward": lambda: unit_lstm._lstm_cell_backward_case(u, (xt, a0, c0, P), da[:, :, 0], dc),
        "lstm_backward": lambda: unit_lstm._lstm_backward_case(u, x, a0, P, da),
    }
    calls[function]()


cases = st.builds(
    Case,
    n_x=st.integers(1, 5),
    n_a=st.integers(1, 5),
    n_y=st.integers(1, 4),
    m=st.integers(1, 4),
    T_x=st.integers(1, 12),
    weight=st.sampled_from([0.3, 1.0, 2.0]),  # 2: saturated tanh and gates
)


@settings(max_examples=40, deadline=None)
@given(case=cases, seed=st.integers(0, 2**16), dtype=st.sampled_from(["float64", "float32"]))
def test_no_false_alarm_on_scratch_over_a_sweep(case, seed, dtype):
    for function in CHECKS:
        run_case(function, case, dtype, seed)


def test_the_recomputations_without_a_slip_are_torchs():
    u = unit("rnn_forward")
    for case in CASES:
        x, a0, da = unit_rnn.sequence(u, case)
        P, L = unit_rnn.rnn_parameters(u, case), unit_lstm.lstm_parameters(u, case)
        a, y, caches = course.rnn_sequence(exact(x), exact(a0), tracked(P))
        for mine, theirs in zip((a.v, y.v), ref.rnn_forward(x, a0, P)):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
        grads = course.through_time(exact(da), caches, course.rnn_cell_grads)
        for key, theirs in ref.rnn_backward(x, a0, P, da).items():
            np.testing.assert_allclose(grads[key].v, theirs, rtol=0, atol=1e-12)
        a, y, c, caches = course.lstm_sequence(exact(x), exact(a0), tracked(L))
        for mine, theirs in zip((a.v, y.v, c.v), ref.lstm_forward(x, a0, L)):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-12)
        grads = course.through_time(exact(da), caches, course.lstm_cell_grads, dc=True)
        for key, theirs in ref.lstm_backward(x, a0, L, da).items():
            np.testing.assert_allclose(grads[key].v, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_each_tolerance_is_rtol_times_its_scale_and_the_scale_holds_the_terms_summed_over_the_steps(dtype):
    """rnn_backward's dWaa on the course's shapes: its scale is at least the terms summed over the steps and the
    examples, and within a small multiple of them (the rounding the forward carried into 1 - a_next^2 included);
    moving its largest entry by 2 times rtol x scale is caught, by half of it is not."""
    u = unit("rnn_backward", dtype)
    case = CASES[1]  # the course's: n_x 3, n_a 5, n_y 2, m 10, T_x 4
    x, a0, da = unit_rnn.sequence(u, case)
    P = unit_rnn.rnn_parameters(u, case)
    caches = course.rnn_sequence(exact(x), exact(a0), tracked(P))[2]
    scale = course.through_time(exact(da), caches, course.rnn_cell_grads)["dWaa"].scale()
    terms, carried = np.zeros((case.n_a, case.n_a)), np.zeros((case.n_a, case.m))
    for t in reversed(range(case.T_x)):  # dWaa = sum over t of dtanh_t a_prev_t^T: its terms' sizes
        a_next, a_prev = caches[t][0].v, caches[t][1].v
        dtanh = (1 - a_next**2) * (da[:, :, t] + carried)
        carried = P["Waa"].T @ dtanh
        terms += np.abs(dtanh) @ np.abs(a_prev).T
    assert terms.max() < scale < 300 * terms.max()
    allowed = u.rtol * scale
    for by, caught in ((2.0, True), (-2.0, True), (0.5, False)):

        def off(da, caches, by=by):
            grads = scratch.rnn.rnn_backward(da, caches)
            grads["dWaa"].flat[np.argmax(np.abs(grads["dWaa"]))] += by * allowed
            return grads

        check = unit("rnn_backward", dtype, rnn_backward=off)
        if caught:
            with pytest.raises(Wrong, match="1 of 25 entries differ"):
                unit_rnn._rnn_backward_case(check, x, a0, P, da)
        else:
            unit_rnn._rnn_backward_case(check, x, a0, P, da)


def test_a_long_sequence_holds_each_output_to_more_than_a_short_one():
    """The scale grows with the steps summed: dWaa of T_x = 20 steps against the same data cut to its last step."""
    u = unit("rnn_backward")
    case = CASES[3]
    x, a0, da = unit_rnn.sequence(u, case)
    P = unit_rnn.rnn_parameters(u, case)

    def scale(T_x: int) -> float:
        caches = course.rnn_sequence(exact(x[:, :, :T_x]), exact(a0), tracked(P))[2]
        return course.through_time(exact(da[:, :, :T_x]), caches, course.rnn_cell_grads)["dWaa"].scale()

    assert scale(20) > 5 * scale(1)


# every slip the hints know, committed by the course's own computation with it: caught, and named as itself
def _cell_forward(slip):
    def learner(xt, a_prev, P):
        a, y = course.rnn_cell(exact(xt), exact(a_prev), tracked(P), slip)
        return a.v, y.v, (a.v, a_prev, xt, P)

    return learner


def _forward(slip):
    def learner(x, a0, P):
        a, y, caches = course.rnn_sequence(exact(x), exact(a0), tracked(P), slip)
        return a.v, y.v, ([(*(v.v for v in cache[:3]), P) for cache in caches], x)

    return learner


def _lstm_cell_forward(slip):
    def learner(xt, a_prev, c_prev, P):
        a, c, y, cache = course.lstm_cell(exact(xt), exact(a_prev), exact(c_prev), tracked(P), slip)
        return a.v, c.v, y.v, (*(v.v for v in cache), P)

    return learner


def _lstm_forward(slip):
    def learner(x, a0, P):
        a, y, c, caches = course.lstm_sequence(exact(x), exact(a0), tracked(P), slip)
        return a.v, y.v, c.v, ([(*(v.v for v in cache[:9]), P) for cache in caches], x)

    return learner


def _held(cache) -> tuple:
    *arrays, P = cache
    return (*(exact(a) for a in arrays), tracked(P))


def _cell_backward(slip):
    return lambda da_next, cache: course.values(course.rnn_cell_grads(exact(da_next), _held(cache), slip))


def _lstm_cell_backward(slip):
    def learner(da_next, dc_next, cache):
        return course.values(course.lstm_cell_grads(exact(da_next), exact(dc_next), _held(cache), slip))

    return learner


def _backward(slip, lstm=False):
    def learner(da, caches):
        cell = course.lstm_cell_grads if lstm else course.rnn_cell_grads
        steps = [_held(cache) for cache in caches[0]]
        return course.values(course.through_time(exact(da), steps, cell, slip, dc=lstm))

    return learner


SLIPS = {  # function: (its slips' hints, a learner committing one)
    "rnn_cell_forward": (rnn_hints.RNN_CELL, _cell_forward),
    "rnn_forward": ({**rnn_hints.RNN_CELL, "not carried": rnn_hints.CARRIED}, _forward),
    "lstm_cell_forward": (rnn_hints.LSTM_CELL, _lstm_cell_forward),
    "lstm_forward": ({**rnn_hints.LSTM_CELL, "not carried": rnn_hints.STATES}, _lstm_forward),
    "rnn_cell_backward": (rnn_hints.RNN_CELL_BACK, _cell_backward),
    "rnn_backward": ({**rnn_hints.RNN_CELL_BACK, **rnn_hints.THROUGH_TIME}, _backward),
    "lstm_cell_backward": (rnn_hints.LSTM_CELL_BACK, _lstm_cell_backward),
    "lstm_backward": (
        {**rnn_hints.LSTM_CELL_BACK, **rnn_hints.LSTM_THROUGH_TIME},
        lambda slip: _backward(slip, lstm=True),
    ),
}


# Through time, dc_prev from dc_next alone (dc_next * ft) starts from the last step's dc_next of 0 and stays 0: it is
# the through-time slip "dc_prev not carried", by which lstm_backward names it (lstm_cell_backward names it itself).
SAME_THROUGH_TIME = {("lstm_backward", "no da path p")}


@pytest.mark.parametrize(
    "function, slip",
    [
        (function, slip)
        for function, (hints, _) in SLIPS.items()
        for slip in hints
        if (function, slip) not in SAME_THROUGH_TIME
    ],
)
def test_every_slip_is_caught_and_named_as_itself(function, slip):
    hints, learner = SLIPS[function]
    with pytest.raises(Wrong) as wrong:
        CHECKS[function](unit(function, **{function: learner(slip)}))
    assert wrong.value.hint == hints[slip], (wrong.value.output, wrong.value.detail)


def _gates_in_another_order(xt, a_prev, c_prev, P):
    a, c, y, cache = scratch.rnn.lstm_cell_forward(xt, a_prev, c_prev, P)
    a_next, c_next, a_p, c_p, ft, it, cct, ot, x, params = cache
    return a, c, y, (a_next, c_next, a_p, c_p, it, ft, cct, ot, x, params)


def _caches_without_x(x, a0, P):
    a, y, (caches, _) = scratch.rnn.rnn_forward(x, a0, P)
    return a, y, caches


@pytest.mark.parametrize(
    "function, learner, output, detail",
    [
        ("lstm_cell_forward", _gates_in_another_order, "cache[4] (ft)", "entries differ"),
        ("rnn_forward", _caches_without_x, "caches", "expected (caches, x), got a list"),
    ],
)
def test_a_cache_not_the_courses_fails(function, learner, output, detail):
    with pytest.raises(Wrong) as wrong:
        CHECKS[function](unit(function, **{function: learner}))
    assert wrong.value.output == output and detail in wrong.value.detail
    assert wrong.value.hint.startswith("the course's cache")


def _lstm_forward_into_x_dtype(x, a0, P):
    """The course's lstm_forward with a, y and c allocated as x's dtype (as a float32 run advises) and its memory
    cell started at the course's np.zeros(a_next.shape): float64, so each cell computes in float64 and its cache
    holds float64 a_next and c_next, while a[:, :, t] and c[:, :, t] hold their float32 rounding."""
    n_a, m, T_x = a0.shape[0], x.shape[1], x.shape[2]
    a, c = np.zeros((n_a, m, T_x), dtype=x.dtype), np.zeros((n_a, m, T_x), dtype=x.dtype)
    y = np.zeros((P["Wy"].shape[0], m, T_x), dtype=x.dtype)
    a_next, c_next, caches = a0, np.zeros(a0.shape), []
    for t in range(T_x):
        a_next, c_next, yt, cache = scratch.rnn.lstm_cell_forward(x[:, :, t], a_next, c_next, P)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def test_a_cache_held_in_float64_beside_float32_outputs_passes():
    """a[:, :, t] holds the float32 rounding of the cached float64 a_next: the same value (was: 'caches[0][0][0]
    (a_next) differs'); a cache holding another value still fails."""
    for seed in range(3):
        CHECKS["lstm_forward"](unit("lstm_forward", "float32", seed, lstm_forward=_lstm_forward_into_x_dtype))

    def nudged(x, a0, P):
        a, y, c, (caches, x) = _lstm_forward_into_x_dtype(x, a0, P)
        caches[1] = (caches[1][0] * (1 + 1e-6), *caches[1][1:])
        return a, y, c, (caches, x)

    with pytest.raises(Wrong) as wrong:
        CHECKS["lstm_forward"](unit("lstm_forward", "float32", lstm_forward=nudged))
    assert wrong.value.output == "caches[0][1][0] (a_next)"


def test_in_float32_scratchs_rounding_uses_a_measurable_share_of_each_functions_tolerance(monkeypatch):
    """The tolerance is tight: over the checks' cases, the largest gap between scratch's float32 outputs and torch's
    is at least 1/1000 of its allowance for every function (1/140 to 1/25 measured): the allowance sits within a
    few hundred times the rounding it allows for, not far above it."""
    used: dict[str, float] = {}
    close = Unit.close

    def measured(u, output, value, expected, scale, Z=None):
        if np.shape(value) == np.shape(expected) and scale:
            gap = float(np.max(np.abs(np.asarray(value, dtype=np.float64) - expected)))
            used[u.function] = max(used.get(u.function, 0.0), gap / (u.rtol * scale))
        return close(u, output, value, expected, scale, Z)

    monkeypatch.setattr(Unit, "close", measured)
    for function, check in CHECKS.items():
        for seed in range(3):
            check(unit(function, "float32", seed))
    assert set(used) == set(CHECKS) and all(1e-3 < share < 1 for share in used.values()), used


def _over_m(function: str):
    """scratch's `function` with every weight gradient (dW..., db...) divided by the m examples it sums over."""

    def learner(*args):
        grads = dict(getattr(scratch.rnn, function)(*args))
        m = args[0].shape[1]  # da_next (n_a, m), or da (n_a, m, T_x)
        return {k: v / m if k.startswith(("dW", "db")) else v for k, v in grads.items()}

    return learner


@pytest.mark.parametrize("function", ["rnn_cell_backward", "rnn_backward", "lstm_cell_backward", "lstm_backward"])
def test_a_weight_gradient_divided_by_m_is_named_not_as_a_factor_of_the_cases_m(function):
    with pytest.raises(Wrong) as wrong:
        CHECKS[function](unit(function, **{function: _over_m(function)}))
    output = wrong.value.output
    assert output.startswith(("dW", "db"))  # was: "it is 1/2 of the expected value: a lost or extra factor 2"
    assert wrong.value.hint == f"divided by m: the course's {function} has no 1/m; {output} sums over the examples"


def _c_next_the_other_way(xt, a_prev, c_prev, P):
    """The course's gates, combined as c_next = ft * cct + it * c_prev: the numbers of a forget/update swap."""
    *_, (_, _, a_p, c_p, ft, it, cct, ot, x, params) = scratch.rnn.lstm_cell_forward(xt, a_prev, c_prev, P)
    c_next = ft * cct + it * c_prev
    a_next = ot * np.tanh(c_next)
    y = scratch.rnn.softmax(P["Wy"] @ a_next + P["by"])
    return a_next, c_next, y, (a_next, c_next, a_p, c_p, ft, it, cct, ot, x, params)


def test_gates_combined_the_other_way_are_told_from_gates_swapped_by_the_cache():
    with pytest.raises(Wrong) as wrong:
        CHECKS["lstm_cell_forward"](unit("lstm_cell_forward", lstm_cell_forward=_c_next_the_other_way))
    assert wrong.value.hint == rnn_hints.COMBINED  # was: "the forget and update gates are swapped"
    with pytest.raises(Wrong) as wrong:  # the gates themselves swapped: the cache shows it
        CHECKS["lstm_cell_forward"](
            unit("lstm_cell_forward", lstm_cell_forward=SLIPS["lstm_cell_forward"][1]("swap fi"))
        )
    assert wrong.value.hint == rnn_hints.GATE_SWAPS["swap fi"]
