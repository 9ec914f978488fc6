"""What every course API's adapter shares: calling the implementation safely, and its update.

An adapter looks each function up on the module at call time (so a fault patched into the
module is what gets verified), checks what it returns, and turns anything it raises into an
ImplementationError: a failed check, reported with the implementation's own traceback lines.
Every call gets copies of what it is handed (parameters, gradients, caches, data); a function
that writes into its inputs is noted, not failed, and cannot change what the verifier holds.

The interface the checks use, whatever the course week: forward(X, P) -> (AL, caches),
layer_values(AL, caches) -> {Z1, A1, ...}, cost(AL, Y, caches), backward(AL, Y, caches, P) ->
{dW1, db1, ...}, update(P, grads, lr), initialize(layer_dims). The caches are the adapter's
own business: only its own methods read them.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Sequence
from contextlib import redirect_stdout
from types import ModuleType
from typing import Any

import numpy as np

import scratch

from .. import signals
from ..errors import ImplementationError, MissingPackageError, UsageError
from ..network import Network
from .loading import LEFT_OUT, NOTES

PRIVATE_COPIES = 16  # data arrays (and their copies) handed at once, at most

# The optimisation course's functions, by what a run uses them for.
OPTIMIZER_FUNCTIONS = {
    "momentum": ("initialize_velocity", "update_parameters_with_momentum"),
    "adam": ("initialize_adam", "update_parameters_with_adam"),
}
DECAY_FUNCTIONS = {"inverse": "update_lr", "scheduled": "schedule_lr_decay"}
SIGNATURES = {
    "initialize_velocity": "initialize_velocity(parameters) -> v",
    "update_parameters_with_momentum": "update_parameters_with_momentum(parameters, grads, v, beta, learning_rate) "
    "-> (parameters, v)",
    "initialize_adam": "initialize_adam(parameters) -> (v, s)",
    "update_parameters_with_adam": "update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, beta1, "
    "beta2, epsilon) -> (parameters, v, s, v_corrected, s_corrected)",
    "update_lr": "update_lr(learning_rate0, epoch_num, decay_rate) -> learning_rate",
    "schedule_lr_decay": "schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval) -> learning_rate",
}

# Every call gets copies; whether a function wrote into them is looked at on its first calls
# only (a function that writes into its inputs does so every time), which costs a full
# comparison of every array it was handed.
WATCHED_CALLS = 3


class Adapter:
    """A learner's (or scratch's) module, seen through the interface the checks use."""

    API = ""  # deep, shallow: what --api calls it
    WEEK = ""  # how the course calls it
    REQUIRED: dict[str, str] = {}  # function -> its course signature

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return tuple(scratch.default_activations(L))

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        """UsageError when this API cannot compute the network asked for."""

    def __init__(
        self,
        module: ModuleType,
        network: Network,
        label: str = "scratch",
        *,
        optimizer: str = "gd",
        decay: str | None = None,
        decay_interval: int = 1000,
        mini_batch_size: int | None = None,
    ):
        """The module seen through this API for `network`, trained by `optimizer` (with mini-batches, a decay):
        UsageError, in this order, when the module lacks a function, a function's signature cannot compute the
        network, the API cannot train that way, the module lacks the optimiser's or the decay's functions, or it
        cannot compute the network's L2 penalty or dropout."""
        self.module = module
        self.label = label
        self.network = network
        self.activations = list(network.activations)
        self.loss = network.loss
        self.L = network.L
        self.lambd = 0.0  # L2 regularisation, once _check_regularization accepts network.lambd
        self.keep_probs: tuple[float, ...] | None = None  # dropout: keep_prob per hidden layer (_check_dropout)
        self.draws_masks = False  # dropout: the implementation draws its own masks (masks_of reads them)
        self.decay_takes_interval = False  # schedule_lr_decay takes time_interval (_check_optimization)
        path = os.path.abspath(getattr(module, "__file__", None) or "")
        # the lines worth showing a user: those of their own file (or of the scratch package)
        self.source = os.path.dirname(path) if os.path.basename(path) == "__init__.py" else path
        self.notes: dict[str, str] = {}  # function -> what it did to its inputs, noted once
        # what loading left out; the list itself, which a plot skipped during the checks adds to (impl/standins.py)
        self.loading_notes: list[str] = getattr(module, NOTES, [])
        self.calls: dict[str, int] = {}
        self._private: dict[
            int, tuple[np.ndarray, np.ndarray]
        ] = {}  # id(data array) -> (the array, the copy handed for it)
        for name, expected in self.REQUIRED.items():
            if not callable(getattr(module, name, None)):
                raise UsageError(f"{label} has no function {name}; expected {expected}")
        if "update_parameters" in self.REQUIRED:
            _require(_binds(module.update_parameters, 3), "update_parameters", self.REQUIRED["update_parameters"])
        self._check_contract()
        self._check_training(optimizer, decay, mini_batch_size)
        self._check_optimization(optimizer, decay, decay_interval)
        self._check_regularization(network.lambd)
        self._check_dropout(network.keep_probs)

    def _check_contract(self) -> None:
        """Which calling convention each function takes; UsageError when one cannot do what was asked."""

    def _check_training(self, optimizer: str, decay: str | None, mini_batch_size: int | None) -> None:
        """UsageError where this API cannot train with this optimiser, these mini-batches or this decay."""

    # The interface the checks use (the module docstring), which each course API's adapter defines.
    def initialize(self, layer_dims: Sequence[int]) -> dict:
        raise NotImplementedError

    def forward(self, X: np.ndarray, parameters: dict, masks: list | None = None) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def layer_values(self, AL: np.ndarray, caches: Any) -> dict:
        raise NotImplementedError

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Any) -> float:
        raise NotImplementedError

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Any, parameters: dict) -> dict:
        raise NotImplementedError

    def _hand_once(self, *data: np.ndarray) -> None:
        """Data arrays (X, Y) are the largest inputs and the same at every iteration: each is copied
        once and that copy is handed at every call (a function that writes into it changes only
        its own results, which the comparisons then show)."""
        for array in data:
            if self._private.get(id(array), (None,))[0] is not array:
                if len(self._private) >= PRIVATE_COPIES:  # mini-batches: a new array each step; keep the latest few
                    self._private.clear()
                copy = array.copy()
                self._private[id(array)] = (array, copy)
                self._private[id(copy)] = (copy, copy)  # back in its caches (A0 = X): already the implementation's

    def call(self, function: str, *args, **kwargs):
        signals.check()  # an interrupt swallowed elsewhere (see signals.check): no more calls into the learner's code
        handed = _copy(args, self._private)
        signals_before = signals.count()
        try:
            # A diverging run overflows; the verifier reports where each side went non-finite,
            # so NumPy's floating-point warnings would only repeat it, once per iteration.
            # What it prints goes to stderr: stdout is the report's (and --json -'s).
            with np.errstate(all="ignore"), redirect_stdout(sys.stderr):
                result = getattr(self.module, function)(*handed, **kwargs)
        except MissingPackageError:  # a library its code needs is not installed: exit 2, not a failed check
            raise
        except BaseException as error:  # anything raised inside the implementation is its fault, sys.exit included
            interrupt = signals.arrived_during(signals_before)
            if interrupt is not None:  # Ctrl-C or a signal while it ran: the run's interrupt, not its outcome
                raise interrupt from None
            origin = (
                getattr(self.module, LEFT_OUT, {}).get(getattr(error, "name", None))
                if isinstance(error, NameError)
                else None
            )
            if (
                origin is not None and isinstance(error, NameError) and error.args
            ):  # a name the notebook's left-out code would have bound
                error.args = (f"{error.args[0]} ({error.name} comes from {origin})",)
            raise ImplementationError(function, error, self.source) from error
        interrupt = signals.arrived_during(signals_before)
        if interrupt is not None:  # its code swallowed the interrupt (a bare except:): raised again here
            raise interrupt
        where = _object_array(result)
        if where is not None:  # NumPy cannot compute with it (np.isfinite, the comparisons): rejected here
            self.expect(
                False,
                function,
                f"it returned an array of dtype object{where}: an array of Python objects, "
                "not numbers (np.array of a list of arrays, or dtype=object); return float arrays",
            )
        self.calls[function] = calls = self.calls.get(function, 0) + 1
        if function not in self.notes and calls <= WATCHED_CALLS:
            changed = [
                f"{name} ({', '.join(parts)})" if parts else name
                for name, original, copy in zip(
                    _parameter_names(getattr(self.module, function), len(args)), args, handed
                )
                for parts in [_changed(original, copy)]
                if parts is not None
            ]
            if changed:
                self.notes[function] = (
                    f"{function} modified its input {' and '.join(changed)} in place; it was handed "
                    "copies, so the checks are not affected"
                )
        return result

    def expect(self, ok: bool, function: str, message: str) -> None:
        if not ok:
            raise ImplementationError(function, ValueError(message))

    def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict:
        return self._checked_update(
            "update_parameters", self.call("update_parameters", parameters, grads, learning_rate), parameters
        )

    def _checked_update(self, function: str, updated, parameters: dict) -> dict:
        """An update's parameters: a dict with each array's shape, in the run's dtype."""
        self.expect(isinstance(updated, dict), function, f"expected a dict, got {_describe(updated)}")
        updated = dict(updated)
        for key, value in parameters.items():
            new = updated.get(key)
            self.expect(
                isinstance(new, np.ndarray) and new.shape == value.shape,
                function,
                f"{key} should be an array of shape {value.shape}, got {_describe(new)}",
            )
        return self._in_run_dtype(function, updated, parameters)

    def _check_regularization(self, lambd: float) -> None:
        """L2 with lambd > 0; UsageError where this API has no regularised cost and gradients."""
        if lambd:
            raise UsageError(
                f"--lambd: {self.label} is the {self.WEEK} API; L2 regularisation is verified on the week-4 "
                "API (compute_cost_with_regularization and an L_model_backward taking lambd)"
            )

    def _check_dropout(self, keep_probs) -> None:
        """Dropout with these keep_probs, masks handed to forward; UsageError where this API has none."""
        if keep_probs is not None:
            raise UsageError(
                f"--keep-prob: {self.label} is the {self.WEEK} API; dropout is verified on the week-4 API "
                "(L_model_forward taking keep_prob and masks, L_model_backward taking keep_prob)"
            )

    def masks_of(self, caches) -> list | None:
        """The dropout masks a forward pass that draws its own used, one per hidden layer (None: none there)."""
        return None

    def _check_optimization(self, optimizer: str, decay: str | None, decay_interval: int) -> None:
        """UsageError naming the functions --optimizer (or else --decay) needs that the module does not define."""
        for flag, needed in (
            (f"--optimizer {optimizer}", OPTIMIZER_FUNCTIONS.get(optimizer, ())),
            (f"--decay {decay}", (DECAY_FUNCTIONS[decay],) if decay else ()),
        ):
            missing = [SIGNATURES[name] for name in needed if not callable(getattr(self.module, name, None))]
            if missing:
                raise UsageError(f"{flag}: {self.label} has no function {' and no function '.join(missing)}")
        if decay == "scheduled":
            self.decay_takes_interval = _binds(self.module.schedule_lr_decay, 4)
            if not self.decay_takes_interval and decay_interval != 1000:
                raise UsageError(
                    f"--decay-interval {decay_interval}: {self.label}'s schedule_lr_decay takes no "
                    "time_interval to pass it to; leave --decay-interval out (the course's 1000) or "
                    "give it the course's time_interval=1000 parameter"
                )

    def optimizer_state(self, optimizer: str, parameters: dict) -> dict:
        """The optimiser's state before the first step, from the implementation's own initialiser: {"v"[, "s"]}."""
        if optimizer == "momentum":
            return {
                "v": self._moments("initialize_velocity", "v", self.call("initialize_velocity", parameters), parameters)
            }
        if optimizer == "adam":
            result = self.call("initialize_adam", parameters)
            self.expect(
                isinstance(result, (tuple, list)) and len(result) == 2,
                "initialize_adam",
                f"expected (v, s), got {_describe(result)}",
            )
            return {
                name: self._moments("initialize_adam", name, value, parameters)
                for name, value in zip(("v", "s"), result)
            }
        return {}

    def optimizer_update(
        self, optimizer: str, parameters: dict, grads: dict, state: dict, learning_rate: float, t: int, settings: dict
    ) -> tuple[dict, dict]:
        """One step of `optimizer` (gd, momentum, adam) at step t (from 1): (parameters, state after it).

        Adam's state after the step holds v_corrected and s_corrected too, unless the function returns
        only (parameters, v, s), as older notebooks do."""
        if optimizer == "gd":
            return self.update(parameters, grads, learning_rate), {}
        if optimizer == "momentum":
            function = "update_parameters_with_momentum"
            result = self.call(function, parameters, grads, state["v"], settings["beta"], learning_rate)
            names: tuple[str, ...] = ("v",)
        else:
            function = "update_parameters_with_adam"
            result = self.call(
                function,
                parameters,
                grads,
                state["v"],
                state["s"],
                t,
                learning_rate,
                settings["beta1"],
                settings["beta2"],
                settings["epsilon"],
            )
            names = (
                ("v", "s", "v_corrected", "s_corrected")
                if isinstance(result, (tuple, list)) and len(result) == 5
                else ("v", "s")
            )
        expected = (
            "(parameters, v, s, v_corrected, s_corrected) or (parameters, v, s)"
            if function.endswith("adam")
            else "(parameters, v)"
        )
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == len(names) + 1,
            function,
            f"expected {expected}, got {_describe(result)}",
        )
        updated = self._checked_update(function, result[0], parameters)
        return updated, {
            name: self._moments(function, name, value, parameters) for name, value in zip(names, result[1:])
        }

    def decayed_learning_rate(self, decay: str, learning_rate0: float, epoch: int, rate: float, interval: int) -> float:
        """The rate after epoch `epoch`, from the implementation's update_lr or schedule_lr_decay."""
        function = DECAY_FUNCTIONS[decay]
        extra = (interval,) if function == "schedule_lr_decay" and self.decay_takes_interval else ()
        return self.number(function, self.call(function, learning_rate0, epoch, rate, *extra))

    def _moments(self, function: str, name: str, value, parameters: dict) -> dict:
        """A dict of moments keyed like the gradients (dW1, db1, ...), shapes checked, in the run's dtype."""
        self.expect(
            isinstance(value, dict), function, f"{name} should be a dict keyed dW1, db1, ..., got {_describe(value)}"
        )
        moments = {}
        for key, p in parameters.items():
            got = value.get(f"d{key}")
            found = "" if f"d{key}" in value else f" (its keys: {', '.join(map(str, value)) or 'none'})"
            self.expect(
                isinstance(got, np.ndarray) and got.shape == p.shape,
                function,
                f'{name}["d{key}"] should be an array of shape {p.shape}, got {_describe(got)}{found}',
            )
            if got.dtype != p.dtype:
                self.notes.setdefault(
                    f"{function} dtype",
                    f"{function} returned {name} as {got.dtype} in a {p.dtype} run; it was cast to {p.dtype}",
                )
            moments[f"d{key}"] = got.astype(p.dtype, copy=False)
        return moments

    def _in_run_dtype(self, function: str, updated: dict, parameters: dict) -> dict:
        """Updated parameters cast back to the run's dtype: the math is right; the run stays in its dtype, end to end."""
        for key, value in parameters.items():
            new = updated[key]
            if new.dtype != value.dtype:
                why = (
                    f"a {new.dtype} constant or gradient promotes it, e.g. np.where(Z > 0, 1.0, 0.01)"
                    if new.dtype.itemsize > value.dtype.itemsize
                    else f"it was rounded to {new.dtype} on the way"
                )
                self.notes.setdefault(
                    "dtype",
                    f"{function} returned {key} as {new.dtype} in a {value.dtype} run ({why}); "
                    f"the parameters were cast back to {value.dtype}",
                )
                updated[key] = new.astype(value.dtype)
        return updated

    def checked_params(self, function: str, params, layer_dims: Sequence[int]) -> dict:
        """An initialiser's parameters, with every W[l] (n[l], n[l-1]) and b[l] (n[l], 1) checked."""
        self.expect(isinstance(params, dict), function, f"expected a dict, got {_describe(params)}")
        for l in range(1, len(layer_dims)):
            for key, shape in ((f"W{l}", (layer_dims[l], layer_dims[l - 1])), (f"b{l}", (layer_dims[l], 1))):
                value = params.get(key)
                self.expect(
                    isinstance(value, np.ndarray) and value.shape == shape,
                    function,
                    f"{key} should be an array of shape {shape}, got {_describe(value)}",
                )
        return params

    def _checked_grads(self, function: str, grads, expected: dict) -> dict:
        """Gradients with the keys and shapes in `expected` ({key: shape})."""
        self.expect(isinstance(grads, dict), function, f"expected a dict of gradients, got {_describe(grads)}")
        for key, shape in expected.items():
            value = grads.get(key)
            self.expect(
                isinstance(value, np.ndarray) and value.shape == shape,
                function,
                f"{key} should be an array of shape {shape}, got {_describe(value)}"
                + _other_layers(key, value, grads, expected),
            )
        return grads

    def number(self, function: str, value) -> float:
        try:
            return float(np.asarray(value).reshape(()))
        except (TypeError, ValueError):
            raise ImplementationError(function, ValueError(f"expected a number, got {_describe(value)}")) from None


