"""Comparing the two sides: one quantity (Comparison), and a check's quantities (CheckResult).

An implementation array a agrees with the torch array b when max |a - b| <= tolerance, where
the tolerance is rtol times the quantity's scale (the size of the terms it is computed from,
see tolerance.py), plus the rounding of an update where one is compared, plus UNDERFLOW_STEPS steps of
the dtype's subnormal grid (tolerance.underflow), below which nothing is finer.

Overflow is not a disagreement. A quantity is *not comparable (overflow)* where its tolerance is
not a finite number (its scale overflowed), or where it is non-finite on both sides at the same
entries (or infinite on one side and, on the other, within its tolerance of the dtype's largest
number), and no other entry breaks its tolerance. A non-finite value facing a finite one anywhere
else is a difference of inf: a slip that divides by 0 still fails.

A row that agrees is *resolved* when its tolerance is below a tenth of the reference's own
size: then a sign slip, a lost factor or a missing term would have shown. Where the
tolerance is larger (finite differences below their rounding floor, an update step below the
rounding of the weights it moves), the row says "unresolved" instead of "ok".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..errors import ImplementationError
from .agreement import Stats, agreement
from .hints import diagnose

OVERFLOW = "not comparable (overflow)"  # a row's status where its numbers left the dtype's range


@dataclass
class Comparison:
    """One quantity of one layer, over every point (or iteration) it was compared at.

    While it agrees, the numbers are those of its closest call (the largest ratio). Once it
    breaks, they are frozen at the first point that broke it, with the entries that differ;
    `run_max_abs` keeps the largest difference seen over the whole run.
    """

    stage: str  # forward, backward, gradcheck, training
    quantity: str  # Z, A, cost, dZ, dW, db, dA, W, b
    layer: int | None  # None: a quantity of no layer (the language model's Waa, dWaa, a)
    rtol: float = 0.0
    max_abs: float | None = 0.0  # None: no number to show (nothing comparable yet, or shapes that differ)
    max_rel: float | None = 0.0
    scale: float | None = 0.0  # what max_rel and the tolerance are relative to, at that point
    tolerance: float | None = 0.0  # the allowed max abs, at the point the numbers are from
    ratio: float = 0.0
    ok: bool = True
    compared: int = 0  # points compared
    resolved: int = 0  # of them, points where the tolerance could resolve the quantity
    iteration: int | None = None  # the iteration the numbers are from
    point: str | None = None  # where it was compared: "initial weights", "kink probe", ...
    hint: str = ""  # what the numbers suggest, when they fit a classic slip
    mismatched: int | None = None  # failed rows: entries over the tolerance, of `entries`
    entries: int | None = None
    index: tuple | None = None  # failed rows: the worst entry, and both values there
    value: float | None = None
    expected: float | None = None
    run_max_abs: float = 0.0  # the largest max |a - b| over every point compared
    follows: str | None = None  # failed rows: the earlier divergence this one follows from
    shape: str | None = None  # failed rows whose shapes differ: "shape (4, 200) vs torch (3, 200)"; no max abs then
    overflowed: int = 0  # of the points compared, those not comparable (overflow); while all are, no numbers are shown

    @property
    def label(self) -> str:
        return (
            f"{self.quantity}{self.layer}"
            if self.quantity not in ("cost", "lr") and self.layer is not None
            else self.quantity
        )

    @property
    def status(self) -> str:
        if not self.ok:
            return "FAIL"
        if self.overflowed:
            if self.overflowed == self.compared:
                return OVERFLOW
            base = "unresolved" if not self.resolved else "ok"
            return f"{base}, {OVERFLOW} at {self.overflowed} of {self.compared} points"
        return "unresolved" if self.compared and not self.resolved else "ok"

    def as_dict(self) -> dict:
        d = asdict(self)
        del d["ratio"]  # max_abs / tolerance, both of which are given
        return {**d, "status": self.status, "index": None if self.index is None else list(self.index)}

    def record(self, stats: Stats, iteration: int | None = None, point: str | None = None) -> bool:
        """Fold one comparison into the row; returns whether it agreed. A row that broke keeps its first break."""
        self.compared += 1
        if stats.overflow:
            self.overflowed += 1
            if self.ok and self.overflowed == self.compared:  # nothing comparable yet: no number to show
                self.max_abs = self.max_rel = self.scale = self.tolerance = None
                self.iteration, self.point = iteration, point
            return True
        self.resolved += stats.resolved
        if stats.shape is None:
            self.run_max_abs = max(self.run_max_abs, stats.largest_gap)
        if not self.ok:
            return stats.agrees
        if stats.ratio >= self.ratio or not stats.agrees:
            self.max_abs, self.max_rel, self.ratio = stats.max_abs, stats.max_rel, stats.ratio
            self.scale, self.tolerance = stats.scale, stats.tolerance
            self.iteration, self.point = iteration, point
            if stats.shape is not None:  # arrays of different shapes have no difference to show: none is shown
                self.max_abs, self.max_rel, self.shape = None, None, stats.shape
        if not stats.agrees:
            self.ok = False
        return stats.agrees

    def explain(self, a, b, tolerance=None) -> None:
        """For a row that just broke: how many entries differ, and the worst one with both values.

        tolerance: each entry's, where the row is judged entry by entry (else the row's)."""
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        tolerance = self.tolerance if tolerance is None else tolerance
        if a.shape != b.shape:
            return
        with np.errstate(all="ignore"):
            diff = np.abs(a - b)
            diff = np.where((a == b) | (np.isnan(a) & np.isnan(b)), 0.0, np.where(np.isnan(diff), np.inf, diff))
        self.entries = int(diff.size)
        over = diff > tolerance
        self.mismatched = int(np.count_nonzero(over))
        if diff.size and b.ndim:
            with np.errstate(all="ignore"):  # the worst entry: the furthest past its own tolerance
                ratio = np.where(diff == 0, 0.0, diff / tolerance) if np.ndim(tolerance) else diff
            worst = np.unravel_index(int(np.argmax(ratio)), diff.shape)
            self.index = tuple(int(i) for i in worst)
            self.value, self.expected = float(a[worst]), float(b[worst])
        else:
            self.value, self.expected = float(a), float(b)


def mismatch(
    mismatched: int | None, entries: int | None, index, value: float, expected: float, reference: str = "torch"
) -> str:
    """'3 of 16 entries differ, worst at (2, 0): 0.51 vs torch 0.026': every failed comparison's message.

    `index` is the worst entry's (none for a scalar); the count is left out where it is not known."""
    where = f" at {tuple(int(i) for i in index)}" if index else ""
    text = f"worst{where}: {_number(value)} vs {reference} {_number(expected)}"
    return f"{mismatched} of {entries} entries differ, {text}" if entries else text


