"""The language model notebook's classic slips (impl/charlm.py), each recognised by computing again with the slip
and comparing with what the learner's function gave: clip by norm, or a gradient left out of the loop; sample
drawing from the logits (without the softmax), stopping late or early, or seeded otherwise than the course; optimize
without clip, updating with 0.01 instead of its learning_rate, with the unclipped gradients, or not at all, or
returning a[-1] (a_prev) for the last hidden state. A slip is named only where it fits; where none does, there is
no hint."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .conv_hints import Candidates, fitting

GRADIENTS = ("dWaa", "dWax", "dWya", "db", "dby")
PARAMETERS = ("Wax", "Waa", "Wya", "b", "by")
NORM = (
    "clip by norm instead of elementwise: the course clips each entry into [-maxValue, maxValue], "
    "np.clip(gradient, -maxValue, maxValue, out=gradient); rescaling a gradient by its norm is another function"
)
NO_SOFTMAX = (
    "without the softmax: y = softmax(z) is the distribution each character is drawn from; z = np.dot(Wya, a) + by "
    "are its logits"
)
AFTER_NEWLINE = (
    "stopping late: it goes on drawing after the newline; the loop stops once idx is the newline's "
    "(while idx != newline_character and counter != 50)"
)
PAST_50 = (
    "stopping late: it draws more than 50 characters; the loop stops at counter == 50, then appends the newline's index"
)
EARLY = "stopping early: the loop goes on until the newline is drawn or 50 characters are (counter != 50)"
NO_NEWLINE = (
    "at 50 characters the course appends the newline's index: if counter == 50: indices.append(char_to_ix['\\n'])"
)
SEEDINGS = (
    (
        "draw k is seeded with seed + k (seed + counter with one of them not incremented, or seed alone incremented): "
        "the course seeds with np.random.seed(counter + seed) and increments both (seed += 1; counter += 1), so draw "
        "k is seeded with seed + 2k",
        lambda seed, k: seed + k,
    ),
    ("seeded with seed alone: the course seeds each draw with np.random.seed(counter + seed)", lambda seed, k: seed),
    ("seeded with counter alone: the course seeds each draw with np.random.seed(counter + seed)", lambda seed, k: k),
)
ONCE = "seeded once: the course seeds before every draw, np.random.seed(counter + seed) inside the loop"
NOT_CLIPPED = "not clipped: gradients = clip(gradients, 5) comes between rnn_backward and update_parameters"
UNCLIPPED_UPDATE = "the update used the unclipped gradients: clip them before update_parameters"
NOT_UPDATED = (
    "the parameters are not updated: update_parameters(parameters, gradients, learning_rate) updates in place the "
    "dict optimize was handed, the one the course's model() goes on with"
)
CLIMBS = "the update climbs: the course's update_parameters subtracts, parameters['Wax'] += -lr * gradients['dWax']"
A_PREV = (
    "it is a_prev: rnn_forward's a[-1] is the start a0 (a dict keyed by the time step), the last hidden state is "
    "a[len(X) - 1]"
)


def clip_slip(key: str, given: dict, returned: dict, maxValue: float, allowed: float) -> str:
    """The slip behind clip's wrong `key` (a gradient's name), from the gradients it was `given`."""
    if not isinstance(returned, dict) or returned.get(key) is None:
        return f"not applied to every gradient: {key} is not in the dict it returns, which holds all five ({', '.join(GRADIENTS)})"
    if _nothing_clipped(given, returned, maxValue):
        return (
            "nothing is clipped: all five come back as they were given; np.clip(gradient, ...) returns a new array "
            "(its result dropped, or `gradient = np.clip(...)` in the loop, which only rebinds its name): "
            "np.clip(gradient, -maxValue, maxValue, out=gradient) writes into each"
        )
    g = np.asarray(given[key], dtype=np.float64)
    whole = float(np.sqrt(sum(np.sum(np.asarray(v, dtype=np.float64) ** 2) for v in given.values())))
    candidates: Candidates = (
        (f"not applied to every gradient: {key} is returned unclipped (the loop over [dWax, dWaa, dWya, db, dby])", g),
        (NORM, g * min(1.0, maxValue / max(float(np.linalg.norm(g)), 1e-300))),
        (NORM + " (of all five together)", g * min(1.0, maxValue / max(whole, 1e-300))),
        ("clipped into [0, maxValue]: the lower bound is -maxValue", np.clip(g, 0, maxValue)),
    )
    return fitting(returned[key], candidates, allowed)


def _nothing_clipped(given: dict, returned: dict, maxValue: float) -> bool:
    """Whether every gradient comes back exactly as given, while some entry lies beyond maxValue."""
    same = all(
        returned.get(k) is not None and np.array_equal(np.asarray(returned[k]), np.asarray(v)) for k, v in given.items()
    )
    return same and any(np.any(np.abs(np.asarray(v)) > maxValue) for v in given.values())


def distribution_slip(p: np.ndarray, expected: np.ndarray) -> str:
    """NO_SOFTMAX where the vector `p` a character was drawn from is the logits (log expected plus a constant)."""
    p, expected = np.ravel(np.asarray(p, dtype=np.float64)), np.ravel(expected)
    if p.shape != expected.shape or not np.all(expected > 0):
        return ""
    shift = p - np.log(expected)
    return NO_SOFTMAX if float(np.ptp(shift)) <= 1e-6 * max(1.0, float(np.max(np.abs(p)))) else ""


def stopping_slip(indices: Sequence[int], drawn: int, newline: int) -> str:
    """The slip behind `indices` that go on (or stop) where the course's loop would not after `drawn` draws that
    agree: after the newline, past 50 characters, before either, or without the newline appended at 50."""
    if drawn < len(indices):  # the course's loop stopped after `drawn` characters
        if indices[drawn - 1] == newline:
            return AFTER_NEWLINE
        return PAST_50 if indices[drawn] != newline or len(indices) > drawn + 1 else ""
    if drawn == 50:
        return NO_NEWLINE
    return EARLY


def seeding_slip(indices: Sequence[int], cdfs: Sequence[np.ndarray], seed: int) -> str:
    """The seeding that draws every one of `indices` from the distributions' cumulative sums `cdfs` (one per draw),
    where the course's (seed + 2k) does not: np.random.choice's own draw, searchsorted(cdf, uniform, 'right')."""
    count = min(len(indices), len(cdfs))
    if count < 2:
        return ""
    for hint, rule in SEEDINGS:
        if all(_draw(cdfs[k], np.random.RandomState(rule(seed, k))) == indices[k] for k in range(count)):
            return hint
    once = np.random.RandomState(seed)
    if all(_draw(cdfs[k], once) == indices[k] for k in range(count)):
        return ONCE
    return ""


def _draw(cdf: np.ndarray, state: np.random.RandomState) -> int:
    """The index np.random.choice(range(n), p=p) draws from `state`, given p's normalised cumulative sum."""
    return int(np.searchsorted(cdf, state.random_sample(), side="right"))


def optimize_slip(output: str, value, candidates: dict, allowed: float) -> str:
    """The slip behind optimize's wrong `output` (a gradient, a parameter, "a"), from `candidates`: each slip's
    hint -> what optimize gives with it (torch_ref.charlm.optimize run with the slip)."""
    return fitting(value, tuple(candidates.items()), allowed)
