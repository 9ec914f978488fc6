"""The implementation under test, seen through the course's API.

The built-in one is scratch; `--impl` loads a learner's own module (see loading.py). Either
way the verifier looks each function up on the module at call time (so a fault patched into the module is
what gets verified), checks what it returns, and turns anything it raises into an
ImplementationError: a failed check, reported with the implementation's own traceback lines.
Every call gets copies of what it is handed (parameters, gradients, caches, data); a function
that writes into its inputs is noted, not failed, and cannot change what the verifier holds.
"""

from __future__ import annotations

import inspect
import os
from types import ModuleType
from typing import Sequence

import numpy as np

from ..errors import ImplementationError, UsageError
from .loading import NOTES

COURSE_ACTIVATIONS = "relu hidden layers and a sigmoid output"
REQUIRED = {
    "L_model_forward": "L_model_forward(X, parameters[, activations]) -> (AL, caches)",
    "compute_cost": "compute_cost(AL, Y[, loss]) -> cost",
    "L_model_backward": "L_model_backward(AL, Y, caches[, activations, loss]) -> grads",
    "update_parameters": "update_parameters(parameters, grads, learning_rate) -> parameters",
}
INITIALIZER = "initialize_parameters_deep(layer_dims) -> parameters"
# Every call gets copies; whether a function wrote into them is looked at on its first calls
# only (a function that writes into its inputs does so every time), which costs a full
# comparison of every array it was handed.
WATCHED_CALLS = 3


