"""Week 3, "Planar data classification with one hidden layer": the two-layer API.

Z1 = W1 X + b1, A1 = tanh(Z1), Z2 = W2 A1 + b2, A2 = sigmoid(Z2), the cross-entropy cost;
backward_propagation returns dW1, db1, dW2, db2 (no dA or dZ: only those are compared).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import UsageError
from .base import Adapter, _binds, _describe, _require

ACTIVATIONS = ("tanh", "sigmoid")


class Caches(NamedTuple):
    """What backward_propagation(parameters, cache, X, Y) needs besides Y, kept from the forward pass."""

    cache: dict  # {"Z1", "A1", "Z2", "A2"}
    X: np.ndarray
    parameters: dict


class ShallowAPI(Adapter):
    """forward_propagation, compute_cost, backward_propagation, update_parameters."""

    API = "shallow"
    WEEK = "week 3 (one hidden layer)"

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return ACTIVATIONS if L == 2 else Adapter.default_activations(L)

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        # A size the module's own code fixes always has three (impl/sizes.py takes no other): only --arch can be wrong.
        if len(arch) != 3:
            raise UsageError(
                f"the {cls.WEEK} API computes n_x -> n_h (tanh) -> n_y (sigmoid): give --arch n_x,n_h,n_y "
                f"(got --arch {','.join(map(str, arch))})"
            )
        if tuple(activations) != ACTIVATIONS or loss != "bce":
            raise UsageError(
                f"the {cls.WEEK} API computes n_x -> n_h (tanh) -> n_y (sigmoid) with the cross-entropy "
                f"cost: give no other --activations or --loss (got activations {','.join(activations)}, "
                f"loss {loss})"
            )

    def _check_contract(self) -> None:
        _require(
            _binds(self.module.forward_propagation, 2), "forward_propagation", self.REQUIRED["forward_propagation"]
        )
        _require(
            _binds(self.module.backward_propagation, 4), "backward_propagation", self.REQUIRED["backward_propagation"]
        )
        # Older notebooks pass the parameters too: compute_cost(A2, Y, parameters).
        self.cost_takes_parameters = not _binds(self.module.compute_cost, 2) and _binds(self.module.compute_cost, 3)
        _require(
            _binds(self.module.compute_cost, 2) or self.cost_takes_parameters,
            "compute_cost",
            self.REQUIRED["compute_cost"],
        )

    def initialize(self, layer_dims: Sequence[int]) -> dict:
        """--init impl: the implementation's own initialize_parameters(n_x, n_h, n_y), shapes checked."""
        function = self._initialiser()
        params = self.call(function, *layer_dims)
        return self.checked_params(function, params, layer_dims)

    def forward(self, X: np.ndarray, parameters: dict, masks=None):
        """(A2, Caches) from forward_propagation, with the cache's keys and shapes checked."""
        self._hand_once(X)
        result = self.call("forward_propagation", X, parameters)
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == 2,
            "forward_propagation",
            f"expected (A2, cache), got {_describe(result)}",
        )
        A2, cache = result
        m = X.shape[1]
        shapes = {
            "Z1": (parameters["W1"].shape[0], m),
            "A1": (parameters["W1"].shape[0], m),
            "Z2": (parameters["W2"].shape[0], m),
            "A2": (parameters["W2"].shape[0], m),
        }
        self.expect(
            isinstance(A2, np.ndarray) and A2.shape == shapes["A2"],
            "forward_propagation",
            f"A2 should be an array of shape {shapes['A2']}, got {_describe(A2)}",
        )
        self.expect(
            isinstance(cache, dict), "forward_propagation", f"the cache should be a dict, got {_describe(cache)}"
        )
        for key, shape in shapes.items():
            value = cache.get(key)
            self.expect(
                isinstance(value, np.ndarray) and value.shape == shape,
                "forward_propagation",
                f'cache["{key}"] should be an array of shape {shape}, got {_describe(value)}',
            )
        return A2, Caches(cache, X, parameters)

    def layer_values(self, AL: np.ndarray, caches: Caches) -> dict:
        return {"Z1": caches.cache["Z1"], "A1": caches.cache["A1"], "Z2": caches.cache["Z2"], "A2": AL}

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Caches) -> float:
        self._hand_once(Y)
        args = (AL, Y, caches.parameters) if self.cost_takes_parameters else (AL, Y)
        return self.number("compute_cost", self.call("compute_cost", *args))

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Caches, parameters: dict) -> dict:
        """dW1, db1, dW2, db2 from backward_propagation(parameters, cache, X, Y), shapes checked."""
        self._hand_once(Y)
        grads = self.call("backward_propagation", parameters, caches.cache, caches.X, Y)
        expected = {f"d{k}": v.shape for k, v in parameters.items()}
        return self._checked_grads("backward_propagation", grads, expected)
