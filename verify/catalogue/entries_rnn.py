"""The entries of the recurrent notebook, Building a Recurrent Neural Network - Step by Step (impl/rnnstep.py), in
the notebook's order: each function checked on its own against torch_ref.rnn (checking/unit_rnn.py, unit_lstm.py),
its slips named by judging/rnn_hints.py. The four backward functions are optional in the course: none is required to
detect it. A backward function is handed its forward's cache: it is marked, not blamed, when that forward failed.
entries.py places them in the catalogue."""

from __future__ import annotations

from .types import CourseFunction, one

RNN = ("rnn",)
CACHES = "; the caches, the course's tuples"

RNN_ENTRIES: tuple[CourseFunction, ...] = (
    one(
        "rnn_cell_forward",
        RNN,
        "forward step",
        "rnn_cell_forward(xt, a_prev, parameters) -> (a_next, yt_pred, cache)",
        torch="torch_ref.rnn.rnn_cell_forward (nn.RNNCell, a softmax readout)" + CACHES,
        slips=("rnn_cell_forward_slips",),
        check="unit_rnn",
        required_by=RNN,
    ),
    one(
        "rnn_forward",
        RNN,
        "forward",
        "rnn_forward(x, a0, parameters) -> (a, y_pred, caches)",
        torch="torch_ref.rnn.rnn_forward (nn.RNNCell step by step), T_x from 1 to 20" + CACHES,
        calls=("rnn_cell_forward",),
        slips=("rnn_forward_slips",),
        check="unit_rnn",
        required_by=RNN,
    ),
    one(
        "lstm_cell_forward",
        RNN,
        "forward step",
        "lstm_cell_forward(xt, a_prev, c_prev, parameters) -> (a_next, c_next, yt_pred, cache)",
        torch="torch_ref.rnn.lstm_cell_forward (nn.LSTMCell, gates i, f, g, o); the gates in the cache by the "
        "course's formulas" + CACHES,
        calls=("sigmoid",),  # rnn_utils.py's, for the gates
        slips=("lstm_cell_forward_slips",),
        check="unit_lstm",
        required_by=RNN,
    ),
    one(
        "lstm_forward",
        RNN,
        "forward",
        "lstm_forward(x, a0, parameters) -> (a, y, c, caches)",
        torch="torch_ref.rnn.lstm_forward (nn.LSTMCell step by step, c from zeros), T_x from 1 to 20" + CACHES,
        calls=("lstm_cell_forward",),
        slips=("lstm_forward_slips",),
        check="unit_lstm",
        required_by=RNN,
    ),
    one(
        "rnn_cell_backward",
        RNN,
        "backward step",
        "rnn_cell_backward(da_next, cache) -> gradients",
        torch="torch_ref.rnn.rnn_cell_backward (autograd of nn.RNNCell) with a random da_next, on the module's own "
        "rnn_cell_forward's cache",
        calls=("rnn_cell_forward",),
        slips=("rnn_cell_backward_slips",),
        check="unit_rnn",
    ),
    one(
        "rnn_backward",
        RNN,
        "backward",
        "rnn_backward(da, caches) -> gradients",
        torch="torch_ref.rnn.rnn_backward (autograd through time) with a random da, on the module's own "
        "rnn_forward's caches",
        calls=("rnn_forward", "rnn_cell_backward"),
        slips=("rnn_backward_slips",),
        check="unit_rnn",
    ),
    one(
        "lstm_cell_backward",
        RNN,
        "backward step",
        "lstm_cell_backward(da_next, dc_next, cache) -> gradients",
        torch="torch_ref.rnn.lstm_cell_backward (autograd of nn.LSTMCell) with random da_next and dc_next, on the "
        "module's own lstm_cell_forward's cache",
        calls=("lstm_cell_forward",),
        slips=("lstm_cell_backward_slips",),
        check="unit_lstm",
    ),
    one(
        "lstm_backward",
        RNN,
        "backward",
        "lstm_backward(da, caches) -> gradients",
        torch="torch_ref.rnn.lstm_backward (autograd through time) with a random da, on the module's own "
        "lstm_forward's caches",
        calls=("lstm_forward", "lstm_cell_backward"),
        slips=("lstm_backward_slips",),
        check="unit_lstm",
    ),
)
