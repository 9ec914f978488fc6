"""Max-pool ties: where the course's backward pass and torch's are both right and still differ.

The course's pool_backward builds its mask as x == max(x), so a window whose maximum is tied (a relu output's
zeros, the common case) sends its gradient to every tied entry; torch's max_pool2d sends it to one. Both are
derivatives of the same function there (a max is not differentiable at a tie), so the backward check sets those
entries of dA below a max-pool layer aside, says how many, and never calls them a slip. Where the activation below
passes them on (a nonzero derivative at a tied entry), every gradient of the layers below differs too, and those
rows are set aside as a relu kink's are (kinks.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import scratch

from ..spatial import Spatial, tied_entries
from .kinks import kink_affects


@dataclass(frozen=True)
class Ties:
    """Below max-pool layer `layer`, the entries of dA[layer - 1] in tied windows, and whether they reach further."""

    layer: int
    entries: np.ndarray  # (n[layer - 1], m), bool
    passed_on: bool

    def affects(self, quantity: str, layer: int) -> bool:
        """Whether a row's value depends on how the tie was broken (other than dA[layer - 1]'s tied entries)."""
        return self.passed_on and kink_affects(quantity, layer, self.layer - 1)

    def note(self, where: str) -> str:
        n, below = int(self.entries.sum()), self.layer - 1
        text = (
            f"at the {where}, {n} entries of dA{below} lie in max-pool windows of layer {self.layer} whose maximum is "
            "tied: the course's mask (x == max(x)) sends the gradient to every tied maximum, torch to one of them, "
            "both right; they were not compared"
        )
        if self.passed_on:
            text += f", nor were the gradients of layers 1-{below}, which they reach"
        return text

    def gradcheck_note(self) -> str:
        """The gradient check's note on a tie passed on: the centred differences move the tied entries together,
        where the course's mask counts each of them."""
        n, below = int(self.entries.sum()), self.layer - 1
        return (
            f"{n} entries of dA{below} lie in max-pool windows of layer {self.layer} whose maximum is tied, and the "
            "layer below passes them on: the course's mask (x == max(x)) sends the gradient to every tied maximum, "
            f"where a centred difference moves them together; the gradients of layers 1-{below} were not compared"
        )


def pool_ties(network, X: np.ndarray, ref: dict) -> list[Ties]:
    """The ties below each max-pool layer of `network` at torch's forward values `ref` (X: the input)."""
    found = []
    for l in range(1, network.L + 1):
        kind = network.kind(l)
        if not isinstance(kind, Spatial):
            continue
        entries = tied_entries(kind, X if l == 1 else ref[f"A{l - 1}"])
        if entries is None:
            continue
        passed_on = False
        if l >= 2:
            derivative = scratch.get_activation(network.activations[l - 2]).derivative
            passed_on = derivative is None or bool(np.any(derivative(ref[f"Z{l - 1}"])[entries] != 0))
        found.append(Ties(l, entries, passed_on))
    return found


def set_aside(grads: dict, ref: dict, ties: list[Ties]) -> dict:
    """grads with each tied entry of dA below a max-pool layer taken as torch's (so only the rest is compared)."""
    out = dict(grads)
    for tie in ties:
        key = f"dA{tie.layer - 1}"
        if key in out and key in ref:
            out[key] = np.where(tie.entries, ref[key], out[key])
    return out


__all__ = ["Ties", "pool_ties", "set_aside"]
