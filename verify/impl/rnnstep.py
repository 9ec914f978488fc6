"""The sequence-models course's recurrent step-by-step notebook (course 5, week 1): its functions are what is
verified.

The notebook defines (graded) rnn_cell_forward(xt, a_prev, parameters), rnn_forward(x, a0, parameters),
lstm_cell_forward(xt, a_prev, c_prev, parameters) and lstm_forward(x, a0, parameters), and, optional in the course,
rnn_cell_backward(da_next, cache), rnn_backward(da, caches), lstm_cell_backward(da_next, dc_next, cache) and
lstm_backward(da, caches). Each is checked on its own against torch first (checking/unit_rnn.py, unit_lstm.py);
then the network checks run on a small recurrent network (NETWORK_SPELLING: a basic RNN layer, then an LSTM layer
reading its states; or a recurrent --arch) whose recurrent layers are computed by the notebook's rnn_forward,
rnn_backward, lstm_forward and lstm_backward (impl/stepnet.py). The course's functions loop over the time steps in
Python: the report says how long they took (every call goes through Adapter.call, which TimedCalls times).
"""

from __future__ import annotations

from typing import Any

from ..recurrent import GATES, SPELLINGS, Recurrent
from .base import _binds, _require, _Required
from .stepnet import Outputs, StepNetworkAPI

OPTIONAL = ("rnn_cell_backward", "rnn_backward", "lstm_cell_backward", "lstm_backward")
SIGNATURES = {"rnn_cell_forward": 3, "rnn_forward": 3, "lstm_cell_forward": 4, "lstm_forward": 3}  # positional
NETWORK_SPELLING = "seq6x3,rnn5,lstm4,1"  # both cells, the LSTM reading the RNN's states: every function runs
OUTPUTS: dict[str, Outputs] = {  # each function's outputs: their names and whose shape (input, output, parameter)
    "rnn_forward": (("a", "out"), ("y_pred", None), ("caches", None)),
    "lstm_forward": (("a", "out"), ("y", None), ("c", "out"), ("caches", None)),
    "rnn_backward": (("dx", "in"), ("dWax", "Wax"), ("dWaa", "Waa"), ("dba", "ba")),
    "lstm_backward": (("dx", "in"), *((f"d{p}{g}", f"{p}{g}") for g in GATES for p in "Wb")),
}


class RnnStepAPI(StepNetworkAPI):
    """The recurrent notebook's functions, verified one by one, then in a recurrent network."""

    API = "rnn"
    WEEK = "course 5 week 1 (recurrent networks step by step)"
    REQUIRED = _Required()
    KIND = Recurrent
    NETWORK_SPELLING, SPELLINGS, OUTPUTS = NETWORK_SPELLING, SPELLINGS, OUTPUTS
    OPTIONAL, STANDING_IN = OPTIONAL, ("rnn_backward", "lstm_backward")
    LAYERS = "recurrent layers"

    @classmethod
    def fits(cls, module) -> bool:
        """The four graded functions, each taking the course's arguments."""
        return all(_binds(getattr(module, name), n) for name, n in SIGNATURES.items())

    def _check_contract(self) -> None:
        for name, n in SIGNATURES.items():
            _require(_binds(getattr(self.module, name), n), name, self.REQUIRED[name])
        self._note_network()

    def _shape(self, kind: Any, m: int, whose: str) -> tuple[int, ...]:
        """A sequence (n, m, T_x) of the layer's input ("in") or of its states ("out"), or a parameter's shape."""
        if whose in ("in", "out"):
            return (kind.n_x if whose == "in" else kind.n_a, m, kind.T_x)
        return kind.shapes(kind.n_in, kind.n_out)[whose]


__all__ = ["NETWORK_SPELLING", "OPTIONAL", "RnnStepAPI"]
