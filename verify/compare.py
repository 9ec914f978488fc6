"""Comparing one quantity of the two sides: the differences, the tolerance, the verdict.

A scratch array a agrees with the torch array b when max |a - b| <= atol + rtol max |b|:
torch.testing.assert_close's rule with the relative part taken over the whole array (so
entries that cancel to near zero are judged by the scale of the numbers that produced them).
Non-finite values agree only with the same non-finite value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np


@dataclass
class Comparison:
    """The worst agreement of one quantity of one layer, over every point it was compared at.

    max_rel is normwise: max |a - b| / max |b| over the array (see `agreement`).
    """

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
    worst: float = 0.0  # the largest max |a - b| / (atol + rtol max |b|); above 1 breaks the tolerance
    hint: str = ""  # what the numbers suggest, when they fit a classic slip

    @property
    def label(self) -> str:
        return f"{self.quantity}{self.layer}" if self.quantity != "cost" else "cost"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["tolerance"] = {"rtol": d.pop("rtol"), "atol": d.pop("atol")}
        return d

    def record(self, max_abs: float, max_rel: float, worst: float, iteration: Optional[int] = None,
               rtol: Optional[float] = None, atol: Optional[float] = None) -> bool:
        """Fold one comparison's statistics into the row; returns whether that comparison agreed.

        The row keeps the first iteration, and the tolerance, at which it broke.
        """
        agrees = worst <= 1.0
        self.max_abs = max(self.max_abs, max_abs)
        self.max_rel = max(self.max_rel, max_rel)
        self.worst = max(self.worst, worst)
        if self.ok:
            self.rtol = self.rtol if rtol is None else rtol
            self.atol = self.atol if atol is None else atol
            if not agrees:
                self.ok = False
                self.iteration = iteration
        return agrees


def agreement(pairs: list, rtol: float, atol: float, scales: Optional[list] = None) -> list[tuple[float, float, float]]:
    """(max |a - b|, max |a - b| / scale, max |a - b| / (atol + rtol scale)) for each (a, b) pair.

    The tolerance is normwise: `scale` is the array's largest magnitude max |b|, or the scale
    of the terms it was summed from when that is larger (`scales`, see `gradient_scales`).
    An entry that cancels to near zero carries the rounding error of its large terms, which
    an entrywise rtol |b| would wrongly call a mismatch.
    All pairs go through one pass over their concatenated values: the training loop
    compares a dozen small arrays every iteration, and per-array NumPy calls would dominate.
    """
    if any(np.shape(a) != np.shape(b) or np.size(a) == 0 for a, b in pairs):
        return [(np.inf, np.inf, np.inf) if np.shape(a) != np.shape(b) else
                (0.0, 0.0, 0.0) if np.size(a) == 0 else agreement([(a, b)], rtol, atol, [s])[0]
                for (a, b), s in zip(pairs, scales or [None] * len(pairs))]
    a = np.concatenate([np.ravel(a) for a, _ in pairs])
    b = np.concatenate([np.ravel(b) for _, b in pairs])
    starts = np.cumsum([0] + [np.size(a) for a, _ in pairs[:-1]])
    with np.errstate(all="ignore"):  # inf - inf is sorted out below
        diff = np.abs(a - b)
        if not np.all(np.isfinite(diff)):
            same = (a == b) | (np.isnan(a) & np.isnan(b))  # the same inf, or nan on both sides
            diff = np.where(same, 0.0, np.inf)
        max_abs = np.maximum.reduceat(diff, starts)
        scale = np.maximum.reduceat(np.abs(b), starts)
        if scales is not None:
            scale = np.maximum(scale, [0.0 if s is None else s for s in scales])
        rel = np.where(max_abs == 0, 0.0, max_abs / scale)
        worst = np.where(max_abs == 0, 0.0, max_abs / (atol + rtol * scale))
    return list(zip(max_abs.tolist(), rel.tolist(), worst.tolist()))


def gradient_scales(grads: dict, AL: np.ndarray, Y: np.ndarray, caches, learning_rate: float = 0.0) -> dict:
    """The size of the terms each backward quantity is computed from, which its rounding error scales with.

    dZ[l] = dA[l] * g'(Z[l]): g' is computed to within a rounding error of its own, so dZ's error
    scales with |dA[l]| (at the output, dZ[L] = A[L] - Y). dW[l] = (1/m) dZ[l] A[l-1]^T and
    db[l] = (1/m) sum dZ[l] add up such terms, possibly cancelling to near zero. With a learning
    rate, the same for the update of W[l] and b[l].
    """
    L = len(caches)
    scales = {}
    for l in range(1, L + 1):
        D = AL - Y if l == L else grads.get(f"dA{l}")  # bounds |dZ[l]|: every hidden |g'| <= 1
        if D is None or not np.all(np.isfinite(D)):
            continue
        A_prev = caches[l - 1][0][0]
        s_b = float(np.max(np.mean(np.abs(D), axis=1)))
        s_W = s_b * float(np.max(np.abs(A_prev), initial=0.0))
        scales[("dZ", l)] = float(np.max(np.abs(D), initial=0.0))
        scales[("dW", l)], scales[("db", l)] = s_W, s_b
        if learning_rate:
            scales[("W", l)], scales[("b", l)] = learning_rate * s_W, learning_rate * s_b
    return scales


def relative_difference_row(row: Comparison, grad: np.ndarray, approx: np.ndarray, floor: float) -> bool:
    """Gradient checking's rule: ||grad - approx|| <= rtol (||grad|| + ||approx||) + floor."""
    norm = float(np.linalg.norm(grad - approx))
    total = float(np.linalg.norm(grad) + np.linalg.norm(approx))
    bound = row.rtol * total + floor
    worst = norm / bound if np.isfinite(norm) else np.inf
    max_abs = float(np.max(np.abs(grad - approx))) if grad.size else 0.0
    return row.record(max_abs, norm / total if total else 0.0, worst)


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
