"""The RESULTS.md text: machine, method, the step table, the other measurements and the targets."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from .entries import backward_options
from .extras import GROWTH_TOLERANCE_MIB, ColdStart, Growth, Overhead, Vectorisation
from .suite import FULL, HEAVY_ROUND_S, QUICK, StepResult, ThreadResult
from .timing import geomean, median

LARGE_ENTRIES = ("784,256,128,10", "1024,1024,1024,1")
TARGET_RATIO = 1.0
TARGET_GEOMEAN = 0.9
TARGET_EFFICIENCY = 0.80
TARGET_COLD = 1.5
TARGET_OVERHEAD_PCT = 25.0
COURSE_CLAIM = 300.0


@dataclass
class Results:
    """Everything one run measured (a section is None when it was not run)."""

    command: str
    quick: bool
    started: str
    seconds: float
    machine: dict
    load_end: tuple
    steps: list[StepResult]
    cold: Optional[ColdStart]
    overhead: Optional[Overhead]
    vectorisation: list[Vectorisation]
    growth: Optional[Growth]
    threads: list[ThreadResult]
    sections: dict  # section name -> (seconds, 1-minute load average at its end)


def _ms(s: float) -> str:
    if not math.isfinite(s):
        return "n/a"
    return f"{s * 1e3:.3f}" if s < 0.01 else f"{s * 1e3:.1f}" if s < 10 else f"{s * 1e3:,.0f}"


def _mib(x) -> str:
    return "n/a" if x is None else f"{x:.3f}" if x < 1 else f"{x:.1f}"


def _ratio(x: float) -> str:
    return f"{x:.3f}" if x >= 0.1 else f"{x:.2g}"


def _gf(x: float) -> str:
    return f"{x:.3g}" if x < 10 else f"{x:.1f}"


def _times(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:,.0f}x" if x >= 10 else f"{x:.1f}x"


def _mark(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def machine_section(r: Results) -> list[str]:
    m, blas, t = r.machine, r.machine["numpy_blas"], r.machine["torch"]
    env = ", ".join(f"{k}={v}" for k, v in m["thread_env"].items()) or "none set"
    mem = f"{m['memory_gib']:.1f} GiB" if m.get("memory_gib") else "unknown"
    peak_load = max([m["load_start"][0], r.load_end[0]] + [load for _, load in r.sections.values()])
    caution = [] if peak_load <= 0.75 * m["cores"] else [
        f"- **Caution: the 1-minute load average reached {peak_load:.1f} on {m['cores']} cores.** When other processes"
        " keep the cores busy, multi-threaded BLAS/OpenMP calls wait for descheduled worker threads and small"
        " operations slow down by 10-100x, on both sides; see the thread diagnostics at the end."]
    return [
        "## Machine",
        "",
        f"- CPU: {m['cpu']} ({m['flags']}); {m['cores']} logical cores, {m['usable_cores']} usable; {mem} RAM",
        f"- Python {m['python']}; NumPy {m['numpy']} with BLAS **{blas['name']} {blas['version']}**"
        f" ({blas.get('config', '').strip() or 'no config string'}); OpenBLAS at run time: "
        f"{blas.get('threads', '?')} threads, core `{blas.get('core', '?')}`",
        f"- torch {t['version']}: intra-op threads `torch.get_num_threads()` = **{t['threads']}**, inter-op "
        f"{t['interop_threads']}, backend {t['backend']}, BLAS_INFO={t['blas']}, CPU capability {t['capability']}; "
        + "; ".join(t["libraries"]),
        f"- Threads compared: NumPy/OpenBLAS {blas.get('threads', '?')} vs torch {t['threads']}"
        f" (defaults, no env var changed; thread env vars: {env})",
        f"- Load average (1, 5, 15 min) at start {_load(m['load_start'])}, at end {_load(r.load_end)}"
        f" ({m['cores']} cores): the machine is shared, so other processes ran alongside; every ratio below pairs"
        " timings from the same rounds.",
        *caution,
        "- Sections (seconds, 1-min load at their end): "
        + "; ".join(f"{name} {sec:.0f} s ({load:.1f})" for name, (sec, load) in r.sections.items()),
        "",
    ]


def _load(values: Sequence[float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def method_section(r: Results) -> list[str]:
    skips = bool(backward_options())
    backward = "(..., input_gradient=False)" if skips else ""
    dA0_note = (" With `input_gradient=False` (what scratch's own `L_layer_model` uses) scratch skips dA0 = W1^T dZ1,"
                " as torch's autograd does: both do 6Wm - 2 n1 n0 m FLOPs, and the nominal 6Wm includes dA0's"
                " 2 n1 n0 m, which neither side computes (29% of it on 784,..., 33% on 12288,..., 17% on 1024,...),"
                " so both rates and the efficiency are inflated alike.") if skips else (
                " This scratch computes dA0 = W1^T dZ1 (the gradient w.r.t. the input), which torch's autograd"
                " skips, so at equal GFLOP/s scratch does more work.")
    return [
        "## Method",
        "",
        "- A **step** is one full-batch gradient-descent step: scratch's `L_model_forward`, `compute_cost`"
        f" (with `ZL`), `L_model_backward`{backward}, `update_parameters`; torch_ref's `Trainer.step()` (forward, loss,"
        " autograd backward, `torch.optim.sgd` update, `cost.item()`). Same data, same starting weights, lr 0.01.",
        "- Each entry: a warm-up call per side (and, for calls shorter than a batch, a second call that sizes the"
        f" batches to ~{FULL.batch_s} s, {QUICK.batch_s} s with --quick), then R rounds ({FULL.rounds}, or"
        f" {FULL.heavy_rounds} when a round exceeds {HEAVY_ROUND_S:.0f} s; {QUICK.rounds}/{QUICK.heavy_rounds} with"
        f" --quick); a round runs one batch of scratch, one of torch and one np.matmul of two {FULL.matmul_n}x{FULL.matmul_n}"
        " matrices in the entry's dtype, in an order rotated each round, with an untimed pause of"
        f" {FULL.settle_s} s ({QUICK.settle_s} s with --quick) before each batch: OpenBLAS's worker threads spin for"
        " about 0.1 s after a call, and a torch step started in that window competes with them (on this machine a"
        " 784,256,128,10 float64 torch step took ~120 ms right after a NumPy matmul and ~40 ms after a 0.1 s pause)."
        " Figures are medians over the rounds;"
        " **ratios are medians of per-round ratios** (both timings from the same round).",
        "- GFLOP/s = 6 x weights x m / step time, for both sides (biases and elementwise work not counted). Efficiency = scratch"
        " GFLOP/s / matmul GFLOP/s from the same round (the target uses it); \"eff. on FLOPs done\" counts only the"
        " FLOPs scratch performs." + dA0_note,
        "- Memory: a fresh subprocess per cell, one warm-up step, then `gc.collect()`, `malloc_trim(0)`, VmHWM"
        " reset through `/proc/self/clear_refs`, one step: **RSS peak = VmHWM - VmRSS before the step** (median"
        " of 3), the same for both sides; for scratch also the **tracemalloc peak** of one step (NumPy"
        " buffers are traced). torch's CPU allocator keeps no statistics, hence RSS for it.",
        "",
    ]


def steps_section(steps: list[StepResult]) -> list[str]:
    lines = [
        "## Full gradient-descent step: scratch vs torch_ref (CPU)",
        "",
        "| entry | dtype | rounds x calls (s/t) | scratch ms | torch ms | **scratch/torch** | scratch GFLOP/s |"
        " torch GFLOP/s | matmul GFLOP/s | **scratch eff.** | eff. on FLOPs done | spread s/t/mm % |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in steps:
        sp = s.spreads
        lines.append(
            f"| {s.entry.label} | {s.dtype} | {s.rounds} x {s.calls['scratch']}/{s.calls['torch']} |"
            f" {_ms(s.scratch_s)} | {_ms(s.torch_s)} | **{_ratio(s.ratio)}** | {_gf(s.scratch_gflops)} |"
            f" {_gf(s.torch_gflops)} | {s.matmul_gflops:.1f} | **{100 * s.efficiency:.1f}%** | {100 * s.efficiency_done:.1f}% |"
            f" {sp['scratch']:.0f}/{sp['torch']:.0f}/{sp['matmul']:.0f} |")
    lines.append("")
    by_dtype = {d: [s.ratio for s in steps if s.dtype == d] for d in dict.fromkeys(s.dtype for s in steps)}
    parts = [f"{d}: **{geomean(v):.3f}**" for d, v in by_dtype.items()]
    lines += [f"Geometric mean of scratch/torch over all {len(steps)} cells: **{geomean([s.ratio for s in steps]):.3f}**"
              f" ({', '.join(parts)}).", ""]
    return lines


def memory_section(steps: list[StepResult]) -> list[str]:
    rows = [s for s in steps if s.memory]
    if not rows:
        return []
    lines = [
        "## Peak memory of one step",
        "",
        "| entry | dtype | data + params MiB | scratch tracemalloc peak MiB | scratch RSS peak MiB |"
        " torch RSS peak MiB | scratch/torch (RSS) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in rows:
        sc, to = s.memory.get("scratch", {}), s.memory.get("torch", {})
        ratio = (sc["rss_mib"] / to["rss_mib"]) if sc.get("rss_mib") and to.get("rss_mib") else None
        lines.append(f"| {s.entry.label} | {s.dtype} | {_mib(sc.get('data_params_mib'))} | {_mib(sc.get('traced_mib'))} |"
                     f" {_mib(sc.get('rss_mib'))} | {_mib(to.get('rss_mib'))} | {'n/a' if ratio is None else f'{ratio:.2f}'} |")
    lines += ["", "Figures below 1 MiB are a few 4 KiB pages and mostly noise; the ratio matters for the large entries."]
    skipped = [f"{s.entry.name} {s.dtype}" for s in steps if not s.memory]
    if skipped:
        lines += ["", f"Not measured in this run: {', '.join(skipped)}."]
    lines.append("")
    return lines


def extras_section(r: Results) -> list[str]:
    lines = ["## Cold start, verifier overhead, memory growth, vectorisation", ""]
    if r.cold:
        c = r.cold
        lines += [
            f"**(a) Cold start** ({len(c.verify_s)} launches each, alternated, order swapped every pair; launch to exit):"
            f" `python -m verify --arch 3,4,4,1 --logdir <tmp>` (TensorBoard on, default iterations) median"
            f" **{median(c.verify_s):.2f} s** (peak RSS {median(c.verify_rss_mib):.0f} MiB) vs `python -c \"import torch\"`"
            f" median **{median(c.import_s):.2f} s** → ratio **{c.ratio:.3f}** (median of the per-pair ratios)"
            f" (range verify {min(c.verify_s):.2f}–{max(c.verify_s):.2f} s, import {min(c.import_s):.2f}–{max(c.import_s):.2f} s"
            f"{'; ' + str(c.failures) + ' non-zero exits' if c.failures else ''}).", ""]
    if r.overhead:
        o = r.overhead
        lines += [
            f"**(b) Verifier overhead** on 784,256,128,10 (relu, relu, softmax / ce), m=2048, float64,"
            f" {o.iterations} iterations, TensorBoard on, gradcheck on, {len(o.verify_s)} alternated repeats in one process:"
            f" `verify.run` median **{median(o.verify_s):.2f} s** vs the bare work (models + trainers, then per iteration"
            f" one scratch step, one free torch `Trainer.step`, one lockstep `load_params` + `Trainer.step` + `gradients`"
            f" + `to_params`) median **{median(o.bare_s):.2f} s** → ratio **{o.ratio:.2f}** (median of the per-repeat"
            f" ratios), overhead **{o.overhead_pct:.0f}%**. Per repeat, verify / bare: "
            + ", ".join(f"{v:.1f} / {b:.1f} s" for v, b in zip(o.verify_s, o.bare_s))
            + f" (verdicts: {', '.join(sorted(set(o.verdicts)))}).", ""]
    if r.growth:
        g = r.growth
        lines += [
            f"**Verifier memory vs iterations**: peak RSS (the child's own ru_maxrss from wait4, under a small launcher so the"
            f" parent's high-water mark is not inherited) of `python -m verify --arch 3,4,4,1"
            f" --no-tensorboard --iterations N`: N={g.short_n}: {', '.join(f'{x:.1f}' for x in g.short_mib)} MiB"
            f" ({median(g.short_s):.1f} s); N={g.long_n}: {', '.join(f'{x:.1f}' for x in g.long_mib)} MiB"
            f" ({median(g.long_s):.1f} s) → growth **{g.growth_mib:+.2f} MiB** (run-to-run noise {g.noise_mib:.2f} MiB"
            f"{'; ' + str(g.failures) + ' non-zero exits' if g.failures else ''}).", ""]
    if r.vectorisation:
        lines += ["**(c) Vectorisation** (loop and vectorised alternated in the same rounds; speed-up = median of"
                  " per-round loop / vectorised; the last two columns are a diagnostic: the vectorised call with"
                  " OpenBLAS set to one thread, timed in the same rounds):", "",
                  "| comparison | loop | vectorised | **speed-up** | vectorised, 1 BLAS thread | speed-up, 1 thread |",
                  "|---|---:|---:|---:|---:|---:|"]
        for v in r.vectorisation:
            lines.append(f"| {v.label} | {_ms(v.loop_s)} ms | {_ms(v.vector_s)} ms | **{_times(v.speedup)}** |"
                         f" {_ms(v.vector_1t_s)} ms | {_times(v.speedup_1t)} |")
        lines += ["", f"The course notes claim about {COURSE_CLAIM:.0f}x for the dot product"
                  f" (measured here: {_times(r.vectorisation[0].speedup)}).", ""]
    return lines


def threads_section(r: Results) -> list[str]:
    if not r.threads:
        return []
    d = r.threads[0].default_threads
    lines = [
        "## Diagnostics: thread count (not part of the targets)",
        "",
        f"Each side at its default threads (NumPy/OpenBLAS {d['numpy']}, torch {d['torch']}) and at one thread"
        " (`torch.set_num_threads(1)`; OpenBLAS's `set_num_threads(1)` through ctypes), the four alternated in the"
        " same rounds (with the same pause before each batch as the suite). On a machine with more runnable threads"
        " than cores, a multi-threaded call waits at every synchronisation point for a worker thread that is not"
        " running, so small operations can become 10-100x slower; one thread is immune to that but gives up the"
        " second core on large matrices.",
        "",
        "| entry | dtype | scratch ms | scratch 1 thread ms | torch ms | torch 1 thread ms | scratch/torch at 1 thread |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for t in r.threads:
        s = t.seconds
        lines.append(f"| {t.entry.label} | {t.dtype} | {_ms(s['scratch'])} | {_ms(s['scratch 1T'])} | {_ms(s['torch'])} |"
                     f" {_ms(s['torch 1T'])} | {_ratio(s['scratch 1T'] / s['torch 1T'])} |")
    return lines + [""]


def targets(r: Results) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for every target the run has numbers for."""
    out = []
    if r.steps:
        slow = [f"{s.entry.name} {s.dtype} ({s.ratio:.2f})" for s in r.steps if not s.ratio <= TARGET_RATIO]
        out.append(("scratch step <= torch_ref step on every entry",
                    "slower on: " + ", ".join(slow) if slow else f"all {len(r.steps)} cells", not slow))
        g = geomean([s.ratio for s in r.steps])
        out.append((f"geometric mean scratch/torch <= {TARGET_GEOMEAN}", f"{g:.3f}", g <= TARGET_GEOMEAN))
        large = [s for s in r.steps if s.entry.name in LARGE_ENTRIES]
        if large:
            out.append((f"784... and 1024... at >= {100 * TARGET_EFFICIENCY:.0f}% of matmul GFLOP/s",
                        ", ".join(f"{s.entry.name} {s.dtype} {100 * s.efficiency:.0f}%"
                                  f" ({100 * s.efficiency_done:.0f}% on FLOPs done)" for s in large),
                        all(s.efficiency >= TARGET_EFFICIENCY for s in large)))
    if r.cold:
        out.append((f"cold start <= {TARGET_COLD} x import torch", f"{r.cold.ratio:.3f} x", r.cold.ratio <= TARGET_COLD))
    if r.overhead:
        out.append((f"verifier overhead <= {TARGET_OVERHEAD_PCT:.0f}%", f"{r.overhead.overhead_pct:.0f}%",
                    r.overhead.overhead_pct <= TARGET_OVERHEAD_PCT))
    if r.growth:
        tol = GROWTH_TOLERANCE_MIB + r.growth.noise_mib
        out.append((f"verify peak RSS does not grow with --iterations ({r.growth.short_n} -> {r.growth.long_n};"
                    f" allowed {GROWTH_TOLERANCE_MIB:.0f} MiB + noise)", f"{r.growth.growth_mib:+.2f} MiB",
                    r.growth.growth_mib <= tol))
    return out


def targets_section(r: Results) -> list[str]:
    lines = ["## Targets", "", "| target | measured | status |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {_mark(ok)} |" for t, m, ok in targets(r)]
    return lines + [""]


def render(r: Results) -> str:
    mode = "quick smoke run (--quick: fewer rounds and repeats, memory on one cell)" if r.quick else "full run"
    lines = [
        "# Benchmarks: scratch (NumPy) vs torch_ref (torch, CPU)",
        "",
        f"`{r.command}` — {mode}, started {r.started}, took {r.seconds:.0f} s.",
        "",
    ]
    lines += targets_section(r)
    lines += machine_section(r)
    lines += method_section(r)
    lines += steps_section(r.steps) if r.steps else []
    lines += memory_section(r.steps)
    lines += extras_section(r)
    lines += threads_section(r)
    return "\n".join(lines).rstrip() + "\n"
