"""A conv network's training step, scratch against torch_ref, with the share of each step spent in the convolution.

The step is what `python -m verify --arch 8x8x3,conv4f3p1,max2,flatten,8,1` trains: on scratch's side the verifier's
own LayeredAPI (verify/impl/layered.py) running each layer kind's scratch functions, forward through every layer,
the cost, backward and the gradient-descent update; on torch_ref's side the verifier's twin of the same network
(verify.layers.torch_model: ConvMap, PoolMap and nn.Linear from the same weights) stepped by torch_ref.Trainer
(forward, loss, autograd backward, the SGD update). Both start from the data and parameters the verifier makes
(steps.data). Before any timing, one step of each is compared (its cost, output, every gradient and every updated
parameter): a benchmark of two computations that differ would measure nothing.

The step times come from alternating rounds with a matmul, as benchmarks/steps.py times the dense steps. The split
comes from two more batches in each round, one of each side with a stopwatch on (conv_share.py): scratch's conv and
pool layers call the course functions through a timed `call`, torch's step runs under torch.profiler.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

import scratch
import torch_ref
from verify import Config
from verify.arch import parse_network
from verify.config import resolve_network
from verify.layers import torch_model
from verify.network import Network
from verify.optimization import Training
from verify.spatial import Conv, Pool

from . import conv, conv_share, steps
from .conv import _percent, _ratio, _span, _spread

Outputs = dict[str, np.ndarray]


@dataclass(frozen=True)
class Entry:
    """A network as --arch spells it, its examples, and its output activation (the loss the verifier pairs)."""

    arch: str
    m: int
    output: str = "sigmoid"

    def config(self, dtype: str) -> Config:
        """The resolved config `python -m verify --arch ARCH --examples M` (with --activations ending in the
        output) makes: relu hidden layers, linear pools, the output's loss."""
        sizes, layers = parse_network(self.arch)
        config = Config(arch=sizes, layers=layers, examples=self.m, dtype=dtype, learning_rate=steps.LEARNING_RATE)
        return resolve_network(config, lambda L: (*scratch.default_activations(L)[:-1], self.output))


NETWORKS = (
    Entry("28x28x1,conv8f3p1,max2,conv16f3p1,max2,flatten,64,10", 64, "softmax"),  # MNIST's size, a mini-batch
    Entry("8x8x3,conv4f3p1,max2,flatten,8,1", 200),  # the README's example at the verifier's default m
)


class ScratchNetStep:
    """One gradient-descent step through the verifier's LayeredAPI; the parameters it returns are the next step's.
    With a stopwatch (conv_share.Stopwatch) its conv and pool layers call scratch's functions through it."""

    def __init__(self, config: Config, X: np.ndarray, Y: np.ndarray, params: dict) -> None:
        self.api = conv_share.WatchedLayers(scratch, Network.of(config), "scratch", Training.of(config))
        self.X, self.Y, self.params, self.learning_rate = X, Y, params, config.learning_rate

    def step(self) -> Outputs:
        """The step's cost, output A[L] and parameter gradients (dW1, db1, ...), and the parameters after it."""
        api, before = self.api, self.params
        AL, caches = api.forward(self.X, before)
        cost = api.cost(AL, self.Y, caches)
        grads = api.backward(AL, self.Y, caches, before)
        self.params = api.update(before, grads, self.learning_rate)
        out = {"cost": np.array(cost), "AL": AL, **{f"d{key}": grads[f"d{key}"] for key in before}}
        return out | {f"{key} after": value for key, value in self.params.items()}

    def __call__(self) -> None:
        self.step()


class TorchNetStep:
    """torch_ref's step of the verifier's twin of the network, from the same parameters."""

    def __init__(self, config: Config, X: np.ndarray, Y: np.ndarray, params: dict) -> None:
        assert config.loss is not None, "a resolved config"
        self.model = torch_model(Network.of(config), params)
        self.trainer = torch_ref.Trainer(self.model, X, Y, config.loss, config.learning_rate)

    def step(self) -> Outputs:
        cost = self.trainer.step()
        out = {"cost": np.array(cost), "AL": self.trainer.output(), **torch_ref.gradients(self.model)}
        return out | {f"{key} after": value for key, value in torch_ref.to_params(self.model).items()}

    def __call__(self) -> None:
        self.trainer.step()


