"""One training step of scratch and of torch_ref, timed side by side, with a large np.matmul timed in
the same rounds as the machine's own GFLOP/s ceiling. A step is a full-batch gradient-descent step,
or, for an entry with an optimiser and mini-batches, one mini-batch's Adam step (the batches cycle
through an epoch's, as the verifier draws them). The three run in rounds,
the order rotated every round, and every ratio pairs timings from the same round, so a burst of
load from another process hits both sides of a ratio.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np
import torch

import scratch
import torch_ref
from torch_ref.optimizers import make_optimizer
from verify import Config
from verify.data import load_data
from verify.optimization import Optimization
from verify.runner import initial_parameters

LEARNING_RATE = 0.01  # small, so hundreds of timed steps stay finite
DTYPES = ("float64", "float32")


def course(arch: tuple[int, ...], m: int) -> Config:
    """The course's week-4 network: relu hidden layers, a sigmoid output, binary cross-entropy."""
    return Config(
        arch=arch,
        examples=m,
        activations=tuple(scratch.default_activations(len(arch) - 1)),
        loss="bce",
        learning_rate=LEARNING_RATE,
    )


ENTRIES = (
    course((3, 4, 4, 1), 200),
    course((2, 16, 16, 1), 400),
    course((12288, 20, 7, 5, 1), 209),  # the course's cat classifier
    Config(
        arch=(784, 256, 128, 10),
        examples=2048,
        activations=("relu", "relu", "softmax"),
        loss="ce",
        learning_rate=LEARNING_RATE,
    ),
    Config(
        arch=(784, 256, 128, 10),
        examples=2048,
        activations=("relu", "relu", "softmax"),
        loss="ce",
        learning_rate=LEARNING_RATE / 10,
        optimizer="adam",
        mini_batch_size=64,
    ),
    course((1024, 1024, 1024, 1), 4096),
)


@dataclass(frozen=True)
class Plan:
    rounds: int
    batch_s: float  # a timed batch repeats a call until it lasts about this long
    settle_s: float  # an untimed pause before each batch, so the last library's worker threads are asleep
    matmul_n: int  # the reference: np.matmul of two n x n matrices


FULL = Plan(rounds=7, batch_s=0.1, settle_s=0.15, matmul_n=2048)
QUICK = Plan(rounds=2, batch_s=0.03, settle_s=0.05, matmul_n=1024)


