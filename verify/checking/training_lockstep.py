"""Lockstep: at every iteration the implementation takes its step, torch takes one from the same parameters and
optimiser state (torch_ref.steps), and that step's cost, gradients, optimiser state, update and learning rate
must agree tightly; a step that overflowed, or whose sigmoid output saturated, is judged as such instead."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

import torch_ref
from torch_ref import steps as torch_steps

from ..errors import ImplementationError
from ..impl import Adapter
from ..judging.compare import CheckResult, Stats
from ..judging.hints import L2, hint_l2
from ..judging.kinks import kink_affects, kink_flip
from ..judging.ties import pool_ties
from ..judging.tolerance import (
    FREE_RUNNING_ROUNDING,
    LR_ROUNDING,
    cost_rounding,
    gradient_entry_scales,
    largest,
    optimizer_floors,
    optimizer_scales,
    term_scales,
    update_floors,
)
from ..network import Point
from ..optimization import Optimization, OptimizerStep, Step
from .saturation import SATURATION_HINT, saturated_output, saturation_reason
from .training_free import _diverged, _largest_each
from .training_slips import name_optimizer_slips, name_rate_slip

PIECES = ("forward", "cost", "backward", "update")  # an implementation's step, in the course's order

if TYPE_CHECKING:
    from ..results import Sides
    from .training import Iteration, TrainingRun


@dataclass
class _ImplStep:
    """The implementation's step on one batch: from `before` (and optimiser `state`, at rate `lr`) to `after`."""

    X: np.ndarray
    Y: np.ndarray
    before: dict
    state: dict
    lr: float
    AL: np.ndarray
    caches: object
    cost: float
    grads: dict
    after: dict
    state_after: dict


@dataclass
class _TorchStep:
    """torch's step from the implementation's parameters and state: its cost, gradients, parameters and state
    after (in the course's terms), at the rate its schedule sets."""

    cost: float
    grads: dict
    after: dict
    state: dict
    lr: float


