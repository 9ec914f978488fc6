"""Activation functions g(z) and their derivatives g'(z), in one registry.

Forward (`A = g(Z)`) and backward (`dZ = dA * g'(Z)`) both look the activation up
here, so a new activation is one entry in `ACTIVATIONS` and nothing else.
At a kink the derivative follows torch's convention: relu'(0) = 0, leaky_relu'(0) = slope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .arrays import Array

LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default negative_slope


@dataclass(frozen=True)
class Activation:
    """g and g' for one activation; `derivative` is None for softmax (see losses.py). `gate`, where g' is only ever
    0 or 1 (relu), is g'(Z) as booleans: a training step multiplies dA by it in place, with no float temporary."""

    name: str
    function: Callable[[Array], Array]
    derivative: Callable[[Array], Array] | None
    output_only: bool = False
    gate: Callable[[Array], npt.NDArray[np.bool_]] | None = None


def sigmoid(Z: Array) -> Array:
    """sigma(z) = 1 / (1 + e^-z), written as e^z / (1 + e^z) for z < 0 so e^-z never overflows."""
    E = np.exp(-np.abs(Z))  # in (0, 1], never overflows
    return np.where(Z >= 0, 1 / (1 + E), E / (1 + E))


def sigmoid_derivative(Z: Array) -> Array:
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    S = sigmoid(Z)
    return S * (1 - S)


def tanh(Z: Array) -> Array:
    """tanh(z)."""
    return np.tanh(Z)


def tanh_derivative(Z: Array) -> Array:
    """tanh'(z) = 1 - tanh(z)^2."""
    T = np.tanh(Z)
    return 1 - T * T


def relu(Z: Array) -> Array:
    """relu(z) = max(0, z)."""
    return np.maximum(Z, 0)


def relu_derivative(Z: Array) -> Array:
    """relu'(z) = 1 if z > 0 else 0 (0 at the kink, as torch)."""
    return (Z > 0).astype(Z.dtype)


def relu_gate(Z: Array) -> npt.NDArray[np.bool_]:
    """relu'(z) as a boolean: z > 0."""
    return Z > 0


def leaky_relu(Z: Array) -> Array:
    """leaky_relu(z) = z if z > 0 else 0.01 z."""
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z)


def leaky_relu_derivative(Z: Array) -> Array:
    """leaky_relu'(z) = 1 if z > 0 else 0.01 (the slope at the kink, as torch)."""
    return np.where(Z > 0, 1, LEAKY_SLOPE).astype(Z.dtype)


def linear(Z: Array) -> Array:
    """linear(z) = z."""
    return Z


def linear_derivative(Z: Array) -> Array:
    """linear'(z) = 1."""
    return np.ones_like(Z)


def softmax(Z: Array) -> Array:
    """softmax(z)_k = e^z_k / sum_j e^z_j per column, shifted by the column max so e^z never overflows."""
    E: Array = np.exp(Z - Z.max(axis=0, keepdims=True))  # (n[L], m)
    column_sums: Array = E.sum(axis=0, keepdims=True)  # (1, m)
    return E / column_sums


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, sigmoid_derivative),
        Activation("tanh", tanh, tanh_derivative),
        Activation("relu", relu, relu_derivative, gate=relu_gate),
        Activation("leaky_relu", leaky_relu, leaky_relu_derivative),
        Activation("linear", linear, linear_derivative),
        # Its Jacobian is not elementwise: with cross-entropy, dZ[L] = A[L] - Y (losses.py).
        Activation("softmax", softmax, None, output_only=True),
    )
}


def get_activation(name: str) -> Activation:
    """The registry entry for `name`; ValueError naming the choices otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        choices = ", ".join(ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; choose from {choices}") from None
