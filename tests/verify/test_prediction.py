"""One reading of a prediction: the classes, the accuracy, and the pictures' classes are the same rule."""

import numpy as np
import pytest

import scratch
from verify.judging.prediction import classes, prediction_accuracy

AL = np.array([[0.9, 0.2, 0.6, 0.5]])
Y = np.array([[1.0, 0.0, 0.0, 1.0]])


def test_one_sigmoid_unit_predicts_above_one_half():
    assert classes(AL)[0].tolist() == [1, 0, 1, 0]  # 0.5 is not above one half
    assert prediction_accuracy(AL, Y, "sigmoid") == 0.5


def test_softmax_predicts_the_first_largest_unit():
    A = np.array([[0.5, 0.1, 0.4], [0.5, 0.9, 0.6]])
    labels = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    assert classes(A, "softmax")[0].tolist() == [0, 1, 1]
    assert prediction_accuracy(A, labels, "softmax") == pytest.approx(2 / 3)


def test_a_regression_has_no_accuracy():
    assert prediction_accuracy(AL, Y, "linear") is None


@pytest.mark.parametrize(("output", "units"), [("sigmoid", 1), ("sigmoid", 3), ("softmax", 3)])
def test_the_accuracy_is_the_courses(output, units):
    rng = np.random.default_rng(units)
    A = rng.random((units, 50))
    labels = (rng.random((units, 50)) > 0.5).astype(float)
    assert prediction_accuracy(A, labels, output) == scratch.prediction_accuracy(A, labels, output)
