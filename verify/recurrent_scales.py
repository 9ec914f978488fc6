"""A recurrent layer's scales for the tolerance model, at the point compared: its states' and its gradients'.

A bound from the weights alone (each step's error grown by the largest gain any state could give it) is loose by
orders of magnitude through time: an LSTM's sigma' is 1/4 only at 0, its gates are rarely all open, and a weight's
gradient sums one product per step, each far smaller than the largest. So the layer's pass is run again in float64
at the point (the reference's input and parameters), and every quantity's scale follows the course's own formulas:

- forward, step by step: the scale of a pre-activation z = W [a_prev; x] + b is |W| (|a_prev| + E_a_prev; |x| +
  E_x) + |b|, the size of its terms plus the errors its inputs carry; a gate's is |g| + g'(z) E_z, with the
  nonlinearity's slope at the point; c = f c_prev + i cc and a = o tanh(c) combine them term by term. The layer's
  Z scale is the largest E_a over the steps, the examples and the units.
- backward: the course's backward pass itself, run on magnitudes (every cached value and weight by its absolute
  value, the inputs a_prev, c_prev and x by their scales, every da by the scale of dZ): each sum it takes is then a
  sum of the sizes of its terms, carried back through time with the slopes of the point, which is the scale of each
  gradient, dx included.

Each is an entry-by-entry first-order bound of the rounding both sides make, in units of rtol, the way a dense
layer's E_Z = |W| (|A| + E_A) + |b| is; it stays as close to the quantities at T_x = 50 as at T_x = 3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import scratch

GATES = ("f", "i", "c", "o")


def _float64(P: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: np.asarray(value, dtype=np.float64) for name, value in P.items()}


def states(cell: str, x: np.ndarray, P: dict[str, np.ndarray]) -> list[tuple]:
    """The cell caches of the layer's forward pass over x (n_x, m, T_x) from zero states, in float64 (P holds the
    zero readout the course's functions read)."""
    x = np.asarray(x, dtype=np.float64)
    a0 = np.zeros((P["ba" if cell == "rnn" else "bf"].shape[0], x.shape[1]))
    outputs = getattr(scratch, f"{cell}_forward")(x, a0, _float64(P))
    return outputs[-1][0]


