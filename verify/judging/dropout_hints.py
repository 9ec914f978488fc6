"""The slips of inverted dropout a wrong value fits: the 1 / keep_prob left out (or a multiplication for the
division), in forward or backward, and the mask left out of backward (with or without its 1 / keep_prob)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import torch_ref

from .hint_fits import EXPLAINED
from .hints import L2


@dataclass(frozen=True)
class Dropout:
    """The dropout a slip is measured against: keep_prob per hidden layer, the L2 penalty dW carries too (or
    None), and, for a backward pass that left out the mask, the masks, activations and data (X) of the pass."""

    keep_probs: tuple | None
    l2: L2 | None = None
    masks: list | None = None
    activations: tuple | None = None
    X: np.ndarray | None = None


def dropout_slip(quantity: str, layer: int, value, expected, keep_probs, l2_term=0.0) -> str:
    """With dropout, what a wrong hidden A or dZ fits: inverted dropout's 1 / keep_prob left out of forward or
    backward. "" when it does not fit."""
    # dZ[l] = dA[l] D / keep_prob g'(Z): without the 1 / keep_prob, dZ[l], dW[l] and db[l] are keep_prob times right
    if (
        keep_probs is None
        or not 0 < layer <= len(keep_probs)
        or quantity not in ("A", "dZ", "dW", "db")
        or keep_probs[layer - 1] == 1
    ):
        return ""
    value, expected = np.asarray(value, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    gap = float(np.max(np.abs(value - expected))) if value.shape == expected.shape and value.size else 0.0
    if gap == 0 or not np.all(np.isfinite(value)):
        return ""
    p = keep_probs[layer - 1]
    for factor, slip in ((p, "not divided by keep_prob"), (p * p, "multiplied by keep_prob, not divided by it")):
        kept = factor * (expected - l2_term) + l2_term  # dW's L2 term (lambd / m) W is not dropout's
        if float(np.max(np.abs(value - kept))) <= EXPLAINED * gap:
            return (
                f"A{layer} is {slip}: inverted dropout is A = A * D / keep_prob"
                if quantity == "A"
                else f"dA{layer} is {slip} in backward: dA = dA * D / keep_prob, as in forward"
            )
    return ""


def hint_dropout(check, values: dict, ref: dict, dropout: Dropout, iteration=None) -> None:
    """Each hidden A, dZ, dW or db row of `check` that just broke (at `iteration`) gets dropout_slip's hint where it
    fits, or (backward, given masks, activations and X) the hint of a backward pass that left out the mask."""
    keep_probs, l2, masks = dropout.keep_probs, dropout.l2, dropout.masks
    if keep_probs is None:
        return
    for (quantity, layer), row in check.rows.items():
        key = f"{quantity}{layer}"
        if not row.ok and row.iteration == iteration and key in values and key in ref:
            l2_term = 0.0
            if quantity == "dW" and l2 is not None and l2.lambd:
                l2_term = l2.lambd / l2.m * l2.params[f"W{layer}"]
            hint = dropout_slip(quantity, layer, values[key], ref[key], keep_probs, l2_term)
            if (
                not hint
                and masks is not None
                and dropout.activations is not None
                and layer <= len(keep_probs)
                and masks[layer - 1] is not None
                and quantity in ("dZ", "dW", "db")
            ):
                hint = unmasked_backward(quantity, layer, values[key], ref, dropout, l2_term)
            row.hint = hint or row.hint


def unmasked_backward(quantity: str, layer: int, value, ref: dict, dropout: Dropout, l2_term) -> str:
    """Whether value is what layer's backward gives when dA[l] skips the mask: dZ = dA g'(Z), with no D / keep_prob,
    or with the / keep_prob alone (the line that multiplies by D left out, the one that divides kept)."""
    assert dropout.activations is not None, "the hypothesis recomputes g'(Z): a caller with masks hands activations"
    assert dropout.keep_probs is not None, "only a run with dropout has masks to leave out"
    dZ = ref[f"dA{layer}"] * torch_ref.activation_derivative(dropout.activations[layer - 1], ref[f"Z{layer}"])
    A_prev = ref[f"A{layer - 1}"] if layer > 1 else dropout.X
    assert A_prev is not None, "layer 1's hypothesis reads the data: a caller with masks hands X"
    hypothesis = {"dZ": dZ, "dW": dZ @ A_prev.T / dZ.shape[1], "db": dZ.mean(axis=1, keepdims=True)}[quantity]
    value = np.asarray(value, dtype=np.float64)
    gap = float(np.max(np.abs(value - ref[f"{quantity}{layer}"]))) if value.shape == np.shape(hypothesis) else 0.0
    fits = [
        float(np.max(np.abs(value - (hypothesis * factor + l2_term)))) <= EXPLAINED * gap  # l2_term: dW's, else 0
        for factor in (1.0, 1.0 / dropout.keep_probs[layer - 1])
    ]
    if gap == 0 or not any(fits):
        return ""
    return (
        f"dA{layer} is not multiplied by the mask D{layer} in backward: dA = dA * D / keep_prob, with the mask "
        "forward used"
    )


def mask_share_slip(D: np.ndarray, l: int, keep_prob: float) -> str:
    """'' where a mask D[l] an implementation drew keeps about keep_prob of the units (within 6 binomial standard
    deviations: a false alarm about 1e-9); else what it keeps, and where that is the share a normal draw keeps,
    P(randn < keep_prob), that it was drawn with randn."""
    p, kept = keep_prob, float(np.mean(D))
    slack = 6 * np.sqrt(p * (1 - p) / D.size) + 1 / D.size
    if abs(kept - p) <= slack:
        return ""
    normal = 0.5 * (1 + math.erf(p / math.sqrt(2)))
    drawn = (
        f", as np.random.randn(...) < keep_prob does (a normal draw keeps {normal:.1%})"
        if abs(kept - normal) <= slack
        else ""
    )
    return (
        f"its dropout mask D{l} keeps {kept:.1%} of the units where keep_prob is {p:g}{drawn}: the course keeps a unit "
        "where rand < keep_prob"
    )


__all__ = ["Dropout", "dropout_slip", "hint_dropout", "mask_share_slip", "unmasked_backward"]
