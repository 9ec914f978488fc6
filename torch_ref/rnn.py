"""The course's recurrent networks computed by torch, and the one mapping between their parameters and layouts.

Course, examples as columns and time the last axis: x (n_x, m, T_x), a (n_a, m, T_x), y_pred (n_y, m, T_x). Basic
cell: Wax (n_a, n_x), Waa (n_a, n_a), ba (n_a, 1). LSTM: Wf, Wi, Wc, Wo each (n_a, n_a + n_x) acting on
concat = [a_prev; xt] (a_prev on top), bf, bi, bc, bo (n_a, 1). Readout: Wya (the RNN's) or Wy (the LSTM's) (n_y, n_a),
by (n_y, 1), y = softmax over the units. Torch, examples as rows, one step at a time: xt (m, n_x), h and c (m, n_a).

The mapping, every piece of it in this module's first section:
- nn.RNNCell(n_x, n_a, nonlinearity="tanh") computes tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): weight_ih = Wax,
  weight_hh = Waa (torch's weights are (out, in), as the course's are: nothing is transposed), bias_ih = ba[:, 0].
- nn.LSTMCell stacks its gates in the order i, f, g, o (GATES; torch's g is the course's candidate cct, Wc):
  weight_ih = the x columns Wi[:, n_a:], Wf[:, n_a:], Wc[:, n_a:], Wo[:, n_a:] stacked (4 n_a, n_x), weight_hh the
  a_prev columns [:, :n_a] stacked likewise (4 n_a, n_a), bias_ih = bi, bf, bc, bo stacked (4 n_a,).
- bias_hh = 0 and frozen (requires_grad False): the course has one bias, so the modules' two are one sum, and a
  frozen zero keeps an optimiser over cell.parameters() from making a network the course cannot write. The course's
  db is then bias_ih's gradient (bias_hh's would be the same: the sum is what enters).
- The readout is an nn.Linear(n_a, n_y): weight = Wya (or Wy), bias = by[:, 0]; softmax over dim 1 of its rows.

Twins in the course's layout, NumPy in and out (like conv.py): rnn_cell_forward, rnn_forward, lstm_cell_forward,
lstm_forward return the course's a, y_pred (and c), not its caches; rnn_cell_backward, rnn_backward,
lstm_cell_backward, lstm_backward take the forward's inputs and the upstream gradients and return the course's dict.
Backward runs the cell step by step and calls torch.autograd.backward on the hidden states with da as their
gradients: the course's da is the upstream gradient of every hidden state, and autograd carries da_prev (and
dc_prev) back through time by itself. Sums over examples, no 1/m, like the course's. They work in the arrays' one
dtype (float32 or float64) on the CPU; the module builders take a device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .arrays import Array
from .device import check_device

GATES = ("i", "f", "c", "o")
"""nn.LSTMCell's order of the gates in its stacked weights and bias, by the course's letters."""

RNN_KEYS = ("Wax", "Waa", "ba")
LSTM_KEYS = tuple(f"{p}{g}" for g in "fico" for p in "Wb")  # Wf, bf, Wi, bi, Wc, bc, Wo, bo: the course's order
_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

ValueOf = Callable[[torch.Tensor], torch.Tensor]


# The mapping: every transpose, permute, stacking and bias reshape of this module.


def rows(columns: torch.Tensor) -> torch.Tensor:
    """(n, m), the course's columns, <-> (m, n), torch's rows: its own inverse (a view)."""
    return columns.T


def steps(sequence: torch.Tensor) -> torch.Tensor:
    """(n, m, T_x), the course's sequence, <-> (T_x, m, n), torch's steps of rows: its own inverse (a view)."""
    return sequence.permute(2, 1, 0)


def bias_to_torch(b: torch.Tensor) -> torch.Tensor:
    """The course's b (n, 1) -> torch's bias (n,)."""
    return b[:, 0]


def bias_to_course(bias: torch.Tensor) -> torch.Tensor:
    """Torch's bias (n,) -> the course's b (n, 1)."""
    return bias.reshape(-1, 1)


def lstm_to_stacked(gates: Mapping[str, torch.Tensor], n_a: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The course's Wf, bf, ... (Wg (n_a, n_a + n_x), bg (n_a, 1)) -> nn.LSTMCell's weight_ih (4 n_a, n_x),
    weight_hh (4 n_a, n_a) and bias_ih (4 n_a,), stacked in GATES order."""
    weight_ih = torch.cat([gates[f"W{g}"][:, n_a:] for g in GATES])
    weight_hh = torch.cat([gates[f"W{g}"][:, :n_a] for g in GATES])
    return weight_ih, weight_hh, torch.cat([bias_to_torch(gates[f"b{g}"]) for g in GATES])


