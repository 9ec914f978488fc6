"""What every course API's adapter shares: calling the implementation safely, and its update (the optimisers'
steps are in optimizers.py, the copying and describing of values in calls.py).

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

import os
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

import scratch

from .. import catalogue, signals
from ..errors import ImplementationError, MissingPackageError, UsageError
from ..judging.dropout_hints import mask_share_slip
from ..network import Network
from ..optimization import Training
from ..remote.peer import Lost
from .calls import (
    Lent,
    _accepts,
    _binds,
    _changed,
    _copy,
    _describe,
    _first_layer,
    _innermost,
    _other_layers,
    _parameter_names,
    _require,
    object_array_message,
)
from .loading import NOTES, RESULTS, helper_file_missing, left_out_origin, why_missing
from .module_access import _ModuleAccess
from .optimizers import DECAY_FUNCTIONS, OPTIMIZER_FUNCTIONS, _OptimizerCalls

# imported from here by the course APIs' adapters, the function-by-function checks and the tests
__all__ = ["DECAY_FUNCTIONS", "OPTIMIZER_FUNCTIONS", "Adapter", "_accepts", "_binds", "_describe", "_other_layers"]
__all__ += ["_require"]

PRIVATE_COPIES = 16  # data arrays (and their copies) handed at once, at most

# Every call gets copies; whether a function wrote into them is looked at on its first calls
# only (a function that writes into its inputs does so every time), which costs a full
# comparison of every array it was handed.
WATCHED_CALLS = 3


class _Required:
    """An adapter class's REQUIRED: its API's required functions, read from the catalogue whenever asked."""

    def __get__(self, adapter: object, owner: type) -> dict[str, str]:
        return catalogue.required(getattr(owner, "API", ""))


class Adapter(_OptimizerCalls, _ModuleAccess):
    """A learner's (or scratch's) module, seen through the interface the checks use."""

    API = ""  # deep, shallow: what --api calls it
    WEEK = ""  # how the course calls it
    REQUIRED = _Required()  # function -> its course signature in this API, in the course's order (catalogue.py)
    NETWORK = True  # whether it computes a network the checks train (the gradient-checking notebook's does not)
    UNTRAINED = ""  # without a network: why it takes no training option (--iterations, --lr, ...)
    SIZES: tuple[int, ...] | None = None  # the sizes an API without a network fixes
    FIXED = ""  # without a network: the one its functions compute, which no --arch changes ("checks ...'s network")
    PLOTTED_COSTS = False  # its loops keep their costs only to plot them, and only with print_cost on
    SCOPE = ""  # an API with checks of its own and no network: what its run checks, as the report's header says
    OWN_CHECKED: tuple[str, ...] = ()  # the course functions those checks run (a fix line may name them)
    # A network check's stage -> the function that runs it by calling course functions checked on their own, and
    # what it hands them: where those all agree and the stage does not, a fix line names it (telling/report.py).
    COMPOSING: dict[str, tuple[str, str]] = {}

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return tuple(scratch.default_activations(L))

    @classmethod
    def fits(cls, module: ModuleType) -> bool:
        """Whether a module that defines this API's required functions is of this API (their signatures say so
        where two APIs share names)."""
        return True

    @property
    def loading_notes(self) -> list[str]:
        """What loading the module left out that a user should know, as it stands now (a stand-in used during
        the checks adds a note)."""
        return list(getattr(self.module, NOTES, []))

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        """UsageError when this API cannot compute the network asked for."""

    @property
    def families(self) -> tuple[str, ...]:
        """The course APIs whose functions, where the module defines them, are checked one by one: its own."""
        return (self.API,)

    @classmethod
    def network_config(cls, config, module: ModuleType | None, label: str):
        """config with its network decided: --arch, or the size the module's own code fixes (sizes.py); UsageError
        when there is neither, or both and they differ."""
        from .sizes import network_size

        return network_size(config, module, cls.API, label)

    def __init__(
        self,
        module: ModuleType,
        network: Network,
        label: str = "scratch",
        training: Training | None = None,
    ):
        """The module seen through this API for `network`, trained as `training` says (optimiser, mini-batches, decay):
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
        self.calls: dict[str, int] = {}
        self.calling_own: Mapping[
            str, Callable
        ] = {}  # name -> what the adapter's calls reach while a loop runs (calling)
        self._private: dict[
            int, tuple[np.ndarray, np.ndarray]
        ] = {}  # id(data array) -> (the array, the copy handed for it)
        for name, expected in self.REQUIRED.items():
            if not callable(getattr(module, name, None)):
                raise UsageError(f"{label} has no function {name}{why_missing(module, name)}; expected {expected}")
        if "update_parameters" in self.REQUIRED:
            _require(_binds(module.update_parameters, 3), "update_parameters", self.REQUIRED["update_parameters"])
        self._check_contract()
        training = training or Training()  # gradient descent on the whole batch
        self._check_training(training.optimizer, training.decay, training.mini_batch_size)
        self._check_optimization(training.optimizer, training.decay, training.decay_interval)
        self._check_regularization(network.lambd)
        self._check_dropout(network.keep_probs)

    def _check_contract(self) -> None:
        """Which calling convention each function takes; UsageError when one cannot do what was asked."""

    def own_checks(self, config, stage) -> tuple[list, str | None]:
        """An API with a SCOPE: its own checks, run after the functions' (`stage` names each for the progress
        line), and the TensorBoard folder they logged to (None: none)."""
        return [], None

    def _check_training(self, optimizer: str, decay: str | None, mini_batch_size: int | None) -> None:
        """UsageError where this API cannot train with this optimiser, these mini-batches or this decay."""

    # The interface the checks use (the module docstring), which each course API's adapter defines.
    def initialize(self, layer_dims: Sequence[int]) -> dict:
        raise NotImplementedError

    def _initialiser(self) -> str:
        """--init impl: the name of this API's own initialiser (catalogue.py), the first the module defines of those
        the API has; UsageError when the module has none."""
        entries = catalogue.initialisers(self.API)
        defined = next((f for f in entries if callable(getattr(self.module, f.name, None))), None)
        if defined is None:
            signature = entries[0].signature(self.API)
            why = why_missing(self.module, entries[0].name)
            raise UsageError(f"--init impl: {self.label} has no function {signature}{why}")
        return defined.name

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

    def _raised(self, function: str, error: BaseException) -> Exception:
        """What `error`, raised inside the implementation's `function`, is for the checks: an ImplementationError,
        its NameError saying where the name comes from when left-out code would have bound it; a usage error
        where that is a helper file missing beside a notebook (the setup's to fix, not a slip)."""
        name = getattr(error, "name", None) if isinstance(error, NameError) else None
        origin = None if name is None else left_out_origin(self.module, name)
        helper = None if origin is None else helper_file_missing(origin)
        if helper is not None:
            file, imported = helper
            return MissingPackageError(
                f"{self.label}'s {function} uses {name}, which it imports from {file}, which is not in its folder "
                f"({imported}): put the course's helper file {file}.py beside it"
            )
        reader = _innermost(error) if type(error) is NameError else ""  # the function that read it, or one it called
        reader = reader if callable(getattr(self.module, reader, None)) else function
        own = getattr(self.module, RESULTS, {}).get(name, {}).get(reader)  # a test cell's `name = reader(...)`
        if own is not None and error.args:  # its own result, bound only by the notebook's test of it
            only = "only " if own == origin else ""
            error.args = (
                f"{error.args[0]} ({reader} never assigns {name}: the notebook's {only}{name} is the result of "
                f"calling it, {own})",
            )
        elif origin is not None and error.args:  # a name the notebook's left-out code would have bound
            error.args = (f"{error.args[0]} ({name} comes from {origin})",)
        return ImplementationError(function, error, self.source)

    def call(self, function: str, *args, **kwargs):
        signals.check()  # an interrupt swallowed elsewhere (see signals.check): no more calls into the learner's code
        handed = _copy(args, self._private)
        signals_before = signals.count()
        try:
            # A diverging run overflows; the verifier reports where each side went non-finite,
            # so NumPy's floating-point warnings would only repeat it, once per iteration.
            # What it prints goes to stderr: stdout is the report's (and --json -'s).
            with np.errstate(all="ignore"):
                own = self.calling_own.get(function)  # a stand-in sees the caller's arguments beside the copies
                called = partial(own, args) if own is not None else getattr(self.module, function)
                result = signals.printing_to_stderr(called, *handed, **kwargs)
        except MissingPackageError:  # a library its code needs is not installed: exit 2, not a failed check
            raise
        except Lost as lost:  # its process (--isolate) is gone: the run cannot go on
            raise Lost(f"{lost}, in {function}") from None
        except BaseException as error:  # anything raised inside the implementation is its fault, sys.exit included
            interrupt = signals.arrived_during(signals_before)
            if interrupt is not None:  # Ctrl-C or a signal while it ran: the run's interrupt, not its outcome
                raise interrupt from None
            raise self._raised(function, error) from error
        interrupt = signals.arrived_during(signals_before)
        if interrupt is not None:  # its code swallowed the interrupt (a bare except:): raised again here
            raise interrupt
        objects = object_array_message(result)
        if objects is not None:  # NumPy cannot compute with it (np.isfinite, the comparisons): rejected here
            self.expect(False, function, objects)
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
        handed = self.gradients_for_update(grads, parameters)
        return self._checked_update(
            "update_parameters", self.call("update_parameters", parameters, handed, learning_rate), parameters
        )

    @staticmethod
    def gradients_for_update(grads, parameters: dict):
        """The gradients an update is handed: each parameter's copied (the comparisons read them after the call),
        any other entry lent as it is (dA and dZ, which no check reads once the update is called; dA0 is as large
        as X, and copying it cost as much as the update itself)."""
        if not isinstance(grads, dict):
            return grads
        own = {f"d{key}" for key in parameters}
        return {key: value if key in own else Lent(value) for key, value in grads.items()}

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

    def expect_kept_share(self, D: np.ndarray, l: int, function: str) -> None:
        """A mask D[l] the implementation drew keeps about keep_prob of the units (dropout_hints.mask_share_slip)."""
        assert self.keep_probs is not None, "a mask is read with dropout on"
        slip = mask_share_slip(D, l, self.keep_probs[l - 1])
        self.expect(not slip, function, slip)

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
            if key not in grads:  # not there at all: what it has, and a loop over the layers that stops short
                absent = [k for k in expected if k not in grads]
                message = f"its gradients have no {', '.join(absent)} (it has {', '.join(map(str, grads)) or 'none'})"
                short = ": the loop over the layers stops one short, before layer 1"
                self.expect(False, function, message + (short if all(map(_first_layer, absent)) else ""))
            if not (isinstance(value, np.ndarray) and value.shape == shape):  # the message only then: every step checks
                message = f"{key} should be an array of shape {shape}, got {_describe(value)}"
                self.expect(False, function, message + _other_layers(key, value, grads, expected))
        return grads

    def number(self, function: str, value) -> float:
        try:
            return float(np.asarray(value).reshape(()))
        except (TypeError, ValueError):
            raise ImplementationError(function, ValueError(f"expected a number, got {_describe(value)}")) from None
