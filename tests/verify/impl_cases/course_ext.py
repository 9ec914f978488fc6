"""A learner's course-style network, extended to any activations and the three losses.

The course's functions with two extra arguments: L_model_forward(X, parameters, activations),
compute_cost(AL, Y, loss) and L_model_backward(AL, Y, caches, activations, loss). Hidden
layers: tanh, sigmoid, relu, leaky_relu, linear; outputs: sigmoid with bce, linear with mse,
softmax with ce, each of which gives dZ[L] = A[L] - Y. Without the extra arguments it is the
course's network (relu hidden layers, a sigmoid output, bce).
"""

import numpy as np

LEAKY_SLOPE = 0.01


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def sigmoid_backward(dA, Z):
    s = sigmoid(Z)
    return dA * s * (1 - s)


def tanh_backward(dA, Z):
    return dA * (1 - np.tanh(Z) ** 2)


def relu_backward(dA, Z):
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def leaky_relu_backward(dA, Z):
    return dA * np.where(Z > 0, 1.0, LEAKY_SLOPE)


def linear_backward_activation(dA, Z):
    return dA


def softmax(Z):
    E = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return E / np.sum(E, axis=0, keepdims=True)


FORWARD = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(0, Z),
    "leaky_relu": lambda Z: np.where(Z > 0, Z, LEAKY_SLOPE * Z),
    "linear": lambda Z: Z,
    "softmax": softmax,
}
BACKWARD = {
    "sigmoid": sigmoid_backward,
    "tanh": tanh_backward,
    "relu": relu_backward,
    "leaky_relu": leaky_relu_backward,
    "linear": linear_backward_activation,
}


def initialize_parameters_deep(layer_dims):
    rng = np.random.default_rng(1)
    parameters = {}
    for l in range(1, len(layer_dims)):
        parameters["W" + str(l)] = rng.standard_normal((layer_dims[l], layer_dims[l - 1])) / np.sqrt(layer_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
    return parameters


def course_activations(L):
    return ["relu"] * (L - 1) + ["sigmoid"]


def L_model_forward(X, parameters, activations=None):
    L = len(parameters) // 2
    activations = activations or course_activations(L)
    caches = []
    A = X
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        caches.append(((A, W, b), Z))
        A = FORWARD[activations[l - 1]](Z)
    return A, caches


def compute_cost(AL, Y, loss="bce"):
    m = Y.shape[1]
    if loss == "bce":
        cost = -(1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    elif loss == "mse":
        cost = (1 / (2 * m)) * np.sum((AL - Y) ** 2)
    elif loss == "ce":
        cost = -(1 / m) * np.sum(Y * np.log(AL))
    else:
        raise ValueError("unknown loss " + loss)
    return np.squeeze(cost)


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = (1 / m) * np.dot(dZ, A_prev.T)
    db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches, activations=None, loss="bce"):
    L = len(caches)
    activations = activations or course_activations(L)
    grads = {}
    dZ = AL - Y  # sigmoid with bce, linear with mse, softmax with ce
    for l in reversed(range(1, L + 1)):
        linear_cache, Z = caches[l - 1]
        if l < L:
            dZ = BACKWARD[activations[l - 1]](grads["dA" + str(l)], Z)
        grads["dZ" + str(l)] = dZ
        grads["dA" + str(l - 1)], grads["dW" + str(l)], grads["db" + str(l)] = linear_backward(dZ, linear_cache)
    return grads


def update_parameters(parameters, grads, learning_rate):
    L = len(parameters) // 2
    updated = {}
    for l in range(1, L + 1):
        updated["W" + str(l)] = parameters["W" + str(l)] - learning_rate * grads["dW" + str(l)]
        updated["b" + str(l)] = parameters["b" + str(l)] - learning_rate * grads["db" + str(l)]
    return updated
