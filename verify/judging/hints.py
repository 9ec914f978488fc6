"""Hints: what the numbers of a failed comparison suggest, given only when they fit a classic slip.

Each hint tests a hypothesis numerically (the value is m times the expected one, it equals
the cross-entropy without its (1-Y) term, layer l's backward used layer k's cache, ...);
where no hypothesis fits, there is no hint, rather than a guess. The optimisation week's slips (decays,
momentum, Adam, a course loop's calls) are in optimizer_hints.py; the measure of a fit in hint_fits.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import torch_ref

from .hint_fits import EXPLAINED, FIT, matches
from .optimizer_hints import decay_slips, fitting_slip, loop_slip, optimizer_slips, rate_slip

__all__ = ["decay_slips", "fitting_slip", "loop_slip", "matches", "optimizer_slips", "rate_slip"]


NAN_WHERE_FINITE = (  # a function's own check (unit_harness): in a network check, nan is a divergence's
    "it holds nan where the expected value is finite: a None stored into a float array reads nan (a value an "
    "exercise's `= None` left), as do 0/0 and the log of a negative number"
)


def diagnose(a, b, m: int) -> str:
    """A hint when the implementation's value a relates to the torch value b as a classic slip would."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:  # a shape mismatch is said as one: there is no difference in value to show
        return "the shape is transposed" if a.shape == b.shape[::-1] else f"shape {a.shape} vs torch {b.shape}"
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))) or not np.any(b):
        return ""
    size = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
    a, b = a / size, b / size  # every hypothesis is a ratio: on this scale, values near overflow do not overflow
    gap = float(np.max(np.abs(a - b)))
    if gap == 0:
        return ""
    # A hypothesis fits when it explains the difference: what is left of it is rounding.
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and np.max(np.abs(a - b.T)) <= EXPLAINED * gap:
        return "it equals the transpose of the expected value: a missing or extra transpose"
    if not np.any(a):
        return "it is 0 where the expected value is not: a term or a whole update is missing"
    r = float(np.sum(a * b) / np.sum(b * b))  # the factor that best maps b onto a
    if np.max(np.abs(a - r * b)) > EXPLAINED * gap or abs(r - 1) <= 1e-3:
        return ""
    if np.isclose(r, -1, rtol=1e-4):
        return "it has the opposite sign: a sign slip"
    if m > 1 and np.isclose(r, m, rtol=1e-4):
        return f"it is m = {m} times the expected value: a missing 1/m"
    if m > 1 and np.isclose(r, 1 / m, rtol=1e-4):
        return f"it is 1/m = 1/{m} of the expected value: an extra 1/m"
    for k in (2, 3, 4, 10):  # a factor a derivation can gain or lose: a 1/2, a doubled term, ...
        for factor, text in ((k, f"{k} times"), (-k, f"-{k} times"), (1 / k, f"1/{k} of"), (-1 / k, f"-1/{k} of")):
            if np.isclose(r, factor, rtol=1e-4):
                return f"it is {text} the expected value: a lost or extra factor {k}"
    other = round(m / r) if m > 1 and r > 0 else 0  # a 1/m taken with another m: a notebook's global m = 200
    if other >= 2 and other != m and np.isclose(m / r, other, rtol=1e-6):
        return (
            f"it is m/{other} = {r:.4g} times the expected value: its 1/m divides by {other}, not by the m = {m} "
            "examples it is handed (an m set outside the function, a notebook cell's global m, or a number written "
            "in: m = A_prev.shape[1])"
        )
    return ""


def divergence_cure(learning_rate: float, lambd: float, m: int, optimizer: str = "gd", beta: float = 0.9) -> str:
    """What makes a run whose torch side diverged train: a smaller --lambd where the L2 term alone blows the weights
    up (each gradient step multiplies W by 1 - lr lambd / m, which needs lr lambd / m < 2; momentum's course form
    averages the term, and needs lr lambd / m < 2 (1 + beta) / (1 - beta)), else a smaller --lr. m: the
    smallest batch's size. Adam's step is bounded by lr whatever the gradient: only --lr can blow it up."""
    limit = {"gd": 2.0, "momentum": 2 * (1 + beta) / (1 - beta)}.get(optimizer)
    if not lambd or limit is None or learning_rate * lambd / m < limit:
        return "a smaller --lr trains"
    return (
        f"a smaller --lambd trains (its L2 term alone makes each step multiply W by about "
        f"{1 - learning_rate * lambd / m:.3g}; it needs lambd below {limit * m / learning_rate:.3g} at --lr "
        f"{learning_rate:g} and m = {m})"
    )