def lstm_to_gates(weight_ih: torch.Tensor, weight_hh: torch.Tensor, bias_ih: torch.Tensor) -> dict[str, torch.Tensor]:
    """lstm_to_stacked's inverse: Wg = [weight_hh rows of g, weight_ih rows of g] side by side, bg its bias rows."""
    gates = {}
    for g, ih, hh, b in zip(GATES, weight_ih.chunk(4), weight_hh.chunk(4), bias_ih.chunk(4)):
        gates[f"W{g}"], gates[f"b{g}"] = torch.cat([hh, ih], dim=1), bias_to_course(b)
    return gates


def rnn_to_torch(
    parameters: Mapping[str, Array], device: str | torch.device = "cpu"
) -> tuple[nn.RNNCell, nn.Linear | None]:
    """An nn.RNNCell holding Wax, Waa, ba exactly, in their dtype, on `device`, and the readout nn.Linear holding
    Wya, by (None when the dict has neither: the backward functions need only the cell's)."""
    dtype = _dtype(parameters)
    _need(parameters, RNN_KEYS)
    n_a, n_x = parameters["Wax"].shape
    _shapes(parameters, {"Wax": (n_a, n_x), "Waa": (n_a, n_a), "ba": (n_a, 1)})
    cell = nn.RNNCell(n_x, n_a, nonlinearity="tanh", dtype=dtype, device=check_device(device))
    with torch.no_grad():
        cell.weight_ih.copy_(_t(parameters["Wax"]))
        cell.weight_hh.copy_(_t(parameters["Waa"]))
        cell.bias_ih.copy_(bias_to_torch(_t(parameters["ba"])))
    _freeze_bias_hh(cell)
    return cell, _readout(parameters, "Wya", n_a, cell.weight_ih.device)


def lstm_to_torch(
    parameters: Mapping[str, Array], device: str | torch.device = "cpu"
) -> tuple[nn.LSTMCell, nn.Linear | None]:
    """An nn.LSTMCell holding Wf, bf, Wi, bi, Wc, bc, Wo, bo exactly (stacked i, f, c, o), in their dtype, on
    `device`, and the readout nn.Linear holding Wy, by (None when the dict has neither)."""
    dtype = _dtype(parameters)
    _need(parameters, LSTM_KEYS)
    n_a, n_concat = parameters["Wf"].shape
    if n_concat <= n_a:
        raise ValueError(f"Wf has shape {(n_a, n_concat)}: expected (n_a, n_a + n_x) with n_x >= 1")
    _shapes(parameters, {k: (n_a, n_concat) if k[0] == "W" else (n_a, 1) for k in LSTM_KEYS})
    cell = nn.LSTMCell(n_concat - n_a, n_a, dtype=dtype, device=check_device(device))
    weight_ih, weight_hh, bias_ih = lstm_to_stacked({k: _t(parameters[k]) for k in LSTM_KEYS}, n_a)
    with torch.no_grad():
        cell.weight_ih.copy_(weight_ih)
        cell.weight_hh.copy_(weight_hh)
        cell.bias_ih.copy_(bias_ih)
    _freeze_bias_hh(cell)
    return cell, _readout(parameters, "Wy", n_a, cell.weight_ih.device)


def rnn_to_course(cell: nn.RNNCell, readout: nn.Linear | None = None) -> dict[str, Array]:
    """rnn_to_torch's inverse: fresh arrays Wax, Waa, ba (and Wya, by from the readout); refuses a cell the course
    cannot write (another nonlinearity, no bias, a nonzero bias_hh)."""
    _course_cell(cell)
    return _rnn_values(cell, readout, lambda p: p.detach())


def lstm_to_course(cell: nn.LSTMCell, readout: nn.Linear | None = None) -> dict[str, Array]:
    """lstm_to_torch's inverse: fresh arrays Wf, bf, Wi, bi, Wc, bc, Wo, bo (and Wy, by from the readout)."""
    _course_cell(cell)
    return _lstm_values(cell, readout, lambda p: p.detach())


def rnn_gradients(cell: nn.RNNCell, readout: nn.Linear | None = None) -> dict[str, Array]:
    """The modules' .grad under the course's keys: dWax, dWaa, dba (bias_ih's) (and dWya, dby)."""
    return {f"d{k}": v for k, v in _rnn_values(cell, readout, _grad).items()}


