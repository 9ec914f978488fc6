"""The convolution course's layer step, scratch/conv.py against torch_ref/conv.py, in the course's channels-last
layout, timed side by side as benchmarks/steps.py times the dense steps.

A conv step is what a layer does in training: scratch's conv_forward then conv_backward(dZ, cache); torch_ref's
conv_backward, which runs the forward under autograd and then the backward (adding its conv_forward would time
torch's forward twice). A pool step is scratch's pool_forward then pool_backward, against torch_ref's
pool_backward (forward and backward), in max and in average mode, on the conv's output. Before any timing, each
side's outputs are compared (scratch's Z or A against torch_ref's forward twin, and every gradient): a benchmark
of two computations that differ would measure nothing.

The cases (CASES): a mini-batch of 64 images of 28 x 28 (MNIST's size) with 8 channels, as a second conv layer
sees them, 16 filters of 3 x 3 with pad 1 (the size-keeping "same" convolution) then a 2 x 2 max pool of stride 2:
a small network's layer, large enough (about 0.35 GFLOP a conv step) that the libraries' own work, not Python's
call overhead, is timed. The second case strides the conv by 2 and pools 3 x 3 windows at stride 2, overlapping,
so the strided slices of both the forward and the backward are timed.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

import scratch.conv as scratch_conv
import torch_ref.conv as torch_conv

from . import steps

Outputs = dict[str, np.ndarray]
TOLERANCE = {"float64": 1e-10, "float32": 1e-4}  # largest |scratch - torch| over the largest |torch|, per output


@dataclass(frozen=True)
class Case:
    m: int
    n_H_prev: int  # square inputs: n_W_prev = n_H_prev
    n_C_prev: int
    n_C: int
    f: int
    stride: int
    pad: int
    pool_f: int
    pool_stride: int

    def name(self) -> str:
        return (
            f"{self.n_H_prev}x{self.n_H_prev}x{self.n_C_prev}, {self.n_C} filters {self.f}x{self.f} pad {self.pad}"
            f" stride {self.stride}; pool {self.pool_f}x{self.pool_f} stride {self.pool_stride}"
        )


CASES = (
    Case(m=64, n_H_prev=28, n_C_prev=8, n_C=16, f=3, stride=1, pad=1, pool_f=2, pool_stride=2),
    Case(m=64, n_H_prev=28, n_C_prev=8, n_C=16, f=3, stride=2, pad=1, pool_f=3, pool_stride=2),
)
OPS = ("conv", "max pool", "average pool")


def inputs(case: Case, dtype: str) -> dict:
    """A_prev, W, b, dZ for the conv; the conv's Z and a dA for the pools; seeded, so both sides get the same."""
    rng = np.random.default_rng(0)
    n = case.n_H_prev
    x = {
        "A_prev": rng.standard_normal((case.m, n, n, case.n_C_prev)),
        "W": rng.standard_normal((case.f, case.f, case.n_C_prev, case.n_C)) / np.sqrt(case.f**2 * case.n_C_prev),
        "b": rng.standard_normal((1, 1, 1, case.n_C)),
    }
    x = {k: v.astype(dtype) for k, v in x.items()}
    x["conv_hp"] = {"stride": case.stride, "pad": case.pad}
    x["pool_hp"] = {"f": case.pool_f, "stride": case.pool_stride}
    x["Z"], _ = scratch_conv.conv_forward(x["A_prev"], x["W"], x["b"], x["conv_hp"])  # random values: no tied maxima
    x["dZ"] = rng.standard_normal(x["Z"].shape).astype(dtype)
    A, _ = scratch_conv.pool_forward(x["Z"], x["pool_hp"])
    x["dA"] = rng.standard_normal(A.shape).astype(dtype)
    return x


def sides(op: str, x: dict) -> tuple[Callable[[], Outputs], Callable[[], Outputs], Callable[[], np.ndarray]]:
    """(scratch's step, torch_ref's step, torch_ref's forward twin), each returning what it computed."""
    if op == "conv":
        A_prev, W, b, hp, dZ = x["A_prev"], x["W"], x["b"], x["conv_hp"], x["dZ"]

        def scratch_conv_step() -> Outputs:
            Z, cache = scratch_conv.conv_forward(A_prev, W, b, hp)
            return dict(zip(("Z", "dA_prev", "dW", "db"), (Z, *scratch_conv.conv_backward(dZ, cache))))

        def torch_conv_step() -> Outputs:
            return dict(zip(("dA_prev", "dW", "db"), torch_conv.conv_backward(dZ, A_prev, W, b, hp)))

        return scratch_conv_step, torch_conv_step, lambda: torch_conv.conv_forward(A_prev, W, b, hp)
    mode, Z, hp, dA = op.split()[0], x["Z"], x["pool_hp"], x["dA"]

    def scratch_pool_step() -> Outputs:
        A, cache = scratch_conv.pool_forward(Z, hp, mode)
        return {"A": A, "dA_prev": scratch_conv.pool_backward(dA, cache, mode)}

    def torch_pool_step() -> Outputs:
        return {"dA_prev": torch_conv.pool_backward(dA, Z, hp, mode)}

    return scratch_pool_step, torch_pool_step, lambda: torch_conv.pool_forward(Z, hp, mode)


def assert_same(op: str, scratch_out: Outputs, torch_out: Outputs, dtype: str) -> None:
    """Every output of scratch's step equals torch_ref's within TOLERANCE[dtype], relative to torch's largest."""
    for name, expected in torch_out.items():
        got = scratch_out[name]
        if got.shape != expected.shape:
            raise AssertionError(f"{op} {dtype}: scratch's {name} is {got.shape}, torch_ref's {expected.shape}")
        error = float(np.max(np.abs(got - expected))) / max(float(np.max(np.abs(expected))), 1e-300)
        if not error <= TOLERANCE[dtype]:
            raise AssertionError(
                f"{op} {dtype}: scratch's {name} differs from torch_ref's by {error:.3g} of its largest entry"
                f" (at most {TOLERANCE[dtype]:g}): the two sides do not compute the same thing"
            )


def conv_flops(case: Case) -> float:
    """FLOPs of a conv step, 2 per multiply-add: the forward, dA_prev and dW each take m n_H n_W n_C f^2 n_C_prev
    multiply-adds (bias and padding not counted)."""
    n = torch_conv.output_size(case.n_H_prev, case.f, case.stride, case.pad)
    return 2.0 * 3 * case.m * n * n * case.n_C * case.f**2 * case.n_C_prev


def time_op(case: Case, op: str, dtype: str, plan: steps.Plan) -> dict:
    """One cell: check the two sides agree, then time them (and, for the conv, the matmul) in plan.rounds rounds."""
    x = inputs(case, dtype)
    scratch_step, torch_step, torch_forward = sides(op, x)
    out = scratch_step()
    assert_same(op, out, {"Z" if op == "conv" else "A": torch_forward(), **torch_step()}, dtype)
    fns: dict[str, Callable[[], object]] = {"scratch": scratch_step, "torch": torch_step}
    if op == "conv":
        fns["matmul"], mm_flops = steps.matmul(plan.matmul_n, dtype)
    calls = {name: steps.calls_per_batch(fn, plan.batch_s) for name, fn in fns.items()}
    t = steps.interleaved(fns, calls, plan.rounds, plan.settle_s)
    row = {
        "case": case.name(),
        **asdict(case),
        "op": op,
        "dtype": dtype,
        "rounds": plan.rounds,
        "scratch_s": statistics.median(t["scratch"]),
        "torch_s": statistics.median(t["torch"]),
        "ratio": steps.paired(t["scratch"], t["torch"]),
    }
    if op == "conv":
        flops = conv_flops(case)
        row.update(
            flops=flops,
            scratch_gflops=flops / row["scratch_s"] / 1e9,
            torch_gflops=flops / row["torch_s"] / 1e9,
            matmul_gflops=mm_flops / statistics.median(t["matmul"]) / 1e9,
            # each side's GFLOP/s over the matmul's from the same round
            efficiency=steps.paired([flops / s for s in t["scratch"]], [mm_flops / s for s in t["matmul"]]),
            torch_efficiency=steps.paired([flops / s for s in t["torch"]], [mm_flops / s for s in t["matmul"]]),
        )
    return row


def run_conv(plan: steps.Plan, cases: Iterable[Case] = CASES, log: Callable[[str], None] = print) -> list[dict]:
    """time_op on every case and op, in float64 then float32."""
    rows = []
    for dtype in steps.DTYPES:
        for case in cases:
            for op in OPS:
                row = time_op(case, op, dtype, plan)
                log(
                    f"  {op:<12} stride {case.stride} {dtype}  scratch {1e3 * row['scratch_s']:9.3f} ms"
                    f"  torch {1e3 * row['torch_s']:9.3f} ms  ratio {row['ratio']:.3f}"
                )
                rows.append(row)
    return rows


def _spread(rows: list[dict], key: str) -> dict:
    return {
        "low": min(r[key] for r in rows),
        "high": max(r[key] for r in rows),
        "slower": sum(r[key] > 1 for r in rows),
    }


def summary(rows: list[dict]) -> dict:
    """The range of scratch/torch for the conv and for the pools, how many cells scratch is slower on, and the
    range of each side's share of the matmul's GFLOP/s."""
    conv = [r for r in rows if r["op"] == "conv"]
    pool = [r for r in rows if r["op"] != "conv"]
    s = {"conv": _spread(conv, "ratio"), "pool": _spread(pool, "ratio")} if conv and pool else {}
    if conv:
        s["efficiency"] = _spread(conv, "efficiency")
        s["torch_efficiency"] = _spread(conv, "torch_efficiency")
        s["conv_cells"], s["pool_cells"] = len(conv), len(pool)
    return s


def _span(spread: dict, show: Callable[[float], str]) -> str:
    low, high = show(spread["low"]), show(spread["high"])
    return low if low == high else f"{low} to {high}"


def _ratio(x: float) -> str:
    return f"{x:.3f}"


def _percent(x: float) -> str:
    return f"{100 * x:.0f}%"


def summary_lines(s: dict) -> list[str]:
    """The conclusions, every figure from the run."""
    if "conv" not in s:
        return []
    c, p = s["conv"], s["pool"]
    return [
        f"- A conv layer's step (forward and backward) of scratch takes {_span(c, _ratio)} times torch_ref's"
        f" (slower on {c['slower']} of {s['conv_cells']} cells); a pooling step {_span(p, _ratio)} times"
        f" (slower on {p['slower']} of {s['pool_cells']}).",
        f"- scratch's conv runs at {_span(s['efficiency'], _percent)} of the GFLOP/s of NumPy's own large matmul"
        f" measured in the same rounds, torch_ref's at {_span(s['torch_efficiency'], _percent)}.",
        "",
    ]


def method_lines() -> list[str]:
    """How the conv cells were measured and why scratch's conv is slow; no figure (those are in the table)."""
    return [
        "- Conv layer: scratch's `conv_forward` then `conv_backward(dZ, cache)` against torch_ref's `conv_backward`"
        " (conv2d's forward under autograd, then its backward), NumPy arrays in the course's channels-last layout"
        " in and out on both sides. Pooling: scratch's `pool_forward` then `pool_backward` against torch_ref's"
        " `pool_backward` (max_pool2d or avg_pool2d, forward and backward), on the conv's output. Before timing,"
        " every output of scratch's step is checked against torch_ref's (the forward against its `conv_forward` or"
        " `pool_forward`). Rounds, batches and the matmul as for the steps; GFLOP/s counts 2 FLOPs per"
        " multiply-add, m n_H n_W n_C f^2 n_C_prev of them in each of the forward, dA_prev and dW.",
        "- Where scratch's conv is slower, why: it loops over the f x f kernel offsets, and each offset is a matrix"
        " product (m n_H n_W, n_C_prev) by (n_C_prev, n_C) of a strided slice, the slice copied first, with an"
        " inner dimension of only n_C_prev and n_C output columns: OpenBLAS runs such thin products far below its"
        " large-matmul rate, and every offset reads and adds into the whole of Z (or dA_prev) again. torch's"
        " conv2d does the window sums in one kernel (oneDNN's for float32). scratch's `pool_backward` also runs"
        " `pool_forward` again to rebuild the max mask (in average mode too), so its pooling step pools twice.",
        "",
    ]


def table_parts(rows: list[dict]) -> tuple[str, list[str], list[list]]:
    """(title, header, rows) of the conv table, for report.table."""
    header = ["case", "m", "step", "dtype", "scratch ms", "torch ms", "scratch/torch"]
    header += ["scratch GFLOP/s", "torch GFLOP/s", "matmul GFLOP/s", "scratch efficiency", "torch efficiency"]
    body = []
    for r in rows:
        line = [r["case"], r["m"], r["op"], r["dtype"], f"{1e3 * r['scratch_s']:.3f}", f"{1e3 * r['torch_s']:.3f}"]
        line.append(f"**{_ratio(r['ratio'])}**")
        if r["op"] == "conv":
            line += [f"{r['scratch_gflops']:.3g}", f"{r['torch_gflops']:.3g}", f"{r['matmul_gflops']:.1f}"]
            line += [f"{100 * r['efficiency']:.1f}%", f"{100 * r['torch_efficiency']:.1f}%"]
        else:
            line += [""] * 5
        body.append(line)
    return "Convolution layer: scratch/conv.py against torch_ref/conv.py", header, body
