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
from torch_ref import steps as torch_steps
from torch_ref.optimizers import course_state, make_optimizer, make_schedule

if TYPE_CHECKING:
    import torch
    from torch.optim.lr_scheduler import LRScheduler

from . import signals
from .checks import kink_note
from .compare import CheckResult, Stats
from .errors import ImplementationError
from .hints import decay_slips, fitting_slip, hint_l2, matches, optimizer_slips
from .impl import Adapter
from .impl.base import DECAY_FUNCTIONS
from .optimization import Optimization, Step
from .tolerance import (
    FREE_RUNNING_HEADROOM,
    FREE_RUNNING_LIMIT,
    FREE_RUNNING_ROUNDING,
    LR_ROUNDING,
    gradient_entry_scales,
    kink_affects,
    kink_flip,
    largest,
    optimizer_floors,
    optimizer_scales,
    term_scales,
    update_floors,
)

DECAY_EPOCHS = 6  # a decay slip must fit the rates of epochs 0 to 5, not one epoch's
DECAY_PROBE_RATE = 0.3  # ... at a rate of its own, where no two slips coincide (at 1, lr0 * rate = lr0 / rate)
SATURATION_HINT = (
    "once AL rounds to exactly 0 or 1, a course-literal cost Y log(AL) + (1-Y) log(1-AL) or "
    "dAL = -(Y/AL - (1-Y)/(1-AL)) is infinite; computing from Z[L] (log-sigmoid) and dZ[L] = AL - Y is not"
)


