"""Costs: the formulas by hand, stability at saturation, and the loss registry."""

import numpy as np
import pytest

from scratch import LOSS_FOR_OUTPUT, compute_cost, get_loss
from scratch.activations import sigmoid, softmax


def test_bce_by_hand():
    Z = np.array([[0.0, 2.0]])
    A, Y = sigmoid(Z), np.array([[1.0, 0.0]])
    # -(1/2) [log(0.5) + log(1 - sigmoid(2))] = (1/2) [log 2 + log(1 + e^2)]
    expected = 0.5 * (np.log(2) + np.log(1 + np.exp(2)))
    assert compute_cost(A, Y, "bce", ZL=Z) == pytest.approx(expected, rel=1e-15)
    assert compute_cost(A, Y, "bce") == pytest.approx(expected, rel=1e-14)


def test_mse_by_hand():
    A, Y = np.array([[1.0, 2.0], [0.0, -1.0]]), np.array([[0.0, 0.0], [0.0, 1.0]])
    assert compute_cost(A, Y, "mse") == (1 + 4 + 0 + 4) / (2 * 2)


def test_ce_by_hand():
    Z = np.array([[0.0, 1.0], [np.log(3.0), 1.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    # column 0: A = [1/4, 3/4], label 1 -> -log(3/4); column 1: A = [1/2, 1/2] -> -log(1/2)
    expected = -(np.log(0.75) + np.log(0.5)) / 2
    assert compute_cost(softmax(Z), Y, "ce", ZL=Z) == pytest.approx(expected, rel=1e-15)
    assert compute_cost(softmax(Z), Y, "ce") == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saturated_bce_is_exact_from_Z_and_finite_from_A(dtype):
    Z = np.array([[800.0, -800.0, 40.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 0.0]], dtype=dtype)
    A = sigmoid(Z)  # rounds to exactly 1, 0, 1
    assert compute_cost(A, Y, "bce", ZL=Z) == pytest.approx((800 + 800 + 40) / 3, rel=1e-6)
    assert np.isfinite(compute_cost(A, Y, "bce"))


def test_ce_of_huge_logits_is_finite():
    Z = np.array([[1e4, 0.0], [0.0, 1e4]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert compute_cost(softmax(Z), Y, "ce", ZL=Z) == pytest.approx(1e4)


def test_each_output_has_its_natural_loss():
    assert LOSS_FOR_OUTPUT == {"sigmoid": "bce", "linear": "mse", "softmax": "ce"}
    with pytest.raises(ValueError, match="unknown loss 'hinge'; choose from bce, mse, ce"):
        get_loss("hinge")
