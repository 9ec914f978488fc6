"""The verifier's checks at one set of parameters: forward, backward, gradient checking.

(Training, in lockstep and free-running, is in training.py.) Each check folds (implementation,
torch) pairs into a CheckResult's rows (compare.py), one per quantity and layer, in the order
the quantities are computed, so the first failing row is the first wrong line. Tolerances
come from tolerance.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

import torch_ref
from torch_ref.steps import activation as torch_activation

from .. import catalogue
from ..errors import ImplementationError
from ..impl import Adapter
from ..judging.compare import CheckResult, gradient_agreement
from ..judging.kinks import KINKED, kink_affects, kink_flip
from ..judging.slips import Evidence, name_slips
from ..judging.ties import Ties, pool_ties, set_aside
from ..judging.tolerance import GRADCHECK_EPSILON, GRADCHECK_RTOL, cost_rounding, term_scales
from ..keys import split_key
from ..layers import DENSE, torch_model
from ..network import Point
from .finite_differences import centred_differences

GRADCHECK_EXAMPLES = 64  # finite differences on the first 64 examples: the math does not depend on m
GRADCHECK_ENTRIES = 16  # entries perturbed per parameter array, at most
PROBE_EXAMPLES = 64  # the kink probe's examples: the first (on every kink) and the next 63 as they are


def compare_at_point(impl: Adapter, model, point: Point, where: str, results: tuple[CheckResult, CheckResult]) -> None:
    """Forward (Z, A, J) and backward (dZ, each parameter's gradient, dA) of both sides at one point (parameters and
    dropout masks; an implementation that draws its own hands torch those it drew), into results (forward,
    backward)."""
    forward, backward = results
    X, Y, params = point.X, point.Y, point.params
    network, m, L = impl.network, X.shape[1], impl.L
    try:
        AL, caches = impl.forward(X, params, point.masks)
        masks = impl.masks_of(caches) if impl.draws_masks else point.masks
        values = impl.layer_values(AL, caches)
        cost = impl.cost(AL, Y, caches)
    except ImplementationError as error:
        forward.error = forward.error or error
        backward.skipped = backward.skipped or f"{impl.label}'s forward pass {error.what} (see forward)"
        return
    torch_ref.load_params(model, params)
    ref = torch_ref.forward_backward(model, X, Y, impl.loss, impl.lambd, masks, impl.keep_probs)
    scales = term_scales(network, replace(point, masks=masks), ref)
    items = [
        (q, l, values[f"{q}{l}"], ref[f"{q}{l}"]) for l in range(1, L + 1) for q in ("Z", "A") if f"{q}{l}" in values
    ]
    rounds = cost_rounding(ref["cost"], ref[f"A{L}"], Y, impl.loss, X.dtype) if forward.rtol > 0 else 0.0
    floor = {("cost", L): rounds}  # the course's log(1 - AL) as AL saturates (rtol 0: exact agreement)
    forward.compare(items + [("cost", L, cost, ref["cost"])], m, scales, at=where, floors=floor)
    at = replace(point, masks=masks)
    name_slips(
        forward,
        _covered(impl, ("forward", "cost", "forward and backward")),
        Evidence(values | {"cost": cost}, ref, at, network),
    )
    try:
        grads = impl.backward(AL, Y, caches, params)
    except ImplementationError as error:
        backward.error = backward.error or error
        return
    kink = kink_flip(values, ref, impl.activations, scales, forward.rtol)
    if kink is not None:
        backward.notes.append(kink_note(f"at the {where}", kink, impl.activations))
    tied = pool_ties(network, X, ref)  # max-pool windows with tied maxima: both sides right, differently
    backward.notes += [tie.note(where) for tie in tied]
    compared = set_aside(grads, ref, tied)
    items = []
    for l in range(L, 0, -1):  # the order backprop computes them in
        keys = [("dZ", l)] + [(f"d{name}", l) for name in network.kind(l).names] + [("dA", l - 1)]
        items += [
            (q, k, compared[f"{q}{k}"], ref[f"{q}{k}"])
            for q, k in keys
            if f"{q}{k}" in grads
            and (kink is None or not kink_affects(q, k, kink))
            and not any(tie.affects(q, k) for tie in tied)
        ]
    backward.compare(items, m, scales, at=where)
    name_slips(backward, _covered(impl, ("backward", "forward and backward")), Evidence(grads, ref, at, network))
    if not network.dense:
        kind_hints(backward, network, grads, ref)


def _covered(impl: Adapter, roles: tuple[str, ...]) -> tuple[catalogue.CourseFunction, ...]:
    """The course functions whose slips a check in `roles` names: its API's, and L2's and dropout's where --lambd
    and --keep-prob ask (the course's regularised functions read a dense network's W and b)."""
    dense = impl.network.dense
    options = tuple(name for name, on in (("lambd", impl.lambd), ("keep_prob", impl.keep_probs)) if on and dense)
    return catalogue.in_play(impl.API, roles, options)


def kind_hints(result: CheckResult, network, values: dict, ref: dict) -> None:
    """Each broken row of a layer of another kind than dense gets the slip its kind names, if any, before what the
    comparison itself saw."""
    for (quantity, layer), row in result.rows.items():
        if row.ok or not 1 <= layer <= network.L or f"{quantity}{layer}" not in values:
            continue
        kind = network.kind(layer)
        if kind is not DENSE:
            context = {"layer": layer, "values": values, "ref": ref}
            named = kind.hints(quantity, values[f"{quantity}{layer}"], ref.get(f"{quantity}{layer}"), context)
            row.hint = "; ".join(hint for hint in (named, row.hint) if hint)


def kink_note(where: str, kink: int | None, activations) -> str:
    """What was left uncompared where a unit sat on its kink; kink None: at several points, different layers."""
    unit = "a relu or leaky_relu unit" if kink is None else f"a {activations[kink - 1]} unit of layer {kink}"
    layers = "the layers at and below it" if kink is None else f"layers 1-{kink}"
    return (
        f"{where}, {unit} had Z on opposite sides of its kink on the two sides, within rounding of 0, where "
        f"either derivative is right: the gradients of {layers} were not compared there"
    )


def kink_probe(point: Point, network) -> Point:
    """The first PROBE_EXAMPLES examples of point, with parameters at which every pre-activation of the first
    is exactly 0.

    With x = 0 and zero offsets (each kind's: a dense layer's biases), Z[l] = W[l] g(0) + 0 = 0 exactly on both
    sides (for g(0) = 0), so relu'(0) and leaky_relu'(0) are compared, which random data almost never does. Only
    the first example sits on the kinks and the math does not depend on m: the probe is not worth a second pass
    over the whole batch.
    """
    X_probe = np.array(point.X[:, :PROBE_EXAMPLES])
    X_probe[:, 0] = 0
    offsets = {f"{name}{l}" for l in range(1, network.L + 1) for name in network.kind(l).offsets}
    probe = {k: (np.zeros_like(v) if k in offsets else v) for k, v in point.params.items()}
    masks = None if point.masks is None else [None if D is None else D[:, :PROBE_EXAMPLES] for D in point.masks]
    return Point(X_probe, point.Y[:, :PROBE_EXAMPLES], probe, masks)


def check_gradients(impl: Adapter, X, Y, params, seed: int, masks=None) -> CheckResult:
    """The implementation's own gradients against centred differences of its own cost, in float64.

    A centred difference of a float64 cost J carries a rounding error of about eps |J| / epsilon
    per entry: a gradient below that floor (deep networks with small weights) cannot be
    resolved, and its row says "unresolved" rather than "ok".
    """
    result = CheckResult("gradcheck", "gradcheck", GRADCHECK_RTOL)
    X64 = np.ascontiguousarray(X[:, :GRADCHECK_EXAMPLES], dtype=np.float64)
    Y64 = np.ascontiguousarray(Y[:, :GRADCHECK_EXAMPLES], dtype=np.float64)
    P64 = {k: v.astype(np.float64) for k, v in params.items()}
    # with dropout, one mask held fixed for every evaluation: a fresh one each time would make J(theta + epsilon)
    # and J(theta - epsilon) different functions, whose difference measures nothing
    masks = (
        None if masks is None else [None if D is None else D[:, :GRADCHECK_EXAMPLES].astype(np.float64) for D in masks]
    )
    if impl.draws_masks and masks is not None:  # the masks it draws: the same at every call, or nothing to hold fixed
        try:
            masks, unheld = _masks_it_draws(impl, X64, P64, masks)
        except ImplementationError as error:
            result.error = error
            return result
        if unheld:
            result.skipped = unheld
            return result
    indices = _entries_to_compare(result, impl, Point(X64, Y64, P64, masks), seed)
    if result.skipped:
        return result

    def cost_of(p: dict) -> float:
        AL, caches = impl.forward(X64, p, masks)
        return impl.cost(AL, Y64, caches)

    try:
        AL, caches = impl.forward(X64, P64, masks)
        J = impl.cost(AL, Y64, caches)
        grads = impl.backward(AL, Y64, caches, P64)
        approx = centred_differences(cost_of, P64, GRADCHECK_EPSILON, indices)
    except ImplementationError as error:
        result.error = error
        return result
    noise = cost_rounding(J, AL, Y64, impl.loss) / GRADCHECK_EPSILON
    tied = [tie for tie in pool_ties(impl.network, X64, impl.layer_values(AL, caches)) if tie.passed_on]
    result.notes += [tie.gradcheck_note() for tie in tied]
    _record_gradients(result, impl.network, (grads, approx), indices, noise, tied)
    return result


def _masks_it_draws(impl: Adapter, X64: np.ndarray, P64: dict, masks: list) -> tuple[list | None, str]:
    """(the dropout masks an implementation that draws its own draws, why they cannot be held fixed or ""): two
    forward passes must draw the same masks, else finite differences compare two different functions."""
    drawn = [impl.masks_of(impl.forward(X64, P64, masks)[1]) for _ in range(2)]
    if any((a is None) != (b is None) or (a is not None and not np.array_equal(a, b)) for a, b in zip(*drawn)):
        return masks, (
            f"{impl.label}'s forward pass draws new dropout masks at every call (it does not seed "
            "NumPy's generator), so finite differences cannot hold a mask fixed"
        )
    return drawn[0], ""


def _entries_to_compare(result: CheckResult, impl: Adapter, point: Point, seed: int) -> dict:
    """{key: the sampled entries of each parameter array}, less those whose step of epsilon crosses a relu's kink
    (a note on result says how many; result is skipped when none is left)."""
    rng = np.random.default_rng([seed, 2])
    indices: dict[str, Iterable[tuple[int, ...]]] = {
        k: _sample_entries(v.shape, GRADCHECK_ENTRIES, rng) for k, v in point.params.items()
    }
    crossing = _kink_crossings(impl.network, point, indices)
    if crossing:
        indices = {k: [i for i in entries if (k, i) not in crossing] for k, entries in indices.items()}
        result.notes.append(
            f"{len(crossing)} sampled entries not compared: a step of epsilon in them moves a relu "
            "unit across its kink, where a centred difference measures neither side's derivative"
        )
        if not any(indices.values()):
            result.skipped = "a step of epsilon in every sampled entry moves a relu unit across its kink"
    return indices


def _record_gradients(
    result: CheckResult, network, pair: tuple[dict, dict], indices: dict, noise: float, tied: list[Ties]
) -> None:
    """One row per parameter's gradient (dW[l], db[l], ...), from the last layer back: the gradients against the
    centred differences (pair), at the compared entries, to the check's rtol above the differences' rounding noise;
    none of those a max-pool tie passed on reaches (`tied`)."""
    grads, approx = pair
    for l in range(network.L, 0, -1):
        for q in network.kind(l).names:
            if not indices[f"{q}{l}"] or any(tie.affects(f"d{q}", l) for tie in tied):
                continue
            picked = tuple(np.array(indices[f"{q}{l}"]).T)
            g, a = grads[f"d{q}{l}"][picked], approx[f"d{q}{l}"][picked]
            row = result.row(f"d{q}", l)
            if not row.record(gradient_agreement(g, a, result.rtol, noise * np.sqrt(g.size))):
                row.explain(g, a)


def _kink_crossings(network, point: Point, indices: dict) -> set:
    """The sampled entries (key, index) whose step of +-epsilon moves a relu or leaky_relu unit of some
    example across its kink (or off it, from exactly 0): there J(theta + epsilon) and J(theta - epsilon)
    take different branches, and their centred difference measures neither side's derivative.

    The units' sides come from torch's forward pass, not from the implementation under test.
    """
    X, params, masks, keep_probs = point.X, point.params, point.masks, network.keep_probs
    kinked = [l for l, name in enumerate(network.activations[:-1], start=1) if name in KINKED]
    if not kinked:
        return set()
    model = torch_model(network, params)

    def sides(p: dict) -> list:
        torch_ref.load_params(model, p)
        Z = torch_ref.pre_activations(model, X, masks, keep_probs)
        return [Z[f"Z{l}"] > 0 for l in kinked]

    torch_ref.load_params(model, params)
    Z = torch_ref.pre_activations(model, X, masks, keep_probs)
    reachable = _layers_reaching_a_kink(network, point, Z, kinked)
    indices = {key: entries for key, entries in indices.items() if split_key(key)[1] in reachable}
    if not indices:
        return set()

    at_theta, crossing = [Z[f"Z{l}"] > 0 for l in kinked], set()  # the units' sides at theta, from the pass above
    for key, entries in indices.items():
        theta = params[key]
        for i in entries:
            original = theta[i]
            for step in (GRADCHECK_EPSILON, -GRADCHECK_EPSILON):
                theta[i] = original + step
                moved = any(np.any(a != b) for a, b in zip(sides(params), at_theta))
                theta[i] = original
                if moved:
                    crossing.add((key, i))
                    break
    return crossing


def _layers_reaching_a_kink(network, point: Point, Z: dict, kinked: list) -> set:
    """The layers k a step of epsilon in a parameter of can move some unit of a kinked layer across its kink.

    A step of epsilon in W[k] or b[k] moves Z[k] by at most epsilon max(1, |A[k-1]|), and each later layer by at
    most that times its kind's reach (the max row sum of |W|) (every hidden activation is 1-Lipschitz)."""
    X, masks, activations, keep_probs = point.X, point.masks, network.activations, network.keep_probs
    A = {
        0: X,
        **{
            l: torch_activation(activations[l - 1], Z[f"Z{l}"])
            * (1 if masks is None or masks[l - 1] is None else masks[l - 1] / keep_probs[l - 1])
            for l in range(1, len(activations))
        },
    }
    gap = {l: float(np.min(np.abs(Z[f"Z{l}"]))) for l in kinked}
    reachable = set()
    for k in range(1, len(activations) + 1):
        moved = GRADCHECK_EPSILON * max(1.0, float(np.max(np.abs(A[k - 1]))))
        for l in range(k, len(activations)):
            if l > k:
                moved *= network.kind(l).reach(network.layer_params(point.params, l)) / (
                    keep_probs[l - 2] if keep_probs else 1
                )
            if l in gap and gap[l] <= moved:
                reachable.add(k)
    return reachable


def _sample_entries(shape: tuple[int, ...], k: int, rng) -> list[tuple[int, ...]]:
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= k else np.sort(rng.choice(size, k, replace=False))
    return [tuple(int(i) for i in np.unravel_index(f, shape)) for f in flat]
