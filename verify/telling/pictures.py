"""Decision-boundary pictures drawn with NumPy alone: a shaded grid of predictions and the data points."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..judging.prediction import classes

# Light shades for the regions, dark ones for the points, one per class.
REGION = np.array([[244, 160, 150], [150, 185, 240], [170, 225, 160], [245, 215, 140], [210, 170, 230]], dtype=float)
POINT = np.array([[180, 30, 20], [20, 60, 170], [30, 130, 40], [190, 120, 0], [120, 40, 150]], dtype=float)


def decision_boundary(
    X: np.ndarray, Y: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], size: int = 240
) -> np.ndarray | None:
    """An (size, size, 3) uint8 image of `predict`'s classes over the plane of 2-feature X (2, m), with X on top.

    `predict` maps a (2, n) grid to A[L] (n[L], n): one sigmoid unit, or softmax probabilities.
    """
    lo, hi = X.min(axis=1) - 0.5, X.max(axis=1) + 0.5
    xs = np.linspace(lo[0], hi[0], size)
    ys = np.linspace(hi[1], lo[1], size)  # image row 0 is the top of the plane
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()]).astype(X.dtype)  # (2, size * size)
    A = np.asarray(predict(grid), dtype=float)
    if not np.all(np.isfinite(A)):
        return None
    predicted, confidence = classes(A)
    shade = 0.55 + 0.45 * np.clip(2 * confidence - 1, 0, 1)  # paler near the boundary
    image = 255 - (255 - REGION[predicted % len(REGION)]) * shade[:, None]
    image = image.reshape(size, size, 3)

    labels, _ = classes(Y)
    col = np.round((X[0] - lo[0]) / (hi[0] - lo[0]) * (size - 1)).astype(int)
    row = np.round((hi[1] - X[1]) / (hi[1] - lo[1]) * (size - 1)).astype(int)
    for dr in (-1, 0, 1):  # each point as a 3x3 square
        for dc in (-1, 0, 1):
            r, c = np.clip(row + dr, 0, size - 1), np.clip(col + dc, 0, size - 1)
            image[r, c] = POINT[labels % len(POINT)]
    return image.astype(np.uint8)
