"""A step-by-step notebook's network: the layers of one kind computed by the notebook's own course functions.

The convolution and recurrent step-by-step notebooks (impl/convstep.py, impl/rnnstep.py) define the forward and
backward functions of a layer kind (conv_forward, pool_backward; rnn_forward, lstm_backward), not a network. After
their functions are checked one by one, the network checks run on a small network of that kind (NETWORK_SPELLING,
or an --arch of that kind) whose layers of the kind call the notebook's functions (scratch's standing in for an
optional backward it lacks), its dense layers, activations, cost and updates scratch's (impl/layered.py). Each
output is checked for its shape on the function that returned it, and cast to the run's dtype where a loop's
np.zeros made it float64 (a note says so).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any, ClassVar

import numpy as np

import scratch

from ..arch import parse_network, spelling
from ..errors import UsageError
from ..layers import LayerKind
from ..layers import kind as layer_kind
from .base import _describe
from .layered import LayeredAPI
from .timed import TimedCalls

Outputs = tuple[tuple[str, str | None], ...]  # a function's outputs: (name, whose shape: "in", "out", a parameter)


class StepNetworkAPI(TimedCalls, LayeredAPI):
    """A notebook's functions, verified one by one, then as the layers of KIND in a small network."""

    KIND: ClassVar[type[LayerKind]]  # the layer kind whose forward and backward the notebook's functions are
    NETWORK_SPELLING = ""  # the network checked where no --arch gives one
    EXAMPLES = 32  # the examples it trains on where no --examples says: the course's loops stay within seconds
    SPELLINGS = ""  # how --arch spells a layer of KIND, for the refusal of an --arch with none
    OPTIONAL: tuple[str, ...] = ()  # the functions the course leaves optional
    STANDING_IN: tuple[str, ...] = ()  # those of them the network calls: scratch's stand in where they are absent
    OUTPUTS: ClassVar[dict[str, Outputs]] = {}  # per function the network calls, its outputs (tuple or dict keys)
    LAYERS = ""  # what the notebook's functions compute, in the network note ("conv and pool layers")
    UPDATES_BY_SCRATCH = True  # --optimizer's and --decay's functions too: the notebook defines none

    @classmethod
    def network_config(cls, config, module, label: str):
        """The network --arch spells (UsageError for one without a layer of KIND: the notebook's functions would
        compute none of it), else NETWORK_SPELLING; on EXAMPLES examples unless --examples says."""
        if config.arch is None:
            sizes, layers = parse_network(cls.NETWORK_SPELLING)
            config = replace(config, arch=sizes, layers=layers, arch_from=f"the {cls.API} API's network")
        elif not any(isinstance(layer_kind(word), cls.KIND) for word in config.layers or ()):
            words = config.layers or ("dense",) * (len(config.arch) - 1)  # as --arch spelled it, not n[0..L]
            raise UsageError(
                f"--arch {spelling(config.arch, words)}: {label}'s functions compute {cls.LAYERS}; spell such a "
                f"network ({cls.SPELLINGS}), like {cls.NETWORK_SPELLING}, or give no --arch"
            )
        return config if config.examples is not None else replace(config, examples=cls.EXAMPLES)

    def set_aside(self, function: str, why: str) -> None:
        """An optional function left unfinished (its check met an exercise's `= None`, or the unfinished one it
        calls): not checked, and not run by the network, as if the notebook did not define it."""
        self.unfinished[function] = why
        self._say_network()

    def _absent(self, function: str) -> bool:
        """Whether the network runs scratch's `function`, not the module's: undefined, or set aside unfinished."""
        return function in self.unfinished or not callable(getattr(self.module, function, None))

    def _note_network(self) -> None:
        """The notes on what was not checked and on what computed the network's layers, as the contract sees it."""
        self.seconds = 0.0  # the time the module's functions took, all calls together
        self.unfinished: dict[str, str] = {}  # an optional function set aside, left unfinished -> what its check met
        self._say_network()

    def _say_network(self) -> None:
        """The notes _note_network makes, from what the checks have set aside so far."""
        undefined = [name for name in self.OPTIONAL if not callable(getattr(self.module, name, None))]
        reasons = [f"not defined in {self.label}"] if undefined else []
        if self.unfinished:
            first = next(iter(self.unfinished.items()))
            reasons.append(f"left unfinished in {self.label}: {first[0]} {first[1]}")
        if reasons:
            names = ", ".join(name for name in self.OPTIONAL if name in undefined or name in self.unfinished)
            self.notes["optional"] = f"not checked: {names} (optional in the course, {'; '.join(reasons)})"
        absent = [name for name in self.OPTIONAL if self._absent(name)]
        standing_in = [name for name in self.STANDING_IN if name in absent]
        self.notes["network"] = (
            f"the network checks ran on {spelling(self.network.sizes, self.network.kinds)}: its {self.LAYERS} "
            f"computed by {self._whose()} functions"
            + (f" (scratch's {' and '.join(standing_in)} standing in)" if standing_in else "")
            + ", its dense layers, activations, cost and updates by scratch's"
        )

    def _check_training(self, optimizer: str, decay: str | None, mini_batch_size: int | None) -> None:
        """Any optimiser and decay: the updates are scratch's (UPDATES_BY_SCRATCH), the notebook has none."""

    def _forward_of(self, kind):
        if not isinstance(kind, self.KIND):
            return kind.forward
        return lambda A_prev, P: kind.forward(A_prev, P, partial(self._course, kind, A_prev.shape[1]))

    def _backward_of(self, kind):
        if not isinstance(kind, self.KIND):
            return kind.backward
        return lambda dZ, cache: kind.backward(dZ, cache, partial(self._course, kind, dZ.shape[1]))

    def _course(self, kind: Any, m: int, function: str, *args: Any) -> Any:
        """The module's `function` (scratch's where it defines none, an optional one) on a layer of `kind` and m
        examples: its outputs checked against the layer's shapes and cast to the run's dtype (args[0]'s)."""
        if not self._absent(function):
            result = self.call(function, *args)
        else:
            result = getattr(scratch, function)(*args)
        outputs, dtype = self.OUTPUTS[function], args[0].dtype
        names = ", ".join(name for name, _ in outputs)
        if isinstance(result, dict) or len(outputs) > 1 and not isinstance(result, (tuple, list)):
            self.expect(
                isinstance(result, dict) and all(name in result for name, _ in outputs),
                function,
                f"expected a dict with {names}, got {_describe(result)}",
            )
            checked = {
                name: self._output(function, name, result[name], self._shape(kind, m, whose), dtype)
                for name, whose in outputs
                if whose is not None
            }
            return {**result, **checked}
        if len(outputs) == 1:
            ((name, whose),) = outputs
            assert whose is not None, "a lone output is an array"
            return self._output(function, name, result, self._shape(kind, m, whose), dtype)
        self.expect(len(result) == len(outputs), function, f"expected ({names}), got {_describe(result)}")
        return tuple(
            value if whose is None else self._output(function, name, value, self._shape(kind, m, whose), dtype)
            for (name, whose), value in zip(outputs, result)
        )

    def _output(self, function: str, name: str, value, shape: tuple[int, ...], dtype) -> np.ndarray:
        """One output array of `shape`, in `dtype` (a float64 array in a float32 run cast, and noted once)."""
        self.expect(
            isinstance(value, np.ndarray) and value.shape == shape,
            function,
            f"{name} should be an array of shape {shape}, got {_describe(value)}" + self._size_hint(name),
        )
        if value.dtype != dtype:
            self.notes.setdefault(
                "dtype",
                f"{function} returned {name} as {value.dtype} in a {dtype} run (np.zeros without a dtype is "
                f"float64); that output, and any other of another dtype, was cast to {dtype}",
            )
            value = value.astype(dtype)
        return value

    def _shape(self, kind: Any, m: int, whose: str) -> tuple[int, ...]:
        """The shape of an output of a layer of `kind` on m examples: its input's ("in"), its output's ("out"), or
        a parameter's (its name)."""
        raise NotImplementedError

    def _size_hint(self, name: str) -> str:
        """What to add to a wrong shape's message for output `name` (the output-size formula), or ""."""
        return ""


__all__ = ["Outputs", "StepNetworkAPI"]