def lstm_gradients(cell: nn.LSTMCell, readout: nn.Linear | None = None) -> dict[str, Array]:
    """The modules' .grad under the course's keys: dWf, dbf, dWi, dbi, dWc, dbc, dWo, dbo (and dWy, dby)."""
    return {f"d{k}": v for k, v in _lstm_values(cell, readout, _grad).items()}


def _rnn_values(cell: nn.RNNCell, readout: nn.Linear | None, value_of: ValueOf) -> dict[str, Array]:
    values = {"Wax": value_of(cell.weight_ih), "Waa": value_of(cell.weight_hh)}
    values["ba"] = bias_to_course(value_of(_bias(cell.bias_ih)))
    return _np_dict(values | _readout_values(readout, "Wya", value_of))


def _lstm_values(cell: nn.LSTMCell, readout: nn.Linear | None, value_of: ValueOf) -> dict[str, Array]:
    gates = lstm_to_gates(value_of(cell.weight_ih), value_of(cell.weight_hh), value_of(_bias(cell.bias_ih)))
    return _np_dict({k: gates[k] for k in LSTM_KEYS} | _readout_values(readout, "Wy", value_of))


def _readout(parameters: Mapping[str, Array], W_key: str, n_a: int, device: torch.device) -> nn.Linear | None:
    if W_key not in parameters and "by" not in parameters:
        return None
    _need(parameters, (W_key, "by"))
    n_y = parameters[W_key].shape[0]
    _shapes(parameters, {W_key: (n_y, n_a), "by": (n_y, 1)})
    readout = nn.Linear(n_a, n_y, dtype=_dtype(parameters), device=device)
    with torch.no_grad():
        readout.weight.copy_(_t(parameters[W_key]))
        readout.bias.copy_(bias_to_torch(_t(parameters["by"])))
    return readout


def _readout_values(readout: nn.Linear | None, W_key: str, value_of: ValueOf) -> dict[str, torch.Tensor]:
    if readout is None:
        return {}
    return {W_key: value_of(readout.weight), "by": bias_to_course(value_of(readout.bias))}


# The course's functions, NumPy in and out.


def rnn_cell_forward(xt: Array, a_prev: Array, parameters: Mapping[str, Array]) -> tuple[Array, Array]:
    """a_next = tanh(Waa a_prev + Wax xt + ba) (n_a, m), yt_pred = softmax(Wya a_next + by) (n_y, m)."""
    a, y_pred = rnn_forward(_step(xt, "xt"), a_prev, parameters)
    return a[:, :, 0], y_pred[:, :, 0]


def rnn_forward(x: Array, a0: Array, parameters: Mapping[str, Array]) -> tuple[Array, Array]:
    """a (n_a, m, T_x) and y_pred (n_y, m, T_x): the cell over x (n_x, m, T_x), from a0 (n_a, m)."""
    cell, readout = rnn_to_torch(parameters)
    x_, a0_ = _data(cell, x=x, a0=a0)
    with torch.no_grad():
        a = _run_rnn(cell, x_, a0_)
        return _np(a), _np(_predict(readout, a))


def lstm_cell_forward(
    xt: Array, a_prev: Array, c_prev: Array, parameters: Mapping[str, Array]
) -> tuple[Array, Array, Array]:
    """a_next = ot * tanh(c_next), c_next = ft * c_prev + it * cct (n_a, m), yt_pred = softmax(Wy a_next + by)."""
    cell, readout = lstm_to_torch(parameters)
    x_, a0_, c0_ = _data(cell, x=_step(xt, "xt"), a0=a_prev, c0=c_prev)
    with torch.no_grad():
        a, c = _run_lstm(cell, x_, a0_, c0_)
        return _np(a[:, :, 0]), _np(c[:, :, 0]), _np(_predict(readout, a)[:, :, 0])


def lstm_forward(x: Array, a0: Array, parameters: Mapping[str, Array]) -> tuple[Array, Array, Array]:
    """a (n_a, m, T_x), y (n_y, m, T_x), c (n_a, m, T_x): the cell over x (n_x, m, T_x), from a0 and c = 0."""
    cell, readout = lstm_to_torch(parameters)
    x_, a0_ = _data(cell, x=x, a0=a0)
    with torch.no_grad():
        a, c = _run_lstm(cell, x_, a0_, torch.zeros_like(a0_))
        return _np(a), _np(_predict(readout, a)), _np(c)


