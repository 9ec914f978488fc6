"""The convolution course's step-by-step notebook (course 4, week 1): its functions are what is verified.

The notebook defines zero_pad(X, pad), conv_single_step(a_slice_prev, W, b), conv_forward(A_prev, W, b,
hparameters) and pool_forward(A_prev, hparameters, mode) (graded), and, optional in the course,
conv_backward(dZ, cache), create_mask_from_window(x), distribute_value(dz, shape) and pool_backward(dA, cache,
mode). Each is checked on its own against torch first (checking/unit_conv.py, unit_pool.py); then the network
checks run on a small conv network (NETWORK_SPELLING, or a conv --arch) whose conv and pool layers are computed by
the notebook's conv_forward, conv_backward, pool_forward and pool_backward (scratch's standing in for an optional
one it does not define), its dense layers, activations, cost and updates by scratch's (impl/layered.py).

The course's functions are four nested Python loops: the default network and its EXAMPLES are small, so that such
code is verified in seconds, and the report says how long the notebook's functions took (every call goes through
Adapter.call, which TimedCalls times: impl/timed.py).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

import scratch

from ..arch import parse_network, spelling
from ..errors import UsageError
from ..layers import kind as layer_kind
from ..spatial import SPELLINGS, Spatial
from .base import _binds, _describe, _require, _Required
from .layered import LayeredAPI
from .timed import TimedCalls

OPTIONAL = ("conv_backward", "create_mask_from_window", "distribute_value", "pool_backward")
NETWORK_SPELLING = "7x7x2,conv3f3s2p1,max2,flatten,1"  # the network checked where no --arch gives one
EXAMPLES = 32  # the examples it trains on where no --examples says: the course's loops stay within seconds
ORIGIN = "the conv API's network"  # where the sizes came from, in the report's header and messages
OUTPUTS: dict[
    str, tuple[tuple[str, str | None], ...]
] = {  # each function's outputs: their names and whose shape (the layer's input, output, or parameter)
    "conv_forward": (("Z", "out"), ("cache", None)),
    "pool_forward": (("A", "out"), ("cache", None)),
    "conv_backward": (("dA_prev", "in"), ("dW", "W"), ("db", "b")),
    "pool_backward": (("dA_prev", "in"),),
}
SIZE_HINT = "n_H = int((n_H_prev - f + 2 * pad) / stride) + 1, and the same for n_W"


class ConvStepAPI(TimedCalls, LayeredAPI):
    """The convolution notebook's functions, verified one by one, then in a conv network."""

    API = "conv"
    WEEK = "course 4 week 1 (convolution step by step)"
    REQUIRED = _Required()

    @classmethod
    def fits(cls, module) -> bool:
        """conv_forward(A_prev, W, b, hparameters) and pool_forward(A_prev, hparameters[, mode])."""
        return _binds(module.conv_forward, 4) and (_binds(module.pool_forward, 2) or _binds(module.pool_forward, 3))

    @classmethod
    def network_config(cls, config, module, label: str):
        """The conv network --arch spells (UsageError for a network without a conv or pool layer: the notebook's
        functions would compute none of it), else NETWORK_SPELLING; on EXAMPLES examples unless --examples says."""
        if config.arch is None:
            sizes, layers = parse_network(NETWORK_SPELLING)
            config = replace(config, arch=sizes, layers=layers, arch_from=ORIGIN)
        elif not any(isinstance(kind, Spatial) for kind in _kinds(config.layers)):
            raise UsageError(
                f"--arch {','.join(map(str, config.arch))}: {label}'s functions compute conv and pool layers; spell "
                f"a conv network ({SPELLINGS}), like {NETWORK_SPELLING}, or give no --arch"
            )
        return config if config.examples is not None else replace(config, examples=EXAMPLES)

    def _check_contract(self) -> None:
        _require(_binds(self.module.conv_forward, 4), "conv_forward", self.REQUIRED["conv_forward"])
        self.seconds = 0.0  # the time the module's functions took, all calls together
        absent = [name for name in OPTIONAL if not callable(getattr(self.module, name, None))]
        if absent:
            self.notes["optional"] = (
                f"not checked: {', '.join(absent)} (optional in the course, not defined in {self.label})"
            )
        standing_in = [name for name in ("conv_backward", "pool_backward") if name in absent]
        self.notes["network"] = (
            f"the network checks ran on {spelling(self.network.sizes, self.network.kinds)}: its conv and pool "
            f"layers computed by {self._whose()} functions"
            + (f" (scratch's {' and '.join(standing_in)} standing in)" if standing_in else "")
            + ", its dense layers, activations, cost and updates by scratch's"
        )

    def _check_training(self, optimizer: str, decay: str | None, mini_batch_size: int | None) -> None:
        """Any optimiser: the updates are scratch's, the notebook has none."""

    def _forward_of(self, kind):
        if not isinstance(kind, Spatial):
            return kind.forward
        return lambda A_prev, P: kind.forward(A_prev, P, partial(self._course, kind, A_prev.shape[1]))

    def _backward_of(self, kind):
        if not isinstance(kind, Spatial):
            return kind.backward
        return lambda dZ, cache: kind.backward(dZ, cache, partial(self._course, kind, dZ.shape[1]))

    def _course(self, kind: Spatial, m: int, function: str, *args: Any) -> Any:
        """The module's `function` (scratch's where it defines none, an optional one) on a layer of `kind` and m
        examples: its outputs checked against the layer's shapes and cast to the run's dtype (args[0]'s)."""
        if callable(getattr(self.module, function, None)):
            result = self.call(function, *args)
        else:
            result = getattr(scratch, function)(*args)
        outputs = OUTPUTS[function]
        if len(outputs) == 1:
            ((name, whose),) = outputs
            assert whose is not None, "a lone output is an array"
            return self._output(function, name, result, _shape(kind, m, whose), args[0].dtype)
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == len(outputs),
            function,
            f"expected ({', '.join(name for name, _ in outputs)}), got {_describe(result)}",
        )
        return tuple(
            value if whose is None else self._output(function, name, value, _shape(kind, m, whose), args[0].dtype)
            for (name, whose), value in zip(outputs, result)
        )

    def _output(self, function: str, name: str, value, shape: tuple[int, ...], dtype) -> np.ndarray:
        """One output array of `shape`, in `dtype` (a float64 array in a float32 run cast, and noted once)."""
        self.expect(
            isinstance(value, np.ndarray) and value.shape == shape,
            function,
            f"{name} should be an array of shape {shape}, got {_describe(value)}"
            + (f" ({SIZE_HINT})" if name in ("Z", "A") else ""),
        )
        if value.dtype != dtype:
            self.notes.setdefault(
                "dtype",
                f"{function} returned {name} as {value.dtype} in a {dtype} run (np.zeros without a dtype is "
                f"float64); that output, and any other of another dtype, was cast to {dtype}",
            )
            value = value.astype(dtype)
        return value


def _kinds(words) -> list:
    return [layer_kind(word) for word in words or ()]


def _shape(kind: Spatial, m: int, whose: str) -> tuple[int, ...]:
    """The shape of an output: an image batch of the layer's input ("in") or output ("out"), or a parameter's."""
    if whose in ("in", "out"):
        return (m, *(kind.in_shape if whose == "in" else kind.out_shape))
    return kind.shapes(kind.n_in, kind.n_out)[whose]


__all__ = ["EXAMPLES", "NETWORK_SPELLING", "OPTIONAL", "ConvStepAPI"]
