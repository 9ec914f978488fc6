"""torch_ref.charlm, the language model by nn.RNNCell, nn.Linear, cross_entropy(reduction="sum"), clamp_ and SGD,
set beside scratch's hand-derived one: the same loss, clipped gradients, updated parameters and last hidden state
over a run of names, and sample's distributions at every step."""

import copy

import numpy as np
import pytest

from scratch import charlm as scratch_charlm
from scratch import load_names
from scratch.charlm import name_sequences
from torch_ref import charlm

KEYS = ("Wax", "Waa", "Wya", "b", "by")
# Relative to each array's largest entry: 4096 units of rounding. A dozen steps of a tanh RNN whose Waa stretches
# some directions carry each step's rounding on, grown (float32 measured at 9e-6, about 80 units, at scale 1.0);
# a wrong derivative is off by 1e-3 and more.
RTOL = {np.float64: 4096 * np.finfo(np.float64).eps, np.float32: 4096 * np.finfo(np.float32).eps}


def random_parameters(n_a, scale, seed, dtype):
    rng = np.random.default_rng(seed)
    shapes = {"Wax": (n_a, 27), "Waa": (n_a, n_a), "Wya": (27, n_a), "b": (n_a, 1), "by": (27, 1)}
    return {k: (rng.standard_normal(shape) * scale).astype(dtype) for k, shape in shapes.items()}


