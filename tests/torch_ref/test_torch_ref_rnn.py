"""torch_ref.rnn: the course's RNN and LSTM by nn.RNNCell and nn.LSTMCell, beside the course's formulas written here
in NumPy (examples as columns, time last) and their derivatives by central differences."""

import numpy as np
import pytest
import torch
from torch import nn

import torch_ref
from torch_ref import rnn

# (n_x, n_a, n_y, m, T_x): all five different within a case, so a swapped axis cannot pass; T_x = 1 included
CASES = [(3, 4, 2, 5, 6), (4, 3, 5, 2, 1), (2, 5, 3, 4, 3)]
DTYPES = [np.float64, np.float32]
# float32: tanh and sigmoid of sums of n_a + n_x terms of size ~1, carried through up to 6 steps
ATOL = {np.float64: 1e-13, np.float32: 1e-5}


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def rnn_course(x, a0, p):
    """The course's rnn_forward: a_next = tanh(Waa a_prev + Wax xt + ba), yt = softmax(Wya a_next + by)."""
    a, y, a_prev = [], [], a0
    for t in range(x.shape[2]):
        a_prev = np.tanh(p["Waa"] @ a_prev + p["Wax"] @ x[:, :, t] + p["ba"])
        a.append(a_prev)
        y.append(softmax(p["Wya"] @ a_prev + p["by"]))
    return np.stack(a, axis=2), np.stack(y, axis=2)


def lstm_course(x, a0, c0, p):
    """The course's lstm_forward from c0: concat = [a_prev; xt], ft, it, cct, ot, c_next, a_next, yt."""
    a, y, c, a_prev, c_prev = [], [], [], a0, c0
    for t in range(x.shape[2]):
        concat = np.concatenate([a_prev, x[:, :, t]], axis=0)  # (n_a + n_x, m), a_prev on top
        ft = sigmoid(p["Wf"] @ concat + p["bf"])
        it = sigmoid(p["Wi"] @ concat + p["bi"])
        cct = np.tanh(p["Wc"] @ concat + p["bc"])
        c_prev = ft * c_prev + it * cct
        ot = sigmoid(p["Wo"] @ concat + p["bo"])
        a_prev = ot * np.tanh(c_prev)
        a.append(a_prev)
        c.append(c_prev)
        y.append(softmax(p["Wy"] @ a_prev + p["by"]))
    return np.stack(a, axis=2), np.stack(y, axis=2), np.stack(c, axis=2)


