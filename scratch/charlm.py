"""The character-level language model of the sequence-models course, week 1 ("Dinosaur Island"), by hand.

One name is one sequence, run as a batch of one example (a column). With the vocabulary's indices ("\\n" is 0):
  X = [None, c1, ..., cT]     the inputs; None is the zero vector (nothing read yet),
  Y = [c1, ..., cT, 0]        the targets: X shifted by one, then "\\n" (the name ends).
Parameters: Wax (n_a, n_x), Waa (n_a, n_a), Wya (n_y, n_a), b (n_a, 1), by (n_y, 1), with n_x = n_y = vocab_size.
Forward, t = 0..len(X) - 1, from a<-1> = a0 and x<t> the one-hot column of X[t]:
  a<t> = tanh(Wax x<t> + Waa a<t-1> + b),  y_hat<t> = softmax(Wya a<t> + by),  loss = sum_t -log y_hat<t>[Y[t]].
Backward through time, t = len(X) - 1..0, from da_next = 0, with dy<t> = y_hat<t> - onehot(Y[t]) (softmax with
cross-entropy):
  dWya += dy a<t>^T,  dby += dy,  da = Wya^T dy + da_next,  daraw = (1 - a<t>^2) * da,
  db += daraw,  dWax += daraw x<t>^T,  dWaa += daraw a<t-1>^T,  da_next = Waa^T daraw.

The course ships the helpers (its utils.py: softmax, smooth, get_initial_loss, initialize_parameters,
rnn_step_forward, rnn_step_backward, update_parameters, rnn_forward, rnn_backward) and the learner writes clip,
sample and optimize; all are here under the course's names, derived by hand. Every array keeps the parameters'
dtype. The course's model() (its training loop, eight parameters, printing samples every 2000 iterations) is
optimize called on one name after another, carrying a_prev; it is not repeated here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .arrays import Array

Parameters = dict[str, Array]
# The course's cache from rnn_forward: (y_hat, a, x), dicts keyed by the time step t (a also holds a[-1] = a0).
CharCache = tuple[dict[int, Array], dict[int, Array], dict[int, Array]]
GRADIENT_KEYS = ("dWaa", "dWax", "dWya", "db", "dby")
SAMPLE_LENGTH = 50  # sample stops after 50 characters, then appends "\n" (a guard against endless names)


def softmax(x: Array) -> Array:
    """e^x_k / sum_j e^x_j over axis 0 (the vocabulary), shifted by the column's max so exp never overflows."""
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    result: Array = e_x / e_x.sum(axis=0, keepdims=True)
    return result


def smooth(loss: float, cur_loss: float) -> float:
    """The course's running loss: loss * 0.999 + cur_loss * 0.001 (one name's loss is noisy)."""
    return loss * 0.999 + cur_loss * 0.001


def get_initial_loss(vocab_size: int, seq_length: int) -> float:
    """-log(1 / vocab_size) * seq_length: the loss of a uniform guess over seq_length characters."""
    return float(-np.log(1.0 / vocab_size) * seq_length)


def initialize_parameters(n_a: int, n_x: int, n_y: int, seed: int = 1) -> Parameters:
    """Wax = randn(n_a, n_x) * 0.01, Waa = randn(n_a, n_a) * 0.01, Wya = randn(n_y, n_a) * 0.01, in that order,
    b = zeros((n_a, 1)), by = zeros((n_y, 1)).

    The course calls np.random.seed(1) first; RandomState(1) draws the same numbers without touching NumPy's
    global state."""
    rng = np.random.RandomState(seed)
    Wax = rng.randn(n_a, n_x) * 0.01  # input to hidden
    Waa = rng.randn(n_a, n_a) * 0.01  # hidden to hidden
    Wya = rng.randn(n_y, n_a) * 0.01  # hidden to output
    return {"Wax": Wax, "Waa": Waa, "Wya": Wya, "b": np.zeros((n_a, 1)), "by": np.zeros((n_y, 1))}


def rnn_step_forward(parameters: Parameters, a_prev: Array, x: Array) -> tuple[Array, Array]:
    """a_next = tanh(Wax x + Waa a_prev + b) (n_a, 1), p_t = softmax(Wya a_next + by) (n_y, 1)."""
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    a_next = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)  # (n_a, 1)
    p_t = softmax(np.dot(Wya, a_next) + by)  # (n_y, 1)
    return a_next, p_t


