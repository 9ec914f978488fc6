"""Training: initialisers, the course's loop on the flower data, and the symmetry argument."""

import numpy as np
import pytest

from scratch import DATASETS, L_layer_model, accuracy, initialize_parameters_deep, predict, prediction_accuracy


@pytest.mark.parametrize("init, std", [("random", 0.01), ("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(1 / 400))])
def test_initialisers_scale_and_zero_biases(init, std):
    p = initialize_parameters_deep([400, 300, 1], init=init, seed=3)
    assert p["W1"].shape == (300, 400) and p["b1"].shape == (300, 1) and p["W2"].shape == (1, 300)
    assert p["W1"].std() == pytest.approx(std, rel=0.02)
    assert not p["b1"].any() and not p["b2"].any()


def test_initialiser_is_seeded_and_dtype_shares_the_draws():
    a = initialize_parameters_deep([3, 4, 1], seed=7)
    b = initialize_parameters_deep([3, 4, 1], seed=7, dtype=np.float32)
    c = initialize_parameters_deep([3, 4, 1], seed=8)
    assert b["W1"].dtype == np.float32
    np.testing.assert_array_equal(a["W1"].astype(np.float32), b["W1"])
    assert not np.array_equal(a["W1"], c["W1"])
    with pytest.raises(ValueError, match="unknown init 'glorot'; choose from random, he, xavier, zeros"):
        initialize_parameters_deep([3, 1], init="glorot")


def test_flower_with_4_tanh_units_reaches_85_percent():
    X, Y = DATASETS["flower"](m=400, seed=1)
    activations = ["tanh", "sigmoid"]
    params, costs = L_layer_model(
        X, Y, [2, 4, 1], activations, learning_rate=1.2, num_iterations=5000, init="random", seed=2
    )
    assert costs[-1] < 0.5 * costs[0]
    assert np.all(np.diff(costs[::500]) < 0)
    assert accuracy(X, Y, params, activations) >= 0.85


@pytest.mark.parametrize("name", ["moons", "xor"])
def test_other_two_class_datasets_are_learnable(name):
    X, Y = DATASETS[name](m=400, seed=0)
    params, costs = L_layer_model(
        X, Y, [2, 8, 1], ["tanh", "sigmoid"], learning_rate=1.0, num_iterations=2000, init="xavier"
    )
    assert accuracy(X, Y, params, ["tanh", "sigmoid"]) >= 0.9


def test_house_regression_cost_falls():
    X, Y = DATASETS["house"](m=200, seed=0)
    _, costs = L_layer_model(X, Y, [1, 8, 1], ["relu", "linear"], loss="mse", learning_rate=0.05, num_iterations=2000)
    assert costs[-1] < 0.1 * costs[0]


@pytest.mark.parametrize("name", list(DATASETS))
def test_datasets_are_seeded(name):
    X1, Y1 = DATASETS[name](seed=5)
    X2, Y2 = DATASETS[name](seed=5)
    X3, _ = DATASETS[name](seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.array_equal(X1, X3)


def test_zeros_init_keeps_hidden_units_identical_random_init_does_not():
    """The notes' symmetry argument: identical units receive identical gradients forever."""
    X, Y = DATASETS["xor"](m=200, seed=0)  # classes not exactly balanced, so the output layer moves
    activations = ["sigmoid", "sigmoid"]
    zeros, _ = L_layer_model(X, Y, [2, 5, 1], activations, learning_rate=0.5, num_iterations=300, init="zeros")
    assert np.abs(zeros["W1"]).max() > 1e-3  # the units did learn something...
    # ...all the same thing (up to BLAS rounding, which may differ from row to row)
    np.testing.assert_allclose(zeros["W1"], np.repeat(zeros["W1"][:1], 5, axis=0), rtol=1e-12, atol=0)
    random, _ = L_layer_model(X, Y, [2, 5, 1], activations, learning_rate=0.5, num_iterations=300, init="random")
    assert np.min(np.abs(random["W1"][1:] - random["W1"][0]).sum(axis=1)) > 1e-3


def test_predict_per_output():
    p = {"W1": np.array([[1.0], [-1.0]]), "b1": np.zeros((2, 1))}
    X = np.array([[-2.0, 0.5]])
    np.testing.assert_array_equal(predict(X, p, ["softmax"]), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(predict(X, p, ["linear"]), [[-2.0, 0.5], [2.0, -0.5]])
    np.testing.assert_array_equal(predict(X, p, ["sigmoid"]), [[0.0, 1.0], [1.0, 0.0]])


def test_a_softmax_tie_predicts_one_class_the_first_as_argmax_does():
    AL = np.array([[0.4, 0.2], [0.4, 0.7], [0.2, 0.1]])  # example 0: units 0 and 1 tie
    Y = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    assert prediction_accuracy(AL, Y, "softmax") == 0.5  # argmax picks unit 0 for example 0: wrong; example 1 right
    Y[:, 0] = (1, 0, 0)
    assert prediction_accuracy(AL, Y, "softmax") == 1.0


def test_accuracy_of_a_sigmoid_output_and_none_for_regression():
    AL = np.array([[0.2, 0.6, 0.51, 0.5]])
    assert prediction_accuracy(AL, np.array([[0.0, 1.0, 1.0, 1.0]]), "sigmoid") == 0.75  # A = 0.5 predicts 0
    assert prediction_accuracy(AL, AL, "linear") is None
