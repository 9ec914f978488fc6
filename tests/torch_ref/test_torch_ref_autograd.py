"""forward_backward against torch.func on a course-layout functional network, and against
centred finite differences, for every activation and every output/loss pair.
"""

import numpy as np
import pytest
import torch
from torch.func import grad
from torch_ref_cases import HIDDEN, OUTPUT_PAIRS, random_data, random_params

from torch_ref import evaluate, forward_backward, from_params, gradients, load_params
from torch_ref.dense import CourseLinear

# Reference activations and costs on course columns (units along dim 0), plain torch ops.
G = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.where(z > 0, z, 0.01 * z),
    "linear": lambda z: z,
    "softmax": lambda z: torch.softmax(z, dim=0),
}
COST = {
    "bce": lambda A, Y: -(Y * torch.log(A) + (1 - Y) * torch.log(1 - A)).sum() / Y.shape[1],
    "mse": lambda A, Y: ((A - Y) ** 2).sum() / (2 * Y.shape[1]),
    "ce": lambda A, Y: -(Y * torch.log(A)).sum() / Y.shape[1],
}


def cost_from(params, acts, loss, Y, l, A):
    """J computed from A[l] onwards: Z[k] = W[k] A[k-1] + b[k], A[k] = g[k](Z[k])."""
    for k in range(l + 1, len(acts) + 1):
        A = G[acts[k - 1]](params[f"W{k}"] @ A + params[f"b{k}"])
    return COST[loss](A, Y)


def reference(params, acts, loss, X, Y):
    p = {k: torch.from_numpy(v) for k, v in params.items()}
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    m, L = X.shape[1], len(acts)
    ref = {"cost": cost_from(p, acts, loss, Y, 0, X).item()}
    dparams = grad(lambda q: cost_from(q, acts, loss, Y, 0, X))(p)
    ref.update({f"d{k}": v for k, v in dparams.items()})
    A = X
    for l in range(1, L + 1):
        # Course dA[l-1], dZ[l]: gradients of the summed loss, m times dJ/dA, dJ/dZ.
        ref[f"dA{l - 1}"] = m * grad(lambda a: cost_from(p, acts, loss, Y, l - 1, a))(A)  # noqa: B023 (called here)
        Z = p[f"W{l}"] @ A + p[f"b{l}"]
        g = G[acts[l - 1]]
        ref[f"dZ{l}"] = m * grad(lambda z: cost_from(p, acts, loss, Y, l, g(z)))(Z)  # noqa: B023 (called here)
        A = g(Z)
        ref[f"Z{l}"], ref[f"A{l}"] = Z, A
    return {k: v if k == "cost" else v.numpy() for k, v in ref.items()}


CASES = [([h, h, out], loss) for h in HIDDEN for out, loss in OUTPUT_PAIRS]
CASES.append((["tanh", "leaky_relu", "relu", "sigmoid", "linear"], "mse"))  # mixed, L = 5


def case_id(value):
    return "-".join(value) if isinstance(value, list) else value


def network(acts, dtype=np.float64):
    """Random params and data for these activations: 3 inputs, hidden 4, 3, 4, ..., m = 5."""
    nL = 3 if acts[-1] == "softmax" else 2
    dims = [3, *[4, 3, 4, 3][: len(acts) - 1], nL]
    X, Y = random_data(3, nL, 5, acts[-1], dtype)
    return random_params(dims, dtype, seed=len(acts)), X, Y


@pytest.mark.parametrize("acts, loss", CASES, ids=case_id)
def test_matches_torch_func(acts, loss):
    params, X, Y = network(acts)
    got = forward_backward(from_params(params, acts), X, Y, loss)
    want = reference(params, acts, loss, X, Y)
    assert set(got) == set(want)
    np.testing.assert_allclose(got["cost"], want["cost"], rtol=1e-12)
    for key in sorted(set(want) - {"cost"}):
        assert got[key].shape == want[key].shape, key
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-12, err_msg=key)


