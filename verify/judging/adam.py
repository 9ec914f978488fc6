"""Adam's bias correction, the one formula the scales, the hints, the unit checks and the validation share."""

from __future__ import annotations


def bias_correction(beta: float, t: int) -> float:
    """1 - beta^t: Adam divides its moment by this at step t (from 1), v_corrected = v / (1 - beta1^t)."""
    return 1 - beta**t