class CourseImplementation:
    """A module with the course's L_model_forward, compute_cost, L_model_backward, update_parameters."""

    def __init__(self, module: ModuleType, activations: Sequence[str], loss: str, label: str = "scratch"):
        self.module = module
        self.label = label
        self.activations = list(activations)
        self.loss = loss
        self.L = len(self.activations)
        path = os.path.abspath(getattr(module, "__file__", None) or "")
        # the lines worth showing a user: those of their own file (or of the scratch package)
        self.source = os.path.dirname(path) if os.path.basename(path) == "__init__.py" else path
        self.notes: dict[str, str] = {}  # function -> what it did to its inputs, noted once
        self.loading_notes: list[str] = list(getattr(module, NOTES, []))  # what loading a notebook left out
        self.calls: dict[str, int] = {}
        self._private: dict[int, tuple] = {}  # id(data array) -> (the array, the copy handed for it)
        self._check_contract()

    def _check_contract(self) -> None:
        """Which calling convention each function takes; UsageError when one cannot do what was asked."""
        for name, expected in REQUIRED.items():
            if not callable(getattr(self.module, name, None)):
                raise UsageError(f"{self.label} has no function {name}; expected {expected}")
        course = self.activations == ["relu"] * (self.L - 1) + ["sigmoid"]
        self.forward_takes_activations = _binds(self.module.L_model_forward, 3)
        if not self.forward_takes_activations:
            _require(_binds(self.module.L_model_forward, 2), "L_model_forward", REQUIRED["L_model_forward"])
            _require(course, "L_model_forward", f"its signature L_model_forward(X, parameters) computes {COURSE_ACTIVATIONS}; "
                     f"--activations {','.join(self.activations)} needs L_model_forward(X, parameters, activations)")
        self.backward_takes_activations = _binds(self.module.L_model_backward, 5)
        if not self.backward_takes_activations:
            _require(_binds(self.module.L_model_backward, 3), "L_model_backward", REQUIRED["L_model_backward"])
            _require(course, "L_model_backward", f"its signature L_model_backward(AL, Y, caches) backpropagates {COURSE_ACTIVATIONS}; "
                     f"--activations {','.join(self.activations)} needs L_model_backward(AL, Y, caches, activations, loss)")
        self.cost_takes_loss = _binds(self.module.compute_cost, 3)
        if not self.cost_takes_loss:
            _require(_binds(self.module.compute_cost, 2), "compute_cost", REQUIRED["compute_cost"])
            _require(self.loss == "bce", "compute_cost", f"compute_cost(AL, Y) computes the cross-entropy of a sigmoid output; "
                     f"--loss {self.loss} needs compute_cost(AL, Y, loss)")
        self.cost_takes_ZL = _accepts(self.module.compute_cost, "ZL")  # scratch's does: exact at saturation
        self.backward_can_skip_dA0 = _accepts(self.module.L_model_backward, "input_gradient")  # scratch's can
        _require(_binds(self.module.update_parameters, 3), "update_parameters", REQUIRED["update_parameters"])

    def _hand_once(self, *data: np.ndarray) -> None:
        """Data arrays (X, Y) are the largest inputs and the same at every iteration: each is copied
        once and that copy is handed at every call (a function that writes into it changes only
        its own results, which the comparisons then show)."""
        for array in data:
            if self._private.get(id(array), (None,))[0] is not array:
                copy = array.copy()
                self._private[id(array)] = (array, copy)
                self._private[id(copy)] = (copy, copy)  # back in its caches (A0 = X): already the implementation's

    def _call(self, function: str, *args, **kwargs):
        handed = _copy(args, self._private)
        try:
            # A diverging run overflows; the verifier reports where each side went non-finite,
            # so NumPy's floating-point warnings would only repeat it, once per iteration.
            with np.errstate(all="ignore"):
                result = getattr(self.module, function)(*handed, **kwargs)
        except Exception as error:  # anything raised inside the implementation is its fault
            raise ImplementationError(function, error, self.source) from error
        self.calls[function] = calls = self.calls.get(function, 0) + 1
        if function not in self.notes and calls <= WATCHED_CALLS:
            changed = [f"{name} ({', '.join(parts)})" if parts else name
                       for name, original, copy in zip(_parameter_names(getattr(self.module, function), len(args)), args, handed)
                       for parts in [_changed(original, copy)] if parts is not None]
            if changed:
                self.notes[function] = (f"{function} modified its input {' and '.join(changed)} in place; it was handed "
                                        "copies, so the checks are not affected")
        return result

    def _expect(self, ok: bool, function: str, message: str) -> None:
        if not ok:
            raise ImplementationError(function, ValueError(message))

    def initialize(self, layer_dims: Sequence[int]) -> dict:
        """--init impl: the implementation's own initialize_parameters_deep(layer_dims), shapes checked."""
        if not callable(getattr(self.module, "initialize_parameters_deep", None)):
            raise UsageError(f"--init impl: {self.label} has no function {INITIALIZER}")
        params = self._call("initialize_parameters_deep", list(layer_dims))
        self._expect(isinstance(params, dict), "initialize_parameters_deep", f"expected a dict, got {_describe(params)}")
        for l in range(1, len(layer_dims)):
            for key, shape in ((f"W{l}", (layer_dims[l], layer_dims[l - 1])), (f"b{l}", (layer_dims[l], 1))):
                value = params.get(key)
                self._expect(isinstance(value, np.ndarray) and value.shape == shape, "initialize_parameters_deep",
                             f"{key} should be an array of shape {shape}, got {_describe(value)}")
        return params

    def forward(self, X: np.ndarray, parameters: dict):
        """(AL, caches) from L_model_forward, with the caches' course structure checked."""
        self._hand_once(X)
        args = (X, parameters, self.activations) if self.forward_takes_activations else (X, parameters)
        result = self._call("L_model_forward", *args)
        self._expect(isinstance(result, tuple) and len(result) == 2, "L_model_forward",
                     f"expected (AL, caches), got {_describe(result)}")
        AL, caches = result
        m = X.shape[1]
        n_L = parameters[f"W{self.L}"].shape[0]
        self._expect(isinstance(AL, np.ndarray) and AL.shape == (n_L, m), "L_model_forward",
                     f"AL should be an array of shape {(n_L, m)}, got {_describe(AL)}")
        self._expect(isinstance(caches, (list, tuple)) and len(caches) == self.L, "L_model_forward",
                     f"expected {self.L} caches, one per layer, got {_describe(caches)}")
        for l, cache in enumerate(caches, start=1):
            shape = (parameters[f"W{l}"].shape[0], m)
            ok = (isinstance(cache, tuple) and len(cache) == 2 and isinstance(cache[0], tuple) and len(cache[0]) == 3
                  and isinstance(cache[1], np.ndarray) and cache[1].shape == shape and isinstance(cache[0][0], np.ndarray))
            self._expect(ok, "L_model_forward", f"cache {l} should be ((A_prev, W, b), Z) with Z of shape {shape}")
        return AL, caches

    def layers(self, AL: np.ndarray, caches) -> dict:
        """Z{l} and A{l} for l = 1..L, read from the course caches ((A_prev, W, b), Z)."""
        values = {f"A{self.L}": AL}
        for l, ((A_prev, _, _), Z) in enumerate(caches, start=1):
            values[f"Z{l}"] = Z
            if l > 1:
                values[f"A{l - 1}"] = A_prev
        return values

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches) -> float:
        self._hand_once(Y)
        args = (AL, Y, self.loss) if self.cost_takes_loss else (AL, Y)
        kwargs = {"ZL": caches[-1][1]} if self.cost_takes_ZL else {}
        cost = self._call("compute_cost", *args, **kwargs)
        try:
            return float(np.asarray(cost).reshape(()))
        except (TypeError, ValueError):
            raise ImplementationError("compute_cost", ValueError(f"expected a number, got {_describe(cost)}")) from None

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches, parameters: dict, need_dA0: bool = True) -> dict:
        """dW{l}, db{l} (l = 1..L), dA{l} (l = 0..L-1) and dZ{l} where given, shapes checked.

        Training does not use dA0; an implementation that can skip it (scratch) is asked to.
        """
        self._hand_once(Y)
        args = (AL, Y, caches, self.activations, self.loss) if self.backward_takes_activations else (AL, Y, caches)
        skip = not need_dA0 and self.backward_can_skip_dA0
        grads = self._call("L_model_backward", *args, **({"input_gradient": False} if skip else {}))
        self._expect(isinstance(grads, dict), "L_model_backward", f"expected a dict of gradients, got {_describe(grads)}")
        m = Y.shape[1]
        for l in range(1, self.L + 1):
            expected = {f"dW{l}": parameters[f"W{l}"].shape, f"db{l}": parameters[f"b{l}"].shape}
            if l > 1 or not skip:
                expected[f"dA{l - 1}"] = (parameters[f"W{l}"].shape[1], m)
            for key, shape in expected.items():
                value = grads.get(key)
                self._expect(isinstance(value, np.ndarray) and value.shape == shape, "L_model_backward",
                             f"{key} should be an array of shape {shape}, got {_describe(value)}")
        return grads

    def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict:
        updated = self._call("update_parameters", parameters, grads, learning_rate)
        self._expect(isinstance(updated, dict), "update_parameters", f"expected a dict, got {_describe(updated)}")
        updated = dict(updated)
        for key, value in parameters.items():
            new = updated.get(key)
            self._expect(isinstance(new, np.ndarray) and new.shape == value.shape, "update_parameters",
                         f"{key} should be an array of shape {value.shape}, got {_describe(new)}")
            if new.dtype != value.dtype:  # the math is right; the run stays in its dtype, end to end
                self.notes.setdefault("dtype", f"update_parameters returned {key} as {new.dtype} in a {value.dtype} "
                                      f"run (a {new.dtype} constant or gradient promotes it, e.g. np.where(Z > 0, 1.0, "
                                      f"0.01)); the parameters were cast back to {value.dtype}")
                updated[key] = new.astype(value.dtype)
        return updated


