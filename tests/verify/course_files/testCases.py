"""The course's testCases.py: inputs for the notebook's own test cells."""

import numpy as np


def linear_forward_test_case():
    np.random.seed(1)
    A = np.random.randn(3, 2)
    W = np.random.randn(1, 3)
    b = np.random.randn(1, 1)
    return A, W, b


def L_model_forward_test_case_2hidden():
    np.random.seed(6)
    X = np.random.randn(5, 4)
    parameters = {"W1": np.random.randn(4, 5), "b1": np.random.randn(4, 1),
                  "W2": np.random.randn(3, 4), "b2": np.random.randn(3, 1),
                  "W3": np.random.randn(1, 3), "b3": np.random.randn(1, 1)}
    return X, parameters
