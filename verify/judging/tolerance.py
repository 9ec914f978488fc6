"""The tolerance model: each quantity is judged against the rounding error its own computation can make.

A value computed in floating point carries an error proportional to the size of the terms it
was computed from, not to its own size: Z = W A + b, summing terms of opposite sign, can
cancel to near zero and still carry the rounding error of its large terms. So each compared
quantity gets a *scale* E, the size of the terms it is computed from plus the error its
inputs carry into it, and the two sides agree when

    max |impl - torch| <= rtol * E (+ the rounding of P - lr dW, for an update step)

with the dtype's rtol (DEFAULT_RTOL: torch.testing.assert_close's default), plus UNDERFLOW_STEPS
steps of the dtype's subnormal grid (1.4e-45 in float32, 4.9e-324 in float64; see underflow), below
which nothing is finer. That grid is the only absolute floor: a gradient of 1e-10 has a scale of
about 1e-10 and is compared as precisely as one of 1e-1. A row whose tolerance passes RESOLUTION
of the reference's own size agrees but is "unresolved" (see compare.py).

Scales are computed from the reference side (torch's activations and the shared parameters),
never from the implementation under test, one scalar per quantity and layer, in O(size) work.
Each is the size of the quantity's own terms (what its own rounding scales with) plus the
error its inputs carry into it:

    Z[l]    ||W[l]||_2 max|A[l-1]| + max|b[l]|  +  ||W[l]||_2 C_A[l-1]
    A[l]    max|A[l]|                          +  max|g'| E_Z[l]
    J       |J| (+ (1/m) sum |Z[L]| for bce, ce) +  (1/m) sum |A[L] - Y| E_Z[L]
    dZ[L]   max|Y|                             +  E_A[L]                  (dZ[L] = A[L] - Y)
    dZ[l]                                         max|g'| E_dA[l] + max|g''| max|dA[l]| E_Z[l]
    dA[l-1] ||W[l]^T||_2 max|dZ[l]|            +  ||W[l]^T||_2 C_dZ[l]
    dW[l]                                         E_dZ[l] max|A[l-1]| + mean|dZ[l]| C_A[l-1]
    db[l]                                         E_dZ[l]
    update                                        lr E_dW[l] (lr E_db[l]), plus 4 eps max|P|
                                                  for rounding P - lr dP on each side

With L2 (lambd > 0) J gains its penalty (lambd / 2m) sum W^2 and each E_dW[l] (lambd / m) max|W[l]|,
the sizes of the terms they add.

||W||_2 is the largest 2-norm of a row of W (of a column, for W^T). C is what a quantity
carries into the next layer: its own size plus the error it received, passed on through g
with the root mean square of g'(Z) over the layer's entries (C_A = max|A| + rms|g'| E_Z, and
the same for dZ). Rounding errors have random signs, so they add up like 2-norms: a
worst-case bound (1-norms, max|g'|) would grow by a factor of about sqrt(n) per layer and
blunt the check in deep networks. A dead relu unit carries no error, which balances he
initialisation's sqrt(2).

A scale computed from values near the top of the dtype's range may overflow to inf: its quantity
is then reported as not comparable (overflow) (see compare.py), never held to an infinite tolerance.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..keys import EntriesKey, Key, split_key
from ..layers import Backflow, Inflow
from .adam import bias_correction

if TYPE_CHECKING:
    from ..network import Network, Point
    from ..optimization import OptimizerStep

# Per-dtype rtol: torch.testing.assert_close's defaults, the reference point for "equal". Each quantity's
# rtol applies to its own scale; the only absolute term is the subnormal grid (UNDERFLOW_STEPS).
DEFAULT_RTOL = {"float64": 1e-7, "float32": 1.3e-6}
RESOLUTION = 0.1  # a tolerance above this fraction of the reference's size cannot tell right from wrong
UNDERFLOW_STEPS = 4  # subnormal steps every tolerance includes (see underflow)
SUBNORMAL = {
    2: np.finfo(np.float16).smallest_subnormal,
    4: np.finfo(np.float32).smallest_subnormal,
    8: np.finfo(np.float64).smallest_subnormal,
}

# Gradient checking always runs in float64: the course reads a relative difference below
# 1e-7 as right; per layer we allow 1e-6 plus the finite-difference rounding floor.
GRADCHECK_RTOL = 1e-6
GRADCHECK_EPSILON = 1e-7
COST_ROUNDING = 10  # eps |J|: a cost's rounding, and a centred difference's floor, eps |J| / epsilon


def cost_rounding(J, AL, Y: np.ndarray, loss: str, dtype=np.float64) -> float:
    """How far a cost J computed from AL in `dtype` may round: eps (COST_ROUNDING |J| + cost_conditioning), an
    absolute floor of the cost's rows and of the gradient check's centred differences."""
    eps = float(np.finfo(dtype).eps)
    return eps * (COST_ROUNDING * abs(float(J)) + cost_conditioning(AL, Y, loss))


def cost_conditioning(AL, Y: np.ndarray, loss: str) -> float:
    """The rounding, in eps, of a cross-entropy written with log(1 - AL) (the course's): AL rounds by eps AL, which
    1 - AL near 1 magnifies into eps AL / (1 - AL) in log(1 - AL); its mean over the examples where Y = 0 counts."""
    if loss != "bce":
        return 0.0
    A = np.asarray(AL, dtype=np.float64)
    return float(np.mean(np.sum((1 - Y) * A / np.maximum(1 - A, np.finfo(np.float64).eps), axis=0)))


CHECKER_COST_ROUNDING = 8  # eps x its size: a learner's gradient checker's cost against the verifier's (same point)

# Free-running training (see training.py): the allowance grows with the measured dynamics.
FREE_RUNNING_ROUNDING = 2  # eps per step (times the step's scale): the rounding one correct step may differ by
FREE_RUNNING_HEADROOM = 10  # the allowance is an estimate: the gap must stay within 10 times it
FREE_RUNNING_LIMIT = {"float64": 1e-6, "float32": 1e-2}  # relative: beyond it, two runs are not comparable
LR_ROUNDING = 8  # eps: the learning rate in force, lr0 / (1 + rate epoch), may round by this much (relative)

# max |g'(z)| and max |g''(z)| over all z: how much an error in Z moves A and g'(Z).
SLOPES = {
    "sigmoid": (0.25, 0.0963),  # sigma'' peaks at 1/(6 sqrt 3)
    "tanh": (1.0, 0.7699),  # tanh'' peaks at 4/(3 sqrt 3)
    "relu": (1.0, 0.0),
    "leaky_relu": (1.0, 0.0),
    "linear": (1.0, 0.0),
    "softmax": (0.5, 0.0),  # |dA_i/dz| summed over z is 2 A_i (1 - A_i) <= 1/2; output only
}
LOSS_READS_LOGITS = ("sigmoid", "softmax")  # bce and ce are computed from Z[L], not from A[L]
UPDATE_ROUNDING = 4  # P - lr dP and the verifier's (P - lr dP) - P each round once per side
MOMENT_ROUNDING = 2  # eps per moment: 1 - beta rounds once on each side (see optimizer_floors)


def _may_overflow(function):
    """A scale computed from values near the top of the dtype's range may overflow to inf (or inf * 0 to nan): the
    comparison reports that quantity as not comparable (overflow), so NumPy is not to warn about it on the way."""

    @functools.wraps(function)
    def scales(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return function(*args, **kwargs)

    return scales


@_may_overflow
def term_scales(network: Network, point: Point, ref: dict, learning_rate: float | None = None) -> dict:
    """{(quantity, layer): E} for Z, A, cost, dZ, dA and each parameter's gradient (and the parameters themselves,
    with a learning rate, 0 included), each layer's through its kind's scale rule (layers.LayerKind.gains).

    `ref` holds the reference's A{l} and Z{l} (l = 1..L), dA{l} (l = 1..L-1, course convention) and "cost".
    With dropout (keep_probs, one per hidden layer), A[l] is the dropped A, g(Z) D / keep_prob: the error
    it carries from Z is 1 / keep_prob times g's, and so is what dZ[l] receives from dA[l].
    """
    activations, keep_probs, X, Y = network.activations, network.keep_probs, point.X, point.Y
    L = len(activations)
    A = [X] + [ref[f"A{l}"] for l in range(1, L + 1)]
    size = [largest(X) if point.X_largest is None else point.X_largest] + [largest(a) for a in A[1:]]  # max |A[l]|
    scaled = [1.0] + [1.0 / p for p in (keep_probs or (1.0,) * (L - 1))] + [1.0]  # 1 / keep_prob of A[l]
    typical: list[float] = (  # the slope each A[l] carries Z[l]'s error on with; A[0] = X has none (never read)
        [math.nan]
        + [
            _typical_slope(name, a) if s == 1 else SLOPES[name][0]  # a dropped A is not g(Z): g's bound
            for name, a, s in zip(activations, A[1:], scaled[1:])
        ]
    )
    layer_params = [{}] + [network.layer_params(point.params, l) for l in range(1, L + 1)]
    E: dict[tuple[str, int], float] = {}
    carried = [0.0]  # what A[l] carries into the next layer (the data is exact)
    into: list[Inflow | None] = [None]  # what reaches each layer l = 1..L
    for l in range(1, L + 1):
        reaching = Inflow(layer_params[l], A[l - 1], size[l - 1], carried[l - 1])
        into.append(reaching)
        E_Z = E[Key("Z", l)] = network.kind(l).forward_scale(reaching)
        E[Key("A", l)] = size[l] + SLOPES[activations[l - 1]][0] * scaled[l] * E_Z
        carried.append(size[l] + typical[l] * scaled[l] * E_Z)
    D = A[L] - Y  # dZ[L]
    m = Y.shape[1]
    E[Key("cost", L)] = abs(ref["cost"]) + float(np.abs(D).sum()) / m * E[Key("Z", L)]
    if activations[-1] in LOSS_READS_LOGITS:  # log-sigmoid, log-softmax: terms of the size of Z[L] that cancel
        E[Key("cost", L)] += float(np.abs(ref[f"Z{L}"]).sum()) / m

    flow = _Flow(size, scaled, typical, into, carried)
    _backward_terms(E, network, ref, D, largest(Y) + E[Key("A", L)], flow)
    if network.lambd:  # L2: the cost's penalty (lambd / (2m)) sum W^2, a sum of squares, and dW's (lambd / m) W
        lambd = network.lambd
        decayed = [(name, l) for l in range(1, L + 1) for name in network.kind(l).decayed]
        E[Key("cost", L)] += lambd / (2 * m) * sum(float(np.sum(layer_params[l][name] ** 2)) for name, l in decayed)
        for name, l in decayed:
            E[Key(f"d{name}", l)] += lambd / m * largest(layer_params[l][name])
    if learning_rate is not None:  # a rate decayed to 0 moves nothing, and its step is still compared
        for name, l in network.parameter_keys():
            E[Key(name, l)] = learning_rate * E[Key(f"d{name}", l)]
    return E


@dataclass(frozen=True)
class _Flow:
    """What term_scales' forward pass knows of each layer l = 0..L: max |A[l]|, 1 / keep_prob, the typical slope,
    what reached the layer (A[0] none) and the error A[l] carries on."""

    size: list
    scaled: list
    typical: list
    into: list
    carried: list


def _backward_terms(E: dict, network: Network, ref: dict, D: np.ndarray, E_dZ: float, flow: _Flow) -> None:
    """term_scales' dZ[l], the parameters' gradients and dA[l-1], from dZ[L] = D (its scale E_dZ) back, into E."""
    activations, scaled, typical = network.activations, flow.scaled, flow.typical
    carried_dZ = E_dZ
    dZ_max, dZ_mean = largest(D), largest(np.abs(D).mean(axis=1))
    for l in range(len(activations), 0, -1):
        E[Key("dZ", l)] = E_dZ
        scales = network.kind(l).backward_scales(flow.into[l], Backflow(E_dZ, dZ_mean, dZ_max, carried_dZ))
        E_dA = E[Key("dA", l - 1)] = scales.pop("dA")
        for name, scale in scales.items():
            E[Key(f"d{name}", l)] = scale
        if l > 1:
            slope, curvature = SLOPES[activations[l - 2]]
            slope, curvature = slope * scaled[l - 1], curvature * scaled[l - 1]  # dropout: dZ = dA D / keep_prob g'(Z)
            dA = ref[f"dA{l - 1}"]
            dA_max = largest(dA)
            from_Z = curvature * dA_max * E[Key("Z", l - 1)]  # g'(Z) moves with Z's own error
            E_dZ = slope * E_dA + from_Z
            carried_dZ = typical[l - 1] * scaled[l - 1] * E_dA + from_Z
            dZ_max, dZ_mean = slope * dA_max, slope * largest(np.abs(dA).mean(axis=1))


def _typical_slope(name: str, A: np.ndarray) -> float:
    """The root mean square of g'(Z) over a layer's entries, from A = g(Z): how much of Z's error A carries on."""
    if name == "sigmoid":
        g_prime = A * (1 - A)
    elif name == "tanh":
        g_prime = 1 - A * A
    elif name in ("relu", "leaky_relu"):
        alive = np.count_nonzero(A > 0) / A.size if A.size else 1.0  # np.mean's value, in a third of its time
        return (alive + (1 - alive) * (0.01**2 if name == "leaky_relu" else 0.0)) ** 0.5
    else:  # linear; softmax (output only) by its bound
        return SLOPES[name][0]
    return float(np.sqrt(np.mean(g_prime * g_prime))) if A.size else SLOPES[name][0]


