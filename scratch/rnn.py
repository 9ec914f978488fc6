"""The sequence-models course's recurrent networks, a basic RNN and an LSTM, forward and backward through time.

Shapes (course convention, examples as columns, time on the LAST axis):
  x (n_x, m, T_x), xt = x[:, :, t] (n_x, m), a (n_a, m, T_x), y_pred (n_y, m, T_x);
  RNN: Wax (n_a, n_x), Waa (n_a, n_a), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1);
  LSTM: Wf, Wi, Wc, Wo (n_a, n_a + n_x) acting on concat = [a_prev; xt] (a_prev on top), bf, bi, bc, bo (n_a, 1),
  Wy (n_y, n_a), by (n_y, 1).
Caches are the course's: a cell's (a_next, a_prev, xt, parameters), an LSTM cell's (a_next, c_next, a_prev, c_prev,
ft, it, cct, ot, xt, parameters), a sequence's (list of cell caches, x).

Each step is vectorised over the m examples; the loop over time steps is the algorithm itself. Backward through
time, the gradient reaching a_t is the upstream da[:, :, t] plus the da_prev that step t + 1 sent back (and, for
the LSTM, c_t also receives step t + 1's dc_prev): a_t feeds both the loss and the next step. The weights are
shared by every step, so their gradients are sums over the steps. No 1/m: the gradients are sums over the
examples of the upstream gradients given. A float32 run stays float32: no float64 constant or buffer enters.
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid, softmax
from .arrays import Array

Parameters = dict[str, Array]
RnnCache = tuple[Array, Array, Array, Parameters]
LstmCache = tuple[Array, Array, Array, Array, Array, Array, Array, Array, Array, Parameters]
RnnCaches = tuple[list[RnnCache], Array]
LstmCaches = tuple[list[LstmCache], Array]

LSTM_GATES = ("f", "i", "c", "o")  # forget, update (input), candidate, output: W{g} (n_a, n_a + n_x), b{g} (n_a, 1)


def _sequence_sizes(x: Array, a0: Array) -> tuple[int, int, int, int]:
    """(n_x, m, T_x, n_a) of x (n_x, m, T_x) and a0 (n_a, m), after checking that they fit each other."""
    assert x.ndim == 3, f"x is {x.shape}, expected (n_x, m, T_x)"
    n_x, m, T_x = x.shape
    n_a = a0.shape[0]
    assert a0.shape == (n_a, m), f"a0 is {a0.shape}, expected (n_a, {m})"
    return n_x, m, T_x, n_a


def rnn_cell_forward(xt: Array, a_prev: Array, parameters: Parameters) -> tuple[Array, Array, RnnCache]:
    """a_next = tanh(Waa a_prev + Wax xt + ba), yt_pred = softmax(Wya a_next + by).

    xt (n_x, m), a_prev (n_a, m); returns a_next (n_a, m), yt_pred (n_y, m), cache (a_next, a_prev, xt, parameters)."""
    Wax, Waa, Wya, ba, by = (parameters[k] for k in ("Wax", "Waa", "Wya", "ba", "by"))
    a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)  # (n_a, m)
    yt_pred = softmax(Wya @ a_next + by)  # (n_y, m), each column sums to 1
    return a_next, yt_pred, (a_next, a_prev, xt, parameters)


def rnn_forward(x: Array, a0: Array, parameters: Parameters) -> tuple[Array, Array, RnnCaches]:
    """a<t> = tanh(Waa a<t-1> + Wax x<t> + ba), y_pred<t> = softmax(Wya a<t> + by) for t = 1 .. T_x, a<0> = a0.

    x (n_x, m, T_x), a0 (n_a, m); returns a (n_a, m, T_x), y_pred (n_y, m, T_x), caches (list of cell caches, x)."""
    n_x, m, T_x, n_a = _sequence_sizes(x, a0)
    assert parameters["Wax"].shape == (n_a, n_x), f"Wax is {parameters['Wax'].shape}, expected ({n_a}, {n_x})"
    n_y = parameters["Wya"].shape[0]
    dtype = np.result_type(x, a0, *parameters.values())
    a = np.zeros((n_a, m, T_x), dtype=dtype)
    y_pred = np.zeros((n_y, m, T_x), dtype=dtype)
    caches: list[RnnCache] = []
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t], y_pred[:, :, t] = a_next, yt_pred
        caches.append(cache)
    return a, y_pred, (caches, x)


def rnn_cell_backward(da_next: Array, cache: RnnCache) -> dict[str, Array]:
    """dtanh = (1 - a_next^2) * da_next; dxt = Wax^T dtanh, dWax = dtanh xt^T, da_prev = Waa^T dtanh,
    dWaa = dtanh a_prev^T, dba = sum over the examples of dtanh.

    da_next (n_a, m) is the whole gradient reaching a_next; returns {dxt (n_x, m), da_prev (n_a, m),
    dWax (n_a, n_x), dWaa (n_a, n_a), dba (n_a, 1)}."""
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    dtanh = (1 - a_next**2) * da_next  # (n_a, m): tanh'(z) = 1 - tanh(z)^2, and a_next is tanh(z)
    return {
        "dxt": Wax.T @ dtanh,  # (n_x, m)
        "da_prev": Waa.T @ dtanh,  # (n_a, m)
        "dWax": dtanh @ xt.T,  # (n_a, n_x): sums over the examples
        "dWaa": dtanh @ a_prev.T,  # (n_a, n_a)
        "dba": np.sum(dtanh, axis=1, keepdims=True),  # (n_a, 1)
    }


def rnn_backward(da: Array, caches: RnnCaches) -> dict[str, Array]:
    """For t = T_x .. 1: the cell's backward with da_next = da<t> + da_prev from step t + 1 (0 after the last);
    dx<t> = dxt, and dWax, dWaa, dba are summed over the steps; da0 is the first step's da_prev.

    da (n_a, m, T_x) is the upstream gradient of every hidden state; returns {dx (n_x, m, T_x), da0 (n_a, m),
    dWax (n_a, n_x), dWaa (n_a, n_a), dba (n_a, 1)}."""
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    assert len(cell_caches) == T_x and x.shape[1:] == (m, T_x), f"da is {da.shape}, x is {x.shape}"
    _, a0, _, parameters = cell_caches[0]
    dtype = np.result_type(da, x, a0, *parameters.values())
    dx = np.zeros(x.shape, dtype=dtype)  # (n_x, m, T_x)
    grads = {k: np.zeros(parameters[k[1:]].shape, dtype=dtype) for k in ("dWax", "dWaa", "dba")}
    da_prevt = np.zeros((n_a, m), dtype=dtype)  # nothing comes back from beyond the last step
    for t in reversed(range(T_x)):
        step = rnn_cell_backward(da[:, :, t] + da_prevt, cell_caches[t])  # a<t> feeds the loss and step t + 1
        dx[:, :, t] = step["dxt"]
        da_prevt = step["da_prev"]
        for k in grads:
            grads[k] += step[k]  # the weights are shared by every step
    return {"dx": dx, "da0": da_prevt, **grads}


def lstm_cell_forward(
    xt: Array, a_prev: Array, c_prev: Array, parameters: Parameters
) -> tuple[Array, Array, Array, LstmCache]:
    """ft = sigma(Wf concat + bf), it = sigma(Wi concat + bi), cct = tanh(Wc concat + bc), c_next = ft * c_prev +
    it * cct, ot = sigma(Wo concat + bo), a_next = ot * tanh(c_next), yt_pred = softmax(Wy a_next + by).

    xt (n_x, m), a_prev and c_prev (n_a, m); returns a_next, c_next (n_a, m), yt_pred (n_y, m) and the cache
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)."""
    concat = np.concatenate((a_prev, xt), axis=0)  # (n_a + n_x, m), a_prev on top
    ft = sigmoid(parameters["Wf"] @ concat + parameters["bf"])  # (n_a, m): forget gate
    it = sigmoid(parameters["Wi"] @ concat + parameters["bi"])  # (n_a, m): update gate
    cct = np.tanh(parameters["Wc"] @ concat + parameters["bc"])  # (n_a, m): candidate value
    c_next = ft * c_prev + it * cct  # (n_a, m)
    ot = sigmoid(parameters["Wo"] @ concat + parameters["bo"])  # (n_a, m): output gate
    a_next = ot * np.tanh(c_next)  # (n_a, m)
    yt_pred = softmax(parameters["Wy"] @ a_next + parameters["by"])  # (n_y, m)
    return a_next, c_next, yt_pred, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)


def lstm_forward(x: Array, a0: Array, parameters: Parameters) -> tuple[Array, Array, Array, LstmCaches]:
    """The LSTM cell over t = 1 .. T_x from a<0> = a0 and c<0> = 0.

    x (n_x, m, T_x), a0 (n_a, m); returns a (n_a, m, T_x), y (n_y, m, T_x), c (n_a, m, T_x) and caches
    (list of cell caches, x)."""
    n_x, m, T_x, n_a = _sequence_sizes(x, a0)
    assert parameters["Wf"].shape == (n_a, n_a + n_x), f"Wf is {parameters['Wf'].shape}, expected ({n_a}, {n_a + n_x})"
    n_y = parameters["Wy"].shape[0]
    dtype = np.result_type(x, a0, *parameters.values())
    a = np.zeros((n_a, m, T_x), dtype=dtype)
    c = np.zeros((n_a, m, T_x), dtype=dtype)
    y = np.zeros((n_y, m, T_x), dtype=dtype)
    caches: list[LstmCache] = []
    a_next, c_next = a0, np.zeros((n_a, m), dtype=dtype)  # the course starts the memory cell at zeros
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t], c[:, :, t], y[:, :, t] = a_next, c_next, yt
        caches.append(cache)
    return a, y, c, (caches, x)


def lstm_cell_backward(da_next: Array, dc_next: Array, cache: LstmCache) -> dict[str, Array]:
    """dc = dc_next + da_next * ot * (1 - tanh(c_next)^2): c_next reaches the loss through c and through a_next.
    dot = da_next * tanh(c_next) * ot (1 - ot), dcct = dc * it * (1 - cct^2), dit = dc * cct * it (1 - it),
    dft = dc * c_prev * ft (1 - ft); dW* = d*t concat^T, db* = sum over the examples of d*t;
    [da_prev; dxt] = sum over the gates of W*^T d*t, split at n_a; dc_prev = dc * ft.

    da_next, dc_next (n_a, m) are the whole gradients reaching a_next and c_next; returns {dxt (n_x, m),
    da_prev, dc_prev (n_a, m), dWf, dWi, dWc, dWo (n_a, n_a + n_x), dbf, dbi, dbc, dbo (n_a, 1)}."""
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters = cache
    n_a = a_next.shape[0]
    tanh_c = np.tanh(c_next)  # (n_a, m)
    dc = dc_next + da_next * ot * (1 - tanh_c**2)  # (n_a, m): both paths into c_next
    gate_grads = {
        "f": dc * c_prev * ft * (1 - ft),  # dft, through sigma' = sigma (1 - sigma)
        "i": dc * cct * it * (1 - it),  # dit
        "c": dc * it * (1 - cct**2),  # dcct, through tanh' = 1 - tanh^2
        "o": da_next * tanh_c * ot * (1 - ot),  # dot: the output gate only reaches a_next
    }
    concat = np.concatenate((a_prev, xt), axis=0)  # (n_a + n_x, m)
    grads: dict[str, Array] = {}
    dconcat = np.zeros(concat.shape, dtype=np.result_type(concat, dc))  # (n_a + n_x, m)
    for g, dgt in gate_grads.items():
        grads["dW" + g] = dgt @ concat.T  # (n_a, n_a + n_x)
        grads["db" + g] = np.sum(dgt, axis=1, keepdims=True)  # (n_a, 1)
        dconcat += parameters["W" + g].T @ dgt  # concat feeds all four gates
    return {"dxt": dconcat[n_a:], "da_prev": dconcat[:n_a], "dc_prev": dc * ft, **grads}


def lstm_backward(da: Array, caches: LstmCaches) -> dict[str, Array]:
    """For t = T_x .. 1: the cell's backward with da_next = da<t> + da_prev and dc_next = dc_prev, both from step
    t + 1 (0 after the last); dx<t> = dxt, the weights' gradients summed over the steps; da0 the first da_prev.

    da (n_a, m, T_x) is the upstream gradient of every hidden state (none reaches c directly); returns
    {dx (n_x, m, T_x), da0 (n_a, m), dWf, dWi, dWc, dWo (n_a, n_a + n_x), dbf, dbi, dbc, dbo (n_a, 1)}."""
    cell_caches, x = caches
    n_a, m, T_x = da.shape
    assert len(cell_caches) == T_x and x.shape[1:] == (m, T_x), f"da is {da.shape}, x is {x.shape}"
    parameters = cell_caches[0][-1]
    dtype = np.result_type(da, x, *parameters.values())
    dx = np.zeros(x.shape, dtype=dtype)  # (n_x, m, T_x)
    keys = [d + g for g in LSTM_GATES for d in ("dW", "db")]  # dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo
    grads = {k: np.zeros(parameters[k[1:]].shape, dtype=dtype) for k in keys}
    da_prevt = np.zeros((n_a, m), dtype=dtype)
    dc_prevt = np.zeros((n_a, m), dtype=dtype)
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, cell_caches[t])
        dx[:, :, t] = step["dxt"]
        da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]
        for k in keys:
            grads[k] += step[k]
    return {"dx": dx, "da0": da_prevt, **grads}
