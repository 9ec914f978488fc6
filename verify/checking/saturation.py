"""A sigmoid output that reached exactly 0 or 1, where the course's cost is log(0): how training sees it and says it."""

from __future__ import annotations

import numpy as np

SATURATION_HINT = (
    "once AL rounds to exactly 0 or 1, a course-literal cost Y log(AL) + (1-Y) log(1-AL) or "
    "dAL = -(Y/AL - (1-Y)/(1-AL)) is infinite; computing from Z[L] (log-sigmoid) and dZ[L] = AL - Y is not"
)


def saturated_output(ref: dict, AL, L: int) -> float | None:
    """The value, 1.0 or 0.0, a sigmoid output reached exactly in the run's dtype, where the course's cost
    Y log(AL) + (1-Y) log(1-AL) takes log(0); None while every entry is strictly between 0 and 1.

    The reference's output counts as reached when torch's A[L], or the course's sigmoid 1 / (1 + e^-Z) of
    torch's Z[L] computed in the same dtype, is exactly 0 or 1; so does the implementation's AL where it is
    within 4 eps of torch's (the two sigmoids may round the last bit apart).
    """
    A, Z = np.asarray(ref[f"A{L}"]), np.asarray(ref[f"Z{L}"])
    with np.errstate(over="ignore"):  # e^-Z overflowing to inf is the course's sigmoid reaching 0
        course = 1 / (1 + np.exp(-Z))
    candidates = [A, course]
    AL = np.asarray(AL)
    if AL.shape == A.shape and A.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            close = np.abs(AL - A) <= 4 * np.finfo(A.dtype).eps
        candidates.append(np.where(close, AL, 0.5))
    return next((value for value in (1.0, 0.0) if any(np.any(c == value) for c in candidates)), None)


def saturation_reason(i: int, reached: float) -> str:
    """The line every check that stops at a saturated output says."""
    return f"not comparable from iteration {i} (A[L] reached exactly {reached:.1f}: the course's cost is log(0) there)"