@_may_overflow
def update_floors(params: dict, dtype, sizes=None) -> dict:
    """{("W"|"b", l): the rounding of P - lr dP and of the step taken}; sizes: max |entry| of each, if measured."""
    sizes = [largest(value) for value in params.values()] if sizes is None else sizes
    return {Key(*split_key(k)): UPDATE_ROUNDING * float(np.finfo(dtype).eps) * s for k, s in zip(params, sizes)}


def largest(array) -> float:
    """max |entry| (0 for no entries), in two passes without a temporary |array|."""
    array = np.asarray(array)
    return float(np.maximum(array.max(), -array.min())) if array.size else 0.0


@_may_overflow
def optimizer_scales(step: OptimizerStep, grads: dict, scales: dict) -> dict:
    """{(quantity, layer): E} for one optimiser step's state (v_dW, s_dW, v_corrected_dW, ... of layer l) and
    its step (W, b), all from the shared state before the step and the reference's gradients.

    The state before the step is exact (both sides start from it); the gradients carry their
    own error (scales[("dW", l)]). Adam's step is judged entry by entry: its scale is an array,
    because lr v_corrected / (sqrt(s_corrected) + epsilon) divides each entry by its own size,
    and an entry with a small s magnifies its gradient's error where a large one does not:

        E_step = lr (E_vc / d + |v_corrected| E_sqrt / d^2),  d = sqrt(s_corrected) + epsilon,
        E_sqrt = E_sc / sqrt(s_corrected)  (the error of sqrt(s_corrected); 0 where s is exactly 0)
    """
    optimizer, state, settings, t, learning_rate = step.optimizer, step.state, step.settings, step.t, step.learning_rate
    torch_state = step.torch_state
    E: dict[tuple[str, int], float | np.ndarray] = {}
    if optimizer == "gd":
        return E
    for key, g in grads.items():
        if key not in state["v"]:
            continue
        q, l = split_key(key)
        g_size, E_g = np.abs(g), scales.get(EntriesKey(q, l), scales[Key(q, l)])
        if optimizer == "momentum":
            beta = settings["beta"]
            E[(f"v_{q}", l)] = E_v = largest(beta * np.abs(state["v"][key]) + (1 - beta) * (g_size + E_g))
            E[(q[1:], l)] = learning_rate * E_v
            continue
        beta1, beta2 = settings["beta1"], settings["beta2"]
        c1, c2 = bias_correction(beta1, t), bias_correction(beta2, t)
        E_v = beta1 * np.abs(state["v"][key]) + (1 - beta1) * (g_size + E_g)
        E_s = beta2 * np.abs(state["s"][key]) + (1 - beta2) * (g_size * g_size + 2 * g_size * E_g)
        E[(f"v_{q}", l)], E[(f"s_{q}", l)] = largest(E_v), largest(E_s)
        E[(f"v_corrected_{q}", l)], E[(f"s_corrected_{q}", l)] = largest(E_v) / c1, largest(E_s) / c2
        root = np.sqrt(torch_state["s_corrected"][key])
        d = root + settings["epsilon"]
        E_sqrt = np.divide(E_s / c2, root, out=np.zeros_like(root), where=root > 0)
        E[(q[1:], l)] = learning_rate * (E_v / c1 / d + np.abs(torch_state["v_corrected"][key]) * E_sqrt / d / d)
    return E


