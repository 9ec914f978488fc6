"""torch_ref.conv: the course's channels-last convolution and pooling by torch's NCHW operations, beside the
course's formulas written here as nested loops."""

import numpy as np
import pytest
import torch
from torch import nn

import torch_ref
from torch_ref import conv
from torch_ref.layout import load_params, to_params

# (m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad): both strides, pads 0 to 2, f 1 to 3, non-square inputs
CONV_CASES = [
    (2, 5, 4, 3, 2, 3, 1, 0),
    (3, 6, 7, 2, 4, 2, 2, 1),
    (2, 4, 5, 1, 3, 1, 1, 2),
    (2, 7, 6, 3, 5, 3, 2, 2),
    (3, 5, 5, 2, 1, 2, 1, 1),
]
# (m, n_H_prev, n_W_prev, n_C, f, stride)
POOL_CASES = [(2, 4, 6, 3, 2, 2), (3, 5, 4, 2, 3, 1), (2, 7, 5, 1, 3, 2), (2, 4, 4, 2, 1, 1), (2, 5, 6, 3, 2, 1)]
DTYPES = [np.float64, np.float32]


def conv_loops(A_prev, W, b, stride, pad):
    """The course's conv_forward: Z[i, h, w, c] = sum(A_pad window * W[..., c]) + b[..., c]."""
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    f, n_C = W.shape[0], W.shape[3]
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n_H, n_W = (n_H_prev - f + 2 * pad) // stride + 1, (n_W_prev - f + 2 * pad) // stride + 1
    Z = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = A_pad[i, h * stride : h * stride + f, w * stride : w * stride + f, :]
                    Z[i, h, w, c] = np.sum(window * W[..., c]) + b[0, 0, 0, c]
    return Z


def pool_loops(A_prev, f, stride, mode):
    """The course's pool_forward: the max or the mean of each window, per channel."""
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C), dtype=A_prev.dtype)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = A_prev[i, h * stride : h * stride + f, w * stride : w * stride + f, c]
                    A[i, h, w, c] = np.max(window) if mode == "max" else np.mean(window)
    return A


