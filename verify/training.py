"""Training, checked two ways: lockstep (the verdict on the derivation) and free-running.

Lockstep: at every iteration torch takes one step from the implementation's own parameters,
and that step's cost, gradients and update must agree tightly. Free-running: torch trains on
its own, and the two trajectories are compared with a tolerance that follows the dynamics:

    allowed[i+1] = gain[i] * allowed[i] + rounding[i]

where rounding[i] is what one correct step may round differently on the two sides (2 eps
times the update's scale, or rtol times it if that is smaller, plus the rounding of
P - lr dP), and gain[i] is how much torch's own step magnified the gap between the two runs'
parameters at iteration i: torch's step from the implementation's parameters (lockstep) against
its step from its own (free-running). A contracting step (gain < 1) shrinks the allowance, an
expanding one grows it. Once the allowance passes FREE_RUNNING_LIMIT of the parameters' size,
training has amplified rounding until the runs are no longer comparable: the check says from
which iteration, and compares nothing after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import torch_ref

from .checks import CheckResult, kink_note
from .compare import Stats
from .errors import ImplementationError
from .impl import Adapter
from .tolerance import kink_affects, kink_flip, term_scales, update_floors

FREE_RUNNING_ROUNDING = 2  # eps per step (times the step's scale): the rounding one correct step may differ by
FREE_RUNNING_HEADROOM = 10  # the allowance is an estimate: the gap must stay within 10 times it
FREE_RUNNING_LIMIT = {"float64": 1e-6, "float32": 1e-2}  # relative: beyond it, two runs are not comparable
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
    drift: list = field(default_factory=list)  # (iteration, cost gap, largest parameter gap, its allowance)
    completed: int = 0
    interrupted_at: Optional[int] = None  # Ctrl-C: the iteration that did not finish
    latest: dict = field(default_factory=dict)  # the last iteration's arrays, for the logs (references)
    free_trainer: Optional[object] = None  # torch's own run, for the logs
    label: str = "scratch"  # the implementation under test, as the notes name it
    allowed: Optional[np.ndarray] = None  # free-running: the allowed gap of each parameter array
    incomparable: str = ""  # why free-running stopped comparing, once it did
    kinks: list = field(default_factory=list)  # lockstep iterations where the sides took opposite sides of a kink
    largest_gain: float = 0.0  # the largest one-step magnification of the gap between the runs


def train_and_compare(impl: Adapter, X, Y, params, model_lockstep, model_free,
                      learning_rate: float, iterations: int, rtol: float,
                      on_iteration: Optional[Callable] = None) -> TrainingRun:
    """Both sides train; lockstep compares each step from shared parameters, free-running each side's own run."""
    run = TrainingRun(CheckResult("lockstep", "training", rtol), CheckResult("free-running", "training", 0.0),
                      label=impl.label)
    lockstep_trainer = torch_ref.Trainer(model_lockstep, X, Y, impl.loss, learning_rate, record=True)
    free_trainer = run.free_trainer = torch_ref.Trainer(model_free, X, Y, impl.loss, learning_rate)
    run.scratch_params = params
    checkpoints = {i for i in range(iterations) if _is_checkpoint(i)} | {iterations - 1}
    try:
        _train_loop(run, impl, X, Y, params, model_lockstep, lockstep_trainer, free_trainer,
                    learning_rate, iterations, checkpoints, on_iteration)
    except KeyboardInterrupt:
        run.interrupted_at = run.completed
    _judge_divergence(run, impl.L)
    if run.kinks:
        run.lockstep.notes.append(kink_note(f"at {len(run.kinks)} iteration(s) (the first: {run.kinks[0]})", None, impl.activations))
    if run.free.comparable_until is not None:
        reason = run.incomparable or (
            f"the gap two correct runs may have (each step's rounding, magnified up to {run.largest_gain:.3g} times "
            f"in one step by training) passes {FREE_RUNNING_LIMIT[X.dtype.name]:g} of the parameters' size")
        run.free.notes.append(f"from iteration {run.free.comparable_until} on the runs are not comparable: {reason} "
                              "(lockstep still checks every step)")
    return run


