"""Free-running: torch trains on its own (torch.optim's optimiser and schedule), and after each of its steps the
two runs are compared within the allowance the dynamics give (see training.py's docstring for the rule):
torch's own step, the comparison, and the parameter-vector arithmetic both sides of training share."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

import torch_ref

from ..judging.tolerance import FREE_RUNNING_HEADROOM, FREE_RUNNING_LIMIT, FREE_RUNNING_ROUNDING, largest
from ..keys import split_key
from ..optimization import Step

if TYPE_CHECKING:
    from ..results import Sides
    from .training import Iteration, TrainingRun


class _FreeRunning:
    """torch's own step and the free-running comparison; the state they read is set up by training._Training."""

    run: TrainingRun
    X: np.ndarray
    m: int
    L: int
    free_trainer: torch_ref.Trainer
    torch_params: dict
    torch_sizes: np.ndarray
    sums: Sides[float]
    rounding: tuple[np.ndarray, float] | None
    # the last comparison's iteration, the two sides' parameters it compared, and the gap of each array by name
    gaps_after: tuple[int, dict, dict, dict] | None = None

    def _torch_step(self, record: Iteration, step: Step, torch_from_impl: dict | None, checkpoint: bool) -> None:
        """torch's own step (free-running), and both runs compared after it while they are comparable."""
        run, i = self.run, record.index
        before = self.torch_params
        cost = self.free_trainer.step(step.rows, record.masks)
        self.sums = replace(self.sums, torch=self.sums.torch + cost * (self.m if step.rows is None else len(step.rows)))
        after = torch_ref.to_params(self.free_trainer.model)
        sizes = _largest_each(after)  # read three times: for divergence, now as the scales, next step as the noise's
        record.torch_cost, record.torch_before, record.torch_after = cost, before, after
        if _diverged(cost, after, sizes):
            run.nonfinite = replace(run.nonfinite, torch=i)
        elif (
            run.nonfinite.impl is None
            and run.free.comparable_until is None
            and self.rounding is not None
            and record.impl_after is not None
            and torch_from_impl is not None  # (always, once the implementation stepped)
        ):
            self._compare_free(record, torch_from_impl, checkpoint, (self.torch_sizes, sizes))
        self.torch_params, self.torch_sizes = after, sizes

    def _compare_free(
        self, record: Iteration, torch_from_impl: dict, checkpoint: bool, torch_sizes: tuple[np.ndarray, np.ndarray]
    ) -> None:
        """Both runs after their step, within the allowance the dynamics so far give (see the module's docstring).

        torch_from_impl - record.torch_after is torch's own dynamics applied to the gap between the
        runs' parameters before the step; torch_sizes: max |entry| of each of torch's parameters before and after
        its step, in the order of record.torch_after.
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
        keys = list(torch_after)  # each array by its name: the implementation's dict may hold them in its own order
        before = float(np.max(self._gaps_before(i, impl_before, torch_before, keys)))
        before_sizes, sizes = torch_sizes
        noise = FREE_RUNNING_ROUNDING * eps * float(np.max(before_sizes))  # below it: rounding
        after = _gaps(torch_from_impl, torch_after, keys)
        gain = after / max(before, noise) if noise > 0 or before > 0 else np.ones_like(after)
        run.largest_gain = max(run.largest_gain, float(np.max(gain)))
        allowed_before = np.zeros_like(rounding) if run.allowed is None else run.allowed
        run.allowed = gain * float(np.max(allowed_before)) + rounding
        tolerance = FREE_RUNNING_HEADROOM * run.allowed

        size = float(np.max(sizes))  # all 0 (zero weights that never move): exact zeros stay comparable
        if size > 0 and float(np.max(tolerance)) > FREE_RUNNING_LIMIT[self.X.dtype.name] * size:
            run.free.comparable_until = i
            return
        # The costs are those before step i, at the two runs' parameters: their gap is at most the gradient times the parameter gap.
        record.torch_grads = torch_ref.gradients(self.free_trainer.model, copy=False)  # for the listeners
        record.torch_AL = self.free_trainer.output()
        gradient_l1 = np.array([float(np.abs(record.torch_grads[f"d{k}"]).sum()) for k in keys])
        cost_tolerance = FREE_RUNNING_HEADROOM * (float(np.dot(gradient_l1, allowed_before)) + cost_rounding)
        names = [split_key(k) for k in keys]
        costs = [] if i in run.log0 else [("cost", L, record.impl_cost, record.torch_cost)]  # log(0): uncompared
        items = costs + [(q, l, impl_after[f"{q}{l}"], torch_after[f"{q}{l}"]) for q, l in names]
        floors = {("cost", L): cost_tolerance, **dict(zip(names, tolerance.tolist()))}
        scales = {("cost", L): abs(record.torch_cost), **dict(zip(names, sizes.tolist()))}
        stats = run.free.compare(items, self.m, scales, at=i, rtol=0.0, floors=floors)
        record.gaps = {(q, l): s.max_abs for (q, l, _, _), s in zip(items, stats)}
        self.gaps_after = (i, impl_after, torch_after, {k: record.gaps[name] for k, name in zip(keys, names)})
        record.gaps.setdefault(("cost", L), 0.0)
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

    def _gaps_before(self, i: int, impl_before: dict, torch_before: dict, keys: list) -> np.ndarray:
        """max |impl - torch| of each parameter array before step i, in the order of `keys`: the gaps the last
        comparison measured after step i - 1, where it compared these very arrays, else measured now."""
        last = self.gaps_after
        if last is not None and last[0] == i - 1 and last[1] is impl_before and last[2] is torch_before:
            gaps = np.array([last[3].get(key, np.nan) for key in keys])
            if np.all(np.isfinite(gaps)):
                return gaps
        return _gaps(impl_before, torch_before, keys)


def _diverged(cost: float, params: dict, sizes: np.ndarray | None = None) -> bool:
    """Non-finite, or so large (beyond the square root of the dtype's largest number) that the next
    product overflows: the two sides may cross into inf a step apart, so both count as diverged.
    sizes: _largest_each(params), where already measured."""
    limit = np.sqrt(np.finfo(np.result_type(*params.values())).max)
    sizes = _largest_each(params) if sizes is None else sizes
    return not (abs(cost) < limit and np.max(sizes) < limit)  # nan fails both comparisons


def _largest_each(params: dict) -> np.ndarray:
    """max |entry| of each parameter array, in the dict's order (nan where one holds a nan): one array at a time,
    never a copy of them all."""
    return np.array([largest(value) for value in params.values()])


def _gaps(mine: dict, theirs: dict, keys: list) -> np.ndarray:
    """max |mine - theirs| of each parameter array named in `keys`, in that order."""
    return np.array([largest(np.subtract(mine[key], theirs[key])) for key in keys])
