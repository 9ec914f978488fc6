"""A network of layer kinds (verify/layers.py) computed by their own scratch functions: the implementation under
test when --arch names a layer the course's L-layer functions do not compute.

Layer l: Z[l], cache = kind.forward(A[l-1], P[l]); A[l] = g[l](Z[l]) (times D[l] / keep_prob[l] with a dropout mask
on a hidden layer). The cost is scratch's, with its L2 penalty over each kind's decayed parameters; backward
starts from dZ[L] = A[L] - Y and hands each layer's dZ to its kind's backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import scratch

from .. import catalogue
from ..errors import ImplementationError, UsageError
from ..layers import LayerKind
from ..recurrent import Recurrent
from ..spatial import Spatial
from .base import Adapter


class LayeredAPI(Adapter):
    """scratch's activations, losses and optimisers around each layer kind's own forward and backward."""

    API = catalogue.LAYERED
    WEEK = "layer kinds"
    REQUIRED: dict[str, str] = {}

    @property
    def families(self) -> tuple[str, ...]:
        """Its own, and the step-by-step notebook's of each kind of its layers: with a conv or pool layer, scratch's
        conv_forward, pool_forward, ... are checked one by one too; with a recurrent one, rnn_forward, ..."""
        kinds = [self.network.kind(l) for l in range(1, self.L + 1)]
        notebooks = [
            family for cls, family in ((Spatial, "conv"), (Recurrent, "rnn")) if any(isinstance(k, cls) for k in kinds)
        ]
        return tuple(dict.fromkeys((self.API, *notebooks)))

    def _check_training(self, optimizer: str, decay: str | None, mini_batch_size: int | None) -> None:
        if self.label != "scratch":
            raise UsageError(
                f"--arch {','.join(self.network.kinds)}: layers other than dense ones are computed by scratch's "
                f"own functions; {self.label} is verified on dense networks"
            )

    def _check_regularization(self, lambd: float) -> None:
        self.lambd = lambd

    def _check_dropout(self, keep_probs) -> None:
        self.keep_probs = keep_probs

    def initialize(self, layer_dims: Sequence[int]) -> dict:
        raise UsageError(
            f"--init impl: {self.label} has no initialiser for this network's layer kinds (the convolution and "
            "recurrent notebooks start from the parameters they are given): leave --init out"
        )

    def _run(self, what: str, function, *args):
        """A layer kind's scratch function, anything it raises its failed check."""
        try:
            with np.errstate(all="ignore"):
                return function(*args)
        except ImplementationError:  # a function the layer called, already named (impl/convstep.py)
            raise
        except Exception as error:
            raise ImplementationError(what, error, self.source) from error

    def forward(self, X: np.ndarray, parameters: dict, masks: list | None = None) -> tuple[np.ndarray, Any]:
        A, caches = X, []
        for l in range(1, self.L + 1):
            kind = self.network.kind(l)
            P = {name: parameters[f"{name}{l}"] for name in kind.names}
            Z, cache = self._run(f"{kind.word} layer {l} forward", self._forward_of(kind), A, P)
            A_prev, A = A, scratch.get_activation(self.activations[l - 1]).function(Z)
            D = masks[l - 1] if masks is not None and l < self.L else None
            if D is not None and self.keep_probs is not None:
                A = A * D / self.keep_probs[l - 1]
            caches.append((A_prev, Z, cache, D, P))
        return A, caches

    def _forward_of(self, kind: LayerKind):
        """kind.forward(A_prev, P), or the forward pass that computes a layer of this kind here."""
        return kind.forward

    def _backward_of(self, kind: LayerKind):
        """kind.backward(dZ, cache), or the backward pass that computes a layer of this kind here."""
        return kind.backward

    def layer_values(self, AL: np.ndarray, caches) -> dict:
        values = {f"A{self.L}": AL}
        for l, (A_prev, Z, *_) in enumerate(caches, start=1):
            values[f"Z{l}"] = Z
            if l > 1:
                values[f"A{l - 1}"] = A_prev
        return values

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches) -> float:
        cost = self._run("compute_cost", scratch.compute_cost, AL, Y, self.loss, caches[-1][1])
        if self.lambd:
            m = Y.shape[1]
            cost += self.lambd / (2 * m) * sum(float(np.sum(W * W)) for W in self._decayed(caches))
        return float(cost)

    def _decayed(self, caches) -> list[np.ndarray]:
        """The parameters L2 penalises, each layer's as its forward pass read them."""
        return [P[name] for l, (*_, P) in enumerate(caches, start=1) for name in self.network.kind(l).decayed]

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches, parameters: dict) -> dict:
        m = Y.shape[1]
        grads: dict[str, np.ndarray] = {}
        dZ = AL - Y
        for l in range(self.L, 0, -1):
            kind = self.network.kind(l)
            _, Z, cache, D, _ = caches[l - 1]
            if l < self.L:
                dA = grads[f"dA{l}"]
                if D is not None and self.keep_probs is not None:
                    dA = dA * D / self.keep_probs[l - 1]
                dZ = self._run(
                    f"{kind.word} layer {l} backward", scratch.activation_backward, dA, Z, self.activations[l - 1]
                )
            grads[f"dZ{l}"] = dZ
            dA_prev, dP = self._run(f"{kind.word} layer {l} backward", self._backward_of(kind), dZ, cache)
            grads[f"dA{l - 1}"] = dA_prev
            for name in kind.names:
                grads[f"d{name}{l}"] = dP[name] + (
                    self.lambd / m * parameters[f"{name}{l}"] if self.lambd and name in kind.decayed else 0
                )
        return grads

    def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict:
        return {key: value - learning_rate * grads[f"d{key}"] for key, value in parameters.items()}
