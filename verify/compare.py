"""Comparing one quantity of the two sides: the differences, the tolerance, the verdict.

A scratch value a agrees with the torch value b when |a - b| <= atol + rtol |b| everywhere
(torch.testing.assert_close's rule); non-finite values agree only with the same non-finite value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np


@dataclass
class Comparison:
    """The worst agreement of one quantity of one layer, over every point it was compared at."""

    check: str  # forward, backward, gradcheck, training
    quantity: str  # Z, A, cost, dW, db, dZ, dA, W, b
    layer: int
    max_abs: float = 0.0
    max_rel: float = 0.0
    rtol: float = 0.0
    atol: float = 0.0
    ok: bool = True
    iteration: Optional[int] = None  # training: the first iteration that broke the tolerance
    point: Optional[str] = None  # where it was compared: "initial", "kink probe", "lockstep", ...
    worst: float = 0.0  # the largest |a - b| / (atol + rtol |b|); above 1 breaks the tolerance
    hint: str = ""  # what the numbers suggest, when they fit a classic slip

    @property
    def label(self) -> str:
        return f"{self.quantity}{self.layer}" if self.quantity != "cost" else "cost"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["tolerance"] = {"rtol": d.pop("rtol"), "atol": d.pop("atol")}
        return d

    def update(self, a: np.ndarray, b: np.ndarray, iteration: Optional[int] = None) -> bool:
        """Fold one more pair (scratch a, torch b) into the record; returns whether this pair agrees."""
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            self.record(np.inf, np.inf, np.inf, iteration)
            return False
        diff = np.abs(a - b)
        bound = self.atol + self.rtol * np.abs(b)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = diff / bound
        if not np.all(np.isfinite(diff)):
            same = (a == b) | (np.isnan(a) & np.isnan(b))  # inf == inf; nan where both are nan
            diff = np.where(same, 0.0, np.inf)
            ratio = np.where(same, 0.0, np.where(np.isnan(ratio), np.inf, ratio))
        if diff.size == 0:
            return True
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.max(np.where(diff == 0, 0.0, diff / np.abs(b)))
        return self.record(float(diff.max()), float(rel), float(np.nan_to_num(ratio, nan=np.inf).max()), iteration)

    def record(self, max_abs: float, max_rel: float, worst: float, iteration: Optional[int]) -> bool:
        agrees = worst <= 1.0
        self.max_abs = max(self.max_abs, max_abs)
        self.max_rel = max(self.max_rel, max_rel)
        self.worst = max(self.worst, worst)
        if not agrees and self.ok:
            self.ok = False
            self.iteration = iteration
        return agrees


def relative_difference_row(row: Comparison, grad: np.ndarray, approx: np.ndarray, floor: float) -> bool:
    """Gradient checking's rule: ||grad - approx|| <= rtol (||grad|| + ||approx||) + floor."""
    norm = float(np.linalg.norm(grad - approx))
    total = float(np.linalg.norm(grad) + np.linalg.norm(approx))
    bound = row.rtol * total + floor
    worst = norm / bound if np.isfinite(norm) else np.inf
    max_abs = float(np.max(np.abs(grad - approx))) if grad.size else 0.0
    return row.record(max_abs, norm / total if total else 0.0, worst, None)


def diagnose(a: np.ndarray, b: np.ndarray, m: int) -> str:
    """A hint when the scratch value a relates to the torch value b as a classic slip would."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        if a.shape == b.shape[::-1]:
            return "the shape is transposed"
        return f"the shape is {a.shape}, expected {b.shape}"
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or not np.any(b):
        return ""
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1 and np.allclose(a, b.T, rtol=1e-4, atol=1e-12):
        return "it equals the transpose of the expected value: a missing or extra transpose"
    if np.allclose(a, -b, rtol=1e-4, atol=1e-12):
        return "it has the opposite sign: a sign slip"
    mask = np.abs(b) > 1e-12 * np.abs(b).max()
    ratios = a[mask] / b[mask]
    r = float(np.median(ratios))
    if np.allclose(ratios, r, rtol=1e-4) and abs(r - 1) > 1e-3:
        if m > 1 and np.isclose(r, m, rtol=1e-4):
            return f"it is m = {m} times the expected value: a missing 1/m"
        if m > 1 and np.isclose(r, 1 / m, rtol=1e-4):
            return f"it is 1/m = 1/{m} of the expected value: an extra 1/m"
        return f"it is {r:.4g} times the expected value"
    return ""
