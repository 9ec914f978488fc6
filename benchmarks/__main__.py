"""python -m benchmarks [--quick] [--out PATH]: the whole suite, printed and written as markdown.

Sections: vectorisation, the step suite (scratch vs torch_ref, with the matmul ceiling),
peak memory per step (subprocesses), cold start, verifier overhead, verifier memory growth,
and (full run only) a thread-count diagnostic.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from typing import Iterator, Optional, Sequence

# The same thread-pool waiting policy as `python -m verify` (see verify/__main__.py), set
# before NumPy and torch load, so the in-process figures measure what the command runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from . import extras, machine, suite  # noqa: E402
from .memory import measure_in_subprocess  # noqa: E402
from .report import Results, render  # noqa: E402

SECTIONS = ("vector", "steps", "memory", "cold", "overhead", "growth", "threads")
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def section(name: str, timings: dict) -> Iterator[None]:
    """Log a section's start and record its duration and the load average at its end."""
    log(f"{name} ...")
    start = time.perf_counter()
    yield
    timings[name] = (time.perf_counter() - start, os.getloadavg()[0])
    log(f"  ({timings[name][0]:.0f} s, load {timings[name][1]:.2f})")


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="fast smoke run: fewer rounds and repeats, memory on one cell, --iterations 500 for the growth check")
    p.add_argument("--out", default=DEFAULT_OUT, help="markdown file to write (default: benchmarks/RESULTS.md)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)")
    p.add_argument("--entries", default=None,
                   help="suite entries to time, separated by ';', e.g. '3,4,4,1;2,4,1' (default: all)")
    args = p.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        p.error(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    args.entries = [e.strip() for e in args.entries.split(";")] if args.entries else None
    return args


def measure_memory(steps: list[suite.StepResult], quick: bool) -> None:
    """Fill StepResult.memory from subprocesses: every cell, or with --quick the first one only."""
    for s in steps[:1] if quick else steps:
        s.memory = {side: measure_in_subprocess(s.entry.name, s.dtype, side) for side in ("scratch", "torch")}
        sc, to = s.memory["scratch"], s.memory["torch"]
        log(f"  {s.entry.name:<20} {s.dtype}  scratch RSS peak {sc.get('rss_mib')} MiB"
            f" (tracemalloc {sc.get('traced_mib')})  torch RSS peak {to.get('rss_mib')} MiB")


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    quick, want = args.quick, set(args.sections)
    started, t0 = time.strftime("%Y-%m-%d %H:%M:%S %Z"), time.perf_counter()
    info = machine.describe()
    log(f"machine: {info['cpu']}, {info['cores']} cores, load {info['load_start']}")
    rounds = 2 if quick else 5
    timings: dict = {}
    r = Results(command="", quick=quick, started=started, seconds=0.0, machine=info, load_end=(),
                steps=[], cold=None, overhead=None, vectorisation=[], growth=None, threads=[], sections=timings)

    if "vector" in want:
        with section("vectorisation", timings):
            r.vectorisation = [extras.dot_loop_vs_np_dot(rounds)]
            r.vectorisation += [extras.layer_loop_vs_matmul(rounds, dtype) for dtype in ("float64", "float32")]
    if "steps" in want:
        with section("step suite (scratch vs torch, with the matmul ceiling)", timings):
            r.steps = suite.run_steps(suite.QUICK if quick else suite.FULL, log, args.entries)
    if "memory" in want and r.steps:
        with section("peak memory of a step (a subprocess per cell and side)", timings):
            measure_memory(r.steps, quick)
    if "cold" in want:
        with section("cold start", timings):
            r.cold = extras.cold_start(2 if quick else 5)
    if "overhead" in want:
        with section("verifier overhead", timings):
            r.overhead = extras.verifier_overhead(10 if quick else 50, 1 if quick else 3)
    if "growth" in want:
        with section("verifier memory growth with --iterations", timings):
            r.growth = extras.rss_growth(100, 500 if quick else 2000)
    if "threads" in want and not quick:
        with section("diagnostics: default threads vs one thread", timings):
            r.threads = suite.thread_sensitivity(rounds, suite.FULL.batch_s, suite.FULL.settle_s)
            for t in r.threads:
                log(f"  {t.entry.name:<20} " + "  ".join(f"{k} {v * 1e3:.3f} ms" for k, v in t.seconds.items()))

    given = list(argv) if argv is not None else sys.argv[1:]
    r.command = " ".join(["python -m benchmarks", *given])
    r.seconds, r.load_end = time.perf_counter() - t0, os.getloadavg()
    text = render(r)
    print(text)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