def _number(x: float) -> str:
    """Seven significant digits; inf, -inf and nan as themselves."""
    return f"{float(x):.7g}"


def tolerances(scale, rtol: float, floor: float):
    """Each entry's tolerance, where `scale` is an array (else None: the row's one tolerance)."""
    return rtol * scale + floor if isinstance(scale, np.ndarray) else None


def gradient_agreement(grad: np.ndarray, approx: np.ndarray, rtol: float, floor: float) -> Stats:
    """Gradient checking's rule, ||grad - approx|| <= rtol (||grad|| + ||approx||) + floor, as Stats: the course's
    relative difference (Stats.max_rel, ||grad - approx|| / (||grad|| + ||approx||)) held to rtol, with the finite
    differences' rounding.

    `floor` is the rounding error of the finite differences; the row resolves the gradient
    only where the floor is well below ||approx||.
    """
    if not np.all(np.isfinite(approx)):  # the cost itself overflowed near this point: the oracle has no value
        return Stats(0.0, np.inf, np.inf, np.inf, overflow=True)
    with np.errstate(all="ignore"):
        if not np.all(np.isfinite(grad)):  # finite differences of a finite cost, against a non-finite gradient
            total = _norm(approx)
            return Stats(np.inf, total, rtol * total + floor, total)
        total = _norm(grad) + _norm(approx)
        tolerance = rtol * total + floor
        return Stats(_norm(grad - approx), total, tolerance, _norm(approx), overflow=not np.isfinite(tolerance))


def _norm(x: np.ndarray) -> float:
    """||x||_2 without overflowing where it is finite: x is scaled by its largest entry first (x . x of entries of
    1e200 overflows though the norm is 1e200 sqrt(n))."""
    top = float(np.max(np.abs(x), initial=0.0))
    if top == 0 or not np.isfinite(top):
        return top
    return top * float(np.linalg.norm(x / top))


@dataclass
class CheckResult:
    """One check's rows, or the error the implementation raised during it, or why it did not run."""

    name: str  # forward, backward, gradcheck, lockstep, free-running, loop <function>
    stage: str  # what it checks: forward, backward, gradcheck, training
    rtol: float
    rows: dict = field(default_factory=dict)
    error: ImplementationError | None = None
    error_iteration: int | None = None
    error_follows: str | None = None  # the same error was first reported by this earlier check
    skipped: str | None = None  # why it did not run
    left_out: bool = False  # skipped: the module's own code (a loop it defines) that this run's options cannot run
    notes: list[str] = field(default_factory=list)
    comparable_until: int | None = None  # free-running: the runs were compared up to (not including) this iteration

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.rows.values())

    @property
    def status(self) -> str:
        if not self.ok:
            return "FAIL"
        if self.skipped:
            return "not run"
        if self.comparable_until is not None:
            return (
                f"ok up to iteration {self.comparable_until - 1}, not comparable after"
                if self.comparable_until
                else "not comparable"
            )
        if self.rows and all(r.compared and r.overflowed == r.compared for r in self.rows.values()):
            return OVERFLOW
        if self.rows and all(r.status in ("unresolved", OVERFLOW) for r in self.rows.values()):
            return "unresolved"
        return "ok"

    def row(self, quantity: str, layer: int | None) -> Comparison:
        key = (quantity, layer)
        if key not in self.rows:
            self.rows[key] = Comparison(self.stage, quantity, layer, rtol=self.rtol)
        return self.rows[key]

    def compare(
        self,
        items: list,
        m: int,
        scales: dict,
        at: int | str | None = None,
        rtol: float | None = None,
        floors: dict | None = None,
    ) -> list[Stats]:
        """Fold (quantity, layer, implementation value, torch value) items into their rows, in order, taken `at` an
        iteration of training (a number) or a named point ("initial weights", "kink probe").

        `scales` maps (quantity, layer) to the size of the terms the value is computed from (see
        tolerance.py), `floors` to an absolute rounding term added to rtol * scale.
        """
        rtol = self.rtol if rtol is None else rtol
        floors = floors or {}
        iteration, point = (at, None) if isinstance(at, int) else (None, at)
        stats = agreement(
            [(a, b) for _, _, a, b in items],
            [scales.get((q, l), 0.0) for q, l, _, _ in items],
            rtol,
            [floors.get((q, l), 0.0) for q, l, _, _ in items],
        )
        for (quantity, layer, a, b), stat in zip(items, stats):
            row = self.row(quantity, layer)
            was_ok = row.ok
            if not row.record(stat, iteration, point) and was_ok:
                row.explain(
                    a, b, tolerances(scales.get((quantity, layer), 0.0), rtol, floors.get((quantity, layer), 0.0))
                )
                row.hint = diagnose(a, b, m)
        return stats
