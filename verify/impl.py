"""The implementation under test, seen through the course's API.

The verifier never calls scratch's functions directly: it looks each one up on the module
at call time (so a fault patched into the module is what gets verified), checks what it
returns, and turns anything it raises into an ImplementationError, a failed check.
"""

from __future__ import annotations

import inspect
import os
from types import ModuleType
from typing import Sequence

import numpy as np

from .errors import ImplementationError


class CourseImplementation:
    """A module with initialize_parameters_deep, L_model_forward, compute_cost, L_model_backward, update_parameters."""

    def __init__(self, module: ModuleType, activations: Sequence[str], loss: str):
        self.module = module
        self.name = module.__name__
        self.activations = list(activations)
        self.loss = loss
        self.L = len(self.activations)
        path = getattr(module, "__file__", None) or ""
        self.source_dir = os.path.dirname(os.path.abspath(path)) if path else None
        self.cost_takes_ZL = _accepts(module.compute_cost, "ZL")  # scratch's does: exact costs at saturation

    def _call(self, function: str, *args, **kwargs):
        try:
            # A diverging run overflows; the verifier reports where each side went non-finite,
            # so NumPy's floating-point warnings would only repeat it, once per iteration.
            with np.errstate(all="ignore"):
                return getattr(self.module, function)(*args, **kwargs)
        except Exception as error:  # anything raised inside the implementation is its fault
            raise ImplementationError(function, error, self.source_dir) from error

    def _expect(self, ok: bool, function: str, message: str) -> None:
        if not ok:
            raise ImplementationError(function, ValueError(message))

    def forward(self, X: np.ndarray, parameters: dict):
        """(AL, caches) from L_model_forward, with the caches' course structure checked."""
        result = self._call("L_model_forward", X, parameters, self.activations)
        self._expect(isinstance(result, tuple) and len(result) == 2, "L_model_forward", "expected (AL, caches)")
        AL, caches = result
        n_L, m = parameters[f"W{self.L}"].shape[0], X.shape[1]
        self._expect(isinstance(AL, np.ndarray) and AL.shape == (n_L, m), "L_model_forward",
                     f"AL should be an array of shape {(n_L, m)}, got {_describe(AL)}")
        self._expect(isinstance(caches, (list, tuple)) and len(caches) == self.L, "L_model_forward",
                     f"expected {self.L} caches, one per layer, got {_describe(caches)}")
        return AL, caches

    def layers(self, AL: np.ndarray, caches) -> dict:
        """Z{l} and A{l} for l = 1..L, read from the course caches ((A_prev, W, b), Z)."""
        values = {}
        for l, ((_, _, _), Z) in enumerate(caches, start=1):
            values[f"Z{l}"] = Z
            if l > 1:
                values[f"A{l - 1}"] = caches[l - 1][0][0]
        values[f"A{self.L}"] = AL
        return values

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches) -> float:
        kwargs = {"ZL": caches[-1][1]} if self.cost_takes_ZL else {}
        cost = self._call("compute_cost", AL, Y, self.loss, **kwargs)
        try:
            return float(np.asarray(cost).reshape(()))
        except (TypeError, ValueError):
            raise ImplementationError("compute_cost", ValueError(f"expected a number, got {_describe(cost)}")) from None

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches, parameters: dict) -> dict:
        """dW{l}, db{l} (l = 1..L), dA{l} (l = 0..L-1) and dZ{l} where given, shapes checked."""
        grads = self._call("L_model_backward", AL, Y, caches, self.activations, self.loss)
        self._expect(isinstance(grads, dict), "L_model_backward", f"expected a dict of gradients, got {_describe(grads)}")
        for l in range(1, self.L + 1):
            for key, shape in ((f"dW{l}", parameters[f"W{l}"].shape), (f"db{l}", parameters[f"b{l}"].shape)):
                value = grads.get(key)
                self._expect(isinstance(value, np.ndarray) and value.shape == shape, "L_model_backward",
                             f"{key} should be an array of shape {shape}, got {_describe(value)}")
        return grads

    def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict:
        updated = self._call("update_parameters", parameters, grads, learning_rate)
        self._expect(isinstance(updated, dict), "update_parameters", f"expected a dict, got {_describe(updated)}")
        for key, value in parameters.items():
            new = updated.get(key)
            self._expect(isinstance(new, np.ndarray) and new.shape == value.shape, "update_parameters",
                         f"{key} should be an array of shape {value.shape}, got {_describe(new)}")
        return updated


def _accepts(function, name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if value is None:
        return "nothing"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"
