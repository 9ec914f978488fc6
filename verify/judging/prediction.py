"""What the network predicts, read one way for the report, TensorBoard's curves and its pictures."""

from __future__ import annotations

import numpy as np


def classes(A: np.ndarray, output: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Class and confidence per column (m,): A > 0.5 for one sigmoid unit, the first largest unit (argmax) for
    softmax or several units."""
    if A.shape[0] == 1 and output != "softmax":
        p = A[0]
        return (p > 0.5).astype(int), np.maximum(p, 1 - p)
    return np.argmax(A, axis=0), np.max(A, axis=0)


def prediction_accuracy(AL: np.ndarray, Y: np.ndarray, output: str) -> float | None:
    """Fraction of the m examples whose predicted class is the label's; None for a linear (regression) output.
    Several sigmoid units are several labels: an example counts where every unit's A > 0.5 is its label's."""
    if output == "linear":
        return None
    if output == "softmax" or AL.shape[0] == 1:
        return float(np.mean(classes(AL, output)[0] == classes(Y, output)[0]))
    return float(np.mean(np.all((AL > 0.5) == (Y > 0.5), axis=0)))
