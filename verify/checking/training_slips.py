"""Naming the slip behind a lockstep row that broke: the learning rate's (rounded to float32, a decay one epoch
off, or a decay function's classic slip) and the optimiser's (momentum's and Adam's moments, their bias
correction, the update), with the same hypotheses as the function-by-function checks (hints.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import ImplementationError
from ..impl import Adapter
from ..impl.optimizers import DECAY_FUNCTIONS
from ..judging.compare import CheckResult
from ..judging.hints import decay_slips, fitting_slip, matches, optimizer_slips
from ..optimization import Optimization, OptimizerStep, Step

if TYPE_CHECKING:
    from .training_lockstep import _ImplStep, _TorchStep

DECAY_EPOCHS = 6  # a decay slip must fit the rates of epochs 0 to 5, not one epoch's
DECAY_PROBE_RATE = 0.3  # ... at a rate of its own, where no two slips coincide (at 1, lr0 * rate = lr0 / rate)


def name_rate_slip(
    lockstep: CheckResult, impl: Adapter, plan: Optimization, step: Step, mine: _ImplStep, theirs: _TorchStep
) -> None:
    """A hint on the rate's row, if it broke at this step (the implementation's step `mine`, torch's `theirs`): the
    decay's slip its rates fit over several epochs (one epoch ahead or behind among them), or the course's rate
    rounded to float32."""
    i, lr, torch_lr, dtype = step.index, mine.lr, theirs.lr, mine.X.dtype
    row = lockstep.rows.get(("lr", impl.L))
    if row is None or row.ok or row.iteration != i:
        return
    if dtype == np.float64 and float(np.float32(torch_lr)) == float(lr) != torch_lr:
        row.hint = "it is the course's rate rounded to float32 (an np.float32 or float32 array) in a float64 run"
    elif plan.decay is not None:  # one epoch's rate fits slips by chance (at --decay-rate 1, learning_rate0 * 1^e is
        row.hint = decay_slip(impl, plan, plan.decay)  # one epoch behind, and 2 times the rate): the probe decides


def decay_slip(impl: Adapter, plan: Optimization, decay: str) -> str:
    """The decay function's slip (the function-by-function check's hypotheses, hints.decay_slips), when one fits
    the rates it returns for epochs 0 to 5 at a probe rate of its own: one epoch's rate alone fits several (0 is
    lr0 * rate * 0 and lr0 / rate * 0), and so does a rate of 1 (lr0 * 1 * e is lr0 / 1 * e)."""
    epochs = range(DECAY_EPOCHS)
    try:
        rates = [
            impl.decayed_learning_rate(decay, plan.learning_rate, e, DECAY_PROBE_RATE, plan.decay_interval)
            for e in epochs
        ]
    except ImplementationError:  # the table names what it raised
        return ""
    slips = decay_slips(DECAY_FUNCTIONS[decay], plan.learning_rate, DECAY_PROBE_RATE, plan.decay_interval)
    return next(
        (hint for hint, slip in slips.items() if matches(np.array(rates), np.array([slip(e) for e in epochs]))), ""
    )


def name_optimizer_slips(
    lockstep: CheckResult, plan: Optimization, step: Step, mine: _ImplStep, theirs: _TorchStep
) -> None:
    """A hint on each optimiser row that broke at this step (the implementation's step `mine` from its state, with
    torch's gradients and state from the same point, `theirs`), where its value fits a classic slip (the same
    hypotheses as the function-by-function check's, see hints.optimizer_slips)."""
    i, t, lr, grads, torch_state = step.index, step.t, theirs.lr, theirs.grads, theirs.state
    state, state_after, before, after = mine.state, mine.state_after, mine.before, mine.after
    settings = plan.settings()
    for (quantity, layer), row in lockstep.rows.items():
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
            OptimizerStep(plan.optimizer, settings, t, lr, state, torch_state),
            grads,
            corrected=torch_state if "v_corrected" in torch_state else None,
            moments=state_after,
        )
        row.hint = fitting_slip(value, key, slips) or row.hint
