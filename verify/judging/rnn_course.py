"""The recurrent notebook's computations as the course writes them, on Tracked values (judging/tracked.py), each
with its classic slips behind a word: what the unit checks' scales come from (checking/unit_rnn.py, unit_lstm.py)
and what judging/rnn_hints.py compares a wrong output with. Without a slip each is the course's function (the tests
hold them to torch_ref.rnn); the loops over time are the course's, step by step.

Shapes are the course's: x (n_x, m, T_x), a (n_a, m, T_x), examples as columns. A cell's cache here is the course's
tuple of Tracked values: (a_next, a_prev, xt, parameters), the LSTM's (a_next, c_next, a_prev, c_prev, ft, it, cct,
ot, xt, parameters).
"""

from __future__ import annotations

import numpy as np

from .tracked import Tracked, concat, sigmoid, softmax, stack, tanh, zeros

GATES = ("f", "i", "c", "o")  # the LSTM's forget, update, candidate and output gates: W{g}, b{g}
DB_SLIPS = ("db axis 0", "db axis 0 kept", "db unkept")  # how a db can be summed wrong: its shape says which


def db_sum(d: Tracked, slip: str = "") -> Tracked:
    """db = np.sum(d, axis=1, keepdims=True), or the slip: over axis 0 (the units), or without keepdims."""
    if slip == "db axis 0":
        return d.sum(axis=0)
    if slip == "db axis 0 kept":
        return d.sum(axis=0, keepdims=True)
    if slip == "db unkept":
        return d.sum(axis=1)
    return d.sum(axis=1, keepdims=True)


def readout(W: Tracked, a: Tracked, b: Tracked, slip: str = "") -> Tracked:
    """y = softmax(W a + b) over the units (axis 0), or the slip: over the examples, or over every entry."""
    axis = {"softmax axis 1": 1, "softmax whole": None}.get(slip, 0)
    return softmax(W @ a + b, axis=axis)


def rnn_cell(xt: Tracked, a_prev: Tracked, P: dict, slip: str = "") -> tuple[Tracked, Tracked]:
    """a_next = tanh(Waa a_prev + Wax xt + ba), yt_pred = softmax(Wya a_next + by); "swapped": Wax and Waa change
    places (possible where n_x = n_a)."""
    Wax, Waa = (P["Waa"], P["Wax"]) if slip == "swapped" else (P["Wax"], P["Waa"])
    a_next = tanh(Waa @ a_prev + Wax @ xt + P["ba"])
    return a_next, readout(P["Wya"], a_next, P["by"], slip)


def rnn_sequence(x: Tracked, a0: Tracked, P: dict, slip: str = "") -> tuple[Tracked, Tracked, list]:
    """a, y_pred (n, m, T_x) and the cells' caches; "not carried": every step starts from a0."""
    a_next, states, predictions, caches = a0, [], [], []
    for t in range(x.shape[2]):
        a_prev = a0 if slip == "not carried" else a_next
        a_next, yt = rnn_cell(x[:, :, t], a_prev, P, slip)
        states.append(a_next)
        predictions.append(yt)
        caches.append((a_next, a_prev, x[:, :, t], P))
    return stack(states), stack(predictions), caches


def rnn_cell_grads(da_next: Tracked, cache: tuple, slip: str = "") -> dict[str, Tracked]:
    """The course's rnn_cell_backward; slips: "no derivative" (dtanh = da_next), "wrong state" (1 - a_prev^2),
    "swapped" (Wax and Waa, and their gradients, change places), and db summed over the wrong axis (DB_SLIPS)."""
    a_next, a_prev, xt, P = cache
    state = a_prev if slip == "wrong state" else a_next
    dtanh = da_next if slip == "no derivative" else (1 - state**2) * da_next
    Wax, Waa = (P["Waa"], P["Wax"]) if slip == "swapped" else (P["Wax"], P["Waa"])
    dWax, dWaa = dtanh @ xt.T, dtanh @ a_prev.T
    if slip == "swapped":
        dWax, dWaa = dWaa, dWax
    return {"dxt": Wax.T @ dtanh, "da_prev": Waa.T @ dtanh, "dWax": dWax, "dWaa": dWaa, "dba": db_sum(dtanh, slip)}


def through_time(da: Tracked, caches: list, cell, slip: str = "", dc: bool = False) -> dict[str, Tracked]:
    """The course's rnn_backward (or lstm_backward, `dc`) with `cell` its cell's backward: for t = T_x - 1 .. 0,
    the cell's backward of da[:, :, t] + the da_prev step t + 1 sent back (and dc_prev), dx[:, :, t] = dxt, the
    weights' gradients summed over the steps, da0 the last da_prev. Slips: "not carried" (da_prev not added), "dc
    not carried" (each step's dc_next 0), "not summed" (= instead of +=: the first step's gradients alone), "dx
    rolled back" / "dx reversed" (dxt stored at t - 1, step 0's at -1, or at T_x - 1 - t), and any of
    the cell's (handed on)."""
    T_x = da.shape[2]
    da_prev, dc_prev = zeros(da.shape[:2]), zeros(da.shape[:2])
    steps: dict[int, dict[str, Tracked]] = {}
    for t in reversed(range(T_x)):
        da_next = da[:, :, t] if slip == "not carried" else da[:, :, t] + da_prev
        args = (da_next, zeros(da.shape[:2]) if slip == "dc not carried" else dc_prev) if dc else (da_next,)
        steps[t] = cell(*args, caches[t], slip)
        da_prev, dc_prev = steps[t]["da_prev"], steps[t].get("dc_prev", dc_prev)
    where = 1 if slip == "dx rolled back" else 0
    order = [T_x - 1 - t for t in range(T_x)] if slip == "dx reversed" else [(t + where) % T_x for t in range(T_x)]
    grads = {"dx": stack([steps[s]["dxt"] for s in order]), "da0": da_prev}
    for key in steps[0]:
        if key.startswith(("dW", "db")):
            grads[key] = steps[0][key] if slip == "not summed" else _summed([steps[t][key] for t in range(T_x)])
    return grads


