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
from .hints import diagnose
from .tolerance import RESOLUTION, underflow

OVERFLOW = "not comparable (overflow)"  # a row's status where its numbers left the dtype's range


@dataclass
class Stats:
    """One comparison of one array pair."""

    max_abs: float  # max |a - b| (judged entry by entry: at the entry closest to, or furthest past, its tolerance)
    scale: float  # what the tolerance is relative to
    tolerance: float  # the largest max |a - b| that agrees
    size: float  # max |b|, the reference's own size
    largest: float | None = None  # judged entry by entry: the largest |a - b| of any entry
    shape: str | None = None  # the shapes differ: "shape (4, 200) vs torch (3, 200)", and there is no max |a - b|
    overflow: bool = False  # not comparable: the values or the tolerance left the dtype's range (see the module)

    @property
    def largest_gap(self) -> float:
        return self.max_abs if self.largest is None else self.largest

    @property
    def ratio(self) -> float:
        """max |a - b| over the tolerance: above 1 breaks it."""
        if self.max_abs == 0 or self.overflow:
            return 0.0
        return self.max_abs / self.tolerance if self.tolerance > 0 else np.inf

    @property
    def max_rel(self) -> float:
        if self.max_abs == 0:
            return 0.0
        return self.max_abs / self.scale if self.scale > 0 else np.inf

    @property
    def agrees(self) -> bool:
        return self.overflow or self.ratio <= 1.0

    @property
    def resolved(self) -> bool:
        return not self.overflow and (self.tolerance <= RESOLUTION * self.size or self.tolerance == 0)


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


def agreement(pairs: list, scales: list, rtol: float, floors: list | None = None) -> list[Stats]:
    """Stats of each (a, b) pair against the tolerance rtol * scale + floor.

    All pairs go through one pass over their concatenated values: the training loop compares
    a dozen small arrays every iteration, and per-array NumPy calls would dominate. A scale
    may be an array, one per entry (see tolerance.optimizer_scales): that pair is judged entry
    by entry, and its Stats are those of its entry closest to (or furthest past) its tolerance.
    """
    floors = [f + underflow(a, b) for (a, b), f in zip(pairs, floors or [0.0] * len(pairs))]
    if any(isinstance(s, np.ndarray) for s in scales):
        return [
            _entrywise(a, b, s, rtol, f) if isinstance(s, np.ndarray) else agreement([(a, b)], [s], rtol, [f])[0]
            for (a, b), s, f in zip(pairs, scales, floors)
        ]
    if any(np.shape(a) != np.shape(b) or np.size(a) == 0 for a, b in pairs):
        return [
            Stats(np.inf, s, rtol * s + f, np.inf, shape=f"shape {np.shape(a)} vs torch {np.shape(b)}")
            if np.shape(a) != np.shape(b)
            else Stats(0.0, s, rtol * s + f, 0.0)
            if np.size(a) == 0
            else agreement([(a, b)], [s], rtol, [f])[0]
            for (a, b), s, f in zip(pairs, scales, floors)
        ]
    a = np.concatenate([np.ravel(a) for a, _ in pairs])
    b = np.concatenate([np.ravel(b) for _, b in pairs])
    starts = np.cumsum([0] + [np.size(a) for a, _ in pairs[:-1]])
    with np.errstate(all="ignore"):  # inf - inf, and a tolerance that overflows, are sorted out below
        tolerance = [rtol * s + f for s, f in zip(scales, floors)]
        diff = np.abs(a - b)
        overflowed = None
        if not np.all(np.isfinite(diff)):
            sizes = [np.size(a) for a, _ in pairs]
            tops = np.repeat([_largest_number(a, b) for a, b in pairs], sizes)
            diff, overflowed = _nonfinite_gaps(a, b, diff, np.repeat(tolerance, sizes), tops)
        max_abs = np.maximum.reduceat(diff, starts).tolist()
        size = np.maximum.reduceat(np.abs(b), starts).tolist()
    over = [False] * len(pairs) if overflowed is None else np.logical_or.reduceat(overflowed, starts).tolist()
    return [
        Stats(d, s, t, z, overflow=_not_comparable(d, t, o))
        for d, s, t, z, o in zip(max_abs, scales, tolerance, size, over)
    ]


def _nonfinite_gaps(a: np.ndarray, b: np.ndarray, diff: np.ndarray, tolerance, top) -> tuple[np.ndarray, np.ndarray]:
    """The gap of each entry where some are not finite, and which entries overflowed (see the module's docstring):
    non-finite on both sides, or infinite on one side and within the tolerance of the largest number on the other
    (the two sides rounding one value across the top of the range, `top`). Those count as a gap of 0; any other
    non-finite entry as a gap of inf."""
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    other = np.where(finite_a, np.abs(a), np.abs(b))  # where exactly one side is finite: its value
    edge = (np.isinf(a) | np.isinf(b)) & (other + tolerance >= top)
    overflowed = (~finite_a & ~finite_b) | ((finite_a != finite_b) & (edge | ~np.isfinite(tolerance)))
    gaps = np.where(np.isfinite(diff), diff, np.inf)  # finite entries keep their gap (|a - b| itself may overflow)
    return np.where(overflowed, 0.0, gaps), overflowed


def _largest_number(a, b) -> float:
    """The largest finite number of the narrower float dtype of a and b (float64's where neither is a float array)."""
    sizes = [x.dtype.itemsize for x in (a, b) if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f"]
    return float(np.finfo({2: np.float16, 4: np.float32}.get(min(sizes, default=8), np.float64)).max)


def _not_comparable(max_abs: float, tolerance: float, overflowed: bool) -> bool:
    """A tolerance that overflowed compares nothing; entries that overflowed do not count while the rest agree."""
    return not np.isfinite(tolerance) or (overflowed and max_abs <= tolerance)


def _entrywise(a, b, scale: np.ndarray, rtol: float, floor: float) -> Stats:
    if np.shape(a) != np.shape(b) or np.size(a) == 0:
        return agreement([(a, b)], [float(np.max(scale, initial=0.0))], rtol, [floor])[0]
    a0, b0 = a, b
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(all="ignore"):
        tolerance = rtol * scale + floor
        diff = np.abs(a - b)
        overflowed = np.zeros(diff.shape, dtype=bool)
        if not (np.all(np.isfinite(diff)) and np.all(np.isfinite(tolerance))):
            diff, overflowed = _nonfinite_gaps(a, b, diff, tolerance, _largest_number(a0, b0))
            overflowed |= ~np.isfinite(tolerance)  # an entry whose own tolerance overflowed compares nothing
            diff = np.where(overflowed, 0.0, diff)
        ratio = np.where(diff == 0, 0.0, diff / np.where(overflowed, 1.0, tolerance))  # diff > 0 at a 0 tolerance: inf
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    over = bool(np.any(overflowed)) and float(ratio[worst]) <= 1.0
    return Stats(
        float(diff[worst]),
        float(scale[worst]),
        float(tolerance[worst]),
        float(np.max(np.abs(b))),
        largest=float(np.max(diff)),
        overflow=over,
    )


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
