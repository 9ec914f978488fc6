"""Training, checked two ways: lockstep (the verdict on the derivation) and free-running.

Lockstep: at every iteration torch takes one step from the implementation's own parameters,
and that step's cost, gradients and update must agree tightly. Free-running: torch trains on
its own, and the two trajectories are compared with a tolerance that grows with the steps
and with the amplification the training dynamics apply to rounding gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import torch_ref

from .checks import CheckResult
from .compare import gradient_scales
from .errors import ImplementationError
from .impl import CourseImplementation

# Free-running trajectories separate by rounding alone. The per-step tolerance is allowed to
# add up over the steps taken (with headroom), times the amplification that training's own
# dynamics applied to the gap so far (see _amplify): unstable training multiplies tiny gaps.
FREE_RUNNING_GROWTH = 10.0
SATURATION_HINT = ("once AL rounds to exactly 0 or 1, a course-literal cost Y log(AL) + (1-Y) log(1-AL) or "
                   "dAL = -(Y/AL - (1-Y)/(1-AL)) is infinite; computing from Z[L] (log-sigmoid) and dZ[L] = AL - Y is not")


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
    latest: dict = field(default_factory=dict)  # the last iteration's arrays, for the logs (references)
    free_trainer: Optional[object] = None  # torch's own run, for the logs
    label: str = "scratch"  # the implementation under test, as the notes name it
    amplification: float = 1.0  # how much torch's steps have magnified a gap between the runs so far


def train_and_compare(impl: CourseImplementation, X, Y, params, model_lockstep, model_free,
                      learning_rate: float, iterations: int, rtol: float, atol: float,
                      on_iteration: Optional[Callable] = None) -> TrainingRun:
    """Both sides train; lockstep compares each step from shared parameters, free-running each side's own run."""
    run = TrainingRun(CheckResult("lockstep", "training", rtol, atol),
                      CheckResult("free-running", "training", rtol, atol), label=impl.label)
    lockstep_trainer = torch_ref.Trainer(model_lockstep, X, Y, impl.loss, learning_rate)
    free_trainer = run.free_trainer = torch_ref.Trainer(model_free, X, Y, impl.loss, learning_rate)
    run.scratch_params = params
    checkpoints = {i for i in range(iterations) if _is_checkpoint(i)} | {iterations - 1}
    try:
        _train_loop(run, impl, X, Y, params, model_lockstep, lockstep_trainer, free_trainer,
                    learning_rate, iterations, checkpoints, on_iteration)
    except KeyboardInterrupt:
        run.interrupted_at = run.completed
    _judge_divergence(run, impl.L)
    if run.amplification > 10:
        run.free.notes.append(f"training itself magnified small gaps between the runs {run.amplification:.3g} times "
                              "(unstable or kinked dynamics); the free-running tolerance grew with it")
    return run


def _train_loop(run: TrainingRun, impl, X, Y, params, model_lockstep, lockstep_trainer, free_trainer,
                learning_rate, iterations, checkpoints, on_iteration) -> None:
    """The iterations of train_and_compare; run.scratch_params holds scratch's last finite parameters."""
    m, L = X.shape[1], impl.L
    P, T = params, params  # scratch's parameters, and torch's own (free-running)
    for i in range(iterations):
        run.latest.pop("gaps", None)  # set again below only if this iteration's runs are comparable
        if run.nonfinite["scratch"] is None:
            # torch takes one step from the scratch parameters (before scratch may touch them)
            torch_ref.load_params(model_lockstep, P)
            cost_t = lockstep_trainer.step()
            grads_t = torch_ref.gradients(model_lockstep)
            P_t = torch_ref.to_params(model_lockstep)
            try:
                AL, caches = impl.forward(X, P)
                cost_s = impl.cost(AL, Y, caches)
                grads_s = impl.backward(AL, Y, caches, P, need_dA0=False)
                P_next = impl.update(P, grads_s, learning_rate)
            except ImplementationError as error:
                run.lockstep.error, run.lockstep.error_iteration = error, i
                run.free.skipped = f"{impl.label} raised during training (see lockstep)"
                break
            run.scratch_costs.append(cost_s)
            run.latest.update(scratch_before=P, scratch_grads=grads_s, scratch_after=P_next, scratch_AL=AL)
            scratch_diverged, torch_diverged = _diverged(cost_s, P_next), _diverged(cost_t, P_t)
            if scratch_diverged or torch_diverged:
                # No elementwise verdict on overflowing numbers: whether both sides blew up
                # at this step from the same parameters is the verdict.
                run.nonfinite["scratch"] = i if scratch_diverged else None
                _judge_lockstep_divergence(run.lockstep, i, scratch_diverged, torch_diverged, L, impl.label)
            else:
                _compare_lockstep(run, i, m, L, cost_s, cost_t, grads_s, grads_t, P, P_next, P_t,
                                  gradient_scales(grads_s, AL, Y, caches, learning_rate))
            if not scratch_diverged:
                P = run.scratch_params = P_next
        if run.nonfinite["torch"] is None:
            cost_f = free_trainer.step()
            run.torch_costs.append(cost_f)
            T_next = torch_ref.to_params(free_trainer.model)
            run.latest.update(torch_before=T, torch_after=T_next)
            if _diverged(cost_f, T_next):
                run.nonfinite["torch"] = i
            elif run.nonfinite["scratch"] is None:
                _amplify(run, S=run.latest["scratch_before"], T=T, step_from_S=P_t, step_from_T=T_next)
                _compare_free(run, i, cost_s, cost_f, P_next, T_next, m, L, checkpoints)
            T = T_next
        run.completed = i + 1
        if on_iteration is not None:
            on_iteration(i, run)
        if run.nonfinite["scratch"] is not None and run.nonfinite["torch"] is not None:
            break


