"""The recurrent notebook's classic slips, each recognised from the numbers: the course's code computed again with
the slip (judging/rnn_course.py, in float64) and the learner's wrong output compared with what the slip gives. A slip
is named only where it fits; where none does, there is no hint. A db summed over the wrong axis has the wrong shape,
and the slip's shape and numbers both name it.

Each function's slips: (hint, what the slip computes: output name -> float64 array). The unit checks ask for them
only when an output is wrong (checking/unit_rnn.py, unit_lstm.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import rnn_course as course
from .conv_hints import fitting
from .tracked import exact, tracked

Candidates = list[tuple[str, dict[str, np.ndarray]]]

GATE_NAMES = {"f": "forget", "i": "update", "c": "candidate", "o": "output"}
GATE_VALUES = {"f": "ft", "i": "it", "c": "cct", "o": "ot"}
SOFTMAX = "yt_pred = softmax(Wya a_next + by) sums to 1 over the units (axis 0), in each column (example) on its own"
READOUT = {
    "softmax axis 1": "the softmax is taken over the examples (axis 1): " + SOFTMAX,
    "softmax whole": "the softmax is taken over the whole array at once: " + SOFTMAX,
}
DB = "db = np.sum(d, axis=1, keepdims=True): a sum over the examples, of shape (n_a, 1)"
DB_HINTS = {
    "db axis 0": "db is summed over the units (axis 0): " + DB,
    "db axis 0 kept": "db is summed over the units (axis 0): " + DB,
    "db unkept": "db lost its second axis (no keepdims): " + DB,
}
RNN_CELL = {
    "swapped": "Wax and Waa are swapped: a_next = tanh(Waa a_prev + Wax xt + ba), Waa (n_a, n_a) multiplies a_prev "
    "and Wax (n_a, n_x) multiplies xt",
    **READOUT,
}
CARRIED = (
    "the hidden state is not carried: each step's a_prev is the a_next the step before returned (a0 only at t = 0)"
)
RNN_CELL_BACK = {
    "no derivative": "tanh's derivative is left out: dtanh = (1 - a_next ** 2) * da_next",
    "wrong state": "tanh's derivative is taken of a_prev: dtanh = (1 - a_next ** 2) * da_next, a_next being this step's "
    "tanh",
    "swapped": "Wax and Waa are swapped: dxt = Wax^T dtanh, da_prev = Waa^T dtanh, dWax = dtanh xt^T, dWaa = dtanh "
    "a_prev^T",
    **DB_HINTS,
}
THROUGH_TIME = {
    "not carried": "da_prev is not carried back through time: each step's cell gets da[:, :, t] + the da_prev the "
    "step after it returned (da_prevt), not da[:, :, t] alone",
    "not summed": "the weights' gradients are not summed over the steps: every step shares the weights, so dW += each "
    "step's dWt (and db += dbt)",
    "dx rolled back": "the gradient of x is stored at the wrong time step: dx[:, :, t] = the dxt of step t",
    "dx reversed": "the gradient of x is stored at the wrong time step: dx[:, :, t] = the dxt of step t (the loop runs "
    "backward; t is the step itself)",
}
CONCAT = "the concatenation is [xt; a_prev]: the course's concat = np.concatenate((a_prev, xt), axis=0), a_prev on top"
GATE_SWAPS = {
    f"swap {g}{h}": f"the {GATE_NAMES[g]} and {GATE_NAMES[h]} gates are swapped: {GATE_VALUES[g]} is computed with "
    f"W{g}, b{g} and {GATE_VALUES[h]} with W{h}, b{h}"
    for g, h in ("fi", "fo", "io", "fc", "ic", "oc")
}
# A swap's numbers, where the cache holds the course's gates: they are right, and combined in another order.
COMBINED = (
    "its gates (in its cache) are the course's, so the slip is in how it combines them: c_next = ft * c_prev + it * "
    "cct (ft multiplies c_prev, it multiplies cct), a_next = ot * tanh(c_next)"
)
LSTM_CELL = {"concat order": CONCAT, **GATE_SWAPS, **READOUT}
STATES = "the states are not carried: each step starts from the a_next and c_next the step before returned (a0 and "
STATES += "zeros only at t = 0)"
DC = "dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)"
LSTM_CELL_BACK = {
    **{
        f"no da path {who}": f"{name} takes dc_next alone, leaving out the da_next path through a_next = ot * "
        f"tanh(c_next): {formula}, with {DC}"
        for who, name, formula in (
            ("f", "dft", "dft = dc * c_prev * ft * (1 - ft)"),
            ("i", "dit", "dit = dc * cct * it * (1 - it)"),
            ("c", "dcct", "dcct = dc * it * (1 - cct ** 2)"),
            ("p", "dc_prev", "dc_prev = dc * ft"),
        )
    },
    # (after the single ones: the output compared first, dxt, tells them apart; dc_prev alone fits both)
    "no da path": "the da_next path through a_next = ot * tanh(c_next) is left out: dit, dft, dcct and dc_prev take "
    f"{DC}, not dc_next alone",
    "dc_prev without ft": f"dc_prev is missing ft: dc_prev = dc * ft, with {DC}",
    "concat order": CONCAT + ": dW = dgate concat^T, da_prev from the first n_a columns of each W^T dgate, dxt from "
    "the rest",
    **{
        f"swap {g}{h}": f"the {GATE_NAMES[g]} and {GATE_NAMES[h]} gates' gradients are swapped: dW{g} = "
        f"d{GATE_VALUES[g]} concat^T, db{g} the sum of d{GATE_VALUES[g]}"
        for g, h in ("fi", "fo", "io", "fc", "ic", "oc")
    },
    **DB_HINTS,
}
LSTM_THROUGH_TIME = {
    **THROUGH_TIME,
    "dc not carried": "dc_prev is not carried back through time: each step's dc_next is the dc_prev the step after it "
    "returned (dc_prevt)",
}


def _each(hints: dict[str, str], compute: Callable[[str], dict[str, np.ndarray]]) -> Candidates:
    """(hint, outputs) for every slip that can run on these shapes (Wax and Waa swapped cannot where n_x != n_a)."""
    found = []
    with np.errstate(all="ignore"):
        for slip, hint in hints.items():
            try:
                found.append((hint, compute(slip)))
            except ValueError:  # a slip whose products do not fit these shapes: it raises in the learner's code too
                continue
    return found


def _summed(function: str, compute: Callable[[str], dict[str, np.ndarray]], m: int) -> Candidates:
    """The weights' gradients divided by the m examples they sum over: the course's recurrent backward has no 1/m."""
    return [
        (f"divided by m: the course's {function} has no 1/m; {key} sums over the examples", {key: value / m})
        for key, value in compute("").items()
        if key.startswith(("dW", "db"))
    ]


def rnn_cell_forward_slips(xt, a_prev, parameters) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        a_next, yt = course.rnn_cell(exact(xt), exact(a_prev), tracked(parameters), slip)
        return {"a_next": a_next.v, "yt_pred": yt.v}

    return _each(RNN_CELL, compute)


def rnn_forward_slips(x, a0, parameters) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        a, y, _ = course.rnn_sequence(exact(x), exact(a0), tracked(parameters), slip)
        return {"a": a.v, "y_pred": y.v}

    return _each({**RNN_CELL, "not carried": CARRIED}, compute)


def rnn_cell_backward_slips(xt, a_prev, parameters, da_next) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        a_next, _ = course.rnn_cell(exact(xt), exact(a_prev), tracked(parameters))
        cache = (a_next, exact(a_prev), exact(xt), tracked(parameters))
        return course.values(course.rnn_cell_grads(exact(da_next), cache, slip))

    return _each(RNN_CELL_BACK, compute) + _summed("rnn_cell_backward", compute, xt.shape[1])


def rnn_backward_slips(x, a0, parameters, da) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        caches = course.rnn_sequence(exact(x), exact(a0), tracked(parameters))[2]
        return course.values(course.through_time(exact(da), caches, course.rnn_cell_grads, slip))

    return _each({**THROUGH_TIME, **RNN_CELL_BACK}, compute) + _summed("rnn_backward", compute, x.shape[1])


def lstm_cell_forward_slips(xt, a_prev, c_prev, parameters) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        a_next, c_next, yt, _ = course.lstm_cell(exact(xt), exact(a_prev), exact(c_prev), tracked(parameters), slip)
        return {"a_next": a_next.v, "c_next": c_next.v, "yt_pred": yt.v}

    return _each(LSTM_CELL, compute)


def lstm_forward_slips(x, a0, parameters) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        a, y, c, _ = course.lstm_sequence(exact(x), exact(a0), tracked(parameters), slip)
        return {"a": a.v, "y": y.v, "c": c.v}

    return _each({**LSTM_CELL, "not carried": STATES}, compute)


def lstm_cell_backward_slips(xt, a_prev, c_prev, parameters, da_next, dc_next) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        P = tracked(parameters)
        *_, cache = course.lstm_cell(exact(xt), exact(a_prev), exact(c_prev), P)
        return course.values(course.lstm_cell_grads(exact(da_next), exact(dc_next), (*cache, P), slip))

    return _each(LSTM_CELL_BACK, compute) + _summed("lstm_cell_backward", compute, xt.shape[1])


def lstm_backward_slips(x, a0, parameters, da) -> Candidates:
    def compute(slip: str) -> dict[str, np.ndarray]:
        caches = course.lstm_sequence(exact(x), exact(a0), tracked(parameters))[3]
        return course.values(course.through_time(exact(da), caches, course.lstm_cell_grads, slip, dc=True))

    return _each({**LSTM_THROUGH_TIME, **LSTM_CELL_BACK}, compute) + _summed("lstm_backward", compute, x.shape[1])


def named(output: str, value, candidates: Candidates, allowed: float) -> str:
    """The hint of the first slip whose `output` fits `value` within `allowed`; "" when none does."""
    return fitting(value, [(hint, outputs.get(output)) for hint, outputs in candidates], allowed)


def raise_hint(function: str, text: str) -> str:
    """What a recurrent function's exception suggests: a product of the wrong shapes, a db without keepdims added to
    one with it (a value left None is units.py's to say)."""
    if "non-broadcastable output operand" in text:
        return "a gradient of the wrong shape is added to the sum over the steps: " + DB
    if any(word in text for word in ("aligned", "mismatch", "broadcast", "shape")):
        if function.startswith("lstm"):
            return "a shape error: each W* (n_a, n_a + n_x) multiplies concat = [a_prev; xt] (n_a + n_x, m)" + (
                "; da_prev is the first n_a rows of the gradient of concat, dxt the rest"
                if "backward" in function
                else ""
            )
        return (
            "a shape error: Wax (n_a, n_x) multiplies xt (n_x, m) and Waa (n_a, n_a) multiplies a_prev (n_a, m); "
            "dxt = Wax^T dtanh, da_prev = Waa^T dtanh"
        )
    return ""


__all__ = ["Candidates", "lstm_backward_slips", "lstm_cell_backward_slips", "lstm_cell_forward_slips"]
__all__ += ["lstm_forward_slips", "named", "raise_hint", "rnn_backward_slips", "rnn_cell_backward_slips"]
__all__ += ["rnn_cell_forward_slips", "rnn_forward_slips"]
