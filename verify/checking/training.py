"""Training, checked two ways: lockstep (the verdict on the derivation) and free-running.

Lockstep: at every iteration torch takes one step from the implementation's own parameters
(and optimiser state: momentum's v, Adam's v, s and t), and that step's cost, gradients,
optimiser state and update, and the learning rate in force, must agree tightly. Free-running: torch trains on
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

An iteration is one update: with mini-batches, one per batch (Adam's t counts them), over the
batches the verifier drew for each epoch (see optimization.py). torch's free run uses torch.optim's
own optimiser and LambdaLR schedule; its lockstep steps are torch's optimiser functions loaded
with the implementation's state (torch_ref.steps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

import torch_ref
from torch_ref.optimizers import course_state, make_optimizer, make_schedule

if TYPE_CHECKING:
    import torch
    from torch.optim.lr_scheduler import LRScheduler

    from .loop_driven import LoopDriver

from .. import signals
from ..judging.compare import CheckResult, Stats
from ..judging.tolerance import FREE_RUNNING_LIMIT, largest
from ..optimization import Step
from ..results import Sides
from ..run_inputs import RunInputs
from .checks import kink_note
from .saturation import SATURATION_HINT, saturated_output
from .training_free import _FreeRunning, _largest_each
from .training_lockstep import _Lockstep

__all__ = ["Iteration", "TrainingRun", "saturated_output", "train_and_compare"]  # saturated_output: for the tests


@dataclass
class Iteration:
    """What one training iteration did, handed to whoever listens (the TensorBoard log, the progress line): arrays
    and numbers only, so a listener never reaches into either side's training.

    The implementation's fields are None once it stopped (it diverged); torch's once its own run did.
    """

    index: int
    epoch: int = 0
    batch: int = 0  # the mini-batch of the epoch (0 with the whole batch)
    rows: np.ndarray | None = None  # its examples (None: all, in order)
    masks: list | None = None  # its dropout masks, one per hidden layer (None: no dropout), the same on both sides
    impl_cost: float | None = None
    impl_before: dict | None = None  # its parameters before this step ...
    impl_after: dict | None = None  # ... and after it
    impl_grads: dict | None = None
    impl_AL: np.ndarray | None = None
    torch_cost: float | None = None
    torch_before: dict | None = None  # torch's own (free-running) parameters
    torch_after: dict | None = None
    # free-running, when the runs were compared: torch's own A[L] (nL, batch) and gradients at this step, and the
    # largest gap per (quantity, layer)
    torch_AL: np.ndarray | None = None
    torch_grads: dict | None = None
    gaps: dict | None = None
    cost_tolerance: float | None = None  # free-running: the cost gap allowed at this iteration
    stopped: bool = False  # the implementation raised: training ends here
    # At the end of an epoch: each side's epoch cost (the course's: the batches' summed losses over m), the
    # learning rate each ran it at, and its optimiser state in the course's terms ({"v": {dW1: ...}, "s": ...}).
    epoch_end: bool = False
    impl_epoch_cost: float | None = None
    torch_epoch_cost: float | None = None
    impl_lr: float | None = None  # the rate this step ran at
    torch_lr: float | None = None  # (at an epoch's end) the rate torch's own schedule ran the epoch at
    impl_state: dict | None = None
    torch_state: dict | None = None


@dataclass
class TrainingRun:
    """What training leaves for the report (per-iteration costs only; no parameter history)."""

    lockstep: CheckResult
    free: CheckResult
    costs: Sides[list[float]] = field(default_factory=lambda: Sides([], []))  # per epoch (per iteration, whole batch)
    impl_params: dict | None = None  # the implementation's last finite parameters
    nonfinite: Sides[int | None] = field(default_factory=lambda: Sides(None, None))  # the iteration each diverged at
    drift: list = field(default_factory=list)  # (iteration, cost gap, largest parameter gap, its allowance)
    completed: int = 0
    interrupted: KeyboardInterrupt | None = None  # Ctrl-C or a signal stopped it after `completed` iterations
    impl_state_start: dict | None = None  # the optimiser state the implementation's initialiser began with
    label: str = "scratch"  # the implementation under test, as the notes name it
    allowed: np.ndarray | None = None  # free-running: the allowed gap of each parameter array
    incomparable: str = ""  # why free-running stopped comparing, once it did
    kinks: list = field(default_factory=list)  # lockstep iterations where the sides took opposite sides of a kink
    ties: list = field(default_factory=list)  # lockstep iterations where a max-pool tie passed on reached layers below
    largest_gain: float = 0.0  # the largest one-step magnification of the gap between the runs
    saturated: str = ""  # why training stopped comparing (the output reached exactly 0 or 1), once it did
    log0: set = field(default_factory=set)  # iterations whose course cost was log(0), its step finite: cost uncompared


def train_and_compare(
    inputs: RunInputs,
    model_lockstep: torch_ref.TorchNet,
    model_free: torch_ref.TorchNet,
    on_iteration: Callable[[Iteration], None] | None = None,
    driver: LoopDriver | None = None,
) -> TrainingRun:
    """Both sides train from inputs.params, torch's lockstep steps on `model_lockstep` and its own run on
    `model_free`; lockstep compares each step from shared parameters, free-running each side's own run. With a
    driver, the course loop it runs takes the implementation's steps while its calls are training's
    (loop_driven.py); training takes the rest itself."""
    impl, X, plan, rtol = inputs.impl, inputs.X, inputs.plan, inputs.rtol
    untrained = (
        "no iterations" if plan.steps_total == 0 else None
    )  # (--iterations 0): compared nothing, agreed on nothing
    run = TrainingRun(
        CheckResult("lockstep", "training", rtol, skipped=untrained),
        CheckResult("free-running", "training", 0.0, skipped=untrained),
        label=impl.label,
        impl_params=inputs.params,
    )
    training = _Training(run, inputs, model_lockstep, model_free)

    def take(step: Step, pieces: dict | None = None) -> bool:
        return training.iterate(step, on_iteration, pieces)

    steps = iter(plan.steps())
    try:
        going, begun, pieces = driver(training, steps, take) if driver is not None else (True, None, {})
        if going and begun is not None:  # the step the loop left when it detached
            going = take(begun, pieces)
        while going and (step := next(steps, None)) is not None:
            going = take(step)
    except KeyboardInterrupt as stop:  # Ctrl-C or a signal: what trained so far is judged and reported
        signals.reporting()
        run.interrupted = stop
    _judge_divergence(run, impl.L)
    if run.kinks:
        run.lockstep.notes.append(
            kink_note(f"at {len(run.kinks)} iteration(s) (the first: {run.kinks[0]})", None, impl.activations)
        )
    if run.ties:
        run.lockstep.notes.append(
            f"at {len(run.ties)} iteration(s) (the first: {run.ties[0]}), a max-pool window's maximum was tied and its "
            "tied entries passed on: the course's mask (x == max(x)) sends the gradient to every tied maximum, torch "
            "to one of them; the gradients of the layers below were not compared there"
        )
    saturated_free = _note_saturation(run) if run.saturated else False
    if run.free.comparable_until is not None and not saturated_free:
        reason = run.incomparable or (
            f"the gap two correct runs may have (each step's rounding, magnified up to {run.largest_gain:.3g} times "
            f"in one step by training) passes {FREE_RUNNING_LIMIT[X.dtype.name]:g} of the parameters' size"
        )
        run.free.notes.append(
            f"from iteration {run.free.comparable_until} on the runs are not comparable: {reason} "
            "(lockstep still checks every step)"
        )
    return run


class _Training(_Lockstep, _FreeRunning):
    """One step at a time: the implementation's step checked in lockstep (training_lockstep.py), then torch's
    own step (free-running, training_free.py)."""

    def __init__(self, run: TrainingRun, inputs: RunInputs, model_lockstep, model_free):
        impl, X, Y, plan, params = inputs.impl, inputs.X, inputs.Y, inputs.plan, inputs.params
        self.run, self.impl, self.X, self.Y, self.plan = run, impl, X, Y, plan
        self.m, self.L = X.shape[1], impl.L
        self.X_largest = largest(X)
        self.model_lockstep = model_lockstep
        self.lockstep_trainer = torch_ref.Trainer(
            model_lockstep,
            X,
            Y,
            impl.loss,
            plan.learning_rate,
            record=True,
            lambd=impl.lambd,
            keep_probs=impl.keep_probs,
        )
        self.free_optimizer: torch.optim.Optimizer | None = None
        self.schedule: LRScheduler | None = None
        if not plan.plain:  # torch.optim's own optimiser and schedule, as a user would train
            self.free_optimizer = make_optimizer(model_free, plan.optimizer, plan.learning_rate, **plan.settings())
            self.schedule = make_schedule(self.free_optimizer, plan.decay, plan.decay_rate, plan.decay_interval)
        self.free_trainer = torch_ref.Trainer(
            model_free,
            X,
            Y,
            impl.loss,
            plan.learning_rate,
            optimizer=self.free_optimizer,
            lambd=impl.lambd,
            keep_probs=impl.keep_probs,
            data_of=self.lockstep_trainer,  # one copy of X's rows for both
        )
        self.impl_params, self.torch_params = params, params  # each side's parameters before the next step
        self.torch_sizes = _largest_each(params)  # max |entry| of each of torch_params
        self.impl_sizes = (params, self.torch_sizes)  # max |entry| of each of the parameters named first, once read
        self.impl_state: dict | None = None  # the implementation's optimiser state before the next step
        self.impl_lr = plan.learning_rate  # the rate the implementation's decay set for this epoch
        self.sums = Sides(0.0, 0.0)  # this epoch's summed batch losses, per side
        # what one correct step may round differently (per parameter array, and the cost), from the last lockstep
        # comparison
        self.rounding: tuple[np.ndarray, float] | None = None

    def iterate(self, step: Step, on_iteration: Callable[[Iteration], None] | None, pieces: dict | None) -> bool:
        """One iteration, told to `on_iteration`, the implementation's pieces of it already computed in `pieces`;
        False once training stops."""
        run = self.run
        signals.check()  # an interrupt Python swallowed (see signals.check) stops training here
        checkpoint = _is_checkpoint(step.index) or step.index == self.plan.steps_total - 1
        record = self.step(step, checkpoint, pieces)
        if record.stopped:
            return False
        run.completed = step.index + 1
        if on_iteration is not None:  # its logs whole: an interrupt waits for them, then stops the run
            with signals.deferred(raise_after=True):
                on_iteration(record)
        return run.nonfinite.impl is None or run.nonfinite.torch is None

    def step(self, step: Step, checkpoint: bool, pieces: dict | None = None) -> Iteration:
        record = Iteration(
            step.index,
            epoch=step.epoch,
            batch=step.batch,
            rows=step.rows,
            masks=self.plan.masks(step.index, self.m if step.rows is None else len(step.rows)),
        )
        run = self.run
        torch_from_impl = None  # torch's step from the implementation's parameters (lockstep)
        if run.nonfinite.impl is None:
            torch_from_impl = self._impl_step(record, step, pieces)
            if torch_from_impl is None:  # the implementation raised, or its output saturated: training stops here
                record.stopped = True
                return record
        if run.nonfinite.torch is None:
            self._torch_step(record, step, torch_from_impl, checkpoint)
        if step.last_in_epoch:
            self._end_epoch(record, step)
        return record

    def _end_epoch(self, record: Iteration, step: Step) -> None:
        """Each side's epoch cost as the course keeps it, its rate, its optimiser state; torch's schedule steps."""
        run, plan = self.run, self.plan
        one_batch = plan.batches_per_epoch == 1
        record.epoch_end = True
        if record.impl_cost is not None:
            record.impl_epoch_cost = record.impl_cost if one_batch else self.sums.impl / self.m
            record.impl_state = self.impl_state
            run.costs.impl.append(record.impl_epoch_cost)
        if record.torch_cost is not None:
            record.torch_epoch_cost = record.torch_cost if one_batch else self.sums.torch / self.m
            run.costs.torch.append(record.torch_epoch_cost)
            record.torch_lr = self.free_trainer.learning_rate  # plain gradient descent: one rate
            if self.free_optimizer is not None:  # the rate torch's schedule set for this epoch, and torch's state
                record.torch_state = course_state(
                    self.free_trainer.model, self.free_optimizer, plan.optimizer, plan.beta
                )
                record.torch_lr = record.torch_state["learning_rate"]
                assert self.schedule is not None, "made with the optimiser"
                self.schedule.step()
        self.sums = Sides(0.0, 0.0)


def _note_saturation(run: TrainingRun) -> bool:
    """Lockstep and free-running stop where the output saturated: the verdict rests on the iterations before.
    Returns whether free-running stopped there (rather than earlier, for its own reason)."""
    k = run.lockstep.comparable_until
    assert k is not None, "a saturated run stops lockstep where its output saturated"
    before = f"iterations 0 to {k - 1}" if k > 1 else "iteration 0" if k == 1 else "no iteration"
    run.lockstep.notes.append(f"{run.saturated}; the verdict rests on {before}; {SATURATION_HINT}")
    if run.free.comparable_until is not None and run.free.comparable_until <= k:
        return False
    run.free.comparable_until = k
    run.free.notes.append(run.saturated)
    return True


def _judge_divergence(run: TrainingRun, L: int) -> None:
    """Diverging training is reported, not crashed on: both sides diverging agree, one alone is a mismatch.

    Free-running, the two runs may cross into inf a few steps apart (rounding separates their
    trajectories); if the implementation diverged where torch, from the same parameters, did too
    (lockstep), torch's own run staying finite is no evidence against it.
    """
    s, t = run.nonfinite.impl, run.nonfinite.torch
    if s is None and t is None:
        return
    for side, at in ((run.label, s), ("torch", t)):
        run.free.notes.append(f"{side} diverged at iteration {at}" if at is not None else f"{side} stayed finite")
    lockstep_agreed = s is not None and run.lockstep.ok
    if s is None and t is not None or (s is not None and t is None and not lockstep_agreed):
        row = run.free.row("cost", L)
        row.record(Stats(np.inf, 0.0, 0.0, 0.0), s if s is not None else t)
        row.hint = (
            f"only {run.label if s is not None else 'torch'} went non-finite (at iteration {s if s is not None else t}); "
            + SATURATION_HINT
        )


def _is_checkpoint(i: int) -> bool:
    """Iterations 0, 1, 2, 5, 10, 20, 50, 100, ...: how the free-running gap grew, at a glance."""
    n = i
    while n >= 10 and n % 10 == 0:
        n //= 10
    return i == 0 or n in (1, 2, 5)