def conv_arrays(case, dtype=np.float64, seed=0):
    m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad = case
    rng = np.random.default_rng(seed)
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev)).astype(dtype)
    W = rng.standard_normal((f, f, n_C_prev, n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    return A_prev, W, b, {"stride": stride, "pad": pad}


def rounding(dtype, terms, size):
    """A sum of `terms` products reordered differs by at most about terms * eps * (the sum of |products|);
    `size` bounds that sum. Factor 2 for the bias and the float32 products' own rounding."""
    return 2 * terms * np.finfo(dtype).eps * size


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_forward_is_the_course_formula(case, dtype):
    A_prev, W, b, hp = conv_arrays(case, dtype)
    Z = conv.conv_forward(A_prev, W, b, hp)
    expected = conv_loops(A_prev, W, b, hp["stride"], hp["pad"])
    assert Z.shape == expected.shape and Z.dtype == dtype
    terms = W[..., 0].size
    size = terms * np.abs(A_prev).max() * np.abs(W).max() + np.abs(b).max()
    np.testing.assert_allclose(Z, expected, rtol=0, atol=rounding(dtype, terms, size))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", conv.MODES)
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_forward_is_the_course_formula(case, mode, dtype):
    m, n_H_prev, n_W_prev, n_C, f, stride = case
    A_prev = np.random.default_rng(1).standard_normal((m, n_H_prev, n_W_prev, n_C)).astype(dtype)
    A = conv.pool_forward(A_prev, {"f": f, "stride": stride}, mode)
    expected = pool_loops(A_prev, f, stride, mode)
    assert A.shape == expected.shape and A.dtype == dtype
    # max picks an entry exactly; a mean of f f entries rounds like a sum of f f terms
    np.testing.assert_allclose(A, expected, rtol=0, atol=rounding(dtype, f * f, np.abs(A_prev).max()))


def central_differences(fn, x, h=1e-3):
    """d fn / d x entry by entry; exact up to rounding for fn linear in x (whatever h)."""
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


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_backward_is_the_gradient_of_sum_Z_dZ(case):
    A_prev, W, b, hp = conv_arrays(case)
    dZ = np.random.default_rng(2).standard_normal(conv_loops(A_prev, W, b, hp["stride"], hp["pad"]).shape)
    dA_prev, dW, db = conv.conv_backward(dZ, A_prev, W, b, hp)

    def s():
        return np.sum(conv_loops(A_prev, W, b, hp["stride"], hp["pad"]) * dZ)

    assert db.shape == (1, 1, 1, W.shape[3])
    # s is linear in each argument: the differences carry rounding only, about 1e-16 |s| / h
    for grad, x in ((dA_prev, A_prev), (dW, W), (db, b)):
        np.testing.assert_allclose(grad, central_differences(s, x), rtol=0, atol=1e-9)
    # no 1/m: db is the plain sum of dZ over examples and positions
    np.testing.assert_allclose(db[0, 0, 0], dZ.sum(axis=(0, 1, 2)), rtol=1e-12)


@pytest.mark.parametrize("mode", conv.MODES)
@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_backward_is_the_gradient_of_sum_A_dA(case, mode):
    m, n_H_prev, n_W_prev, n_C, f, stride = case
    A_prev = np.random.default_rng(3).standard_normal((m, n_H_prev, n_W_prev, n_C))  # no ties: real draws
    hp = {"f": f, "stride": stride}
    dA = np.random.default_rng(4).standard_normal(pool_loops(A_prev, f, stride, mode).shape)
    dA_prev = conv.pool_backward(dA, A_prev, hp, mode)
    # max is linear near a point with no ties, as long as the step does not reorder a window (1e-6 is far below
    # the gaps between random draws)
    expected = central_differences(lambda: np.sum(pool_loops(A_prev, f, stride, mode) * dA), A_prev, h=1e-6)
    np.testing.assert_allclose(dA_prev, expected, rtol=0, atol=1e-8)
    assert not conv.tied_windows(A_prev, hp).any()


def test_tied_windows_finds_a_window_of_zeros_and_torch_routes_it_to_one_entry():
    rng = np.random.default_rng(5)
    A_prev = rng.standard_normal((2, 4, 4, 3))
    A_prev[1, 2:4, 0:2, 2] = 0.0
    A_prev[1, 2:4, 0:2, 2][0, 1] = -1.0  # three zeros tie for the maximum of window (1, 0)
    A_prev[0, 0:2, 2:4, 1] = 7.0  # a window whose four entries tie
    hp = {"f": 2, "stride": 2}
    tied = conv.tied_windows(A_prev, hp)
    assert tied.shape == (2, 2, 2, 3) and tied.dtype == np.bool_
    assert sorted(zip(*np.nonzero(tied))) == [(0, 0, 1, 1), (1, 1, 0, 2)]
    assert tied.sum() == 2

    dA_prev = conv.pool_backward(np.ones((2, 2, 2, 3)), A_prev, hp, "max")
    # torch: each window's gradient to one entry (the course's mask would send 1 to all three, four tied entries)
    assert np.count_nonzero(dA_prev[1, 2:4, 0:2, 2]) == 1 and dA_prev[1, 2:4, 0:2, 2].sum() == 1.0
    assert np.count_nonzero(dA_prev[0, 0:2, 2:4, 1]) == 1

    relu_zeros = np.zeros((1, 4, 4, 2))
    assert conv.tied_windows(relu_zeros, {"f": 2, "stride": 2}).all()
    assert conv.tied_windows(relu_zeros, {"f": 3, "stride": 1}).sum() == 1 * 2 * 2 * 2
    assert not conv.tied_windows(relu_zeros, {"f": 1, "stride": 1}).any()  # a window of one entry has no tie


def conv_map(case, dtype=torch.float64):
    m, n_H_prev, n_W_prev, n_C_prev, n_C, f, stride, pad = case
    return conv.ConvMap((n_H_prev, n_W_prev, n_C_prev), n_C, f, stride=stride, pad=pad, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_map_loads_and_gives_back_the_course_arrays_exactly(case, dtype):
    A_prev, W, b, hp = conv_arrays(case, dtype)
    layer = conv_map(case, {np.float64: torch.float64, np.float32: torch.float32}[dtype])
    layer.load_course({"W": W, "b": b})
    back = layer.course_values(lambda p: p.detach())
    np.testing.assert_array_equal(back["W"], W)
    np.testing.assert_array_equal(back["b"], b)
    assert back["W"].dtype == dtype and back["b"].shape == b.shape
    assert layer.decayed() == [layer.conv.weight]

    # its rows are the course's Z flattened channels last
    m = A_prev.shape[0]
    with torch.no_grad():
        rows = layer(torch.tensor(A_prev.reshape(m, -1))).numpy()
    Z = conv.conv_forward(A_prev, W, b, hp)
    assert layer.n_out == Z[0].size and layer.out_shape == Z.shape[1:]
    np.testing.assert_array_equal(rows, Z.reshape(m, -1))


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_map_gradient_is_conv_backward_in_the_course_layout(case):
    A_prev, W, b, hp = conv_arrays(case)
    m = A_prev.shape[0]
    dZ = np.random.default_rng(6).standard_normal(conv.conv_forward(A_prev, W, b, hp).shape)
    layer = conv_map(case)
    layer.load_course({"W": W, "b": b})
    a = torch.tensor(A_prev.reshape(m, -1), requires_grad=True)
    (layer(a) * torch.tensor(dZ.reshape(m, -1))).sum().backward()
    grads = layer.course_values(lambda p: p.grad)
    dA_prev, dW, db = conv.conv_backward(dZ, A_prev, W, b, hp)
    np.testing.assert_allclose(grads["W"], dW, rtol=1e-12)
    np.testing.assert_allclose(grads["b"], db, rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), dA_prev.reshape(m, -1), rtol=1e-12)
    # and the loop formula's own derivative, in one entry of W
    step = np.zeros_like(W)
    step[-1, 0, -1, 0] = 1e-3
    s_plus = np.sum(conv_loops(A_prev, W + step, b, hp["stride"], hp["pad"]) * dZ)
    s_minus = np.sum(conv_loops(A_prev, W - step, b, hp["stride"], hp["pad"]) * dZ)
    np.testing.assert_allclose(grads["W"][-1, 0, -1, 0], (s_plus - s_minus) / 2e-3, rtol=1e-8)


def test_conv_map_refuses_course_arrays_of_the_wrong_shape():
    layer = conv.ConvMap((5, 5, 3), 4, 3)
    W, b = np.zeros((3, 3, 3, 4)), np.zeros((1, 1, 1, 4))
    with pytest.raises(ValueError, match=r"W of shape \(3, 3, 3, 4\)"):
        layer.load_course({"W": W.transpose(3, 2, 0, 1), "b": b})  # torch's layout passed as the course's
    with pytest.raises(ValueError, match="b of shape"):
        layer.load_course({"W": W, "b": b.reshape(4, 1)})
    with pytest.raises(ValueError, match=r"rows \(m, 75\)"):
        layer(torch.zeros(2, 74))


@pytest.mark.parametrize("mode", conv.MODES)
def test_pool_map_is_pool_forward_on_rows(mode):
    A_prev = np.random.default_rng(7).standard_normal((3, 5, 6, 2))
    layer = conv.PoolMap((5, 6, 2), 2, 2, mode)
    A = conv.pool_forward(A_prev, {"f": 2, "stride": 2}, mode)
    with torch.no_grad():
        rows = layer(torch.tensor(A_prev.reshape(3, -1))).numpy()
    np.testing.assert_array_equal(rows, A.reshape(3, -1))
    assert layer.out_shape == (2, 3, 2) and layer.n_out == 12
    assert list(layer.parameters()) == [] and layer.course_values(lambda p: p) == {}
    with pytest.raises(ValueError, match="no parameters"):
        layer.load_course({"W": np.zeros(1)})
    with pytest.raises(ValueError, match="unknown pooling mode"):
        conv.PoolMap((5, 6, 2), 2, 2, "min")


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv_pool_flatten_dense_stack_is_the_course_network(dtype):
    """The course: Z1 = conv(X), A1 = relu(Z1), A2 = maxpool(A1), Z3 = W3 flatten(A2) + b3 with the flatten
    channels last, A2.reshape(m, -1).T (H W C features as columns). Torch: TorchNet with ConvMap, PoolMap and an
    nn.Linear holding W3 unchanged."""
    rng = np.random.default_rng(8)
    m, shape = 4, (6, 5, 2)
    X = rng.standard_normal((m, *shape)).astype(dtype)
    params = {
        "W1": rng.standard_normal((3, 3, 2, 3)).astype(dtype),
        "b1": rng.standard_normal((1, 1, 1, 3)).astype(dtype),
    }
    A2 = pool_loops(np.maximum(conv_loops(X, params["W1"], params["b1"], 1, 1), 0), 2, 2, "max")  # (4, 3, 2, 3)
    params |= {
        "W3": rng.standard_normal((2, A2[0].size)).astype(dtype),
        "b3": rng.standard_normal((2, 1)).astype(dtype),
    }
    Z3 = params["W3"] @ A2.reshape(m, -1).T + params["b3"]  # (2, m)

    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    first = conv.ConvMap(shape, 3, 3, pad=1, dtype=tdtype)
    pool = conv.PoolMap(first.out_shape, 2, 2)
    net = torch_ref.TorchNet(
        [first.n_in, first.n_out, pool.n_out, 2], ["relu", "linear", "linear"], dtype=tdtype, maps=[first, pool, None]
    )
    load_params(net, params)
    with torch.no_grad():
        logits = net(torch.tensor(X.reshape(m, -1))).numpy()  # (m, 2) rows
    atol = 1e-12 if dtype == np.float64 else 1e-4  # float32: sums of 18 then 18 terms of size ~10
    np.testing.assert_allclose(logits, Z3.T, rtol=0, atol=atol)
    back = to_params(net)
    assert sorted(back) == ["W1", "W3", "b1", "b3"]
    for key, value in params.items():
        np.testing.assert_array_equal(back[key], value)

    # torch's own nn.Flatten on NCHW orders the features (C, H, W): with W3 unmapped it is another network
    with torch.no_grad():
        a = torch.relu(first.conv(torch.tensor(X).permute(0, 3, 1, 2)))
        nchw = nn.Flatten()(nn.functional.max_pool2d(a, 2, 2)).numpy()
    assert not np.allclose(nchw @ params["W3"].T + params["b3"][:, 0], Z3.T, atol=1e-3)
