"""Checks the language-model notebook's test cells call: each takes the learner's function, runs it on small seeded
inputs and checks shapes, ranges and a few properties, printing what it found.

Written for this project's example notebook; the verifier (python -m verify --impl ...) checks every function
against torch (clip against torch.clamp, sample's distributions against torch's softmax at every step, optimize
against nn.RNNCell and autograd) and trains both sides over the first names of the corpus.
"""

import copy

import numpy as np


def _report(name, problems):
    if problems:
        for problem in problems:
            print(f"{name}: {problem}")
    else:
        print(f"{name}: All tests passed.")


def _parameters(rng, n_a, vocab_size):
    return {
        "Wax": rng.standard_normal((n_a, vocab_size)),
        "Waa": rng.standard_normal((n_a, n_a)),
        "Wya": rng.standard_normal((vocab_size, n_a)),
        "b": rng.standard_normal((n_a, 1)),
        "by": rng.standard_normal((vocab_size, 1)),
    }


def clip_test(target, mValue):
    rng = np.random.default_rng(3)
    shapes = {"dWax": (5, 3), "dWaa": (5, 5), "dWya": (2, 5), "db": (5, 1), "dby": (2, 1)}
    gradients = {key: rng.standard_normal(shape) * 10 for key, shape in shapes.items()}
    clipped = target(copy.deepcopy(gradients), mValue)
    problems = []
    for key, value in gradients.items():
        if key not in clipped:
            problems.append(f"{key} is missing from the returned dictionary")
            continue
        if np.min(clipped[key]) < -mValue or np.max(clipped[key]) > mValue:
            problems.append(f"{key} has values outside [-{mValue}, {mValue}]")
        inside = np.abs(value) <= mValue
        if not np.array_equal(clipped[key][inside], value[inside]):
            problems.append(f"{key}: values inside [-{mValue}, {mValue}] changed")
    _report(f"clip_test(mValue={mValue})", problems)


def sample_test(target, char_to_ix):
    rng = np.random.default_rng(24)
    vocab_size = len(char_to_ix)
    indices = target(_parameters(rng, 100, vocab_size), char_to_ix, 0)
    problems = []
    if len(indices) > 51:
        problems.append(f"{len(indices)} indices: at most 50 characters and the newline")
    if indices[-1] != char_to_ix["\n"]:
        problems.append("the last index should be the newline's")
    if char_to_ix["\n"] in indices[:-1]:
        problems.append("a newline before the end: sampling should stop at the first one")
    if not all(0 <= i < vocab_size for i in indices):
        problems.append("an index outside the vocabulary")
    _report("sample_test", problems)


def optimize_test(target):
    rng = np.random.default_rng(1)
    vocab_size, n_a = 27, 100
    a_prev = rng.standard_normal((n_a, 1))
    parameters = _parameters(rng, n_a, vocab_size)
    X = [None, 12, 3, 5, 11, 22, 3]
    Y = [12, 3, 5, 11, 22, 3, 0]
    old_parameters = copy.deepcopy(parameters)
    loss, gradients, a_last = target(X, Y, a_prev, parameters, learning_rate=0.01)
    problems = []
    if not np.isscalar(loss) and np.shape(loss) != ():
        problems.append("the loss should be a number")
    if a_last.shape != (n_a, 1):
        problems.append(f"a_last should be ({n_a}, 1), got {a_last.shape}")
    for key in ("dWax", "dWaa", "dWya", "db", "dby"):
        if key not in gradients:
            problems.append(f"gradients has no {key}")
        elif np.max(np.abs(gradients[key])) > 5:
            problems.append(f"{key} is not clipped at 5")
    if all(np.array_equal(parameters[k], old_parameters[k]) for k in parameters):
        problems.append("the parameters were not updated in place")
    _report("optimize_test", problems)
