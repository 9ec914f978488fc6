"""The helper functions the recurrent-network notebook imports (`from rnn_utils import *`)."""

import numpy as np


def softmax(x):
    """Softmax over axis 0 (the units), each column (example) on its own."""
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def initialize_adam(parameters):
    """Adam's moments v and s, zeros shaped like each W and b of an L-layer network (keys dW1, db1, ...)."""
    L = len(parameters) // 2
    v, s = {}, {}
    for l in range(1, L + 1):
        for name in ("W", "b"):
            v["d" + name + str(l)] = np.zeros(parameters[name + str(l)].shape)
            s["d" + name + str(l)] = np.zeros(parameters[name + str(l)].shape)
    return v, s


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
    """One Adam step as this course's helper file writes it: epsilon inside the square root, and (parameters, v, s)
    returned (the optimisation course's returns the corrected moments too, epsilon outside the root)."""
    L = len(parameters) // 2
    for l in range(1, L + 1):
        for name in ("W", "b"):
            key = "d" + name + str(l)
            v[key] = beta1 * v[key] + (1 - beta1) * grads[key]
            s[key] = beta2 * s[key] + (1 - beta2) * grads[key] ** 2
            v_corrected = v[key] / (1 - beta1**t)
            s_corrected = s[key] / (1 - beta2**t)
            parameters[name + str(l)] = parameters[name + str(l)] - learning_rate * v_corrected / np.sqrt(
                s_corrected + epsilon
            )
    return parameters, v, s