def network_flops(network: Network, m: int) -> float:
    """FLOPs of a step, 2 per multiply-add: a conv layer's m n_H n_W n_C f^2 n_C_prev multiply-adds and a dense
    layer's m n[l] n[l-1], each in the forward, dA_prev and dW (pooling, biases and elementwise work not counted)."""
    total = 0.0
    for l in range(1, network.L + 1):
        kind = network.kind(l)
        if isinstance(kind, Conv):
            n_H, n_W, n_C = kind.out_shape
            total += m * n_H * n_W * n_C * kind.window.f**2 * kind.in_shape[2]
        elif not isinstance(kind, Pool):
            total += m * network.sizes[l] * network.sizes[l - 1]
    return 2.0 * 3 * total


def time_network(entry: Entry, dtype: str, plan: steps.Plan) -> dict:
    """One cell: check the two sides' first step agrees, then time both and the matmul, and split each side's step
    with the stopwatch on, in plan.rounds rounds."""
    config = entry.config(dtype)
    X, Y, params = steps.data(config)
    mine, theirs = ScratchNetStep(config, X, Y, params), TorchNetStep(config, X, Y, params)
    conv.assert_same(entry.arch, mine.step(), theirs.step(), dtype)
    mm, mm_flops = steps.matmul(plan.matmul_n, dtype)
    fns: dict[str, Callable[[], object]] = {"scratch": mine, "torch": theirs, "matmul": mm}
    calls = {name: steps.calls_per_batch(fn, plan.batch_s) for name, fn in fns.items()}
    split_fns, splits = conv_share.split_batches(mine.api, mine, theirs, calls)
    t = steps.interleaved(fns | split_fns, calls | dict.fromkeys(split_fns, 1), plan.rounds, plan.settle_s)
    flops = network_flops(Network.of(config), entry.m)
    assert config.activations is not None
    row: dict[str, Any] = {
        "network": entry.arch,
        "m": entry.m,
        "activations": ", ".join(config.activations),
        "loss": config.loss,
        "dtype": dtype,
        "rounds": plan.rounds,
        "flops": flops,
        "scratch_s": statistics.median(t["scratch"]),
        "torch_s": statistics.median(t["torch"]),
        "ratio": steps.paired(t["scratch"], t["torch"]),
        "matmul_gflops": mm_flops / statistics.median(t["matmul"]) / 1e9,
    }
    row.update(scratch_gflops=flops / row["scratch_s"] / 1e9, torch_gflops=flops / row["torch_s"] / 1e9)
    return row | conv_share.split_figures(splits, t)


def run_networks(
    plan: steps.Plan, entries: Iterable[Entry] = NETWORKS, log: Callable[[str], None] = print
) -> list[dict]:
    """time_network on every entry, in float64 then float32."""
    rows = []
    for dtype in steps.DTYPES:
        for entry in entries:
            row = time_network(entry, dtype, plan)
            log(
                f"  {entry.arch:<20} {dtype}  scratch {1e3 * row['scratch_s']:9.3f} ms"
                f"  torch {1e3 * row['torch_s']:9.3f} ms  ratio {row['ratio']:.3f}"
                f"  conv share {100 * row['scratch_conv_share']:.0f}% / {100 * row['torch_conv_share']:.0f}%"
            )
            rows.append(row)
    return rows


SPREADS = (
    "ratio",
    "conv_ratio",
    "scratch_conv_share",
    "scratch_pool_share",
    "torch_conv_share",
    "torch_pool_share",
    "scratch_watch",
    "torch_watch",
)


def summary(rows: list[dict]) -> dict:
    """The range of each figure over the cells, and torch's conv kernels by dtype."""
    if not rows:
        return {}
    s: dict = {key: _spread(rows, key) for key in SPREADS}
    s["cells"] = len(rows)
    s["kernels"] = {d: sorted({k for r in rows if r["dtype"] == d for k in r["torch_kernels"]}) for d in steps.DTYPES}
    return s