def _summed(terms: list[Tracked]) -> Tracked:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def lstm_cell(xt: Tracked, a_prev: Tracked, c_prev: Tracked, P: dict, slip: str = "") -> tuple:
    """The course's lstm_cell_forward: (a_next, c_next, yt_pred, cache); slips: "concat order" ([xt; a_prev]),
    "swap gh" (gates g and h change parameters), and the readout's."""
    P = swapped_gates(P, slip)
    joined = concat([xt, a_prev] if slip == "concat order" else [a_prev, xt])
    ft = sigmoid(P["Wf"] @ joined + P["bf"])
    it = sigmoid(P["Wi"] @ joined + P["bi"])
    cct = tanh(P["Wc"] @ joined + P["bc"])
    c_next = ft * c_prev + it * cct
    ot = sigmoid(P["Wo"] @ joined + P["bo"])
    a_next = ot * tanh(c_next)
    return (
        a_next,
        c_next,
        readout(P["Wy"], a_next, P["by"], slip),
        (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt),
    )


def swapped_gates(P: dict, slip: str) -> dict:
    """P, or with the parameters of the gates a "swap gh" slip names exchanged."""
    if not slip.startswith("swap "):
        return P
    g, h = slip[5], slip[6]
    return {**P, f"W{g}": P[f"W{h}"], f"b{g}": P[f"b{h}"], f"W{h}": P[f"W{g}"], f"b{h}": P[f"b{g}"]}


def lstm_sequence(x: Tracked, a0: Tracked, P: dict, slip: str = "") -> tuple[Tracked, Tracked, Tracked, list]:
    """a, y, c (n, m, T_x) and the cells' caches (with P), c starting at zeros; "not carried": every step starts
    from a0 and zeros."""
    a_next, c_next = a0, zeros(a0.shape)
    states, cells, predictions, caches = [], [], [], []
    for t in range(x.shape[2]):
        a_prev, c_prev = (a0, zeros(a0.shape)) if slip == "not carried" else (a_next, c_next)
        a_next, c_next, yt, cache = lstm_cell(x[:, :, t], a_prev, c_prev, P, slip)
        states.append(a_next)
        cells.append(c_next)
        predictions.append(yt)
        caches.append((*cache, P))
    return stack(states), stack(predictions), stack(cells), caches


NO_DA_PATH = {"no da path": "ficp", "no da path f": "f", "no da path i": "i", "no da path c": "c", "no da path p": "p"}


def lstm_cell_grads(da_next: Tracked, dc_next: Tracked, cache: tuple, slip: str = "") -> dict[str, Tracked]:
    """The course's lstm_cell_backward; slips: "no da path" (dc = dc_next: the da_next path through
    a_next = ot * tanh(c_next) left out; "no da path f", "... i", "... c", "... p": in dft, dit, dcct or dc_prev
    alone), "dc_prev without ft", "concat order" ([xt; a_prev], split at n_x), "swap gh"
    (gates g and h's gradients under each other's names), and db summed over the wrong axis (DB_SLIPS)."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, P = cache
    tanh_c = tanh(c_next)
    whole = dc_next + da_next * ot * (1 - tanh_c**2)
    alone = NO_DA_PATH.get(slip, "")  # those of dft ("f"), dit, dcct and dc_prev ("p") that take dc_next alone
    dc = {who: dc_next if who in alone else whole for who in "ficp"}
    d = {
        "f": dc["f"] * c_prev * ft * (1 - ft),
        "i": dc["i"] * cct * it * (1 - it),
        "c": dc["c"] * it * (1 - cct**2),
        "o": da_next * tanh_c * ot * (1 - ot),
    }
    parts = [xt, a_prev] if slip == "concat order" else [a_prev, xt]
    joined, n = concat(parts), parts[0].shape[0]
    top = _summed([P[f"W{g}"][:, :n].T @ d[g] for g in GATES])  # the gradient of concat's top n rows
    bottom = _summed([P[f"W{g}"][:, n:].T @ d[g] for g in GATES])
    grads = {"dxt": top, "da_prev": bottom} if slip == "concat order" else {"dxt": bottom, "da_prev": top}
    grads["dc_prev"] = dc["p"] if slip == "dc_prev without ft" else dc["p"] * ft
    for g in GATES:
        grads[f"dW{g}"], grads[f"db{g}"] = d[g] @ joined.T, db_sum(d[g], slip)
    if slip.startswith("swap "):
        g, h = slip[5], slip[6]
        for p in ("dW", "db"):
            grads[p + g], grads[p + h] = grads[p + h], grads[p + g]
    return grads


def values(outputs: dict[str, Tracked]) -> dict[str, np.ndarray]:
    """A computation's outputs, float64: what a slip gives, to compare a wrong output with."""
    return {k: v.v for k, v in outputs.items()}


__all__ = ["DB_SLIPS", "GATES", "db_sum", "lstm_cell", "lstm_cell_grads", "lstm_sequence", "rnn_cell"]
__all__ += ["rnn_cell_grads", "rnn_sequence", "swapped_gates", "through_time", "values"]
