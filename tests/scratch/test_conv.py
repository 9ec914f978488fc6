"""The convolution steps (channels last) against the course's own nested loops, finite differences and the tie rule."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratch import (
    conv_backward,
    conv_forward,
    conv_single_step,
    create_mask_from_window,
    distribute_value,
    pool_backward,
    pool_forward,
    zero_pad,
)

DTYPES = [np.float64, np.float32]


# The course's loops, written out: one example, one output position, one channel at a time.


def loop_output_size(n_prev, f, pad, stride):
    return int(np.floor((n_prev - f + 2 * pad) / stride)) + 1


def loop_conv_forward(A_prev, W, b, hparameters):
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H, n_W = loop_output_size(n_H_prev, f, pad, stride), loop_output_size(n_W_prev, f, pad, stride)
    A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            for w in range(n_W):
                horiz_start = w * stride
                for c in range(n_C):
                    a_slice = A_prev_pad[i, vert_start : vert_start + f, horiz_start : horiz_start + f, :]
                    Z[i, h, w, c] = np.sum(a_slice * W[:, :, :, c]) + b[0, 0, 0, c]
    return Z


def loop_conv_backward(dZ, A_prev, W, hparameters):
    f = W.shape[0]
    stride, pad = hparameters["stride"], hparameters["pad"]
    m, n_H, n_W, n_C = dZ.shape
    A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_prev_pad, dW, db = np.zeros_like(A_prev_pad), np.zeros_like(W), np.zeros((1, 1, 1, n_C), dtype=W.dtype)
    for i in range(m):
        for h in range(n_H):
            vert_start = h * stride
            for w in range(n_W):
                horiz_start = w * stride
                for c in range(n_C):
                    window = (i, slice(vert_start, vert_start + f), slice(horiz_start, horiz_start + f))
                    dA_prev_pad[window] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += A_prev_pad[window] * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    n_H_prev, n_W_prev = A_prev.shape[1:3]
    return dA_prev_pad[:, pad : pad + n_H_prev, pad : pad + n_W_prev, :], dW, db


def loop_pool_forward(A_prev, hparameters, mode):
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f, stride = hparameters["f"], hparameters["stride"]
    n_H, n_W = loop_output_size(n_H_prev, f, 0, stride), loop_output_size(n_W_prev, f, 0, stride)
    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    a_slice = A_prev[i, h * stride : h * stride + f, w * stride : w * stride + f, c]
                    A[i, h, w, c] = np.max(a_slice) if mode == "max" else np.mean(a_slice)
    return A


def loop_pool_backward(dA, A_prev, hparameters, mode):
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros_like(A_prev)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = (i, slice(h * stride, h * stride + f), slice(w * stride, w * stride + f), c)
                    if mode == "max":
                        dA_prev[window] += (A_prev[window] == np.max(A_prev[window])) * dA[i, h, w, c]
                    else:
                        dA_prev[window] += np.full((f, f), dA[i, h, w, c] / (f * f), dtype=dA.dtype)
    return dA_prev


def assert_equal_to_rounding(actual, expected, magnitude, n_terms):
    """|actual - expected| <= 2 (n + 2) eps magnitude, elementwise, and the same dtype.

    Both compute the same sums of at most n products, in different orders. A sum of n products in any order lies
    within gamma_n = n eps / (1 - n eps) times sum |products| of the exact value (Higham, Accuracy and Stability of
    Numerical Algorithms, 3.1); two such sums lie within twice that of each other, and +2 covers the bias's add or
    the average's division. `magnitude` is sum |products|: the loop run on absolute values. A wrong term (a slip)
    moves the result by about one product, far above this bound."""
    assert actual.dtype == expected.dtype, f"{actual.dtype} != {expected.dtype}"
    assert actual.shape == expected.shape
    bound = 2 * (n_terms + 2) * np.finfo(expected.dtype).eps * magnitude.astype(np.float64)
    excess = np.abs(actual.astype(np.float64) - expected.astype(np.float64)) - bound
    assert np.all(excess <= 0), f"off by more than rounding at {np.unravel_index(np.argmax(excess), excess.shape)}"


def random_case(shape_prev, f, n_C, dtype, seed):
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal(shape_prev).astype(dtype)
    W = rng.standard_normal((f, f, shape_prev[3], n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    return A_prev, W, b, rng


def check_conv(shape_prev, f, n_C, stride, pad, dtype, seed):
    A_prev, W, b, rng = random_case(shape_prev, f, n_C, dtype, seed)
    hparameters = {"stride": stride, "pad": pad}
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    assert cache[0] is A_prev and cache[1] is W and cache[2] is b and cache[3] is hparameters
    magnitude = loop_conv_forward(np.abs(A_prev), np.abs(W), np.abs(b), hparameters)
    assert_equal_to_rounding(Z, loop_conv_forward(A_prev, W, b, hparameters), magnitude, f * f * shape_prev[3])

    dZ = rng.standard_normal(Z.shape).astype(dtype)
    m, n_H, n_W, _ = Z.shape
    grads = conv_backward(dZ, cache)
    expected = loop_conv_backward(dZ, A_prev, W, hparameters)
    magnitudes = loop_conv_backward(np.abs(dZ), np.abs(A_prev), np.abs(W), hparameters)
    for name, got, want, size, n_terms in zip(
        ("dA_prev", "dW", "db"), grads, expected, magnitudes, (f * f * n_C, m * n_H * n_W, m * n_H * n_W)
    ):
        assert got.shape == want.shape, name
        assert_equal_to_rounding(got, want, size, n_terms)


def check_pool(shape_prev, f, stride, mode, dtype, seed):
    A_prev = np.random.default_rng(seed).standard_normal(shape_prev).astype(dtype)
    hparameters = {"f": f, "stride": stride}
    A, cache = pool_forward(A_prev, hparameters, mode)
    assert cache[0] is A_prev and cache[1] is hparameters
    magnitude = loop_pool_forward(np.abs(A_prev), hparameters, mode)
    assert_equal_to_rounding(A, loop_pool_forward(A_prev, hparameters, mode), magnitude, f * f)

    dA = np.random.default_rng(seed + 1).standard_normal(A.shape).astype(dtype)
    dA_prev = pool_backward(dA, cache, mode)
    magnitude = loop_pool_backward(np.abs(dA), A_prev, hparameters, mode)
    assert_equal_to_rounding(dA_prev, loop_pool_backward(dA, A_prev, hparameters, mode), magnitude, f * f)


CONV_CASES = [  # (m, n_H_prev, n_W_prev, n_C_prev), f, n_C, stride, pad
    ((2, 5, 7, 3), 3, 4, 1, 0),
    ((3, 6, 5, 2), 3, 5, 2, 1),
    ((2, 4, 4, 1), 2, 3, 2, 2),
    ((2, 5, 3, 4), 1, 2, 1, 0),
    ((1, 3, 6, 2), 1, 3, 2, 2),
    ((2, 7, 6, 3), 2, 1, 1, 1),
    ((2, 4, 5, 8), 3, 2, 2, 0),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape_prev", "f", "n_C", "stride", "pad"), CONV_CASES, ids=str)
def test_conv_forward_and_backward_match_the_course_loops(shape_prev, f, n_C, stride, pad, dtype):
    check_conv(shape_prev, f, n_C, stride, pad, dtype, seed=1)


POOL_CASES = [  # (m, n_H_prev, n_W_prev, n_C), f, stride: windows apart, touching and overlapping
    ((2, 4, 6, 3), 2, 2),
    ((3, 5, 7, 2), 3, 2),
    ((2, 5, 4, 3), 2, 1),
    ((2, 7, 5, 1), 3, 3),
    ((1, 3, 4, 2), 1, 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(("shape_prev", "f", "stride"), POOL_CASES, ids=str)
def test_pool_forward_and_backward_match_the_course_loops(shape_prev, f, stride, mode, dtype):
    check_pool(shape_prev, f, stride, mode, dtype, seed=2)


def test_max_pool_forward_picks_an_input_exactly():
    A_prev = np.random.default_rng(3).standard_normal((2, 5, 6, 3)).astype(np.float32)
    A, _ = pool_forward(A_prev, {"f": 3, "stride": 2}, "max")
    np.testing.assert_array_equal(A, loop_pool_forward(A_prev, {"f": 3, "stride": 2}, "max"))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_single_step_is_the_window_sum_plus_bias(dtype):
    a_slice = np.arange(12, dtype=dtype).reshape(2, 2, 3)  # 0 .. 11
    W = np.full((2, 2, 3), 0.5, dtype=dtype)
    Z = conv_single_step(a_slice, W, np.array([[[-1.0]]], dtype=dtype))
    assert Z == 0.5 * 66 - 1  # sum(0 .. 11) = 66, every step exact in either dtype
    assert Z.dtype == dtype


def test_output_size_rule_floors():
    A_prev, W, b, _ = random_case((2, 7, 5, 3), 3, 4, np.float64, seed=4)
    Z, _ = conv_forward(A_prev, W, b, {"stride": 2, "pad": 1})
    assert Z.shape == (2, 4, 3, 4)  # floor((7 - 3 + 2) / 2) + 1 = 4, floor((5 - 3 + 2) / 2) + 1 = 3
    Z, _ = conv_forward(A_prev, W, b, {"stride": 3, "pad": 0})
    assert Z.shape == (2, 2, 1, 4)  # floor(4 / 3) + 1 = 2, floor(2 / 3) + 1 = 1
    A, _ = pool_forward(A_prev, {"f": 2, "stride": 2})
    assert A.shape == (2, 3, 2, 3)  # floor((7 - 2) / 2) + 1 = 3, floor((5 - 2) / 2) + 1 = 2, channels kept


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_pad_pads_height_and_width_only(dtype):
    X = np.random.default_rng(5).standard_normal((3, 4, 2, 5)).astype(dtype) + 10  # no zeros inside
    X_pad = zero_pad(X, 2)
    assert X_pad.shape == (3, 8, 6, 5) and X_pad.dtype == dtype
    np.testing.assert_array_equal(X_pad[:, 2:-2, 2:-2, :], X)
    border = np.ones(X_pad.shape, dtype=bool)
    border[:, 2:-2, 2:-2, :] = False
    assert np.all(X_pad[border] == 0)
    np.testing.assert_array_equal(zero_pad(X, 0), X)


def test_mask_and_distribute_value():
    x = np.array([[1.0, 3.0], [3.0, -2.0]])
    np.testing.assert_array_equal(create_mask_from_window(x), [[False, True], [True, False]])
    np.testing.assert_array_equal(distribute_value(2, (2, 2)), np.full((2, 2), 0.5))  # the course's example
    spread = distribute_value(np.float32(3), (2, 3))
    assert spread.dtype == np.float32 and spread.shape == (2, 3)
    np.testing.assert_array_equal(spread, np.full((2, 3), 0.5, dtype=np.float32))


def test_max_pool_backward_sends_dA_to_every_tied_maximum():
    # A relu output: the first window is all zeros, the second has two tied 3s, the third one maximum.
    A_prev = np.array([[0.0, 0.0, 1.0, 3.0, 2.0, 5.0], [0.0, 0.0, 3.0, 0.0, 4.0, 1.0]]).reshape(1, 2, 6, 1)
    cache = (A_prev, {"f": 2, "stride": 2})
    A, _ = pool_forward(A_prev, cache[1])
    np.testing.assert_array_equal(A.ravel(), [0.0, 3.0, 5.0])
    dA = np.array([7.0, 2.0, -1.0]).reshape(1, 1, 3, 1)
    dA_prev = pool_backward(dA, cache, "max")
    expected = np.array([[7.0, 7.0, 0.0, 2.0, 0.0, -1.0], [7.0, 7.0, 2.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(dA_prev.reshape(2, 6), expected)


def test_average_pool_backward_divides_by_f_squared():
    A_prev = np.zeros((1, 3, 3, 1))
    dA_prev = pool_backward(np.array([[[[9.0]]]]), (A_prev, {"f": 3, "stride": 1}), "average")
    np.testing.assert_array_equal(dA_prev, np.ones((1, 3, 3, 1)))


def test_unknown_pool_mode_is_rejected():
    with pytest.raises(ValueError, match="unknown pooling mode 'mean': expected one of max, average"):
        pool_forward(np.zeros((1, 2, 2, 1)), {"f": 2, "stride": 1}, "mean")


# Finite differences, float64. The objective J = sum(output * G) for a random upstream gradient G is linear in each
# input for conv and average pooling, and linear near a tie-free input for max pooling, so the central difference
# (J(x + h) - J(x - h)) / 2h has no truncation error: only J's rounding, about eps sum |terms| < 1e-13, divided by
# 2h = 2e-5, under 1e-8. A missing or misplaced term is off by one entry of G (order 1).
H, FD_TOL = 1e-5, 1e-7


def central_differences(objective, x):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + H
        plus = objective()
        x[index] = saved - H
        minus = objective()
        x[index] = saved
        grad[index] = (plus - minus) / (2 * H)
    return grad


def spaced_values(shape, rng):
    """Distinct values 0.01 apart, shuffled: a shift by H never changes which entry is a window's max."""
    return rng.permutation(np.prod(shape)).reshape(shape) * 0.01 - 0.3