def rnn_cell_backward(xt: Array, a_prev: Array, parameters: Mapping[str, Array], da_next: Array) -> dict[str, Array]:
    """dxt, da_prev, dWax, dWaa, dba of s = sum(a_next * da_next): the course's rnn_cell_backward."""
    grads = rnn_backward(_step(xt, "xt"), a_prev, parameters, _step(da_next, "da_next"))
    return {"dxt": grads.pop("dx")[:, :, 0], "da_prev": grads.pop("da0")} | grads


def rnn_backward(x: Array, a0: Array, parameters: Mapping[str, Array], da: Array) -> dict[str, Array]:
    """dx (n_x, m, T_x), da0 (n_a, m), dWax, dWaa, dba of s = sum(a * da), da (n_a, m, T_x) the upstream gradient
    of every hidden state: the course's rnn_backward."""
    cell, _ = rnn_to_torch(parameters)
    x_, a0_, da_ = _data(cell, x=x, a0=a0, da=da)
    x_.requires_grad_()
    a0_.requires_grad_()
    torch.autograd.backward(_run_rnn(cell, x_, a0_), da_)
    return {"dx": _np(_grad(x_)), "da0": _np(_grad(a0_))} | rnn_gradients(cell)


def lstm_cell_backward(
    xt: Array, a_prev: Array, c_prev: Array, parameters: Mapping[str, Array], da_next: Array, dc_next: Array
) -> dict[str, Array]:
    """dxt, da_prev, dc_prev, dWf, dbf, ..., dWo, dbo of s = sum(a_next * da_next) + sum(c_next * dc_next): the
    course's lstm_cell_backward, including the da_next path through a_next = ot * tanh(c_next)."""
    grads = _lstm_backward(
        _step(xt, "xt"), a_prev, c_prev, parameters, _step(da_next, "da_next"), _step(dc_next, "dc_next")
    )
    return {"dxt": grads.pop("dx")[:, :, 0], "da_prev": grads.pop("da0"), "dc_prev": grads.pop("dc0")} | grads


def lstm_backward(
    x: Array, a0: Array, parameters: Mapping[str, Array], da: Array, dc: Array | None = None
) -> dict[str, Array]:
    """dx, da0, dWf, dbf, ..., dWo, dbo of s = sum(a * da) (+ sum(c * dc), dc (n_a, m, T_x) an upstream gradient of
    the cell states, none by default): the course's lstm_backward, c starting at zeros."""
    grads = _lstm_backward(x, a0, np.zeros_like(a0), parameters, da, np.zeros_like(da) if dc is None else dc)
    del grads["dc0"]
    return grads


def _lstm_backward(
    x: Array, a0: Array, c0: Array, parameters: Mapping[str, Array], da: Array, dc: Array
) -> dict[str, Array]:
    cell, _ = lstm_to_torch(parameters)
    x_, a0_, c0_, da_, dc_ = _data(cell, x=x, a0=a0, c0=c0, da=da, dc=dc)
    for leaf in (x_, a0_, c0_):
        leaf.requires_grad_()
    torch.autograd.backward(list(_run_lstm(cell, x_, a0_, c0_)), [da_, dc_])
    return {"dx": _np(_grad(x_)), "da0": _np(_grad(a0_)), "dc0": _np(_grad(c0_))} | lstm_gradients(cell)


def _run_rnn(cell: nn.RNNCell, x: torch.Tensor, a0: torch.Tensor) -> torch.Tensor:
    """a (n_a, m, T_x): h = cell(xt, h) step by step from h = a0's rows."""
    h, hs = rows(a0), []
    for xt in steps(x):
        h = cell(xt, h)
        hs.append(h)
    return steps(torch.stack(hs))


