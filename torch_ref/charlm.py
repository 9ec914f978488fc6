"""The character-level language model (sequence models, week 1, "Dinosaur Island") computed by torch.

Course parameters: Wax (n_a, n_x), Waa (n_a, n_a), b (n_a, 1), Wya (n_y, n_a), by (n_y, 1), n_x = n_y = the
vocabulary's size. The network, one name at a time:
  nn.RNNCell(n_x, n_a, nonlinearity="tanh") computes a<t> = tanh(W_ih x<t> + b_ih + W_hh a<t-1> + b_hh):
    W_ih = Wax, W_hh = Waa, b_ih = b, b_hh = 0 and frozen (it is no course parameter; trained, it would move the
    bias by a second lr * db every step);
  nn.Linear(n_a, n_y): weight = Wya, bias = by; y_hat<t> = softmax of its output;
  loss = F.cross_entropy(logits of every step, targets Y, reduction="sum") = sum_t -log y_hat<t>[Y[t]].
X = [None, c1, ..., cT] (None: the zero input), Y = [c1, ..., cT, "\\n"'s index]. Gradients by autograd, each
clamped in place (clamp_) into [-5, 5], then one torch.optim.SGD step.

Torch's examples are rows. With one example a column (n, 1) and a row (1, n) hold the same numbers in the same
order, so reshape maps between them here and no axes are swapped; the weights are the course's as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .arrays import Array

GRADIENT_KEYS = ("dWaa", "dWax", "dWya", "db", "dby")


class CharLM(nn.Module):
    """The course's language model as an nn.RNNCell and an nn.Linear, holding the course's parameters."""

    def __init__(self, parameters: Mapping[str, Array]) -> None:
        super().__init__()
        n_a, n_x = parameters["Wax"].shape
        n_y = parameters["Wya"].shape[0]
        dtype = torch.from_numpy(np.asarray(parameters["Wax"])).dtype
        self.cell = nn.RNNCell(n_x, n_a, nonlinearity="tanh", dtype=dtype)
        self.out = nn.Linear(n_a, n_y, dtype=dtype)
        self.cell.bias_hh.requires_grad_(False)
        with torch.no_grad():
            for tensor, name in self._course_tensors():
                course = torch.tensor(np.asarray(parameters[name]))
                assert course.numel() == tensor.numel(), f"{name} is {tuple(course.shape)}, torch's {tensor.shape}"
                tensor.copy_(course.reshape(tensor.shape))  # a bias (n, 1) is (n,) in torch; a W is as it is
            self.cell.bias_hh.zero_()

    def _course_tensors(self) -> list[tuple[torch.Tensor, str]]:
        """Each trained torch parameter with the course's name for it."""
        return [
            (self.cell.weight_ih, "Wax"),
            (self.cell.weight_hh, "Waa"),
            (self.cell.bias_ih, "b"),
            (self.out.weight, "Wya"),
            (self.out.bias, "by"),
        ]

    def trained(self) -> list[torch.Tensor]:
        """The five course parameters (b_hh is not one: it stays 0)."""
        return [tensor for tensor, _ in self._course_tensors()]

    def forward(self, X: Sequence[int | None], a_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits Wya a<t> + by for every step, (len(X), n_y), and the hidden states a<t>, (len(X), n_a)."""
        n_x = self.cell.input_size
        h = a_prev.reshape(1, self.cell.hidden_size)
        states = []
        for index in X:
            x = torch.zeros(1, n_x, dtype=h.dtype)
            if index is not None:
                x[0, index] = 1
            h = self.cell(x, h)
            states.append(h)
        hidden = torch.cat(states)  # (len(X), n_a)
        return self.out(hidden), hidden

    def course(self, gradients: bool = False) -> dict[str, Array]:
        """The parameters ("Wax", ...) or their gradients ("dWax", ...) in the course's shapes, as NumPy copies."""
        result: dict[str, Array] = {}
        for tensor, name in self._course_tensors():
            value = tensor.grad if gradients else tensor
            if value is None:
                raise ValueError("no gradient to read: run a backward pass first")
            shape = (tensor.shape[0], 1) if tensor.ndim == 1 else tuple(tensor.shape)
            result[("d" if gradients else "") + name] = _np(value.reshape(shape))
        return result


def _np(t: torch.Tensor) -> Array:
    array: Array = t.detach().cpu().numpy().copy()
    return array


def clip(gradients: Mapping[str, Array], maxValue: float) -> dict[str, Array]:
    """torch.clamp of each of dWaa, dWax, dWya, db, dby into [-maxValue, maxValue] (elementwise, not by norm)."""
    return {
        key: _np(torch.clamp(torch.tensor(np.asarray(gradients[key])), -maxValue, maxValue)) for key in GRADIENT_KEYS
    }


def optimize(
    X: Sequence[int | None],
    Y: Sequence[int],
    a_prev: Array,
    parameters: Mapping[str, Array],
    learning_rate: float = 0.01,
    maxValue: float = 5.0,
) -> tuple[Any, dict[str, Array], Array, dict[str, Array]]:
    """The course's optimize by torch: (loss, clipped gradients, a<len(X)-1> (n_a, 1), updated parameters).

    The loss is a NumPy scalar of the parameters' dtype; the hidden state is the forward pass's (before the
    update), as the course returns it; `parameters` itself is left as it is (the course updates in place: read
    the fourth value instead)."""
    model = CharLM(parameters)
    logits, hidden = model(X, torch.tensor(np.asarray(a_prev)))
    loss = F.cross_entropy(logits, torch.tensor(list(Y)), reduction="sum")
    torch.autograd.backward(loss)
    trained = model.trained()
    for tensor in trained:
        assert tensor.grad is not None
        tensor.grad.clamp_(-maxValue, maxValue)
    torch.optim.SGD(trained, lr=learning_rate).step()
    a_last = _np(hidden[-1].reshape(-1, 1))
    return loss.detach().numpy()[()], model.course(gradients=True), a_last, model.course()


def sample_distributions(parameters: Mapping[str, Array], indices: Sequence[int]) -> Array:
    """(n_y, len(indices)): column k is softmax(Wya a<k> + by), the distribution sample draws indices[k] from, when
    the characters drawn before it were indices[:k] (the first input is the zero vector, a<-1> = 0).

    An index sample appends without drawing it (the "\\n" after 50 characters) has no distribution: leave it out."""
    model = CharLM(parameters)
    X: list[int | None] = [None, *indices[:-1]]
    with torch.no_grad():
        logits, _ = model(X, torch.zeros(model.cell.hidden_size, dtype=model.out.weight.dtype))
        probabilities = torch.softmax(logits, dim=1)  # (len(indices), n_y): one row per step
    columns = [row.reshape(-1, 1) for row in probabilities]  # each step's (1, n_y) row is its (n_y, 1) column
    return _np(torch.cat(columns, dim=1))


def loss_gradients(
    X: Sequence[int | None], Y: Sequence[int], a_prev: Array, parameters: Mapping[str, Array]
) -> dict[str, Array]:
    """The loss's gradients at (a_prev, parameters), not clipped: dWax, dWaa, db, dWya, dby in the course's shapes
    and da_prev (n_a, 1), what a change of the hidden state carried in moves the loss by."""
    model = CharLM(parameters)
    start = torch.tensor(np.asarray(a_prev)).requires_grad_(True)
    logits, _ = model(X, start)
    torch.autograd.backward(F.cross_entropy(logits, torch.tensor(list(Y)), reduction="sum"))
    assert start.grad is not None
    return {**model.course(gradients=True), "da_prev": _np(start.grad)}
