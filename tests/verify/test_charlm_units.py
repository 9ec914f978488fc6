"""The language model's unit checks on their own: scratch.charlm, as a learner's module, passes each in both dtypes;
the draw the sample check replays is NumPy's own; each slip's recomputation names it on hand-built numbers and only
where it fits; the scales leave float32's real rounding well inside the tolerance and still resolve a slip."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import scratch.charlm
import torch_ref.charlm as ref
from verify.checking import unit_charlm
from verify.checking.unit_harness import Unit, Wrong
from verify.errors import ImplementationError
from verify.impl.module_access import _ModuleAccess
from verify.judging import charlm_hints
from verify.judging.charlm_scales import step_scales
from verify.judging.tolerance import DEFAULT_RTOL


class Learner(_ModuleAccess):
    """What a Unit calls: a module's functions by name (errors as the adapter raises them), and optimize's in-place
    update read back, as impl/charlm.py's adapter does (without its copies of everything else); a library's function
    watched as the adapter watches it (module_access.py)."""

    def __init__(self, module=scratch.charlm, **replaced):
        self.module, self.replaced, self.notes = module, replaced, {}

    def call(self, function: str, *args):
        try:
            return self.replaced.get(function, getattr(self.module, function))(*args)
        except Exception as error:
            raise ImplementationError(function, error) from error

    def optimize(self, X, Y, a_prev, parameters, learning_rate):
        handed = copy.deepcopy(parameters)
        return self.call("optimize", X, Y, a_prev.copy(), handed, learning_rate), handed


def unit(function: str, dtype: str = "float64", seed: int = 0, **replaced) -> Unit:
    return Unit(Learner(**replaced), function, dtype, DEFAULT_RTOL[dtype], seed)


def wrong(function: str, **replaced) -> Wrong:
    with pytest.raises(Wrong) as caught:
        unit_charlm.CHARLM_CHECKS[function](unit(function, **replaced))
    return caught.value


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("function", list(unit_charlm.CHARLM_CHECKS))
def test_scratch_passes_every_check_in_both_dtypes(function, dtype):
    for seed in range(3):
        unit_charlm.CHARLM_CHECKS[function](unit(function, dtype, seed))


def test_the_replayed_draw_is_numpys_own():
    """sample's check reads each character off the cumulative distribution at RandomState(seed).random_sample():
    what np.random.choice(range(n), p=p) does, for any p."""
    rng = np.random.default_rng(1)
    for seed in range(200):
        p = rng.dirichlet(np.full(27, 0.3))
        cdf = np.cumsum(p) / np.sum(p)
        drawn = np.random.RandomState(seed).choice(range(27), p=p)
        assert int(np.searchsorted(cdf, np.random.RandomState(seed).random_sample(), "right")) == drawn


def test_the_draws_are_watched_and_numpys_choice_restored_even_after_a_raise():
    original = np.random.choice
    with pytest.raises(ValueError), unit_charlm._draws_watched(Learner()) as seen:
        np.random.choice(3, p=[0.5, 0.5, 0.0])
        np.random.choice(3, p=[-1.0, 1.0, 1.0])
    assert np.random.choice is original
    assert [list(p) for p in seen] == [[0.5, 0.5, 0.0], [-1.0, 1.0, 1.0]]


def test_a_draw_one_rounding_from_the_boundary_is_the_course_s_too():
    cdf = np.array([0.2, 0.5, 1.0])
    assert unit_charlm._at_a_boundary(cdf, 1, 0.2 - 1e-12, 1e-9)  # 0.2 - 1e-12 lies in 0's interval, barely
    assert not unit_charlm._at_a_boundary(cdf, 2, 0.2 - 1e-12, 1e-9)


GIVEN = {key: np.array([[12.0, -3.0], [1.0, -20.0]]) * (i + 1) for i, key in enumerate(charlm_hints.GRADIENTS)}


def norm_clipped(gradients: dict, maxValue: float, whole: bool = False) -> dict:
    total = np.sqrt(sum(np.sum(g**2) for g in gradients.values()))
    return {k: g * maxValue / (total if whole else np.linalg.norm(g)) for k, g in gradients.items()}


@pytest.mark.parametrize(
    ("returned", "words"),
    [
        (norm_clipped(GIVEN, 10), "clip by norm instead of elementwise"),
        (norm_clipped(GIVEN, 10, whole=True), "by norm instead of elementwise: the course clips each entry"),
        ({**ref.clip(GIVEN, 10), "dby": GIVEN["dby"]}, "not applied to every gradient: dby is returned unclipped"),
        ({k: v for k, v in ref.clip(GIVEN, 10).items() if k != "dby"}, "dby is not in the dict it returns"),
        ({k: np.clip(v, 0, 10) for k, v in GIVEN.items()}, "clipped into [0, maxValue]"),
        ({k: v.copy() for k, v in GIVEN.items()}, "nothing is clipped: all five come back as they were given"),
        ({k: v * 0.5 for k, v in GIVEN.items()}, ""),
    ],
)
def test_clips_slips_are_named_where_they_fit(returned, words):
    hint = charlm_hints.clip_slip("dby", GIVEN, returned, 10.0, 1e-9)
    assert (words in hint) if words else hint == ""


def test_the_logits_drawn_from_are_named_without_the_softmax():
    z = np.array([1.5, -0.3, 0.2])
    p = np.exp(z) / np.sum(np.exp(z))
    assert charlm_hints.distribution_slip(z, p) == charlm_hints.NO_SOFTMAX
    assert charlm_hints.distribution_slip(p, p) == ""


@pytest.mark.parametrize(
    ("indices", "drawn", "hint"),
    [
        ([3, 0, 4, 0], 2, charlm_hints.AFTER_NEWLINE),
        ([3] * 60, 50, charlm_hints.PAST_50),
        ([3] * 50, 50, charlm_hints.NO_NEWLINE),
        ([3] * 49, 49, charlm_hints.EARLY),
    ],
)
def test_where_sample_stops_is_named(indices, drawn, hint):
    assert unit_charlm._course_draws(indices) == drawn
    assert charlm_hints.stopping_slip(indices, drawn, 0) == hint


def course_like_draws(seeds: list[int], once: bool = False) -> tuple[list[int], list[np.ndarray]]:
    """Draws from flat distributions (every character likely), from the given seeds, or from one state."""
    cdfs = [np.cumsum(np.full(27, 1 / 27)) for _ in seeds]
    state = np.random.RandomState(seeds[0])
    draws = [charlm_hints._draw(c, state if once else np.random.RandomState(s)) for c, s in zip(cdfs, seeds)]
    return draws, cdfs


@pytest.mark.parametrize(
    ("seeds", "once", "words"),
    [
        ([5 + k for k in range(6)], False, "draw k is seeded with seed + k (seed + counter with one of them"),
        ([5] * 6, False, "seeded with seed alone"),
        (list(range(6)), False, "seeded with counter alone"),
        ([5] * 6, True, "seeded once"),
        ([5 + 2 * k for k in range(6)], False, ""),  # the course's own
    ],
)
def test_a_seeding_is_named_where_every_draw_fits_it(seeds, once, words):
    draws, cdfs = course_like_draws(seeds, once)
    hint = charlm_hints.seeding_slip(draws, cdfs, 5)
    assert (words in hint) if words else hint == ""


def optimize_with(clip=True, rate=None, last=True, update=1.0):
    """The course's optimize (scratch's helpers), with a slip: no clip, a fixed rate, a[-1], no or a climbing step."""

    def optimize(X, Y, a_prev, parameters, learning_rate=0.01):
        loss, cache = scratch.charlm.rnn_forward(X, Y, a_prev, parameters)
        gradients, a = scratch.charlm.rnn_backward(X, Y, parameters, cache)
        gradients = scratch.charlm.clip(gradients, 5) if clip else gradients
        scratch.charlm.update_parameters(parameters, gradients, update * (learning_rate if rate is None else rate))
        return loss, gradients, a[len(X) - 1] if last else a[-1]

    return optimize


@pytest.mark.parametrize(
    ("slip", "output", "hint"),
    [
        (optimize_with(clip=False), "dWaa", charlm_hints.NOT_CLIPPED),
        (optimize_with(rate=0.01), "Wax", "the update uses 0.01, not learning_rate (0.05)"),
        (optimize_with(last=False), "a_last", charlm_hints.A_PREV),
        (optimize_with(update=0.0), "Wax", charlm_hints.NOT_UPDATED),
        (optimize_with(update=-1.0), "Wax", charlm_hints.CLIMBS),
    ],
)
def test_optimizes_slips_fail_on_their_output_and_are_named(slip, output, hint):
    caught = wrong("optimize", optimize=slip)
    assert caught.output == output and caught.hint == hint


def test_sample_drawing_from_the_logits_raises_in_numpy_and_is_named():
    def sample(parameters, char_to_ix, seed):
        a = np.tanh(parameters["b"])
        z = parameters["Wya"] @ a + parameters["by"]
        return [np.random.choice(range(len(z)), p=z.ravel())]

    caught = wrong("sample", sample=sample)
    assert caught.output == "y" and caught.hint == charlm_hints.NO_SOFTMAX and "ValueError" in caught.detail


def unit_parameters(rng, n_a=6):
    return {
        "Wax": rng.standard_normal((n_a, 27)),
        "Waa": rng.standard_normal((n_a, n_a)) * 0.5 / np.sqrt(n_a),
        "Wya": rng.standard_normal((27, n_a)) * 2,
        "b": rng.standard_normal((n_a, 1)) * 0.5,
        "by": rng.standard_normal((27, 1)) * 0.5,
    }


@pytest.mark.parametrize("start", ["unit", "course"])
def test_the_scales_hold_float32s_rounding_and_resolve_a_slip(start):
    """torch in float32 against torch in float64 on the unit checks' kind of parameters and on the course's start:
    every quantity within a tenth of float32's tolerance; float64's tolerance below a tenth of each quantity's size,
    so a slip of that size shows."""
    rng = np.random.default_rng(5)
    char_to_ix = unit_charlm.CHAR_TO_IX
    for trial, name in enumerate(("raemkriamcheonvenator", "giasdon", "rex")):
        P = unit_parameters(rng) if start == "unit" else scratch.charlm.initialize_parameters(50, 27, 27, trial)
        n_a = P["Waa"].shape[0]
        a_prev = rng.standard_normal((n_a, 1)) * 0.5
        X, Y = scratch.charlm.name_sequences(name, char_to_ix)
        exact = ref.optimize(X, Y, a_prev, P, 0.05)
        single = ref.optimize(X, Y, a_prev.astype(np.float32), {k: v.astype(np.float32) for k, v in P.items()}, 0.05)
        scales = step_scales(X, Y, a_prev, P, 0.05)
        pairs = {"cost": (single[0], exact[0]), "a": (single[2], exact[2])}
        pairs |= {k: (single[1][k], exact[1][k]) for k in charlm_hints.GRADIENTS}
        pairs |= {k: (single[3][k], exact[3][k]) for k in charlm_hints.PARAMETERS}
        for key, (a, b) in pairs.items():
            gap = float(np.max(np.abs(np.asarray(a, dtype=np.float64) - b)))
            assert gap <= 0.1 * DEFAULT_RTOL["float32"] * scales[key], key
            assert DEFAULT_RTOL["float64"] * scales[key] < 0.1 * float(np.max(np.abs(b))), key
