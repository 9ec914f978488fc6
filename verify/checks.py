"""The verifier's checks: forward, backward, gradient checking, training in lockstep and free-running.

Each check folds (scratch, torch) pairs into Comparison rows, one per quantity and layer,
in the order the quantities are computed, so the first failing row is the first wrong line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import scratch
import torch_ref

from .compare import Comparison, diagnose, relative_difference_row
from .config import GRADCHECK_EPSILON, GRADCHECK_RTOL
from .errors import ImplementationError
from .impl import CourseImplementation

# Free-running trajectories separate by rounding alone; allow the per-step tolerance to
# grow linearly with the steps taken, with headroom for the amplification near kinks.
FREE_RUNNING_GROWTH = 10.0
GRADCHECK_EXAMPLES = 64  # finite differences on the first 64 examples: the math does not depend on m
GRADCHECK_ENTRIES = 24  # entries perturbed per parameter array, at most


@dataclass
class CheckResult:
    """One check's rows, or the error the implementation raised during it."""

    name: str  # forward, backward, gradcheck, lockstep, free-running
    check: str  # forward, backward, gradcheck, training
    rtol: float
    atol: float
    rows: dict = field(default_factory=dict)
    error: Optional[ImplementationError] = None
    error_iteration: Optional[int] = None
    skipped: Optional[str] = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.rows.values())

    def row(self, quantity: str, layer: int) -> Comparison:
        key = (quantity, layer)
        if key not in self.rows:
            self.rows[key] = Comparison(self.check, quantity, layer, rtol=self.rtol, atol=self.atol)
        return self.rows[key]

    def compare(self, quantity: str, layer: int, a, b, m: int, iteration=None, point=None) -> bool:
        row = self.row(quantity, layer)
        was_ok = row.ok
        agrees = row.update(a, b, iteration)
        if was_ok and not agrees:
            row.point = point
            row.hint = diagnose(a, b, m)
        return agrees


def compare_at_point(impl: CourseImplementation, model, X, Y, params, point: str,
                     forward: CheckResult, backward: CheckResult) -> None:
    """Forward (Z, A, J) and backward (dZ, dW, db, dA) of both sides at one set of parameters."""
    m, L = X.shape[1], impl.L
    torch_ref.load_params(model, params)
    ref = torch_ref.forward_backward(model, X, Y, impl.loss)
    try:
        AL, caches = impl.forward(X, params)
        values = impl.layers(AL, caches)
        for l in range(1, L + 1):
            forward.compare("Z", l, values[f"Z{l}"], ref[f"Z{l}"], m, point=point)
            forward.compare("A", l, values[f"A{l}"], ref[f"A{l}"], m, point=point)
        forward.compare("cost", L, impl.cost(AL, Y, caches), ref["cost"], m, point=point)
    except ImplementationError as error:
        forward.error = forward.error or error
        backward.skipped = "the forward pass raised"
        return
    try:
        grads = impl.backward(AL, Y, caches, params)
    except ImplementationError as error:
        backward.error = backward.error or error
        return
    for l in range(L, 0, -1):
        if f"dZ{l}" in grads:
            backward.compare("dZ", l, grads[f"dZ{l}"], ref[f"dZ{l}"], m, point=point)
        backward.compare("dW", l, grads[f"dW{l}"], ref[f"dW{l}"], m, point=point)
        backward.compare("db", l, grads[f"db{l}"], ref[f"db{l}"], m, point=point)
        if f"dA{l - 1}" in grads:
            backward.compare("dA", l - 1, grads[f"dA{l - 1}"], ref[f"dA{l - 1}"], m, point=point)


