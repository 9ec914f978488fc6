"""The network a run verifies, described once: its sizes, activations, loss and regularisation.

Built from a validated Config once the implementation's module is loaded (the module may fix the sizes, its API
the default activations), and handed whole to whatever computes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Config
from .layers import DENSE, LayerKind, kind


@dataclass(frozen=True)
class Network:
    """n[0..L], g[1..L], the loss, L2's lambd, dropout's keep_prob per hidden layer (None: no dropout) and each
    layer's kind (layers.py; dense by default)."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    lambd: float = 0.0
    keep_probs: tuple[float, ...] | None = None
    kinds: tuple[str, ...] = ()  # a kind's word per layer; () for a network of dense layers

    @property
    def L(self) -> int:
        return len(self.sizes) - 1

    @property
    def dense(self) -> bool:
        """Whether every layer is dense: the course's L-layer network."""
        return all(word == DENSE.word for word in self.kinds)

    def kind(self, l: int) -> LayerKind:
        """Layer l's kind (l = 1..L)."""
        return kind(self.kinds[l - 1]) if self.kinds else DENSE

    def parametrised(self) -> list[int]:
        """The layers that have parameters (a pool layer has none)."""
        return [l for l in range(1, self.L + 1) if self.kind(l).names]

    def parameter_keys(self) -> list[tuple[str, int]]:
        """(name, l) of every parameter, layer by layer: ("W", 1), ("b", 1), ..."""
        return [(name, l) for l in range(1, self.L + 1) for name in self.kind(l).names]

    def decayed_keys(self) -> list[str]:
        """The parameters L2 penalises, layer by layer: "W1", "W2", ... (each kind's `decayed`)."""
        return [f"{name}{l}" for l in range(1, self.L + 1) for name in self.kind(l).decayed]

    def layer_params(self, params: dict, l: int) -> dict:
        """Layer l's parameters by their names without the number: {"W": params["W2"], "b": params["b2"]}."""
        return {name: params[f"{name}{l}"] for name in self.kind(l).names}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        """{"W1": (n[1], n[0]), ...}: every parameter's shape in the course's layout."""
        return {
            f"{name}{l}": shape
            for l in range(1, self.L + 1)
            for name, shape in self.kind(l).shapes(self.sizes[l - 1], self.sizes[l]).items()
        }

    @classmethod
    def of(cls, config: Config) -> Network:
        """The network of a config resolve_network (or validate) has resolved."""
        assert config.arch is not None and config.activations is not None and config.loss is not None, (
            "a network is built from a config whose arch, activations and loss are resolved"
        )
        return cls(
            sizes=tuple(config.arch),
            activations=tuple(config.activations),
            loss=config.loss,
            lambd=config.lambd,
            keep_probs=None if config.keep_prob is None else tuple(config.keep_prob),
            kinds=tuple(config.layers or ()),
        )


@dataclass(frozen=True)
class Point:
    """Where both sides are evaluated: the batch (X, Y), the shared parameters and the dropout masks (or None);
    X_largest, max |X| where the caller knows it (training's whole batch, the same at every step)."""

    X: np.ndarray
    Y: np.ndarray
    params: dict
    masks: list | None = None
    X_largest: float | None = None
