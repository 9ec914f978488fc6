"""Hints of the optimisation week: the classic slips of the learning-rate decays, of momentum's and Adam's
steps, and of a course loop's own calls (see loops.py); each a hypothesis tested on the numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import catalogue
from .adam import bias_correction
from .hint_fits import FIT, matches

if TYPE_CHECKING:
    from ..optimization import OptimizerStep


def decay_slips(function: str, learning_rate0: float, decay_rate: float, interval: int) -> dict:
    """{hint: rate(epoch)} for the classic slips of update_lr, learning_rate0 / (1 + decay_rate * epoch_num), and of
    schedule_lr_decay, where the epoch is np.floor(epoch_num / time_interval)."""
    lr0, rate = learning_rate0, decay_rate
    if catalogue.by_name(function).decay == "scheduled":
        k, term = (lambda e: np.floor(e / interval)), "np.floor(epoch_num / time_interval)"
        own = {
            "epoch_num / time_interval is not floored: the course's rate drops in steps, "
            "learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))": lambda e: (
                lr0 / (1 + rate * e / interval)
            ),
            "time_interval is left out: learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))": lambda e: (
                lr0 / (1 + rate * e)
            ),
        }
    else:  # one epoch behind (a scheduled decay's shows only where an interval ends: not named there)
        k, term = (lambda e: e), "epoch_num"
        own = {
            "the decay runs one epoch behind the course's: it returns for epoch_num what learning_rate0 / (1 + "
            "decay_rate * epoch_num) gives for epoch_num - 1 (so epochs 0 and 1 both run at learning_rate0)": lambda e: (
                lr0 / (1 + rate * max(e - 1, 0))
            )
        }
    course = f"learning_rate0 / (1 + decay_rate * {term})"
    return {
        **own,
        f"the epoch is left out: it computes learning_rate0 / (1 + decay_rate), the course {course}": lambda e: (
            lr0 / (1 + rate)
        ),
        f"it computes learning_rate0 * decay_rate * {term}: the course divides, {course}": lambda e: lr0 * rate * k(e),
        f"it computes learning_rate0 / decay_rate * {term}: the course's is {course}": lambda e: lr0 / rate * k(e),
        f"it computes learning_rate0 / (1 + decay_rate) * {term}: the parentheses close too early in {course}": lambda e: (
            lr0 / (1 + rate) * k(e)
        ),
        f"it computes learning_rate0 / 1 + decay_rate * {term}: the parentheses are missing from {course}": lambda e: (
            lr0 + rate * k(e)
        ),
        f"it multiplies where the course divides: {course}": lambda e: lr0 * (1 + rate * k(e)),
        f"it divides with //, which floors the quotient to a whole number: the course's is {course}": lambda e: (
            lr0 // (1 + rate * k(e))
        ),
        f"it returns learning_rate0 unchanged: the course's rate is {course}": lambda e: lr0,
        f"the epochs are counted from 1, so the decay runs one epoch ahead of the course's: it returns for "
        f"epoch_num what {course} gives for epoch_num + 1": lambda e: lr0 / (1 + rate * k(e + 1)),
    }


def rate_slip(step, expected_step, learning_rate: float) -> str:
    """An update whose step is -r dP for one rate r > 0 other than the learning rate it was handed (expected_step is
    -learning_rate dP): a rate hard-coded, or a default kept."""
    step, expected_step = np.asarray(step, dtype=np.float64), np.asarray(expected_step, dtype=np.float64)
    if step.shape != expected_step.shape or not np.any(expected_step) or not np.all(np.isfinite(step)):
        return ""
    r = float(np.sum(step * expected_step) / np.sum(expected_step * expected_step))  # the rate's ratio, fitted
    if r <= 0 or np.isclose(r, 1, rtol=1e-6) or not matches(step, r * expected_step):
        return ""
    return (
        f"its step is that of learning rate {r * learning_rate:.6g}, not the {learning_rate:g} it was handed: a rate "
        "hard-coded, or a default kept"
    )


def optimizer_slips(
    quantity: str, step: OptimizerStep, grads: dict, corrected: dict | None = None, moments: dict | None = None
) -> dict:
    """{hint: what the classic slip would have given}, each a dict keyed like the gradients (dW1, db1, ...), for
    one output of an optimiser's step: "v", "s", "v_corrected", "s_corrected" or "step" (P_next - P).

    step: the state before it (v, and s for Adam), its t, settings and learning rate; grads: the step's gradients;
    corrected: the right {"v_corrected", "s_corrected"} (for the step); moments: the implementation's own v and s
    after the step (for its corrections)."""
    v, s, t, settings, learning_rate = (
        step.state["v"],
        step.state.get("s", {}),
        step.t,
        step.settings,
        step.learning_rate,
    )
    if "beta" in settings and quantity in ("v", "step"):  # momentum
        return _momentum_slips(quantity, v, grads, settings["beta"], learning_rate)
    if not {"beta1", "beta2", "epsilon"} <= settings.keys():  # momentum's slips are those above; Adam's below
        return {}
    if quantity in ("v", "s"):
        return _adam_moment_slips(quantity, v, s, grads, settings)
    if quantity in ("v_corrected", "s_corrected") and moments is not None:
        return _adam_correction_slips(quantity, t, settings, moments)
    if quantity == "step" and corrected is not None:
        return _adam_step_slips(v, s, grads, settings, learning_rate, corrected)
    return {}


def _momentum_slips(quantity: str, v: dict, grads: dict, b: float, learning_rate: float) -> dict:
    """Momentum's v = beta v + (1 - beta) dW with beta and 1 - beta swapped, without 1 - beta or without the v
    handed in; its step P = P - learning_rate v taken with the gradient."""
    keys = list(v)
    if quantity == "v":
        return {
            "beta and 1 - beta are swapped: v = beta v + (1 - beta) dW": {
                k: (1 - b) * v[k] + b * grads[k] for k in keys
            },
            "the (1 - beta) factor on the gradient is missing: v = beta v + (1 - beta) dW": {
                k: b * v[k] + grads[k] for k in keys
            },
            "v was not carried over: v = beta v + (1 - beta) dW uses the v handed in": {
                k: (1 - b) * grads[k] for k in keys
            },
            "v is the v it was handed: it is not updated (v = beta v + (1 - beta) dW)": {k: v[k] for k in keys},
        }
    return {"the step uses the gradient, not v: P = P - learning_rate v": {k: -learning_rate * grads[k] for k in keys}}


def _adam_moment_slips(quantity: str, v: dict, s: dict, grads: dict, settings: dict) -> dict:
    """Adam's v = beta1 v + (1 - beta1) dW and s = beta2 s + (1 - beta2) dW^2 with their betas swapped, and an s
    of the gradient, not its square."""
    b1, b2 = settings["beta1"], settings["beta2"]
    keys = list(v)
    if quantity == "v":
        return {"beta1 and 1 - beta1 are swapped": {k: (1 - b1) * v[k] + b1 * grads[k] for k in keys}}
    return {
        "beta2 and 1 - beta2 are swapped": {k: (1 - b2) * s[k] + b2 * grads[k] ** 2 for k in keys},
        "s takes the gradient, not its square: s = beta2 s + (1 - beta2) dW^2": {
            k: b2 * s[k] + (1 - b2) * grads[k] for k in keys
        },
    }


def _adam_correction_slips(quantity: str, t: int, settings: dict, moments: dict) -> dict:
    """A bias correction v / (1 - beta^t) left out, taken without the power t (1 - beta), or with t - 1, of the
    implementation's own moments. At t = 2 the last two are the same number, and the hint says so."""
    name, beta = quantity[0], (settings["beta1"] if quantity == "v_corrected" else settings["beta2"])
    own = moments.get(name) or {}
    right = f"{quantity} = {name} / (1 - beta^t)"
    unpowered = (
        f"the bias correction divides by 1 - beta (at t = 2, also 1 - beta^(t - 1)): beta is not raised to the power "
        f"t, or to t - 1 where it needs t: {right}"
        if t == 2
        else f"the bias correction divides by 1 - beta: beta is not raised to the power t: {right}"
    )
    return {
        f"no bias correction: {right}": own,
        unpowered: {k: x / bias_correction(beta, 1) for k, x in own.items()} if t > 1 else {},
        f"the bias correction uses t - 1 where it needs t: {right}": {
            k: x / bias_correction(beta, t - 1) for k, x in own.items()
        }
        if t > 2
        else {},
    }