def kink_probe(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """Data and parameters at which every pre-activation of the first example is exactly 0.

    With x = 0 and zero biases, Z[l] = W[l] g(0) + 0 = 0 exactly on both sides (for g(0) = 0),
    so relu'(0) and leaky_relu'(0) are compared, which random data almost never does.
    """
    X_probe = X.copy()
    X_probe[:, 0] = 0
    probe = {k: (np.zeros_like(v) if k.startswith("b") else v) for k, v in params.items()}
    return X_probe, probe


def gradient_check(impl: CourseImplementation, X, Y, params, seed: int) -> CheckResult:
    """The implementation's own gradients against centred differences of its own cost, in float64."""
    result = CheckResult("gradcheck", "gradcheck", GRADCHECK_RTOL, 0.0)
    X64 = np.ascontiguousarray(X[:, :GRADCHECK_EXAMPLES], dtype=np.float64)
    Y64 = np.ascontiguousarray(Y[:, :GRADCHECK_EXAMPLES], dtype=np.float64)
    P64 = {k: v.astype(np.float64) for k, v in params.items()}

    def cost_of(p: dict) -> float:
        AL, caches = impl.forward(X64, p)
        return impl.cost(AL, Y64, caches)

    rng = np.random.default_rng([seed, 2])
    indices = {k: _sample_entries(v.shape, GRADCHECK_ENTRIES, rng) for k, v in P64.items()}
    try:
        AL, caches = impl.forward(X64, P64)
        J = impl.cost(AL, Y64, caches)
        grads = impl.backward(AL, Y64, caches, P64)
        approx = scratch.numerical_gradients(cost_of, P64, GRADCHECK_EPSILON, indices)
    except ImplementationError as error:
        result.error = error
        return result
    # A centred difference of a float64 cost carries a rounding error of about eps |J| / epsilon per entry.
    noise = 10 * np.finfo(np.float64).eps * max(abs(J), 1.0) / GRADCHECK_EPSILON
    for l in range(impl.L, 0, -1):
        for q in ("W", "b"):
            picked = tuple(np.array(indices[f"{q}{l}"]).T)
            g, a = grads[f"d{q}{l}"][picked], approx[f"d{q}{l}"][picked]
            relative_difference_row(result.row(f"d{q}", l), g, a, noise * np.sqrt(g.size))
    return result


def _sample_entries(shape: tuple[int, ...], k: int, rng) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= k else np.sort(rng.choice(size, k, replace=False))
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]


@dataclass
class TrainingRun:
    """What training leaves for the report and the logs (per-iteration costs only; no parameter history)."""

    lockstep: CheckResult
    free: CheckResult
    scratch_costs: list = field(default_factory=list)
    torch_costs: list = field(default_factory=list)
    scratch_params: Optional[dict] = None
    nonfinite: dict = field(default_factory=lambda: {"scratch": None, "torch": None})
    drift: list = field(default_factory=list)  # (iteration, cost gap, largest parameter gap)
    completed: int = 0
    interrupted_at: Optional[int] = None  # Ctrl-C: the iteration that did not finish


def train_and_compare(impl: CourseImplementation, X, Y, params, model_lockstep, model_free,
                      learning_rate: float, iterations: int, rtol: float, atol: float,
                      on_iteration: Optional[Callable] = None) -> TrainingRun:
    """Both sides train; lockstep compares each step from shared parameters, free-running each side's own run."""
    run = TrainingRun(CheckResult("lockstep", "training", rtol, atol),
                      CheckResult("free-running", "training", rtol, atol))
    lockstep_trainer = torch_ref.Trainer(model_lockstep, X, Y, impl.loss, learning_rate)
    free_trainer = torch_ref.Trainer(model_free, X, Y, impl.loss, learning_rate)
    run.scratch_params = params
    checkpoints = {i for i in range(iterations) if _is_checkpoint(i)} | {iterations - 1}
    try:
        _train_loop(run, impl, X, Y, params, model_lockstep, lockstep_trainer, free_trainer,
                    learning_rate, iterations, checkpoints, on_iteration)
    except KeyboardInterrupt:
        run.interrupted_at = run.completed
    _judge_divergence(run, impl.L)
    return run


