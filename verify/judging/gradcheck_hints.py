"""A gradient checker's formula, the rounding it may carry, and its classic slips (the second course's Gradient
Checking notebook: gradient_check and gradient_check_n).

The checker returns difference = ||grad - gradapprox||_2 / (||grad||_2 + ||gradapprox||_2), gradapprox[i] =
(J(theta + epsilon e_i) - J(theta - epsilon e_i)) / (2 epsilon). The verifier computes it from the same gradient and
its own centred differences of the same cost with the same epsilon (a `Checked`), and each slip's value from the same
numbers: a slip is named when the learner's returned difference fits it (and, being asked only when it missed the
right formula, does not fit that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .tolerance import CHECKER_COST_ROUNDING

EPS = float(np.finfo(np.float64).eps)


def _two(v: np.ndarray) -> float:
    return float(np.linalg.norm(v))


def _one(v: np.ndarray) -> float:
    return float(np.sum(np.abs(v)))


def _squared(v: np.ndarray) -> float:
    return float(np.sum(np.square(v)))


def relative_difference(grad: np.ndarray, approx: np.ndarray, top=_two, bottom=_two, denominator: bool = True) -> float:
    """top(grad - approx) / (bottom(grad) + bottom(approx)): the checker's formula with 2-norms (the default), or
    a slip's norms; without the denominator, the numerator alone."""
    numerator = top(grad - approx)
    if not denominator:
        return numerator
    below = bottom(grad) + bottom(approx)
    return numerator / below if below else 0.0


@dataclass(frozen=True)
class Checked:
    """One call of a checker as the verifier computed it: the gradient handed (a column), its own centred differences
    with the same epsilon, the cost's size (|J| and the terms it is computed from), and `leaked` and `one_sided`: the
    differences each no-copy slip, and each one-sided one, computes (another pass over the cost: only when asked)."""

    grad: np.ndarray
    approx: np.ndarray
    epsilon: float
    cost_scale: float
    leaked: Callable[[], Sequence[np.ndarray]] = field(default=lambda: ())
    # forward's and backward's one-sided differences, then theta_minus = np.copy(theta_plus)'s
    one_sided: Callable[[], Sequence[np.ndarray]] = field(default=lambda: ())

    @property
    def difference(self) -> float:
        return relative_difference(self.grad, self.approx)

    def approx_error(self, approx: np.ndarray | None = None) -> float:
        """How far a correct checker's gradapprox may lie from the verifier's, in 1-norm (which bounds the 2-norm):
        each J may differ by CHECKER_COST_ROUNDING eps x the cost's size, so each entry of (J_plus - J_minus) / (2 epsilon) by
        that over epsilon, plus the division's own rounding; summed over the entries."""
        approx = self.approx if approx is None else approx
        per_entry = CHECKER_COST_ROUNDING * EPS * self.cost_scale / self.epsilon
        return approx.size * per_entry + 2 * EPS * _one(approx)

    def allowed(self, value: float, approx: np.ndarray | None = None, power: int = 1) -> float:
        """How far a correct computation of `value` (a ratio of norms of grad - approx and of approx, each to
        `power`: 2 for a squared norm) may lie from the verifier's: a change of gradapprox by E changes the norm of
        grad - gradapprox by at most E and the denominator by at most E, so the value by at most power x E x
        (1 / numerator + 1 / denominator) relatively (numerator and denominator in 2-norm, the smallest of the
        norms, so that this bounds the 1-norm's too); plus the norms' and the division's own rounding."""
        approx = self.approx if approx is None else approx
        E = self.approx_error(approx)
        numerator, denominator = _two(self.grad - approx), _two(self.grad) + _two(approx)
        arithmetic = 4 * (approx.size + 2) * EPS * abs(value)
        if numerator == 0 or denominator == 0:  # the right value is exactly 0: it may move by E over the sizes
            return E / max(denominator, 1.0) + arithmetic
        return abs(value) * power * E * (1 / numerator + 1 / denominator) + arithmetic

    def fits(self, returned: float, value: float, approx: np.ndarray | None = None, power: int = 1) -> bool:
        return bool(abs(returned - value) <= self.allowed(value, approx, power))


Calls = Sequence[tuple[float, Checked]]  # each call's returned difference, and the verifier's numbers for it


def epsilon_slip(calls: Calls) -> str:
    """gradapprox divided by epsilon, not 2 epsilon: twice the centred difference."""
    if all(c.fits(returned, relative_difference(c.grad, 2 * c.approx), 2 * c.approx) for returned, c in calls):
        return (
            "it fits gradapprox = (J_plus - J_minus) / epsilon: the centred difference divides by 2 * epsilon, "
            "the distance between theta_plus and theta_minus"
        )
    return ""


