"""A learner's run: the course's image classifier verified, against the same implementation training itself.

The implementation is examples/course_network.py, written as the course's notebook has it; the network is the
course's (12288,20,7,5,1, m = 209, float64, learning rate 0.0075). Side by side in one run, on the data the
verifier makes for that network: its own L_layer_model for ITERATIONS iterations, then `python -m verify --impl`
on it for as many (verify.run: default checks, TensorBoard logs and the gradient check included). The floor is
the implementation's own steps plus torch's lockstep and free-running steps: torch_ref's step on the same network
and data is timed too, and the floor it gives is reported beside the ratio.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import verify
from verify import Config
from verify.config import resolve_network
from verify.data import load_data
from verify.impl import load_module

from .steps import seconds_of, torch_step

IMPLEMENTATION = Path(__file__).resolve().parents[1] / "examples" / "course_network.py"
CLASSIFIER = Config(
    impl=str(IMPLEMENTATION),
    arch=(12288, 20, 7, 5, 1),
    examples=209,
    learning_rate=0.0075,
    iterations=2500,
    progress=False,
)
LIMIT = 2.5  # the target: verification at most this many times the training it checks
TORCH_STEPS = 100  # torch's steps timed for the floor, after as many untimed


def run_learner(iterations: int = CLASSIFIER.iterations) -> dict:
    """Seconds of the implementation's own training and of its verification, each once, the training first."""
    config = replace(CLASSIFIER, iterations=iterations)
    network = resolve_network(config, lambda L: ["relu"] * (L - 1) + ["sigmoid"])
    X, Y = load_data(network)
    module = load_module(str(IMPLEMENTATION))
    started = time.perf_counter()
    module.L_layer_model(X, Y, list(config.arch), config.learning_rate, iterations)
    train_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-learner-") as logdir:
        started = time.perf_counter()
        report = verify.run(replace(config, logdir=logdir))
        verify_s = time.perf_counter() - started
    torch_step_s = _torch_step_s(network, module.initialize_parameters_deep(list(config.arch)), X, Y)
    floor_s = train_s + 2 * iterations * torch_step_s  # the implementation's own steps, torch's lockstep and own
    return {
        "arch": ",".join(map(str, config.arch)),
        "m": config.examples,
        "iterations": iterations,
        "train_s": train_s,
        "verify_s": verify_s,
        "ratio": verify_s / train_s,
        "verdict": report.verdict,
        "torch_step_ms": torch_step_s * 1e3,
        "floor": floor_s / train_s,
    }


def _torch_step_s(network: Config, params: dict, X, Y) -> float:
    """Seconds of one torch_ref step (forward, autograd backward, SGD update) on the resolved network and data."""
    step = torch_step(network, X, Y, params)
    for _ in range(TORCH_STEPS):
        step()
    return seconds_of(lambda: [step() for _ in range(TORCH_STEPS)]) / TORCH_STEPS


def lines(r: dict) -> list[str]:
    """The section RESULTS.md gives a learner's run."""
    return [
        f"- examples/course_network.py (the course's notebook as a learner writes it) on {r['arch']}, m = {r['m']},"
        f" float64, {r['iterations']} iterations at 0.0075: its own `L_layer_model` {r['train_s']:.2f} s;"
        f" `python -m verify --impl` on it (default checks: TensorBoard, the gradient check) {r['verify_s']:.2f} s,"
        f" {r['ratio']:.2f} times the training it checks (verdict: {r['verdict']}).",
        f"- The floor is the implementation's own steps plus torch's lockstep and free-running steps: torch_ref's step"
        f" on this network takes {r['torch_step_ms']:.2f} ms here ({TORCH_STEPS} steps timed after as many untimed),"
        f" against {r['train_s'] / r['iterations'] * 1e3:.2f} ms of the implementation's own iteration, so the"
        f" floor is {r['floor']:.2f}x on this machine; the verifier's own work takes the rest."
        " Measured once each, the training first, in this process (benchmarks/learner.py).",
    ]


__all__ = ["CLASSIFIER", "LIMIT", "lines", "run_learner"]
