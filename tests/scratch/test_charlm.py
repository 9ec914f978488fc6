"""The character-level language model by hand, against the course's formulas written out here as plain loops,
centred finite differences of the loss, the course's own seeding of sample, and the shipped names corpus."""

import copy

import numpy as np
import pytest

import scratch
from scratch import charlm, load_names
from scratch.charlm import clip, name_sequences, optimize, sample, sample_with_distributions
from scratch.names import NAMES_PATH, generate_names

KEYS = ("Wax", "Waa", "Wya", "b", "by")
# A tiny vocabulary for the finite differences: "\n" is 0, then a..e.
TINY = {ch: i for i, ch in enumerate("\nabcde")}
TINY_NAMES = ["bad", "cabbed", "e", "deaded"]


def random_parameters(n_a, vocab_size, scale, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = {"Wax": (n_a, vocab_size), "Waa": (n_a, n_a), "Wya": (vocab_size, n_a), "b": (n_a, 1)}
    shapes["by"] = (vocab_size, 1)
    return {k: (rng.standard_normal(shape) * scale).astype(dtype) for k, shape in shapes.items()}


def loop_loss(parameters, X, Y, a0):
    """sum_t -log softmax(Wya a<t> + by)[Y[t]], a<t> = tanh(Wax x<t> + Waa a<t-1> + b): the course's equations
    one scalar at a time, independent of the module under test."""
    Wax, Waa, Wya, b, by = (parameters[k] for k in KEYS)
    n_a, n_x = Wax.shape
    a = [float(v) for v in a0[:, 0]]
    loss = 0.0
    for index, target in zip(X, Y):
        a = [
            np.tanh(sum(Waa[i, j] * a[j] for j in range(n_a)) + (Wax[i, index] if index is not None else 0.0) + b[i, 0])
            for i in range(n_a)
        ]
        z = [sum(Wya[k, j] * a[j] for j in range(n_a)) + by[k, 0] for k in range(Wya.shape[0])]
        loss -= z[target] - max(z) - np.log(sum(np.exp(v - max(z)) for v in z))
    return loss


def finite_differences(parameters, X, Y, a0, eps=1e-6):
    """Centred differences (J(p + eps) - J(p - eps)) / 2 eps of loop_loss, every entry of every parameter."""
    grads = {}
    for k in KEYS:
        grads["d" + k] = np.zeros_like(parameters[k])
        for index in np.ndindex(parameters[k].shape):
            plus, minus = copy.deepcopy(parameters), copy.deepcopy(parameters)
            plus[k][index] += eps
            minus[k][index] -= eps
            grads["d" + k][index] = (loop_loss(plus, X, Y, a0) - loop_loss(minus, X, Y, a0)) / (2 * eps)
    return grads


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||), the course's gradient-checking measure."""
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def backward(parameters, name, a0):
    X, Y = name_sequences(name, TINY)
    loss, cache = charlm.rnn_forward(X, Y, a0, parameters, vocab_size=len(TINY))
    gradients, _ = charlm.rnn_backward(X, Y, parameters, cache)
    return X, Y, loss, gradients


@pytest.mark.parametrize("name", TINY_NAMES)
def test_backward_through_time_matches_finite_differences(name):
    parameters = random_parameters(3, len(TINY), scale=0.7, seed=len(name))
    a0 = np.random.default_rng(5).standard_normal((3, 1)) * 0.5  # carried over from a previous name
    X, Y, loss, gradients = backward(parameters, name, a0)
    assert loss == pytest.approx(loop_loss(parameters, X, Y, a0), rel=1e-13)
    numerical = finite_differences(parameters, X, Y, a0)
    for key in numerical:
        assert gradients[key].shape == parameters[key[1:]].shape
        assert relative_error(gradients[key], numerical[key]) < 1e-8, key


def step_backward_without_da_next(dy, gradients, parameters, x, a, a_prev):
    """The classic slip: da = Wya^T dy alone, the gradient from step t + 1 left out."""
    gradients["da_next"] = np.zeros_like(gradients["da_next"])
    return correct_step_backward(dy, gradients, parameters, x, a, a_prev)


correct_step_backward = charlm.rnn_step_backward


def test_finite_differences_catch_a_backward_that_drops_the_later_steps(monkeypatch):
    monkeypatch.setattr(charlm, "rnn_step_backward", step_backward_without_da_next)
    parameters = random_parameters(3, len(TINY), scale=0.7, seed=6)
    X, Y, _, gradients = backward(parameters, "cabbed", np.zeros((3, 1)))
    numerical = finite_differences(parameters, X, Y, np.zeros((3, 1)))
    assert relative_error(gradients["dWaa"], numerical["dWaa"]) > 1e-2
    assert relative_error(gradients["dWya"], numerical["dWya"]) < 1e-8  # the output layer is untouched by it


def norm_clip(gradients, maxValue):
    """A different function, and a classic slip: each gradient rescaled to norm maxValue when it is larger."""
    return {k: g * min(1.0, maxValue / np.linalg.norm(g)) for k, g in gradients.items() if k in charlm.GRADIENT_KEYS}


