"""Checks the recurrent-network notebook's test cells call: each takes the learner's function, runs it on small
seeded inputs and checks shapes, caches and a few properties, printing what it found.

Written for this project's example notebook; the verifier (python -m verify --impl ...) checks every function
against torch's nn.RNNCell and nn.LSTMCell on many shapes, backward through time included, and names the classic
slips.
"""

import numpy as np


def _report(name, problems):
    if problems:
        for problem in problems:
            print(f"{name}: {problem}")
    else:
        print(f"{name}: All tests passed.")


def _rnn_parameters(rng, n_x, n_a, n_y):
    return {
        "Wax": rng.standard_normal((n_a, n_x)),
        "Waa": rng.standard_normal((n_a, n_a)),
        "Wya": rng.standard_normal((n_y, n_a)),
        "ba": rng.standard_normal((n_a, 1)),
        "by": rng.standard_normal((n_y, 1)),
    }


def _lstm_parameters(rng, n_x, n_a, n_y):
    parameters = {f"W{g}": rng.standard_normal((n_a, n_a + n_x)) for g in "fico"}
    parameters.update({f"b{g}": rng.standard_normal((n_a, 1)) for g in "fico"})
    parameters.update({"Wy": rng.standard_normal((n_y, n_a)), "by": rng.standard_normal((n_y, 1))})
    return parameters


def _shapes(name, values, expected):
    return [
        f"{key} has shape {np.shape(value)}, expected {shape}"
        for key, value, shape in zip(name, values, expected)
        if np.shape(value) != shape
    ]


def rnn_cell_forward_tests(target):
    rng = np.random.default_rng(1)
    xt, a_prev = rng.standard_normal((3, 10)), rng.standard_normal((5, 10))
    a_next, yt_pred, cache = target(xt, a_prev, _rnn_parameters(rng, 3, 5, 2))
    problems = _shapes(("a_next", "yt_pred"), (a_next, yt_pred), ((5, 10), (2, 10)))
    if not problems and not np.allclose(yt_pred.sum(axis=0), 1):
        problems.append("each column of yt_pred should sum to 1 (a softmax over the units)")
    if len(cache) != 4:
        problems.append("cache should be (a_next, a_prev, xt, parameters)")
    _report("rnn_cell_forward", problems)


def rnn_forward_test(target):
    rng = np.random.default_rng(1)
    x, a0 = rng.standard_normal((3, 10, 4)), rng.standard_normal((5, 10))
    a, y_pred, caches = target(x, a0, _rnn_parameters(rng, 3, 5, 2))
    problems = _shapes(("a", "y_pred"), (a, y_pred), ((5, 10, 4), (2, 10, 4)))
    if len(caches) != 2 or len(caches[0]) != 4:
        problems.append("caches should be (a list of the 4 cells' caches, x)")
    _report("rnn_forward", problems)


def lstm_cell_forward_test(target):
    rng = np.random.default_rng(1)
    xt, a_prev, c_prev = rng.standard_normal((3, 10)), rng.standard_normal((5, 10)), rng.standard_normal((5, 10))
    a_next, c_next, yt, cache = target(xt, a_prev, c_prev, _lstm_parameters(rng, 3, 5, 2))
    problems = _shapes(("a_next", "c_next", "yt"), (a_next, c_next, yt), ((5, 10), (5, 10), (2, 10)))
    if len(cache) != 10:
        problems.append("cache should be (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)")
    _report("lstm_cell_forward", problems)


def lstm_forward_test(target):
    rng = np.random.default_rng(1)
    x, a0 = rng.standard_normal((3, 10, 7)), rng.standard_normal((5, 10))
    a, y, c, caches = target(x, a0, _lstm_parameters(rng, 3, 5, 2))
    problems = _shapes(("a", "y", "c"), (a, y, c), ((5, 10, 7), (2, 10, 7), (5, 10, 7)))
    _report("lstm_forward", problems)


def rnn_cell_backward_test(target, forward):
    rng = np.random.default_rng(1)
    xt, a_prev = rng.standard_normal((3, 10)), rng.standard_normal((5, 10))
    _, _, cache = forward(xt, a_prev, _rnn_parameters(rng, 3, 5, 2))
    gradients = target(rng.standard_normal((5, 10)), cache)
    keys = ("dxt", "da_prev", "dWax", "dWaa", "dba")
    expected = ((3, 10), (5, 10), (5, 3), (5, 5), (5, 1))
    _report("rnn_cell_backward", _shapes(keys, [gradients.get(k) for k in keys], expected))


def lstm_cell_backward_test(target, forward):
    rng = np.random.default_rng(1)
    xt, a_prev, c_prev = rng.standard_normal((3, 10)), rng.standard_normal((5, 10)), rng.standard_normal((5, 10))
    *_, cache = forward(xt, a_prev, c_prev, _lstm_parameters(rng, 3, 5, 2))
    gradients = target(rng.standard_normal((5, 10)), rng.standard_normal((5, 10)), cache)
    keys = ("dxt", "da_prev", "dc_prev", "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo")
    expected = ((3, 10), (5, 10), (5, 10), *[(5, 8), (5, 1)] * 4)
    _report("lstm_cell_backward", _shapes(keys, [gradients.get(k) for k in keys], expected))
