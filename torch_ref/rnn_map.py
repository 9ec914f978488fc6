"""A recurrent layer for TorchNet, which passes rows (m, n) between layers: RecurrentMap runs an nn.RNNCell or an
nn.LSTMCell over a sequence whose T_x steps of n_x features lie side by side in each row, time-major (the course's
x (n_x, m, T_x) as x[:, i, t] at row i, columns t n_x ... (t + 1) n_x), and returns every hidden state the same way,
(m, T_x n_a). The parameters' mapping is rnn.py's (weight_ih = Wax, the LSTM's gates stacked i, f, c, o, the one
bias in bias_ih, bias_hh a frozen 0); the sequence is split into steps and stacked back by unbind and stack on the
time axis: its axes never change places.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from .arrays import Array
from .model import CourseMap
from .rnn import LSTM_KEYS, RNN_KEYS, bias_to_course, bias_to_torch, lstm_to_gates, lstm_to_stacked

CELLS = ("rnn", "lstm")


class RecurrentMap(CourseMap):
    """a[t] = cell(x[t], a[t-1]) from a[0] = 0 (and c[0] = 0), t = 1 ... T_x, every a[t] returned: the course's
    rnn_forward or lstm_forward without the readout; its course parameters Wax, Waa, ba or Wf, bf, ... bo."""

    def __init__(
        self,
        cell: str,
        T_x: int,
        n_x: int,
        n_a: int,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"unknown cell {cell!r}: choose from {CELLS}")
        self.cell_kind, self.T_x, self.n_x, self.n_a = cell, int(T_x), int(n_x), int(n_a)
        self.course_names = RNN_KEYS if cell == "rnn" else LSTM_KEYS
        make = nn.RNNCell if cell == "rnn" else nn.LSTMCell
        self.cell = make(n_x, n_a, dtype=dtype, device=device)
        with torch.no_grad():
            self._bias_hh.zero_()
        self._bias_hh.requires_grad_(False)  # the course has one bias: bias_hh stays 0 and out of training

    @property
    def _bias_hh(self) -> torch.Tensor:
        return _present(self.cell.bias_hh)

    @property
    def n_in(self) -> int:
        return self.T_x * self.n_x

    @property
    def n_out(self) -> int:
        return self.T_x * self.n_a

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ValueError(
                f"RecurrentMap takes rows (m, {self.n_in}) of {self.T_x} steps of {self.n_x}, got {a.shape}"
            )
        m = a.shape[0]
        h = a.new_zeros((m, self.n_a))
        c, hs = a.new_zeros((m, self.n_a)), []
        for xt in a.reshape(m, self.T_x, self.n_x).unbind(1):
            if isinstance(self.cell, nn.LSTMCell):
                h, c = self.cell(xt, (h, c))
            else:
                h = self.cell(xt, h)
            hs.append(h)
        return torch.stack(hs, dim=1).reshape(m, self.n_out)

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        n_a, n_x = self.n_a, self.n_x
        if self.cell_kind == "rnn":
            return {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "ba": (n_a, 1)}
        return {k: (n_a, n_a + n_x) if k[0] == "W" else (n_a, 1) for k in LSTM_KEYS}

    def load_course(self, params: Mapping[str, Array]) -> None:
        """The course's parameters into the cell (rnn.py's mapping); shapes checked."""
        for name, shape in self._shapes().items():
            if name not in params or params[name].shape != shape:
                got = params[name].shape if name in params else "nothing"
                raise ValueError(f"RecurrentMap needs {name} of shape {shape}, got {got}")
        t = {name: torch.tensor(params[name]) for name in self.course_names}
        if self.cell_kind == "rnn":
            weight_ih, weight_hh, bias_ih = t["Wax"], t["Waa"], bias_to_torch(t["ba"])
        else:
            weight_ih, weight_hh, bias_ih = lstm_to_stacked(t, self.n_a)
        with torch.no_grad():
            self.cell.weight_ih.copy_(weight_ih)
            self.cell.weight_hh.copy_(weight_hh)
            _present(self.cell.bias_ih).copy_(bias_ih)

    def course_values(self, value_of: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, Array]:
        """value_of(each of the cell's trained tensors) under the course's names and shapes."""
        weight_ih, weight_hh = value_of(self.cell.weight_ih), value_of(self.cell.weight_hh)
        bias_ih = value_of(_present(self.cell.bias_ih))
        if self.cell_kind == "rnn":
            values = {"Wax": weight_ih, "Waa": weight_hh, "ba": bias_to_course(bias_ih)}
        else:
            values = lstm_to_gates(weight_ih, weight_hh, bias_ih)
        return {name: _np(values[name]) for name in self.course_names}

    def decayed(self) -> list[torch.Tensor]:
        return [self.cell.weight_ih, self.cell.weight_hh]


def _present(bias: torch.Tensor | None) -> torch.Tensor:
    if bias is None:
        raise ValueError("the cell has no bias: the course's has one")
    return bias


def _np(t: torch.Tensor) -> Array:
    array: Array = np.array(t.detach().cpu().numpy(), copy=True)
    return array


__all__ = ["CELLS", "RecurrentMap"]
