"""Small seeded datasets in the course layout: X (n_x, m), Y (n_y, m), float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .arrays import Array


def flower(m: int = 400, seed: int = 1) -> tuple[Array, Array]:
    """The course's planar "flower": two classes on the petals of the rose r = 4 sin(4t), with noise."""
    rng = np.random.default_rng(seed)
    label = np.arange(m) * 2 // m  # first half class 0, second half class 1
    position = (np.arange(m) % (m - m // 2)) / max(m - m // 2 - 1, 1)  # 0..1 along each class
    t = (label + position) * 3.12 + rng.standard_normal(m) * 0.2  # angle
    r = 4 * np.sin(4 * t) + rng.standard_normal(m) * 0.2  # radius
    X = np.stack([r * np.sin(t), r * np.cos(t)])  # (2, m)
    return X, label.reshape(1, m).astype(np.float64)


def moons(m: int = 400, seed: int = 0, noise: float = 0.1) -> tuple[Array, Array]:
    """Two interleaving half circles, one per class."""
    rng = np.random.default_rng(seed)
    label = np.arange(m) % 2
    angle = rng.uniform(0, np.pi, m)
    x1 = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    x2 = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    X = np.stack([x1, x2]) + rng.standard_normal((2, m)) * noise  # (2, m)
    return X, label.reshape(1, m).astype(np.float64)


def xor(m: int = 400, seed: int = 0) -> tuple[Array, Array]:
    """Points in the square [-1, 1]^2, class 1 where x1 and x2 have the same sign."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (2, m))  # (2, m)
    Y = (X[0] * X[1] > 0).astype(np.float64).reshape(1, m)
    return X, Y


def house(m: int = 200, seed: int = 0) -> tuple[Array, Array]:
    """The notes' opening example, as regression: price from size, both standardised (1, m)."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(50, 250, m)  # square metres
    price = np.maximum(0, 3 * (size - 40)) + rng.normal(0, 30, m)  # a relu-shaped price, thousands
    X = ((size - size.mean()) / size.std()).reshape(1, m)
    Y = ((price - price.mean()) / price.std()).reshape(1, m)
    return X, Y


DATASETS: dict[str, Callable[..., tuple[Array, Array]]] = {
    "flower": flower,
    "moons": moons,
    "xor": xor,
    "house": house,
}