def _adam_step_slips(v: dict, s: dict, grads: dict, settings: dict, learning_rate: float, corrected: dict) -> dict:
    """Adam's step -learning_rate v_corrected / (sqrt(s_corrected) + epsilon) with epsilon inside the root, or
    without the bias corrections."""
    b1, b2, eps = settings["beta1"], settings["beta2"], settings["epsilon"]
    keys = list(v)
    vc, sc = corrected["v_corrected"], corrected["s_corrected"]
    v_new = {k: b1 * v[k] + (1 - b1) * grads[k] for k in keys}
    s_new = {k: b2 * s[k] + (1 - b2) * grads[k] ** 2 for k in keys}
    return {
        "epsilon is inside the square root: the course divides by sqrt(s_corrected) + epsilon": {
            k: -learning_rate * vc[k] / np.sqrt(sc[k] + eps) for k in keys
        },
        "the step uses v and s without their bias correction": {
            k: -learning_rate * v_new[k] / (np.sqrt(s_new[k]) + eps) for k in keys
        },
    }


def fitting_slip(value, key: str, slips: dict) -> str:
    """The hint of the slip in `slips` (see optimizer_slips) whose value for `key` the implementation's value fits."""
    mine = np.asarray(value, dtype=np.float64) if isinstance(value, np.ndarray) else None
    for hint, slipped in slips.items():
        expected = slipped.get(key)
        if (
            mine is not None
            and expected is not None
            and mine.shape == np.shape(expected)
            and np.allclose(mine, expected, rtol=1e-6, atol=0)
        ):
            return hint
    return ""


