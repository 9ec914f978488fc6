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
    assert costs[0] > scratch.compute_cost(
        *_forward(X, Y, scratch.initialize_parameters_deep([4, 5, 3, 1], dtype=X.dtype))
    )
    assert sum(float((shrunk[f"W{l}"] ** 2).sum()) for l in (1, 2, 3)) < sum(
        float((plain[f"W{l}"] ** 2).sum()) for l in (1, 2, 3)
    )


def _forward(X, Y, params):
    AL, caches = scratch.L_model_forward(X, params)
    return AL, Y, "bce", caches[-1][1]


# --- dropout -------------------------------------------------------------------------------------------


def dropout_network(seed=3, dims=(4, 6, 5, 1), m=10, keep_prob=(0.7, 0.9)):
    params, X, Y = network(seed, dims, m)
    masks = scratch.dropout_masks(dims, m, keep_prob, np.random.default_rng(seed))
    return params, X, Y, masks


def test_dropout_scales_the_kept_units_of_hidden_layers_by_one_over_keep_prob():
    params, X, Y, masks = dropout_network()
    AL, caches = scratch.L_model_forward(X, params, keep_prob=(0.7, 0.9), masks=masks)
    _, plain = scratch.L_model_forward(X, params)
    Z1, Z2 = plain[0][1], caches[1][1]
    A1 = np.maximum(Z1, 0) * masks[0] / 0.7  # what layer 2 reads
    np.testing.assert_allclose(caches[1][0][0], A1, rtol=1e-15)
    np.testing.assert_allclose(Z2, params["W2"] @ A1 + params["b2"], rtol=1e-13)
    assert len(caches[2]) == 2  # the output layer is never dropped
    assert set(np.unique(masks[0])) <= {0.0, 1.0} and 0 < masks[0].mean() < 1


def test_keep_prob_one_and_no_masks_are_no_dropout():
    params, X, Y = network()
    no_masks = scratch.L_model_forward(X, params)[0]
    assert scratch.dropout_masks((4, 5, 3, 1), 12, 1.0, np.random.default_rng(0)) == [None, None]
    np.testing.assert_array_equal(scratch.L_model_forward(X, params, keep_prob=1.0, masks=[None, None])[0], no_masks)


def test_backprop_with_a_fixed_mask_matches_finite_differences_and_a_changing_mask_would_not():
    params, X, Y, masks = dropout_network()

    def cost_with(mask_of):
        def cost_of(p):
            AL, caches = scratch.L_model_forward(X, p, keep_prob=(0.7, 0.9), masks=mask_of())
            return scratch.compute_cost(AL, Y, ZL=caches[-1][1])

        return cost_of

    AL, caches = scratch.L_model_forward(X, params, keep_prob=(0.7, 0.9), masks=masks)
    grads = scratch.L_model_backward(AL, Y, caches, keep_prob=(0.7, 0.9))
    approx = scratch.numerical_gradients(cost_with(lambda: masks), params, 1e-6)
    for key in params:
        g, a = grads[f"d{key}"], approx[f"d{key}"]
        assert np.linalg.norm(g - a) <= 1e-7 * (np.linalg.norm(g) + np.linalg.norm(a)), key
    rng = np.random.default_rng(9)  # a fresh mask at every evaluation: the differences measure nothing
    fresh = scratch.numerical_gradients(
        cost_with(lambda: scratch.dropout_masks((4, 6, 5, 1), 10, (0.7, 0.9), rng)), params, 1e-6
    )
    assert np.linalg.norm(grads["dW1"] - fresh["dW1"]) > 1e-2 * np.linalg.norm(grads["dW1"])


def test_dropout_matches_torch_with_the_same_masks():
    import torch_ref

    params, X, Y, masks = dropout_network()
    AL, caches = scratch.L_model_forward(X, params, keep_prob=(0.7, 0.9), masks=masks)
    grads = scratch.L_model_backward(AL, Y, caches, keep_prob=(0.7, 0.9), lambd=0.3)
    model = torch_ref.from_params(params, ["relu", "relu", "sigmoid"])
    ref = torch_ref.forward_backward(model, X, Y, "bce", 0.3, masks, (0.7, 0.9))
    assert scratch.compute_cost_with_regularization(AL, Y, params, 0.3, ZL=caches[-1][1]) == pytest.approx(
        ref["cost"], rel=1e-13
    )
    for l in (1, 2):  # A[l] is the dropped A the next layer reads, and dA[l] its gradient
        np.testing.assert_allclose(caches[l][0][0], ref[f"A{l}"], rtol=1e-13)
        np.testing.assert_allclose(grads[f"dA{l}"], ref[f"dA{l}"], rtol=1e-12, atol=1e-15)
    for key in ("dW1", "db1", "dW2", "db2", "dW3", "db3"):
        np.testing.assert_allclose(grads[key], ref[key], rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("keep_prob", [0.0, 1.5, (0.5,)])
def test_a_bad_keep_prob_is_refused(keep_prob):
    with pytest.raises(ValueError):
        scratch.dropout_masks((4, 5, 3, 1), 12, keep_prob, np.random.default_rng(0))


def test_L_layer_model_with_dropout_draws_fresh_masks_from_its_seed():
    params, X, Y = network(seed=4, m=60)
    dims = [4, 5, 3, 1]
    same, _ = scratch.L_layer_model(X, Y, dims, num_iterations=20, keep_prob=1.0)
    plain, _ = scratch.L_layer_model(X, Y, dims, num_iterations=20)
    for k in plain:
        np.testing.assert_array_equal(same[k], plain[k])  # keep_prob 1: no dropout at all
    a, costs_a = scratch.L_layer_model(X, Y, dims, num_iterations=20, keep_prob=(0.6, 0.8), seed=1)
    b, costs_b = scratch.L_layer_model(X, Y, dims, num_iterations=20, keep_prob=(0.6, 0.8), seed=1)
    assert costs_a == costs_b and all(np.array_equal(a[k], b[k]) for k in a)  # one seed, one run
    assert not np.allclose(a["W1"], plain["W1"]) and all(np.isfinite(costs_a))
