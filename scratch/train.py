"""The course's training loop, L_layer_model (any optimiser of optimizers.py), and predict."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from .arrays import Array
from .initializers import initialize_parameters_deep
from .model import L_model_backward, L_model_forward, _resolve_activations, update_parameters
from .optimizers import (
    DECAYS,
    OPTIMIZERS,
    initialize_adam,
    initialize_velocity,
    random_mini_batches,
    schedule_lr_decay,
    update_lr,
    update_parameters_with_adam,
    update_parameters_with_momentum,
)
from .regularization import KeepProb, compute_cost_with_regularization, dropout_masks, keep_probs


def L_layer_model(
    X: Array,
    Y: Array,
    layer_dims: Sequence[int],
    activations: Sequence[str] | None = None,
    loss: str = "bce",
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    init: str = "he",
    seed: int = 0,
    print_cost: bool = False,
    optimizer: str = "gd",
    mini_batch_size: int | None = None,
    beta: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
    decay: str | Callable[[float, int, float], float] | None = None,
    decay_rate: float = 1.0,
    time_interval: int = 1000,
    lambd: float = 0.0,
    keep_prob: KeepProb = 1.0,
) -> tuple[dict[str, Array], list[float]]:
    """Gradient descent as the course's model() runs it; returns (parameters, costs), one cost per epoch.

    num_iterations counts epochs, passes over the data. With mini_batch_size None an epoch is one
    full-batch step and its cost the cost before it; else the epoch takes
    random_mini_batches(X, Y, mini_batch_size, seed + epoch + 1) and its cost is the batches' summed
    losses (each before its batch's update) over m. optimizer: "gd", "momentum" (beta) or "adam"
    (beta1, beta2, epsilon; its t counts mini-batches). decay ("inverse": update_lr, "scheduled":
    schedule_lr_decay with time_interval, or a function decay(learning_rate0, epoch_num, decay_rate), as
    the course's model(decay=update_lr) takes it): after epoch i the rate becomes decay(learning_rate, i,
    decay_rate), as the course applies it, so epochs 0 and 1 both run at learning_rate. lambd > 0: the cost
    and gradients are L2-regularised (regularization.py), each batch's with its own m. keep_prob < 1 (one number,
    or one per hidden layer): inverted dropout on the hidden layers, a fresh mask every step from
    np.random.default_rng(seed); the costs kept are those of the dropped-out network, as the course's are.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    if decay is not None and not callable(decay) and decay not in DECAYS:
        raise ValueError(f"unknown decay {decay!r}; choose from {', '.join(DECAYS)}")
    parameters = initialize_parameters_deep(layer_dims, init=init, seed=seed, dtype=X.dtype)
    v: dict[str, Array] = initialize_velocity(parameters) if optimizer == "momentum" else {}
    if optimizer == "adam":
        v, s = initialize_adam(parameters)
    costs: list[float] = []
    m, t, lr = X.shape[1], 0, learning_rate
    dropout = keep_probs(keep_prob, len(layer_dims) - 1)
    rng = np.random.default_rng(seed) if any(p < 1 for p in dropout) else None
    for epoch in range(num_iterations):
        batches = [(X, Y)] if mini_batch_size is None else random_mini_batches(X, Y, mini_batch_size, seed + epoch + 1)
        summed = 0.0
        for X_batch, Y_batch in batches:
            masks = None if rng is None else dropout_masks(layer_dims, X_batch.shape[1], dropout, rng, X.dtype)
            AL, caches = L_model_forward(X_batch, parameters, activations, dropout, masks)
            cost = compute_cost_with_regularization(AL, Y_batch, parameters, lambd, loss, ZL=caches[-1][1])
            summed += cost * X_batch.shape[1]
            grads = L_model_backward(AL, Y_batch, caches, activations, loss, lambd, dropout, parameters_only=True)
            t += 1
            if optimizer == "momentum":
                parameters, v = update_parameters_with_momentum(parameters, grads, v, beta, lr)
            elif optimizer == "adam":
                parameters, v, s, _, _ = update_parameters_with_adam(
                    parameters, grads, v, s, t, lr, beta1, beta2, epsilon
                )
            else:
                parameters = update_parameters(parameters, grads, lr)
        costs.append(cost if len(batches) == 1 else summed / m)
        if callable(decay):
            lr = decay(learning_rate, epoch, decay_rate)
        elif decay == "inverse":
            lr = update_lr(learning_rate, epoch, decay_rate)
        elif decay == "scheduled":
            lr = schedule_lr_decay(learning_rate, epoch, decay_rate, time_interval)
        if print_cost and (epoch % 100 == 0 or epoch == num_iterations - 1):
            print(f"Cost after epoch {epoch}: {costs[-1]}")
    return parameters, costs


def predict(X: Array, parameters: dict[str, Array], activations: Sequence[str] | None = None) -> Array:
    """Predictions (n[L], m): 0/1 for a sigmoid output (A > 0.5), one-hot argmax for softmax, A itself for linear."""
    AL, _ = L_model_forward(X, parameters, activations)
    return _predictions(AL, _resolve_activations(activations, len(parameters) // 2)[-1])


def _predictions(AL: Array, output: str) -> Array:
    if output == "softmax":  # the first largest unit, as argmax takes it: one class per example, even on a tie
        is_largest: npt.NDArray[np.bool_] = np.arange(AL.shape[0])[:, None] == np.argmax(AL, axis=0)  # (n[L], m)
        return is_largest.astype(AL.dtype)
    if output == "linear":
        return AL
    return (AL > 0.5).astype(AL.dtype)


def prediction_accuracy(AL: Array, Y: Array, output: str) -> float | None:
    """Fraction of the m examples whose predicted class is the label's; None for a linear (regression) output."""
    if output == "linear":
        return None
    labels = (np.arange(Y.shape[0])[:, None] == np.argmax(Y, axis=0)) if output == "softmax" else Y > 0.5
    return float(np.mean(np.all(_predictions(AL, output) == labels, axis=0)))


def accuracy(
    X: Array, Y: Array, parameters: dict[str, Array], activations: Sequence[str] | None = None
) -> float | None:
    """prediction_accuracy of the network's output on X; None for regression."""
    AL, _ = L_model_forward(X, parameters, activations)
    return prediction_accuracy(AL, Y, _resolve_activations(activations, len(parameters) // 2)[-1])