def same_threads() -> int:
    """Give torch as many threads as NumPy's OpenBLAS takes: its environment variables, else one per usable core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or cores)
    torch.set_num_threads(threads)
    return threads


def data(config: Config) -> tuple[np.ndarray, np.ndarray, dict]:
    """X, Y and the shared starting parameters, as `python -m verify` makes them for this config."""
    X, Y = load_data(config)
    return X, Y, initial_parameters(config)


def _batches(config: Config, m: int) -> list:
    """The example indices of each step's batch, cycled: an epoch's mini-batches, or [None] (the whole batch)."""
    return Optimization.from_config(config, m).epoch_rows(0)


class ScratchStep:
    """One step of scratch, its functions called the course's way; the parameters it returns are the next step's."""

    def __init__(self, config: Config, X: np.ndarray, Y: np.ndarray, params: dict, parameters_only: bool = True):
        """parameters_only: L_model_backward's dW and db alone, as train.py's steps (no dA0); False: the course's
        whole result, as the verifier calls it on an implementation (benchmarks/verifier.py's bare work)."""
        self.X, self.Y, self.params, self.parameters_only = X, Y, params, parameters_only
        self.activations, self.loss, self.learning_rate = list(config.activations), config.loss, config.learning_rate
        self.optimizer, self.settings = config.optimizer, Optimization.from_config(config, X.shape[1]).settings()
        self.batches, self.t = _batches(config, X.shape[1]), 0
        self.v = scratch.initialize_velocity(params) if self.optimizer == "momentum" else None
        if self.optimizer == "adam":
            self.v, self.s = scratch.initialize_adam(params)

    def __call__(self) -> float:
        rows = self.batches[self.t % len(self.batches)]
        X, Y = (self.X, self.Y) if rows is None else (np.take(self.X, rows, axis=1), np.take(self.Y, rows, axis=1))
        self.t += 1
        AL, caches = scratch.L_model_forward(X, self.params, self.activations)
        cost = scratch.compute_cost(AL, Y, self.loss)
        grads = scratch.L_model_backward(
            AL, Y, caches, self.activations, self.loss, parameters_only=self.parameters_only
        )
        if self.optimizer == "adam":
            self.params, self.v, self.s, _, _ = scratch.update_parameters_with_adam(
                self.params, grads, self.v, self.s, self.t, self.learning_rate, **self.settings
            )
        elif self.optimizer == "momentum":
            self.params, self.v = scratch.update_parameters_with_momentum(
                self.params, grads, self.v, self.settings["beta"], self.learning_rate
            )
        else:
            self.params = scratch.update_parameters(self.params, grads, self.learning_rate)
        return cost


def torch_step(config: Config, X: np.ndarray, Y: np.ndarray, params: dict) -> Callable[[], float]:
    """torch_ref's step from the same parameters: forward, loss, autograd backward, the SGD update or
    torch.optim's optimiser (constructed once, as a user would)."""
    model = torch_ref.from_params(params, config.activations)
    settings = Optimization.from_config(config, X.shape[1]).settings()
    optimizer = (
        None if config.optimizer == "gd" else make_optimizer(model, config.optimizer, config.learning_rate, **settings)
    )
    trainer = torch_ref.Trainer(model, X, Y, config.loss, config.learning_rate, optimizer=optimizer)
    batches, count = _batches(config, X.shape[1]), itertools.count()
    return lambda: trainer.step(batches[next(count) % len(batches)])


def matmul(n: int, dtype: str) -> tuple[Callable[[], object], float]:
    """(call, FLOPs): np.matmul of two n x n matrices, 2 n^3 FLOPs, the fastest work NumPy's BLAS does."""
    rng = np.random.default_rng(0)
    A, B = (rng.standard_normal((n, n)).astype(dtype) for _ in range(2))
    C = np.empty((n, n), dtype=dtype)
    return (lambda: np.matmul(A, B, out=C)), 2.0 * n**3


def step_flops(config: Config) -> float:
    """FLOPs of a step (m: the batch's examples): W A forward, dW and dA_prev backward, each 2 per weight and
    example, less the first layer's dA_prev = dA0, which neither side's step computes (nothing reads it)."""
    m = config.mini_batch_size or config.examples
    weights = [a * b for a, b in zip(config.arch[:-1], config.arch[1:])]
    return 2.0 * m * (3 * sum(weights) - weights[0])


def seconds_of(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def calls_per_batch(fn: Callable[[], object], batch_s: float) -> int:
    """How many calls of fn last about batch_s; the first call is a warm-up (imports, thread pools, allocator)."""
    once = seconds_of(fn)
    if once < batch_s:  # a warm-up longer than a batch already says "one call"
        once = seconds_of(fn)
    return max(1, round(batch_s / max(once, 1e-9)))


def interleaved(fns: dict, calls: dict, rounds: int, settle_s: float) -> dict[str, list[float]]:
    """Seconds per call of each fn, one batch of each per round, the order rotated every round."""
    names = list(fns)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(settle_s)
            start = time.perf_counter()
            for _ in range(calls[name]):
                fns[name]()
            times[name].append((time.perf_counter() - start) / calls[name])
    return times


def paired(a: list[float], b: list[float]) -> float:
    """Median over rounds of a[i] / b[i]."""
    return statistics.median(x / y for x, y in zip(a, b))


def time_step(config: Config, plan: Plan) -> dict:
    """One cell: each side's step and the matmul in plan.rounds rounds; medians and paired ratios."""
    X, Y, params = data(config)
    mm, mm_flops = matmul(plan.matmul_n, config.dtype)
    fns = {"scratch": ScratchStep(config, X, Y, params), "torch": torch_step(config, X, Y, params), "matmul": mm}
    calls = {name: calls_per_batch(fn, plan.batch_s) for name, fn in fns.items()}
    t = interleaved(fns, calls, plan.rounds, plan.settle_s)
    flops = step_flops(config)
    return {
        "arch": ",".join(map(str, config.arch)),
        "m": config.examples,
        "activations": ", ".join(config.activations),
        "loss": config.loss,
        "optimizer": config.optimizer,
        "mini_batch_size": config.mini_batch_size,
        "dtype": config.dtype,
        "flops": flops,
        "rounds": plan.rounds,
        "scratch_s": statistics.median(t["scratch"]),
        "torch_s": statistics.median(t["torch"]),
        "ratio": paired(t["scratch"], t["torch"]),
        "scratch_gflops": flops / statistics.median(t["scratch"]) / 1e9,
        "matmul_gflops": mm_flops / statistics.median(t["matmul"]) / 1e9,
        # scratch's GFLOP/s over the matmul's from the same round
        "efficiency": paired([flops / s for s in t["scratch"]], [mm_flops / s for s in t["matmul"]]),
    }


def run_steps(plan: Plan, entries: Iterable[Config] = ENTRIES, log: Callable[[str], None] = print) -> list[dict]:
    """time_step on every entry, in float64 then float32."""
    rows = []
    for dtype in DTYPES:
        for config in entries:
            row = time_step(replace(config, dtype=dtype), plan)
            log(
                f"  {row['arch']:<20} {dtype}  scratch {1e3 * row['scratch_s']:9.3f} ms"
                f"  torch {1e3 * row['torch_s']:9.3f} ms  ratio {row['ratio']:.3f}"
                f"  efficiency {100 * row['efficiency']:.0f}%"
            )
            rows.append(row)
    return rows
