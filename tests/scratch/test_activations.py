"""Each activation in the registry: g' against centred differences of g, and finite at large |z|."""

import numpy as np
import pytest

from scratch import ACTIVATIONS, LEAKY_SLOPE, get_activation
from scratch.activations import sigmoid, softmax

ELEMENTWISE = [a for a in ACTIVATIONS.values() if a.derivative is not None]


@pytest.mark.parametrize("activation", ELEMENTWISE, ids=lambda a: a.name)
def test_derivative_matches_centred_differences_away_from_kinks(activation):
    Z = np.array([[-3.0, -1.2, -0.3, 0.2, 0.9, 2.5]])
    eps = 1e-6
    numeric = (activation.function(Z + eps) - activation.function(Z - eps)) / (2 * eps)
    np.testing.assert_allclose(activation.derivative(Z), numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("activation", ELEMENTWISE, ids=lambda a: a.name)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_inputs_are_finite_and_keep_dtype(activation, dtype):
    Z = np.array([[-1e4, -800.0, 800.0, 1e4]], dtype=dtype)
    A, dA = activation.function(Z), activation.derivative(Z)
    assert np.all(np.isfinite(A)) and np.all(np.isfinite(dA))
    assert A.dtype == dtype and dA.dtype == dtype


@pytest.mark.parametrize("activation", [a for a in ELEMENTWISE if a.gate is not None], ids=lambda a: a.name)
def test_a_gate_is_the_derivative_as_booleans_kink_included(activation):
    Z = np.array([[-3.0, -0.0, 0.0, 1e-300, 2.5, np.inf, -np.inf]])
    gate = activation.gate(Z)
    assert gate.dtype == bool
    np.testing.assert_array_equal(gate.astype(Z.dtype), activation.derivative(Z))


def test_sigmoid_saturates_exactly_without_overflow():
    np.testing.assert_array_equal(sigmoid(np.array([[-1e4, 0.0, 1e4]])), [[0.0, 0.5, 1.0]])


def test_kinks_follow_torch_convention():
    Z = np.zeros((1, 1))
    assert get_activation("relu").derivative(Z)[0, 0] == 0.0
    assert get_activation("leaky_relu").derivative(Z)[0, 0] == LEAKY_SLOPE == 0.01
    np.testing.assert_array_equal(get_activation("leaky_relu").function(np.array([[-2.0, 3.0]])), [[-0.02, 3.0]])


def test_softmax_columns_sum_to_one_even_for_huge_logits():
    Z = np.array([[1000.0, -5.0], [999.0, 7.0], [-1e4, 7.0]])
    A = softmax(Z)
    np.testing.assert_allclose(A.sum(axis=0), [1.0, 1.0])
    np.testing.assert_allclose(A[:, 0], [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0])
    e = np.exp(-12.0)
    np.testing.assert_allclose(A[:, 1], [e / (e + 2), 1 / (e + 2), 1 / (e + 2)])


def test_unknown_activation_names_the_choices():
    with pytest.raises(
        ValueError, match="unknown activation 'swish'.*sigmoid, tanh, relu, leaky_relu, linear, softmax"
    ):
        get_activation("swish")
