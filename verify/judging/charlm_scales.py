"""The language model's tolerance scales (impl/charlm.py): what each quantity of one optimize step on one name is
judged relative to. tolerance.py's model for a layer, applied to each time step as to a layer of the unrolled
network: a quantity's scale is the size of the terms it is computed from plus the error its inputs carry into it,
one number per quantity, computed alongside the step itself in float64. ||W|| is the largest 2-norm of a row of W
(of a column for W^T), rms and max are over a vector's entries, x<t> is the step's one-hot input, a<t>, y_hat<t>,
dy<t> = y_hat<t> - onehot(Y[t]) and da<t> as computed, C what a quantity carries into the next step (C_a<-1> = 0):

    E_pre<t>   max|Wax x<t>| + ||Waa|| max|a<t-1>| + max|b|  +  ||Waa|| C_a<t-1>
    E_a<t>     max|a<t>| + max(1 - a<t>^2) E_pre<t>,    C_a<t> = max|a<t>| + rms(1 - a<t>^2) E_pre<t>
    E_z<t>     ||Wya|| (max|a<t>| + C_a<t>) + max|by|                (the logits)
    loss       sum over t of |loss<t>| + 2 E_z<t>                       (log-sum-exp: each logit's error, twice)
    E_dy<t>    1 + 2 max(y_hat<t>) E_z<t>                               (softmax: y_hat times its logits' error)
    dWya       sum E_dy<t> (max|a<t>| + C_a<t>),   dby   sum E_dy<t>
    E_da<t>    ||Wya^T|| E_dy<t> + C_next
    E_raw<t>   max(1 - a<t>^2) E_da<t> + 2 max|a<t> da<t>| C_a<t>,    C_raw<t> = rms(1 - a<t>^2) E_da<t> + ...
    db         sum E_raw<t>,   dWax   sum E_raw<t>,   dWaa   sum E_raw<t> (max|a<t-1>| + C_a<t-1>)
    C_next     ||Waa^T|| C_raw<t>                                       (backward through time)
    a          E_a<T-1>, the last hidden state
    update     learning_rate E_d(P) + UPDATE_ROUNDING max |P|             (tolerance.unit_step_scale)

Rounding errors have random signs: they add up like 2-norms, and tanh' = 1 - a^2 damps what flows through a
saturated unit both ways (rms over the units), as tolerance.py argues for a deep network; a worst-case 1-norm
bound would grow by about sqrt(n_a) per time step. Two sides agree when max |impl - torch| <= rtol x scale.
Clipping maps a gradient entry into [-5, 5] exactly and never magnifies a difference: a clipped gradient keeps its
scale.

A sampled distribution y = softmax(Wya a + by) is judged relative to 1 + 2 (||Wya|| sqrt(n_a) (1 + max|Wax| +
||Waa|| sqrt(n_a) + max|b|) + max|by|): the logits' terms with |a| <= 1, doubled for the shift by their maximum.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .tolerance import largest, unit_step_scale

PARAMETERS = ("Wax", "Waa", "Wya", "b", "by")


def _rows(W: np.ndarray) -> float:
    """||W||: the largest 2-norm of a row."""
    return float(np.max(np.linalg.norm(W, axis=1))) if W.size else 0.0


def _rms(v: np.ndarray) -> float:
    return float(np.sqrt(np.mean(v * v)))


def step_scales(
    X: Sequence[int | None], Y: Sequence[int], a_prev: np.ndarray, parameters: dict, learning_rate: float
) -> dict:
    """{quantity: scale} of one optimize step on the name (X, Y) from a_prev: cost, each gradient (dWaa, ...), a
    (the last hidden state) and each updated parameter (Wax, ...), as the module's docstring says."""
    P = {k: np.asarray(parameters[k], dtype=np.float64) for k in PARAMETERS}
    norm = {"Waa": _rows(P["Waa"]), "Wya": _rows(P["Wya"]), "WaaT": _rows(P["Waa"].T), "WyaT": _rows(P["Wya"].T)}
    a = {-1: np.asarray(a_prev, dtype=np.float64)}
    C_a = {-1: 0.0}
    E_a, dy, E_dy, E = {}, {}, {}, dict.fromkeys(("dWax", "dWaa", "dWya", "db", "dby", "cost"), 0.0)
    for t, index in enumerate(X):
        x_part = P["Wax"][:, index : index + 1] if index is not None else np.zeros_like(a[-1])  # Wax x<t>, (n_a, 1)
        a[t] = np.tanh(x_part + P["Waa"] @ a[t - 1] + P["b"])  # (n_a, 1)
        E_pre = largest(x_part) + norm["Waa"] * (largest(a[t - 1]) + C_a[t - 1]) + largest(P["b"])
        slope = 1 - a[t] ** 2
        E_a[t] = largest(a[t]) + largest(slope) * E_pre
        C_a[t] = largest(a[t]) + _rms(slope) * E_pre
        z = P["Wya"] @ a[t] + P["by"]  # (n_y, 1)
        y_hat = np.exp(z - z.max()) / np.sum(np.exp(z - z.max()))
        E_z = norm["Wya"] * (largest(a[t]) + C_a[t]) + largest(P["by"])
        E["cost"] += abs(float(np.log(y_hat[Y[t], 0]))) + 2 * E_z
        dy[t] = y_hat.copy()
        dy[t][Y[t]] -= 1
        E_dy[t] = 1 + 2 * float(np.max(y_hat)) * E_z
    da_next, C_next = np.zeros_like(a[-1]), 0.0
    for t in reversed(range(len(X))):
        E["dWya"] += E_dy[t] * (largest(a[t]) + C_a[t])
        E["dby"] += E_dy[t]
        da = P["Wya"].T @ dy[t] + da_next
        slope = 1 - a[t] ** 2
        E_da = norm["WyaT"] * E_dy[t] + C_next
        carried = 2 * largest(a[t] * da) * C_a[t]  # a<t>'s error, through d tanh' / da = -2a
        E_raw = largest(slope) * E_da + carried
        E["db"] += E_raw
        E["dWax"] += E_raw
        E["dWaa"] += E_raw * (largest(a[t - 1]) + C_a[t - 1])
        da_next, C_next = P["Waa"].T @ (slope * da), norm["WaaT"] * (_rms(slope) * E_da + carried)
    scales = {**E, "a": E_a[len(X) - 1]}
    scales.update({k: unit_step_scale(learning_rate * scales[f"d{k}"], P[k]) for k in PARAMETERS})
    return scales


def distribution_scale(parameters: dict) -> float:
    """What a sampled distribution y = softmax(Wya a + by) is judged relative to (the module's docstring)."""
    P = {k: np.asarray(parameters[k], dtype=np.float64) for k in PARAMETERS}
    root = np.sqrt(P["Waa"].shape[0])  # |a| <= 1: ||a||_2 <= sqrt(n_a)
    logits = _rows(P["Wya"]) * root * (1 + largest(P["Wax"]) + _rows(P["Waa"]) * root + largest(P["b"]))
    return 1 + 2 * (logits + largest(P["by"]))