def _train_loop(run: TrainingRun, impl, X, Y, P, model_lockstep, lockstep_trainer, free_trainer,
                learning_rate, iterations, checkpoints, on_iteration) -> None:
    """The iterations of train_and_compare; run.scratch_params holds scratch's last finite parameters."""
    m, L = X.shape[1], impl.L
    for i in range(iterations):
        if run.nonfinite["scratch"] is None:
            # torch takes one step from the scratch parameters (before scratch may touch them)
            torch_ref.load_params(model_lockstep, P)
            cost_t = lockstep_trainer.step()
            grads_t = torch_ref.gradients(model_lockstep)
            P_t = torch_ref.to_params(model_lockstep)
            try:
                AL, caches = impl.forward(X, P)
                cost_s = impl.cost(AL, Y, caches)
                grads_s = impl.backward(AL, Y, caches, P)
                P_next = impl.update(P, grads_s, learning_rate)
            except ImplementationError as error:
                run.lockstep.error, run.lockstep.error_iteration = error, i
                break
            lock = run.lockstep
            lock.compare("cost", L, cost_s, cost_t, m, iteration=i)
            for l in range(L, 0, -1):
                lock.compare("dW", l, grads_s[f"dW{l}"], grads_t[f"dW{l}"], m, iteration=i)
                lock.compare("db", l, grads_s[f"db{l}"], grads_t[f"db{l}"], m, iteration=i)
            for l in range(1, L + 1):
                lock.compare("W", l, P_next[f"W{l}"], P_t[f"W{l}"], m, iteration=i)
                lock.compare("b", l, P_next[f"b{l}"], P_t[f"b{l}"], m, iteration=i)
            run.scratch_costs.append(cost_s)
            if not (np.isfinite(cost_s) and _finite(P_next)):
                run.nonfinite["scratch"] = i
            else:
                P = run.scratch_params = P_next
        if run.nonfinite["torch"] is None:
            cost_f = free_trainer.step()
            run.torch_costs.append(cost_f)
            P_f = torch_ref.to_params(free_trainer.model)
            if not (np.isfinite(cost_f) and _finite(P_f)):
                run.nonfinite["torch"] = i
            elif run.nonfinite["scratch"] is None:
                _compare_free(run, i, cost_s, cost_f, P_next, P_f, m, L, checkpoints)
        run.completed = i + 1
        if on_iteration is not None:
            on_iteration(i, run)
        if run.nonfinite["scratch"] is not None and run.nonfinite["torch"] is not None:
            break


def _compare_free(run: TrainingRun, i: int, cost_s, cost_f, P_s, P_f, m, L, checkpoints) -> None:
    free = run.free
    growth = FREE_RUNNING_GROWTH * (i + 1)
    rtol, atol = free.rtol * growth, free.atol * growth
    for quantity, layer, a, b in [("cost", L, cost_s, cost_f)] + [
        (q, l, P_s[f"{q}{l}"], P_f[f"{q}{l}"]) for l in range(1, L + 1) for q in ("W", "b")
    ]:
        row = free.row(quantity, layer)
        if row.ok:  # a failed row keeps the tolerance it broke
            row.rtol, row.atol = rtol, atol
        free.compare(quantity, layer, a, b, m, iteration=i)
    if i in checkpoints:
        gap = max(float(np.max(np.abs(P_s[k] - P_f[k]))) for k in P_s)
        run.drift.append((i, abs(cost_s - cost_f), gap))


def _judge_divergence(run: TrainingRun, L: int) -> None:
    """Non-finite training is reported, not crashed on; only one side diverging is a mismatch."""
    s, t = run.nonfinite["scratch"], run.nonfinite["torch"]
    if s is None and t is None:
        return
    for side, at in (("scratch", s), ("torch", t)):
        run.free.notes.append(f"{side} went non-finite at iteration {at}" if at is not None else f"{side} stayed finite")
    if (s is None) != (t is None):
        row = run.free.row("cost", L)
        row.record(np.inf, np.inf, np.inf, s if s is not None else t)
        row.hint = ("only scratch went non-finite: a course-literal dAL = -(Y/AL - (1-Y)/(1-AL)) divides by zero "
                    "once AL rounds to 1; dZ[L] = AL - Y does not") if s is not None else "only torch went non-finite"


def _finite(params: dict) -> bool:
    return all(np.all(np.isfinite(v)) for v in params.values())


def _is_checkpoint(i: int) -> bool:
    """Iterations 0, 1, 2, 5, 10, 20, 50, 100, ...: how the free-running gap grew, at a glance."""
    n = i
    while n >= 10 and n % 10 == 0:
        n //= 10
    return i == 0 or n in (1, 2, 5)
