"""Values that carry the size of the rounding they may hold: the recurrent checks' scales (judging/rnn_course.py).

A Tracked is a float64 array `v` and, entry by entry, `e`: how large the rounding error of a computation of `v` in
the run's dtype may be, in units of that dtype's rounding (the unit checks allow rtol times it). Every operation
adds the size of its own terms (a sum's rounding scales with its terms, |a| + |b|, not with its result) to the error
its inputs carry into it, passed on through the operation's own derivative: tanh passes e (1 - a^2), sigmoid
s (1 - s), a product |b| e_a + |a| e_b. This is unit_harness.terms_scale's sum of the terms' absolute values,
carried through the time steps of a recurrent network, where an error made at step t reaches every later step
through Waa and the nonlinearities (and every earlier one backward through time): the scale grows with the terms
summed over the steps, through the derivatives the network really has, so a long sequence of saturated units is not
held to the loose bound a chain of (1 + a^2) factors would give.

Written once, a course computation on Tracked values gives both what it computes in float64 (the expected value, or
a slip's) and its scale: the course's code, with operators.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Tracked:
    """A float64 value `v` and the rounding it may carry, `e` (>= 0, the same shape), in units of the run's rounding."""

    __array_priority__ = 1000  # numpy's operators defer to Tracked's: 1 - a and an array @ a stay Tracked

    def __init__(self, v, e=None):
        self.v = np.asarray(v, dtype=np.float64)
        self.e = np.zeros(self.v.shape) if e is None else np.asarray(e, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.v.shape

    @property
    def T(self) -> Tracked:
        return Tracked(self.v.T, self.e.T)

    def scale(self) -> float:
        """The largest rounding any entry may carry: the unit checks' scale for this output."""
        return float(np.max(self.e)) if self.e.size else 0.0

    def __getitem__(self, index) -> Tracked:
        return Tracked(self.v[index], self.e[index])

    def __add__(self, other) -> Tracked:
        o = exact(other)
        v = self.v + o.v
        return Tracked(v, self.e + o.e + np.abs(v))

    __radd__ = __add__

    def __sub__(self, other) -> Tracked:
        o = exact(other)
        v = self.v - o.v
        return Tracked(v, self.e + o.e + np.abs(v))

    def __rsub__(self, other) -> Tracked:
        return exact(other) - self

    def __mul__(self, other) -> Tracked:
        o = exact(other)
        v = self.v * o.v
        return Tracked(v, np.abs(o.v) * self.e + np.abs(self.v) * o.e + np.abs(v))

    __rmul__ = __mul__

    def __pow__(self, power: int) -> Tracked:
        assert power == 2, "the course squares, nothing else"
        return self * self

    def __matmul__(self, other) -> Tracked:
        o = exact(other)
        size = np.abs(self.v) @ np.abs(o.v)
        return Tracked(self.v @ o.v, np.abs(self.v) @ o.e + self.e @ np.abs(o.v) + size)

    def __rmatmul__(self, other) -> Tracked:
        return exact(other) @ self

    def sum(self, axis=None, keepdims: bool = False) -> Tracked:
        """A sum's rounding: its terms' sizes, and the errors they carry."""
        return Tracked(
            np.sum(self.v, axis=axis, keepdims=keepdims),
            np.sum(self.e + np.abs(self.v), axis=axis, keepdims=keepdims),
        )


def exact(value) -> Tracked:
    """An input of the check (data, parameters, upstream gradients): exact in the run's dtype, no rounding carried."""
    return value if isinstance(value, Tracked) else Tracked(value)


def tanh(z: Tracked) -> Tracked:
    a = np.tanh(z.v)
    return Tracked(a, (1 - a**2) * z.e + np.abs(a))


def sigmoid(z: Tracked) -> Tracked:
    s = 1 / (1 + np.exp(-z.v))
    return Tracked(s, s * (1 - s) * z.e + s)


def softmax(z: Tracked, axis: int | None = 0) -> Tracked:
    """The softmax over `axis` (the course's: 0, the units; None: every entry at once), max subtracted first. An
    error in z moves y_i by at most 2 y_i (1 - y_i) times the largest error over the axis; the subtraction of the
    maximum rounds with z's size."""
    shifted = z.v - np.max(z.v, axis=axis, keepdims=True)
    y = np.exp(shifted) / np.sum(np.exp(shifted), axis=axis, keepdims=True)
    carried = np.max(2 * z.e + np.abs(shifted), axis=axis, keepdims=True)  # z's, its maximum's, the subtraction's
    summed = z.v.size if axis is None else z.v.shape[axis]  # exp rounds, the sum of the exps, the division: y's size
    return Tracked(y, 2 * y * (1 - y) * carried + (summed + 1) * y)


def concat(parts: Sequence[Tracked], axis: int = 0) -> Tracked:
    return Tracked(np.concatenate([p.v for p in parts], axis=axis), np.concatenate([p.e for p in parts], axis=axis))


def stack(steps: Sequence[Tracked]) -> Tracked:
    """Time steps (n, m) -> a sequence (n, m, T_x), time last."""
    return Tracked(np.stack([s.v for s in steps], axis=-1), np.stack([s.e for s in steps], axis=-1))


def zeros(shape: tuple[int, ...]) -> Tracked:
    return Tracked(np.zeros(shape))


def tracked(parameters: dict) -> dict[str, Tracked]:
    """The parameters, exact."""
    return {k: exact(v) for k, v in parameters.items()}


__all__ = ["Tracked", "concat", "exact", "sigmoid", "softmax", "stack", "tanh", "tracked", "zeros"]
