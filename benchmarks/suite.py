"""The step suite: scratch's and torch_ref's full gradient-descent step on each entry and dtype,
timed in alternation with a large np.matmul that gives the machine's own GFLOP/s ceiling."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Callable, Optional

from .entries import DTYPES, ENTRIES, Entry, ScratchStep, backward_options, make_data, matmul_reference, torch_step
from .timing import calibrate, interleaved, median, paired_ratio, spread

HEAVY_ROUND_S = 2.0  # a round (one batch of each side + one matmul) longer than this gets fewer rounds


@dataclass(frozen=True)
class Plan:
    """How hard to measure: rounds per entry (light and heavy), batch length, matmul size."""

    rounds: int
    heavy_rounds: int
    batch_s: float
    matmul_n: int = 2048
    settle_s: float = 0.15  # pause before each batch, so the previous library's threads stop spinning


FULL = Plan(rounds=7, heavy_rounds=5, batch_s=0.1)
QUICK = Plan(rounds=3, heavy_rounds=2, batch_s=0.03, settle_s=0.12)


@dataclass
class StepResult:
    """One entry in one dtype: medians over the rounds and the paired ratios."""

    entry: Entry
    dtype: str
    rounds: int
    calls: dict
    scratch_s: float
    torch_s: float
    matmul_s: float
    ratio: float  # median over rounds of scratch / torch
    efficiency: float  # median over rounds of scratch GFLOP/s / matmul GFLOP/s (nominal 6Wm FLOPs)
    efficiency_done: float  # the same with the FLOPs scratch really does (no dA0 when it skips it)
    scratch_gflops: float
    torch_gflops: float
    matmul_gflops: float
    spreads: dict = field(default_factory=dict)  # (max - min) / median per side, %
    memory: dict = field(default_factory=dict)  # filled in by the memory pass


def time_entry(entry: Entry, dtype: str, plan: Plan,
               matmul: tuple[Callable[[], object], float]) -> StepResult:
    """Warm up, size the batches, then time scratch, torch and the matmul in rotating rounds."""
    X, Y, params = make_data(entry, dtype)
    fns = {"scratch": ScratchStep(entry, X, Y, params), "torch": torch_step(entry, X, Y, params),
           "matmul": matmul[0]}
    sized = {name: calibrate(fn, plan.batch_s) for name, fn in fns.items()}  # includes a warm-up call each
    calls = {name: k for name, (k, _) in sized.items()}
    calls["matmul"] = 1
    round_s = sum(calls[name] * once for name, (_, once) in sized.items())
    rounds = plan.rounds if round_s < HEAVY_ROUND_S else plan.heavy_rounds
    t = interleaved(fns, rounds, calls, plan.settle_s)
    s, tt, mm = t["scratch"], t["torch"], t["matmul"]
    efficiency = paired_ratio([entry.flops / x for x in s], [matmul[1] / x for x in mm])  # GFLOP/s over GFLOP/s
    done = entry.flops_done(bool(backward_options()))
    result = StepResult(
        entry, dtype, rounds, calls,
        scratch_s=median(s), torch_s=median(tt), matmul_s=median(mm),
        ratio=paired_ratio(s, tt), efficiency=efficiency, efficiency_done=efficiency * done / entry.flops,
        scratch_gflops=entry.flops / median(s) / 1e9, torch_gflops=entry.flops / median(tt) / 1e9,
        matmul_gflops=matmul[1] / median(mm) / 1e9,
        spreads={name: spread(v) for name, v in t.items()},
    )
    del fns
    gc.collect()
    return result


def run_steps(plan: Plan, log: Callable[[str], None] = print,
              only: Optional[list[str]] = None) -> list[StepResult]:
    """time_entry for every entry (or those named in `only`) in float64 then float32."""
    results = []
    for dtype in DTYPES:
        matmul = matmul_reference(dtype, plan.matmul_n)
        for entry in ENTRIES:
            if only and entry.name not in only:
                continue
            r = time_entry(entry, dtype, plan, matmul)
            log(f"  {entry.name:<20} {dtype}  scratch {r.scratch_s * 1e3:9.3f} ms  torch {r.torch_s * 1e3:9.3f} ms"
                f"  ratio {r.ratio:5.2f}  eff {100 * r.efficiency:5.1f}%  ({r.rounds} rounds)")
            results.append(r)
    return results


# ---------------------------------------------------------------- diagnostics: thread count


THREAD_ENTRIES = ("3,4,4,1", "12288,20,7,5,1", "784,256,128,10")


@dataclass
class ThreadResult:
    """One entry's step time with each library at its default threads and at one thread."""

    entry: Entry
    dtype: str
    default_threads: dict  # {"numpy": n, "torch": n}
    seconds: dict  # {"scratch": s, "scratch 1T": s, "torch": s, "torch 1T": s}


def _batch(fn: Callable[[], object], k: int, threads: Optional[Callable[[], None]] = None,
           restore: Optional[Callable[[], None]] = None) -> Callable[[], None]:
    """One timed unit: `threads()` (set a thread count), k calls of fn, then `restore()`."""
    def run() -> None:
        if threads:
            threads()
        try:
            for _ in range(k):
                fn()
        finally:
            if restore:
                restore()
    return run


def thread_sensitivity(rounds: int, batch_s: float, settle_s: float, dtype: str = "float64",
                       names: tuple[str, ...] = THREAD_ENTRIES) -> list[ThreadResult]:
    """Diagnostics, not a comparison of the suite: each side at its default thread count and at
    one thread (torch.set_num_threads, OpenBLAS's own set_num_threads via ctypes), alternated."""
    import torch

    from .entries import find_entry
    from .machine import openblas_threads

    np_default, torch_default = openblas_threads(), torch.get_num_threads()
    results = []
    for name in names:
        entry = find_entry(name)
        X, Y, params = make_data(entry, dtype)
        scratch_fn, torch_fn = ScratchStep(entry, X, Y, params), torch_step(entry, X, Y, params)
        ks, _ = calibrate(scratch_fn, batch_s)
        kt, _ = calibrate(torch_fn, batch_s)
        fns = {
            "scratch": _batch(scratch_fn, ks),
            "scratch 1T": _batch(scratch_fn, ks, lambda: openblas_threads(1), lambda: openblas_threads(np_default)),
            "torch": _batch(torch_fn, kt),
            "torch 1T": _batch(torch_fn, kt, lambda: torch.set_num_threads(1), lambda: torch.set_num_threads(torch_default)),
        }
        for fn in fns.values():
            fn()  # warm-up, including each thread setting
        t = interleaved(fns, rounds, settle_s=settle_s)
        per_call = {n: median(v) / (ks if n.startswith("scratch") else kt) for n, v in t.items()}
        results.append(ThreadResult(entry, dtype, {"numpy": np_default, "torch": torch_default}, per_call))
    return results