def diagnose_cost(cost: float, ref: dict, Y: np.ndarray, loss: str) -> str:
    """A wrong cost that equals the right one with a term left out."""
    L = max(int(k[1:]) for k in ref if k.startswith("Z"))
    Z = ref[f"Z{L}"]
    if loss != "bce":
        return ""
    return bce_slip(cost, -np.logaddexp(0, -Z), -np.logaddexp(0, Z), Y)  # log sigmoid(Z), log (1 - sigmoid(Z))


def bce_slip(cost: float, log_A: np.ndarray, log_1_minus_A: np.ndarray, Y: np.ndarray) -> str:
    """The cross-entropy's classic slips: a term, or a factor Y or (1-Y), left out."""
    m = Y.shape[1]
    candidates = {
        "it equals -(1/m) sum Y log(AL): the (1-Y) log(1-AL) term is missing": -np.sum(Y * log_A) / m,
        "it equals -(1/m) sum (1-Y) log(1-AL): the Y log(AL) term is missing": -np.sum((1 - Y) * log_1_minus_A) / m,
        "it equals -(1/m) sum [Y log(AL) + log(1-AL)]: log(1-AL) is missing its factor (1-Y)": -np.sum(
            Y * log_A + log_1_minus_A
        )
        / m,
        "it equals -(1/m) sum [log(AL) + (1-Y) log(1-AL)]: log(AL) is missing its factor Y": -np.sum(
            log_A + (1 - Y) * log_1_minus_A
        )
        / m,
        "it equals +(1/m) sum [Y log(AL) + (1-Y) log(1-AL)]: the minus sign is missing": np.sum(
            Y * log_A + (1 - Y) * log_1_minus_A
        )
        / m,
        "it equals -sum [Y log(AL) + (1-Y) log(1-AL)]: the 1/m is missing": -np.sum(
            Y * log_A + (1 - Y) * log_1_minus_A
        ),
    }
    # a candidate of 0 fits nothing: where its terms all vanish (every Y = 0, for a missing (1-Y) term) it tells no slip
    # from another
    return next((t for t, value in candidates.items() if value and np.isclose(cost, value, rtol=FIT, atol=0)), "")


def hint_layer_backward(backward, activations, grads: dict, params: dict, X: np.ndarray, ref: dict) -> None:
    """When dA[l] agrees but what layer l computes from it does not: a cache from another layer, or g'.

    Layer L is left out: dZ[L] = A[L] - Y does not go through g'.
    """
    first = next((r for r in backward.rows.values() if not r.ok), None)
    L = len(activations)
    if first is None or first.hint or first.quantity not in ("dZ", "dW", "db") or first.layer == L:
        return
    l = first.layer
    name = activations[l - 1]
    dA = backward.rows.get(("dA", l))
    if dA is None:  # an API that returns no dA (week 3): what layer l + 1 computed agrees, all of it
        if all(r.ok for (q, k), r in backward.rows.items() if k > l):
            first.hint = (
                f"layer {l + 1}'s gradients agree but {first.label} does not: the slip is in layer {l}'s "
                f"backward step, dZ{l} = (W{l + 1}^T dZ{l + 1}) * g'(Z{l}) (the derivative of {name}) "
                f"or {first.label} from dZ{l}"
            )
        return
    if not dA.ok:
        return
    cache = _cache_used(l, activations, grads, params, X, ref)
    if cache is not None:
        first.hint = (
            f"layer {l}'s backward matches layer {cache}'s cache (Z{cache}, A{cache - 1}) used in place of "
            f"its own: check which cache layer {l} takes (caches[{cache - 1}] instead of caches[{l - 1}])"
        )
    elif first.quantity == "dZ":
        first.hint = (
            f"dA{l} agrees but dZ{l} does not: the step between them is dZ{l} = dA{l} * g'(Z{l}); "
            f"check the derivative of {name}"
        )
    elif ("dZ", l) in backward.rows:  # dZ[l] agrees: the slip is after it
        formula = (
            f"dW{l} = (1/m) dZ{l} A{l - 1}^T"
            if first.quantity == "dW"
            else f"db{l} = (1/m) sum of dZ{l} over the examples"
        )
        first.hint = f"dZ{l} agrees but {first.label} does not: check {formula}"
    else:
        first.hint = (
            f"dA{l} agrees but {first.label} does not: the slip is in layer {l}'s backward step, "
            f"dZ{l} = dA{l} * g'(Z{l}) (the derivative of {name}) or {first.label} from dZ{l}"
        )