def summary_lines(s: dict) -> list[str]:
    """The conclusions, every figure from the run."""
    if not s:
        return []
    kernels = "; ".join(f"{', '.join(k) or 'none seen'} in {d}" for d, k in s["kernels"].items())
    return [
        f"- A conv network's training step (forward, cost, backward, update) of scratch takes"
        f" {_span(s['ratio'], _ratio)} times torch_ref's (slower on {s['ratio']['slower']} of {s['cells']} cells).",
        f"- The convolution takes {_span(s['scratch_conv_share'], _percent)} of scratch's step and"
        f" {_span(s['torch_conv_share'], _percent)} of torch_ref's; pooling"
        f" {_span(s['scratch_pool_share'], _percent)} and {_span(s['torch_pool_share'], _percent)}. In the"
        f" convolution alone scratch takes {_span(s['conv_ratio'], _ratio)} times torch_ref's time.",
        f"- torch's convolution kernels in this run (the profiler's op names): {kernels}.",
        f"- Measuring the split made scratch's step {_span(s['scratch_watch'], _ratio)} times as long as its timed"
        f" batch in the same round, and torch_ref's {_span(s['torch_watch'], _ratio)} times (the profiler's cost).",
        "",
    ]


def method_lines() -> list[str]:
    """How the network cells were measured; no figure (those are in the table)."""
    return [
        "- Conv network: one full-batch gradient-descent step of the network `--arch` spells, from the data and"
        " starting parameters `python -m verify` makes, learning rate as for the steps: scratch's side is the"
        " verifier's own LayeredAPI (each layer kind's scratch functions: `conv_forward`, `pool_forward`,"
        " `linear_forward`, the activations, `compute_cost`, then the backward functions and the update), torch_ref's"
        " the verifier's twin of the network (ConvMap, PoolMap, nn.Linear) stepped by `Trainer.step()`. Before timing,"
        " the first step's cost, output, gradients and updated parameters of the two sides are compared. Rounds,"
        " batches and the matmul as for the steps; GFLOP/s counts 2 FLOPs per multiply-add, a conv layer's"
        " m n_H n_W n_C f^2 n_C_prev and a dense layer's m n[l] n[l-1] in each of the forward, dA_prev and dW"
        " (torch skips the first layer's dA_prev, scratch computes it).",
        "- The split, from two more batches in each round, one of each side with a stopwatch on: scratch's conv and"
        " pool layers call"
        " `conv_forward`, `conv_backward`, `pool_forward`, `pool_backward` through a timed `call` (the argument"
        " verify/spatial.py's layers take), summed over the batch; torch's batch runs under torch.profiler, and the"
        " convolution is the CPU time of its `aten::conv2d` and `aten::convolution_backward` ops, pooling that of"
        " `aten::max_pool2d`, `aten::avg_pool2d` and their backward ops. A share is that time over the batch's, a"
        " median over the rounds, and the stopwatch's cost is that batch's time per step over the timed batch's of"
        " the same round; the layout changes around the calls (channels-last images to columns) count as"
        " the rest of the step on both sides. Among the kernels the profiler names, `aten::mkldnn_convolution` is"
        " oneDNN's convolution, `aten::thnn_conv2d` and `aten::_slow_conv2d_*` torch's own path (the windows unfolded"
        " into a matrix, then a matrix product).",
        "",
    ]


def table_parts(rows: list[dict]) -> tuple[str, list[str], list[list]]:
    """(title, header, rows) of the conv network table, for report.table."""
    header = ["network", "m", "dtype", "scratch ms", "torch ms", "scratch/torch", "scratch conv / pool"]
    header += ["torch conv / pool", "scratch conv ms", "torch conv ms", "scratch GFLOP/s", "torch GFLOP/s"]
    header += ["matmul GFLOP/s"]
    body = []
    for r in rows:
        line = [f"{r['network']} ({r['activations']}; {r['loss']})", r["m"], r["dtype"]]
        line += [f"{1e3 * r['scratch_s']:.3f}", f"{1e3 * r['torch_s']:.3f}", f"**{_ratio(r['ratio'])}**"]
        for side in ("scratch", "torch"):
            line.append(f"{100 * r[side + '_conv_share']:.1f}% / {100 * r[side + '_pool_share']:.1f}%")
        line += [f"{1e3 * r['scratch_conv_s']:.3f}", f"{1e3 * r['torch_conv_s']:.3f}"]
        line += [f"{r['scratch_gflops']:.3g}", f"{r['torch_gflops']:.3g}", f"{r['matmul_gflops']:.1f}"]
        body.append(line)
    return "Conv network step: scratch's layer kinds against torch_ref's twin", header, body
