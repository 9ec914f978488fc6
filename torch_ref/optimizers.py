"""torch's own optimisers and learning-rate schedules, mapped onto the course's formulas in one place.

- gd: torch.optim.SGD(lr).
- momentum: SGD(lr = lr (1 - beta), momentum = beta, dampening = 0). torch's buffer b starts as the
  first gradient and then b = beta b + g, so the course's v = beta v + (1 - beta) dP is (1 - beta) b at
  every step, and P - lr v = P - lr (1 - beta) b. (dampening = beta alone is off by beta^t g_1.)
- adam: Adam(lr, betas = (beta1, beta2), eps = epsilon). torch divides by sqrt(s) / sqrt(1 - beta2^t)
  + eps, the course's sqrt(s_corrected) + epsilon; its exp_avg and exp_avg_sq are the course's v and
  s, its step is t.
- decay: the course sets lr = decay(lr0, epoch) after each epoch, so epochs 0 and 1 both run at lr0.
  LambdaLR's factor for epoch e is therefore the course's at e - 1, and 1 at e = 0.

The optimiser classes are imported where they are built: importing them loads torch._dynamo, a
second of start-up that plain gradient descent does without (see train.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import numpy as np
import numpy.typing as npt
import torch

from .arrays import Array
from .layout import grad_of, per_parameter
from .model import TorchNet
from .train import Trainer

if TYPE_CHECKING:
    from torch.optim.lr_scheduler import LambdaLR

# velocity() works on torch's buffers and on NumPy copies of them alike.
Buffer = TypeVar("Buffer", torch.Tensor, Array)

OPTIMIZERS = ("gd", "momentum", "adam")
DECAYS = ("inverse", "scheduled")


class MomentumSettings(TypedDict):
    """The keyword arguments of torch's SGD (the class or its sgd function) that make its momentum the course's."""

    lr: float
    momentum: float
    dampening: float


def momentum_settings(learning_rate: float, beta: float) -> MomentumSettings:
    """torch SGD's settings that step as the course's momentum does (see the module's docstring)."""
    return {"lr": learning_rate * (1 - beta), "momentum": beta, "dampening": 0.0}


def velocity(buffer: Buffer, beta: float) -> Buffer:
    """The course's v from torch's momentum buffer b: v = (1 - beta) b (and b = v / (1 - beta)).

    With beta = 0, SGD keeps no buffer (momentum 0 is plain SGD) and the course's v is the gradient:
    pass the gradient as `buffer`."""
    return (1 - beta) * buffer


def make_optimizer(
    model: TorchNet,
    optimizer: str,
    learning_rate: float,
    beta: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    epsilon: float = 1e-8,
) -> torch.optim.Optimizer:
    """The torch optimiser that steps exactly as the course's `optimizer` does (see the module's docstring)."""
    from torch.optim import SGD, Adam

    params = list(model.parameters())
    if optimizer == "gd":
        return SGD(params, lr=learning_rate)
    if optimizer == "momentum":
        return SGD(params, **momentum_settings(learning_rate, beta))
    if optimizer == "adam":
        return Adam(params, lr=learning_rate, betas=(beta1, beta2), eps=epsilon)
    raise ValueError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")


def course_state(model: TorchNet, opt: torch.optim.Optimizer, optimizer: str, beta: float = 0.9) -> dict[str, Any]:
    """The optimiser's state in the course's terms, each keyed like the gradients (dW1, db1, ...):
    momentum {"v"}; Adam {"v", "s", "v_corrected", "s_corrected", "t"}; and the "learning_rate" in force
    (the course's, not torch's rescaled momentum rate)."""
    state: dict[str, Any] = {
        "learning_rate": opt.param_groups[0]["lr"] / ((1 - beta) if optimizer == "momentum" else 1)
    }
    if optimizer == "momentum":
        state["v"] = per_parameter(
            model, lambda p: velocity(opt.state[p]["momentum_buffer"] if beta else grad_of(p), beta)
        )
    elif optimizer == "adam":
        beta1, beta2 = opt.param_groups[0]["betas"]
        t = int(next(iter(opt.state.values()))["step"])
        state.update(
            t=t,
            v=per_parameter(model, lambda p: opt.state[p]["exp_avg"]),
            s=per_parameter(model, lambda p: opt.state[p]["exp_avg_sq"]),
        )
        state["v_corrected"] = {k: v / (1 - beta1**t) for k, v in state["v"].items()}
        state["s_corrected"] = {k: s / (1 - beta2**t) for k, s in state["s"].items()}
    return state


def lr_factor(decay: str | None, decay_rate: float = 1.0, time_interval: int = 1000) -> Callable[[int], float]:
    """LambdaLR's factor for epoch e (counted from 0) that runs epoch e at the course's rate."""
    if decay is None:
        return lambda epoch: 1.0
    if decay == "inverse":  # update_lr(lr0, e - 1, rate) = lr0 / (1 + rate (e - 1))
        return lambda epoch: 1.0 if epoch == 0 else 1 / (1 + decay_rate * (epoch - 1))
    if decay == "scheduled":  # schedule_lr_decay(lr0, e - 1, rate, interval)
        return lambda epoch: 1.0 if epoch == 0 else 1 / (1 + decay_rate * math.floor((epoch - 1) / time_interval))
    raise ValueError(f"unknown decay {decay!r}; choose from {', '.join(DECAYS)}")


def train_epochs(
    model: TorchNet,
    X: Array,
    Y: Array,
    loss: str,
    batches: Sequence[Sequence[npt.NDArray[np.integer[Any]]]],
    optimizer: str = "gd",
    learning_rate: float = 0.0075,
    decay: str | None = None,
    decay_rate: float = 1.0,
    time_interval: int = 1000,
    **betas: float,
) -> list[float]:
    """One epoch per entry of `batches` (a list of the epoch's mini-batches, each an array of example
    indices): each batch's mean cost, backward and optimiser step; then the schedule's step. Returns
    each epoch's cost as the course keeps it, the batches' summed losses (each before its step) over m.
    """
    opt = make_optimizer(model, optimizer, learning_rate, **betas)
    schedule = make_schedule(opt, decay, decay_rate, time_interval)
    trainer = Trainer(model, X, Y, loss, learning_rate, optimizer=opt)
    costs: list[float] = []
    for epoch_batches in batches:
        summed, cost = 0.0, 0.0
        for indices in epoch_batches:
            cost = trainer.step(np.asarray(indices))
            summed += cost * len(indices)
        costs.append(cost if len(epoch_batches) == 1 else summed / X.shape[1])
        schedule.step()
    return costs


def make_schedule(
    opt: torch.optim.Optimizer, decay: str | None, decay_rate: float = 1.0, time_interval: int = 1000
) -> LambdaLR:
    """The LambdaLR that runs each epoch at the course's rate; step it after each epoch."""
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(opt, lr_factor(decay, decay_rate, time_interval))
