"""The course's optimisers in scratch, against their formulas evaluated here, step by step."""

import numpy as np
import pytest

import scratch
from scratch import (
    initialize_adam,
    initialize_velocity,
    random_mini_batches,
    schedule_lr_decay,
    update_lr,
    update_parameters_with_adam,
    update_parameters_with_momentum,
)

RNG = np.random.default_rng(0)
PARAMS = {"W1": RNG.standard_normal((3, 2)), "b1": RNG.standard_normal((3, 1))}


def gradients(k: int) -> dict:
    rng = np.random.default_rng(k)
    return {f"d{key}": rng.standard_normal(value.shape) for key, value in PARAMS.items()}


@pytest.mark.parametrize("m, size, sizes", [(10, 4, [4, 4, 2]), (8, 4, [4, 4]), (5, 64, [5]), (7, 1, [1] * 7)])
def test_mini_batches_are_full_batches_and_the_rest_of_one_permutation(m, size, sizes):
    X = np.arange(2 * m, dtype=float).reshape(2, m)
    Y = X[:1] * 10  # each column's label tells which column it came from
    state = np.random.get_state()[1].copy()
    batches = random_mini_batches(X, Y, size, seed=3)
    assert np.array_equal(np.random.get_state()[1], state)  # NumPy's global generator is left alone
    assert [b[0].shape[1] for b in batches] == sizes
    X_all, Y_all = np.hstack([b[0] for b in batches]), np.hstack([b[1] for b in batches])
    np.random.seed(3)
    assert np.array_equal(X_all, X[:, np.random.permutation(m)])  # the course's draw
    assert np.array_equal(Y_all, X_all[:1] * 10)  # X and Y shuffled together


def test_momentum_carries_v_over_and_starts_at_one_minus_beta_of_the_first_gradient():
    beta, lr = 0.8, 0.1
    v = initialize_velocity(PARAMS)
    assert all(not value.any() and value.shape == PARAMS[key[1:]].shape for key, value in v.items())
    P, (g1, g2) = PARAMS, (gradients(1), gradients(2))
    P1, v1 = update_parameters_with_momentum(P, g1, v, beta, lr)
    P2, v2 = update_parameters_with_momentum(P1, g2, v1, beta, lr)
    for key in P:
        expected_v2 = beta * (1 - beta) * g1[f"d{key}"] + (1 - beta) * g2[f"d{key}"]
        np.testing.assert_allclose(v2[f"d{key}"], expected_v2, rtol=1e-14)
        np.testing.assert_allclose(P2[key], P[key] - lr * (1 - beta) * g1[f"d{key}"] - lr * expected_v2, rtol=1e-14)
    assert np.array_equal(PARAMS["W1"], P["W1"]) and not v["dW1"].any()  # inputs unchanged


def test_adam_corrects_each_moment_with_t_and_adds_epsilon_outside_the_root():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-2  # a large epsilon, so its place shows
    v, s = initialize_adam(PARAMS)
    P, g = PARAMS, [gradients(1), gradients(2)]
    for t in (1, 2):
        P, v, s, v_hat, s_hat = update_parameters_with_adam(P, g[t - 1], v, s, t, lr, b1, b2, eps)
    for key in PARAMS:
        d1, d2 = g[0][f"d{key}"], g[1][f"d{key}"]
        v_2, s_2 = b1 * (1 - b1) * d1 + (1 - b1) * d2, b2 * (1 - b2) * d1**2 + (1 - b2) * d2**2
        np.testing.assert_allclose(v_hat[f"d{key}"], v_2 / (1 - b1**2), rtol=1e-13)
        np.testing.assert_allclose(s_hat[f"d{key}"], s_2 / (1 - b2**2), rtol=1e-13)
        P1 = PARAMS[key] - lr * d1 / (np.abs(d1) + eps)  # step 1: v_hat = d1, s_hat = d1^2
        np.testing.assert_allclose(
            P[key], P1 - lr * (v_2 / (1 - b1**2)) / (np.sqrt(s_2 / (1 - b2**2)) + eps), rtol=1e-13
        )
    with pytest.raises(ValueError, match="counts from 1"):
        update_parameters_with_adam(PARAMS, g[0], v, s, 0)


def test_learning_rate_decays():
    assert update_lr(0.5, 0, 1.0) == 0.5 and update_lr(0.5, 3, 1.0) == 0.125
    assert [schedule_lr_decay(0.5, epoch, 1.0, 1000) for epoch in (0, 999, 1000, 2500)] == [0.5, 0.5, 0.25, 0.5 / 3]


def course_model(X, Y, dims, optimizer, size, epochs, lr0, decay=None, seed=0):
    """The course's model() loop, written out: seeded batches per epoch, Adam's t per batch, decay after each epoch."""
    P = scratch.initialize_parameters_deep(dims, seed=seed)
    v = initialize_velocity(P)
    _, s = initialize_adam(P)
    t, lr, costs = 0, lr0, []
    for epoch in range(epochs):
        total = 0.0
        for X_b, Y_b in random_mini_batches(X, Y, size, seed + epoch + 1):
            AL, caches = scratch.L_model_forward(X_b, P)
            total += scratch.compute_cost(AL, Y_b, ZL=caches[-1][1]) * X_b.shape[1]
            grads = scratch.L_model_backward(AL, Y_b, caches)
            t += 1
            if optimizer == "adam":
                P, v, s, _, _ = update_parameters_with_adam(P, grads, v, s, t, lr)
            elif optimizer == "momentum":
                P, v = update_parameters_with_momentum(P, grads, v, 0.9, lr)
            else:
                P = scratch.update_parameters(P, grads, lr)
        costs.append(total / X.shape[1])
        if decay:
            lr = update_lr(lr0, epoch, 1.0)
    return P, costs


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("decay", [None, "inverse"])
def test_L_layer_model_runs_the_course_loop(optimizer, decay):
    X, Y = scratch.DATASETS["moons"](m=50, seed=1)
    P, costs = scratch.L_layer_model(
        X, Y, [2, 5, 1], learning_rate=0.05, num_iterations=4, optimizer=optimizer, mini_batch_size=16, decay=decay
    )
    P_course, costs_course = course_model(X, Y, [2, 5, 1], optimizer, 16, 4, 0.05, decay)
    assert costs == costs_course
    for key in P:
        np.testing.assert_array_equal(P[key], P_course[key])


def test_full_batch_gd_is_one_step_per_epoch_and_its_cost_the_cost_before_it():
    X, Y = scratch.DATASETS["moons"](m=50, seed=1)
    P, costs = scratch.L_layer_model(X, Y, [2, 5, 1], learning_rate=0.05, num_iterations=3)
    P_hand = scratch.initialize_parameters_deep([2, 5, 1])
    for cost in costs:
        AL, caches = scratch.L_model_forward(X, P_hand)
        assert cost == scratch.compute_cost(AL, Y, ZL=caches[-1][1])
        P_hand = scratch.update_parameters(P_hand, scratch.L_model_backward(AL, Y, caches), 0.05)
    assert all(np.array_equal(P[k], P_hand[k]) for k in P)


@pytest.mark.parametrize(
    "kwargs, message", [({"optimizer": "rmsprop"}, "unknown optimizer"), ({"decay": "cosine"}, "unknown decay")]
)
def test_unknown_options_are_refused(kwargs, message):
    X, Y = scratch.DATASETS["moons"](m=20, seed=1)
    with pytest.raises(ValueError, match=message):
        scratch.L_layer_model(X, Y, [2, 3, 1], num_iterations=1, **kwargs)
