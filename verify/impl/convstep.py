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

from typing import Any

from ..spatial import SPELLINGS, Spatial
from .base import _binds, _require, _Required
from .stepnet import Outputs, StepNetworkAPI

OPTIONAL = ("conv_backward", "create_mask_from_window", "distribute_value", "pool_backward")
NETWORK_SPELLING = "7x7x2,conv3f3s2p1,max2,flatten,1"  # the network checked where no --arch gives one
EXAMPLES = 32  # the examples it trains on where no --examples says: the course's loops stay within seconds
OUTPUTS: dict[str, Outputs] = {  # each function's outputs: their names and whose shape (input, output, parameter)
    "conv_forward": (("Z", "out"), ("cache", None)),
    "pool_forward": (("A", "out"), ("cache", None)),
    "conv_backward": (("dA_prev", "in"), ("dW", "W"), ("db", "b")),
    "pool_backward": (("dA_prev", "in"),),
}
SIZE_HINT = "n_H = int((n_H_prev - f + 2 * pad) / stride) + 1, and the same for n_W"


class ConvStepAPI(StepNetworkAPI):
    """The convolution notebook's functions, verified one by one, then in a conv network."""

    API = "conv"
    WEEK = "course 4 week 1 (convolution step by step)"
    REQUIRED = _Required()
    KIND = Spatial
    NETWORK_SPELLING, EXAMPLES, SPELLINGS = NETWORK_SPELLING, EXAMPLES, SPELLINGS
    OPTIONAL, STANDING_IN, OUTPUTS = OPTIONAL, ("conv_backward", "pool_backward"), OUTPUTS
    LAYERS = "conv and pool layers"

    @classmethod
    def fits(cls, module) -> bool:
        """conv_forward(A_prev, W, b, hparameters) and pool_forward(A_prev, hparameters[, mode])."""
        return _binds(module.conv_forward, 4) and (_binds(module.pool_forward, 2) or _binds(module.pool_forward, 3))

    def _check_contract(self) -> None:
        _require(_binds(self.module.conv_forward, 4), "conv_forward", self.REQUIRED["conv_forward"])
        self._note_network()

    def _shape(self, kind: Any, m: int, whose: str) -> tuple[int, ...]:
        """An image batch of the layer's input ("in") or output ("out"), channels last, or a parameter's shape."""
        if whose in ("in", "out"):
            return (m, *(kind.in_shape if whose == "in" else kind.out_shape))
        return kind.shapes(kind.n_in, kind.n_out)[whose]

    def _size_hint(self, name: str) -> str:
        return f" ({SIZE_HINT})" if name in ("Z", "A") else ""


__all__ = ["EXAMPLES", "NETWORK_SPELLING", "OPTIONAL", "ConvStepAPI"]