def _other_layers(key: str, value, grads: dict, expected: dict) -> str:
    """Where a gradient has another layer's shape and its dict a key of no layer (dW0, or dW{L+1}): each layer's
    gradient stored one index off, said with the layer it belongs to. "" otherwise."""
    kind = key.rstrip("0123456789")
    layers = [int(k[len(kind) :]) for k in expected if k.rstrip("0123456789") == kind]
    stray = sorted(
        k for k in grads if isinstance(k, str) and k.rstrip("0123456789") == kind and k != kind and k not in expected
    )
    if not isinstance(value, np.ndarray) or not stray or not layers:
        return ""
    owners = [l for l in layers if expected[f"{kind}{l}"] == value.shape]
    if len(owners) != 1:
        return ""
    return (
        f": it has {kind}{owners[0]}'s shape, and the gradients include {', '.join(stray)}, which no layer has: "
        f"each layer's gradient is stored under another layer's number (a layer index off by one)"
    )


def _object_array(value, where: str = "", depth: int = 0) -> str | None:
    """Where in `value` (nested dicts, lists, tuples) an ndarray of dtype object is: ' (as ["dW1"])', '' for the
    value itself; None when there is none."""
    if isinstance(value, np.ndarray):
        return (f" (as {where})" if where else "") if value.dtype == object else None
    if depth > 4:
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _object_array(item, f"{where}[{key!r}]", depth + 1)
        if found is not None:
            return found
    return None


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


def _changed(original, copy) -> list[str] | None:
    """None when copy still equals original; else the keys (or positions) that changed, possibly none named."""
    if isinstance(original, np.ndarray):
        same = (
            isinstance(copy, np.ndarray)
            and copy.shape == original.shape
            and copy.dtype == original.dtype
            and (np.array_equal(copy, original) or np.array_equal(copy, original, equal_nan=True))
        )
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
