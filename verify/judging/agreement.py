"""Whether one array pair agrees (Stats, agreement): max |a - b| against rtol times the pair's scale plus its floor,
with overflow sorted out as compare.py's docstring says."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tolerance import RESOLUTION, largest, underflow

ALONE = 1 << 14  # entries: a pair this large is compared on its own, not copied into agreement's concatenation
BLOCK = 1 << 15  # entries of a large pair read at a time: its temporaries fit a core's cache


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


def agreement(pairs: list, scales: list, rtol: float, floors: list | None = None) -> list[Stats]:
    """Stats of each (a, b) pair against the tolerance rtol * scale + floor.

    The small pairs go through one pass over their concatenated values: the training loop compares
    a dozen small arrays every iteration, and per-array NumPy calls would dominate. A large pair
    (ALONE entries or more) is judged on its own, where copying it into the concatenation would cost
    more than the comparison. A scale may be an array, one per entry (see tolerance.optimizer_scales):
    that pair is judged entry by entry, and its Stats are those of its entry closest to (or furthest
    past) its tolerance.
    """
    floors = [f + underflow(a, b) for (a, b), f in zip(pairs, floors or [0.0] * len(pairs))]
    alone = [np.size(a) >= ALONE and np.shape(a) == np.shape(b) for a, b in pairs]
    if not any(alone) or any(isinstance(s, np.ndarray) for s in scales):
        return _agreement(pairs, scales, rtol, floors)
    small = [i for i, one in enumerate(alone) if not one]
    stats = dict(
        zip(small, _agreement([pairs[i] for i in small], [scales[i] for i in small], rtol, [floors[i] for i in small]))
        if small
        else ()
    )
    for i in (i for i, one in enumerate(alone) if one):
        a, b = pairs[i]
        stats[i] = _large_agreement(a, b, scales[i], rtol, floors[i])
    return [stats[i] for i in range(len(pairs))]


def _large_agreement(a: np.ndarray, b: np.ndarray, scale: float, rtol: float, floor: float) -> Stats:
    """One large pair's Stats; one that is not finite as _agreement sorts it out."""
    with np.errstate(all="ignore"):
        gap, size = _gap_and_size(a, b)
        tolerance = rtol * scale + floor
    if not (np.isfinite(gap) and np.isfinite(tolerance)):
        return _agreement([(a, b)], [scale], rtol, [floor])[0]
    return Stats(gap, scale, tolerance, size)


def _gap_and_size(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """max |a - b| and max |b| of a pair of one shape (nan where an entry is), BLOCK entries at a time where both
    are laid out in C order: each block's difference stays in the core's cache, and no temporary is as large as
    the pair. Where one is not, over the whole pair."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.flags.c_contiguous and b.flags.c_contiguous):
        diff = np.subtract(a, b)
        return float(np.abs(diff, out=diff).max()), largest(b)
    a, b = a.reshape(-1), b.reshape(-1)
    block = np.empty(min(BLOCK, a.size), np.result_type(a, b))
    gaps, tops, bottoms = [], [], []
    for start in range(0, a.size, BLOCK):
        x, y = a[start : start + BLOCK], b[start : start + BLOCK]
        diff = np.subtract(x, y, out=block[: x.size])
        gaps.append(np.abs(diff, out=diff).max())
        tops.append(y.max())
        bottoms.append(y.min())
    return float(np.max(gaps)), float(np.maximum(np.max(tops), -np.min(bottoms)))


def _agreement(pairs: list, scales: list, rtol: float, floors: list) -> list[Stats]:
    """agreement's Stats, the pairs through one pass over their concatenated values; floors with underflow's."""
    if any(isinstance(s, np.ndarray) for s in scales):
        return [
            _entrywise(a, b, s, rtol, f) if isinstance(s, np.ndarray) else _agreement([(a, b)], [s], rtol, [f])[0]
            for (a, b), s, f in zip(pairs, scales, floors)
        ]
    if any(np.shape(a) != np.shape(b) or np.size(a) == 0 for a, b in pairs):
        return [
            Stats(np.inf, s, rtol * s + f, np.inf, shape=f"shape {np.shape(a)} vs torch {np.shape(b)}")
            if np.shape(a) != np.shape(b)
            else Stats(0.0, s, rtol * s + f, 0.0)
            if np.size(a) == 0
            else _agreement([(a, b)], [s], rtol, [f])[0]
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
    # the entry furthest past (or closest to) its tolerance; where every entry agrees exactly, the one judged most
    # finely (an entry whose gradient is always 0 has a huge scale, and would call the whole row unresolved)
    judged = np.argmax(ratio) if np.any(ratio > 0) else np.argmin(np.where(np.isfinite(tolerance), tolerance, np.inf))
    worst = np.unravel_index(int(judged), ratio.shape)
    over = bool(np.any(overflowed)) and float(ratio[worst]) <= 1.0
    return Stats(
        float(diff[worst]),
        float(scale[worst]),
        float(tolerance[worst]),
        float(np.max(np.abs(b))),
        largest=float(np.max(diff)),
        overflow=over,
    )
