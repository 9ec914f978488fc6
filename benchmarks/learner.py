"""A learner's run: the course's image classifier verified, against the same implementation training itself.

The implementation is examples/course_network.py, written as the course's notebook has it; the network is the
course's (12288,20,7,5,1, m = 209, float64, learning rate 0.0075). Side by side in one run, on the data the
verifier makes for that network: its own L_layer_model for ITERATIONS iterations, then `python -m verify --impl`
on it for as many (verify.run: default checks, TensorBoard logs and the gradient check included). The floor is
about 2x: the implementation's own steps, plus torch's lockstep and free-running steps.
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


def run_learner(iterations: int = CLASSIFIER.iterations) -> dict:
    """Seconds of the implementation's own training and of its verification, each once, the training first."""
    config = replace(CLASSIFIER, iterations=iterations)
    X, Y = load_data(resolve_network(config, lambda L: ["relu"] * (L - 1) + ["sigmoid"]))
    module = load_module(str(IMPLEMENTATION))
    started = time.perf_counter()
    module.L_layer_model(X, Y, list(config.arch), config.learning_rate, iterations)
    train_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-learner-") as logdir:
        started = time.perf_counter()
        report = verify.run(replace(config, logdir=logdir))
        verify_s = time.perf_counter() - started
    return {
        "arch": ",".join(map(str, config.arch)),
        "m": config.examples,
        "iterations": iterations,
        "train_s": train_s,
        "verify_s": verify_s,
        "ratio": verify_s / train_s,
        "verdict": report.verdict,
    }


def lines(r: dict) -> list[str]:
    """The section RESULTS.md gives a learner's run."""
    return [
        f"- examples/course_network.py (the course's notebook as a learner writes it) on {r['arch']}, m = {r['m']},"
        f" float64, {r['iterations']} iterations at 0.0075: its own `L_layer_model` {r['train_s']:.2f} s;"
        f" `python -m verify --impl` on it (default checks: TensorBoard, the gradient check) {r['verify_s']:.2f} s,"
        f" {r['ratio']:.2f} times the training it checks (verdict: {r['verdict']}).",
        "- The floor is about 2x: the implementation's own steps, plus torch's lockstep and free-running steps."
        " Measured once each, the training first, in this process (benchmarks/learner.py).",
    ]


__all__ = ["CLASSIFIER", "LIMIT", "lines", "run_learner"]