def rnn_step_backward(
    dy: Array, gradients: Parameters, parameters: Parameters, x: Array, a: Array, a_prev: Array
) -> Parameters:
    """One step back in time, accumulating into `gradients` in place (the course's) and returning it.

    dy = y_hat<t> - onehot(Y[t]) (n_y, 1); a = a<t>, a_prev = a<t-1> (n_a, 1); x = x<t> (n_x, 1);
    gradients["da_next"] holds the gradient reaching a<t> from step t + 1 and leaves holding that of a<t-1>."""
    gradients["dWya"] += np.dot(dy, a.T)  # (n_y, n_a)
    gradients["dby"] += dy  # (n_y, 1)
    da = np.dot(parameters["Wya"].T, dy) + gradients["da_next"]  # from the output and from step t + 1, (n_a, 1)
    daraw = (1 - a * a) * da  # through tanh: tanh' = 1 - a^2, (n_a, 1)
    gradients["db"] += daraw  # (n_a, 1)
    gradients["dWax"] += np.dot(daraw, x.T)  # (n_a, n_x)
    gradients["dWaa"] += np.dot(daraw, a_prev.T)  # (n_a, n_a)
    gradients["da_next"] = np.dot(parameters["Waa"].T, daraw)  # to a<t-1>, (n_a, 1)
    return gradients


def update_parameters(parameters: Parameters, gradients: Parameters, lr: float) -> Parameters:
    """W -= lr * dW for Wax, Waa, Wya, b, by, in place (the course's `+= -lr * ...`), returning the same dict.

    In place matters: the course's model() never reads optimize's parameters back, it relies on this."""
    for name in ("Wax", "Waa", "Wya", "b", "by"):
        parameters[name] += -lr * gradients["d" + name]
    return parameters


def _one_hot(index: int | None, vocab_size: int, dtype: np.dtype[Any]) -> Array:
    """(vocab_size, 1): 1 at `index`, or all zeros for None (the first input)."""
    x = np.zeros((vocab_size, 1), dtype=dtype)
    if index is not None:
        x[index] = 1
    return x


def rnn_forward(
    X: Sequence[int | None], Y: Sequence[int], a0: Array, parameters: Parameters, vocab_size: int = 27
) -> tuple[np.floating[Any], CharCache]:
    """loss = sum over t of -log y_hat<t>[Y[t], 0], running the cell over X from a<-1> = a0 (n_a, 1).

    Returns the loss and the cache (y_hat, a, x), dicts keyed by t; a[-1] is a copy of a0."""
    dtype = parameters["Wax"].dtype
    x: dict[int, Array] = {}
    a: dict[int, Array] = {-1: np.array(a0, dtype=dtype)}
    y_hat: dict[int, Array] = {}
    loss = dtype.type(0)
    for t in range(len(X)):
        x[t] = _one_hot(X[t], vocab_size, dtype)  # (vocab_size, 1)
        a[t], y_hat[t] = rnn_step_forward(parameters, a[t - 1], x[t])
        loss -= np.log(y_hat[t][Y[t], 0])  # cross-entropy of this step's target
    return loss, (y_hat, a, x)


def rnn_backward(
    X: Sequence[int | None], Y: Sequence[int], parameters: Parameters, cache: CharCache
) -> tuple[Parameters, dict[int, Array]]:
    """Backward through time: gradients dWax, dWaa, dWya, db, dby (each the shape of its parameter) and da_next
    (that of a0, the last step's), and the cache's hidden states a, returned as the course does."""
    y_hat, a, x = cache
    gradients = {"d" + name: np.zeros_like(parameters[name]) for name in ("Wax", "Waa", "Wya", "b", "by")}
    gradients["da_next"] = np.zeros_like(a[0])
    for t in reversed(range(len(X))):
        dy = np.copy(y_hat[t])
        dy[Y[t]] -= 1  # softmax with cross-entropy: y_hat - onehot(Y[t])
        gradients = rnn_step_backward(dy, gradients, parameters, x[t], a[t], a[t - 1])
    return gradients, a


def clip(gradients: Parameters, maxValue: float) -> Parameters:
    """Each of dWaa, dWax, dWya, db, dby clipped elementwise into [-maxValue, maxValue]; a new dict of those five.

    The course's (current version):
        gradients = copy.deepcopy(gradients)
        dWaa, dWax, dWya, db, dby = gradients['dWaa'], gradients['dWax'], gradients['dWya'], gradients['db'],
                                    gradients['dby']
        for gradient in [dWax, dWaa, dWya, db, dby]:
            np.clip(gradient, -maxValue, maxValue, out=gradient)
        gradients = {"dWaa": dWaa, "dWax": dWax, "dWya": dWya, "db": db, "dby": dby}
        return gradients
    (Its first version had no deepcopy and so clipped the caller's arrays in place; the values are the same.)
    Each entry is clipped on its own: rescaling a whole gradient by its norm is a different function."""
    return {key: np.clip(gradients[key], -maxValue, maxValue) for key in GRADIENT_KEYS}


