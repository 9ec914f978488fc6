"""Training steps, W[l] -= learning_rate * dW[l] with torch.optim's SGD update, or any torch.optim optimiser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch.optim.sgd import sgd

from .arrays import Array
from .capture import Recorder
from .layout import columns, data_rows, grad_of, load_masks
from .losses import get_loss, l2_penalty
from .model import TorchNet


class Trainer:
    """Holds X, Y as device tensors (converted once) and steps the model, on the whole batch or on the
    mini-batch of examples `rows`.

    Without `optimizer` the update is `torch.optim.sgd.sgd` at `learning_rate`, the function
    `torch.optim.SGD.step` runs, called directly with SGD's defaults (no momentum, dampening,
    weight decay or nesterov): the torch.optim.SGD class adds nothing for plain gradient descent,
    but constructing it imports torch._dynamo, about a second of start-up. With `optimizer` (a
    torch.optim optimiser over model's parameters, see optimizers.make_optimizer) it steps that.

    data_of: another trainer over these X and Y (a model of the same dtype, on the same device), whose rows this
    one reads rather than copying them again: a trainer never writes into them, and two copies of a large X, read
    in turn at every step, cost each other cache (12288,20,7,5,1's X is 20 MB).

    With record=True each step also keeps each layer's Z[l] and A[l], and the hidden A[l]'s gradients (not
    Z[l]'s: autograd keeps a gradient as a copy, made in every backward pass), which `layers()` returns in the
    course layout.
    """

    def __init__(
        self,
        model: TorchNet,
        X: Array,
        Y: Array,
        loss: str = "bce",
        learning_rate: float = 0.0075,
        record: bool = False,
        optimizer: torch.optim.Optimizer | None = None,
        lambd: float = 0.0,
        keep_probs: Sequence[float] | None = None,
        data_of: Trainer | None = None,
    ) -> None:
        self.model = model
        self.lambd = lambd  # L2: the cost gains (lambd / (2 m)) sum ||W||^2, m the batch's examples
        self.keep_probs = keep_probs  # dropout: keep_prob per hidden layer, with each step's masks
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.loss_fn = get_loss(loss, model.activation_names[-1])
        self.x, self.y = data_rows(model, X, Y) if data_of is None else _shared(data_of, model, X, Y)
        self.data = (X, Y)  # the arrays its rows are of (data_of reads them)
        self.params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]  # a frozen 0 is none
        self._logits: torch.Tensor | None = None
        self._output: torch.Tensor | None = None
        self.recorder = Recorder(model, gradients=("A",)) if record else None  # layers() reads no dZ

    def backward(
        self, rows: npt.NDArray[np.integer[Any]] | None = None, masks: Sequence[Array | None] | None = None
    ) -> float:
        """The cost J of the batch (the examples `rows`, or all) and its gradients, left in .grad; no update.

        masks: dropout masks for this step, course columns (n[l], batch size) per hidden layer (see load_masks);
        the model drops nothing outside the step."""
        for p in self.params:
            p.grad = None  # fresh gradients every step (no accumulation)
        x, y = self.x, self.y
        if rows is not None:
            index = torch.as_tensor(rows, device=x.device)
            x, y = x[index], y[index]
        if masks is None:
            z = self._logits = self.model(x)
        else:
            load_masks(self.model, masks, self.keep_probs)
            try:
                z = self._logits = self.model(x)
            finally:
                self.model.set_masks(None)
        a = self._output = self.model.output_activation(z)
        cost = self.loss_fn(z, a, y)
        if self.lambd:
            cost = cost + l2_penalty(self.model.decayed(), self.lambd, y.shape[0])
        cost.backward()  # type: ignore[no-untyped-call]  # torch's Tensor.backward has no annotations
        return cost.item()

    def step(
        self, rows: npt.NDArray[np.integer[Any]] | None = None, masks: Sequence[Array | None] | None = None
    ) -> float:
        """One update on the batch; returns its cost J before it, as the course's loop records it."""
        cost = self.backward(rows, masks)
        if self.optimizer is not None:
            self.optimizer.step()
        else:
            with torch.no_grad():
                sgd(
                    self.params,
                    [grad_of(p) for p in self.params],
                    [None] * len(self.params),
                    weight_decay=0.0,
                    momentum=0.0,
                    lr=self.learning_rate,
                    dampening=0.0,
                    nesterov=False,
                    maximize=False,
                )
        # .grad is left as is, so gradients(model) reads this step's dW, db.
        return cost

    def output(self) -> Array:
        """A[L] of the last step's forward pass (before its update), as course columns (nL, batch size)."""
        if self._output is None:
            raise ValueError("no step has been taken yet")
        return columns(self._output)

    def layers(self) -> dict[str, Array]:
        """The last step's Z{l}, A{l} (l = 1..L) and dA{l} (l = 1..L-1, course convention: m dJ/dA), as
        columns: read-only views of the step's own tensors (no copies), valid until the next step."""
        if self.recorder is None or self._output is None or self._logits is None:
            raise ValueError("layers() needs Trainer(..., record=True) and a step taken")
        L = len(self.model.linears)
        out = {f"A{L}": columns(self._output, copy=False), f"Z{L}": columns(self._logits, copy=False)}
        for l in range(1, L):
            out[f"Z{l}"] = self.recorder.columns(f"Z{l}", copy=False)
            out[f"A{l}"] = self.recorder.columns(f"A{l}", copy=False)
            out[f"dA{l}"] = self.recorder.summed_gradient(f"A{l}", copy=False)
        return out


def train(
    model: TorchNet,
    X: Array,
    Y: Array,
    loss: str = "bce",
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
) -> list[float]:
    """Run `num_iterations` steps in place; return the cost before each update."""
    trainer = Trainer(model, X, Y, loss=loss, learning_rate=learning_rate)
    return [trainer.step() for _ in range(num_iterations)]


def _shared(other: Trainer, model: TorchNet, X: Array, Y: Array) -> tuple[torch.Tensor, torch.Tensor]:
    """other's rows of X and Y, for a trainer of `model` over those very arrays (ValueError where they cannot be)."""
    same = other.data[0] is X and other.data[1] is Y and other.x.dtype == model.dtype and other.x.device == model.device
    if not same:
        raise ValueError("data_of: a trainer over other data, or for a model of another dtype or device")
    return other.x, other.y