@pytest.mark.parametrize(("stride", "pad"), [(1, 0), (2, 1), (1, 2)])
def test_conv_backward_matches_finite_differences(stride, pad):
    rng = np.random.default_rng(6)
    A_prev, W, b = (
        rng.standard_normal((2, 5, 4, 3)),
        rng.standard_normal((3, 3, 3, 2)),
        rng.standard_normal((1, 1, 1, 2)),
    )
    hparameters = {"stride": stride, "pad": pad}
    Z, cache = conv_forward(A_prev, W, b, hparameters)
    G = rng.standard_normal(Z.shape)

    def objective():
        return np.sum(conv_forward(A_prev, W, b, hparameters)[0] * G)

    dA_prev, dW, db = conv_backward(G, cache)
    for analytic, x in ((dA_prev, A_prev), (dW, W), (db, b)):
        np.testing.assert_allclose(analytic, central_differences(objective, x), rtol=0, atol=FD_TOL)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(("f", "stride"), [(2, 2), (3, 2), (2, 1)])
def test_pool_backward_matches_finite_differences(f, stride, mode):
    rng = np.random.default_rng(7)
    A_prev = spaced_values((2, 5, 6, 2), rng)
    hparameters = {"f": f, "stride": stride}
    A, cache = pool_forward(A_prev, hparameters, mode)
    G = rng.standard_normal(A.shape)

    def objective():
        return np.sum(pool_forward(A_prev, hparameters, mode)[0] * G)

    expected = central_differences(objective, A_prev)
    np.testing.assert_allclose(pool_backward(G, cache, mode), expected, rtol=0, atol=FD_TOL)


@st.composite
def layer_cases(draw):
    f, stride = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    pad = draw(st.integers(0, 2))
    n_H_prev = draw(st.integers(max(1, f - 2 * pad), 7))
    n_W_prev = draw(st.integers(max(1, f - 2 * pad), 7))
    shape_prev = (draw(st.integers(1, 3)), n_H_prev, n_W_prev, draw(st.integers(1, 3)))
    return shape_prev, f, stride, pad


@settings(derandomize=True, database=None, max_examples=25, deadline=None)
@given(
    case=layer_cases(),
    n_C=st.integers(1, 3),
    mode=st.sampled_from(["max", "average"]),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**16),
)
def test_every_function_matches_the_loops_for_drawn_layers(case, n_C, mode, dtype, seed):
    shape_prev, f, stride, pad = case
    check_conv(shape_prev, f, n_C, stride, pad, dtype, seed)
    if min(shape_prev[1:3]) >= f:  # pooling has no padding: its window must fit as it is
        check_pool(shape_prev, f, stride, mode, dtype, seed)
