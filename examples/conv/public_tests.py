"""Checks the convolution notebook's test cells call: each takes the learner's function, runs it on small seeded
inputs and compares with a vectorised computation of the same rule, printing what it found.

Written for this project's example notebook; the verifier (python -m verify --impl ...) checks far more shapes,
strides and pads, the backward functions against torch, and names the classic slips.
"""

import numpy as np


def _report(name, problems):
    if problems:
        for problem in problems:
            print(f"{name}: {problem}")
    else:
        print(f"{name}: All tests passed.")


def _windows(A, f, stride, n_H, n_W):
    """Every f x f window of A (m, n_H_prev, n_W_prev, n_C): (m, n_H, n_W, f, f, n_C)."""
    rows = np.arange(n_H)[:, None] * stride + np.arange(f)[None, :]  # (n_H, f)
    cols = np.arange(n_W)[:, None] * stride + np.arange(f)[None, :]  # (n_W, f)
    return A[:, rows[:, None, :, None], cols[None, :, None, :], :]


def _conv(A_prev, W, b, stride, pad):
    A = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    f = W.shape[0]
    n_H = (A_prev.shape[1] - f + 2 * pad) // stride + 1
    n_W = (A_prev.shape[2] - f + 2 * pad) // stride + 1
    return np.einsum("mhwijc,ijcd->mhwd", _windows(A, f, stride, n_H, n_W), W) + b.reshape(-1)


def zero_pad_test(target):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 2, 4, 2))
    problems = []
    for pad in (0, 1, 3):
        X_pad = target(X, pad)
        if X_pad.shape != (3, 2 + 2 * pad, 4 + 2 * pad, 2):
            problems.append(f"pad {pad}: shape {X_pad.shape}")
        elif not np.array_equal(X_pad[:, pad : pad + 2, pad : pad + 4, :], X) or np.count_nonzero(X_pad) != X.size:
            problems.append(f"pad {pad}: the image is not in the middle of zeros")
    _report("zero_pad", problems)


def conv_single_step_test(target):
    rng = np.random.default_rng(1)
    a, W, b = rng.standard_normal((3, 3, 2)), rng.standard_normal((3, 3, 2)), rng.standard_normal((1, 1, 1))
    Z = target(a, W, b)
    expected = float(np.sum(a * W) + b.item())
    _report(
        "conv_single_step", [] if np.isclose(float(np.squeeze(Z)), expected) else [f"Z = {Z}, expected {expected:.6f}"]
    )


def conv_forward_test(target):
    rng = np.random.default_rng(2)
    problems = []
    for f, stride, pad in ((3, 2, 1), (2, 1, 0), (1, 3, 2)):
        A_prev, W, b = (
            rng.standard_normal((2, 5, 6, 3)),
            rng.standard_normal((f, f, 3, 4)),
            rng.standard_normal((1, 1, 1, 4)),
        )
        hparameters = {"stride": stride, "pad": pad}
        Z, cache = target(A_prev, W, b, hparameters)
        expected = _conv(A_prev, W, b, stride, pad)
        if Z.shape != expected.shape:
            problems.append(f"f {f}, stride {stride}, pad {pad}: Z is {Z.shape}, expected {expected.shape}")
        elif not np.allclose(Z, expected):
            problems.append(f"f {f}, stride {stride}, pad {pad}: wrong values in Z")
        if len(cache) != 4 or cache[0] is not A_prev or cache[3] is not hparameters:
            problems.append("the cache should be (A_prev, W, b, hparameters)")
    _report("conv_forward", problems)


def pool_forward_test(target):
    rng = np.random.default_rng(3)
    A_prev = rng.standard_normal((2, 5, 7, 3))
    problems = []
    for f, stride in ((2, 2), (3, 1)):
        n_H, n_W = (5 - f) // stride + 1, (7 - f) // stride + 1
        windows = _windows(A_prev, f, stride, n_H, n_W)
        for mode, expected in (("max", windows.max(axis=(3, 4))), ("average", windows.mean(axis=(3, 4)))):
            A, cache = target(A_prev, {"f": f, "stride": stride}, mode=mode)
            if A.shape != expected.shape or not np.allclose(A, expected):
                problems.append(f"mode {mode}, f {f}, stride {stride}: wrong A")
    _report("pool_forward", problems)


def conv_backward_test(target):
    rng = np.random.default_rng(4)
    A_prev, W, b = (
        rng.standard_normal((2, 4, 5, 3)),
        rng.standard_normal((2, 2, 3, 2)),
        rng.standard_normal((1, 1, 1, 2)),
    )
    hparameters = {"stride": 2, "pad": 1}
    Z = _conv(A_prev, W, b, 2, 1)
    dZ = rng.standard_normal(Z.shape)
    dA_prev, dW, db = target(dZ, (A_prev, W, b, hparameters))
    problems = []
    # the sum s = sum(Z * dZ) is linear in each of A_prev, W and b: its gradients are exact finite differences
    step = np.zeros_like(W)
    step[1, 0, 2, 1] = 1.0
    if not np.isclose(dW[1, 0, 2, 1], np.sum((_conv(A_prev, W + step, b, 2, 1) - Z) * dZ)):
        problems.append("wrong dW")
    if db.shape != (1, 1, 1, 2) or not np.allclose(db.ravel(), dZ.sum(axis=(0, 1, 2))):
        problems.append(f"db should be (1, 1, 1, 2), the sum of dZ; got {db.shape}")
    step = np.zeros_like(A_prev)
    step[1, 3, 2, 0] = 1.0
    if dA_prev.shape != A_prev.shape or not np.isclose(
        dA_prev[1, 3, 2, 0], np.sum((_conv(A_prev + step, W, b, 2, 1) - Z) * dZ)
    ):
        problems.append("wrong dA_prev")
    _report("conv_backward", problems)


def create_mask_from_window_test(target):
    x = np.array([[0.5, -1.0, 2.0], [1.5, 2.0, -3.0]])
    mask = target(x)
    _report("create_mask_from_window", [] if np.array_equal(mask, x == 2.0) else [f"mask {mask}"])


def distribute_value_test(target):
    a = target(3.0, (2, 3))
    _report("distribute_value", [] if np.shape(a) == (2, 3) and np.allclose(a, 0.5) else [f"a = {a}"])


def pool_backward_test(target):
    rng = np.random.default_rng(5)
    A_prev = rng.standard_normal((2, 4, 4, 2))
    dA = rng.standard_normal((2, 2, 2, 2))
    problems = []
    average = target(dA, (A_prev, {"f": 2, "stride": 2}), mode="average")
    if not np.allclose(average, np.repeat(np.repeat(dA, 2, axis=1), 2, axis=2) / 4):
        problems.append("average: each entry of a window gets dA / (f * f)")
    maximum = target(dA, (A_prev, {"f": 2, "stride": 2}), mode="max")
    windows = _windows(A_prev, 2, 2, 2, 2)
    at_max = windows == windows.max(axis=(3, 4), keepdims=True)
    routed = _windows(maximum, 2, 2, 2, 2)
    if not np.allclose(np.where(at_max, routed, 0).sum(axis=(3, 4)), dA) or np.any(routed[~at_max]):
        problems.append("max: each window's dA goes to its maximum only")
    _report("pool_backward", problems)
