"""optimize over the first names of the corpus, against torch: the language model's lockstep and free-running
checks (impl/charlm.py), run after its functions' own.

The course's model() calls optimize on one name after another, carrying the last hidden state on as the next
name's a_prev. Here: the first NAMES names of the project's corpus (scratch/data/names.txt, the notebook's
dinos.txt), in the file's order, one name an iteration, from the course's initialize_parameters(50, 27, 27) (seeded
with --seed) and a zero a_prev, at the course's learning rate 0.01.

Lockstep: at each name torch (torch_ref.charlm.optimize) steps from the implementation's own parameters and
a_prev; the loss, each clipped gradient, a[len(X) - 1] and the updated parameters must agree within rtol times
their scales (judging/charlm_scales.py). Free-running: torch runs on its own from the same start, and after each
name the two runs (their parameters, the hidden state each carries on, the loss before the step) are compared with
training.py's rule and tolerance.py's FREE_RUNNING constants, the state's hidden vector counted as one more array:

    allowed[i+1] = gain[i] * max(allowed[i]) + rounding[i]

rounding[i] the rounding one correct step may make (min(rtol, FREE_RUNNING_ROUNDING eps) times each quantity's
lockstep scale), gain[i] how much torch's own step magnified the gap between the runs' states (its step from the
implementation's state, the lockstep one, against its step from its own). Each array must stay within
FREE_RUNNING_HEADROOM times its allowance, the loss within HEADROOM times the loss gradient's 1-norm (torch's, not
clipped, a_prev's included) against the allowance before the step, plus its rounding; past FREE_RUNNING_LIMIT of
the parameters' size the runs are not comparable, from that name on. With TensorBoard on, both sides' losses and
the names each samples at the end are logged (telling/tblog_charlm.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import scratch.charlm
import torch_ref.charlm as ref
from scratch.names import load_names

from ..errors import ImplementationError
from ..impl.base import _describe
from ..judging.charlm_hints import GRADIENTS, PARAMETERS
from ..judging.charlm_scales import step_scales
from ..judging.compare import CheckResult
from ..judging.tolerance import FREE_RUNNING_HEADROOM, FREE_RUNNING_LIMIT, FREE_RUNNING_ROUNDING, largest

NAMES = 30  # a few seconds of the course's Python loops, and enough steps for the dynamics to show
LEARNING_RATE = 0.01  # the course's model()
STATE = (*PARAMETERS, "a")  # what a run carries from one name to the next


@dataclass
class _Run:
    """Both sides' state between names: the implementation's (which lockstep steps torch from too) and torch's own."""

    impl: dict  # Wax, ..., by, a
    torch: dict
    allowed: np.ndarray | None = None  # free-running: each state array's allowance
    losses: dict = field(default_factory=lambda: {"impl": [], "torch": []})


def check_names(impl, config, stage: Callable[[str], None]) -> tuple[list[CheckResult], str | None]:
    """The lockstep and free-running checks of optimize over the first NAMES names, and the TensorBoard folder."""
    names, char_to_ix, _ = load_names()
    names = names[:NAMES]
    stage(f"optimize over the first {len(names)} names, lockstep and free-running")
    n_a, n_x, n_y = impl.SIZES[1], impl.SIZES[0], impl.SIZES[2]
    start = {
        k: v.astype(config.dtype) for k, v in scratch.charlm.initialize_parameters(n_a, n_x, n_y, config.seed).items()
    }
    start["a"] = np.zeros((n_a, 1), dtype=config.dtype)
    run = _Run(dict(start), dict(start))
    lockstep = CheckResult("lockstep", "training", config.relative_tolerance)
    free = CheckResult("free-running", "training", config.relative_tolerance)
    lockstep.notes.append(
        f"optimize on the first {len(names)} names of the corpus, one an iteration, from the course's "
        f"initialize_parameters({n_a}, {n_x}, {n_y}) (seed {config.seed}) and a zero a_prev, learning rate "
        f"{LEARNING_RATE:g}; each name from {impl.label}'s own parameters and hidden state"
    )
    log = None
    if config.tensorboard:
        from ..telling.tblog_charlm import NamesLog

        log = NamesLog(config, impl.label)
    try:
        for i, name in enumerate(names):
            X, Y = scratch.charlm.name_sequences(name, char_to_ix)
            try:
                _step(impl, run, (X, Y), i, (lockstep, free))
            except ImplementationError as error:
                lockstep.error, lockstep.error_iteration = error, i
                free.skipped = f"{impl.label} {error.what} at iteration {i} (see lockstep)"
                break
            if log is not None:
                log.losses(i, run.losses["impl"][-1], run.losses["torch"][-1])
        if log is not None and lockstep.error is None:
            log.samples(_sampled(impl, run.impl, char_to_ix), _sampled(None, run.torch, char_to_ix))
    finally:
        if log is not None:
            log.close()
    return [lockstep, free], None if log is None else log.run_dir