def sample_with_distributions(parameters: Parameters, char_to_ix: dict[str, int], seed: int) -> tuple[list[int], Array]:
    """sample's indices and, as the columns of a (vocab_size, len(indices)) array, the distribution y each index was
    drawn from (the appended "\\n" after 50 characters has none: it is not drawn)."""
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    vocab_size, n_a = by.shape[0], Waa.shape[1]
    x = np.zeros((vocab_size, 1), dtype=Wax.dtype)  # no character read yet
    a_prev = np.zeros((n_a, 1), dtype=Wax.dtype)
    indices: list[int] = []
    distributions: list[Array] = []
    idx = -1
    counter = 0
    newline_character = char_to_ix["\n"]
    while idx != newline_character and counter != SAMPLE_LENGTH:
        a = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)  # (n_a, 1)
        y = softmax(np.dot(Wya, a) + by)  # (vocab_size, 1)
        # the course's np.random.seed(counter + seed); np.random.choice(...): the same draw, global state untouched
        idx = int(np.random.RandomState(counter + seed).choice(range(len(y)), p=y.ravel()))
        indices.append(idx)
        distributions.append(y)
        x = np.zeros((vocab_size, 1), dtype=Wax.dtype)
        x[idx] = 1  # feed the drawn character back
        a_prev = a
        seed += 1  # the course increments both: draw k is seeded with seed + 2 k
        counter += 1
    if counter == SAMPLE_LENGTH:
        indices.append(char_to_ix["\n"])
    return indices, np.concatenate(distributions, axis=1)


def sample(parameters: Parameters, char_to_ix: dict[str, int], seed: int) -> list[int]:
    """The indices of a name drawn from the model, character by character, ending with "\\n"'s index.

    The course's loop, which this follows line for line (sample_with_distributions):
        x = np.zeros((vocab_size, 1)); a_prev = np.zeros((n_a, 1)); indices = []; idx = -1; counter = 0
        newline_character = char_to_ix['\\n']
        while (idx != newline_character and counter != 50):
            a = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)
            z = np.dot(Wya, a) + by
            y = softmax(z)
            np.random.seed(counter + seed)
            idx = np.random.choice(range(len(y)), p=y.ravel())
            indices.append(idx)
            x = np.zeros((vocab_size, 1)); x[idx] = 1
            a_prev = a
            seed += 1
            counter += 1
        if (counter == 50):
            indices.append(char_to_ix['\\n'])
        return indices
    with vocab_size = by.shape[0] and n_a = Waa.shape[1]. Since both seed and counter grow by one per character,
    draw k (from 0) is seeded with seed + 2 k. At most 50 characters are drawn; the 51st index is "\\n"'s."""
    indices, _ = sample_with_distributions(parameters, char_to_ix, seed)
    return indices


def optimize(
    X: Sequence[int | None], Y: Sequence[int], a_prev: Array, parameters: Parameters, learning_rate: float = 0.01
) -> tuple[np.floating[Any], Parameters, Array]:
    """One step of gradient descent on one name: forward, backward through time, clip at 5, update in place.

    The course's:
        loss, cache = rnn_forward(X, Y, a_prev, parameters)
        gradients, a = rnn_backward(X, Y, parameters, cache)
        gradients = clip(gradients, 5)
        parameters = update_parameters(parameters, gradients, learning_rate)
        return loss, gradients, a[len(X)-1]
    It calls rnn_forward with its default vocab_size = 27; here the vocabulary is read off Wax (n_a, n_x), which
    is 27 for the course's. Returns the loss, the clipped gradients (the five of clip) and a<len(X)-1> (n_a, 1),
    the last hidden state, which the course's model() passes on as the next name's a_prev. `parameters` is
    updated in place."""
    loss, cache = rnn_forward(X, Y, a_prev, parameters, vocab_size=parameters["Wax"].shape[1])
    gradients, a = rnn_backward(X, Y, parameters, cache)
    gradients = clip(gradients, 5)
    parameters = update_parameters(parameters, gradients, learning_rate)
    return loss, gradients, a[len(X) - 1]


def name_sequences(name: str, char_to_ix: dict[str, int]) -> tuple[list[int | None], list[int]]:
    """X = [None] + the name's indices, Y = X[1:] + ["\\n"'s index], as the course's model() builds them."""
    indices = [char_to_ix[c] for c in name]
    return [None, *indices], [*indices, char_to_ix["\n"]]
