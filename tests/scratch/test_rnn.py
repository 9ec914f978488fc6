"""The recurrent steps against the course's formulas written out one entry at a time, centred finite differences
through time, and planted slips (a dropped carry, the LSTM's missing da_next path) that the checks must catch."""

import math

import numpy as np
import pytest

from scratch import (
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    rnn_backward,
    rnn_cell_backward,
    rnn_cell_forward,
    rnn_forward,
)

N_X, N_A, N_Y, M = 3, 5, 2, 4  # all different from each other and from every T_x used: a swapped axis cannot fit
GATES = ("f", "i", "c", "o")
RNN_CELL_KEYS = ["dxt", "da_prev", "dWax", "dWaa", "dba"]
RNN_KEYS = ["dx", "da0", "dWax", "dWaa", "dba"]
LSTM_PARAMETER_KEYS = ["dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo"]
LSTM_CELL_KEYS = ["dxt", "da_prev", "dc_prev", *LSTM_PARAMETER_KEYS]
LSTM_KEYS = ["dx", "da0", *LSTM_PARAMETER_KEYS]


def rnn_parameters(rng, scale=1.0, dtype=np.float64):
    shapes = {"Wax": (N_A, N_X), "Waa": (N_A, N_A), "Wya": (N_Y, N_A), "ba": (N_A, 1), "by": (N_Y, 1)}
    return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def lstm_parameters(rng, scale=1.0, dtype=np.float64):
    shapes = {"W" + g: (N_A, N_A + N_X) for g in GATES} | {"b" + g: (N_A, 1) for g in GATES}
    shapes |= {"Wy": (N_Y, N_A), "by": (N_Y, 1)}
    return {k: (scale * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def normal(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


# The course's formulas for one step, one example and one unit at a time, in plain Python floats.


def dot(W, i, column):
    return sum(W[i, k] * column[k] for k in range(W.shape[1]))


def direct_softmax(z):
    e = [math.exp(v - max(z)) for v in z]
    return [v / sum(e) for v in e]


def sigma(z):
    return 1 / (1 + math.exp(-z))


def direct_rnn_step(xt, a_prev, p):
    """a_next[i, j] = tanh(sum_k Waa[i, k] a_prev[k, j] + sum_k Wax[i, k] xt[k, j] + ba[i]), then the softmax."""
    a_next, y = np.zeros((N_A, xt.shape[1])), np.zeros((N_Y, xt.shape[1]))
    for j in range(xt.shape[1]):
        a_next[:, j] = [
            math.tanh(dot(p["Waa"], i, a_prev[:, j]) + dot(p["Wax"], i, xt[:, j]) + p["ba"][i, 0]) for i in range(N_A)
        ]
        y[:, j] = direct_softmax([dot(p["Wya"], i, a_next[:, j]) + p["by"][i, 0] for i in range(N_Y)])
    return a_next, y


def direct_lstm_step(xt, a_prev, c_prev, p):
    """The gates, c_next = ft c_prev + it cct, a_next = ot tanh(c_next) and the softmax, entry by entry."""
    out = {k: np.zeros((N_A, xt.shape[1])) for k in ("a", "c", "f", "i", "cc", "o")}
    out["y"] = np.zeros((N_Y, xt.shape[1]))
    for j in range(xt.shape[1]):
        concat = [*a_prev[:, j], *xt[:, j]]  # a_prev on top
        for i in range(N_A):
            f, i_, o = (sigma(dot(p["W" + g], i, concat) + p["b" + g][i, 0]) for g in "fio")
            cc = math.tanh(dot(p["Wc"], i, concat) + p["bc"][i, 0])
            c = f * c_prev[i, j] + i_ * cc
            for key, value in zip(("f", "i", "cc", "o", "c", "a"), (f, i_, cc, o, c, o * math.tanh(c))):
                out[key][i, j] = value
        out["y"][:, j] = direct_softmax([dot(p["Wy"], k, out["a"][:, j]) + p["by"][k, 0] for k in range(N_Y)])
    return out


EXACT = {"rtol": 1e-12, "atol": 1e-15}  # the same float64 sums in another order: a few ulps apart


def test_rnn_forward_is_the_formula_step_by_step():
    rng = np.random.default_rng(1)
    p, x, a0 = rnn_parameters(rng), normal(rng, N_X, M, 3), normal(rng, N_A, M)
    a, y_pred, _ = rnn_forward(x, a0, p)
    a_prev = a0
    for t in range(3):
        a_next, yt_pred, _ = rnn_cell_forward(x[:, :, t], a_prev, p)
        want_a, want_y = direct_rnn_step(x[:, :, t], a_prev, p)
        for got in (a_next, a[:, :, t]):
            np.testing.assert_allclose(got, want_a, **EXACT)
        for got in (yt_pred, y_pred[:, :, t]):
            np.testing.assert_allclose(got, want_y, **EXACT)
        a_prev = want_a


def test_lstm_forward_is_the_formula_step_by_step():
    rng = np.random.default_rng(2)
    p, x, a0 = lstm_parameters(rng), normal(rng, N_X, M, 3), normal(rng, N_A, M)
    a, y, c, _ = lstm_forward(x, a0, p)
    a_prev, c_prev = a0, np.zeros((N_A, M))  # the course starts c at zeros
    for t in range(3):
        a_next, c_next, yt_pred, cache = lstm_cell_forward(x[:, :, t], a_prev, c_prev, p)
        want = direct_lstm_step(x[:, :, t], a_prev, c_prev, p)
        for got, key in zip(cache[4:8], ("f", "i", "cc", "o")):  # the gates, in the cache's order ft, it, cct, ot
            np.testing.assert_allclose(got, want[key], **EXACT)
        for got, key in ((a_next, "a"), (a[:, :, t], "a"), (c_next, "c"), (c[:, :, t], "c")):
            np.testing.assert_allclose(got, want[key], **EXACT)
        for got in (yt_pred, y[:, :, t]):
            np.testing.assert_allclose(got, want["y"], **EXACT)
        a_prev, c_prev = want["a"], want["c"]


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_softmax_is_over_the_units_and_never_overflows(cell):
    # by = (1000, 999) with zero output weights: e^1000 overflows, so an unshifted softmax gives nan.
    rng = np.random.default_rng(3)
    xt, a_prev = normal(rng, N_X, M), normal(rng, N_A, M)
    if cell == "rnn":
        p = rnn_parameters(rng) | {"Wya": np.zeros((N_Y, N_A)), "by": np.array([[1000.0], [999.0]])}
        _, yt_pred, _ = rnn_cell_forward(xt, a_prev, p)
    else:
        p = lstm_parameters(rng) | {"Wy": np.zeros((N_Y, N_A)), "by": np.array([[1000.0], [999.0]])}
        _, _, yt_pred, _ = lstm_cell_forward(xt, a_prev, normal(rng, N_A, M), p)
    first = 1 / (1 + math.exp(-1))  # e^1000 / (e^1000 + e^999), for every example
    np.testing.assert_allclose(yt_pred, np.tile([[first], [1 - first]], (1, M)), **EXACT)


def test_rnn_shapes_and_caches_are_the_courses():
    rng = np.random.default_rng(4)
    T_x = 3
    p, x, a0 = rnn_parameters(rng), normal(rng, N_X, M, T_x), normal(rng, N_A, M)
    a, y_pred, caches = rnn_forward(x, a0, p)
    assert a.shape == (N_A, M, T_x) and y_pred.shape == (N_Y, M, T_x)
    cell_caches, cached_x = caches
    assert cached_x is x and len(cell_caches) == T_x
    for t, (a_next, a_prev, xt, parameters) in enumerate(cell_caches):
        assert parameters is p
        np.testing.assert_array_equal(a_next, a[:, :, t])
        np.testing.assert_array_equal(a_prev, a0 if t == 0 else a[:, :, t - 1])
        np.testing.assert_array_equal(xt, x[:, :, t])
    xt, a_prev = x[:, :, 0], a0
    a_next, _, cache = rnn_cell_forward(xt, a_prev, p)
    assert cache[0] is a_next and cache[1] is a_prev and cache[2] is xt and cache[3] is p
    step = rnn_cell_backward(normal(rng, N_A, M), cache)
    assert list(step) == RNN_CELL_KEYS
    assert [step[k].shape for k in RNN_CELL_KEYS] == [(N_X, M), (N_A, M), (N_A, N_X), (N_A, N_A), (N_A, 1)]
    grads = rnn_backward(normal(rng, N_A, M, T_x), caches)
    assert list(grads) == RNN_KEYS
    assert [grads[k].shape for k in RNN_KEYS] == [(N_X, M, T_x), (N_A, M), (N_A, N_X), (N_A, N_A), (N_A, 1)]


def test_lstm_shapes_and_caches_are_the_courses():
    rng = np.random.default_rng(5)
    T_x = 3
    p, x, a0 = lstm_parameters(rng), normal(rng, N_X, M, T_x), normal(rng, N_A, M)
    a, y, c, caches = lstm_forward(x, a0, p)
    assert a.shape == c.shape == (N_A, M, T_x) and y.shape == (N_Y, M, T_x)
    cell_caches, cached_x = caches
    assert cached_x is x and len(cell_caches) == T_x
    for t, cache in enumerate(cell_caches):
        a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
        assert parameters is p and ft.shape == it.shape == cct.shape == ot.shape == (N_A, M)
        for got, want in ((a_next, a[:, :, t]), (c_next, c[:, :, t]), (xt, x[:, :, t])):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(a_prev, a0 if t == 0 else a[:, :, t - 1])
        np.testing.assert_array_equal(c_prev, np.zeros((N_A, M)) if t == 0 else c[:, :, t - 1])
    xt, a_prev, c_prev = x[:, :, 0], a0, normal(rng, N_A, M)
    a_next, c_next, _, cache = lstm_cell_forward(xt, a_prev, c_prev, p)
    assert len(cache) == 10 and cache[0] is a_next and cache[1] is c_next
    assert cache[2] is a_prev and cache[3] is c_prev and cache[8] is xt and cache[9] is p
    step = lstm_cell_backward(normal(rng, N_A, M), normal(rng, N_A, M), cache)
    assert list(step) == LSTM_CELL_KEYS
    assert [step[k].shape for k in LSTM_CELL_KEYS[:3]] == [(N_X, M), (N_A, M), (N_A, M)]
    grads = lstm_backward(normal(rng, N_A, M, T_x), caches)
    assert list(grads) == LSTM_KEYS
    assert grads["dx"].shape == (N_X, M, T_x) and grads["da0"].shape == (N_A, M)
    for k in LSTM_PARAMETER_KEYS:
        assert step[k].shape == grads[k].shape == p[k[1:]].shape


def test_float32_stays_float32_end_to_end():
    """Every output, cache entry and gradient of a float32 run is float32, and agrees with the float64 run of the
    same (float32) numbers to float32's precision: the float32 path computes the same thing, not just the dtype."""
    rng = np.random.default_rng(6)
    T_x = 3
    for params, forward, backward in (
        (rnn_parameters, rnn_forward, rnn_backward),
        (lstm_parameters, lstm_forward, lstm_backward),
    ):
        p32, x32 = params(rng, dtype=np.float32), normal(rng, N_X, M, T_x, dtype=np.float32)
        a0_32, da32 = normal(rng, N_A, M, dtype=np.float32), normal(rng, N_A, M, T_x, dtype=np.float32)
        *outputs32, caches32 = forward(x32, a0_32, p32)
        grads32 = backward(da32, caches32)
        arrays = [*outputs32, *grads32.values(), *(v for cache in caches32[0] for v in cache[:-1])]
        assert {v.dtype for v in arrays} == {np.dtype(np.float32)}
        p64 = {k: v.astype(np.float64) for k, v in p32.items()}
        *outputs64, caches64 = forward(x32.astype(np.float64), a0_32.astype(np.float64), p64)
        grads64 = backward(da32.astype(np.float64), caches64)
        for got, want in zip([*outputs32, *grads32.values()], [*outputs64, *grads64.values()]):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


# Centred finite differences, float64. J is a smooth scalar of every input; (J(v + h) - J(v - h)) / 2h is off
# from dJ/dv by h^2 J''' / 6 (about 1e-12 here) plus J's rounding eps |J| / h (about 1e-9). The rule, for every
# gradient key: max |analytic - numerical| <= FD_RTOL max |numerical|. A missing term (a dropped carry, a path left
# out) moves the gradient by a share of its size far above that.
H, FD_RTOL = 1e-6, 1e-7


def central_differences(objective, v):
    grad = np.zeros_like(v)
    for index in np.ndindex(v.shape):
        saved = v[index]
        v[index] = saved + H
        plus = objective()
        v[index] = saved - H
        minus = objective()
        v[index] = saved
        grad[index] = (plus - minus) / (2 * H)
    return grad


def worst_relative_errors(grads, objective, inputs):
    """{key: max |grads[key] - numerical| / max |numerical|} for each input v (read in place by `objective`)
    and its key "d" + name; the keys of `grads` must be exactly those. A gradient that is exactly 0 (J does not
    depend on v: the LSTM's dWf at T_x = 1, where c<0> = 0) must be met by an exact 0."""
    assert set(grads) == {"d" + name for name in inputs}, "every gradient key is checked"
    errors = {}
    for name, v in inputs.items():
        numerical = central_differences(objective, v)
        worst, scale = np.max(np.abs(grads["d" + name] - numerical)), np.max(np.abs(numerical))
        errors["d" + name] = worst / scale if scale > 0 else (0.0 if worst == 0 else np.inf)
    return errors


def assert_matches_finite_differences(grads, objective, inputs, rtol=FD_RTOL):
    errors = worst_relative_errors(grads, objective, inputs)
    assert max(errors.values()) <= rtol, {k: f"{e:.1e}" for k, e in errors.items() if e > rtol}


def rnn_case(T_x, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    p, x, a0, da = rnn_parameters(rng, scale), normal(rng, N_X, M, T_x), normal(rng, N_A, M), normal(rng, N_A, M, T_x)

    def objective():
        return np.sum(da * rnn_forward(x, a0, p)[0])

    return da, rnn_forward(x, a0, p)[2], objective, {"x": x, "a0": a0, **{k: p[k] for k in ("Wax", "Waa", "ba")}}


def lstm_case(T_x, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    p, x, a0, da = lstm_parameters(rng, scale), normal(rng, N_X, M, T_x), normal(rng, N_A, M), normal(rng, N_A, M, T_x)

    def objective():
        return np.sum(da * lstm_forward(x, a0, p)[0])

    inputs = {"x": x, "a0": a0} | {k[1:]: p[k[1:]] for k in LSTM_PARAMETER_KEYS}
    return da, lstm_forward(x, a0, p)[3], objective, inputs


def test_rnn_cell_backward_matches_finite_differences():
    rng = np.random.default_rng(7)
    p, xt, a_prev, da_next = rnn_parameters(rng), normal(rng, N_X, M), normal(rng, N_A, M), normal(rng, N_A, M)

    def objective():  # J = sum(da_next * a_next)
        return np.sum(da_next * rnn_cell_forward(xt, a_prev, p)[0])

    grads = rnn_cell_backward(da_next, rnn_cell_forward(xt, a_prev, p)[2])
    inputs = {"xt": xt, "a_prev": a_prev, "Wax": p["Wax"], "Waa": p["Waa"], "ba": p["ba"]}
    assert_matches_finite_differences(grads, objective, inputs)


def test_lstm_cell_backward_matches_finite_differences():
    rng = np.random.default_rng(8)
    p, xt = lstm_parameters(rng), normal(rng, N_X, M)
    a_prev, c_prev, da_next, dc_next = (normal(rng, N_A, M) for _ in range(4))

    def objective():  # J = sum(da_next * a_next) + sum(dc_next * c_next)
        a_next, c_next, _, _ = lstm_cell_forward(xt, a_prev, c_prev, p)
        return np.sum(da_next * a_next) + np.sum(dc_next * c_next)

    grads = lstm_cell_backward(da_next, dc_next, lstm_cell_forward(xt, a_prev, c_prev, p)[3])
    inputs = {"xt": xt, "a_prev": a_prev, "c_prev": c_prev} | {k[1:]: p[k[1:]] for k in LSTM_PARAMETER_KEYS}
    assert_matches_finite_differences(grads, objective, inputs)


@pytest.mark.parametrize("T_x", [1, 6])
def test_rnn_backward_matches_finite_differences(T_x):
    da, caches, objective, inputs = rnn_case(T_x, seed=9)
    assert_matches_finite_differences(rnn_backward(da, caches), objective, inputs)


@pytest.mark.parametrize("T_x", [1, 6])
def test_lstm_backward_matches_finite_differences(T_x):
    da, caches, objective, inputs = lstm_case(T_x, seed=10)
    assert_matches_finite_differences(lstm_backward(da, caches), objective, inputs)


# Planted slips: local copies with one fault each. The finite-difference checks above must reject them.


def rnn_backward_without_carry(da, caches):
    """The classic slip: each step gets only da[:, :, t], never the da_prev that step t + 1 sent back."""
    cell_caches, _ = caches
    steps = [rnn_cell_backward(da[:, :, t], cell_caches[t]) for t in range(da.shape[2])]
    sums = {k: sum(step[k] for step in steps) for k in ("dWax", "dWaa", "dba")}
    return {"dx": np.stack([step["dxt"] for step in steps], axis=2), "da0": steps[0]["da_prev"], **sums}


def lstm_backward_dropping(carry):
    """lstm_backward with the da_prev or the dc_prev carry between steps left out."""

    def backward(da, caches):
        cell_caches, _ = caches
        da_prevt, dc_prevt, steps = 0, 0, []
        for t in reversed(range(da.shape[2])):
            step = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
            da_prevt = 0 if carry == "da_prev" else step["da_prev"]
            dc_prevt = 0 if carry == "dc_prev" else step["dc_prev"]
            steps.insert(0, step)
        sums = {k: sum(step[k] for step in steps) for k in LSTM_PARAMETER_KEYS}
        return {"dx": np.stack([step["dxt"] for step in steps], axis=2), "da0": steps[0]["da_prev"], **sums}

    return backward


def lstm_cell_backward_without_da_next_path(da_next, dc_next, cache):
    """The course's named slip: dit, dft, dcct and dc_prev from dc_next alone, leaving out the da_next path through
    a_next = ot * tanh(c_next). The real cell computes dc = dc_next + da_next ot (1 - tanh(c_next)^2); handing it
    dc_next minus that term makes its dc the slipped dc_next, and leaves dot (da_next's own) as it was."""
    a_next, c_next, _, _, _, _, _, ot, _, _ = cache
    return lstm_cell_backward(da_next, dc_next - da_next * ot * (1 - np.tanh(c_next) ** 2), cache)


def errors_of(names, grads, objective, inputs):
    """worst_relative_errors for the inputs `names` only: a slip needs one wrong key to be caught."""
    return worst_relative_errors({"d" + n: grads["d" + n] for n in names}, objective, {n: inputs[n] for n in names})


@pytest.mark.parametrize(("T_x", "scale"), [(6, 1.0), (50, 0.01)])
def test_the_finite_difference_check_rejects_a_dropped_rnn_carry(T_x, scale):
    # With weights * 0.01 each carry is about a hundredth of a step's own gradient: still over 1e5 times FD_RTOL.
    da, caches, objective, inputs = rnn_case(T_x, seed=9, scale=scale)
    slipped = rnn_backward_without_carry(da, caches)
    with pytest.raises(AssertionError, match="'da0'"):
        assert_matches_finite_differences(slipped, objective, inputs)
    errors = errors_of(["a0", "Waa"], slipped, objective, inputs)
    assert errors["da0"] > 0.01 and errors["dWaa"] > 0.01


def test_with_one_step_there_is_no_carry_to_drop():
    """Why every other check runs T_x > 1 too: at T_x = 1 the slipped copy is right."""
    da, caches, objective, inputs = rnn_case(1, seed=9)
    assert_matches_finite_differences(rnn_backward_without_carry(da, caches), objective, inputs)


@pytest.mark.parametrize("carry", ["da_prev", "dc_prev"])
def test_the_finite_difference_check_rejects_a_dropped_lstm_carry(carry):
    da, caches, objective, inputs = lstm_case(6, seed=10)
    errors = errors_of(["a0", "Wf"], lstm_backward_dropping(carry)(da, caches), objective, inputs)
    assert errors["da0"] > 0.1 and errors["dWf"] > 0.1


def test_the_finite_difference_check_rejects_the_missing_da_next_path():
    rng = np.random.default_rng(8)
    p, xt = lstm_parameters(rng), normal(rng, N_X, M)
    a_prev, c_prev, da_next, dc_next = (normal(rng, N_A, M) for _ in range(4))

    def objective():
        a_next, c_next, _, _ = lstm_cell_forward(xt, a_prev, c_prev, p)
        return np.sum(da_next * a_next) + np.sum(dc_next * c_next)

    cache = lstm_cell_forward(xt, a_prev, c_prev, p)[3]
    grads = lstm_cell_backward_without_da_next_path(da_next, dc_next, cache)
    inputs = {"xt": xt, "a_prev": a_prev, "c_prev": c_prev} | {k[1:]: p[k[1:]] for k in LSTM_PARAMETER_KEYS}
    errors = worst_relative_errors(grads, objective, inputs)
    assert min(errors[k] for k in ("dc_prev", "dWf", "dWi", "dWc")) > 0.1 and errors["dWo"] < FD_RTOL


# A long sequence with the course's small initial weights (every parameter standard normal * 0.01): fifty steps of
# carries. The same rule holds for every key: max |analytic - numerical| <= FD_RTOL (1e-7) max |numerical|; the
# worst measured is 5e-9 (the RNN's da0), and a dropped carry at this scale is off by 2e-2 (the test above).


@pytest.mark.parametrize(
    ("case", "backward"), [(rnn_case, rnn_backward), (lstm_case, lstm_backward)], ids=["rnn", "lstm"]
)
def test_a_long_sequence_still_matches_finite_differences(case, backward):
    da, caches, objective, inputs = case(50, seed=11, scale=0.01)
    assert_matches_finite_differences(backward(da, caches), objective, inputs)
