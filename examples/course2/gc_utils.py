"""Helper module for the Gradient Checking notebook: activations and the conversions between a
3-layer network's parameter dictionary and one column vector."""

import numpy as np


def sigmoid(x):
    """Logistic function, elementwise."""
    s = 1 / (1 + np.exp(-x))
    return s


def relu(x):
    """Rectified linear unit, elementwise."""
    s = np.maximum(0, x)
    return s


def dictionary_to_vector(parameters):
    """Stacks W1, b1, W2, b2, W3, b3 into one column vector; keys names each row's parameter."""
    keys = []
    count = 0
    for key in ["W1", "b1", "W2", "b2", "W3", "b3"]:
        new_vector = np.reshape(parameters[key], (-1, 1))
        keys = keys + [key] * new_vector.shape[0]

        if count == 0:
            theta = new_vector
        else:
            theta = np.concatenate((theta, new_vector), axis=0)
        count = count + 1

    return theta, keys


def vector_to_dictionary(theta):
    """Reads the 47-row column vector theta back into W1 (5, 4), b1 (5, 1), W2 (3, 5), b2 (3, 1),
    W3 (1, 3) and b3 (1, 1)."""
    parameters = {}
    parameters["W1"] = theta[:20].reshape((5, 4))
    parameters["b1"] = theta[20:25].reshape((5, 1))
    parameters["W2"] = theta[25:40].reshape((3, 5))
    parameters["b2"] = theta[40:43].reshape((3, 1))
    parameters["W3"] = theta[43:46].reshape((1, 3))
    parameters["b3"] = theta[46:47].reshape((1, 1))

    return parameters


def gradients_to_vector(gradients):
    """Stacks dW1, db1, dW2, db2, dW3, db3 into one column vector."""
    count = 0
    for key in ["dW1", "db1", "dW2", "db2", "dW3", "db3"]:
        new_vector = np.reshape(gradients[key], (-1, 1))

        if count == 0:
            theta = new_vector
        else:
            theta = np.concatenate((theta, new_vector), axis=0)
        count = count + 1

    return theta
