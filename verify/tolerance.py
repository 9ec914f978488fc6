"""The tolerance model: each quantity is judged against the rounding error its own computation can make.

A value computed in floating point carries an error proportional to the size of the terms it
was computed from, not to its own size: Z = W A + b, summing terms of opposite sign, can
cancel to near zero and still carry the rounding error of its large terms. So each compared
quantity gets a *scale* E, the size of the terms it is computed from plus the error its
inputs carry into it, and the two sides agree when

    max |impl - torch| <= rtol * E (+ the rounding of P - lr dW, for an update step)

with the dtype's rtol (torch.testing.assert_close's default). There is no absolute floor: a
gradient of 1e-10 has a scale of about 1e-10 and is compared as precisely as one of 1e-1.

Scales are computed from the reference side (torch's activations and the shared parameters),
never from the implementation under test, one scalar per quantity and layer, in O(size) work:

    Z[l]   |W[l]| max|A[l-1]| + max|b[l]|   +  ||W[l]||_2 E_A[l-1]     (rows' norms, largest row)
    A[l]   max|A[l]|                         +  max|g'| E_Z[l]
    J      |J|                               +  (1/m) sum |A[L] - Y| E_Z[L]
    dZ[L]  max|Y|                            +  E_A[L]                     (dZ[L] = A[L] - Y)
    dZ[l]  max|g'| E_dA[l]                   +  max|g''| max|dA[l]| E_Z[l]
    dA[l-1] |W[l]^T| max|dZ[l]|              +  ||W[l]^T||_2 E_dZ[l]    (columns' norms)
    dW[l]  E_dZ[l] max|A[l-1]|               +  mean|dZ[l]| E_A[l-1]
    db[l]  E_dZ[l]
    update lr E_d[W|b][l], plus 4 eps max|P| for rounding P - lr dP on each side

The local terms bound the rounding of the operation itself; the propagated terms carry the
error of its inputs. Errors are carried through a layer with the 2-norm of W's rows (or
columns), the size of a sum of rounding errors of random sign, so the scale does not grow
by a factor sqrt(n) per layer the way a worst-case bound would.
"""

from __future__ import annotations

import numpy as np

# max |g'(z)| and max |g''(z)| over all z: how much an error in Z moves A and g'(Z).
SLOPES = {
    "sigmoid": (0.25, 0.0963),  # sigma'' peaks at 1/(6 sqrt 3)
    "tanh": (1.0, 0.7699),  # tanh'' peaks at 4/(3 sqrt 3)
    "relu": (1.0, 0.0),
    "leaky_relu": (1.0, 0.0),
    "linear": (1.0, 0.0),
    "softmax": (0.5, 0.0),  # |dA_i/dz| summed over z is 2 A_i (1 - A_i) <= 1/2; output only
}
UPDATE_ROUNDING = 4  # P - lr dP and the verifier's (P - lr dP) - P each round once per side


def term_scales(params: dict, X: np.ndarray, Y: np.ndarray, ref: dict, activations, learning_rate: float = 0.0) -> dict:
    """{(quantity, layer): E} for Z, A, cost, dZ, dA, dW, db (and W, b with a learning rate).

    `ref` holds the reference's A{l} (l = 1..L), dA{l} (l = 1..L-1, course convention) and "cost".
    """
    L = len(activations)
    E, T = {}, {}  # scales, and the size of each quantity's own terms (what its rounding scales with)
    A_prev, T_A_prev = X, 0.0  # the data is exact
    for l in range(1, L + 1):
        W, b, A = params[f"W{l}"], params[f"b{l}"], ref[f"A{l}"]
        slope = SLOPES[activations[l - 1]][0]
        T[("Z", l)] = _rows(np.abs(W)) * _largest(A_prev) + _largest(b)
        E[("Z", l)] = T[("Z", l)] + _rows(W * W) ** 0.5 * T_A_prev
        T_A_prev = T[("A", l)] = _largest(A) + slope * T[("Z", l)]
        E[("A", l)] = _largest(A) + slope * E[("Z", l)]
        A_prev = A
    D = ref[f"A{L}"] - Y  # dZ[L]
    m = Y.shape[1]
    E[("cost", L)] = abs(ref["cost"]) + float(np.abs(D).sum()) / m * E[("Z", L)]

    T_dZ, E_dZ = _largest(ref[f"A{L}"]) + _largest(Y), _largest(Y) + E[("A", L)]
    dZ_max, dZ_mean = _largest(D), _largest(np.abs(D).mean(axis=1))
    for l in range(L, 0, -1):
        W = params[f"W{l}"]
        E[("dZ", l)], E[("db", l)] = E_dZ, E_dZ
        E[("dW", l)] = E_dZ * _largest(X if l == 1 else ref[f"A{l - 1}"]) + dZ_mean * T.get(("A", l - 1), 0.0)
        T_dA = _rows(np.abs(W.T)) * dZ_max
        E[("dA", l - 1)] = T_dA + _rows(W.T * W.T) ** 0.5 * T_dZ
        if l > 1:
            slope, curvature = SLOPES[activations[l - 2]]
            dA = ref[f"dA{l - 1}"]
            dZ_max, dZ_mean = slope * _largest(dA), slope * _largest(np.abs(dA).mean(axis=1))
            T_dZ = dZ_max
            E_dZ = slope * E[("dA", l - 1)] + curvature * _largest(dA) * T[("Z", l - 1)]
    if learning_rate:
        for l in range(1, L + 1):
            E[("W", l)], E[("b", l)] = learning_rate * E[("dW", l)], learning_rate * E[("db", l)]
    return E


def update_floors(params: dict, dtype) -> dict:
    """{("W"|"b", l): the rounding of computing P - lr dP, and of the step taken from it}."""
    eps = float(np.finfo(dtype).eps)
    return {(key[0], int(key[1:])): UPDATE_ROUNDING * eps * _largest(value) for key, value in params.items()}


def _rows(array: np.ndarray) -> float:
    """The largest row sum of a non-negative matrix."""
    return float(np.max(array.sum(axis=1), initial=0.0))


def _largest(array) -> float:
    return float(np.max(np.abs(array), initial=0.0))