def expected_step(parameters, name, a0, learning_rate):
    """(loss, gradients clipped into [-5, 5], updated parameters) from loop_loss and its finite differences."""
    X, Y = name_sequences(name, TINY)
    clipped = {k: np.clip(g, -5, 5) for k, g in finite_differences(parameters, X, Y, a0).items()}
    updated = {k: parameters[k] - learning_rate * clipped["d" + k] for k in KEYS}
    return loop_loss(parameters, X, Y, a0), clipped, updated


def optimize_disagreement(name, scale, seed):
    """The largest relative difference between optimize and expected_step, on parameters where clipping bites."""
    parameters = random_parameters(3, len(TINY), scale=scale, seed=seed)
    a0 = np.full((3, 1), 0.3)
    loss, clipped, updated = expected_step(parameters, name, a0, learning_rate=0.05)
    X, Y = name_sequences(name, TINY)
    in_place = copy.deepcopy(parameters)
    got_loss, got, a_last = optimize(X, Y, a0, in_place, learning_rate=0.05)
    _, cache = charlm.rnn_forward(X, Y, a0, parameters, vocab_size=len(TINY))
    assert set(got) == set(charlm.GRADIENT_KEYS)
    assert np.array_equal(a_last, cache[1][len(X) - 1])  # the last hidden state, before the update
    errors = [abs(got_loss - loss) / loss] + [relative_error(got[k], clipped[k]) for k in clipped]
    return max(errors + [relative_error(in_place[k], updated[k]) for k in KEYS]), clipped


# (name, scale of the weights, seed): together the clip changes entries of all five gradients; the last, none.
OPTIMIZE_CASES = [("cabbed", 3.0, 0), ("deaded", 2.0, 1), ("deaded", 2.5, 4), ("bad", 0.3, 0)]


def test_optimize_is_one_clipped_step_of_the_finite_difference_gradient():
    clipped_keys = set()
    for name, scale, seed in OPTIMIZE_CASES:
        disagreement, clipped = optimize_disagreement(name, scale, seed)
        assert disagreement < 1e-8, (name, scale, seed)
        clipped_keys |= {k for k, g in clipped.items() if np.abs(g).max() == 5}
    assert clipped_keys == set(charlm.GRADIENT_KEYS)


def test_a_norm_clip_in_optimize_is_caught(monkeypatch):
    monkeypatch.setattr(charlm, "clip", norm_clip)
    assert optimize_disagreement("cabbed", 3.0, 0)[0] > 1e-2


def test_clip_is_elementwise_and_leaves_its_input_alone():
    rng = np.random.default_rng(3)
    gradients = {k: rng.standard_normal((4, 3)) * 6 for k in charlm.GRADIENT_KEYS} | {"da_next": np.ones((4, 1))}
    before = copy.deepcopy(gradients)
    clipped = clip(gradients, 5)
    assert set(clipped) == set(charlm.GRADIENT_KEYS)  # da_next is not the course's to return
    for k in charlm.GRADIENT_KEYS:
        g = gradients[k]
        assert np.array_equal(gradients[k], before[k])
        inside = np.abs(g) <= 5
        assert np.array_equal(clipped[k][inside], g[inside])  # untouched where already in range
        assert np.array_equal(clipped[k][~inside], 5 * np.sign(g[~inside]))
        assert not np.allclose(norm_clip(gradients, 5)[k], clipped[k])  # the check tells the two apart


def course_sample(parameters, char_to_ix, seed):
    """The course's sample, literally as learners write it (NumPy's global seed), for the reproducibility check."""
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    vocab_size, n_a = by.shape[0], Waa.shape[1]
    x, a_prev, indices, idx, counter = np.zeros((vocab_size, 1)), np.zeros((n_a, 1)), [], -1, 0
    while idx != char_to_ix["\n"] and counter != 50:
        a = np.tanh(np.dot(Wax, x) + np.dot(Waa, a_prev) + b)
        y = charlm.softmax(np.dot(Wya, a) + by)
        np.random.seed(counter + seed)
        idx = np.random.choice(range(len(y)), p=y.ravel())
        indices.append(idx)
        x = np.zeros((vocab_size, 1))
        x[idx] = 1
        a_prev = a
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(char_to_ix["\n"])
    return indices


def teacher_forced(parameters, indices):
    """softmax(Wya a<k> + by) with the characters drawn before step k fed back, column by column."""
    a, x, columns = np.zeros((parameters["Waa"].shape[0], 1)), np.zeros((parameters["by"].shape[0], 1)), []
    for idx in indices:
        a = np.tanh(parameters["Wax"] @ x + parameters["Waa"] @ a + parameters["b"])
        z = parameters["Wya"] @ a + parameters["by"]
        columns.append(np.exp(z - z.max()) / np.exp(z - z.max()).sum())
        x = np.eye(len(z))[:, [idx]]
    return np.concatenate(columns, axis=1)


