"""The built-in image data set of a conv network: small, generated from the seed, no download.

Each class has a fixed pattern, a smooth random image of the network's input size (Gaussian noise blurred by a
3 x 3 box and scaled to a largest entry of 1); an example is its class's pattern at a random brightness in [0.5,
1.5] plus Gaussian pixel noise of 0.5, so a conv layer has local structure to find and the task is learnable but
not trivial. bce with one output: two classes, Y = 1 for the second; bce with several outputs: each pattern present
or not, on its own (multi-label); ce: one class per output, one-hot; mse: Y is each pattern's correlation with the
image, standardised. X is the course's (m, n_H, n_W, n_C) flattened channels last, as columns (n_H n_W n_C, m).
"""

from __future__ import annotations

import numpy as np

Shape = tuple[int, int, int]


def patterns(shape: Shape, k: int, rng: np.random.Generator) -> np.ndarray:
    """k smooth random images (k, n_H, n_W, n_C), each scaled to a largest |entry| of 1."""
    noise = rng.standard_normal((k, shape[0] + 2, shape[1] + 2, shape[2]))
    blurred = sum(noise[:, i : i + shape[0], j : j + shape[1], :] for i in range(3) for j in range(3))
    return blurred / np.abs(blurred).max(axis=(1, 2, 3), keepdims=True)


def image_dataset(shape: Shape, n_out: int, loss: str, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(X (n_H n_W n_C, m), Y (n_out, m)) for a network whose input is an image of `shape` (see the module)."""
    rng = np.random.default_rng([seed, 2])  # a stream of its own, apart from the initial weights and the teacher's
    k = 2 if loss == "bce" and n_out == 1 else n_out
    P = patterns(shape, k, rng)
    if loss == "ce" or k == 2 and n_out == 1:
        labels = rng.integers(k, size=m)
        present = np.eye(k)[labels]  # (m, k)
    else:
        present = rng.integers(2, size=(m, k)).astype(np.float64)
    brightness = rng.uniform(0.5, 1.5, size=(m, k))
    images = np.einsum("mk,khwc->mhwc", present * brightness, P) + 0.5 * rng.standard_normal((m, *shape))
    X = images.reshape(m, -1).T
    if loss == "ce":
        Y = present.T
    elif loss == "bce":
        Y = present[:, 1:2].T if n_out == 1 else present.T
    else:
        scores = P.reshape(k, -1) @ X  # (k, m)
        Y = (scores - scores.mean(axis=1, keepdims=True)) / (scores.std(axis=1, keepdims=True) + 1e-12)
    return X, Y


__all__ = ["image_dataset", "patterns"]
