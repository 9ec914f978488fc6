"""The verifier's checks at one set of parameters: forward, backward, gradient checking.

(Training, in lockstep and free-running, is in training.py.) Each check folds (scratch, torch) pairs into Comparison rows, one per quantity and layer,
in the order the quantities are computed, so the first failing row is the first wrong line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

import scratch
import torch_ref

from .compare import Comparison, agreement, diagnose, gradient_scales, relative_difference_row
from .config import GRADCHECK_EPSILON, GRADCHECK_RTOL
from .errors import ImplementationError
from .impl import CourseImplementation

GRADCHECK_EXAMPLES = 64  # finite differences on the first 64 examples: the math does not depend on m
GRADCHECK_ENTRIES = 16  # entries perturbed per parameter array, at most


@dataclass
class CheckResult:
    """One check's rows, or the error the implementation raised during it."""

    name: str  # forward, backward, gradcheck, lockstep, free-running
    check: str  # forward, backward, gradcheck, training
    rtol: float
    atol: float
    rows: dict = field(default_factory=dict)
    error: Optional[ImplementationError] = None
    error_iteration: Optional[int] = None
    skipped: Optional[str] = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.ok for r in self.rows.values())

    def row(self, quantity: str, layer: int) -> Comparison:
        key = (quantity, layer)
        if key not in self.rows:
            self.rows[key] = Comparison(self.check, quantity, layer, rtol=self.rtol, atol=self.atol)
        return self.rows[key]

    def compare(self, items: list, m: int, iteration: Optional[int] = None, point: Optional[str] = None,
                rtol: Optional[float] = None, atol: Optional[float] = None, scales: Optional[dict] = None) -> list:
        """Fold (quantity, layer, scratch value, torch value) items into their rows, in order; returns their statistics.

        `scales` maps (quantity, layer) to the size of the terms a value was summed from (see agreement).
        """
        rtol = self.rtol if rtol is None else rtol
        atol = self.atol if atol is None else atol
        scales = scales or {}
        stats = agreement([(a, b) for _, _, a, b in items], rtol, atol, [scales.get((q, l)) for q, l, _, _ in items])
        for (quantity, layer, a, b), (max_abs, max_rel, worst) in zip(items, stats):
            row = self.row(quantity, layer)
            was_ok = row.ok
            if not row.record(max_abs, max_rel, worst, iteration, rtol, atol) and was_ok:
                row.point = point
                row.hint = diagnose(a, b, m)
        return stats


def compare_at_point(impl: CourseImplementation, model, X, Y, params, point: str,
                     forward: CheckResult, backward: CheckResult) -> None:
    """Forward (Z, A, J) and backward (dZ, dW, db, dA) of both sides at one set of parameters."""
    m, L = X.shape[1], impl.L
    torch_ref.load_params(model, params)
    ref = torch_ref.forward_backward(model, X, Y, impl.loss)
    try:
        AL, caches = impl.forward(X, params)
        values = impl.layers(AL, caches)
        cost = impl.cost(AL, Y, caches)
    except ImplementationError as error:
        forward.error = forward.error or error
        backward.skipped = "the forward pass raised"
        return
    items = [(q, l, values[f"{q}{l}"], ref[f"{q}{l}"]) for l in range(1, L + 1) for q in ("Z", "A")]
    forward.compare(items + [("cost", L, cost, ref["cost"])], m, point=point)
    try:
        grads = impl.backward(AL, Y, caches, params)
    except ImplementationError as error:
        backward.error = backward.error or error
        return
    items = []
    for l in range(L, 0, -1):  # the order backprop computes them in
        keys = [("dZ", l), ("dW", l), ("db", l), ("dA", l - 1)]
        items += [(q, k, grads[f"{q}{k}"], ref[f"{q}{k}"]) for q, k in keys if f"{q}{k}" in grads]
    backward.compare(items, m, point=point, scales=gradient_scales(grads, AL, Y, caches))
    _hint_activation_derivative(backward, impl.activations)


def _hint_activation_derivative(backward: CheckResult, activations: list) -> None:
    """When dA[l] agrees but what follows from it in layer l does not, name g'[l] as the suspect."""
    first = next((r for r in backward.rows.values() if not r.ok), None)
    L = len(activations)
    if first is None or first.hint or first.quantity not in ("dZ", "dW", "db") or first.layer == L:
        return
    dA = backward.rows.get(("dA", first.layer))
    if dA is not None and dA.ok:
        name = activations[first.layer - 1]
        first.hint = (f"dA{first.layer} agrees but {first.label} does not: the step between them is "
                      f"dZ{first.layer} = dA{first.layer} * g'(Z{first.layer}); check the derivative of {name}")


def kink_probe(X: np.ndarray, params: dict) -> tuple[np.ndarray, dict]:
    """Data and parameters at which every pre-activation of the first example is exactly 0.

    With x = 0 and zero biases, Z[l] = W[l] g(0) + 0 = 0 exactly on both sides (for g(0) = 0),
    so relu'(0) and leaky_relu'(0) are compared, which random data almost never does.
    """
    X_probe = X.copy()
    X_probe[:, 0] = 0
    probe = {k: (np.zeros_like(v) if k.startswith("b") else v) for k, v in params.items()}
    return X_probe, probe


def gradient_check(impl: CourseImplementation, X, Y, params, seed: int) -> CheckResult:
    """The implementation's own gradients against centred differences of its own cost, in float64."""
    result = CheckResult("gradcheck", "gradcheck", GRADCHECK_RTOL, 0.0)
    X64 = np.ascontiguousarray(X[:, :GRADCHECK_EXAMPLES], dtype=np.float64)
    Y64 = np.ascontiguousarray(Y[:, :GRADCHECK_EXAMPLES], dtype=np.float64)
    P64 = {k: v.astype(np.float64) for k, v in params.items()}

    def cost_of(p: dict) -> float:
        AL, caches = impl.forward(X64, p)
        return impl.cost(AL, Y64, caches)

    rng = np.random.default_rng([seed, 2])
    indices = {k: _sample_entries(v.shape, GRADCHECK_ENTRIES, rng) for k, v in P64.items()}
    try:
        AL, caches = impl.forward(X64, P64)
        J = impl.cost(AL, Y64, caches)
        grads = impl.backward(AL, Y64, caches, P64)
        approx = scratch.numerical_gradients(cost_of, P64, GRADCHECK_EPSILON, indices)
    except ImplementationError as error:
        result.error = error
        return result
    # A centred difference of a float64 cost carries a rounding error of about eps |J| / epsilon per entry.
    noise = 10 * np.finfo(np.float64).eps * max(abs(J), 1.0) / GRADCHECK_EPSILON
    for l in range(impl.L, 0, -1):
        for q in ("W", "b"):
            picked = tuple(np.array(indices[f"{q}{l}"]).T)
            g, a = grads[f"d{q}{l}"][picked], approx[f"d{q}{l}"][picked]
            relative_difference_row(result.row(f"d{q}", l), g, a, noise * np.sqrt(g.size))
    return result


def _sample_entries(shape: tuple[int, ...], k: int, rng) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= k else np.sort(rng.choice(size, k, replace=False))
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]