@dataclass
class Iteration:
    """What one training iteration did, handed to whoever listens (the TensorBoard log, the progress line).

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
    torch_run: torch_ref.Trainer | None = None  # torch's own run, just stepped: its output() and gradients
    gaps: dict | None = None  # free-running: the largest gap per (quantity, layer), when the runs were compared
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
    impl_costs: list = field(default_factory=list)  # per epoch (per iteration with the whole batch)
    torch_costs: list = field(default_factory=list)
    impl_params: dict | None = None  # the implementation's last finite parameters
    nonfinite: dict = field(
        default_factory=lambda: {"impl": None, "torch": None}
    )  # side -> the iteration it diverged at
    drift: list = field(default_factory=list)  # (iteration, cost gap, largest parameter gap, its allowance)
    completed: int = 0
    interrupted: KeyboardInterrupt | None = None  # Ctrl-C or a signal stopped it after `completed` iterations
    impl_state_start: dict | None = None  # the optimiser state the implementation's initialiser began with
    label: str = "scratch"  # the implementation under test, as the notes name it
    allowed: np.ndarray | None = None  # free-running: the allowed gap of each parameter array
    incomparable: str = ""  # why free-running stopped comparing, once it did
    kinks: list = field(default_factory=list)  # lockstep iterations where the sides took opposite sides of a kink
    largest_gain: float = 0.0  # the largest one-step magnification of the gap between the runs
    saturated: str = ""  # why training stopped comparing (the output reached exactly 0 or 1), once it did


def train_and_compare(
    impl: Adapter,
    X,
    Y,
    params,
    model_lockstep,
    model_free,
    plan: Optimization,
    rtol: float,
    on_iteration: Callable[[Iteration], None] | None = None,
) -> TrainingRun:
    """Both sides train; lockstep compares each step from shared parameters, free-running each side's own run."""
    untrained = (
        "no iterations" if plan.steps_total == 0 else None
    )  # (--iterations 0): compared nothing, agreed on nothing
    run = TrainingRun(
        CheckResult("lockstep", "training", rtol, skipped=untrained),
        CheckResult("free-running", "training", 0.0, skipped=untrained),
        label=impl.label,
        impl_params=params,
    )
    training = _Training(run, impl, X, Y, params, model_lockstep, model_free, plan)
    try:
        for step in plan.steps():
            signals.check()  # an interrupt Python swallowed (see signals.check) stops training here
            record = training.step(step, checkpoint=_is_checkpoint(step.index) or step.index == plan.steps_total - 1)
            if record.stopped:
                break
            run.completed = step.index + 1
            if on_iteration is not None:  # its logs whole: an interrupt waits for them, then stops the run
                with signals.deferred(raise_after=True):
                    on_iteration(record)
            if run.nonfinite["impl"] is not None and run.nonfinite["torch"] is not None:
                break
    except KeyboardInterrupt as stop:  # Ctrl-C or a signal: what trained so far is judged and reported
        signals.reporting()
        run.interrupted = stop
    _judge_divergence(run, impl.L)
    if run.kinks:
        run.lockstep.notes.append(
            kink_note(f"at {len(run.kinks)} iteration(s) (the first: {run.kinks[0]})", None, impl.activations)
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


class _Training:
    """One step at a time: the implementation's step checked in lockstep, then torch's own step (free-running)."""

    def __init__(
        self, run: TrainingRun, impl: Adapter, X, Y, params: dict, model_lockstep, model_free, plan: Optimization
    ):
        self.run, self.impl, self.X, self.Y, self.plan = run, impl, X, Y, plan
        self.m, self.L = X.shape[1], impl.L
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
        )
        self.impl_params, self.torch_params = params, params  # each side's parameters before the next step
        self.impl_state: dict | None = None  # the implementation's optimiser state before the next step
        self.impl_lr = plan.learning_rate  # the rate the implementation's decay set for this epoch
        self.sums = {"impl": 0.0, "torch": 0.0}  # this epoch's summed batch losses, per side
        # what one correct step may round differently (per parameter array, and the cost), from the last lockstep
        # comparison
        self.rounding: tuple[np.ndarray, float] | None = None

    def step(self, step: Step, checkpoint: bool) -> Iteration:
        record = Iteration(
            step.index,
            epoch=step.epoch,
            batch=step.batch,
            rows=step.rows,
            masks=self.plan.masks(step.index, self.m if step.rows is None else len(step.rows)),
        )
        run = self.run
        torch_from_impl = None  # torch's step from the implementation's parameters (lockstep)
        if run.nonfinite["impl"] is None:
            torch_from_impl = self._impl_step(record, step)
            if torch_from_impl is None:  # the implementation raised, or its output saturated: training stops here
                record.stopped = True
                return record
        if run.nonfinite["torch"] is None:
            self._torch_step(record, step, torch_from_impl, checkpoint)
        if step.last_in_epoch:
            self._end_epoch(record, step)
        return record

    def _batch(self, step: Step) -> tuple:
        return (self.X, self.Y) if step.rows is None else (self.X[:, step.rows], self.Y[:, step.rows])

    def _impl_step(self, record: Iteration, step: Step) -> dict | None:
        """The implementation's step from its parameters, torch's step from the same, compared (lockstep).

        Returns torch's parameters after its step from the implementation's (None if the implementation raised).
        """
        run, impl, plan, i = self.run, self.impl, self.plan, record.index
        X, Y = self._batch(step)
        before = self.impl_params
        try:
            if self.impl_state is None:
                self.impl_state = run.impl_state_start = impl.optimizer_state(plan.optimizer, before)
            state, lr = self.impl_state, self.impl_lr
            AL, caches = impl.forward(X, before, record.masks)
            if impl.draws_masks and record.masks is not None:  # torch's steps get the masks it drew
                record.masks = impl.masks_of(caches)
            cost = impl.cost(AL, Y, caches)
            grads = impl.backward(AL, Y, caches, before)
            after, state_after = impl.optimizer_update(
                plan.optimizer, before, grads, state, lr, step.t, plan.settings()
            )
            if step.last_in_epoch and plan.decay is not None:
                self.impl_lr = impl.decayed_learning_rate(
                    plan.decay, plan.learning_rate, step.epoch, plan.decay_rate, plan.decay_interval
                )
        except ImplementationError as error:
            run.lockstep.error, run.lockstep.error_iteration = error, i
            run.free.skipped = f"{impl.label} {error.what} during training (see lockstep)"
            return None
        torch_lr = plan.lr_at(step.epoch)
        torch_cost, torch_grads, torch_after, torch_state = self._torch_lockstep(
            before, state, step, torch_lr, record.masks
        )
        self.sums["impl"] += cost * X.shape[1]
        record.impl_cost, record.impl_before, record.impl_after, record.impl_grads, record.impl_AL = (
            cost,
            before,
            after,
            grads,
            AL,
        )
        record.impl_lr = lr
        impl_diverged, torch_diverged = _diverged(cost, after), _diverged(torch_cost, torch_after)
        if impl_diverged and not torch_diverged and impl.loss == "bce" and impl.activations[-1] == "sigmoid":
            reached = saturated_output(self.lockstep_trainer.layers(), AL, self.L)
            if reached is not None:  # the course's own formula is undefined from here: nothing left to compare
                run.lockstep.comparable_until = i
                run.saturated = saturation_reason(i, reached)
                return None
        if torch_diverged or (impl_diverged and plan.plain):
            # No elementwise verdict on overflowing numbers: whether both sides blew up
            # at this step from the same parameters is the verdict.
            run.nonfinite["impl"] = i if impl_diverged else None
            _judge_lockstep_divergence(run.lockstep, i, impl_diverged, torch_diverged, self.L, impl.label)
            self.rounding = None
        else:
            # (with an optimiser, an implementation alone going non-finite is compared too: the row
            # that went non-finite first, a v_corrected divided by 1 - beta^0, names the slip)
            ref = {**self.lockstep_trainer.layers(), "cost": torch_cost}
            scales = term_scales(before, X, Y, ref, impl.activations, torch_lr, impl.lambd, impl.keep_probs)
            if plan.optimizer == "adam":  # Adam divides each entry by its own size: each needs its own scale
                scales.update(
                    gradient_entry_scales(
                        ref,
                        X,
                        Y,
                        impl.activations,
                        scales,
                        torch_ref.activation_derivative,
                        before,
                        impl.lambd,
                        record.masks,
                        impl.keep_probs,
                    )
                )
            scales.update(
                optimizer_scales(
                    plan.optimizer, state, torch_grads, scales, plan.settings(), step.t, torch_lr, torch_state
                )
            )
            kink = kink_flip(impl.layer_values(AL, caches), ref, impl.activations, scales, run.lockstep.rtol)
            if kink is not None:
                run.kinks.append(i)
                if run.free.comparable_until is None:  # the two runs may take either branch from here on
                    run.free.comparable_until = i
                    run.incomparable = f"the two sides took opposite sides of a relu's kink at iteration {i}"
            self.rounding = self._compare_lockstep(
                i,
                cost=cost,
                torch_cost=torch_cost,
                grads=grads,
                torch_grads=torch_grads,
                before=before,
                after=after,
                torch_after=torch_after,
                scales=scales,
                kink=kink,
                m=X.shape[1],
                lr=(lr, torch_lr) if plan.decay is not None else None,
                state=(state_after, torch_state),
                floors=_added(
                    update_floors(before, X.dtype),
                    optimizer_floors(
                        plan.optimizer, state, torch_grads, plan.settings(), step.t, torch_lr, torch_state, X.dtype
                    ),
                ),
            )
            hint_l2(
                run.lockstep,
                {"cost": cost, **grads},
                {"cost": torch_cost, **torch_grads},
                before,
                impl.lambd,
                X.shape[1],
                i,
            )
            self._name_rate_slip(i, step, lr, torch_lr, X.dtype)
            if plan.optimizer != "gd":
                self._name_optimizer_slips(
                    i, state, state_after, torch_grads, torch_state, before, after, step.t, torch_lr
                )
            if impl_diverged:
                run.nonfinite["impl"] = i
                self.rounding = None
                row = run.lockstep.rows.get(("cost", self.L))
                if row is not None and not row.ok and row.iteration == i and not np.isfinite(cost) and not row.hint:
                    row.hint = SATURATION_HINT
        if not impl_diverged:
            self.impl_params = run.impl_params = after
            self.impl_state = state_after
        return torch_after

    def _torch_lockstep(self, before: dict, state: dict, step: Step, lr: float, masks) -> tuple:
        """torch's step from the implementation's parameters and optimiser state: (cost, gradients, parameters
        after, state after in the course's terms)."""
        plan, trainer = self.plan, self.lockstep_trainer
        torch_ref.load_params(self.model_lockstep, before)
        if plan.optimizer == "gd":
            trainer.learning_rate = lr
            cost = trainer.step(step.rows, masks)
            return cost, torch_ref.gradients(self.model_lockstep), torch_ref.to_params(self.model_lockstep), {}
        cost = trainer.backward(step.rows, masks)
        grads = torch_ref.gradients(self.model_lockstep)
        if plan.optimizer == "momentum":
            after, v = torch_steps.momentum_step(before, grads, state["v"], plan.beta, lr)
            return cost, grads, after, {"v": v}
        after, v, s, v_corrected, s_corrected = torch_steps.adam_step(
            before, grads, state["v"], state["s"], step.t, lr, plan.beta1, plan.beta2, plan.epsilon
        )
        return cost, grads, after, {"v": v, "s": s, "v_corrected": v_corrected, "s_corrected": s_corrected}

    def _torch_step(self, record: Iteration, step: Step, torch_from_impl: dict | None, checkpoint: bool) -> None:
        """torch's own step (free-running), and both runs compared after it while they are comparable."""
        run, i = self.run, record.index
        before = self.torch_params
        cost = self.free_trainer.step(step.rows, record.masks)
        self.sums["torch"] += cost * (self.m if step.rows is None else len(step.rows))
        after = torch_ref.to_params(self.free_trainer.model)
        record.torch_cost, record.torch_before, record.torch_after, record.torch_run = (
            cost,
            before,
            after,
            self.free_trainer,
        )
        if _diverged(cost, after):
            run.nonfinite["torch"] = i
        elif (
            run.nonfinite["impl"] is None
            and run.free.comparable_until is None
            and self.rounding is not None
            and record.impl_after is not None
            and torch_from_impl is not None  # (always, once the implementation stepped)
        ):
            self._compare_free(record, torch_from_impl, checkpoint)
        self.torch_params = after

    def _end_epoch(self, record: Iteration, step: Step) -> None:
        """Each side's epoch cost as the course keeps it, its rate, its optimiser state; torch's schedule steps."""
        run, plan = self.run, self.plan
        one_batch = plan.batches_per_epoch == 1
        record.epoch_end = True
        if record.impl_cost is not None:
            record.impl_epoch_cost = record.impl_cost if one_batch else self.sums["impl"] / self.m
            record.impl_state = self.impl_state
            run.impl_costs.append(record.impl_epoch_cost)
        if record.torch_cost is not None:
            record.torch_epoch_cost = record.torch_cost if one_batch else self.sums["torch"] / self.m
            run.torch_costs.append(record.torch_epoch_cost)
            record.torch_lr = self.free_trainer.learning_rate  # plain gradient descent: one rate
            if self.free_optimizer is not None:  # the rate torch's schedule set for this epoch, and torch's state
                record.torch_state = course_state(
                    self.free_trainer.model, self.free_optimizer, plan.optimizer, plan.beta
                )
                record.torch_lr = record.torch_state["learning_rate"]
                assert self.schedule is not None, "made with the optimiser"
                self.schedule.step()
        self.sums = {"impl": 0.0, "torch": 0.0}

    def _name_rate_slip(self, i: int, step: Step, lr: float, torch_lr: float, dtype) -> None:
        """A hint on the rate's row, if it broke at this step: the course's rate of the next or the last epoch, or
        rounded to float32."""
        row = self.run.lockstep.rows.get(("lr", self.L))
        if row is None or row.ok or row.iteration != i:
            return
        if dtype == np.float64 and float(np.float32(torch_lr)) == float(lr) != torch_lr:
            row.hint = "it is the course's rate rounded to float32 (an np.float32 or float32 array) in a float64 run"
        if self.plan.decay is not None and (hint := self._decay_slip(self.plan.decay)):
            row.hint = hint
            return
        for shift, words in ((1, "ahead of"), (-1, "behind")):
            if step.epoch + shift >= 0 and np.isclose(lr, self.plan.lr_at(step.epoch + shift), rtol=1e-9, atol=0):
                row.hint = (
                    f"it is the course's rate for epoch {step.epoch + shift}: the decay runs one epoch {words} the "
                    "course's, which sets lr = decay(lr0, e, rate) after epoch e (so epochs 0 and 1 both run at lr0)"
                )

    def _decay_slip(self, decay: str) -> str:
        """The decay function's slip (the function-by-function check's hypotheses, hints.decay_slips), when one fits
        the rates it returns for epochs 0 to 5 at a probe rate of its own: one epoch's rate alone fits several (0 is
        lr0 * rate * 0 and lr0 / rate * 0), and so does a rate of 1 (lr0 * 1 * e is lr0 / 1 * e)."""
        plan, epochs = self.plan, range(DECAY_EPOCHS)
        try:
            rates = [
                self.impl.decayed_learning_rate(decay, plan.learning_rate, e, DECAY_PROBE_RATE, plan.decay_interval)
                for e in epochs
            ]
        except ImplementationError:  # the table names what it raised
            return ""
        slips = decay_slips(DECAY_FUNCTIONS[decay], plan.learning_rate, DECAY_PROBE_RATE, plan.decay_interval)
        return next(
            (hint for hint, slip in slips.items() if matches(np.array(rates), np.array([slip(e) for e in epochs]))), ""
        )

    def _name_optimizer_slips(
        self,
        i: int,
        state: dict,
        state_after: dict,
        grads: dict,
        torch_state: dict,
        before: dict,
        after: dict,
        t: int,
        lr: float,
    ) -> None:
        """A hint on each optimiser row that broke at this step, where its value fits a classic slip (the
        same hypotheses as the function-by-function check's, see hints.optimizer_slips)."""
        settings = self.plan.settings()
        for (quantity, layer), row in self.run.lockstep.rows.items():
            if row.ok or row.iteration != i or not (quantity.startswith(("v_", "s_")) or quantity in ("W", "b")):
                continue
            if quantity in ("W", "b"):
                output, key, value = (
                    "step",
                    f"d{quantity}{layer}",
                    after[f"{quantity}{layer}"] - before[f"{quantity}{layer}"],
                )
            else:
                output, gradient = quantity.rsplit("_", 1)
                key, value = f"{gradient}{layer}", state_after[output][f"{gradient}{layer}"]
            slips = optimizer_slips(
                output,
                state["v"],
                state.get("s", {}),
                grads,
                t,
                settings,
                lr,
                corrected=torch_state if "v_corrected" in torch_state else None,
                moments=state_after,
            )
            row.hint = fitting_slip(value, key, slips) or row.hint

    def _compare_lockstep(
        self,
        i: int,
        *,
        cost,
        torch_cost,
        grads,
        torch_grads,
        before,
        after,
        torch_after,
        scales,
        kink,
        m: int,
        lr: tuple | None,
        state: tuple,
        floors: dict,
    ) -> tuple:
        """This step's cost, gradients, optimiser state and update, both sides from the same parameters `before`.

        The update is compared as the step each side took, after - before: a slip in the step (a
        flipped sign, a missing lr) reads as what it is. Returns the rounding one correct step
        may make, per parameter array, and the cost's tolerance (for free-running). `floors` are the
        absolute rounding terms added to rtol x scale (the update's, the moments' coefficients').
        """
        L = self.L
        keys = [(q, l) for l in range(1, L + 1) for q in ("W", "b")]
        impl_state, torch_state = state
        items = [("lr", L, lr[0], lr[1])] if lr is not None else []
        # the rate is one division from lr0: it is held to the rounding of a few operations in the run's dtype
        eps = float(np.finfo(before["W1"].dtype).eps)
        rtol = self.run.lockstep.rtol  # 0: exact agreement, whatever the scale
        scales[("lr", L)] = self.plan.learning_rate * (min(1.0, LR_ROUNDING * eps / rtol) if rtol > 0 else 1.0)
        items += (
            [("cost", L, cost, torch_cost)]
            + [(q, l, grads[f"{q}{l}"], torch_grads[f"{q}{l}"]) for l in range(L, 0, -1) for q in ("dW", "db")]
            + [
                (f"{name}_d{q}", l, impl_state[name][f"d{q}{l}"], torch_state[name][f"d{q}{l}"])
                for name in ("v", "s", "v_corrected", "s_corrected")
                if name in impl_state
                for q, l in keys
            ]
            + [
                (q, l, after[f"{q}{l}"] - before[f"{q}{l}"], torch_after[f"{q}{l}"] - before[f"{q}{l}"])
                for q, l in keys
            ]
        )
        if kink is not None:
            items = [item for item in items if not kink_affects(item[0], item[1], kink)]
        stats = self.run.lockstep.compare(items, m, scales, iteration=i, floors=floors)
        per_step = min(self.run.lockstep.rtol, FREE_RUNNING_ROUNDING * float(np.finfo(before["W1"].dtype).eps))
        if self.plan.optimizer == "adam":
            # Adam divides each entry by its own size: an entry whose gradient cancels to near 0 has a
            # bound (scales) far above what rounding does to it. The step's rounding is what it measured:
            # the gap between the two steps from the same state, at least the step's own rounding.
            gaps = {(q, l): stat.largest_gap for (q, l, _, _), stat in zip(items, stats) if q in ("W", "b")}
            steps = [largest(torch_after[f"{q}{l}"] - before[f"{q}{l}"]) for q, l in keys]
            rounding = [max(gaps.get(k, np.inf), per_step * step) + floors[k] for k, step in zip(keys, steps)]
            rounding = [
                r if np.isfinite(r) else per_step * largest(scales[k]) + floors[k] for r, k in zip(rounding, keys)
            ]
        else:
            rounding = [per_step * scales[k] + floors[k] for k in keys]
        return np.array(rounding), per_step * scales[("cost", L)]

    def _compare_free(self, record: Iteration, torch_from_impl: dict, checkpoint: bool) -> None:
        """Both runs after their step, within the allowance the dynamics so far give (see the module's docstring).

        torch_from_impl - record.torch_after is torch's own dynamics applied to the gap between the
        runs' parameters before the step.
        """
        run, i, L = self.run, record.index, self.L
        assert self.rounding is not None, "_torch_step compares once a lockstep comparison has measured it"
        rounding, cost_rounding = self.rounding
        impl_before, torch_before = record.impl_before, record.torch_before
        impl_after, torch_after = record.impl_after, record.torch_after
        assert impl_before is not None and impl_after is not None and record.impl_cost is not None, (
            "the implementation stepped (lockstep) before torch's own step"
        )
        assert torch_before is not None and torch_after is not None and record.torch_cost is not None, (
            "torch's own step, just taken"
        )
        eps = float(np.finfo(self.X.dtype).eps)
        torch_flat = _flat(torch_before)
        before = float(np.max(np.abs(_flat(impl_before) - torch_flat)))
        noise = (
            FREE_RUNNING_ROUNDING * eps * float(np.max(np.abs(torch_flat)))
        )  # gaps below it are rounding, not dynamics
        after = _largest_each(_flat(torch_from_impl) - _flat(torch_after), torch_from_impl)
        gain = after / max(before, noise) if noise > 0 or before > 0 else np.ones_like(after)
        run.largest_gain = max(run.largest_gain, float(np.max(gain)))
        allowed_before = np.zeros_like(rounding) if run.allowed is None else run.allowed
        run.allowed = gain * float(np.max(allowed_before)) + rounding
        tolerance = FREE_RUNNING_HEADROOM * run.allowed

        sizes = _largest_each(_flat(torch_after), torch_after)
        largest = float(np.max(sizes))  # all 0 (zero weights that never move): exact zeros stay comparable
        if largest > 0 and float(np.max(tolerance)) > FREE_RUNNING_LIMIT[self.X.dtype.name] * largest:
            run.free.comparable_until = i
            return
        # The costs are those before step i, at the two runs' parameters: their gap is at most the gradient times the parameter gap.
        gradient_l1 = _largest_each(_flat(torch_ref.gradients(self.free_trainer.model)), torch_before, total=True)
        cost_tolerance = FREE_RUNNING_HEADROOM * (float(np.dot(gradient_l1, allowed_before)) + cost_rounding)
        keys = [(k[0], int(k[1:])) for k in torch_after]
        items = [("cost", L, record.impl_cost, record.torch_cost)] + [
            (q, l, impl_after[f"{q}{l}"], torch_after[f"{q}{l}"]) for q, l in keys
        ]
        floors = {("cost", L): cost_tolerance, **dict(zip(keys, tolerance.tolist()))}
        scales = {("cost", L): abs(record.torch_cost), **dict(zip(keys, sizes.tolist()))}
        stats = run.free.compare(items, self.m, scales, iteration=i, rtol=0.0, floors=floors)
        record.gaps = {(q, l): s.max_abs for (q, l, _, _), s in zip(items, stats)}
        record.cost_tolerance = cost_tolerance
        if checkpoint:
            run.drift.append(
                (
                    i,
                    record.gaps[("cost", L)],
                    max(v for (q, _), v in record.gaps.items() if q != "cost"),
                    float(np.max(tolerance)),
                )
            )