def _compare_lockstep(run: TrainingRun, i, m, L, cost_s, cost_t, grads_s, grads_t, P, P_next, P_t, scales) -> None:
    """This step's cost, gradients and update, both sides from the same parameters P.

    The update is compared as the step each side took, P_next - P, on the scale of P: the same
    verdict as comparing P_next, but a slip in the step (a flipped sign, a missing lr) reads as
    what it is.
    """
    keys = [(q, l) for l in range(1, L + 1) for q in ("W", "b")]
    for (q, l), size in zip(keys, _largest_each(P)):
        scales[(q, l)] = max(scales.get((q, l), 0.0), size)
    run.lockstep.compare(
        [("cost", L, cost_s, cost_t)]
        + [(q, l, grads_s[f"{q}{l}"], grads_t[f"{q}{l}"]) for l in range(L, 0, -1) for q in ("dW", "db")]
        + [(q, l, P_next[f"{q}{l}"] - P[f"{q}{l}"], P_t[f"{q}{l}"] - P[f"{q}{l}"]) for q, l in keys],
        m, iteration=i, scales=scales)


def _compare_free(run: TrainingRun, i: int, cost_s, cost_f, P_s, P_f, m, L, checkpoints) -> None:
    growth = FREE_RUNNING_GROWTH * (i + 1) * run.amplification
    items = [("cost", L, cost_s, cost_f)] + [(q, l, P_s[f"{q}{l}"], P_f[f"{q}{l}"]) for l in range(1, L + 1) for q in ("W", "b")]
    stats = run.free.compare(items, m, iteration=i, rtol=run.free.rtol * growth, atol=run.free.atol * growth)
    run.latest["gaps"] = gaps = {(q, l): s[0] for (q, l, _, _), s in zip(items, stats)}
    if i in checkpoints:  # the largest parameter gap is already among the comparison's statistics
        run.drift.append((i, gaps[("cost", L)], max(v for (q, _), v in gaps.items() if q != "cost")))


def _amplify(run: TrainingRun, S: dict, T: dict, step_from_S: dict, step_from_T: dict) -> None:
    """Fold in how much this torch step magnified the gap between the runs' parameters S and T.

    Lockstep gives torch's step from S, the free run torch's step from T: the ratio of the gaps
    after and before is the dynamics' own amplification (chaotic training makes it exceed 1).
    Gaps at the level of rounding are floored so that rounding noise is not read as growth.
    """
    S, T, step_from_S, step_from_T = (_flat(p) for p in (S, T, step_from_S, step_from_T))
    before = float(np.max(np.abs(S - T)))
    after = float(np.max(np.abs(step_from_S - step_from_T)))
    floor = 16 * np.finfo(T.dtype).eps * max(float(np.max(np.abs(T))), 1.0)
    run.amplification *= max(1.0, after / max(before, floor))


def _judge_divergence(run: TrainingRun, L: int) -> None:
    """Diverging training is reported, not crashed on: both sides diverging agree, one alone is a mismatch.

    Free-running, the two runs may cross into inf a few steps apart (rounding separates their
    trajectories); if scratch diverged where torch, from the same parameters, did too
    (lockstep), torch's own run staying finite is no evidence against scratch.
    """
    s, t = run.nonfinite["scratch"], run.nonfinite["torch"]
    if s is None and t is None:
        return
    for side, at in ((run.label, s), ("torch", t)):
        run.free.notes.append(f"{side} diverged at iteration {at}" if at is not None else f"{side} stayed finite")
    lockstep_agreed = s is not None and run.lockstep.ok
    if s is None and t is not None or (s is not None and t is None and not lockstep_agreed):
        row = run.free.row("cost", L)
        row.record(np.inf, np.inf, np.inf, s if s is not None else t)
        row.hint = f"only {run.label if s is not None else 'torch'} went non-finite (at iteration {s if s is not None else t}); " + SATURATION_HINT


def _diverged(cost: float, params: dict) -> bool:
    """Non-finite, or so large (beyond the square root of the dtype's largest number) that the next
    product overflows: the two sides may cross into inf a step apart, so both count as diverged."""
    flat = _flat(params)
    limit = np.sqrt(np.finfo(flat.dtype).max)
    return not (abs(cost) < limit and np.max(np.abs(flat)) < limit)  # nan fails both comparisons


def _flat(params: dict) -> np.ndarray:
    """Every parameter in one vector: a few NumPy calls per iteration instead of a few per array."""
    return np.concatenate([v.ravel() for v in params.values()])


def _largest_each(params: dict) -> np.ndarray:
    """max |p| of each parameter array, in the dict's order."""
    sizes = [v.size for v in params.values()]
    return np.maximum.reduceat(np.abs(_flat(params)), np.cumsum([0] + sizes[:-1])).tolist()


def _judge_lockstep_divergence(lockstep: CheckResult, i: int, scratch: bool, torch: bool, L: int, label: str) -> None:
    if scratch and torch:
        lockstep.notes.append(f"both sides diverged at iteration {i}, from the same parameters: they agree")
        return
    row = lockstep.row("cost", L)
    row.record(np.inf, np.inf, np.inf, i)
    if scratch:
        row.hint = f"{label} went non-finite at iteration {i} while torch, from the same parameters, stayed finite; " + SATURATION_HINT
    else:
        row.hint = f"torch went non-finite at iteration {i} while {label}, from the same parameters, stayed finite"


def _is_checkpoint(i: int) -> bool:
    """Iterations 0, 1, 2, 5, 10, 20, 50, 100, ...: how the free-running gap grew, at a glance."""
    n = i
    while n >= 10 and n % 10 == 0:
        n //= 10
    return i == 0 or n in (1, 2, 5)