def centred_difference(f, x, eps=1e-6):
    """dF/dx for every entry of x, perturbing a copy."""
    x = x.copy()
    out = np.empty_like(x)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        up = f(x)
        x[i] = saved - eps
        down = f(x)
        x[i] = saved
        out[i] = (up - down) / (2 * eps)
    return out


@pytest.mark.parametrize("acts, loss", CASES, ids=case_id)
def test_matches_finite_differences(acts, loss):
    params, X, Y = network(acts)
    model = from_params(params, acts)
    got = forward_backward(model, X, Y, loss)
    m = X.shape[1]

    def cost_at_X(x):
        return forward_backward(model, x, Y, loss)["cost"]

    def cost_at_W1(w):
        load_params(model, {**params, "W1": w})
        return forward_backward(model, X, Y, loss)["cost"]

    # dA0 is the gradient of the summed loss: m * dJ/dX.
    dA0 = m * centred_difference(cost_at_X, X)
    np.testing.assert_allclose(got["dA0"], dA0, rtol=1e-6, atol=1e-8)
    dW1 = centred_difference(cost_at_W1, params["W1"])
    np.testing.assert_allclose(got["dW1"], dW1, rtol=1e-6, atol=1e-8)


def test_repeated_calls_do_not_accumulate():
    params, X, Y = network(["relu", "sigmoid"])
    model = from_params(params, ["relu", "sigmoid"])
    first = forward_backward(model, X, Y, "bce")
    second = forward_backward(model, X, Y, "bce")
    for key in first:
        np.testing.assert_array_equal(second[key], first[key], err_msg=key)
    # The model's .grad hold this evaluation's gradients.
    for key, value in gradients(model).items():
        np.testing.assert_array_equal(value, second[key], err_msg=key)


@pytest.mark.parametrize("acts, loss", CASES, ids=case_id)
@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_evaluate_is_forward_backwards_cost_and_output(acts, loss, lambd):
    """evaluate's forward pass without gradients gives forward_backward's J and A[L] to the bit, and leaves the
    model's gradients alone."""
    params, X, Y = network(acts)
    model = from_params(params, acts)
    full = forward_backward(model, X, Y, loss, lambd)
    before = gradients(model)
    cost, A_L = evaluate(model, X, Y, loss, lambd)
    assert cost == full["cost"]
    np.testing.assert_array_equal(A_L, full[f"A{len(acts)}"])
    assert A_L.shape == Y.shape and A_L.flags.writeable
    for key, value in gradients(model).items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)
    if lambd:  # the penalty is in J: without it the cost is another number
        assert evaluate(model, X, Y, loss)[0] != cost


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_course_linear_is_nn_linear_in_the_course_orientation(dtype):
    """CourseLinear computes nn.Linear's A W^T + b, and autograd gives its weight and bias nn.Linear's gradients,
    to rounding; its rows are a view whose transpose (the next layer's A^T) is contiguous."""
    torch.manual_seed(0)
    plain = torch.nn.Linear(30, 7, dtype=dtype)
    course = CourseLinear(30, 7, dtype=dtype)
    course.load_state_dict(plain.state_dict())
    a, upstream = torch.randn(11, 30, dtype=dtype), torch.randn(11, 7, dtype=dtype)
    z_plain, z_course = plain(a), course(a)
    (z_plain * upstream).sum().backward()
    (z_course * upstream).sum().backward()
    eps = torch.finfo(dtype).eps
    assert z_course.shape == (11, 7) and z_course.t().is_contiguous()
    for mine, theirs in [
        (z_course, z_plain),
        (course.weight.grad, plain.weight.grad),
        (course.bias.grad, plain.bias.grad),
    ]:
        assert torch.allclose(mine, theirs, rtol=64 * eps, atol=64 * eps * float(theirs.detach().abs().max()))
