"""The tolerance model's constants and its scale: what each quantity is judged against."""

import numpy as np
import pytest

import scratch
import torch_ref
from verify.judging.tolerance import SLOPES, UPDATE_ROUNDING, term_scales, update_floors
from verify.network import Network, Point

Z = np.linspace(-8, 8, 160001).reshape(1, -1)


def test_every_activation_has_its_slopes():
    assert set(SLOPES) == set(scratch.ACTIVATIONS)


@pytest.mark.parametrize("name", [a for a in scratch.ACTIVATIONS if not scratch.get_activation(a).output_only])
def test_the_slopes_are_the_largest_first_and_second_derivatives(name):
    g_prime = torch_ref.activation_derivative(name, Z)  # from torch's autograd, not from scratch
    g_second = np.diff(g_prime[0]) / np.diff(Z[0])
    largest_slope, largest_curvature = SLOPES[name]
    assert np.max(np.abs(g_prime)) == pytest.approx(largest_slope, rel=1e-3)
    if largest_curvature:
        assert np.max(np.abs(g_second)) == pytest.approx(largest_curvature, rel=1e-3)
    else:  # piecewise linear: g'' is 0 away from the kink
        assert np.max(np.abs(g_second[np.abs(Z[0, 1:]) > 1e-3])) == 0


def test_the_update_floor_is_the_rounding_of_the_weights_it_moves():
    params = {"W1": np.array([[0.5, -2.0]]), "b1": np.array([[0.0]])}
    floors = update_floors(params, np.float64)
    assert floors == {("W", 1): UPDATE_ROUNDING * np.finfo(np.float64).eps * 2.0, ("b", 1): 0.0}


def scales_and_values(last_layer: float) -> tuple[dict, dict]:
    """A 3-4-2 tanh/linear network with its last layer (and labels) multiplied by `last_layer`."""
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.standard_normal((4, 3)),
        "b1": rng.standard_normal((4, 1)),
        "W2": rng.standard_normal((2, 4)) * last_layer,
        "b2": rng.standard_normal((2, 1)) * last_layer,
    }
    X, Y = rng.standard_normal((3, 16)), rng.standard_normal((2, 16)) * last_layer
    ref = torch_ref.forward_backward(torch_ref.from_params(params, ["tanh", "linear"]), X, Y, "mse")
    network = Network(sizes=(3, 4, 2), activations=("tanh", "linear"), loss="mse")
    return term_scales(network, Point(X, Y, params), ref), ref


@pytest.mark.parametrize("last_layer", [1e-12, 1e12])
def test_scales_follow_the_size_of_the_values(last_layer):
    # Z[2], A[2] and every gradient of layer 2 scale with the last layer, and so must their
    # scales: there is no absolute floor for a small gradient to hide under.
    E, ref = scales_and_values(last_layer)
    E1, ref1 = scales_and_values(1.0)
    for q in ("Z", "A", "dZ", "dW", "db"):
        ratio = E[(q, 2)] / np.max(np.abs(ref[f"{q}2"]))
        assert ratio == pytest.approx(E1[(q, 2)] / np.max(np.abs(ref1[f"{q}2"])), rel=1e-6), q
        assert 1 <= ratio < 100, q  # within a small factor of the value itself


def test_a_non_finite_entry_leaves_the_other_entries_differences_as_they_are():
    from verify.judging.compare import agreement

    finite = (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    both_inf = (np.array([np.inf, 3.0]), np.array([np.inf, 3.0]))
    one_inf = (np.array([np.inf]), np.array([5.0]))
    stats = agreement([finite, both_inf, one_inf], [2.0, 3.0, 5.0], 1e-7)
    assert stats[0].max_abs == pytest.approx(1e-12, rel=1e-3) and stats[0].agrees  # was inf: the whole batch turned inf
    assert stats[1].max_abs == 0.0 and stats[1].agrees  # the same inf on both sides agrees
    assert stats[2].max_abs == np.inf and not stats[2].agrees


@pytest.mark.end_to_end
def test_a_float32_gradient_that_underflows_to_subnormals_is_compared_on_their_grid():
    """A dead float32 network's dW of about 1e-41 (below float32's smallest normal, 1.2e-38) is no finer than the
    subnormal grid (1.4e-45): its scale's rtol x 3e-40 = 4e-46 would ask for more than float32 can hold."""
    from conftest import tiny

    from verify import run

    report = run(
        tiny(
            arch=(4, 6, 6, 6, 1),
            lambd=1.17549e-38,
            dtype="float32",
            seed=57,
            optimizer="adam",
            mini_batch_size=16,
            learning_rate=0.05,
        )
    )
    assert report.ok, report.first_divergence
    dW4 = report.checks[3].rows[("dW", 4)]
    assert 0 < dW4.max_abs < 1e-44 and dW4.tolerance < 1e-43  # its closest call: subnormals a step apart, judged so


def test_the_moments_floors_are_the_rounding_of_their_coefficients():
    """2 eps (|v| + |g|) for v, 2 eps (|s| + g^2) for s, entry by entry, over 1 - beta^t when corrected;
    Adam's step divides each entry's by its own d = sqrt(s_corrected) + epsilon; gd has none."""
    from verify.judging.tolerance import optimizer_floors
    from verify.optimization import OptimizerStep

    eps = np.finfo(np.float64).eps
    g = {"dW1": np.array([[0.5, -2.0]])}
    state = {"v": {"dW1": np.array([[0.25, 1.0]])}, "s": {"dW1": np.array([[3.0, 0.0]])}}
    torch_state = {"s_corrected": {"dW1": np.array([[4.0, 1.0]])}, "v_corrected": {"dW1": np.array([[0.0, 0.0]])}}
    settings = {"beta1": 0.5, "beta2": 0.75, "epsilon": 1.0}
    floors = optimizer_floors(OptimizerStep("adam", settings, 2, 0.1, state, torch_state), g, np.float64)
    assert floors[("v_dW", 1)] == 2 * eps * (1.0 + 2.0)
    assert floors[("s_dW", 1)] == 2 * eps * (0.0 + 4.0)  # the second entry's, not the largest s plus the largest g^2
    assert floors[("v_corrected_dW", 1)] == pytest.approx(2 * eps * 3.0 / (1 - 0.25), rel=1e-15)
    assert floors[("W", 1)] == pytest.approx(0.1 * floors[("v_corrected_dW", 1)] / 2.0, rel=1e-15)  # d = 1 + 1
    assert optimizer_floors(OptimizerStep("gd", settings, 2, 0.1, state, torch_state), g, np.float64) == {}