def _train_loop(run: TrainingRun, impl, X, Y, params, model_lockstep, lockstep_trainer, free_trainer,
                learning_rate, iterations, checkpoints, on_iteration) -> None:
    """The iterations of train_and_compare; run.scratch_params holds the implementation's last finite parameters."""
    m, L = X.shape[1], impl.L
    P, T = params, params  # the implementation's parameters, and torch's own (free-running)
    rounding = None  # what one correct step may round differently, from the last lockstep comparison
    for i in range(iterations):
        run.latest.pop("gaps", None)  # set again below only if this iteration's runs are comparable
        if run.nonfinite["scratch"] is None:
            # torch takes one step from the implementation's parameters
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
                rounding = None
            else:
                ref = {**lockstep_trainer.layers(), "cost": cost_t}
                scales = term_scales(P, X, Y, ref, impl.activations, learning_rate)
                kink = kink_flip(impl.layers(AL, caches), ref, impl.activations, scales, run.lockstep.rtol)
                if kink is not None:
                    run.kinks.append(i)
                    if run.free.comparable_until is None:  # the two runs may take either branch from here on
                        run.free.comparable_until = i
                        run.incomparable = f"the two sides took opposite sides of a relu's kink at iteration {i}"
                rounding = _compare_lockstep(run, i, m, L, cost_s, cost_t, grads_s, grads_t, P, P_next, P_t, scales, kink)
            if not scratch_diverged:
                P = run.scratch_params = P_next
        if run.nonfinite["torch"] is None:
            cost_f = free_trainer.step()
            run.torch_costs.append(cost_f)
            T_next = torch_ref.to_params(free_trainer.model)
            run.latest.update(torch_before=T, torch_after=T_next)
            if _diverged(cost_f, T_next):
                run.nonfinite["torch"] = i
            elif run.nonfinite["scratch"] is None and run.free.comparable_until is None and rounding is not None:
                before = run.latest["scratch_before"]
                _compare_free(run, i, m, L, X.dtype, cost_s, cost_f, before, T, P_next, T_next, P_t, rounding,
                              free_trainer, checkpoints)
            T = T_next
        run.completed = i + 1
        if on_iteration is not None:
            on_iteration(i, run)
        if run.nonfinite["scratch"] is not None and run.nonfinite["torch"] is not None:
            break


def _compare_lockstep(run: TrainingRun, i, m, L, cost_s, cost_t, grads_s, grads_t, P, P_next, P_t, scales, kink) -> tuple:
    """This step's cost, gradients and update, both sides from the same parameters P.

    The update is compared as the step each side took, P_next - P: a slip in the step (a
    flipped sign, a missing lr) reads as what it is. Returns the rounding one correct step
    may make, per parameter array, and the cost's tolerance (for free-running).
    """
    keys = [(q, l) for l in range(1, L + 1) for q in ("W", "b")]
    floors = update_floors(P, P["W1"].dtype)
    items = ([("cost", L, cost_s, cost_t)]
             + [(q, l, grads_s[f"{q}{l}"], grads_t[f"{q}{l}"]) for l in range(L, 0, -1) for q in ("dW", "db")]
             + [(q, l, P_next[f"{q}{l}"] - P[f"{q}{l}"], P_t[f"{q}{l}"] - P[f"{q}{l}"]) for q, l in keys])
    if kink is not None:
        items = [item for item in items if not kink_affects(item[0], item[1], kink)]
    run.lockstep.compare(items, m, scales, iteration=i, floors=floors)
    per_step = min(run.lockstep.rtol, FREE_RUNNING_ROUNDING * float(np.finfo(P["W1"].dtype).eps))
    return np.array([per_step * scales[k] + floors[k] for k in keys]), per_step * scales[("cost", L)]


