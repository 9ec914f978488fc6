"""Side-by-side timing: callables timed in alternation (A, B, C, A, B, C, ...), medians of the rounds.

Every comparison in the suite is a ratio of two things timed in the same rounds, so a
burst of load from another process hits both sides of a ratio, not one.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from typing import Callable, Mapping, Sequence


def calibrate(fn: Callable[[], object], target_s: float, max_calls: int = 100_000) -> tuple[int, float]:
    """(calls, seconds of one call): how many calls of `fn` make a batch of about `target_s`.

    The first call is a warm-up (first-call imports, thread pools, allocator growth); when it
    is shorter than a batch, a second call is timed to size the batch.
    """
    start = time.perf_counter()
    fn()
    once = time.perf_counter() - start
    if once < target_s:  # a warm-up call longer than a batch already says "one call per batch"
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
    return max(1, min(max_calls, round(target_s / max(once, 1e-9)))), once


def interleaved(
    fns: Mapping[str, Callable[[], object]],
    rounds: int,
    calls: Mapping[str, int] | None = None,
    settle_s: float = 0.0,
) -> dict[str, list[float]]:
    """Seconds per call of each fn, one batch per fn per round, in an order rotated every round.

    Round r runs the fns starting from the (r mod n)-th, so no fn always runs first or
    right after the same neighbour. `settle_s` is an untimed pause before every batch: after
    a call, OpenBLAS's worker threads keep spinning for about 0.1 s, and a torch call made in
    that window competes with them for the cores. Returns {name: [seconds per call, one per round]}.
    """
    names = list(fns)
    calls = dict(calls or {})
    times: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for r in range(rounds):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            fn, k = fns[name], calls.get(name, 1)
            if settle_s:
                time.sleep(settle_s)
            start = time.perf_counter()
            for _ in range(k):
                fn()
            times[name].append((time.perf_counter() - start) / k)
    return times


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else math.nan


def paired_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over rounds of a[i] / b[i]: each ratio pairs two timings from the same round."""
    return median([x / y for x, y in zip(a, b)])


def spread(values: Sequence[float]) -> float:
    """(max - min) / median, in percent: how noisy a set of rounds was."""
    if len(values) < 2:
        return 0.0
    return 100.0 * (max(values) - min(values)) / median(values)


def geomean(values: Sequence[float]) -> float:
    """The geometric mean of positive values (NaN for none)."""
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan
