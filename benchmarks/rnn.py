"""The sequence-models course's recurrent layers over a whole sequence, scratch/rnn.py against torch_ref/rnn.py, in
the course's layout (examples as columns, time last), timed side by side as benchmarks/conv.py times a conv layer.

A step is what a recurrent layer does in training: scratch's lstm_forward then lstm_backward(da, caches) (a basic
cell's rnn_forward then rnn_backward), forward over the T_x steps and back through time; torch_ref's lstm_backward
(rnn_backward), which steps nn.LSTMCell (nn.RNNCell) over the sequence under autograd and then runs the backward
(adding its forward would time torch's forward twice). scratch's forward functions also compute the course's readout
(Wy or Wya, by, of one unit), handed as zeros as verify/recurrent.py's layer hands them; torch_ref's backward needs
only the cell's parameters. Before any timing, each side's outputs are compared (scratch's a, and c, against
torch_ref's forward twin; dx, da0 and every dW and db): a benchmark of two computations that differ would measure
nothing.

The cases (CASES), each run with both cells: a character-level language model's layer (27 characters in, 100 units,
mini-batches of 32 sequences of 25 steps), and a mid-sized one (64 features, 128 units, 64 sequences of 50 steps),
about 0.24 and 1.9 GFLOP an LSTM step (a quarter of that a basic cell's): large enough that the matrix products are
part of the time, small enough that each time step is many small calls, which is what a recurrent layer's step is.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

import scratch.rnn as scratch_rnn
import torch_ref.rnn as torch_rnn

from . import steps
from .conv import _percent, _ratio, _span, _spread

Outputs = dict[str, np.ndarray]
Step = Callable[[], Outputs]
TOLERANCE = {"float64": 1e-10, "float32": 1e-4}  # largest |scratch - torch| over the largest |torch|, per output
CELLS = ("lstm", "rnn")
NAMES = {"lstm": "LSTM", "rnn": "basic RNN"}
ARTICLE = {"lstm": "an", "rnn": "a"}
# a time step's gate products, each (n_a, n_a + n_x) by (n_a + n_x, m) (the basic cell's Waa a_prev + Wax xt is one)
GATES = {"lstm": 4, "rnn": 1}


@dataclass(frozen=True)
class Case:
    n_x: int
    n_a: int
    m: int
    T_x: int

    def name(self) -> str:
        return f"{self.n_x} in, {self.n_a} units, {self.T_x} steps"


CASES = (
    Case(n_x=27, n_a=100, m=32, T_x=25),
    Case(n_x=64, n_a=128, m=64, T_x=50),
)


def cell_parameters(cell: str, n_x: int, n_a: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The cell's parameters, the course's keys and shapes. Weights of variance 1 / (n_a + n_x) (Xavier's scale)
    and small biases keep most gate inputs within a few units of zero, off the flat ends of sigmoid and tanh."""
    scale = 1 / np.sqrt(n_a + n_x)
    if cell == "rnn":
        return {
            "Wax": rng.standard_normal((n_a, n_x)) * scale,
            "Waa": rng.standard_normal((n_a, n_a)) * scale,
            "ba": rng.standard_normal((n_a, 1)) * 0.1,
        }
    P = {}
    for g in scratch_rnn.LSTM_GATES:
        P[f"W{g}"] = rng.standard_normal((n_a, n_a + n_x)) * scale
        P[f"b{g}"] = rng.standard_normal((n_a, 1)) * 0.1
    return P


def inputs(case: Case, cell: str, dtype: str) -> dict:
    """x, a0, da and the cell's parameters P; P_readout adds the zero readout the course's forward reads. Seeded,
    so both sides get the same."""
    rng = np.random.default_rng(0)
    P = {k: v.astype(dtype) for k, v in cell_parameters(cell, case.n_x, case.n_a, rng).items()}
    readout = "Wya" if cell == "rnn" else "Wy"
    return {
        "x": rng.standard_normal((case.n_x, case.m, case.T_x)).astype(dtype),
        "a0": (0.5 * rng.standard_normal((case.n_a, case.m))).astype(dtype),  # not zeros, so da0's path counts too
        "da": rng.standard_normal((case.n_a, case.m, case.T_x)).astype(dtype),
        "P": P,
        "P_readout": {**P, readout: np.zeros((1, case.n_a), dtype=dtype), "by": np.zeros((1, 1), dtype=dtype)},
    }


def sides(cell: str, x: dict) -> tuple[Step, Step, Step]:
    """(scratch's step, torch_ref's step, torch_ref's forward twin), each returning what it computed."""
    X, a0, da, P, P_readout = x["x"], x["a0"], x["da"], x["P"], x["P_readout"]
    if cell == "lstm":

        def scratch_lstm_step() -> Outputs:
            a, _, c, caches = scratch_rnn.lstm_forward(X, a0, P_readout)
            return {"a": a, "c": c, **scratch_rnn.lstm_backward(da, caches)}

        def torch_lstm_forward() -> Outputs:
            a, _, c = torch_rnn.lstm_forward(X, a0, P_readout)
            return {"a": a, "c": c}

        return scratch_lstm_step, lambda: torch_rnn.lstm_backward(X, a0, P, da), torch_lstm_forward

    def scratch_rnn_step() -> Outputs:
        a, _, caches = scratch_rnn.rnn_forward(X, a0, P_readout)
        return {"a": a, **scratch_rnn.rnn_backward(da, caches)}

    return (
        scratch_rnn_step,
        lambda: torch_rnn.rnn_backward(X, a0, P, da),
        lambda: {"a": torch_rnn.rnn_forward(X, a0, P_readout)[0]},
    )


def assert_same(cell: str, scratch_out: Outputs, torch_out: Outputs, dtype: str) -> None:
    """Every output of scratch's step equals torch_ref's within TOLERANCE[dtype], relative to torch's largest."""
    for name, expected in torch_out.items():
        got = scratch_out[name]
        if got.shape != expected.shape or got.dtype != expected.dtype:
            raise AssertionError(
                f"{cell} {dtype}: scratch's {name} is {got.shape} {got.dtype}, torch_ref's {expected.shape}"
                f" {expected.dtype}"
            )
        error = float(np.max(np.abs(got - expected))) / max(float(np.max(np.abs(expected))), 1e-300)
        if not error <= TOLERANCE[dtype]:
            raise AssertionError(
                f"{cell} {dtype}: scratch's {name} differs from torch_ref's by {error:.3g} of its largest entry"
                f" (at most {TOLERANCE[dtype]:g}): the two sides do not compute the same thing"
            )


def step_flops(case: Case, cell: str) -> float:
    """FLOPs of a step, 2 per multiply-add: each time step's gate products, GATES[cell] of (n_a, n_a + n_x) by
    (n_a + n_x, m), once forward and twice backward (the weights' gradients, and [da_prev; dxt]); the readout,
    the biases and the elementwise work not counted."""
    return 2.0 * 3 * GATES[cell] * case.n_a * (case.n_a + case.n_x) * case.m * case.T_x


def time_cell(case: Case, cell: str, dtype: str, plan: steps.Plan) -> dict:
    """One table row: check the two sides agree, then time them and the matmul in plan.rounds rounds."""
    x = inputs(case, cell, dtype)
    scratch_step, torch_step, torch_forward = sides(cell, x)
    assert_same(cell, scratch_step(), {**torch_forward(), **torch_step()}, dtype)
    mm, mm_flops = steps.matmul(plan.matmul_n, dtype)
    fns: dict[str, Callable[[], object]] = {"scratch": scratch_step, "torch": torch_step, "matmul": mm}
    calls = {name: steps.calls_per_batch(fn, plan.batch_s) for name, fn in fns.items()}
    t = steps.interleaved(fns, calls, plan.rounds, plan.settle_s)
    flops = step_flops(case, cell)
    return {
        "case": case.name(),
        **asdict(case),
        "cell": cell,
        "dtype": dtype,
        "rounds": plan.rounds,
        "flops": flops,
        "scratch_s": statistics.median(t["scratch"]),
        "torch_s": statistics.median(t["torch"]),
        "ratio": steps.paired(t["scratch"], t["torch"]),
        "scratch_gflops": flops / statistics.median(t["scratch"]) / 1e9,
        "torch_gflops": flops / statistics.median(t["torch"]) / 1e9,
        "matmul_gflops": mm_flops / statistics.median(t["matmul"]) / 1e9,
        # each side's GFLOP/s over the matmul's from the same round
        "efficiency": steps.paired([flops / s for s in t["scratch"]], [mm_flops / s for s in t["matmul"]]),
        "torch_efficiency": steps.paired([flops / s for s in t["torch"]], [mm_flops / s for s in t["matmul"]]),
    }


def run_rnn(plan: steps.Plan, cases: Iterable[Case] = CASES, log: Callable[[str], None] = print) -> list[dict]:
    """time_cell on every case and cell, in float64 then float32."""
    rows = []
    for dtype in steps.DTYPES:
        for case in cases:
            for cell in CELLS:
                row = time_cell(case, cell, dtype, plan)
                log(
                    f"  {cell:<4} {case.name():<32} {dtype}  scratch {1e3 * row['scratch_s']:9.3f} ms"
                    f"  torch {1e3 * row['torch_s']:9.3f} ms  ratio {row['ratio']:.3f}"
                )
                rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict:
    """Per cell kind measured: the range of scratch/torch and how many rows scratch is slower on, and the range of
    each side's share of the matmul's GFLOP/s."""
    s = {}
    for cell in CELLS:
        mine = [r for r in rows if r["cell"] == cell]
        if mine:
            s[cell] = {key: _spread(mine, key) for key in ("ratio", "efficiency", "torch_efficiency")}
            s[cell]["cells"] = len(mine)
    return s


def summary_lines(s: dict) -> list[str]:
    """The conclusions, every figure from the run: the first cell kind's in full, any other's after it."""
    if not s:
        return []
    first, *others = s
    f = s[first]
    times = (
        f"- {ARTICLE[first].capitalize()} {NAMES[first]} layer's step over a sequence (forward, then backward"
        f" through time) of scratch takes {_span(f['ratio'], _ratio)} times torch_ref's (slower on"
        f" {f['ratio']['slower']} of {f['cells']} cells)"
    )
    times += "".join(
        f"; {ARTICLE[c]} {NAMES[c]} layer's {_span(s[c]['ratio'], _ratio)} times (slower on"
        f" {s[c]['ratio']['slower']} of {s[c]['cells']})"
        for c in others
    )
    rates = (
        f"- scratch's {NAMES[first]} runs at {_span(f['efficiency'], _percent)} of the GFLOP/s of NumPy's own"
        f" large matmul measured in the same rounds, torch_ref's at {_span(f['torch_efficiency'], _percent)}"
    )
    rates += "".join(
        f"; scratch's {NAMES[c]} at {_span(s[c]['efficiency'], _percent)}, torch_ref's at"
        f" {_span(s[c]['torch_efficiency'], _percent)}"
        for c in others
    )
    return [times + ".", rates + ".", ""]


def table_parts(rows: list[dict]) -> tuple[str, list[str], list[list]]:
    """(title, header, rows) of the recurrent table, for report.table."""
    header = ["case", "m", "cell", "dtype", "scratch ms", "torch ms", "scratch/torch"]
    header += ["scratch GFLOP/s", "torch GFLOP/s", "matmul GFLOP/s", "scratch efficiency", "torch efficiency"]
    body = []
    for r in rows:
        line = [r["case"], r["m"], NAMES[r["cell"]], r["dtype"], f"{1e3 * r['scratch_s']:.3f}"]
        line += [f"{1e3 * r['torch_s']:.3f}", f"**{_ratio(r['ratio'])}**"]
        line += [f"{r['scratch_gflops']:.3g}", f"{r['torch_gflops']:.3g}", f"{r['matmul_gflops']:.1f}"]
        line += [f"{100 * r['efficiency']:.1f}%", f"{100 * r['torch_efficiency']:.1f}%"]
        body.append(line)
    return "Recurrent layers: scratch/rnn.py against torch_ref/rnn.py", header, body


def method_lines() -> list[str]:
    """How the recurrent cells were measured and where the time of each side goes; no figure (those are in the
    table)."""
    return [
        "- Recurrent layers: scratch's `lstm_forward` then `lstm_backward(da, caches)` (a basic cell's `rnn_forward`"
        " then `rnn_backward`) against torch_ref's `lstm_backward` (`rnn_backward`): an nn.LSTMCell (nn.RNNCell)"
        " built from the course's parameters, stepped over the sequence under autograd, then"
        " `torch.autograd.backward` on the hidden states with da as their gradients; NumPy arrays in the course's"
        " layout (examples as columns, time last) in and out on both sides. x, a0 and da are random, the weights"
        " of variance 1 / (n_a + n_x); scratch's forward also computes the readout the course's functions compute,"
        " from a zero Wy (Wya) and by of one unit, as the verifier's recurrent layer hands them. Before timing,"
        " every output of scratch's step is checked against torch_ref's (a, and an LSTM's c, against its"
        " `lstm_forward` or `rnn_forward`; dx, da0, every dW and db). Rounds, batches and the matmul as for the"
        " steps; GFLOP/s counts 2 FLOPs per multiply-add, 4 n_a (n_a + n_x) m of them per time step for an LSTM"
        " (n_a (n_a + n_x) m for a basic cell) in each of the forward, the weights' gradients and [da_prev; dxt].",
        "- Where scratch's step is slower, why: a time step is a few small products and a few dozen elementwise"
        " calls, each a pass over an (n_a, m) array, so the products are only part of either side's time. Storing"
        " each step's a (an LSTM's c) and y into the course's time-last arrays, and reading da and writing dx in"
        " the backward, touches elements T_x apart, where torch stacks the steps and transposes once. scratch's"
        " sigmoid, written so that it cannot overflow (exp(-|z|), then np.where over two quotients), makes nine"
        " passes and eight temporaries where torch's in-place sigmoid_ makes one; the LSTM's forward calls it"
        " three times a step. The course's np.concatenate each step and its four gate products where torch stacks"
        " them into one are small parts of the time. Both sides also pay for the suite's thread settings, many"
        " times every time step: OPENBLAS_THREAD_TIMEOUT=4 lets OpenBLAS's second thread sleep between calls, so"
        " each product large enough to split wakes it, and GOMP_SPINCOUNT=10000 lets torch's OpenMP threads sleep"
        " after a short spin.",
        "",
    ]