def _run_lstm(cell: nn.LSTMCell, x: torch.Tensor, a0: torch.Tensor, c0: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """a and c (n_a, m, T_x): (h, c) = cell(xt, (h, c)) step by step."""
    h, c, hs, cs = rows(a0), rows(c0), [], []
    for xt in steps(x):
        h, c = cell(xt, (h, c))
        hs.append(h)
        cs.append(c)
    return steps(torch.stack(hs)), steps(torch.stack(cs))


def _predict(readout: nn.Linear | None, a: torch.Tensor) -> torch.Tensor:
    """y (n_y, m, T_x) = softmax over the units of the readout of every hidden state."""
    if readout is None:
        raise ValueError("a forward pass needs the readout's parameters: Wya (or Wy) and by")
    return steps(F.softmax(readout(steps(a)), dim=-1))


# Checks and conversions.


def _dtype(arrays: Mapping[str, object]) -> torch.dtype:
    """The arrays' one dtype, float32 or float64, as torch's; ValueError for anything else or a mix."""
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray):
            raise ValueError(f"{key} must be a NumPy array, got {type(value).__name__}")
    dtypes = {value.dtype for value in arrays.values() if isinstance(value, np.ndarray)}
    if len(dtypes) > 1:
        raise ValueError(f"the arrays mix dtypes {sorted(map(str, dtypes))}: use one, float32 or float64")
    dtype = dtypes.pop() if dtypes else np.dtype(np.float64)
    if dtype not in _DTYPES:
        raise ValueError(f"the arrays have dtype {dtype}: expected float32 or float64")
    return _DTYPES[dtype]


def _need(parameters: Mapping[str, Array], keys: tuple[str, ...]) -> None:
    missing = [k for k in keys if k not in parameters]
    if missing:
        raise ValueError(f"parameters need {list(keys)}: missing {missing}")


def _shapes(arrays: Mapping[str, Array], expected: Mapping[str, tuple[int, ...]]) -> None:
    wrong = [f"{k} {arrays[k].shape} (expected {shape})" for k, shape in expected.items() if arrays[k].shape != shape]
    if wrong:
        raise ValueError(f"wrong shapes: {', '.join(wrong)}")


def _data(cell: nn.RNNCell | nn.LSTMCell, **arrays: Array) -> tuple[torch.Tensor, ...]:
    """x (n_x, m, T_x), a0 and c0 (n_a, m), da and dc (n_a, m, T_x), checked against the cell and each other, in
    the cell's dtype; fresh CPU tensors, never the caller's memory."""
    dtype = _dtype(arrays)
    if dtype != cell.weight_ih.dtype:
        raise ValueError(f"the data are {dtype}, the parameters {cell.weight_ih.dtype}: use one dtype")
    x = arrays["x"]
    if x.ndim != 3 or min(x.shape) < 1:
        raise ValueError(f"x must have shape (n_x, m, T_x), none of them 0, got {x.shape}")
    n_x, m, T_x = x.shape
    n_a = cell.hidden_size
    shapes = {"x": (cell.input_size, m, T_x), "a0": (n_a, m), "c0": (n_a, m), "da": (n_a, m, T_x), "dc": (n_a, m, T_x)}
    _shapes(arrays, {k: shapes[k] for k in arrays})
    return tuple(torch.tensor(value) for value in arrays.values())


def _course_cell(cell: nn.RNNCell | nn.LSTMCell) -> None:
    nonlinearity = getattr(cell, "nonlinearity", "tanh")  # an LSTMCell's is fixed
    if nonlinearity != "tanh":
        raise ValueError(f"the course's cell is tanh, this one is {nonlinearity}")
    if torch.any(_bias(cell.bias_hh) != 0):
        raise ValueError("bias_hh is not zero: the course's cell has one bias (fold it into bias_ih, or zero it)")


def _freeze_bias_hh(cell: nn.RNNCell | nn.LSTMCell) -> None:
    with torch.no_grad():
        _bias(cell.bias_hh).zero_()
    _bias(cell.bias_hh).requires_grad_(False)


def _bias(bias: torch.Tensor | None) -> torch.Tensor:
    if bias is None:  # nn.RNNCell(bias=False): its biases are None
        raise ValueError("the cell has no bias: the course's has one")
    return bias


def _step(array: Array, name: str) -> Array:
    """A cell's (n, m) array as a sequence of one step, (n, m, 1)."""
    if not isinstance(array, np.ndarray) or array.ndim != 2:
        raise ValueError(f"{name} must be a NumPy array of shape (n, m), got {getattr(array, 'shape', array)}")
    return array[:, :, None]


def _t(array: Array) -> torch.Tensor:
    return torch.tensor(array)


def _np(t: torch.Tensor) -> Array:
    array: Array = t.detach().cpu().numpy().copy()
    return array


def _np_dict(tensors: Mapping[str, torch.Tensor]) -> dict[str, Array]:
    return {k: _np(v) for k, v in tensors.items()}


def _grad(t: torch.Tensor) -> torch.Tensor:
    if t.grad is None:
        raise ValueError("no gradient to read: run a backward pass first")
    return t.grad
