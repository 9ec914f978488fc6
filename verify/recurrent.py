"""Recurrent layers: the layer kinds of the sequence-models course's step-by-step notebook, a basic RNN and an LSTM.

A network passes A[l] between layers as columns (n[l], m). A recurrent layer's input is the course's sequence
x (n_x, m, T_x) with each example's T_x steps side by side, time-major: column i holds x[:, i, 0], then x[:, i, 1],
..., so A = x.transpose(2, 0, 1).reshape(T_x n_x, m). Its output is every hidden state a (n_a, m, T_x) laid out the
same way, which a dense layer after it reads whole (or another recurrent layer reads as its sequence). A layer's
word says its input's shape after an "@": "lstm5@6x3" is an LSTM of 5 units on 6 steps of 3 features.

--arch spells a recurrent network as its input's size `seq<T_x>x<n_x>`, its recurrent layers, then dense sizes:
seq6x3,lstm5,1 (see arch.py). The forward and backward passes are the course's rnn_forward / rnn_backward or
lstm_forward / lstm_backward, scratch.rnn's, or those `call` runs (a learner's notebook): a0 (and c0) are zeros, the
readout the course's functions compute (Wya, by) is handed as zeros and not used (the dense layers after are the
network's readout). dZ arrives as the gradient of the summed loss, so the gradients, sums over the examples like
rnn_backward's, are divided by m to be the mean cost's, as a dense layer's are.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

import numpy as np

import scratch

from . import recurrent_scales
from .errors import UsageError
from .layers import Backflow, Call, Inflow, LayerKind, Params, scratch_call

SEQUENCE = re.compile(r"seq(\d+)x(\d+)")  # an input of T_x steps of n_x features
CELL = re.compile(r"(rnn|lstm)(\d+)")  # a recurrent layer of n_a units
SPELLINGS = "an input size like seq6x3 (6 steps of 3 features) first, then rnn<units> or lstm<units>, then dense sizes"
GATES = ("f", "i", "c", "o")
Sequence = tuple[int, int]  # (T_x, n_x)


class Recurrent(LayerKind):
    """a = rnn_forward(x, 0, P)'s or lstm_forward's hidden states, every step: parameters Wax, Waa, ba (a basic cell)
    or Wf, bf, Wi, bi, Wc, bc, Wo, bo (an LSTM), the course's; the layer's activation is linear (tanh is inside)."""

    activation = "linear"

    def __init__(self, cell: str, in_shape: Sequence, n_a: int) -> None:
        self.cell, self.in_shape, self.n_a = cell, in_shape, n_a
        self.T_x, self.n_x = in_shape
        self.out_shape: Sequence = (self.T_x, n_a)
        self.word = f"{cell}{n_a}@{self.T_x}x{self.n_x}"
        if cell == "rnn":
            self.names: tuple[str, ...] = ("Wax", "Waa", "ba")
            self.decayed: tuple[str, ...] = ("Wax", "Waa")
            self.offsets: tuple[str, ...] = ("ba",)
        else:
            self.names = tuple(f"{p}{g}" for g in GATES for p in "Wb")
            self.decayed = tuple(f"W{g}" for g in GATES)
            self.offsets = tuple(f"b{g}" for g in GATES)

    @property
    def item(self) -> str:
        return self.word.split("@")[0]

    @property
    def n_in(self) -> int:
        return self.T_x * self.n_x

    @property
    def n_out(self) -> int:
        return self.T_x * self.n_a

    def output_size(self, n_in: int) -> int:
        if n_in != self.n_in:
            raise ValueError(f"{self.word} takes {self.n_in} inputs ({self.T_x} steps of {self.n_x}), not {n_in}")
        return self.n_out

    @staticmethod
    def sequence(A: np.ndarray, shape: Sequence) -> np.ndarray:
        """Columns (T n, m), time-major, as the course's (n, m, T)."""
        T, n = shape
        return A.reshape(T, n, A.shape[1]).transpose(1, 2, 0)

    @staticmethod
    def columns(a: np.ndarray) -> np.ndarray:
        """The course's (n, m, T) as columns (T n, m), time-major."""
        n, m, T = a.shape
        return a.transpose(2, 0, 1).reshape(T * n, m)

    def shapes(self, n_in: int, n_out: int) -> dict[str, tuple[int, ...]]:
        n_a, n_x = self.n_a, self.n_x
        if self.cell == "rnn":
            return {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "ba": (n_a, 1)}
        return {name: (n_a, n_a + n_x) if name[0] == "W" else (n_a, 1) for name in self.names}

    def initialize(self, n_in: int, n_out: int, init: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
        scale = scratch.INIT_SCALES[init](self.n_a + self.n_x)  # a unit's fan-in: the previous state and the input
        return {
            name: rng.standard_normal(shape) * scale if name[0] == "W" else np.zeros(shape)
            for name, shape in self.shapes(n_in, n_out).items()
        }

    def _with_readout(self, P: Params, dtype) -> dict[str, np.ndarray]:
        """The layer's parameters and a zero readout (Wya or Wy, by), which the course's forward functions read."""
        readout = "Wya" if self.cell == "rnn" else "Wy"
        return {**P, readout: np.zeros((1, self.n_a), dtype=dtype), "by": np.zeros((1, 1), dtype=dtype)}

    def forward(self, A_prev: np.ndarray, P: Params, call: Call = scratch_call) -> tuple[np.ndarray, Any]:
        x = self.sequence(A_prev, self.in_shape)
        a0 = np.zeros((self.n_a, x.shape[1]), dtype=x.dtype)
        outputs = call(f"{self.cell}_forward", x, a0, self._with_readout(P, x.dtype))
        return self.columns(outputs[0]), outputs[-1]

    def backward(
        self, dZ: np.ndarray, cache: Any, call: Call = scratch_call
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        m = dZ.shape[1]
        grads = call(f"{self.cell}_backward", self.sequence(dZ, self.out_shape), cache)
        return self.columns(grads["dx"]), {name: grads[f"d{name}"] / m for name in self.names}

    def twin(self, n_in: int, n_out: int) -> Any:
        from torch_ref.rnn_map import RecurrentMap

        return RecurrentMap(self.cell, self.T_x, self.n_x, self.n_a)

    def forward_scale(self, into: Inflow) -> float:
        """The largest scale of a hidden state, step by step at the point (recurrent_scales.py)."""
        P = self._with_readout(into.P, np.float64)
        caches = recurrent_scales.states(self.cell, self.sequence(into.A, self.in_shape), P)
        into.memo["states"] = caches, recurrent_scales.forward_scales(self.cell, caches, into.carried)
        return max(float(step["a"].max()) for step in into.memo["states"][1])

    def backward_scales(self, into: Inflow, back: Backflow) -> dict[str, float]:
        """The course's backward pass on magnitudes at the point (recurrent_scales.py), every da of dZ's scale: the
        largest entry of dx ("dA") and of each weight's gradient, divided by m as the gradients are."""
        if "states" not in into.memo:
            self.forward_scale(into)
        caches, scales = into.memo["states"]
        E_da = max(back.E, back.largest + back.carried)
        sums = recurrent_scales.backward_scales(self.cell, caches, scales, E_da)
        m = into.A.shape[1]
        return {"dA": float(sums["dx"].max()), **{name: float(sums[f"d{name}"].max()) / m for name in self.names}}

    def reach(self, P: Params) -> float:
        """The weights on x (an LSTM's gates' weighed by their largest slope, 1/4 for sigma's) grown through the
        steps by the largest gain of the weights on a_prev (at least 1 for an LSTM, whose c carries on through
        f <= 1), times sqrt(n_x)."""
        if self.cell == "rnn":
            on_x, on_a, slopes = [P["Wax"]], [P["Waa"]], [1.0]
        else:
            on_x = [P[f"W{g}"][:, self.n_a :] for g in GATES]
            on_a = [P[f"W{g}"][:, : self.n_a] for g in GATES]
            slopes = [1.0 if g == "c" else 0.25 for g in GATES]
        gain_x = sum(w * _row_norm(W) for w, W in zip(slopes, on_x))
        gain_a = sum(w * _row_norm(W) for w, W in zip(slopes, on_a))
        rho = max(gain_a, 1.0) if self.cell == "lstm" else gain_a
        steps = float(self.T_x) if rho == 1.0 else (rho**self.T_x - 1) / (rho - 1)
        return gain_x * min(steps, 1e300) * math.sqrt(max(self.n_x, 1))


def _row_norm(W: np.ndarray) -> float:
    return float(np.sqrt(np.max(np.sum(W**2, axis=1))))


@lru_cache(maxsize=256)
def kind(word: str) -> Recurrent | None:
    """The recurrent layer a word with its input's shape names ("lstm5@6x3"), or None."""
    item, _, shape = word.partition("@")
    match = re.fullmatch(r"(\d+)x(\d+)", shape)
    if match is None:
        return None
    return layer(item, (int(match[1]), int(match[2])))


def layer(item: str, in_shape: Sequence) -> Recurrent | None:
    """The layer --arch spells `item` after a sequence of in_shape (T_x, n_x); None if it spells none."""
    cell = CELL.fullmatch(item)
    if cell is None:
        return None
    if int(cell[2]) < 1:
        raise UsageError(f"--arch: {item} has 0 units; a recurrent layer needs at least 1")
    return Recurrent(cell[1], in_shape, int(cell[2]))


def sequence(item: str) -> Sequence | None:
    """An input's size seq6x3 as (T_x, n_x); None if item spells none."""
    match = SEQUENCE.fullmatch(item)
    if match is None:
        return None
    shape = (int(match[1]), int(match[2]))
    if min(shape) < 1:
        raise UsageError(f"--arch: the input {item} has a size of 0; give one like seq6x3")
    return shape


__all__ = ["CELL", "SEQUENCE", "SPELLINGS", "Recurrent", "kind", "layer", "sequence"]
