"""L2 regularisation: the penalty and dW's term are the course's formulas, and backprop matches the
finite differences of the regularised cost."""

import numpy as np
import pytest

import scratch


def network(seed=0, dims=(4, 5, 3, 1), m=12):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.standard_normal((dims[l], 1))
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    return params, X, Y


def test_the_penalty_is_lambd_over_2m_times_the_weights_squares_and_no_biases():
    params, X, Y = network()
    by_hand = 0.7 / (2 * 12) * sum(float((params[f"W{l}"] ** 2).sum()) for l in (1, 2, 3))
    assert scratch.l2_penalty(params, 0.7, 12) == pytest.approx(by_hand, rel=1e-14)
    AL, caches = scratch.L_model_forward(X, params)
    cost = scratch.compute_cost_with_regularization(AL, Y, params, 0.7, ZL=caches[-1][1])
    assert cost == pytest.approx(scratch.compute_cost(AL, Y, ZL=caches[-1][1]) + by_hand, rel=1e-14)


def test_dW_gains_lambd_over_m_W_and_db_nothing():
    params, X, Y = network()
    AL, caches = scratch.L_model_forward(X, params)
    plain = scratch.L_model_backward(AL, Y, caches)
    regularised = scratch.L_model_backward(AL, Y, caches, lambd=0.7)
    for l in (1, 2, 3):
        np.testing.assert_allclose(regularised[f"dW{l}"], plain[f"dW{l}"] + 0.7 / 12 * params[f"W{l}"], rtol=1e-14)
        np.testing.assert_array_equal(regularised[f"db{l}"], plain[f"db{l}"])


@pytest.mark.parametrize("lambd", [0.0, 0.1, 3.0])
def test_backprop_matches_finite_differences_of_the_regularised_cost(lambd):
    params, X, Y = network(seed=1)

    def cost_of(p):
        AL, caches = scratch.L_model_forward(X, p)
        return scratch.compute_cost_with_regularization(AL, Y, p, lambd, ZL=caches[-1][1])

    AL, caches = scratch.L_model_forward(X, params)
    grads = scratch.L_model_backward(AL, Y, caches, lambd=lambd)
    approx = scratch.numerical_gradients(cost_of, params, 1e-6)
    for key in params:
        g, a = grads[f"d{key}"], approx[f"d{key}"]
        assert np.linalg.norm(g - a) <= 1e-7 * (np.linalg.norm(g) + np.linalg.norm(a)), key


def test_L_layer_model_trains_on_the_regularised_cost():
    params, X, Y = network(seed=2, m=40)
    plain, _ = scratch.L_layer_model(X, Y, [4, 5, 3, 1], num_iterations=30, learning_rate=0.1)
    shrunk, costs = scratch.L_layer_model(X, Y, [4, 5, 3, 1], num_iterations=30, learning_rate=0.1, lambd=5.0)
    assert costs[0] > scratch.compute_cost(*_forward(X, Y, scratch.initialize_parameters_deep([4, 5, 3, 1], dtype=X.dtype)))
    assert sum(float((shrunk[f"W{l}"] ** 2).sum()) for l in (1, 2, 3)) < sum(float((plain[f"W{l}"] ** 2).sum()) for l in (1, 2, 3))


def _forward(X, Y, params):
    AL, caches = scratch.L_model_forward(X, params)
    return AL, Y, "bce", caches[-1][1]