def _step(impl, run: _Run, name: tuple, i: int, checks: tuple[CheckResult, CheckResult]) -> None:
    """One name: the implementation's optimize and torch's from the same state (lockstep), torch's own step
    (free-running), compared; both runs moved on."""
    (X, Y), (lockstep, free) = name, checks
    mine = _state_params(run.impl)
    result, updated = impl.optimize(X, Y, run.impl["a"], mine, LEARNING_RATE)
    loss, gradients, a_last = _checked(impl, result, mine)
    theirs = ref.optimize(X, Y, run.impl["a"], mine, LEARNING_RATE)
    scales = step_scales(X, Y, run.impl["a"], mine, LEARNING_RATE)
    items = [("cost", None, loss, theirs[0])]
    items += [(key, None, gradients[key], theirs[1][key]) for key in GRADIENTS]
    items += [("a", None, a_last, theirs[2])] + [(key, None, updated[key], theirs[3][key]) for key in PARAMETERS]
    lockstep.compare(items, 1, {(q, None): scales[q] for q, *_ in items}, at=i)
    dtype = run.impl["Wax"].dtype
    per_step = min(lockstep.rtol, FREE_RUNNING_ROUNDING * float(np.finfo(dtype).eps))
    rounding = np.array([per_step * scales[k] for k in STATE])  # not the gap measured: a slip's own is in it
    cost_rounding = per_step * scales["cost"]
    own = ref.optimize(X, Y, run.torch["a"], _state_params(run.torch), LEARNING_RATE)
    after = {"impl": {**updated, "a": a_last.astype(dtype)}, "from_impl": {**theirs[3], "a": theirs[2]}}
    after["torch"] = {**own[3], "a": own[2]}
    if free.comparable_until is None:
        _compare_free(run, (X, Y), i, free, (after, loss, own[0], rounding, cost_rounding))
    run.losses["impl"].append(float(loss))
    run.losses["torch"].append(float(own[0]))
    run.impl, run.torch = after["impl"], after["torch"]


def _state_params(state: dict) -> dict:
    return {k: state[k] for k in PARAMETERS}


def _checked(impl, result, parameters: dict) -> tuple[float, dict, np.ndarray]:
    """optimize's (loss, gradients, a[len(X) - 1]): a number, the five clipped gradients of the parameters' shapes
    and an (n_a, 1) array; ImplementationError (a rejected result) otherwise."""
    impl.expect(
        isinstance(result, (tuple, list)) and len(result) == 3,
        "optimize",
        f"expected (loss, gradients, a[len(X)-1]), got {_describe(result)}",
    )
    loss, gradients, a_last = result
    impl.expect(isinstance(gradients, dict), "optimize", f"gradients should be a dict, got {_describe(gradients)}")
    for key in GRADIENTS:
        shape = parameters[key[1:]].shape
        value = gradients.get(key)
        impl.expect(
            isinstance(value, np.ndarray) and value.shape == shape,
            "optimize",
            f'gradients["{key}"] should be an array of shape {shape}, got {_describe(value)}',
        )
    shape = (parameters["Waa"].shape[0], 1)
    impl.expect(
        isinstance(a_last, np.ndarray) and a_last.shape == shape,
        "optimize",
        f"a[len(X)-1] should be an array of shape {shape}, got {_describe(a_last)}",
    )
    return impl.number("optimize", loss), gradients, a_last


