"""A learner's logistic regression, written the way the course's week-2 assignment builds it.

Verify it with:  python -m verify --arch 2,1 --impl examples/logreg_network.py --data flower
A = sigmoid(w^T X + b), the cross-entropy cost, dw = (1/m) X (A - Y)^T, db = (1/m) sum(A - Y).
"""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def initialize_with_zeros(dim):
    w = np.zeros((dim, 1))
    b = 0.0
    return w, b


def propagate(w, b, X, Y):
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -(1 / m) * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = (1 / m) * np.dot(X, (A - Y).T)
    db = (1 / m) * np.sum(A - Y)
    return {"dw": dw, "db": db}, float(np.squeeze(cost))


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    w, b = w.copy(), b
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    return {"w": w, "b": b}, grads, costs


def predict(w, b, X):
    A = sigmoid(np.dot(w.T, X) + b)
    return (A > 0.5).astype(float)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    w, b = initialize_with_zeros(X_train.shape[0])
    params, grads, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)
    w, b = params["w"], params["b"]
    return {"costs": costs, "Y_prediction_test": predict(w, b, X_test), "Y_prediction_train": predict(w, b, X_train),
            "w": w, "b": b, "learning_rate": learning_rate, "num_iterations": num_iterations}