def rnn_parameters(n_x, n_a, n_y, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "ba": (n_a, 1), "Wya": (n_y, n_a), "by": (n_y, 1)}
    return {k: (0.5 * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def lstm_parameters(n_x, n_a, n_y, dtype=np.float64, seed=0):
    """Weights of size 0.5 keep the gates away from saturation, so each gate's entries move the output."""
    rng = np.random.default_rng(seed)
    shapes = {f"{p}{g}": (n_a, n_a + n_x) if p == "W" else (n_a, 1) for g in "fico" for p in "Wb"}
    shapes |= {"Wy": (n_y, n_a), "by": (n_y, 1)}
    return {k: (0.5 * rng.standard_normal(s)).astype(dtype) for k, s in shapes.items()}


def sequences(n_x, n_a, m, T_x, dtype=np.float64, seed=1):
    """x (n_x, m, T_x), a0 and c0 (n_a, m), da and dc (n_a, m, T_x)."""
    rng = np.random.default_rng(seed)
    shapes = {"x": (n_x, m, T_x), "a0": (n_a, m), "c0": (n_a, m), "da": (n_a, m, T_x), "dc": (n_a, m, T_x)}
    return {k: rng.standard_normal(s).astype(dtype) for k, s in shapes.items()}


def central_differences(fn, x, h=1e-6):
    """d fn / d x entry by entry, x changed in place and restored: error about h^2 (curvature) + 1e-16 |fn| / h."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = fn()
        x[index] = saved - h
        minus = fn()
        x[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def assert_gradients(grads, fn, arrays, atol=1e-7):
    """grads[name] is d fn / d arrays[name] for every name, and nothing else is returned."""
    assert sorted(grads) == sorted(arrays)
    for name, x in arrays.items():
        assert grads[name].shape == x.shape and grads[name].dtype == x.dtype, name
        np.testing.assert_allclose(grads[name], central_differences(fn, x), rtol=0, atol=atol, err_msg=name)


# The mapping, both ways.


@pytest.mark.parametrize("dtype", DTYPES)
def test_rnn_mapping_round_trips_bit_for_bit(dtype):
    p = rnn_parameters(3, 4, 2, dtype)
    cell, readout = torch_ref.rnn_to_torch(p)
    assert cell.weight_ih.dtype == {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    back = torch_ref.rnn_to_course(cell, readout)
    assert sorted(back) == sorted(p)
    for key, value in p.items():
        np.testing.assert_array_equal(back[key], value)
        assert back[key].dtype == dtype and not np.shares_memory(back[key], value)

    # torch -> course -> torch: a cell of torch's own random draw, its bias_hh zeroed (the course has one bias)
    torch.manual_seed(0)
    theirs, their_readout = nn.RNNCell(3, 4, dtype=torch.float64), nn.Linear(4, 2, dtype=torch.float64)
    with torch.no_grad():
        theirs.bias_hh.zero_()
    ours, our_readout = torch_ref.rnn_to_torch(torch_ref.rnn_to_course(theirs, their_readout))
    for mine, original in ((ours, theirs), (our_readout, their_readout)):
        state, expected = mine.state_dict(), original.state_dict()
        assert list(state) == list(expected) and all(torch.equal(state[k], expected[k]) for k in state)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lstm_mapping_round_trips_bit_for_bit(dtype):
    p = lstm_parameters(3, 4, 2, dtype)
    cell, readout = torch_ref.lstm_to_torch(p)
    assert (cell.input_size, cell.hidden_size) == (3, 4) and tuple(cell.weight_ih.shape) == (16, 3)
    back = torch_ref.lstm_to_course(cell, readout)
    assert sorted(back) == sorted(p)
    for key, value in p.items():
        np.testing.assert_array_equal(back[key], value)
        assert back[key].dtype == dtype

    torch.manual_seed(1)
    theirs = nn.LSTMCell(3, 4, dtype=torch.float64)
    with torch.no_grad():
        theirs.bias_hh.zero_()
    ours, none = torch_ref.lstm_to_torch(torch_ref.lstm_to_course(theirs))
    assert none is None
    assert all(torch.equal(ours.state_dict()[k], v) for k, v in theirs.state_dict().items())


def test_the_second_bias_is_zero_and_stays_out_of_training():
    p, data = rnn_parameters(3, 4, 2), sequences(3, 4, 5, 3)
    cell, _ = torch_ref.rnn_to_torch(p)
    assert not cell.bias_hh.requires_grad and not cell.bias_hh.any()
    # an optimiser over the cell's parameters moves the course's parameters only
    cell(torch.tensor(data["x"][:, :, 0].T), torch.tensor(data["a0"].T)).sum().backward()
    torch.optim.SGD(cell.parameters(), lr=0.1).step()
    assert cell.bias_hh.grad is None and not cell.bias_hh.any()
    assert not np.array_equal(torch_ref.rnn_to_course(cell)["ba"], p["ba"])

    # had bias_hh been trained, its gradient would be bias_ih's: their sum is what enters
    cell, _ = torch_ref.rnn_to_torch(p)
    cell.bias_hh.requires_grad_(True)
    cell(torch.tensor(data["x"][:, :, 0].T), torch.tensor(data["a0"].T)).sum().backward()
    assert torch.equal(cell.bias_hh.grad, cell.bias_ih.grad)
    np.testing.assert_array_equal(torch_ref.rnn_gradients(cell)["dba"][:, 0], cell.bias_hh.grad.numpy())


# Forward: the course's formulas.


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_rnn_forward_is_the_course_formula(case, dtype):
    n_x, n_a, n_y, m, T_x = case
    p, data = rnn_parameters(n_x, n_a, n_y, dtype), sequences(n_x, n_a, m, T_x, dtype)
    a, y_pred = rnn.rnn_forward(data["x"], data["a0"], p)
    expected_a, expected_y = rnn_course(data["x"], data["a0"], p)
    for got, expected in ((a, expected_a), (y_pred, expected_y)):
        assert got.shape == expected.shape and got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL[dtype])
    a_next, yt_pred = rnn.rnn_cell_forward(data["x"][:, :, 0], data["a0"], p)
    np.testing.assert_allclose(a_next, expected_a[:, :, 0], rtol=0, atol=ATOL[dtype])
    np.testing.assert_allclose(yt_pred, expected_y[:, :, 0], rtol=0, atol=ATOL[dtype])
    assert a_next.dtype == yt_pred.dtype == dtype


def check_lstm_forward(case, dtype=np.float64):
    """lstm_forward and lstm_cell_forward (from a nonzero c_prev, so that ft counts) against lstm_course."""
    n_x, n_a, n_y, m, T_x = case
    p, data = lstm_parameters(n_x, n_a, n_y, dtype), sequences(n_x, n_a, m, T_x, dtype)
    got = rnn.lstm_forward(data["x"], data["a0"], p)
    expected = lstm_course(data["x"], data["a0"], np.zeros_like(data["a0"]), p)
    for name, g, e in zip(("a", "y", "c"), got, expected):
        assert g.shape == e.shape and g.dtype == dtype, name
        np.testing.assert_allclose(g, e, rtol=0, atol=ATOL[dtype], err_msg=name)
    got = rnn.lstm_cell_forward(data["x"][:, :, 0], data["a0"], data["c0"], p)
    expected = lstm_course(data["x"][:, :, :1], data["a0"], data["c0"], p)
    for name, g, e in zip(("a_next", "c_next", "yt_pred"), got, (expected[0], expected[2], expected[1])):
        assert g.dtype == dtype, name
        np.testing.assert_allclose(g, e[:, :, 0], rtol=0, atol=ATOL[dtype], err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_lstm_forward_is_the_course_formula(case, dtype):
    check_lstm_forward(case, dtype)


# Backward: the gradients of s = sum(a * da) (+ sum(c * dc)) by central differences of the course's formulas.


@pytest.mark.parametrize("case", CASES)
def test_rnn_backward_is_the_gradient_of_sum_a_da(case):
    n_x, n_a, n_y, m, T_x = case
    p, data = rnn_parameters(n_x, n_a, n_y), sequences(n_x, n_a, m, T_x)
    x, a0, da = data["x"], data["a0"], data["da"]
    grads = rnn.rnn_backward(x, a0, p, da)
    inputs = {"dx": x, "da0": a0} | {f"d{k}": p[k] for k in rnn.RNN_KEYS}
    assert_gradients(grads, lambda: np.sum(rnn_course(x, a0, p)[0] * da), inputs)
    # no 1/m: at the last step, dba gets the plain sum over examples of (1 - a^2) da
    if T_x == 1:
        a = rnn_course(x, a0, p)[0][:, :, 0]
        np.testing.assert_allclose(grads["dba"], ((1 - a**2) * da[:, :, 0]).sum(axis=1, keepdims=True), rtol=1e-12)

    xt, dat = x[:, :, 0].copy(), da[:, :, 0]
    cell = rnn.rnn_cell_backward(xt, a0, p, dat)
    inputs = {"dxt": xt, "da_prev": a0} | {f"d{k}": p[k] for k in rnn.RNN_KEYS}
    assert_gradients(cell, lambda: np.sum(rnn_course(xt[:, :, None], a0, p)[0][:, :, 0] * dat), inputs)


def check_lstm_backward(case, with_dc):
    n_x, n_a, n_y, m, T_x = case
    p, data = lstm_parameters(n_x, n_a, n_y), sequences(n_x, n_a, m, T_x)
    x, a0, da, dc = data["x"], data["a0"], data["da"], data["dc"] if with_dc else np.zeros_like(data["da"])
    grads = rnn.lstm_backward(x, a0, p, da, dc if with_dc else None)

    def s():
        a, _, c = lstm_course(x, a0, np.zeros_like(a0), p)
        return np.sum(a * da) + np.sum(c * dc)

    assert_gradients(grads, s, {"dx": x, "da0": a0} | {f"d{k}": p[k] for k in rnn.LSTM_KEYS})


def check_lstm_cell_backward(case):
    n_x, n_a, n_y, m, _ = case
    p, data = lstm_parameters(n_x, n_a, n_y), sequences(n_x, n_a, m, 1)
    xt, a_prev, c_prev, da_next, dc_next = (data[k][..., 0] if data[k].ndim == 3 else data[k] for k in data)
    grads = rnn.lstm_cell_backward(xt, a_prev, c_prev, p, da_next, dc_next)

    def s():
        a, _, c = lstm_course(xt[:, :, None], a_prev, c_prev, p)
        return np.sum(a[:, :, 0] * da_next) + np.sum(c[:, :, 0] * dc_next)

    inputs = {"dxt": xt, "da_prev": a_prev, "dc_prev": c_prev} | {f"d{k}": p[k] for k in rnn.LSTM_KEYS}
    assert_gradients(grads, s, inputs)


@pytest.mark.parametrize("with_dc", [False, True])
@pytest.mark.parametrize("case", CASES)
def test_lstm_backward_is_the_gradient_of_sum_a_da_plus_c_dc(case, with_dc):
    check_lstm_backward(case, with_dc)


@pytest.mark.parametrize("case", CASES)
def test_lstm_cell_backward_is_the_gradient_of_sum_a_da_plus_c_dc(case):
    check_lstm_cell_backward(case)


def test_backward_in_float32_stays_float32():
    p32, data = lstm_parameters(3, 4, 2, np.float32), sequences(3, 4, 5, 2, np.float32)
    grads = rnn.lstm_backward(data["x"], data["a0"], p32, data["da"])
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    expected = rnn.lstm_backward(*(data[k].astype(np.float64) for k in ("x", "a0")), p64, data["da"].astype(float))
    for key, value in grads.items():
        assert value.dtype == np.float32, key
        np.testing.assert_allclose(value, expected[key], rtol=0, atol=1e-5, err_msg=key)
    p32 = rnn_parameters(3, 4, 2, np.float32)
    cell = rnn.rnn_cell_backward(data["x"][:, :, 0], data["a0"], p32, data["da"][:, :, 0])
    assert {v.dtype for v in cell.values()} == {np.dtype(np.float32)}


# The gate order: a planted slip is caught.


def test_lstm_gate_order_i_f_swapped_is_caught(monkeypatch):
    """GATES read both ways: with i and f swapped the mapping still round-trips (so the round trip alone proves
    nothing about the order), but the forward and backward comparisons with the course's formula fail."""
    monkeypatch.setattr(rnn, "GATES", ("f", "i", "c", "o"))
    p = lstm_parameters(3, 4, 2)
    back = torch_ref.lstm_to_course(*torch_ref.lstm_to_torch(p))
    assert all(np.array_equal(back[k], p[k]) for k in p)
    for case in CASES:
        with pytest.raises(AssertionError, match="Not equal to tolerance"):
            check_lstm_forward(case)
        with pytest.raises(AssertionError, match="Not equal to tolerance"):
            check_lstm_cell_backward(case)
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        check_lstm_backward(CASES[1], with_dc=False)  # T_x = 1


# The readout's gradients under the course's keys, and bad input.


def test_readout_gradients_read_back_as_dWya_dby():
    """Cross-entropy summed over examples and steps: dby = sum of (y_pred - y) over both, dWya = sum of
    (y_pred - y) a^T, the softmax's known gradient."""
    n_x, n_a, n_y, m, T_x = CASES[0]
    p, data = rnn_parameters(n_x, n_a, n_y), sequences(n_x, n_a, m, T_x)
    labels = np.random.default_rng(2).integers(0, n_y, (m, T_x))
    cell, readout = torch_ref.rnn_to_torch(p)
    h = torch.tensor(data["a0"].T)
    for t in range(T_x):
        h = cell(torch.tensor(data["x"][:, :, t].T), h)
        logits = readout(h)
        nn.functional.cross_entropy(logits, torch.tensor(labels[:, t]), reduction="sum").backward(retain_graph=True)
    grads = torch_ref.rnn_gradients(cell, readout)
    assert sorted(grads) == ["dWaa", "dWax", "dWya", "dba", "dby"]
    a, y_pred = rnn_course(data["x"], data["a0"], p)
    dz = y_pred - np.eye(n_y)[:, labels]  # (n_y, m, T_x)
    np.testing.assert_allclose(grads["dby"], dz.sum(axis=(1, 2))[:, None], rtol=1e-12)
    np.testing.assert_allclose(grads["dWya"], np.einsum("ymt,amt->ya", dz, a), rtol=1e-12)


def test_bad_input_is_one_clear_value_error():
    p, lp, data = rnn_parameters(3, 4, 2), lstm_parameters(3, 4, 2), sequences(3, 4, 5, 2)
    x, a0, da = data["x"], data["a0"], data["da"]
    cases = [
        (lambda: rnn.rnn_forward(x, a0, p | {"Waa": p["Waa"][:, :3]}), r"Waa \(4, 3\) \(expected \(4, 4\)\)"),
        (lambda: rnn.rnn_forward(x[:2], a0, p), r"x \(2, 5, 2\) \(expected \(3, 5, 2\)\)"),
        (lambda: rnn.rnn_backward(x, a0, p, da[:, :, :1]), r"da \(4, 5, 1\)"),
        (lambda: rnn.rnn_forward(x.astype(np.float32), a0.astype(np.float32), p), "use one dtype"),
        (lambda: rnn.rnn_forward(x, a0, {k: p[k] for k in rnn.RNN_KEYS}), "needs the readout"),
        (lambda: rnn.lstm_forward(x, a0, {k: v for k, v in lp.items() if k != "bo"}), r"missing \['bo'\]"),
        (lambda: rnn.lstm_forward(x, a0, lp | {"Wy": lp["Wy"].astype(np.float32)}), "mix dtypes"),
        (lambda: rnn.lstm_cell_forward(x, a0, a0, lp), r"xt must be a NumPy array of shape \(n, m\)"),
        (lambda: torch_ref.rnn_to_course(nn.RNNCell(3, 4, nonlinearity="relu")), "tanh"),
        (lambda: torch_ref.lstm_to_course(nn.LSTMCell(3, 4)), "bias_hh is not zero"),
        (lambda: torch_ref.rnn_to_course(nn.RNNCell(3, 4, bias=False)), "no bias"),
        (lambda: torch_ref.rnn_gradients(torch_ref.rnn_to_torch(p)[0]), "no gradient to read"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