def _copy(value, private: dict):
    """A copy of every array in value (nested dicts, lists and tuples), or its copy in `private`
    (see _hand_once); other values as they are."""
    if isinstance(value, np.ndarray):
        own = private.get(id(value))
        return own[1] if own is not None and own[0] is value else value.copy()
    if isinstance(value, dict):
        return {k: _copy(v, private) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v, private) for v in value)
    return value


def _changed(original, copy) -> "list[str] | None":
    """None when copy still equals original; else the keys (or positions) that changed, possibly none named."""
    if isinstance(original, np.ndarray):
        same = (isinstance(copy, np.ndarray) and copy.shape == original.shape and copy.dtype == original.dtype
                and (np.array_equal(copy, original) or np.array_equal(copy, original, equal_nan=True)))
        return None if same else []
    if isinstance(original, dict):
        if not isinstance(copy, dict):
            return []
        keys = [str(k) for k in original if k not in copy or _changed(original[k], copy[k]) is not None]
        keys += [str(k) for k in copy if k not in original]
        return keys or None
    if isinstance(original, (list, tuple)):
        if not isinstance(copy, type(original)) or len(copy) != len(original):
            return []
        positions = [str(i) for i, (a, b) in enumerate(zip(original, copy)) if _changed(a, b) is not None]
        return positions or None
    return None


def _parameter_names(function, n: int) -> list[str]:
    try:
        names = [p.name for p in inspect.signature(function).parameters.values()]
    except (TypeError, ValueError):
        names = []
    return (names + [f"argument {i + 1}" for i in range(len(names), n)])[:n]


def _binds(function, n: int) -> bool:
    """Whether function can be called with n positional arguments."""
    try:
        inspect.signature(function).bind(*range(n))
        return True
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): assume it can
        return True


def _accepts(function, name: str) -> bool:
    try:
        return name in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _require(ok: bool, function: str, message: str) -> None:
    if not ok:
        raise UsageError(f"{function}: {message}")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if value is None:
        return "nothing (None)"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"
