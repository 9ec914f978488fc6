"""Hints for the second course's graded functions (its weeks 1 and 2): initialisers, L2's and dropout's steps.

Each tests a hypothesis numerically, as hints.py's do: an initialiser's weights have the spread another scale rule
gives, layer by layer; a dropout mask keeps
1 - keep_prob of the units; the output A3 is masked; backward's dA skips the mask, its 1 / keep_prob, or uses a
mask of its own (L2's slips are hints.l2_slip's). Where no hypothesis fits there is no hint.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .dropout_hints import Dropout, dropout_slip, unmasked_backward
from .hint_fits import EXPLAINED, matches

SPREAD_SDS = 6  # a spread fits a rule within 6 standard deviations of its estimate (a false alarm about 1e-9)

# The scale rules an initialiser's W[l] (n[l], n[l-1]) may follow: the standard deviation randn(...) * factor has.
SCALES: dict[str, Callable[[int, int], float]] = {
    "randn * 10": lambda n_prev, n: 10.0,
    "randn * 0.01": lambda n_prev, n: 0.01,
    "randn with no factor": lambda n_prev, n: 1.0,
    "randn * sqrt(2 / n[l-1])": lambda n_prev, n: math.sqrt(2 / n_prev),
    "randn * sqrt(2 / n[l])": lambda n_prev, n: math.sqrt(2 / n),
    "randn * sqrt(1 / n[l-1])": lambda n_prev, n: math.sqrt(1 / n_prev),
    "randn * 2 / n[l-1]": lambda n_prev, n: 2 / n_prev,
}
HE = "the course's He initialisation is randn(n[l], n[l-1]) * np.sqrt(2. / layers_dims[l-1])"
RANDOM = "this lesson's initialize_parameters_random is randn(n[l], n[l-1]) * 10, large on purpose"
# initialiser -> its rule, and the slips its weights are measured against: (the scale it fits, the hint)
SPREAD_RULES: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "initialize_parameters_random": (
        "randn * 10",
        (
            ("randn * 0.01", f"W is randn * 0.01, the small weights of other lessons: {RANDOM}"),
            ("randn with no factor", f"W is randn with no factor: {RANDOM}"),
        ),
    ),
    "initialize_parameters_he": (
        "randn * sqrt(2 / n[l-1])",
        (
            ("randn * sqrt(2 / n[l])", f"He scaled by n[l]: the layer's own size, not its input's; {HE}"),
            ("randn * sqrt(1 / n[l-1])", f"W is randn * sqrt(1 / n[l-1]), Xavier's scale: {HE}"),
            ("randn * 2 / n[l-1]", f"W is randn * 2 / n[l-1], He without its square root: {HE}"),
            ("randn * 0.01", f"W is randn * 0.01, the small random initialisation: {HE}"),
            ("randn * 10", f"W is randn * 10, initialize_parameters_random's scale: {HE}"),
            ("randn with no factor", f"W is randn with no factor: {HE}"),
        ),
    ),
}


def spread(W: np.ndarray) -> float:
    """The root mean square of W's entries: randn * s has a spread of s."""
    return float(np.sqrt(np.mean(np.asarray(W, dtype=np.float64) ** 2)))


def spread_allowed(size: int) -> float:
    """How far (relative) the spread of `size` draws may be from their rule's: SPREAD_SDS standard deviations of
    the estimate, 1 / sqrt(2 size) each."""
    return SPREAD_SDS / math.sqrt(2 * size)


def spread_fits(W: np.ndarray, scale: str) -> bool:
    """Whether W's spread is what the rule `scale` gives a layer of W's shape."""
    expected = SCALES[scale](W.shape[1], W.shape[0])
    return abs(spread(W) / expected - 1) <= spread_allowed(W.size)


def spread_slip(function: str, weights: list[np.ndarray]) -> str:
    """The slip of `function`'s listed scales that every layer's W fits, or ""."""
    _, slips = SPREAD_RULES.get(function, ("", ()))
    return next((hint for scale, hint in slips if all(spread_fits(W, scale) for W in weights)), "")


