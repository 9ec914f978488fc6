"""RESULTS.md: the machine, the targets, and a table per measurement.

summarise() computes every conclusion from the run's numbers and adds it to the results; render()
only formats what the results hold, so no sentence states a figure the run did not measure.
"""

from __future__ import annotations

import math
import statistics

from verify.machine import SMALL_NETWORK_FLOPS

from . import conv, convnet, grading, learner, rnn

EFFICIENCY_ARCHS = ("784,256,128,10", "1024,1024,1024,1")
TARGETS = {"ratio": 1.0, "geomean": 0.9, "efficiency": 0.85, "memory": 1.2, "cold_start": 1.3, "overhead": 0.15}


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def _target(name: str, value: float, op: str, limit: float, unit: str) -> dict:
    met = value <= limit if op == "<=" else value >= limit
    return {"name": name, "value": value, "op": op, "limit": limit, "met": met, "unit": unit}


def _spread(rows: list[dict], key: str) -> dict:
    """The networks of rows, and the lowest and highest of one of their figures."""
    return {
        "archs": list(dict.fromkeys(x["arch"] for x in rows)),
        "low": min(x[key] for x in rows),
        "high": max(x[key] for x in rows),
    }


def summarise(r: dict) -> dict:
    """r with r["summary"] (ranges of the figures) and r["targets"] (each limit, the measured value, met or not)."""
    steps, targets = r.get("steps", []), []
    small = [s for s in steps if s["flops"] < SMALL_NETWORK_FLOPS]  # where `python -m verify` gives torch one thread
    large = [s for s in steps if s["flops"] >= SMALL_NETWORK_FLOPS]
    # the matmul-bound full-batch steps (a mini-batch of 64 is too small to be matmul-bound)
    tracked = [s for s in steps if s["arch"] in EFFICIENCY_ARCHS and not _optimizer(s)]
    memory = [m for m in r.get("memory", []) if m["ratio"] is not None and m["arch"] in {s["arch"] for s in large}]
    groups = {
        "small": (small, "ratio"),
        "large": (large, "ratio"),
        "efficiency": (tracked, "efficiency"),
        "memory": (memory, "ratio"),
    }
    summary = {name: _spread(rows, key) for name, (rows, key) in groups.items() if rows}
    summary["conv"] = conv.summary(r.get("conv", []))
    summary["conv_network"] = convnet.summary(r.get("conv_network", []))
    summary["rnn"] = rnn.summary(r.get("rnn", []))
    if steps:
        summary["geomean"] = geomean([s["ratio"] for s in steps])
        worst = max(steps, key=lambda s: s["ratio"])
        targets += [
            _target(
                f"scratch's step no slower than torch_ref's on every cell (the slowest: {worst['arch']}"
                f" {worst['dtype']})",
                worst["ratio"],
                "<=",
                TARGETS["ratio"],
                "x",
            ),
            _target("geometric mean of scratch/torch", summary["geomean"], "<=", TARGETS["geomean"], "x"),
        ]
    if tracked:
        targets.append(
            _target(
                f"scratch's GFLOP/s on {' and '.join(summary['efficiency']['archs'])} as a share of"
                " the matmul's (the lowest cell)",
                summary["efficiency"]["low"],
                ">=",
                TARGETS["efficiency"],
                "%",
            )
        )
    all_memory = [m for m in r.get("memory", []) if m["ratio"] is not None]
    if all_memory:
        worst_memory = max(all_memory, key=lambda m: m["ratio"])
        targets.append(
            _target(
                f"scratch's peak memory within the limit of torch_ref's on every cell (the highest:"
                f" {worst_memory['arch']} {worst_memory['dtype']})",
                worst_memory["ratio"],
                "<=",
                TARGETS["memory"],
                "x",
            )
        )
    if r.get("cold_start"):
        c = r["cold_start"]
        targets.append(_target("cold start against import torch", c["ratio"], "<=", TARGETS["cold_start"], "x"))
        targets[-1]["met"] &= not c["failures"]  # a failed launch is no fast start
    if r.get("overhead"):
        targets.append(
            _target("verifier overhead over the bare work", r["overhead"]["overhead"], "<=", TARGETS["overhead"], "%")
        )
    if r.get("learner"):
        run = r["learner"]
        targets.append(
            _target(
                f"a learner's run: the course's image classifier verified, against its own training"
                f" ({run['iterations']} iterations)",
                run["ratio"],
                "<=",
                learner.LIMIT,
                "x",
            )
        )
        targets[-1]["met"] &= run["verdict"] == "pass"  # a run that fails verifies nothing
    g = r.get("growth")
    if g and g["growth_mib"] is not None:
        targets.append(
            _target(
                "growth of verify's peak memory with --iterations (limit: tolerance + noise)",
                g["growth_mib"],
                "<=",
                g["tolerance_mib"] + g["noise_mib"],
                "MiB",
            )
        )
    return {**r, "summary": summary, "targets": targets}


def _ms(seconds: float) -> str:
    ms = 1e3 * seconds
    return f"{ms:.3f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


def _mib(x) -> str:
    return "n/a" if x is None else f"{x:.2f}" if abs(x) < 10 else f"{x:.1f}"