def _rss(W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """sqrt((W * W) @ (v * v)): the root of the sum of squares of the terms of W @ v, per entry, as a dense layer's
    row 2-norm of W times the largest |A| estimates them."""
    return np.sqrt((W * W) @ (v * v))


def forward_scales(cell: str, caches: list[tuple], carried: float) -> list[dict[str, Any]]:
    """Per step, the scales (n_a, m) of its states ("a"; an LSTM's "c", and of its factors the backward reads),
    the input x carrying `carried`."""
    out: list[dict[str, Any]] = []
    E_a: np.ndarray | float = 0.0  # a0 and c0 are exact zeros
    E_c: np.ndarray | float = 0.0
    for cache in caches:
        if cell == "rnn":
            a_next, a_prev, xt, P = cache
            E_x, E_prev = np.abs(xt) + carried, np.abs(a_prev) + E_a
            E_z = _rss(P["Wax"], E_x) + _rss(P["Waa"], E_prev) + np.abs(P["ba"])
            E_a = np.abs(a_next) + (1 - a_next**2) * E_z
            out.append({"a": E_a, "x": E_x, "prev": E_prev})
            continue
        a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, P = cache
        E_concat = np.concatenate((np.abs(a_prev) + E_a, np.abs(xt) + carried))
        E_z = {g: _rss(P[f"W{g}"], E_concat) + np.abs(P[f"b{g}"]) for g in GATES}
        E_f, E_i, E_o = (gate + gate * (1 - gate) * E_z[g] for g, gate in (("f", ft), ("i", it), ("o", ot)))
        E_cc = np.abs(cct) + (1 - cct**2) * E_z["c"]
        E_c_prev, E_c = np.abs(c_prev) + E_c, np.abs(c_prev) * E_f + ft * E_c + np.abs(cct) * E_i + it * E_cc
        tanh_c = np.abs(np.tanh(c_next))
        E_tanh = tanh_c + (1 - tanh_c**2) * E_c
        E_a = tanh_c * E_o + ot * E_tanh
        out.append(
            {"a": E_a, "c": E_c, "c_prev": E_c_prev, "concat": E_concat, "tanh": E_tanh}
            | {"f": E_f, "i": E_i, "cc": E_cc, "o": E_o}
        )
    return out


def backward_scales(cell: str, caches: list[tuple], scales: list[dict], E_da: float) -> dict[str, np.ndarray]:
    """The scales of the course's backward pass, every da<t> of scale E_da: {"dx": per entry, "dW...": the sums
    over the steps and the examples of their terms' sizes (not yet divided by m)}.

    Two things go back through time, through the slopes and weights of the point: the gradient's size, and its
    error's scale, to which each step adds the size of the terms it sums (so that it grows with the steps where
    the gradient does not shrink, as rounding does). At each step, each sum adds terms whose states count with
    their scales, the errors they carry included (the leaves)."""
    step = _rnn_step if cell == "rnn" else _lstm_step
    sums: dict[str, Any] = {}
    dx = []
    size: tuple[Any, Any] = (0.0, 0.0)  # (da_prev, dc_prev) from the step after: their sizes
    error: tuple[Any, Any] = (0.0, 0.0)  # and their errors' scales
    for cache, E in zip(reversed(caches), reversed(scales)):
        up = ((E_da + size[0], size[1]), (E_da + error[0], error[1]))
        leaves, dxt, back, back_error = step(cache, E, *up)
        size, error = back, (back_error[0] + back[0], back_error[1] + back[1])
        dx.append(dxt)
        for name, value in leaves.items():
            sums[f"d{name}"] = sums.get(f"d{name}", 0) + value
    return {"dx": np.stack(dx[::-1], axis=2), **sums}


def _rnn_step(cache: tuple, E: dict, size: tuple, error: tuple) -> tuple:
    """One step of rnn_cell_backward on scales, da_next of `size` carrying `error`: the weights' terms, dxt, and
    (da_prev, 0)'s size and error. A term's error: da_next's times the state's size, plus da_next's size times the
    state's scale (tanh' = 1 - a^2 moves with a)."""
    a_next, a_prev, xt, P = cache
    slope = 1 - a_next**2
    d_size, d_error = slope * size[0], slope * error[0]
    d_scaled = (slope + 2 * np.abs(a_next) * E["a"]) * size[0]
    terms = {
        "Wax": d_error @ np.abs(xt).T + d_scaled @ E["x"].T,
        "Waa": d_error @ np.abs(a_prev).T + d_scaled @ E["prev"].T,
        "ba": (d_error + d_scaled).sum(axis=1, keepdims=True),
    }
    d_all = d_error + d_scaled  # what da_next's error, and the slope's, bring
    return terms, _rss(P["Wax"].T, d_all), (_rss(P["Waa"].T, d_size), 0.0), (_rss(P["Waa"].T, d_all), 0.0)


def _lstm_step(cache: tuple, E: dict, size: tuple, error: tuple) -> tuple:
    """One step of lstm_cell_backward on scales, (da_next, dc_next) of `size` carrying `error`: the weights' terms,
    dxt, and (da_prev, dc_prev)'s size and error, a term's error as in _rnn_step."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, P = cache
    n_a = a_next.shape[0]
    tanh_c = np.abs(np.tanh(c_next))
    slopes = {"f": ft * (1 - ft), "i": it * (1 - it), "c": 1 - cct**2, "o": ot * (1 - ot)}
    values = {"f": np.abs(c_prev), "i": np.abs(cct), "c": it, "o": tanh_c}
    scaled = {"f": E["c_prev"], "i": E["cc"], "c": E["i"], "o": E["tanh"]}
    through_a = ot * (1 - tanh_c**2)  # how da_next reaches c_next, and its scale: o's and tanh's errors moving it
    through_a_scaled = E["o"] * (1 - tanh_c**2) + 2 * ot * tanh_c * E["tanh"]

    def gates(up: tuple, factor: dict, to_c: np.ndarray) -> tuple[dict, Any]:
        dc = up[1] + up[0] * to_c
        return {g: (up[0] if g == "o" else dc) * factor[g] * slopes[g] for g in GATES}, dc

    d_size, dc_size = gates(size, values, through_a)
    d_error, dc_error = gates(error, values, through_a)
    d_scaled, dc_scaled = gates(size, scaled, through_a_scaled)
    concat = np.concatenate((np.abs(a_prev), np.abs(xt)))
    terms = {}
    for g in GATES:
        terms[f"W{g}"] = d_error[g] @ concat.T + d_scaled[g] @ E["concat"].T
        terms[f"b{g}"] = (d_error[g] + d_scaled[g]).sum(axis=1, keepdims=True)

    def back(d: dict, rows: slice) -> np.ndarray:
        return np.sqrt(sum((P[f"W{g}"][:, rows] ** 2).T @ d[g] ** 2 for g in GATES))

    d_all = {g: d_error[g] + d_scaled[g] for g in GATES}  # what the upstream errors, and the states', bring
    error_back = (back(d_all, slice(None, n_a)), dc_error * ft + dc_scaled * E["f"])
    return terms, back(d_all, slice(n_a, None)), (back(d_size, slice(None, n_a)), dc_size * ft), error_back


__all__ = ["backward_scales", "forward_scales", "states"]