NORMS = (  # (what the slip computes, numerator's norm, denominator's, the power of the norms)
    ("np.sum(np.abs(...)) for the norms (the 1-norm)", _one, _one, 1),
    ("np.sum(np.abs(...)) for the numerator (the 1-norm)", _one, _two, 1),
    ("squared norms without the square root (np.sum(x ** 2))", _squared, _squared, 2),
    ("a squared numerator without the square root", _squared, _two, 2),
)


def norm_slip(calls: Calls) -> str:
    """A norm that is not the 2-norm: the 1-norm (np.sum of abs), or the 2-norm squared without its root."""
    for what, top, bottom, power in NORMS:
        if all(
            c.fits(returned, relative_difference(c.grad, c.approx, top, bottom), power=power) for returned, c in calls
        ):
            return f"it fits {what}: the formula's norms are 2-norms, np.linalg.norm(grad - gradapprox) and so on"
    return ""


def denominator_slip(calls: Calls) -> str:
    """The numerator alone: ||grad - gradapprox||_2, not divided by ||grad||_2 + ||gradapprox||_2."""

    def fits(returned: float, c: Checked) -> bool:  # the norm moves by the centred differences' error at most
        numerator = relative_difference(c.grad, c.approx, denominator=False)
        return abs(returned - numerator) <= c.approx_error() + 4 * (c.approx.size + 2) * EPS * numerator

    if all(fits(returned, c) for returned, c in calls):
        return (
            "it fits the numerator alone, ||grad - gradapprox||_2: the difference is relative, divided by "
            "||grad||_2 + ||gradapprox||_2, so that it means the same whatever the gradients' size"
        )
    return ""


def no_copy_slip(calls: Calls) -> str:
    """theta_plus (or theta_minus) = parameters_values without np.copy: each step is written into the vector
    itself, so J_minus, and every later entry, is evaluated at a moved point."""
    if _one_variant_fits(calls, [c.leaked() for _, c in calls]):
        return (
            "it fits theta_plus = parameters_values (or theta_minus) without np.copy: the step of entry i is "
            "written into parameters_values itself, so J_minus and every later entry are computed at a moved "
            "point (gradapprox about half the gradient); take theta_plus = np.copy(parameters_values)"
        )
    return ""


def _one_variant_fits(calls: Calls, variants: Sequence[Sequence[np.ndarray]]) -> bool:
    """Whether, for some v, every call's returned difference fits the one its gradapprox variants[call][v] gives."""
    return any(
        all(
            c.fits(returned, relative_difference(c.grad, approxes[v]), approxes[v])
            for (returned, c), approxes in zip(calls, variants)
        )
        for v in range(min((len(approxes) for approxes in variants), default=0))
    )


def minus_from_plus_slip(calls: Calls) -> str:
    """theta_minus = np.copy(theta_plus), or theta_plus and theta_minus both parameters_values itself (the same
    numbers): theta_minus steps back from the stepped point onto theta, and gradapprox is (J_plus - J) / (2 epsilon),
    half a one-sided difference."""
    if _one_variant_fits(calls, [c.one_sided()[2:] for _, c in calls]):
        return (
            "it fits J_minus computed at theta itself: theta_minus = np.copy(theta_plus), or theta_plus and "
            "theta_minus both parameters_values without np.copy, steps back from the stepped point onto theta, so "
            "gradapprox is (J_plus - J) / (2 * epsilon), about half the gradient; take each as "
            "np.copy(parameters_values)"
        )
    return ""


def one_sided_slip(calls: Calls) -> str:
    """gradapprox = (J_plus - J) / epsilon (or (J - J_minus) / epsilon): a one-sided difference, whose error grows
    with epsilon where the centred one's grows with its square."""
    if _one_variant_fits(calls, [c.one_sided()[:2] for _, c in calls]):
        return (
            "it fits a one-sided difference, (J_plus - J) / epsilon: the centred difference is "
            "(J_plus - J_minus) / (2 * epsilon), whose error shrinks with epsilon squared"
        )
    return ""


SLIPS = {
    f.__name__: f
    for f in (minus_from_plus_slip, no_copy_slip, epsilon_slip, norm_slip, denominator_slip, one_sided_slip)
}


def checker_slip(calls: Calls, slips: Sequence[str]) -> str:
    """The first of `slips` (names of this module's hints, a catalogue entry's) that every call's returned difference
    fits: one call alone may fit two (at exact gradients, epsilon for 2 epsilon and no copy both give 1/3)."""
    return next((hint for name in slips if (hint := SLIPS[name](calls))), "")


__all__ = ["Checked", "checker_slip", "denominator_slip", "epsilon_slip", "minus_from_plus_slip", "no_copy_slip"]
__all__ += ["norm_slip", "one_sided_slip"]
__all__ += ["relative_difference"]