@_may_overflow
def optimizer_floors(step: OptimizerStep, grads: dict, dtype) -> dict:
    """{(v_dW|s_dW|v_corrected_dW|s_corrected_dW|W|b, l): the rounding of the moments' own coefficients}.

    1 - beta is a number rounded to eps/2 of 1, whatever beta is: the course's beta v + (1 - beta) g and
    torch's v + (1 - beta) (g - v) part by up to eps/2 (|v| + |g|) even where beta v is far smaller (a
    beta of 1e-21 leaves torch's v at exactly 0 where the course keeps beta v). Likewise s with g^2; the
    corrected moments are those over 1 - beta^t, and Adam's step carries them as it carries its
    moments' errors (optimizer_scales' E_step, with these floors for E_vc and E_sc).
    """
    optimizer, state, settings, t, learning_rate = step.optimizer, step.state, step.settings, step.t, step.learning_rate
    torch_state = step.torch_state
    if optimizer == "gd":
        return {}
    eps = float(np.finfo(dtype).eps)
    floors = {}
    moments = [("v", "beta" if optimizer == "momentum" else "beta1", 1)] + (
        [("s", "beta2", 2)] if optimizer == "adam" else []
    )
    for key, g in grads.items():
        if key not in state["v"]:
            continue
        q, l = split_key(key)
        entries = {}  # each entry's rounding: Adam divides each entry by its own size
        for name, beta, power in moments:
            entries[name] = MOMENT_ROUNDING * eps * (np.abs(state[name][key]) + np.abs(g) ** power)
            floors[(f"{name}_{q}", l)] = largest(entries[name])
            if optimizer == "adam":
                entries[name] = entries[name] / bias_correction(settings[beta], t)
                floors[(f"{name}_corrected_{q}", l)] = largest(entries[name])
        if optimizer == "momentum":
            floors[(q[1:], l)] = learning_rate * floors[(f"v_{q}", l)]
        else:
            root = np.sqrt(torch_state["s_corrected"][key])
            d = root + settings["epsilon"]
            E_sqrt = np.where(root > 0, entries["s"] / np.where(root > 0, root, 1.0), np.sqrt(entries["s"]))
            floors[(q[1:], l)] = learning_rate * largest(
                entries["v"] / d + np.abs(torch_state["v_corrected"][key]) * E_sqrt / d / d
            )
    return floors