def loop_slip(calls: dict, learning_rate: float) -> str:
    """The slip a course loop's calls fit, or "": Adam's t handed as 0 first, update_parameters' result never
    assigned (every call gets the same parameters, though each returns new ones), or a rate other than the
    run's (its first step is exactly -r dP for one r != learning_rate).

    calls: "adam_t", the t of its first update_parameters_with_adam call; "rate", the learning_rate its first
    momentum or Adam update was handed (or took by default); "adam_updates" and "adam_last_t", how many Adam
    updates it made and the t of the last; "updates", its update_parameters
    calls; "initialised", its initialiser's; "fixed", whether every update was handed the parameters the first
    was; "first", that first call's (parameters, grads, result); "activations", the network's, and
    "activation_calls", the activation each of its first calls of linear_activation_forward and _backward named."""
    named = _activation_slip(calls.get("activations", ()), calls.get("activation_calls", {}))
    if named:
        return named
    if calls.get("adam_t") == 0:
        return (
            "t starts at 0: the bias correction divides by 1 - beta^0 = 0 (the course increments t before the update)"
        )
    updates, last = calls.get("adam_updates", 0), calls.get("adam_last_t")
    if calls.get("adam_t") == 1 and updates > 1 and isinstance(last, (int, np.integer)) and last != updates:
        return (
            f"t reached {last} after {updates} updates: Adam's t counts the updates, one per mini-batch (the "
            "course's t = t + 1 before each update)"
        )
    handed = calls.get("rate")  # an optimiser's update: the rate its first call was handed
    if (
        isinstance(handed, (int, float))
        and np.isfinite(handed)
        and not np.isclose(handed, learning_rate, rtol=FIT, atol=0)
    ):
        return _rate_slip(handed, learning_rate, calls)
    first = calls.get("first")
    if first is None:
        return ""
    parameters, grads, result = first
    steps = {
        k: np.asarray(result[k], dtype=np.float64) - np.asarray(parameters[k], dtype=np.float64)
        for k in parameters
        if isinstance(result, dict) and k in result and f"d{k}" in grads
    }
    if not steps or not all(np.all(np.isfinite(s)) for s in steps.values()):
        return ""
    if calls.get("updates", 0) > 1 and calls.get("fixed") and any(np.any(s) for s in steps.values()):
        if calls.get("initialised", 0) >= calls["updates"]:  # an initialiser call before each update
            return "it initialises the parameters again at every iteration: call the initialiser once, before the loop"
        return "its parameters never change: update_parameters' result is not assigned (parameters = update_parameters(...))"
    rate = _step_rate(steps, {k: np.asarray(grads[f"d{k}"], dtype=np.float64) for k in steps})
    if rate is not None and not np.isclose(rate, learning_rate, rtol=FIT, atol=0):
        return _rate_slip(rate, learning_rate, calls)
    return ""


def _rate_slip(rate: float, learning_rate: float, calls: dict) -> str:
    """A loop's steps at another rate than the run's: the --lr it was handed, or (a loop that takes no rate, week
    3's nn_model) the run's --lr its update was to use."""
    if calls.get("takes_rate", True):
        return f"its steps are those of learning rate {rate:.6g}, not the --lr {learning_rate:g} it was given"
    return (
        f"its steps are those of learning rate {rate:.6g}, not this run's --lr {learning_rate:g}: it takes no rate, "
        f"so run again with --lr {rate:.6g} to verify it at its own"
    )


def _activation_slip(activations: tuple, named: dict) -> str:
    """The first call of a loop's first iteration that names another activation than its layer's, or "": forward
    from layer 1 up, backward from the last layer down."""
    for function, layers in (
        ("linear_activation_forward", range(1, len(activations) + 1)),
        ("linear_activation_backward", range(len(activations), 0, -1)),
    ):
        for given, l in zip(named.get(function, ()), layers):
            if isinstance(given, str) and given != activations[l - 1]:
                return (
                    f"it calls {function} for layer {l} with {given!r}: the network's layer {l} is {activations[l - 1]}"
                )
    return ""


def _step_rate(steps: dict, grads: dict):
    """The r for which every step is -r dP (to FIT of the step's size), else None."""
    step = np.concatenate([s.ravel() for s in steps.values()])
    grad = np.concatenate([grads[k].ravel() for k in steps])
    size, norm = float(np.max(np.abs(step), initial=0.0)), float(np.dot(grad, grad))
    if size == 0 or norm == 0:
        return None
    rate = -float(np.dot(step, grad)) / norm
    return rate if float(np.max(np.abs(step + rate * grad))) <= FIT * size else None
