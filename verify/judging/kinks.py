"""Relu's kink: where the two sides' derivatives may both be right and still differ.

g'(Z) of relu and leaky_relu jumps at Z = 0: a Z of 1e-10 on one side and -1e-10 (or 0) on the other are both
right, their derivatives differ by 1, and every gradient below may then differ by far more than rounding. The
checks leave out what such a flip can change, and say so.
"""

from __future__ import annotations

import numpy as np

KINKED = ("relu", "leaky_relu")  # g' jumps at z = 0


def kink_flip(Z_impl: dict, ref: dict, activations, scales: dict, rtol: float):
    """The last hidden layer where the two sides' Z agree but fall on opposite sides of a relu's kink, or None.

    There g'(Z) jumps: Z = 1e-10 on one side and -1e-10 (or 0) on the other are both right,
    their derivatives differ by 1, and every gradient of that layer and below may then differ
    by far more than rounding. Only entries whose Z agree within the tolerance count.
    """
    for l in range(len(activations) - 1, 0, -1):
        Z, Z_ref = Z_impl.get(f"Z{l}"), ref[f"Z{l}"]
        if activations[l - 1] in KINKED and Z is not None and Z.shape == Z_ref.shape:
            flip = (Z > 0) != (Z_ref > 0)
            if flip.any() and np.any(np.abs(Z[flip] - Z_ref[flip]) <= rtol * scales[("Z", l)]):
                return l
    return None


def kink_affects(quantity: str, layer: int, kink: int) -> bool:
    """Whether a derivative taken on either side of layer `kink`'s kink can change this quantity: dZ, a
    parameter's gradient, the optimiser's state and the step at layer `kink` and below, dA below it."""
    quantity = quantity.rsplit("_", 1)[-1]  # an optimiser's v_dW, s_corrected_db: as their gradient
    if quantity == "dA":
        return layer < kink
    return quantity not in ("Z", "A", "cost", "lr") and layer <= kink