def mask_slip(layer: int, D: np.ndarray, keep_prob: float) -> str:
    """A mask whose kept share is near 1 - keep_prob: drawn with rand > keep_prob."""
    size, kept = D.size, float(np.mean(D))
    if abs(kept - (1 - keep_prob)) > SPREAD_SDS * math.sqrt(keep_prob * (1 - keep_prob) / size) + 1 / size:
        return ""
    return (
        f"D{layer} keeps about 1 - keep_prob of the units: it is drawn with rand > keep_prob; the course keeps a "
        "unit where np.random.rand(...) < keep_prob"
    )


def dropout_forward_slip(quantity: str, layer: int, value, expected, keep_prob: float) -> str:
    """A wrong A of forward_propagation_with_dropout: a hidden A not divided by keep_prob (dropout_hints.dropout_slip), or
    the output A3 masked (each entry 0, or the right one, divided by keep_prob or not)."""
    if quantity != "A":
        return ""
    if layer < 3:
        return dropout_slip("A", layer, value, expected, (keep_prob, keep_prob))
    value, expected = np.asarray(value, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if value.shape != expected.shape or not np.any(value == 0) or not np.all(np.isfinite(value)):
        return ""
    kept = value != 0
    if any(matches(value[kept], expected[kept] * factor) for factor in (1 / keep_prob, 1.0)):
        return (
            f"A{layer} is masked: dropout drops units of the hidden layers only (A1 and A2); the output "
            f"A{layer} = sigmoid(Z{layer}) keeps every example"
        )
    return ""


def dropout_backward_slip(layer: int, value, unmasked: np.ndarray, D: np.ndarray, keep_prob: float) -> str:
    """A wrong dA[l] of backward_propagation_with_dropout, whose right value is unmasked * D / keep_prob (unmasked:
    W[l+1]^T dZ[l+1]): not divided by keep_prob, the mask not applied, or the zeros of another mask than D."""
    value = np.asarray(value, dtype=np.float64)
    if value.shape != unmasked.shape or not np.all(np.isfinite(value)):
        return ""
    expected = unmasked * D / keep_prob
    gap = float(np.max(np.abs(value - expected)))

    def fits(hypothesis) -> bool:
        return gap > 0 and float(np.max(np.abs(value - hypothesis))) <= EXPLAINED * gap

    if fits(unmasked * D):
        return f"dA{layer} is not divided by keep_prob in backward: dA = dA * D / keep_prob, as in forward"
    if fits(unmasked) or fits(unmasked / keep_prob):
        return (
            f"dA{layer} is not multiplied by the mask D{layer} in backward: dA = dA * D / keep_prob, with the mask "
            "forward used"
        )
    live = unmasked != 0
    dropped = (value == 0) & live
    if gap > 0 and np.any(dropped != ((D == 0) & live)):
        kept = ~dropped
        if any(matches(value[kept], unmasked[kept] * factor) for factor in (1 / keep_prob, 1.0)):
            return (
                f"dA{layer} is 0 where another mask than D{layer} is: backward must use the mask forward drew, "
                "read from the cache, not draw a new one"
            )
    return ""


def dropout_gradient_slip(quantity: str, layer: int, value, ref: dict, dropout: Dropout) -> str:
    """A wrong hidden dZ, dW or db of backward_propagation_with_dropout (its dA agreed, or it returns none): the
    1 / keep_prob left out (dropout_hints.dropout_slip) or the mask left out (dropout_hints.unmasked_backward)."""
    keep_probs = dropout.keep_probs
    if keep_probs is None or not 0 < layer <= len(keep_probs):
        return ""
    key = f"{quantity}{layer}"
    return dropout_slip(quantity, layer, value, ref[key], keep_probs) or unmasked_backward(
        quantity, layer, value, ref, dropout, 0.0
    )
