"""The convolution course's step-by-step notebook (course 4, week 1): its functions are what is verified.

The notebook defines zero_pad(X, pad), conv_single_step(a_slice_prev, W, b), conv_forward(A_prev, W, b,
hparameters) and pool_forward(A_prev, hparameters, mode) (graded), and, optional in the course,
conv_backward(dZ, cache), create_mask_from_window(x), distribute_value(dz, shape) and pool_backward(dA, cache,
mode). Each is checked on its own against torch (checking/unit_conv.py): those the notebook defines, the absent
optional ones said so. The convolutional network around them is not checked yet (NETWORK), so the runner runs the
function-by-function checks alone. Every call goes through Adapter.call with the course's own arguments; this
adapter adds the time the notebook's functions took, which the report shows.
"""

from __future__ import annotations

import time

from ..errors import UsageError
from .base import Adapter, _binds, _require

OPTIONAL = ("conv_backward", "create_mask_from_window", "distribute_value", "pool_backward")
SIZES = (4, 5, 3, 1)  # no network: the runner's placeholder sizes (no data or training reads them)
NOT_RUN = (
    "the network checks (forward, backward, gradient check, lockstep, free-running) are not run: the convolution "
    "notebook's functions are verified one by one, against torch; a convolutional network is not checked yet"
)


class ConvStepAPI(Adapter):
    """The convolution notebook's functions, verified one by one; no network trained."""

    API = "conv"
    WEEK = "course 4 week 1 (convolution step by step)"
    NETWORK = False  # no network checked yet: the runner runs the function-by-function checks alone
    SIZES = SIZES

    @classmethod
    def fits(cls, module) -> bool:
        """conv_forward(A_prev, W, b, hparameters) and pool_forward(A_prev, hparameters[, mode])."""
        return _binds(module.conv_forward, 4) and (_binds(module.pool_forward, 2) or _binds(module.pool_forward, 3))

    @classmethod
    def check_options(cls, config) -> None:
        """UsageError for the options that describe a network or its data: the checks build none (SIZES is a
        placeholder), so such an option would change nothing, and a message about SIZES would mislead."""
        given = {
            "--arch": config.arch is not None,
            "--activations": config.activations is not None,
            "--loss": config.loss is not None,
            "--data": config.data != "auto",
            "--examples": config.examples is not None,
        }
        named = [flag for flag, set_ in given.items() if set_]
        if named:
            raise UsageError(
                f"the {cls.WEEK} API checks the notebook's functions one by one, on shapes of their own, and "
                f"builds no network: give no {', '.join(named)}"
            )

    def _check_contract(self) -> None:
        _require(_binds(self.module.conv_forward, 4), "conv_forward", self.REQUIRED["conv_forward"])
        self.seconds = 0.0  # the time the module's functions took, all calls together
        self.notes["network"] = NOT_RUN
        absent = [name for name in OPTIONAL if not callable(getattr(self.module, name, None))]
        if absent:
            self.notes["optional"] = (
                f"not checked: {', '.join(absent)} (optional in the course, not defined in {self.label})"
            )

    def call(self, function: str, *args, **kwargs):
        """Adapter.call, timed: the seconds add up in the note the report shows."""
        start = time.perf_counter()
        try:
            return super().call(function, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.notes["time"] = (
                f"{self._whose()} functions ran in {self.seconds:.2g} s in all (every call the checks made)"
            )

    def _whose(self) -> str:
        if self.label.endswith(".ipynb"):
            return "the notebook's"
        return "scratch's" if self.label == "scratch" else f"{self.label}'s"


__all__ = ["OPTIONAL", "SIZES", "ConvStepAPI"]
