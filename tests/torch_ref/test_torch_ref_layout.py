"""Course dict <-> TorchNet: exact round trips, copies, and clear errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_ref_cases import random_data, random_params

from torch_ref import (
    TorchNet,
    forward_backward,
    from_params,
    gradients,
    load_params,
    to_params,
)
from torch_ref.layout import columns, data_rows, summed_gradient


def assert_same_params(got, want):
    assert list(got) == list(want)
    for key in want:
        assert got[key].dtype == want[key].dtype, key
        assert got[key].shape == want[key].shape, key
        assert got[key].tobytes() == want[key].tobytes(), key  # bit for bit, -0.0 included


@st.composite
def course_params(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    dims = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    elements = st.floats(width=np.finfo(dtype).bits, allow_nan=False)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = draw(hnp.arrays(dtype, (dims[l], dims[l - 1]), elements=elements))
        params[f"b{l}"] = draw(hnp.arrays(dtype, (dims[l], 1), elements=elements))
    return params


@settings(max_examples=25, deadline=None)
@given(course_params())
def test_round_trip_is_bit_exact(params):
    L = len(params) // 2
    model = from_params(params, ["tanh"] * (L - 1) + ["sigmoid"])
    assert model.dtype == torch.from_numpy(params["W1"]).dtype
    assert_same_params(to_params(model), params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_params_then_to_params(dtype):
    model = from_params(random_params([3, 4, 2], dtype, seed=0), ["relu", "softmax"])
    other = random_params([3, 4, 2], dtype, seed=5)
    load_params(model, other)
    assert_same_params(to_params(model), other)


def test_weights_land_where_the_course_puts_them():
    params = random_params([3, 4, 2])
    model = from_params(params, ["relu", "sigmoid"])
    np.testing.assert_array_equal(model.linears[0].weight.detach().numpy(), params["W1"])
    np.testing.assert_array_equal(model.linears[1].bias.detach().numpy(), params["b2"][:, 0])


def test_no_aliasing_between_arrays_and_model():
    params = random_params([2, 3, 1])
    model = from_params(params, ["relu", "sigmoid"])
    W1 = params["W1"].copy()
    params["W1"][0, 0] += 1.0  # the model must not see the caller's later edits
    np.testing.assert_array_equal(to_params(model)["W1"], W1)
    out = to_params(model)
    out["b1"][:] = 7.0  # nor the model our returned copies
    np.testing.assert_array_equal(to_params(model)["W1"], W1)
    assert not np.any(to_params(model)["b1"] == 7.0)


def test_read_only_arrays_load():
    params = random_params([2, 3, 1])
    for arr in params.values():
        arr.flags.writeable = False
    assert_same_params(to_params(from_params(params, ["relu", "sigmoid"])), params)


def test_torch_default_init_is_a_shared_starting_point():
    torch.manual_seed(0)
    net = TorchNet([3, 4, 1], ["relu", "sigmoid"])
    params = to_params(net)
    assert all(a.dtype == np.float32 for a in params.values())
    x = torch.randn(5, 3)
    torch.testing.assert_close(from_params(params, ["relu", "sigmoid"])(x), net(x), rtol=0, atol=0)


def test_gradients_shapes_and_missing_grads():
    model = from_params(random_params([3, 4, 2]), ["tanh", "sigmoid"])
    with pytest.raises(ValueError, match="no gradients"):
        gradients(model)
    X, Y = random_data(3, 2, 5, "sigmoid")
    forward_backward(model, X, Y, "bce")
    grads = gradients(model)
    assert {k: v.shape for k, v in grads.items()} == {
        "dW1": (4, 3),
        "db1": (4, 1),
        "dW2": (2, 4),
        "db2": (2, 1),
    }


def _drop(p, key):
    return {k: v for k, v in p.items() if k != key}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda p: _drop(p, "b2"), r"missing \['b2'\]"),
        (lambda p: {**p, "W3": np.zeros((1, 1))}, r"extra \['W3'\]"),
        (lambda p: {**p, "W2": np.zeros((1, 4))}, r"W2 has shape \(1, 4\), expected \(n\[2\], 3"),
        (lambda p: {**p, "b1": np.zeros(3)}, r"b1 has shape \(3,\), expected \(3, 1\)"),
        (lambda p: {**p, "W1": np.zeros(2)}, r"W1 has shape \(2,\), expected \(n\[1\], n\[0\]\)"),
        (lambda p: {**p, "b2": p["b2"].astype(np.float32)}, "mix dtypes"),
        (lambda p: {k: v.astype(np.int64) for k, v in p.items()}, "dtype int64"),
        (lambda p: {**p, "W1": p["W1"].tolist()}, "must be a NumPy array"),
    ],
)
def test_from_params_rejects_bad_dicts(edit, message):
    params = edit(random_params([2, 3, 1]))
    with pytest.raises(ValueError, match=message):
        from_params(params, ["relu", "sigmoid"])


def test_load_params_rejects_other_shapes_and_dtypes():
    model = from_params(random_params([2, 3, 1]), ["relu", "sigmoid"])
    message = r"params are \(2, 4, 1\) float64, the model is \(2, 3, 1\)"
    with pytest.raises(ValueError, match=message):
        load_params(model, random_params([2, 4, 1]))
    with pytest.raises(ValueError, match="float32, the model is .* float64"):
        load_params(model, random_params([2, 3, 1], np.float32))


@pytest.mark.parametrize(
    "X_shape, Y_shape, message",
    [
        ((3, 5), (1, 5), r"X must have shape \(2, m\) with m >= 1, got \(3, 5\)"),
        ((2, 5), (2, 5), r"Y must have shape \(1, m\) with m >= 1, got \(2, 5\)"),
        ((2,), (1, 5), r"X must have shape \(2, m\)"),
        ((2, 0), (1, 0), r"got \(2, 0\)"),
        ((2, 5), (1, 4), "X has 5 examples .* Y has 4"),
    ],
)
def test_data_shape_errors(X_shape, Y_shape, message):
    model = from_params(random_params([2, 3, 1]), ["relu", "sigmoid"])
    with pytest.raises(ValueError, match=message):
        forward_backward(model, np.zeros(X_shape), np.zeros(Y_shape))


def test_data_dtype_must_match_model():
    model = from_params(random_params([2, 3, 1], np.float32), ["relu", "sigmoid"])
    with pytest.raises(ValueError, match="X has dtype float64, the model is float32"):
        forward_backward(model, np.zeros((2, 4)), np.zeros((1, 4), np.float32))
    with pytest.raises(ValueError, match="Y has dtype float64, the model is float32"):
        forward_backward(model, np.zeros((2, 4), np.float32), np.zeros((1, 4)))


@pytest.mark.parametrize("n", [1, 5])
def test_data_rows_are_contiguous_copies_of_the_course_columns(n):
    """torch's linear copies an input with transposed strides into rows order on every forward: the rows are
    laid out once, and never share the caller's memory (not even Y's (1, m), whose transpose is contiguous)."""
    model = from_params(random_params([n, 3, 1]), ["relu", "sigmoid"])
    X, Y = random_data(n, 1, 6, "sigmoid")
    x, y = data_rows(model, X, Y)
    for rows, course in ((x, X), (y, Y)):
        assert rows.is_contiguous()
        assert rows.numpy().tobytes() == course.T.tobytes(order="C")
        assert not np.shares_memory(rows.numpy(), course)


@pytest.mark.parametrize("n", [1, 5])
def test_columns_and_summed_gradients_are_fresh_course_layout_copies(n):
    rows_tensor = torch.arange(6.0 * n, dtype=torch.float64).reshape(6, n)
    for got, want in ((columns(rows_tensor), rows_tensor.T), (summed_gradient(rows_tensor), 6 * rows_tensor.T)):
        assert got.flags.c_contiguous and got.flags.writeable
        assert got.tobytes() == want.contiguous().numpy().tobytes()
        got[...] = -1.0  # a copy: the tensor keeps its values
        assert rows_tensor[0, 0] == 0.0 and rows_tensor[-1, -1] == 6.0 * n - 1