@pytest.mark.parametrize("seed", [0, 1, 7, 24])
def test_sample_draws_from_its_distributions_with_the_course_seeds(seed):
    _, char_to_ix, _ = load_names()
    parameters = random_parameters(6, 27, scale=1.0, seed=seed)
    indices, distributions = sample_with_distributions(parameters, char_to_ix, seed)
    assert sample(parameters, char_to_ix, seed) == indices == course_sample(parameters, char_to_ix, seed)
    assert indices[-1] == char_to_ix["\n"] and len(indices) <= 51
    steps = distributions.shape[1]
    np.testing.assert_allclose(distributions, teacher_forced(parameters, indices[:steps]), rtol=1e-12)
    replay = [np.random.RandomState(seed + 2 * k).choice(27, p=distributions[:, k]) for k in range(steps)]
    assert replay == indices[:steps]  # draw k is seeded with seed + 2 k


def test_sample_stops_at_50_characters_and_appends_the_newline():
    _, char_to_ix, _ = load_names()
    parameters = random_parameters(4, 27, scale=0.1, seed=3)
    parameters["by"][char_to_ix["\n"]] = -60.0  # "\n" never drawn
    indices, distributions = sample_with_distributions(parameters, char_to_ix, 11)
    assert len(indices) == 51 and indices[-1] == char_to_ix["\n"] and char_to_ix["\n"] not in indices[:50]
    assert distributions.shape == (27, 50)
    replay = [np.random.RandomState(11 + 2 * k).choice(27, p=distributions[:, k]) for k in range(50)]
    wrong_seeding = [np.random.RandomState(11 + k).choice(27, p=distributions[:, k]) for k in range(50)]
    assert replay == indices[:50] != wrong_seeding  # a seed + k schedule would be told apart


def test_float32_parameters_stay_float32():
    parameters = random_parameters(3, len(TINY), scale=0.7, dtype=np.float32)
    X, Y = name_sequences("cabbed", TINY)
    loss, gradients, a_last = optimize(X, Y, np.zeros((3, 1), dtype=np.float32), parameters)
    assert loss.dtype == a_last.dtype == np.float32
    assert {g.dtype for g in gradients.values()} == {p.dtype for p in parameters.values()} == {np.dtype(np.float32)}


def test_initialize_parameters_draws_the_course_numbers():
    state = np.random.get_state()[1].copy()
    parameters = charlm.initialize_parameters(5, 27, 27)
    assert np.array_equal(np.random.get_state()[1], state)  # NumPy's global state untouched
    np.random.seed(1)
    for key, shape in (("Wax", (5, 27)), ("Waa", (5, 5)), ("Wya", (27, 5))):
        assert np.array_equal(parameters[key], np.random.randn(*shape) * 0.01)
    assert not parameters["b"].any() and parameters["by"].shape == (27, 1)


def test_the_names_corpus_has_the_course_vocabulary():
    data_x, char_to_ix, ix_to_char = load_names()
    assert len(data_x) == 400 == len(set(data_x)) and all(name.isalpha() and name.islower() for name in data_x)
    assert list(char_to_ix) == ["\n", *"abcdefghijklmnopqrstuvwxyz"] and char_to_ix["z"] == 26
    assert all(ix_to_char[i] == ch for ch, i in char_to_ix.items())
    text = NAMES_PATH.read_text()
    assert sorted(set(text.lower())) == list(char_to_ix)  # the course's own way to read it agrees
    assert text == "".join(name + "\n" for name in generate_names())  # the shipped file is the generator's
    assert name_sequences("bad", char_to_ix) == ([None, 2, 1, 4], [2, 1, 4, 0])


def test_softmax_is_per_column_and_never_overflows():
    z = np.array([[1000.0, 0.0], [999.0, 1.0], [-5.0, 2.0]])  # (3, 2): column 0 would overflow e^z
    y = charlm.softmax(z)
    expected = np.exp(z - z.max(axis=0)) / np.exp(z - z.max(axis=0)).sum(axis=0)
    np.testing.assert_allclose(y, expected, rtol=1e-15)
    assert np.allclose(y.sum(axis=0), 1) and y[0, 0] == pytest.approx(1 / (1 + np.exp(-1)))


def test_the_loader_reads_another_file_as_the_course_does(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("Abba\nbob\n\n")
    data_x, char_to_ix, _ = load_names(path)
    assert data_x == ["abba", "bob"] and list(char_to_ix) == ["\n", "a", "b", "o"]  # lower-cased, blank line skipped
    path.write_text("\n\n")
    with pytest.raises(ValueError, match="holds no names"):
        load_names(path)


def test_the_language_model_stays_under_scratch_charlm():
    """The verifier checks every course function scratch defines by name: week 2's optimize is not this one."""
    for name in ("clip", "sample", "optimize", "rnn_forward", "rnn_backward", "update_parameters", "softmax"):
        assert getattr(scratch, name, None) is not getattr(charlm, name)
