"""Costs J (sum over output units, mean over the m examples) from torch's stable losses.

Each loss takes (Z[L], A[L], Y) as torch rows (m, nL) and returns the scalar J.
"""

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def bce(z: torch.Tensor, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """J = -(1/m) sum[Y log A + (1-Y) log(1-A)], A = sigmoid(Z); from Z for stability."""
    return F.binary_cross_entropy_with_logits(z, y, reduction="sum") / y.shape[0]


def mse(z: torch.Tensor, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """J = (1/2m) sum (A - Y)^2."""
    return F.mse_loss(a, y, reduction="sum") / (2 * y.shape[0])


def ce(z: torch.Tensor, a: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """J = -(1/m) sum Y log softmax(Z), Y holding class probabilities per example."""
    return F.cross_entropy(z, y, reduction="sum") / y.shape[0]


LOSSES: dict[str, LossFn] = {"bce": bce, "mse": mse, "ce": ce}

# bce and ce read the logits, so they silently assume this output activation;
# mse reads A[L] and works with any output but softmax, which belongs to ce.
FUSED_OUTPUT = {"bce": "sigmoid", "ce": "softmax"}


def get_loss(name: str, output_activation: str) -> LossFn:
    """The loss called `name`, checked against the network's output activation."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}: choose from {sorted(LOSSES)}")
    fused = FUSED_OUTPUT.get(name)
    if fused is not None and output_activation != fused:
        raise ValueError(f"loss {name!r} needs a {fused!r} output layer, the network ends in {output_activation!r}")
    if name != "ce" and output_activation == "softmax":
        raise ValueError(f"a 'softmax' output layer goes with loss 'ce', not {name!r}")
    return LOSSES[name]


def l2_penalty(weights: Iterable[torch.Tensor], lambd: float, m: int) -> torch.Tensor | float:
    """The course's L2 penalty (lambd / (2 m)) sum ||W[l]||^2 over the weights (nn.Linear.weight; no biases).

    Added to the loss, autograd gives each dW[l] its (lambd / m) W[l]; torch.optim's weight_decay = lambd / m
    on the weights alone steps the same (tested), but never shows in the cost, which the course reports.
    A tensor, or the number 0.0 for no weights at all."""
    return lambd / (2 * m) * sum((w * w).sum() for w in weights)
