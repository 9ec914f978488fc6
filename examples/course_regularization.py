"""The regularisation course's functions as a learner writes them on the week-4 network of course_network.py
(imported from this folder): L2 (compute_cost_with_regularization, dW += lambd / m W) and inverted dropout
whose masks the forward pass draws itself, seeded as the course does, and keeps in its caches.

    python -m verify --arch 2,20,3,1 --data moons --lambd 0.7 --keep-prob 0.86 --impl examples/course_regularization.py
"""

import numpy as np

from course_network import *  # noqa: F401,F403  the week-4 functions: linear_backward, relu_backward, ...


def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    L = len(parameters) // 2
    cross_entropy_cost = compute_cost(AL, Y)
    L2_regularization_cost = lambd / (2 * m) * sum(np.sum(np.square(parameters["W" + str(l)])) for l in range(1, L + 1))
    return cross_entropy_cost + L2_regularization_cost


def L_model_forward(X, parameters, keep_prob=1):
    np.random.seed(1)
    caches = []
    A = X
    L = len(parameters) // 2
    for l in range(1, L):
        A, cache = linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        if keep_prob < 1:
            D = np.random.rand(A.shape[0], A.shape[1])
            D = (D < keep_prob).astype(int)
            A = A * D
            A = A / keep_prob
            cache = cache + (D,)
        caches.append(cache)
    AL, cache = linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], "sigmoid")
    caches.append(cache)
    return AL, caches


def L_model_backward(AL, Y, caches, lambd=0, keep_prob=1):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    Y = Y.reshape(AL.shape)
    dZ = AL - Y
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(dZ, caches[L - 1][0])
    for l in reversed(range(L - 1)):
        dA = grads["dA" + str(l + 1)]
        if len(caches[l]) == 3:
            dA = dA * caches[l][2]
            dA = dA / keep_prob
        linear_cache, activation_cache = caches[l][0], caches[l][1]
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = linear_backward(
            relu_backward(dA, activation_cache), linear_cache)
    for l in range(1, L + 1):
        W = caches[l - 1][0][1]
        grads["dW" + str(l)] = grads["dW" + str(l)] + lambd / m * W
    return grads