def _cache_used(l: int, activations, grads: dict, params: dict, X: np.ndarray, ref: dict):
    """The layer k != l whose cache reproduces the implementation's dW[l] from its dA[l], or None."""
    dA, dW = grads.get(f"dA{l}"), grads.get(f"dW{l}")
    if dA is None or dW is None or not np.all(np.isfinite(dW)):
        return None
    m = X.shape[1]
    for k in range(1, len(activations)):
        if k == l or params[f"W{k}"].shape != params[f"W{l}"].shape:
            continue
        dZ = dA * torch_ref.activation_derivative(activations[l - 1], ref[f"Z{k}"])
        A_prev = X if k == 1 else ref[f"A{k - 1}"]
        if np.allclose(dW, dZ @ A_prev.T / m, rtol=FIT, atol=FIT * np.max(np.abs(dW))):
            return k
    return None


def cache_order_slip(held: list) -> str:
    """L_model_forward's caches in reverse order, where held[l - 1] is the layer whose W cache l holds: every layer's
    (caches.insert(0, cache) for all), or the hidden layers' with the output's appended last. "" for any other order."""
    L = len(held)
    reversed_all, reversed_hidden = list(range(L, 0, -1)), list(range(L - 1, 0, -1)) + [L]
    if L > 1 and held in (reversed_all, reversed_hidden):
        return "caches are in reverse order: append, not insert(0, ...)"
    return ""


# g'(Z) as the course writes it in each activation's backward function
DERIVATIVES = {
    "sigmoid": "s (1 - s)",
    "relu": "(Z > 0)",
    "tanh": "(1 - tanh(Z)^2)",
    "leaky_relu": "(1 if Z > 0 else 0.01)",
}


def activation_backward_slip(
    name: str, value, dA: np.ndarray, Z: np.ndarray, g: np.ndarray, g_prime: np.ndarray
) -> str:
    """An activation's backward, dZ = dA * g'(Z), that multiplies dA by g(Z) itself, returns g'(Z) without dA, or
    takes the derivative's formula in g(Z) of the cache Z itself (s = Z for a sigmoid)."""
    derivative = DERIVATIVES.get(name, "g'(Z)")
    candidates = {
        f"it returns dA * g(Z), not dA * g'(Z) = dA * {derivative}": dA * g,
        f"it returns g'(Z) = {derivative} without dA: dZ = dA * g'(Z)": g_prime,
    }
    if name == "sigmoid":
        candidates["s (1 - s) is taken with s = Z, the cache itself: s = 1 / (1 + np.exp(-Z)) first"] = dA * Z * (1 - Z)
    if name == "tanh":
        candidates["(1 - tanh(Z)^2) is taken as 1 - Z^2, of the cache itself: np.tanh(Z) first"] = dA * (1 - Z * Z)
    return next((hint for hint, hypothesis in candidates.items() if matches(value, hypothesis)), "")


def db_slip(value, dZ: np.ndarray) -> str:
    """db = (1/m) sum of dZ over the examples (axis 1), kept (n[l], 1): a db without keepdims, or summed over the units."""
    value = np.asarray(value, dtype=np.float64)
    m = dZ.shape[1]
    if value.shape != (dZ.shape[0], 1) and matches(value.reshape(-1), np.sum(dZ, axis=1) / m):
        return f"db has shape {value.shape}: np.sum(dZ, axis=1, keepdims=True) keeps it (n[l], 1)"
    if value.size == m and any(matches(value.reshape(-1), np.sum(dZ, axis=0) / k) for k in (m, 1)):
        return (
            "db is summed over axis 0 (the units) instead of axis 1 (the examples): np.sum(dZ, axis=1, keepdims=True)"
        )
    return ""


def skipped_layer_slip(key: str, step, L: int, none_moved: bool = False) -> str:
    """An update whose loop over the layers misses the first or the last: that layer's step is exactly 0; or one
    that moves no parameter at all (none_moved), which updates what it does not return."""
    layer = int(key[1:])
    if not isinstance(step, np.ndarray) or np.any(step):
        return ""
    if none_moved:
        return (
            "no parameter changed: it returns the parameters as it was handed them (it updates a copy it does not "
            "return, or a name it rebinds): return what it updated"
        )
    if layer not in (1, L):
        return ""
    if layer == L:
        return (
            f"layer {L} is not updated: the loop over the layers stops one short (the course's for l in range(L) "
            "updates W[l + 1] and b[l + 1], layers 1..L)"
        )
    return (
        "layer 1 is not updated: the loop over the layers starts one late (the course's for l in range(L) "
        "updates W[l + 1] and b[l + 1], layers 1..L)"
    )


