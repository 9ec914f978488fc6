"""How closely a hint's hypothesis must fit the numbers: the measures every hint module judges by."""

from __future__ import annotations

import numpy as np

FIT = 1e-6  # how closely the numbers must fit a hypothesis
EXPLAINED = 1e-2  # a hypothesis explains a difference when what is left of it is below this fraction


def matches(value, hypothesis) -> bool:
    """Whether value is what the hypothesis gives, up to the rounding of either dtype (float32's included)."""
    value, hypothesis = np.asarray(value, dtype=np.float64), np.asarray(hypothesis, dtype=np.float64)
    if value.shape != hypothesis.shape or not np.all(np.isfinite(value)):
        return False
    return bool(np.allclose(value, hypothesis, rtol=1e-5, atol=1e-5 * float(np.max(np.abs(hypothesis), initial=0.0))))
