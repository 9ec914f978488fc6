"""The function-by-function checks of the language model notebook (impl/charlm.py): clip, sample and optimize,
each against torch_ref.charlm in the run's dtype.

clip gets seeded gradients with entries beyond maxValue in every one of the five arrays, at three maxValues, and
each clipped array is compared with torch.clamp's. sample is checked where it can go wrong: the distribution each
character is drawn from (seen by watching np.random.choice while sample runs) against torch's softmax at that step
given the characters drawn before it (torch_ref.charlm.sample_distributions), each character drawn against the
course's seeding (draw k from np.random.seed(seed + 2k) and torch's distribution; scratch.charlm.sample's names
show in the message), and where it stops (the first newline, or 50 characters and the newline appended).
optimize runs one step on a name, from a random a_prev and parameters large enough that clipping bites, at a
learning rate other than its default: the loss, each clipped gradient, a[len(X) - 1] and the parameters it updated
in place against torch_ref.charlm.optimize, each within rtol times its scale (judging/charlm_scales.py). A wrong
output is matched against the classic slips (judging/charlm_hints.py).
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

import scratch.charlm
import torch_ref.charlm as ref

from ..errors import ImplementationError
from ..impl.base import _describe
from ..judging import charlm_hints
from ..judging.charlm_scales import distribution_scale, step_scales
from ..judging.compare import mismatch
from ..judging.tolerance import largest
from .unit_harness import Unit, Wrong

CHAR_TO_IX = {ch: i for i, ch in enumerate("\n" + string.ascii_lowercase)}  # the course's: "\n" is 0, then a-z
VOCAB = len(CHAR_TO_IX)  # 27: the course's rnn_forward default, which its optimize relies on
NEWLINE = CHAR_TO_IX["\n"]
CLIP_CASES = ((10.0, 10.0), (5.0, 10.0), (0.5, 1.0))  # (maxValue, the gradients' spread)
CLIP_SHAPES = {"dWaa": (5, 5), "dWax": (5, 7), "dWya": (7, 5), "db": (5, 1), "dby": (7, 1)}  # n_a 5, n_x = n_y 7
SAMPLE_A = 6  # sample's and optimize's hidden units
SAMPLE_CASES = ((3, 2.0), (11, 0.0), (7, -40.0))  # (seed, the newline's output bias): short names, any, 50 letters
OPTIMIZE_CASES = (("raemkriamcheonvenator", 0.05), ("rex", 0.01))  # (name, learning_rate)


def _check_clip(u: Unit) -> None:
    for maxValue, spread in CLIP_CASES:
        gradients = {key: u.randn(*shape) * spread for key, shape in CLIP_SHAPES.items()}
        for value in gradients.values():  # several entries beyond maxValue, of both signs, in every array
            value.ravel()[:2] = (2.5 * maxValue, -1.5 * maxValue)
        returned = u.call(gradients, maxValue)
        if not isinstance(returned, dict):
            raise Wrong("", f"expected a dict of the clipped gradients, got {_describe(returned)}")
        expected = ref.clip(gradients, maxValue)
        for key in charlm_hints.GRADIENTS:
            try:
                u.close(key, returned.get(key), expected[key], largest(gradients[key]))
            except Wrong as wrong:
                allowed = u.rtol * largest(gradients[key])
                wrong.detail = f"at maxValue {maxValue:g}: {wrong.detail}"
                wrong.hint = charlm_hints.clip_slip(key, gradients, returned, maxValue, allowed) or wrong.hint
                raise


def _check_sample(u: Unit) -> None:
    for seed, newline_bias in SAMPLE_CASES:
        parameters = {
            "Wax": u.randn(SAMPLE_A, VOCAB) * 1.5,
            "Waa": u.randn(SAMPLE_A, SAMPLE_A) * 0.8,
            "Wya": u.randn(VOCAB, SAMPLE_A) * 1.5,
            "b": u.randn(SAMPLE_A, 1) * 0.3,
            "by": u.randn(VOCAB, 1) * 0.5,
        }
        parameters["by"][NEWLINE] = newline_bias
        _sample_case(u, parameters, seed)


def _sample_case(u: Unit, parameters: dict, seed: int) -> None:
    """One sample call: its distributions, its characters, where it stops (the module's docstring)."""
    where = f"at seed {seed}"
    with _draws_watched(u.impl) as seen:
        try:
            indices = u.call(parameters, CHAR_TO_IX, seed)
        except ImplementationError as error:  # np.random.choice refuses logits: name it where the numbers say so
            first = ref.sample_distributions(parameters, [0])[:, 0]
            hint = charlm_hints.distribution_slip(seen[0], first) if seen else ""
            if not hint:
                raise
            raise Wrong("y", f"{where}, draw 0: {str(error).removeprefix('sample ')}", hint) from None
    indices = _indices(indices, where)
    drawn = _course_draws(indices)
    distributions = ref.sample_distributions(parameters, indices[:drawn])  # (VOCAB, drawn)
    allowed = u.rtol * distribution_scale(parameters)
    if len(seen) >= drawn:  # drawn with np.random.choice, once per character: its distributions are compared
        for k in range(drawn):
            gap = np.abs(np.ravel(seen[k]) - distributions[:, k]) if np.size(seen[k]) == VOCAB else None
            if gap is None or not float(np.max(gap)) <= allowed:
                detail = _distribution_detail(seen[k], distributions[:, k], allowed)
                hint = charlm_hints.distribution_slip(seen[k], distributions[:, k])
                raise Wrong("y", f"{where}, draw {k} (the characters before it agree): {detail}", hint)
    cdfs = [np.cumsum(column) / np.sum(column) for column in distributions.T]
    for k in range(drawn):
        state = np.random.RandomState(seed + 2 * k)  # the course's: np.random.seed(counter + seed), both + 1 a draw
        uniform = state.random_sample()
        course = int(np.searchsorted(cdfs[k], uniform, side="right"))
        if indices[k] != course and not _at_a_boundary(cdfs[k], indices[k], uniform, VOCAB * allowed):
            scratch_names = scratch.charlm.sample(parameters, CHAR_TO_IX, seed)
            raise Wrong(
                "indices",
                f"{where}, draw {k} is {_shown(indices[k : k + 1])} where np.random.seed({seed + 2 * k}) draws "
                f"{_shown([course])} from torch's distribution (the course's sample gives {_shown(scratch_names)})",
                charlm_hints.seeding_slip(indices[:drawn], cdfs, seed),
            )
    expected = drawn + (1 if indices[drawn - 1] != NEWLINE else 0)  # the course appends "\n" after 50 letters
    if len(indices) != expected or indices[expected - 1] != NEWLINE:
        names = scratch.charlm.sample(parameters, CHAR_TO_IX, seed)
        raise Wrong(
            "indices",
            f"{where}: {len(indices)} indices, {_shown(indices)}, where the course's sample gives {len(names)}, "
            f"{_shown(names)}",
            charlm_hints.stopping_slip(indices, drawn, NEWLINE),
        )


@contextmanager
def _draws_watched(impl) -> Iterator[list]:
    """The distributions np.random.choice is asked to draw from while the block runs (the course's sample draws
    each character with np.random.choice(range(len(y)), p=y.ravel())): NumPy's own choice, watched (where the
    learner's code calls it: the adapter puts the watcher there), then restored."""
    seen: list = []

    def watched(original):
        def choice(a, size=None, replace=True, p=None):
            seen.append(None if p is None else np.array(p, dtype=np.float64))
            return original(a, size, replace, p)

        return choice

    with impl.library_watched("numpy.random", "choice", watched):
        yield seen


def _indices(value, where: str) -> list[int]:
    """sample's result as a list of vocabulary indices; Wrong where it is not one."""
    try:
        indices = [int(i) for i in value]
        ok = len(indices) > 0 and all(0 <= i < VOCAB and i == j for i, j in zip(indices, value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise Wrong(
            "indices", f"{where}: expected a list of indices into the {VOCAB} characters, got {_describe(value)}"
        )
    return indices


def _course_draws(indices: list[int]) -> int:
    """How many of `indices` the course's loop draws before it stops: up to the first newline, at most 50."""
    for k, index in enumerate(indices[: scratch.charlm.SAMPLE_LENGTH]):
        if index == NEWLINE:
            return k + 1
    return min(len(indices), scratch.charlm.SAMPLE_LENGTH)


def _at_a_boundary(cdf: np.ndarray, index: int, uniform: float, allowed: float) -> bool:
    """Whether a draw of `index` is one rounding away from the course's: the uniform number lies within `allowed`
    of the edges of index's interval [cdf[index - 1], cdf[index])."""
    low = cdf[index - 1] if index > 0 else 0.0
    return bool(low - allowed <= uniform < cdf[index] + allowed)


def _distribution_detail(p, expected: np.ndarray, allowed: float) -> str:
    if p is None or np.size(p) != expected.size:
        return f"np.random.choice drew from {_describe(p)} where torch's softmax gives {expected.size} probabilities"
    p = np.ravel(np.asarray(p, dtype=np.float64))
    gap = np.abs(p - expected)
    worst = int(np.argmax(np.where(np.isfinite(gap), gap, np.inf)))
    return mismatch(int(np.sum(~(gap <= allowed))), gap.size, (worst,), p[worst], expected[worst])


def _shown(indices) -> str:
    """Indices as the name they spell: [7, 9, 0] -> 'gi\\n'."""
    letters = {i: ch for ch, i in CHAR_TO_IX.items()}
    return repr("".join(letters.get(int(i), "?") for i in indices))


def _check_optimize(u: Unit) -> None:
    for name, learning_rate in OPTIMIZE_CASES:
        X, Y = scratch.charlm.name_sequences(name, CHAR_TO_IX)
        parameters = {
            "Wax": u.randn(SAMPLE_A, VOCAB),
            "Waa": u.randn(SAMPLE_A, SAMPLE_A) * 0.5 / np.sqrt(SAMPLE_A),  # contracting: no chaos to amplify rounding
            "Wya": u.randn(VOCAB, SAMPLE_A) * 2,  # large output weights: large gradients, which clip bites on
            "b": u.randn(SAMPLE_A, 1) * 0.5,
            "by": u.randn(VOCAB, 1) * 0.5,
        }
        a_prev = u.randn(SAMPLE_A, 1) * 0.5
        result, updated = u.impl.optimize(X, Y, a_prev, parameters, learning_rate)
        loss, gradients, a_last = u.parts(result, ("loss", "gradients", "a_last"))
        expected = ref.optimize(X, Y, a_prev, parameters, learning_rate)
        scales = step_scales(X, Y, a_prev, parameters, learning_rate)
        outputs = [("loss", loss, expected[0], scales["cost"])]
        outputs += [(key, _get(gradients, key), expected[1][key], scales[key]) for key in charlm_hints.GRADIENTS]
        outputs += [("a_last", a_last, expected[2], scales["a"])]
        outputs += [(key, updated[key], expected[3][key], scales[key]) for key in charlm_hints.PARAMETERS]
        for output, value, reference, scale in outputs:
            try:
                u.close(output, value, reference, scale)
            except Wrong as wrong:
                wrong.detail = f"on {name!r} at learning_rate {learning_rate:g}: {wrong.detail}"
                slips = _optimize_slips(output, X, Y, a_prev, parameters, learning_rate)
                wrong.hint = charlm_hints.optimize_slip(output, value, slips, u.rtol * scale) or wrong.hint
                raise


def _get(gradients, key: str):
    if not isinstance(gradients, dict):
        raise Wrong("gradients", f"expected a dict of the clipped gradients, got {_describe(gradients)}")
    return gradients.get(key)


def _optimize_slips(output: str, X, Y, a_prev, parameters: dict, learning_rate: float) -> dict:
    """{hint: what optimize's `output` is with that slip} (charlm_hints), by torch_ref.charlm.optimize run with
    the slip: without the clip, at the default rate, from the parameters left as they were."""
    if output in charlm_hints.GRADIENTS:
        return {charlm_hints.NOT_CLIPPED: ref.optimize(X, Y, a_prev, parameters, learning_rate, np.inf)[1][output]}
    if output == "a_last":
        return {charlm_hints.A_PREV: np.asarray(a_prev)}
    if output not in charlm_hints.PARAMETERS:
        return {}
    before = np.asarray(parameters[output], dtype=np.float64)
    right = ref.optimize(X, Y, a_prev, parameters, learning_rate)[3][output]
    slips = {
        charlm_hints.UNCLIPPED_UPDATE: ref.optimize(X, Y, a_prev, parameters, learning_rate, np.inf)[3][output],
        charlm_hints.NOT_UPDATED: before,
        charlm_hints.CLIMBS: 2 * before - right,
    }
    if learning_rate != 0.01:
        slips[f"the update uses 0.01, not learning_rate ({learning_rate:g})"] = ref.optimize(
            X, Y, a_prev, parameters, 0.01
        )[3][output]
    return slips


CHARLM_CHECKS: dict[str, Callable[[Unit], str | None]] = {
    "clip": _check_clip,
    "sample": _check_sample,
    "optimize": _check_optimize,
}
