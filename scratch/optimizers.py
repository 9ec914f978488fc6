"""The course's optimisers, derived by hand: mini-batches, momentum, Adam and learning-rate decay.

For every parameter P (W[l] and b[l]) with its gradient dP, at step t (counting mini-batches from 1):

    momentum:  v = beta v + (1 - beta) dP,                P := P - lr v
    Adam:      v = beta1 v + (1 - beta1) dP,              v_corrected = v / (1 - beta1^t)
               s = beta2 s + (1 - beta2) dP^2,            s_corrected = s / (1 - beta2^t)
               P := P - lr v_corrected / (sqrt(s_corrected) + epsilon)

v and s are keyed like the gradients (dW1, db1, ...) and start at zeros. Every function returns
new dicts and leaves its inputs unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .arrays import Array


def random_mini_batches(X: Array, Y: Array, mini_batch_size: int = 64, seed: int = 0) -> list[tuple[Array, Array]]:
    """[(X_batch, Y_batch), ...]: the columns in a seeded random order, cut into floor(m / size) full
    batches and, when m is not a multiple of the size, one last smaller batch of the rest.

    The order is np.random.seed(seed); np.random.permutation(m), as the course draws it, without
    touching NumPy's global generator.
    """
    m = X.shape[1]
    if mini_batch_size < 1:
        raise ValueError(f"mini_batch_size must be at least 1, got {mini_batch_size}")
    order = np.random.RandomState(seed).permutation(m)
    X, Y = X[:, order], Y[:, order]  # (n[0], m) and (n[L], m), shuffled together
    return [(X[:, k : k + mini_batch_size], Y[:, k : k + mini_batch_size]) for k in range(0, m, mini_batch_size)]


def _zeros_like_grads(parameters: dict[str, Array]) -> dict[str, Array]:
    return {f"d{key}": np.zeros_like(value) for key, value in parameters.items()}


def initialize_velocity(parameters: dict[str, Array]) -> dict[str, Array]:
    """v[dW l] and v[db l]: zeros shaped like W[l] and b[l]."""
    return _zeros_like_grads(parameters)


def update_parameters_with_momentum(
    parameters: dict[str, Array], grads: dict[str, Array], v: dict[str, Array], beta: float, learning_rate: float
) -> tuple[dict[str, Array], dict[str, Array]]:
    """v = beta v + (1 - beta) dP, then P := P - lr v; returns (parameters, v)."""
    v = {key: beta * v[key] + (1 - beta) * grads[key] for key in v}
    parameters = {key: value - learning_rate * v[f"d{key}"] for key, value in parameters.items()}
    return parameters, v


def initialize_adam(parameters: dict[str, Array]) -> tuple[dict[str, Array], dict[str, Array]]:
    """(v, s): the first and second moments, zeros shaped like the parameters."""
    return _zeros_like_grads(parameters), _zeros_like_grads(parameters)


def update_parameters_with_adam(
    parameters: dict[str, Array],
    grads: dict[str, Array],
    v: dict[str, Array],
    s: dict[str, Array],
    t: int,
    learning_rate: float = 0.01,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> tuple[dict[str, Array], dict[str, Array], dict[str, Array], dict[str, Array], dict[str, Array]]:
    """One Adam step t (t counts the updates so far, from 1); returns (parameters, v, s, v_corrected, s_corrected)."""
    if t < 1:
        raise ValueError(f"Adam's step t counts from 1, got {t}")
    v = {key: beta1 * v[key] + (1 - beta1) * grads[key] for key in v}
    s = {key: beta2 * s[key] + (1 - beta2) * grads[key] ** 2 for key in s}
    v_corrected = {key: value / (1 - beta1**t) for key, value in v.items()}
    s_corrected = {key: value / (1 - beta2**t) for key, value in s.items()}
    parameters = {
        key: value - learning_rate * v_corrected[f"d{key}"] / (np.sqrt(s_corrected[f"d{key}"]) + epsilon)
        for key, value in parameters.items()
    }
    return parameters, v, s, v_corrected, s_corrected


def update_lr(learning_rate0: float, epoch_num: int, decay_rate: float) -> float:
    """lr = lr0 / (1 + decay_rate epoch_num)."""
    return learning_rate0 / (1 + decay_rate * epoch_num)


def schedule_lr_decay(learning_rate0: float, epoch_num: int, decay_rate: float, time_interval: int = 1000) -> float:
    """lr = lr0 / (1 + decay_rate floor(epoch_num / time_interval)): the rate drops in steps."""
    return learning_rate0 / (1 + decay_rate * math.floor(epoch_num / time_interval))


DECAYS: dict[str, Callable[..., float]] = {"inverse": update_lr, "scheduled": schedule_lr_decay}
OPTIMIZERS = ("gd", "momentum", "adam")