def _compare_free(run: TrainingRun, i: int, m: int, L: int, dtype, cost_s, cost_f, S, T, S_next, T_next, step_from_S,
                  rounding: tuple, free_trainer, checkpoints) -> None:
    """Both runs after their step i, within the allowance the dynamics so far give (see the module's docstring).

    S, T: the implementation's and torch's parameters before step i; S_next, T_next after it;
    step_from_S: torch's step from S (lockstep), so step_from_S - T_next is torch's own
    dynamics applied to the gap S - T. `rounding`: what _compare_lockstep returned.
    """
    rounding, cost_rounding = rounding
    eps = float(np.finfo(dtype).eps)
    T_flat = _flat(T)
    before = float(np.max(np.abs(_flat(S) - T_flat)))
    noise = FREE_RUNNING_ROUNDING * eps * float(np.max(np.abs(T_flat)))  # gaps below it are rounding, not dynamics
    after = _largest_each(_flat(step_from_S) - _flat(T_next), step_from_S)
    gain = after / max(before, noise) if noise > 0 or before > 0 else np.ones_like(after)
    run.largest_gain = max(run.largest_gain, float(np.max(gain)))
    allowed_before = np.zeros_like(rounding) if run.allowed is None else run.allowed
    run.allowed = gain * float(np.max(allowed_before)) + rounding
    tolerance = FREE_RUNNING_HEADROOM * run.allowed

    sizes = _largest_each(_flat(T_next), T_next)
    largest = float(np.max(sizes))  # all 0 (zero weights that never move): exact zeros stay comparable
    if largest > 0 and float(np.max(tolerance)) > FREE_RUNNING_LIMIT[np.dtype(dtype).name] * largest:
        run.free.comparable_until = i
        return
    # The costs are those before step i, at S and T: their gap is at most the gradient times the parameter gap.
    gradient_l1 = _largest_each(_flat(torch_ref.gradients(free_trainer.model)), T, total=True)
    cost_tolerance = FREE_RUNNING_HEADROOM * (float(np.dot(gradient_l1, allowed_before)) + cost_rounding)
    keys = [(k[0], int(k[1:])) for k in T_next]
    items = [("cost", L, cost_s, cost_f)] + [(q, l, S_next[f"{q}{l}"], T_next[f"{q}{l}"]) for q, l in keys]
    floors = {("cost", L): cost_tolerance, **dict(zip(keys, tolerance.tolist()))}
    scales = {("cost", L): abs(cost_f), **dict(zip(keys, sizes.tolist()))}
    stats = run.free.compare(items, m, scales, iteration=i, rtol=0.0, floors=floors)
    run.latest["gaps"] = gaps = {(q, l): s.max_abs for (q, l, _, _), s in zip(items, stats)}
    run.latest["cost_tolerance"] = cost_tolerance
    if i in checkpoints:
        run.drift.append((i, gaps[("cost", L)], max(v for (q, _), v in gaps.items() if q != "cost"),
                          float(np.max(tolerance))))


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
        row.record(Stats(np.inf, 0.0, 0.0, 0.0), s if s is not None else t)
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


def _largest_each(flat: np.ndarray, params: dict, total: bool = False) -> np.ndarray:
    """max |entry| (or, with total, sum |entry|) of each parameter array of `flat`, laid out like `params`."""
    starts = np.cumsum([0] + [v.size for v in params.values()][:-1])
    return (np.add if total else np.maximum).reduceat(np.abs(flat), starts)


def _judge_lockstep_divergence(lockstep: CheckResult, i: int, scratch: bool, torch: bool, L: int, label: str) -> None:
    if scratch and torch:
        lockstep.notes.append(f"both sides diverged at iteration {i}, from the same parameters: they agree")
        return
    row = lockstep.row("cost", L)
    row.record(Stats(np.inf, 0.0, 0.0, 0.0), i)
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