class _Lockstep:
    """The implementation's step and torch's from the same point, compared; the state they read and update is set
    up by training._Training."""

    run: TrainingRun
    impl: Adapter
    plan: Optimization
    X: np.ndarray
    X_largest: float  # max |X|: each whole-batch step's scales read it
    Y: np.ndarray
    L: int
    model_lockstep: torch_ref.TorchNet
    lockstep_trainer: torch_ref.Trainer
    impl_params: dict
    impl_sizes: tuple[dict, np.ndarray]  # parameters, and the max |entry| of each (update_floors reads them)
    impl_state: dict | None
    impl_lr: float
    sums: Sides[float]
    rounding: tuple[np.ndarray, float] | None

    def _batch(self, step: Step) -> tuple:
        if step.rows is None:
            return self.X, self.Y
        # np.take gathers the batch's columns as X[:, rows] does, about 2.5 times as fast (784 x 64 of 2048)
        return np.take(self.X, step.rows, axis=1), np.take(self.Y, step.rows, axis=1)

    def _impl_step(self, record: Iteration, step: Step, pieces: dict | None = None) -> dict | None:
        """The implementation's step from its parameters, torch's step from the same, compared (lockstep).

        Returns torch's parameters after its step from the implementation's (None if the implementation raised,
        or its output saturated).
        """
        run, impl, plan, i = self.run, self.impl, self.plan, record.index
        mine = self._take_impl_step(record, step, pieces)
        if mine is None:
            return None
        torch_lr = plan.lr_at(step.epoch)
        torch_cost, torch_grads, torch_after, torch_state = self._torch_lockstep(
            mine.before, mine.state, step, torch_lr, record.masks
        )
        theirs = _TorchStep(torch_cost, torch_grads, torch_after, torch_state, torch_lr)
        self.sums = replace(self.sums, impl=self.sums.impl + mine.cost * mine.X.shape[1])
        record.impl_cost, record.impl_before, record.impl_after = mine.cost, mine.before, mine.after
        record.impl_grads, record.impl_AL, record.impl_lr = mine.grads, mine.AL, mine.lr
        impl_sizes = _largest_each(mine.after)  # read for divergence now, as the next step's floors then
        impl_diverged, torch_diverged = (
            _diverged(mine.cost, mine.after, impl_sizes),
            _diverged(theirs.cost, theirs.after),
        )
        if impl_diverged and not torch_diverged and impl.loss == "bce" and impl.activations[-1] == "sigmoid":
            reached = saturated_output(self.lockstep_trainer.layers(), mine.AL, self.L)
            if reached is not None and _finite_step(mine):  # its cost alone is log(0): the rest is compared
                self._note_log0(i, reached)
                impl_diverged = False
            elif reached is not None:  # the course's own formula is undefined from here: nothing left to compare
                run.lockstep.comparable_until = i
                run.saturated = saturation_reason(i, reached)
                return None
        if torch_diverged or (impl_diverged and plan.plain):
            # No elementwise verdict on overflowing numbers: whether both sides blew up
            # at this step from the same parameters is the verdict.
            run.nonfinite = replace(run.nonfinite, impl=i if impl_diverged else None)
            _judge_lockstep_divergence(run.lockstep, i, impl_diverged, torch_diverged, self.L, impl.label)
            self.rounding = None
        else:
            # (with an optimiser, an implementation alone going non-finite is compared too: the row
            # that went non-finite first, a v_corrected divided by 1 - beta^0, names the slip)
            self._check_step(record, step, mine, theirs)
            if impl_diverged:
                self._note_impl_diverged(i, mine.cost)
        if not impl_diverged:
            self.impl_params = run.impl_params = mine.after
            self.impl_sizes = (mine.after, impl_sizes)
            self.impl_state = mine.state_after
        return theirs.after

    def _take_impl_step(self, record: Iteration, step: Step, pieces: dict | None = None) -> _ImplStep | None:
        """The implementation's forward pass, cost, backward pass and update on this step's batch (those not in
        `pieces` already: see impl_pieces), its decay setting the next epoch's rate; None, with the error recorded,
        where it raised."""
        run, impl, plan = self.run, self.impl, self.plan
        X, Y = self._batch(step)
        before, lr = self.impl_params, self.impl_lr
        pieces = {} if pieces is None else pieces
        try:
            self.impl_pieces(step, record.masks, pieces, "update")
            record.masks = pieces["masks"]  # (torch's steps get the masks an implementation drew)
            if step.last_in_epoch and plan.decay is not None:
                self.impl_lr = impl.decayed_learning_rate(
                    plan.decay, plan.learning_rate, step.epoch, plan.decay_rate, plan.decay_interval
                )
        except ImplementationError as error:
            run.lockstep.error, run.lockstep.error_iteration = error, record.index
            run.free.skipped = f"{impl.label} {error.what} during training (see lockstep)"
            return None
        assert self.impl_state is not None, "impl_pieces begins the state"
        (AL, caches), (after, state_after) = pieces["forward"], pieces["update"]
        return _ImplStep(
            X, Y, before, self.impl_state, lr, AL, caches, pieces["cost"], pieces["backward"], after, state_after
        )

    def impl_pieces(self, step: Step, masks, pieces: dict, upto: str) -> None:
        """The implementation's step on this step's batch, piece by piece in the course's order (PIECES: forward,
        cost, backward, update), each computed once into `pieces` (with the dropout masks its forward pass used),
        those up to `upto`; ImplementationError where one raised. A loop that takes its steps from these
        (loop_driven.py) asks for each piece as it calls for it."""
        impl, plan = self.impl, self.plan
        X, Y = self._batch(step)
        before = self.impl_params
        if self.impl_state is None:
            self.impl_state = self.run.impl_state_start = impl.optimizer_state(plan.optimizer, before)
        for piece in PIECES[: PIECES.index(upto) + 1]:
            if piece in pieces:
                continue
            if piece == "forward":
                pieces["forward"] = impl.forward(X, before, masks)
                drew = impl.draws_masks and masks is not None
                pieces["masks"] = impl.masks_of(pieces["forward"][1]) if drew else masks
            elif piece in ("cost", "backward"):
                AL, caches = pieces["forward"]
                done = impl.cost(AL, Y, caches) if piece == "cost" else impl.backward(AL, Y, caches, before)
                pieces[piece] = done
            else:
                optimizer_step = OptimizerStep(plan.optimizer, plan.settings(), step.t, self.impl_lr, self.impl_state)
                pieces["update"] = impl.optimizer_update(optimizer_step, before, pieces["backward"])

    def _check_step(self, record: Iteration, step: Step, mine: _ImplStep, theirs: _TorchStep) -> None:
        """Both steps compared (unless a relu's kink lies between them), then each broken row's slip named."""
        run, impl, plan, i = self.run, self.impl, self.plan, record.index
        X, before = mine.X, mine.before
        ref = {**self.lockstep_trainer.layers(), "cost": theirs.cost}  # torch's layers (Z, A) and cost
        scales = self._lockstep_scales(record, step, mine, theirs, ref)
        uncompared = self._uncompared(i, mine, ref, scales)
        floors = _added(
            update_floors(before, X.dtype, self.impl_sizes[1] if self.impl_sizes[0] is before else None),
            optimizer_floors(_optimizer_step(plan, step, mine, theirs), theirs.grads, X.dtype),
        )
        L = impl.L  # the course's cost, log(1 - AL), rounds as its output saturates
        rounds = cost_rounding(theirs.cost, ref[f"A{L}"], mine.Y, impl.loss, X.dtype) if run.lockstep.rtol else 0.0
        floors[("cost", L)] = rounds
        self.rounding = self._compare_lockstep(i, mine, theirs, scales, uncompared, floors)
        self._name_slips(i, step, mine, theirs)

    def _uncompared(self, i: int, mine: _ImplStep, ref: dict, scales: dict) -> Callable[[str, int], bool]:
        """The quantities (quantity, layer) this step leaves uncompared, where either side is right: those a relu's
        kink between the sides reaches, and those a max-pool tie passed on reaches (the course's mask sends the
        gradient to every tied entry, torch to one). Either lets the two runs part from here on; each is noted."""
        run, impl = self.run, self.impl
        kink = kink_flip(impl.layer_values(mine.AL, mine.caches), ref, impl.activations, scales, run.lockstep.rtol)
        tied = [tie for tie in pool_ties(impl.network, mine.X, ref) if tie.passed_on]
        run.kinks += [i] if kink is not None else []
        run.ties += [i] if tied else []
        if (kink is not None or tied) and run.free.comparable_until is None:
            run.free.comparable_until = i
            what = "took opposite sides of a relu's kink" if kink is not None else "broke a max-pool tie differently"
            run.incomparable = f"the two sides {what} at iteration {i}"
        return lambda q, l: (kink is not None and kink_affects(q, l, kink)) or any(tie.affects(q, l) for tie in tied)

    def _name_slips(self, i: int, step: Step, mine: _ImplStep, theirs: _TorchStep) -> None:
        """The slip behind each row that broke at this step, where one fits: L2's, the rate's, the optimiser's."""
        run, impl, plan = self.run, self.impl, self.plan
        m = mine.X.shape[1]
        if not impl.network.dense:  # the slips named here read a dense network's W and b
            return
        values, ref = {"cost": mine.cost, **mine.grads}, {"cost": theirs.cost, **theirs.grads}
        hint_l2(run.lockstep, values, ref, L2(mine.before, impl.lambd, m), i)
        name_rate_slip(run.lockstep, impl, plan, step, mine, theirs)
        if plan.optimizer != "gd":
            name_optimizer_slips(run.lockstep, plan, step, mine, theirs)

    def _lockstep_scales(self, record: Iteration, step: Step, mine: _ImplStep, theirs: _TorchStep, ref: dict) -> dict:
        """The scale of each quantity of this step: the size of the terms it is computed from (per entry for Adam's
        step, which divides each entry by its own size), and the optimiser's state's."""
        impl, plan = self.impl, self.plan
        X, Y, before = mine.X, mine.Y, mine.before
        point = Point(X, Y, before, record.masks, self.X_largest if step.rows is None else None)
        scales = term_scales(impl.network, point, ref, theirs.lr)
        if plan.optimizer == "adam":  # Adam divides each entry by its own size: each needs its own scale
            scales.update(gradient_entry_scales(impl.network, point, ref, scales, torch_ref.activation_derivative))
        scales.update(optimizer_scales(_optimizer_step(plan, step, mine, theirs), theirs.grads, scales))
        return scales

    def _note_log0(self, i: int, reached: float) -> None:
        """The course's cost is log(0) at this step, its gradients and update finite (dz3 = a3 - Y, the second
        course's helpers): the step is compared without its cost, and the first such step is said."""
        if not self.run.log0:
            self.run.lockstep.notes.append(
                f"from iteration {i}, A[L] reached exactly {reached:.1f} where the course's cost is log(0); "
                f"{self.impl.label}'s gradients and steps stayed finite and were compared, its cost (inf) was not"
            )
        self.run.log0.add(i)

    def _note_impl_diverged(self, i: int, cost: float) -> None:
        """The implementation alone went non-finite (with an optimiser, its rows were compared first): training
        stops comparing it, and a non-finite cost row gets the saturation hint unless a slip was named."""
        self.run.nonfinite = replace(self.run.nonfinite, impl=i)
        self.rounding = None
        row = self.run.lockstep.rows.get(("cost", self.L))
        if row is not None and not row.ok and row.iteration == i and not np.isfinite(cost) and not row.hint:
            row.hint = SATURATION_HINT

    def _torch_lockstep(self, before: dict, state: dict, step: Step, lr: float, masks) -> tuple:
        """torch's step from the implementation's parameters and optimiser state: (cost, gradients, parameters
        after, state after in the course's terms)."""
        plan, trainer = self.plan, self.lockstep_trainer
        torch_ref.load_params(self.model_lockstep, before)
        if plan.optimizer == "gd":
            trainer.learning_rate = lr
            cost = trainer.step(step.rows, masks)
            return (
                cost,
                torch_ref.gradients(self.model_lockstep, copy=False),
                torch_ref.to_params(self.model_lockstep),
                {},
            )
        cost = trainer.backward(step.rows, masks)
        grads = torch_ref.gradients(self.model_lockstep, copy=False)
        if plan.optimizer == "momentum":
            after, v = torch_steps.momentum_step(before, grads, state["v"], plan.beta, lr)
            return cost, grads, after, {"v": v}
        after, v, s, v_corrected, s_corrected = torch_steps.adam_step(
            before, grads, state["v"], state["s"], step.t, lr, plan.beta1, plan.beta2, plan.epsilon
        )
        return cost, grads, after, {"v": v, "s": s, "v_corrected": v_corrected, "s_corrected": s_corrected}

    def _compare_lockstep(
        self, i: int, mine: _ImplStep, theirs: _TorchStep, scales: dict, uncompared, floors: dict
    ) -> tuple[np.ndarray, float]:
        """This step's cost, gradients, optimiser state and update, both sides from the same parameters `before`.

        The update is compared as the step each side took, after - before: a slip in the step (a
        flipped sign, a missing lr) reads as what it is. Returns the rounding one correct step
        may make, per parameter array, and the cost's tolerance (for free-running). `floors` are the
        absolute rounding terms added to rtol x scale (the update's, the moments' coefficients').
        """
        L = self.L
        keys = self.impl.network.parameter_keys()
        before, torch_after = mine.before, theirs.after
        dtype = next(iter(before.values())).dtype
        # the rate is one division from lr0: it is held to the rounding of a few operations in the run's dtype
        eps = float(np.finfo(dtype).eps)
        rtol = self.run.lockstep.rtol  # 0: exact agreement, whatever the scale
        scales[("lr", L)] = self.plan.learning_rate * (min(1.0, LR_ROUNDING * eps / rtol) if rtol > 0 else 1.0)
        lr = (mine.lr, theirs.lr) if self.plan.decay is not None else None
        items = _lockstep_items(L, keys, lr, mine, theirs)
        if i in self.run.log0:  # the course's cost is log(0) here: its step, finite, is compared without it
            items = [item for item in items if item[0] != "cost"]
        items = [item for item in items if not uncompared(item[0], item[1])]
        stats = self.run.lockstep.compare(items, mine.X.shape[1], scales, at=i, floors=floors)
        per_step = min(self.run.lockstep.rtol, FREE_RUNNING_ROUNDING * eps)
        if self.plan.optimizer == "adam":
            # Adam divides each entry by its own size: an entry whose gradient cancels to near 0 has a
            # bound (scales) far above what rounding does to it. The step's rounding is what it measured:
            # the gap between the two steps from the same state, at least the step's own rounding.
            gaps = {(q, l): stat.largest_gap for (q, l, _, _), stat in zip(items, stats) if (q, l) in keys}
            steps = [largest(torch_after[f"{q}{l}"] - before[f"{q}{l}"]) for q, l in keys]
            rounding = [max(gaps.get(k, np.inf), per_step * step) + floors[k] for k, step in zip(keys, steps)]
            rounding = [
                r if np.isfinite(r) else per_step * largest(scales[k]) + floors[k] for r, k in zip(rounding, keys)
            ]
        else:
            rounding = [per_step * scales[k] + floors[k] for k in keys]
        return np.array(rounding), per_step * scales[("cost", L)] + floors.get(("cost", L), 0.0)


