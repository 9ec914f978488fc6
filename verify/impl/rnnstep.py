"""The sequence-models course's recurrent step-by-step notebook (course 5, week 1): its functions are what is
verified.

The notebook defines (graded) rnn_cell_forward(xt, a_prev, parameters), rnn_forward(x, a0, parameters),
lstm_cell_forward(xt, a_prev, c_prev, parameters) and lstm_forward(x, a0, parameters), and, optional in the course,
rnn_cell_backward(da_next, cache), rnn_backward(da, caches), lstm_cell_backward(da_next, dc_next, cache) and
lstm_backward(da, caches). Each is checked on its own against torch (checking/unit_rnn.py, unit_lstm.py): the
function-by-function checks are the run, and the network checks are not run yet (NETWORK; NOT_RUN says so in the
report). The course's functions loop over the time steps in Python: the report says how long they took (every call
goes through Adapter.call, which TimedCalls times).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from .base import Adapter, _binds, _require
from .timed import TimedCalls

OPTIONAL = ("rnn_cell_backward", "rnn_backward", "lstm_cell_backward", "lstm_backward")
SIGNATURES = {"rnn_cell_forward": 3, "rnn_forward": 3, "lstm_cell_forward": 4, "lstm_forward": 3}  # positional
SIZES = (3, 5, 2)  # a placeholder, the course's n_x, n_a, n_y: no network is built; the checks choose their shapes
NOT_RUN = (
    "the network checks (forward, backward, gradient check, lockstep, free-running) are not run yet for the "
    "recurrent notebook: its functions are verified one by one"
)


class RnnStepAPI(TimedCalls, Adapter):
    """The recurrent notebook's functions, verified one by one, timed; no network trained yet."""

    API = "rnn"
    WEEK = "course 5 week 1 (recurrent networks step by step)"
    NETWORK = False  # the runner runs the function-by-function checks alone
    SIZES = SIZES

    @classmethod
    def fits(cls, module) -> bool:
        """The four graded functions, each taking the course's arguments."""
        return all(_binds(getattr(module, name), n) for name, n in SIGNATURES.items())

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        if (
            tuple(arch) != SIZES
            or tuple(activations) != tuple(cls.default_activations(len(SIZES) - 1))
            or loss != "bce"
        ):
            raise UsageError(
                f"the {cls.WEEK} API checks its functions on shapes of its own and builds no network from options: "
                f"give no --arch, --activations or --loss (got --arch {','.join(map(str, arch))}, activations "
                f"{','.join(activations)}, loss {loss})"
            )

    def _check_contract(self) -> None:
        for name, n in SIGNATURES.items():
            _require(_binds(getattr(self.module, name), n), name, self.REQUIRED[name])
        self.seconds = 0.0
        absent = [name for name in OPTIONAL if not callable(getattr(self.module, name, None))]
        if absent:
            self.notes["optional"] = (
                f"not checked: {', '.join(absent)} (optional in the course, not defined in {self.label})"
            )
        self.notes["network"] = NOT_RUN


__all__ = ["NOT_RUN", "OPTIONAL", "SIZES", "RnnStepAPI"]
