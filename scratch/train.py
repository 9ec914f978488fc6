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
    output = _resolve_activations(activations, len(parameters) // 2)[-1]
    if output == "softmax":
        return (AL == AL.max(axis=0, keepdims=True)).astype(AL.dtype)
    if output == "linear":
        return AL
    return (AL > 0.5).astype(AL.dtype)


def accuracy(X: np.ndarray, Y: np.ndarray, parameters: dict, activations: Optional[Sequence[str]] = None) -> float:
    """Fraction of the m examples whose every predicted output unit equals its label."""
    P = predict(X, parameters, activations)
    return float(np.mean(np.all(P == Y, axis=0)))
