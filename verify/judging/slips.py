"""The slips a network check names behind its broken rows, found through the catalogue.

The forward and backward checks compare what the course functions in play compute (L_model_forward and
compute_cost, L_model_backward, ...). Each function's catalogue entry names its slips; those that read a network
check's rows are registered here by that name, all with one signature, (check, evidence), so that a check names
the slips of the functions it covers (`name_slips`) without knowing which they are. A new slip of a network check
is a function of hints.py, one line in ROW_SLIPS and its name in an entry. (The slips of a function's own check,
bce_slip or db_slip, are called by that check, units.py's, which the entry names too.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import catalogue
from ..network import Network, Point
from .dropout_hints import Dropout, hint_dropout
from .hints import L2, diagnose_cost, hint_l2, hint_layer_backward


@dataclass(frozen=True)
class Evidence:
    """What a check's slips are measured against: the implementation's values (forward: Z, A and "cost";
    backward: the gradients), torch's (ref), the point both were computed at (its masks those forward used) and
    the network's activations, loss, lambd and keep_probs."""

    values: dict
    ref: dict
    point: Point
    network: Network

    @property
    def l2(self) -> L2:
        return L2(self.point.params, self.network.lambd, self.point.X.shape[1])

    @property
    def dropout(self) -> Dropout:
        network, point = self.network, self.point
        return Dropout(network.keep_probs, self.l2, point.masks, tuple(network.activations), point.X)


def _cost(check, evidence: Evidence) -> None:
    row = next((r for (q, _), r in check.rows.items() if q == "cost"), None)
    if row is not None and not row.ok and not row.hint and "cost" in evidence.values:
        row.hint = diagnose_cost(evidence.values["cost"], evidence.ref, evidence.point.Y, evidence.network.loss)


ROW_SLIPS: dict[str, Callable[..., None]] = {
    "diagnose_cost": _cost,
    "hint_layer_backward": lambda check, e: hint_layer_backward(
        check, e.network.activations, e.values, e.point.params, e.point.X, e.ref
    ),
    "hint_l2": lambda check, e: hint_l2(check, e.values, e.ref, e.l2),
    "hint_dropout": lambda check, e: hint_dropout(check, e.values, e.ref, e.dropout),
}


def name_slips(check, functions: tuple[catalogue.CourseFunction, ...], evidence: Evidence) -> None:
    """Each slip of `functions` (catalogue entries) that reads a network check's rows, once, in their order."""
    named = dict.fromkeys(slip for entry in functions for slip in entry.slips if slip in ROW_SLIPS)
    for slip in named:
        ROW_SLIPS[slip](check, evidence)