def _lockstep_items(L: int, keys: list, lr: tuple | None, mine: _ImplStep, theirs: _TorchStep) -> list:
    """What one lockstep step compares, (quantity, layer, implementation's, torch's), in the order computed: the
    rate, the cost, the gradients from the last layer back, the optimiser's state, the update after - before."""
    before, impl_state, torch_state = mine.before, mine.state_after, theirs.state
    items = [("lr", L, lr[0], lr[1])] if lr is not None else []
    return (
        items
        + [("cost", L, mine.cost, theirs.cost)]
        + [
            (f"d{q}", l, mine.grads[f"d{q}{l}"], theirs.grads[f"d{q}{l}"])
            for q, l in sorted(keys, key=lambda key: -key[1])  # the last layer first, each layer's in order
        ]
        + [
            (f"{name}_d{q}", l, impl_state[name][f"d{q}{l}"], torch_state[name][f"d{q}{l}"])
            for name in ("v", "s", "v_corrected", "s_corrected")
            if name in impl_state
            for q, l in keys
        ]
        + [
            (q, l, mine.after[f"{q}{l}"] - before[f"{q}{l}"], theirs.after[f"{q}{l}"] - before[f"{q}{l}"])
            for q, l in keys
        ]
    )


def _optimizer_step(plan: Optimization, step: Step, mine: _ImplStep, theirs: _TorchStep) -> OptimizerStep:
    """The step as the optimiser's tolerances see it: from the implementation's state, at torch's rate."""
    return OptimizerStep(plan.optimizer, plan.settings(), step.t, theirs.lr, mine.state, theirs.state)


def _finite_step(mine: _ImplStep) -> bool:
    """Whether the implementation's gradients and parameters after its step are finite (its cost may not be)."""
    arrays = [*mine.grads.values(), *mine.after.values()]
    return all(bool(np.all(np.isfinite(a))) for a in arrays if isinstance(a, np.ndarray))


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
