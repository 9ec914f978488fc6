"""The verifier's own centred differences, against an analytic gradient."""

import numpy as np
import pytest

import verify.checking.checks
from verify.checking.finite_differences import centred_differences

W0 = np.array([[0.3, -1.2], [2.0, 0.5]])
b0 = np.array([[0.7], [-0.4]])


def cost(p: dict) -> float:
    """J = sum W^3 / 3 + sum sin(b): dJ/dW = W^2, dJ/db = cos(b)."""
    return float(np.sum(p["W1"] ** 3) / 3 + np.sum(np.sin(p["b1"])))


def test_centred_differences_match_the_analytic_gradient():
    params = {"W1": W0.copy(), "b1": b0.copy()}
    every = {k: list(np.ndindex(v.shape)) for k, v in params.items()}
    approx = centred_differences(cost, params, 1e-5, every)
    np.testing.assert_allclose(approx["dW1"], W0**2, rtol=1e-9)  # O(epsilon^2) = 1e-10 of curvature
    np.testing.assert_allclose(approx["db1"], np.cos(b0), rtol=1e-9)
    assert np.array_equal(params["W1"], W0) and np.array_equal(params["b1"], b0)  # every entry put back


def test_only_the_entries_asked_for_are_perturbed():
    approx = centred_differences(cost, {"W1": W0.copy(), "b1": b0.copy()}, 1e-5, {"W1": [(1, 0)]})
    assert approx["dW1"][1, 0] == pytest.approx(4.0, rel=1e-9)
    assert np.count_nonzero(approx["dW1"]) == 1 and not approx["db1"].any()


def test_an_entry_is_put_back_when_the_cost_raises():
    params = {"W1": W0.copy()}

    def failing(p: dict) -> float:
        raise RuntimeError("the implementation failed")

    with pytest.raises(RuntimeError):
        centred_differences(failing, params, 1e-5, {"W1": [(0, 0)]})
    assert np.array_equal(params["W1"], W0)


def test_the_gradient_check_does_not_lean_on_scratch():
    assert "numerical_gradients" not in vars(verify.checking.checks) and "scratch" not in vars(verify.checking.checks)
