"""The character-level language model notebook (course 5 week 1, "Dinosaur Island"): its functions are verified.

The learner writes clip(gradients, maxValue), sample(parameters, char_to_ix, seed) and optimize(X, Y, a_prev,
parameters, learning_rate=0.01), which runs the course's rnn_forward and rnn_backward (its helper file utils.py)
on one name, clips at 5 and updates the parameters in place, and model(), which calls optimize name after name
for 35000 iterations (not run: the notebook's cells that train load as definitions only). There is no network of
layers for the network checks (NETWORK): each function is checked on its own (checking/unit_charlm.py), then
optimize is run over the first names of the corpus against torch, in lockstep and free-running
(checking/charlm_names.py, logged to TensorBoard when it is on). Every call is timed: the report says how long the
notebook's functions took.

optimize is also week 2's name (optimize(w, b, X, Y, num_iterations, learning_rate, print_cost)): this API is the
one whose clip and sample are there and whose optimize takes (X, Y, a_prev, parameters[, learning_rate]).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from ..errors import UsageError
from .base import Adapter, _accepts, _binds, _require
from .calls import Lent

SIZES = (27, 50, 27)  # n_x, n_a, n_y: the course's vocabulary ("\n" and a-z) and its model()'s hidden units
ACTIVATIONS = ("tanh", "softmax")
HELPERS = ("softmax", "rnn_forward", "rnn_backward", "update_parameters")  # utils.py's, which sample, optimize call
NOT_RUN = (
    "the network checks (forward, backward, gradient check, lockstep, free-running on a dataset) are not run: the "
    "language model is checked function by function, then optimize over the corpus's first names as the course's "
    "model() calls it (model() itself, 35000 iterations, is not run)"
)


class CharLMAPI(Adapter):
    """clip, sample and optimize, each on its own, then optimize over names: no network of layers to train."""

    API = "charlm"
    WEEK = "course 5 week 1 (the character-level language model)"
    NETWORK = False  # the runner runs the functions' checks and then the API's own (own_checks)
    SIZES = SIZES
    FIXED = (
        f"runs the course's model, a vocabulary of {SIZES[0]} characters, {SIZES[1]} tanh units and a softmax over the "
        "next character"
    )
    SCOPE = "its course functions, each on its own, then optimize over the first names of the corpus"
    OWN_CHECKED = ("clip", "optimize")  # optimize, and the clip it calls, over the names
    UNTRAINED = "its optimize is run on the corpus's first names, one step a name, at the course's learning rate"

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return ACTIVATIONS if L == 2 else Adapter.default_activations(L)

    @classmethod
    def fits(cls, module) -> bool:
        """clip(gradients, maxValue), sample(parameters, char_to_ix, seed) and optimize(X, Y, a_prev, parameters[,
        learning_rate]), not week 2's optimize(w, b, X, Y, num_iterations, ...)."""
        optimize = module.optimize
        return (
            _binds(module.clip, 2)
            and _binds(module.sample, 3)
            and _binds(optimize, 4)
            and not _accepts(optimize, "num_iterations")
        )

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        if tuple(arch) != SIZES or tuple(activations) != ACTIVATIONS or loss != "ce":
            raise UsageError(
                f"the {cls.WEEK} API {cls.FIXED}: give no --arch, --activations or --loss (got --arch "
                f"{','.join(map(str, arch))}, activations {','.join(activations)}, loss {loss})"
            )

    def _check_contract(self) -> None:
        for name, parameters in (("clip", 2), ("sample", 3), ("optimize", 4)):
            _require(_binds(getattr(self.module, name), parameters), name, self.REQUIRED[name])
        missing = [
            helper
            for helper in HELPERS
            if helper in _names_used(self.module) and not callable(getattr(self.module, helper, None))
        ]
        if missing:
            raise UsageError(
                f"{self.label}'s sample and optimize call {', '.join(missing)}, the course's helper functions, which "
                "it neither defines nor imports: put the course's helper file utils.py beside it"
            )
        self.seconds = 0.0  # the time the module's functions took, all calls together
        self.notes["network"] = NOT_RUN

    def own_checks(self, config, stage):
        """optimize over the first names of the corpus, lockstep and free-running (checking/charlm_names.py)."""
        from ..checking.charlm_names import check_names

        return check_names(self, config, stage)

    def optimize(self, X: list, Y: list, a_prev: np.ndarray, parameters: dict, learning_rate: float):
        """The module's optimize on a copy of the parameters, and what that copy holds after the call: the course's
        optimize updates the dict it is handed (its model() never reads them back), in place as update_parameters
        does, or with new arrays put into it (parameters[k] = parameters[k] - lr * gradients['d' + k])."""
        handed = {key: value.copy() for key, value in parameters.items()}
        result = self.call("optimize", X, Y, a_prev, Lent(handed), learning_rate)
        return result, self._checked_update("optimize", handed, parameters)

    def call(self, function: str, *args, **kwargs):
        """Adapter.call, timed: the seconds add up in the note the report shows. optimize's in-place update is
        the course's contract, not a side effect worth a note."""
        start = time.perf_counter()
        try:
            return super().call(function, *args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start
            self.notes["time"] = (
                f"{self._whose()} functions ran in {self.seconds:.2g} s in all (every call the checks made)"
            )
            if function == "optimize":
                self.notes.pop("optimize", None)

    def _whose(self) -> str:
        if self.label.endswith(".ipynb"):
            return "the notebook's"
        return "scratch's" if self.label == "scratch" else f"{self.label}'s"


def _names_used(module) -> set[str]:
    """The global names sample's and optimize's code reads (a function without code, a builtin: none)."""
    codes = [getattr(getattr(module, name, None), "__code__", None) for name in ("sample", "optimize")]
    return {name for code in codes if code is not None for name in code.co_names}


__all__ = ["SIZES", "CharLMAPI"]