def saturated_output(ref: dict, AL, L: int) -> float | None:
    """The value, 1.0 or 0.0, a sigmoid output reached exactly in the run's dtype, where the course's cost
    Y log(AL) + (1-Y) log(1-AL) takes log(0); None while every entry is strictly between 0 and 1.

    The reference's output counts as reached when torch's A[L], or the course's sigmoid 1 / (1 + e^-Z) of
    torch's Z[L] computed in the same dtype, is exactly 0 or 1; so does the implementation's AL where it is
    within 4 eps of torch's (the two sigmoids may round the last bit apart).
    """
    A, Z = np.asarray(ref[f"A{L}"]), np.asarray(ref[f"Z{L}"])
    with np.errstate(over="ignore"):  # e^-Z overflowing to inf is the course's sigmoid reaching 0
        course = 1 / (1 + np.exp(-Z))
    candidates = [A, course]
    AL = np.asarray(AL)
    if AL.shape == A.shape and A.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            close = np.abs(AL - A) <= 4 * np.finfo(A.dtype).eps
        candidates.append(np.where(close, AL, 0.5))
    return next((value for value in (1.0, 0.0) if any(np.any(c == value) for c in candidates)), None)


def saturation_reason(i: int, reached: float) -> str:
    """The line every check that stops at a saturated output says."""
    return f"not comparable from iteration {i} (A[L] reached exactly {reached:.1f}: the course's cost is log(0) there)"


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
    s, t = run.nonfinite["impl"], run.nonfinite["torch"]
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


def _added(*floors: dict) -> dict:
    """The sum of rounding terms keyed alike ({(quantity, layer): floor})."""
    total: dict = {}
    for each in floors:
        for key, value in each.items():
            total[key] = total.get(key, 0.0) + value
    return total


def _judge_lockstep_divergence(lockstep: CheckResult, i: int, impl: bool, torch: bool, L: int, label: str) -> None:
    if impl and torch:
        lockstep.notes.append(f"both sides diverged at iteration {i}, from the same parameters: they agree")
        return
    row = lockstep.row("cost", L)
    row.record(Stats(np.inf, 0.0, 0.0, 0.0), i)
    if impl:
        row.hint = (
            f"{label} went non-finite at iteration {i} while torch, from the same parameters, stayed finite; "
            + SATURATION_HINT
        )
    else:
        row.hint = f"torch went non-finite at iteration {i} while {label}, from the same parameters, stayed finite"


def _is_checkpoint(i: int) -> bool:
    """Iterations 0, 1, 2, 5, 10, 20, 50, 100, ...: how the free-running gap grew, at a glance."""
    n = i
    while n >= 10 and n % 10 == 0:
        n //= 10
    return i == 0 or n in (1, 2, 5)