@_may_overflow
def gradient_entry_scales(network: Network, point: Point, ref: dict, scales: dict, derivative) -> dict:
    """{("dW"|"db", l, "entries"): E per entry}: the error each gradient entry can carry, from its own terms.

    A layer's scale bounds its largest entry; an entry computed from small terms (a unit alive on
    few examples, a small input) carries an error as small as they are, which Adam, dividing each
    entry by its own size, needs to see. With dZ[l] = dA[l] g'(Z[l]) carrying at most
    |g'(Z)| E_dA[l] per entry (E_A[L] at the output, dZ[L] = A[L] - Y) and A[l-1] at most E_A[l-1]:

        E_dW[l] = (1/m) (D |A[l-1]|^T + |dZ[l]| |A[l-1]|^T) + mean over examples of |dZ[l]| E_A[l-1]
        E_db[l] = mean over examples of (D + |dZ[l]|),   D = |g'(Z[l])| E_dA[l]  (E_A[L] at l = L)

    (a dense layer's; another kind's are its entry_scales, or none: its layer's scale serves every entry).
    `derivative(name, Z)` is g'(Z), entry by entry, from the reference. With L2, a decayed parameter's gains
    (lambd / m) |P|; with dropout, g'(Z[l]) is taken times D[l] / keep_prob[l], as dZ[l] is.
    """
    activations, keep_probs, masks, X, Y = network.activations, network.keep_probs, point.masks, point.X, point.Y
    L, m = len(activations), Y.shape[1]
    A = [X] + [ref[f"A{l}"] for l in range(1, L + 1)]
    E = {}
    for l in range(L, 0, -1):
        if l == L:
            dZ = np.abs(A[L] - Y)
            D = np.full_like(dZ, scales[Key("A", L)])
        else:
            slope = np.abs(derivative(activations[l - 1], ref[f"Z{l}"]))
            if masks is not None and masks[l - 1] is not None:
                assert keep_probs is not None, "masks come with their keep_probs"
                slope = slope * masks[l - 1] / keep_probs[l - 1]
            dZ, D = np.abs(ref[f"dA{l}"]) * slope, slope * scales[Key("dA", l)]
        carried = scales[Key("A", l - 1)] if l > 1 else 0.0
        kind = network.kind(l)
        entries = kind.entry_scales(D + dZ, dZ, A[l - 1], carried)
        for name, value in (entries or {}).items():
            if network.lambd and name in kind.decayed:
                value = value + network.lambd / m * np.abs(point.params[f"{name}{l}"])
            E[EntriesKey(f"d{name}", l)] = value
    return E


