"""The network a run verifies, described once: its sizes, activations, loss and regularisation.

Built from a validated Config once the implementation's module is loaded (the module may fix the sizes, its API
the default activations), and handed whole to whatever computes with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import Config


@dataclass(frozen=True)
class Network:
    """n[0..L], g[1..L], the loss, L2's lambd and dropout's keep_prob per hidden layer (None: no dropout)."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    lambd: float = 0.0
    keep_probs: tuple[float, ...] | None = None

    @property
    def L(self) -> int:
        return len(self.sizes) - 1

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
        )