def _gflops(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def _ratio(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def _value(x: float, unit: str) -> str:
    return _percent(x) if unit == "%" else f"{x:+.2f} MiB" if unit == "MiB" else f"{x:.3f}x"


def _span(spread: dict, show) -> str:
    low, high = show(spread["low"]), show(spread["high"])
    return low if low == high else f"{low} to {high}"


def summary_lines(s: dict) -> list[str]:
    groups = (("small", "small networks"), ("large", "larger ones"))
    lines = [
        f"- scratch's step takes {_span(s[key], _ratio)} times torch_ref's on the {words}"
        f" ({'; '.join(s[key]['archs'])})."
        for key, words in groups
        if key in s
    ]
    if "efficiency" in s:
        lines.append(
            f"- On {' and '.join(s['efficiency']['archs'])}, scratch runs at"
            f" {_span(s['efficiency'], _percent)} of the GFLOP/s of NumPy's own large matmul, measured in the"
            " same rounds."
        )
    if "memory" in s:
        lines.append(
            f"- The peak memory of scratch's steps is {_span(s['memory'], _ratio)} times torch_ref's on"
            f" {'; '.join(s['memory']['archs'])}."
        )
    return lines + [""] if lines else []


def machine_lines(m: dict) -> list[str]:
    memory = "unknown memory" if m["memory_gib"] is None else f"{m['memory_gib']:.1f} GiB"
    return [
        "## Machine",
        "",
        f"- {m['cpu']}, {m['cores']} logical cores, {memory}",
        f"- Python {m['python']}, NumPy {m['numpy']} ({m['blas']}), torch {m['torch']}",
        f"- Threads: torch set to {m['threads']}, the count NumPy's OpenBLAS takes (OPENBLAS_NUM_THREADS, else"
        f" OMP_NUM_THREADS, else one per usable core); thread variables: {m['thread_env']}",
        f"- One-minute load average {m['load_start']:.2f} at the start and {m['load_end']:.2f} at the end"
        + (
            ": other processes may have run alongside"
            if m.get("others") is None
            else f"; other processes took {100 * m['others']:.0f}% of the machine's CPU time during the run"
        )
        + ", which is why every ratio pairs timings taken in the same round.",
        "",
    ]


def method_lines(p: dict) -> list[str]:
    return [
        "## Method",
        "",
        "- A step is one full-batch gradient-descent step from the data and starting parameters `python -m verify`"
        " makes (verify.data.load_data, verify.runner.initial_parameters), learning rate"
        f" {p['learning_rate']}: scratch's `L_model_forward`, `compute_cost`, `L_model_backward` (with"
        " `parameters_only=True`, as scratch's own training loop: dW and db, not dA0, the gradient of X, which no"
        " step reads and torch's autograd does not compute either), `update_parameters`; torch_ref's `Trainer.step()` (forward, loss, autograd, SGD update). The entry marked"
        " adam is one mini-batch's step instead, the batches cycling through an epoch's as the verifier draws them:"
        " scratch's `update_parameters_with_adam` against `torch.optim.Adam`'s `step()`, its learning rate a tenth.",
        f"- Per cell: a warm-up call of each, batches of about {p['batch_s']} s, then {p['rounds']} rounds of one"
        f" batch of scratch, one of torch and one np.matmul of two {p['matmul_n']}x{p['matmul_n']} matrices in the"
        f" cell's dtype, the order rotated every round, with an untimed pause of {p['settle_s']} s before each"
        " batch so the previous library's worker threads have gone to sleep. Times are medians over the rounds;"
        " ratios are medians of per-round ratios.",
        "- GFLOP/s counts six FLOPs per weight and example (W A forward; dW and dA_prev backward), four in the first"
        " layer (no dA0), biases and"
        " elementwise work not counted; efficiency is scratch's GFLOP/s over the matmul's from the same round.",
        "- Memory: the peak resident set (VmHWM) of a fresh process that loads the cell's data and parameters"
        " and runs two steps of one side, less that of a process that only loads them (benchmarks/memory.py).",
        "",
    ]


def table(title: str, header: list[str], rows: list[list]) -> list[str]:
    return [
        f"## {title}",
        "",
        f"| {' | '.join(header)} |",
        "|" + "---|" * len(header),
        *(f"| {' | '.join(map(str, row))} |" for row in rows),
        "",
    ]


def steps_table(rows: list[dict]) -> list[str]:
    header = [
        "network",
        "m",
        "dtype",
        "scratch ms",
        "torch ms",
        "scratch/torch",
        "scratch GFLOP/s",
        "matmul GFLOP/s",
        "efficiency",
    ]
    return table(
        "Step time: scratch against torch_ref",
        header,
        [
            [
                f"{s['arch']} ({s['activations']}; {s['loss']}{_optimizer(s)})",
                s["m"],
                s["dtype"],
                _ms(s["scratch_s"]),
                _ms(s["torch_s"]),
                f"**{_ratio(s['ratio'])}**",
                _gflops(s["scratch_gflops"]),
                f"{s['matmul_gflops']:.1f}",
                f"{100 * s['efficiency']:.1f}%",
            ]
            for s in rows
        ],
    )


def _optimizer(s: dict) -> str:
    """'; adam, batches of 64' for a mini-batch optimiser's step; nothing for full-batch gradient descent."""
    if s.get("optimizer", "gd") == "gd" and not s.get("mini_batch_size"):
        return ""
    return f"; {s['optimizer']}" + (f", batches of {s['mini_batch_size']}" if s.get("mini_batch_size") else "")


def memory_table(rows: list[dict]) -> list[str]:
    header = [
        "network",
        "m",
        "dtype",
        "data + parameters MiB",
        "baseline process MiB",
        "scratch MiB",
        "torch MiB",
        "scratch/torch",
    ]
    return table(
        "Peak memory of a step (two steps in a fresh process, above the baseline)",
        header,
        [
            [
                m["arch"] + (f" ({_optimizer(m)[2:]})" if _optimizer(m) else ""),
                m["m"],
                m["dtype"],
                _mib(m["data_mib"]),
                _mib(m["baseline_mib"]),
                _mib(m["scratch_mib"]),
                _mib(m["torch_mib"]),
                _ratio(m["ratio"]),
            ]
            for m in rows
        ],
    )


def verifier_lines(r: dict) -> list[str]:
    lines = ["## The verifier's own cost", ""]
    if r.get("cold_start"):
        c = r["cold_start"]
        lines.append(
            f"- Cold start, launch to exit, {c['repeats']} launches each in pairs (the order swapped every"
            " pair, after an untimed launch of each; in an empty folder, which the TensorBoard logs go to; Python"
            f" free to write bytecode, as a user's is): `{c['command']}` median {c['command_s']:.2f} s,"
            f" `{c['reference']}` median {c['reference_s']:.2f} s; ratio {_ratio(c['ratio'])} (median of the"
            f" per-pair ratios); {c['failures']} non-zero exits."
        )
    if r.get("overhead"):
        o = r["overhead"]
        lines.append(
            f"- Overhead on {o['arch']}, m={o['m']}, {o['dtype']}, {o['iterations']} iterations (TensorBoard"
            f" {'on' if o['tensorboard'] else 'off'}, gradcheck {'on' if o['gradcheck'] else 'off'}),"
            f" {o['repeats']} alternated repeats in one process: verify.run median {o['verify_s']:.2f} s;"
            " the bare work it must do (per iteration: scratch's step, torch's lockstep step from scratch's"
            " parameters with their copies in and out, torch's free-running step; benchmarks/verifier.py"
            f" bare_work) median {o['bare_s']:.2f} s; ratio {_ratio(o['ratio'])} (verdicts: {o['verdicts']})."
        )
    g = r.get("growth")
    if g:
        lines.append(
            f"- Peak memory of verify.run on {g['arch']}, each in a fresh process, at --iterations"
            f" {g['short']}, {g['long']}, {g['short']}: {', '.join(_mib(p) for p in g['peaks_mib'])} MiB;"
            f" growth {_mib(g['growth_mib'])} MiB, run-to-run noise {_mib(g['noise_mib'])} MiB."
        )
    return lines + [""]


def render(r: dict) -> str:
    """The markdown of a summarised run."""
    lines = [
        "# Benchmarks: scratch (NumPy) against torch_ref (torch, CPU)",
        "",
        f"`{r['command']}`: {'quick smoke run' if r['quick'] else 'full run'} on {r['machine']['date']},"
        f" {r['seconds']:.0f} s.",
        "",
    ]
    lines += summary_lines(r["summary"]) + conv.summary_lines(r["summary"]["conv"])
    lines += convnet.summary_lines(r["summary"].get("conv_network", {}))
    lines += rnn.summary_lines(r["summary"].get("rnn", {}))
    if r["targets"]:  # none when --only measured a part without targets
        lines += table(
            "Targets",
            ["target", "limit", "measured", ""],
            [
                [
                    t["name"],
                    f"{t['op']} {_value(t['limit'], t['unit'])}",
                    _value(t["value"], t["unit"]),
                    "met" if t["met"] else "**not met**",
                ]
                for t in r["targets"]
            ],
        )
    lines += machine_lines(r["machine"]) + method_lines(r["plan"])
    lines += steps_table(r["steps"]) if r.get("steps") else []
    lines += table(*conv.table_parts(r["conv"])) + conv.method_lines() if r.get("conv") else []
    lines += table(*convnet.table_parts(r["conv_network"])) + convnet.method_lines() if r.get("conv_network") else []
    lines += table(*rnn.table_parts(r["rnn"])) + rnn.method_lines() if r.get("rnn") else []
    lines += memory_table(r["memory"]) if r.get("memory") else []
    verifier = verifier_lines(r) if any(r.get(k) for k in ("cold_start", "overhead", "growth")) else []
    verifier += ["## A learner's run", "", *learner.lines(r["learner"]), ""] if r.get("learner") else []
    graded = ["## Grading a class: throughput", "", *grading.lines(r["grading"]), ""] if r.get("grading") else []
    return "\n".join(lines + verifier + graded).rstrip() + "\n"
