"""The second course's Gradient Checking notebook: the learner's gradient checker is what is verified.

The notebook defines (graded) forward_propagation(x, theta) -> J = theta x, backward_propagation(x, theta) -> x,
gradient_check(x, theta, epsilon) and gradient_check_n(parameters, gradients, X, Y, epsilon), and (given)
forward_propagation_n(X, Y, parameters) -> (cost, cache) and backward_propagation_n(X, Y, cache) -> gradients on a
fixed 4-5-3-1 network (relu, relu, sigmoid, the mean cross-entropy; its helper gc_utils fixes the shapes), whose
backward pass hides two planted bugs for the checker to find. There is no network to train: the function-by-function
checks (checking/unit_gradcheck.py) are the run, and the network checks are not run (NETWORK).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from .base import Adapter, _binds, _require

ACTIVATIONS = ("relu", "relu", "sigmoid")
SIZES = (4, 5, 3, 1)  # gc_utils' vector_to_dictionary: W1 (5, 4), W2 (3, 5), W3 (1, 3)
NOT_RUN = (
    "the network checks (forward, backward, gradient check, lockstep, free-running) are not run: the gradient "
    "checking notebook trains no network; its checker is verified, function by function"
)


class GradCheckAPI(Adapter):
    """gradient_check_n and the functions it checks: verified one by one, no network trained."""

    API = "gradcheck"
    WEEK = "course 2 (gradient checking)"
    NETWORK = False  # nothing to train: the runner runs the function-by-function checks alone
    UNTRAINED = "it trains no network: its checker is verified, function by function"
    SIZES = SIZES
    FIXED = (
        f"checks forward_propagation_n's network, {','.join(map(str, SIZES))} (relu, relu, sigmoid, the cross-entropy "
        "cost), which its helper gc_utils fixes"
    )

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return ACTIVATIONS if L == 3 else Adapter.default_activations(L)

    @classmethod
    def fits(cls, module) -> bool:
        """The gradient checking notebook: gradient_check_n(parameters, gradients, X, Y[, epsilon])."""
        function = getattr(module, "gradient_check_n", None)
        return callable(function) and _binds(function, 4)

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        if tuple(arch) != SIZES or tuple(activations) != ACTIVATIONS or loss != "bce":
            raise UsageError(
                f"the {cls.WEEK} API {cls.FIXED}: give no --arch, --activations or --loss (got --arch "
                f"{','.join(map(str, arch))}, activations {','.join(activations)}, loss {loss})"
            )

    def _check_contract(self) -> None:
        for name, parameters in (("forward_propagation_n", 3), ("gradient_check_n", 4)):
            _require(_binds(getattr(self.module, name), parameters), name, self.REQUIRED[name])
        self.notes["network"] = NOT_RUN


__all__ = ["SIZES", "GradCheckAPI"]
