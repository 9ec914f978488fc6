"""A learner's run: the course's image classifier verified, against the same implementation training itself.

The implementation is examples/course_network.py, written as the course's notebook has it; the network is the
course's (12288,20,7,5,1, m = 209, float64, learning rate 0.0075). Side by side in one run, on the data the
verifier makes for that network: its own L_layer_model for ITERATIONS iterations, then `python -m verify --impl`
on it for as many (verify.run: default checks, TensorBoard logs and the gradient check included), then its own
training again: the verification is held against the mean of the two trainings that bracket it, so that a
machine that slows or speeds up over the minutes the entry takes moves both sides alike. The floor is
the implementation's own steps plus torch's lockstep and free-running steps: torch_ref's step on the same network
and data is timed alone, and the three steps are also run together for as many iterations, with no checks
(verifier.bare_work), as the verifier runs them; both floors are reported beside the ratio. Last, what isolation
costs this network (grading runs each submission isolated): the verification with --isolate against the same
one in this process, for ISOLATED iterations, one after the other.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

from verify import Config
from verify.config import resolve_network
from verify.data import load_data
from verify.impl import load_module

from .steps import seconds_of, torch_step
from .verifier import bare_work, verified

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
ISOLATED = 100  # iterations of the isolated verification and of the one in this process it is held against


def run_learner(iterations: int = CLASSIFIER.iterations, isolated: int = ISOLATED) -> dict:
    """Seconds of the implementation's own training, before and after its verification, and of the verification;
    and of the verification for `isolated` iterations with --isolate and without it."""
    config = replace(CLASSIFIER, iterations=iterations)
    network = resolve_network(config, lambda L: ["relu"] * (L - 1) + ["sigmoid"])
    X, Y = load_data(network)
    module = load_module(str(IMPLEMENTATION))

    def training() -> None:
        module.L_layer_model(X, Y, list(config.arch), config.learning_rate, iterations)

    train_before_s = seconds_of(training)
    with tempfile.TemporaryDirectory(prefix="bench-learner-") as logdir:
        started = time.perf_counter()
        report = verified(replace(config, logdir=logdir))
        verify_s = time.perf_counter() - started
    train_after_s = seconds_of(training)
    train_s = (train_before_s + train_after_s) / 2
    start = module.initialize_parameters_deep(list(config.arch))
    step = CourseStep(module, X, Y, start, config.learning_rate)
    together_s = seconds_of(lambda: bare_work(replace(network, iterations=iterations), X, Y, start, step))
    torch_step_s = _torch_step_s(network, start, X, Y)
    isolated_s, in_process_s = (_verify_s(replace(config, iterations=isolated), isolate) for isolate in (True, False))
    floor_s = train_s + 2 * iterations * torch_step_s  # the implementation's own steps, torch's lockstep and own
    return {
        "arch": ",".join(map(str, config.arch)),
        "m": config.examples,
        "iterations": iterations,
        "train_before_s": train_before_s,
        "train_after_s": train_after_s,
        "train_s": train_s,
        "verify_s": verify_s,
        "ratio": verify_s / train_s,
        "verdict": report.verdict,
        "torch_step_ms": torch_step_s * 1e3,
        "floor": floor_s / train_s,
        "together_s": together_s,
        "together": together_s / train_s,
        "isolated_iterations": isolated,
        "isolated_s": isolated_s,
        "in_process_s": in_process_s,
    }


def _verify_s(config: Config, isolate: bool) -> float:
    """Seconds of the verification of `config`, its code in a process of its own or in this one."""
    with tempfile.TemporaryDirectory(prefix="bench-isolate-") as logdir:
        started = time.perf_counter()
        report = verified(replace(config, logdir=logdir, isolate=isolate))
        seconds = time.perf_counter() - started
    assert report.ok, f"the isolated benchmark's verification failed ({report.verdict})"
    return seconds


class CourseStep:
    """One iteration of the implementation's own L_layer_model: its four functions, called as its loop calls them;
    .params are the parameters it reached."""

    def __init__(self, module, X, Y, params: dict, learning_rate: float):
        self.module, self.X, self.Y, self.params, self.learning_rate = module, X, Y, params, learning_rate

    def __call__(self) -> None:
        AL, caches = self.module.L_model_forward(self.X, self.params)
        self.module.compute_cost(AL, self.Y)
        grads = self.module.L_model_backward(AL, self.Y, caches)
        self.params = self.module.update_parameters(self.params, grads, self.learning_rate)


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
        f" float64, {r['iterations']} iterations at 0.0075: its own `L_layer_model` {r['train_s']:.2f} s (the mean"
        f" of {r['train_before_s']:.2f} s before the verification and {r['train_after_s']:.2f} s after it);"
        f" `python -m verify --impl` on it (default checks: TensorBoard, the gradient check) {r['verify_s']:.2f} s,"
        f" {r['ratio']:.2f} times the training it checks (verdict: {r['verdict']}).",
        f"- The floor is the implementation's own steps plus torch's lockstep and free-running steps: torch_ref's step"
        f" on this network takes {r['torch_step_ms']:.2f} ms here ({TORCH_STEPS} steps timed after as many untimed),"
        f" against {r['train_s'] / r['iterations'] * 1e3:.2f} ms of the implementation's own iteration, so the"
        f" floor is {r['floor']:.2f}x on this machine, the steps timed apart. Run together as the verifier runs them,"
        " with no checks (per iteration: its step; torch's step from its parameters, with their copies in and out;"
        f" torch's own step; benchmarks/verifier.py bare_work), they take {r['together_s']:.2f} s,"
        f" {r['together']:.2f}x; the verifier's own work takes the rest,"
        f" {(r['verify_s'] - r['together_s']) / r['iterations'] * 1e3:.2f} ms per iteration."
        " The training measured twice, the rest once each, in this process (benchmarks/learner.py).",
        f"- Isolated (`--isolate`, as grading runs each submission) for {r['isolated_iterations']} iterations, the"
        f" verification takes {r['isolated_s']:.2f} s against {r['in_process_s']:.2f} s in this process,"
        f" {r['isolated_s'] / r['in_process_s']:.2f}x: each of its calls carries its arrays to the learner's process"
        " and back, an array of 64 KiB or more whole once and then as a token (verify/remote/kept.py).",
    ]


__all__ = ["CLASSIFIER", "LIMIT", "CourseStep", "lines", "run_learner"]