def underflow(a, b) -> float:
    """A few steps of the narrower float dtype's subnormal grid: a value that underflowed below the smallest
    normal number is no finer than that, whatever its terms (e.g. a dead network's float32 dW of 1e-41)."""
    sizes = [x.dtype.itemsize for x in (a, b) if isinstance(x, np.ndarray) and x.dtype.kind == "f"]
    return UNDERFLOW_STEPS * float(SUBNORMAL.get(min(sizes), 0.0)) if sizes else 0.0


# The unit checks (units.py) judge one course function on small hand-made inputs, without a network around
# it: their scales are worst-case sums of absolute terms (1-norms), not term_scales' 2-norm model, because a
# handful of entries carries no statistics to lean on. They apply to those checks only.


def unit_linear_scale(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    """max of |W| |A_prev| + |b|: what Z = W A_prev + b's rounding is relative to, in a unit check."""
    return float(np.max(np.abs(W.astype(np.float64)) @ np.abs(A_prev.astype(np.float64)) + np.abs(b)))


def unit_gradient_scales(dZ_size: np.ndarray, A_prev: np.ndarray, W: np.ndarray) -> tuple[float, float, float]:
    """(dW, db, dA_prev) scales of one linear backward step in a unit check, from what bounds |dZ| (m columns):
    max (1/m) |dZ| |A_prev|^T, max (1/m) sum over columns of |dZ|, max |W|^T |dZ|."""
    size = np.abs(np.asarray(dZ_size, dtype=np.float64))
    m = size.shape[1]
    return (
        float(np.max(size @ np.abs(A_prev.T))) / m,
        float(np.max(np.sum(size, axis=1))) / m,
        float(np.max(np.abs(W.T) @ size)),
    )


def unit_step_scale(step_size: float, P) -> float:
    """A unit check's update step P_new - P: the step's own size plus UPDATE_ROUNDING times max |P|, the rounding
    of P - lr dP on each side relative to the parameter it moves (rtol, at least the dtype's eps, multiplies it)."""
    return step_size + UPDATE_ROUNDING * largest(P)