@dataclass(frozen=True)
class L2:
    """The L2 penalty a slip is measured against: the parameters it penalises, lambd and the batch's m."""

    params: dict
    lambd: float
    m: int


def l2_slip(quantity: str, layer: int, value, expected, l2: L2) -> str:
    """With L2, what a wrong cost, dW or db fits: the penalty's 1/(2m) as 1/m, or missing; dW's lambd/m W as
    lambd/(2m) W, or missing, or twice; the biases regularised. "" when none fits."""
    params, lambd, m = l2.params, l2.lambd, l2.m
    if not lambd:
        return ""
    gap = np.asarray(value, dtype=np.float64) - np.asarray(expected, dtype=np.float64)
    size = float(np.max(np.abs(gap))) if gap.size else 0.0
    if size == 0 or not np.all(np.isfinite(gap)):
        return ""

    def fits(hypothesis) -> bool:
        return float(np.max(np.abs(gap - hypothesis))) <= EXPLAINED * size

    L = len(params) // 2
    if quantity == "cost":
        penalty = lambd / (2 * m) * sum(float(np.sum(params[f"W{l}"] ** 2)) for l in range(1, L + 1))
        biases = lambd / (2 * m) * sum(float(np.sum(params[f"b{l}"] ** 2)) for l in range(1, L + 1))
        # a sum that leaves one layer out (range(1, L) for range(1, L + 1)) lacks that layer's share
        left_out = [
            (
                -lambd / (2 * m) * float(np.sum(params[f"W{l}"] ** 2)),
                f"the penalty leaves out W{l}: the course's sums ||W[l]||^2 over every layer, l = 1..{L}",
            )
            for l in range(L, 0, -1)
        ]
        for hypothesis, hint in (
            (penalty, "the L2 penalty is (lambd / m) sum ||W||^2: the course's is (lambd / (2m)) sum ||W||^2"),
            (-penalty, "the L2 penalty (lambd / (2m)) sum ||W||^2 is missing from the cost"),
            ((m - 1) * penalty, "the L2 penalty is (lambd / 2) sum ||W||^2: the course's divides it by m too"),
            (biases, "the penalty sums the biases' squares too: the course regularises W only"),
            *left_out,
        ):
            if fits(hypothesis):
                return hint
    elif quantity == "dW":
        term = lambd / m * params[f"W{layer}"]
        other = f" (or its lambd is divided by {m // 2}, not by the m = {m} examples)" if m % 2 == 0 and m > 2 else ""
        for factor, hint in (
            (-0.5, "dW's L2 term is (lambd / (2m)) W: the course's is (lambd / m) W"),
            (-1.0, "dW lacks its L2 term (lambd / m) W"),
            (1.0, f"dW's L2 term (lambd / m) W is added twice{other}"),
            (m - 1.0, "dW's L2 term is lambd W: the course's is (lambd / m) W"),
        ):
            if fits(factor * term):
                return hint
        divisor = m / (1 + float(np.sum(gap * term) / np.sum(term * term))) if np.any(term) else 0.0
        if divisor >= 1 and round(divisor) != m and np.isclose(divisor, round(divisor), rtol=1e-6):
            if fits((m / round(divisor) - 1) * term):  # lambd / k W: an m set outside the function, or written in
                return (
                    f"dW's L2 term divides lambd by {round(divisor)}, not by the m = {m} examples: (lambd / m) W with "
                    "m = A_prev.shape[1], not an m set elsewhere"
                )
    elif quantity == "db" and fits(lambd / m * params[f"b{layer}"]):
        return "db has an L2 term (lambd / m) b: the course regularises W only, not the biases"
    return ""


def hint_l2(check, values: dict, ref: dict, l2: L2, iteration=None) -> None:
    """Each cost, dW or db row of `check` that just broke (at `iteration`) gets l2_slip's hint where it fits one."""
    for (quantity, layer), row in check.rows.items():
        if row.ok or row.iteration != iteration or quantity not in ("cost", "dW", "db"):
            continue
        key = "cost" if quantity == "cost" else f"{quantity}{layer}"
        if key in values and key in ref:
            row.hint = l2_slip(quantity, layer, values[key], ref[key], l2) or row.hint
