"""The course's training loop, L_layer_model, and predict."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .initializers import initialize_parameters_deep
from .losses import compute_cost
from .model import L_model_backward, L_model_forward, _resolve_activations, update_parameters


def L_layer_model(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims: Sequence[int],
    activations: Optional[Sequence[str]] = None,
    loss: str = "bce",
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    init: str = "he",
    seed: int = 0,
    print_cost: bool = False,
):
    """Full-batch gradient descent; returns (parameters, costs), the cost before every update."""
    parameters = initialize_parameters_deep(layer_dims, init=init, seed=seed, dtype=X.dtype)
    costs = []
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters, activations)
        cost = compute_cost(AL, Y, loss, ZL=caches[-1][1])
        grads = L_model_backward(AL, Y, caches, activations, loss)
        parameters = update_parameters(parameters, grads, learning_rate)
        costs.append(cost)
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {cost}")
    return parameters, costs


def predict(X: np.ndarray, parameters: dict, activations: Optional[Sequence[str]] = None) -> np.ndarray:
    """Predictions (n[L], m): 0/1 for a sigmoid output (A > 0.5), one-hot argmax for softmax, A itself for linear."""
    AL, _ = L_model_forward(X, parameters, activations)
    return _predictions(AL, _resolve_activations(activations, len(parameters) // 2)[-1])


def _predictions(AL: np.ndarray, output: str) -> np.ndarray:
    if output == "softmax":  # the first largest unit, as argmax takes it: one class per example, even on a tie
        return (np.arange(AL.shape[0])[:, None] == np.argmax(AL, axis=0)).astype(AL.dtype)
    if output == "linear":
        return AL
    return (AL > 0.5).astype(AL.dtype)


def prediction_accuracy(AL: np.ndarray, Y: np.ndarray, output: str) -> Optional[float]:
    """Fraction of the m examples whose predicted class is the label's; None for a linear (regression) output."""
    if output == "linear":
        return None
    labels = (np.arange(Y.shape[0])[:, None] == np.argmax(Y, axis=0)) if output == "softmax" else Y > 0.5
    return float(np.mean(np.all(_predictions(AL, output) == labels, axis=0)))


def accuracy(X: np.ndarray, Y: np.ndarray, parameters: dict, activations: Optional[Sequence[str]] = None) -> Optional[float]:
    """prediction_accuracy of the network's output on X; None for regression."""
    AL, _ = L_model_forward(X, parameters, activations)
    return prediction_accuracy(AL, Y, _resolve_activations(activations, len(parameters) // 2)[-1])
