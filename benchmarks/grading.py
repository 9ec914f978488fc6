"""Grading throughput: submissions per minute for a week-4 notebook, one worker and all cores, local workers and a
Dask LocalCluster, and what isolation costs a submission; measured side by side in one run.

Each submission is examples/class/alice's week-4 notebook under a name of its own, graded by `python -m verify
grade` (in this process, verify.grading.cli.main) with the run's options (GRADED). Isolation's cost is the wall
time of one submission graded alone, with one worker, less that of the same verification in this process
(verify.run on the same notebook), medians of the repeats.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from verify import Config
from verify.arch import parse_network

CLASS = Path(__file__).resolve().parents[1] / "examples" / "class" / "alice"
GRADED = ["--arch", "3,4,4,1", "--iterations", "200"]  # the single run's options for every submission
PROJECTED = (1_000, 100_000)


def _class(folder: Path, n: int) -> Path:
    """n copies of the notebook, each in a folder of its own (as a class hands them in)."""
    for i in range(n):
        shutil.copytree(CLASS, folder / "class" / f"learner{i:03d}")
    return folder / "class"


def _grade(folder: Path, *extra: str) -> float:
    """Seconds to grade the class in `folder` with `extra` options; its output kept off the benchmark's."""
    from verify.grading.cli import main

    started = time.perf_counter()
    with contextlib.redirect_stderr(io.StringIO()):
        code = main([str(folder / "class"), *GRADED, "--out", str(folder / f"grades{time.monotonic_ns()}"), *extra])
    assert code == 0, f"grading the benchmark's class failed ({code})"
    return time.perf_counter() - started


def _in_process(repeats: int) -> float:
    """Median seconds of the same verification in this process."""
    from .verifier import verified  # (torch loads here)

    sizes, layers = parse_network(GRADED[1])
    config = Config(
        impl=str(CLASS / "week4.ipynb"), arch=sizes, layers=layers, iterations=200, tensorboard=False, progress=False
    )
    assert verified(config).ok  # once untimed: the first run in a process pays its one-time costs
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        assert verified(config).ok
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run_grading(n: int = 8, repeats: int = 3, log: Callable[[str], None] = print) -> dict:
    """Throughput (submissions per minute) of n submissions for each way of grading, and isolation's cost."""
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        folder = Path(tmp)
        _class(folder, n)
        alone = statistics.median(_alone(folder, repeats))
        inside = _in_process(repeats)
        rates = {}
        for label, extra in (
            ("local, 1 worker", ["--workers", "1"]),
            (f"local, {cores} workers", ["--workers", str(cores)]),
        ):
            rates[label] = 60 * n / _grade(folder, *extra)
            log(f"  {label}: {rates[label]:.1f} submissions/min")
        import dask
        from distributed import LocalCluster

        with (  # workers that may fork: each grades from a server that imported torch once (warm.py)
            dask.config.set({"distributed.worker.daemon": False}),
            LocalCluster(n_workers=cores, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        ):
            label = f"LocalCluster, {cores} workers"
            rates[label] = 60 * n / _grade(folder, "--scheduler", cluster.scheduler_address)
            log(f"  {label}: {rates[label]:.1f} submissions/min")
    best = max(rates.values())
    return {
        "submissions": n,
        "cores": cores,
        "options": " ".join(GRADED),
        "rates": rates,
        "alone_s": alone,
        "in_process_s": inside,
        "isolation_s": alone - inside,
        "projections": {count: {"hours_here": count / best / 60, "per_core_rate": best / cores} for count in PROJECTED},
    }


def _alone(folder: Path, repeats: int) -> list[float]:
    """Seconds to grade one submission alone with one worker, each repeat graded afresh (after one untimed grading
    that starts the grader's fork server, as a class's first submission does once)."""
    one = folder / "one"
    shutil.copytree(CLASS, one / "class" / "learner")
    _grade(one, "--workers", "1")
    times = []
    for _ in range(repeats):
        times.append(_grade(one, "--workers", "1", "--regrade"))
    return times


def lines(r: dict) -> list[str]:
    """The section RESULTS.md gives grading."""
    per_core = r["projections"][PROJECTED[0]]["per_core_rate"]
    out = [
        f"{r['submissions']} submissions of a week-4 notebook (examples/class/alice), each graded with "
        f"`{r['options']}`, on {r['cores']} cores:",
        "",
        "| grading | submissions per minute |",
        "| --- | ---: |",
        *(f"| {label} | {rate:.1f} |" for label, rate in r["rates"].items()),
        "",
        f"- Isolation's cost: one submission graded alone takes {r['alone_s']:.2f} s, the same verification in "
        f"the grader's own process {r['in_process_s']:.2f} s: {r['isolation_s']:.2f} s a submission (the private "
        "copy, a judge forked from the grader's warm server, its limits, the learner's process it starts and "
        "every call of the learner's functions crossing to that process and back, the report written and read "
        "back, the gradebook and the exports).",
    ]
    for count in PROJECTED:
        hours = r["projections"][count]["hours_here"]
        cores = max(1, math.ceil(count / 60 / per_core))
        out.append(
            f"- {count:,} submissions: {hours:.1f} h on this machine at its best rate; within an hour, "
            f"{cores} core{'s' * (cores > 1)} like these ({per_core:.1f} submissions a minute each)."
        )
    return out


__all__ = ["lines", "run_grading"]