def _compare_free(run: _Run, name: tuple, i: int, free: CheckResult, step: tuple) -> None:
    """Both runs after their step on name i, within the allowance the dynamics give (the module's docstring)."""
    after, loss, own_loss, rounding, cost_rounding = step
    before_impl, before_torch = _flat(run.impl), _flat(run.torch)
    eps = float(np.finfo(before_torch.dtype).eps)
    before = float(np.max(np.abs(before_impl - before_torch)))
    noise = FREE_RUNNING_ROUNDING * eps * largest(before_torch)  # gaps below it are rounding, not dynamics
    magnified = np.array([largest(after["from_impl"][k] - after["torch"][k]) for k in STATE])
    gain = magnified / max(before, noise) if max(before, noise) > 0 else np.ones_like(magnified)
    allowed_before = np.zeros_like(rounding) if run.allowed is None else run.allowed
    run.allowed = gain * float(np.max(allowed_before)) + rounding
    tolerance = FREE_RUNNING_HEADROOM * run.allowed
    sizes = np.array([largest(after["torch"][k]) for k in STATE])
    if float(np.max(tolerance)) > FREE_RUNNING_LIMIT[before_torch.dtype.name] * float(np.max(sizes)):
        free.comparable_until = i
        free.notes.append(f"not comparable from iteration {i}: the dynamics amplified rounding past the limit")
        return
    X, Y = name
    slopes = ref.loss_gradients(X, Y, run.torch["a"], _state_params(run.torch))  # the loss's first-order change
    l1 = [float(np.sum(np.abs(slopes["da_prev" if k == "a" else f"d{k}"]))) for k in STATE]
    cost_tolerance = FREE_RUNNING_HEADROOM * (float(np.dot(l1, allowed_before)) + cost_rounding)
    items = [("cost", None, loss, own_loss)] + [(k, None, after["impl"][k], after["torch"][k]) for k in STATE]
    floors = {("cost", None): cost_tolerance, **{(k, None): t for k, t in zip(STATE, tolerance.tolist())}}
    scales = {("cost", None): abs(float(own_loss)), **{(k, None): s for k, s in zip(STATE, sizes.tolist())}}
    free.compare(items, 1, scales, at=i, rtol=0.0, floors=floors)


def _flat(state: dict) -> np.ndarray:
    return np.concatenate([np.ravel(state[k]) for k in STATE])


SAMPLED = 7  # the course's model() samples dino_names = 7 names, seeds 0 to 6


def _sampled(impl, state: dict, char_to_ix: dict) -> list[str]:
    """SAMPLED names drawn from `state`'s parameters with seeds 0, 1, ...: by the implementation's sample, or (impl
    None) from torch's distributions with the course's seeding (draw k from np.random.seed(seed + 2k))."""
    letters = {i: ch for ch, i in char_to_ix.items()}
    names = []
    for seed in range(SAMPLED):
        try:
            indices = (
                impl.call("sample", _state_params(state), char_to_ix, seed) if impl else _torch_sample(state, seed)
            )
            names.append("".join(letters.get(int(i), "?") for i in indices).strip("\n"))
        except (ImplementationError, TypeError, ValueError) as error:
            names.append(f"(sample: {error})")
    return names


def _torch_sample(state: dict, seed: int, newline: int = 0) -> list[int]:
    """The course's sample, its distributions torch's (torch_ref.charlm.sample_distributions), its draws the
    course's np.random.choice from np.random.seed(seed + 2k)."""
    indices: list[int] = []
    while len(indices) < scratch.charlm.SAMPLE_LENGTH and (not indices or indices[-1] != newline):
        y = ref.sample_distributions(_state_params(state), [*indices, 0])[:, -1]
        cdf = np.cumsum(y) / np.sum(y)
        indices.append(
            int(np.searchsorted(cdf, np.random.RandomState(seed + 2 * len(indices)).random_sample(), "right"))
        )
    return indices if indices[-1] == newline else [*indices, newline]