def largest_difference(ours, theirs):
    """max |ours - theirs| / max |theirs|, each array judged on its own scale."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), np.finfo(theirs.dtype).tiny))


def run_both(names, parameters):
    """optimize on each name in turn by scratch and by torch, in lockstep: at every name both start from the same
    parameters and a_prev (scratch's, carried on), so each difference is that step's own rounding, never rounding
    grown over the run. Returns the largest difference of every quantity and the gradient keys the clip changed."""
    _, char_to_ix, _ = load_names()
    parameters = copy.deepcopy(parameters)
    a_prev = np.zeros((parameters["Waa"].shape[0], 1), dtype=parameters["Wax"].dtype)
    worst, clipped = {}, set()
    for name in names:
        X, Y = name_sequences(name, char_to_ix)
        t_loss, t_gradients, t_a_last, updated = charlm.optimize(X, Y, a_prev, parameters, learning_rate=0.05)
        loss, gradients, a_prev = scratch_charlm.optimize(X, Y, a_prev, parameters, learning_rate=0.05)  # in place
        compared = {"loss": (loss, t_loss), "a_last": (a_prev, t_a_last)}
        compared |= {k: (gradients[k], t_gradients[k]) for k in charlm.GRADIENT_KEYS}
        compared |= {k: (parameters[k], updated[k]) for k in KEYS}
        for key, (ours, theirs) in compared.items():
            worst[key] = max(worst.get(key, 0.0), largest_difference(ours, theirs))
        clipped |= {k for k, g in t_gradients.items() if np.abs(g).max() == 5}
    return worst, clipped


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimize_agrees_with_torch_over_a_run_of_names(dtype):
    data_x, _, _ = load_names()
    worst, clipped = run_both(data_x[:12], random_parameters(8, scale=1.0, seed=0, dtype=dtype))
    assert max(worst.values()) < RTOL[dtype], worst
    assert clipped == set(charlm.GRADIENT_KEYS)  # every gradient had entries clipped at some name


def test_optimize_agrees_at_the_course_initialisation():
    data_x, _, _ = load_names()
    parameters = scratch_charlm.initialize_parameters(50, 27, 27)
    worst, clipped = run_both(data_x[:5], parameters)
    assert max(worst.values()) < RTOL[np.float64], worst
    assert clipped == set()


def norm_clip(gradients, maxValue):
    """A different function, and a classic slip: each gradient rescaled to norm maxValue when it is larger."""
    return {k: gradients[k] * min(1.0, maxValue / np.linalg.norm(gradients[k])) for k in charlm.GRADIENT_KEYS}


def step_backward_with_a_wrong_tanh_derivative(dy, gradients, parameters, x, a, a_prev):
    """The course's rnn_step_backward with one slip: tanh' taken as 1 - a instead of 1 - a^2."""
    gradients["dWya"] += dy @ a.T
    gradients["dby"] += dy
    da = parameters["Wya"].T @ dy + gradients["da_next"]
    daraw = (1 - a) * da  # the slip
    gradients["db"] += daraw
    gradients["dWax"] += daraw @ x.T
    gradients["dWaa"] += daraw @ a_prev.T
    gradients["da_next"] = parameters["Waa"].T @ daraw
    return gradients


@pytest.mark.parametrize(
    ("function", "fault", "quantity"),
    [("clip", norm_clip, "dWaa"), ("rnn_step_backward", step_backward_with_a_wrong_tanh_derivative, "db")],
)
def test_a_planted_fault_in_scratch_is_caught(monkeypatch, function, fault, quantity):
    monkeypatch.setattr(scratch_charlm, function, fault)
    data_x, _, _ = load_names()
    worst, _ = run_both(data_x[:12], random_parameters(8, scale=1.0, seed=0, dtype=np.float64))
    assert worst[quantity] > 1e-3


def test_torch_clip_is_elementwise():
    rng = np.random.default_rng(0)
    gradients = {k: rng.standard_normal((3, 4)) * 8 for k in charlm.GRADIENT_KEYS}
    clipped = charlm.clip(gradients, 5)
    for k in charlm.GRADIENT_KEYS:
        assert np.array_equal(clipped[k], np.clip(gradients[k], -5, 5))
        assert largest_difference(norm_clip(gradients, 5)[k], clipped[k]) > 0.1


@pytest.mark.parametrize(("seed", "dtype"), [(0, np.float64), (3, np.float64), (12, np.float64), (5, np.float32)])
def test_sample_distributions_agree_with_torch_softmax(seed, dtype):
    _, char_to_ix, _ = load_names()
    parameters = random_parameters(10, scale=0.8, seed=seed, dtype=dtype)
    indices, distributions = scratch_charlm.sample_with_distributions(parameters, char_to_ix, seed)
    theirs = charlm.sample_distributions(parameters, indices[: distributions.shape[1]])
    assert largest_difference(distributions, theirs) < RTOL[dtype]
    replay = [np.random.RandomState(seed + 2 * k).choice(27, p=theirs[:, k]) for k in range(theirs.shape[1])]
    assert replay == indices[: theirs.shape[1]]  # torch's distributions, the course's seeds: the same characters


def test_b_hh_stays_zero_so_the_bias_moves_once():
    _, char_to_ix, _ = load_names()
    parameters = random_parameters(4, scale=0.3, seed=2, dtype=np.float64)
    X, Y = name_sequences("giasdon", char_to_ix)
    _, gradients, _, updated = charlm.optimize(X, Y, np.zeros((4, 1)), parameters, learning_rate=0.1)
    np.testing.assert_allclose(updated["b"], parameters["b"] - 0.1 * gradients["db"], rtol=1e-14)
    model = charlm.CharLM(updated)
    assert not model.cell.bias_hh.any() and not model.cell.bias_hh.requires_grad


def test_loss_gradients_are_the_unclipped_ones_and_da_prev_is_the_losss_slope():
    """dWax, ... as optimize's before clamp_ (with no clip to bite: maxValue inf), and da_prev against centred
    differences of the loss in a_prev (float64: the differences agree to about 1e-8)."""
    _, char_to_ix, _ = load_names()
    parameters = random_parameters(5, scale=1.0, seed=4, dtype=np.float64)
    X, Y = name_sequences("raemkriamcheonvenator", char_to_ix)
    a_prev = np.random.default_rng(4).standard_normal((5, 1))
    slopes = charlm.loss_gradients(X, Y, a_prev, parameters)
    _, unclipped, _, _ = charlm.optimize(X, Y, a_prev, parameters, maxValue=np.inf)
    assert all(np.array_equal(slopes[k], unclipped[k]) for k in charlm.GRADIENT_KEYS)
    assert max(np.abs(g).max() for g in unclipped.values()) > 5  # so the clipped ones would differ
    step = 1e-6
    for i in range(5):
        e = np.zeros((5, 1))
        e[i] = step
        plus, minus = (charlm.optimize(X, Y, a_prev + s * e, parameters)[0] for s in (1, -1))
        assert abs((plus - minus) / (2 * step) - slopes["da_prev"][i, 0]) < 1e-6 * max(1, abs(slopes["da_prev"][i, 0]))
