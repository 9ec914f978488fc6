"""The regularisation course's functions in the course-2 habit, to append to examples/course_network.py's text.

L_model_forward(X, parameters, keep_prob=1.0) draws a mask for every hidden layer, even at keep_prob 1
(all ones then), and keeps it in the cache ((A_prev, W, b), Z, D); L_model_backward reads it back. It is
correct code: with or without dropout, it must pass. Not importable alone (it uses the week-4 functions).
"""

import numpy as np


def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    L = len(parameters) // 2
    L2_regularization_cost = lambd / (2 * m) * sum(np.sum(np.square(parameters["W" + str(l)])) for l in range(1, L + 1))
    return compute_cost(AL, Y) + L2_regularization_cost


def L_model_forward(X, parameters, keep_prob=1.0):
    np.random.seed(1)
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, (linear_cache, Z) = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        D = np.random.rand(A.shape[0], A.shape[1])
        D = (D < keep_prob).astype(int)
        A = A * D
        A = A / keep_prob
        caches.append((linear_cache, Z, D))
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def L_model_backward(AL, Y, caches, lambd=0, keep_prob=1.0):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    Y = Y.reshape(AL.shape)
    dZ = AL - Y
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(dZ, caches[L - 1][0])
    for l in reversed(range(L - 1)):
        linear_cache, activation_cache, D = caches[l]
        dA = grads["dA" + str(l + 1)] * D / keep_prob
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = linear_backward(
            relu_backward(dA, activation_cache), linear_cache)
    for l in range(1, L + 1):
        grads["dW" + str(l)] = grads["dW" + str(l)] + lambd / m * caches[l - 1][0][1]
    return grads
