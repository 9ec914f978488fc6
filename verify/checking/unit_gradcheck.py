"""The function-by-function checks of the second course's Gradient Checking notebook (impl/gradcheck.py): the
learner's gradient checker, and the functions it checks.

forward_propagation and backward_propagation (J = theta x, dtheta = x) against their rules on several (x, theta);
forward_propagation_n's cost and backward_propagation_n's gradients against torch's autograd of the same network
(relu, relu, sigmoid, the mean cross-entropy), the course's two planted bugs in backward_propagation_n reported, not
failed (they are there for the checker to find); gradient_check and gradient_check_n against the verifier's own
computation of the same formula with the same epsilon and the module's own cost, and gradient_check_n's verdict
against the notebook's threshold, on gradients the verifier controls: torch's exact ones, and wrong ones with a known
fault. Everything here is float64 whatever the run's dtype: centred differences with epsilon 1e-7 mean nothing in
float32.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from .. import catalogue
from ..impl.base import _describe
from ..impl.gradcheck import SIZES
from ..judging.gradcheck_hints import Checked, checker_slip
from .unit_harness import Unit, Wrong

THRESHOLD = 2e-7  # the notebook's: a difference below it says the gradients are right
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")  # dictionary_to_vector's order
EXAMPLES = 6
CASES = ((3.0, 4.0, 1e-7), (-2.5, 0.7, 1e-5), (1.0e4, 4.0, 1e-7))  # (x, theta, epsilon) of the 1-D functions
PLANTED = {"dW2": 2.0, "db1": 4.0}  # the course's backward_propagation_n: dW2 doubled, db1 four times
PLANTED_TEXT = {"dW2": "dW2 doubled", "db1": "db1 four times"}
BACKWARD = ("dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1")  # in backprop's order
KINK_MARGIN = 1e-3  # no Z1, Z2 nearer 0: a step of epsilon (<= 1e-6) moves no relu across its kink
WIDE_STEP = 1e-3  # where a one-sided difference's error (about epsilon) stands out of the centred one's


def _check_forward(u: Unit) -> None:
    for x, theta, _ in CASES:
        u.close("J", u.call(x, theta), np.asarray(theta * x), abs(theta * x))


def _check_backward(u: Unit) -> None:
    for x, theta, _ in CASES:
        dtheta = u.call(x, theta)
        try:
            u.close("dtheta", dtheta, np.asarray(x), abs(x))
        except Wrong as wrong:
            if np.isclose(np.asarray(dtheta, dtype=float), theta, rtol=1e-12):
                wrong.hint = "it is theta: the derivative of J = theta x with respect to theta is x"
            raise


def _returned(u: Unit, value) -> float:
    return u.impl.number(u.function, value)


def _compare(u: Unit, calls: list[tuple[float, Checked, str]]) -> None:
    """Each returned difference against the verifier's own computation of the formula, within the rounding a correct
    checker may differ by (gradcheck_hints.Checked.allowed); at the first that differs, the slip named that fits
    every call (one call alone may fit two: at exact gradients, epsilon for 2 epsilon and no copy both give 1/3)."""
    for returned, c, where in calls:
        expected = c.difference
        allowed = c.allowed(expected)
        if np.isfinite(returned) and abs(returned - expected) <= allowed:
            continue
        slips = catalogue.by_name(u.function, "gradcheck").slips
        finite = all(np.isfinite(r) for r, _, _ in calls)
        raise Wrong(
            "difference",
            f"{where}: {returned:.7g} vs {expected:.7g} by the formula with the same epsilon (allowed {allowed:.1e})",
            checker_slip([(r, checked) for r, checked, _ in calls], slips) if finite else "",
        )


def _check_gradient_check(u: Unit) -> None:
    calls = []
    for x, theta, epsilon in CASES:
        returned = _returned(u, u.call(x, theta, epsilon))
        J_plus, J_minus = (
            u.impl.number("forward_propagation", u.call(x, theta + step, function="forward_propagation"))
            for step in (epsilon, -epsilon)
        )
        grad = u.impl.number("backward_propagation", u.call(x, theta, function="backward_propagation"))
        approx = (J_plus - J_minus) / (2 * epsilon)
        c = Checked(np.array([[grad]]), np.array([[approx]]), epsilon, max(abs(J_plus), abs(J_minus)))
        calls.append((returned, c, f"at x = {x:g}, theta = {theta:g}, epsilon = {epsilon:g}"))
    _compare(u, calls)


# ---------------------------------------------------------------- the 4-5-3-1 network of forward_propagation_n


def _network(u: Unit) -> tuple[np.ndarray, np.ndarray, dict]:
    """X (4, m), Y (1, m) with both labels, and parameters of gc_utils' shapes, seeded; drawn again until no Z1, Z2
    lies within KINK_MARGIN of relu's kink and some unit of each hidden layer is active."""
    rng = u.rng
    X = rng.standard_normal((SIZES[0], EXAMPLES))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0]])
    while True:
        params = {}
        for l in range(1, 4):
            n, n_prev = SIZES[l], SIZES[l - 1]
            params[f"W{l}"] = rng.standard_normal((n, n_prev)) * 1.2 / np.sqrt(n_prev)
            params[f"b{l}"] = rng.standard_normal((n, 1)) * 0.3
        Z1 = params["W1"] @ X + params["b1"]
        Z2 = params["W2"] @ np.maximum(Z1, 0) + params["b2"]
        if min(np.abs(Z1).min(), np.abs(Z2).min()) > KINK_MARGIN and (Z1 > 0).any() and (Z2 > 0).any():
            return X, Y, params


def _torch(X: np.ndarray, Y: np.ndarray, params: dict) -> dict:
    """torch's autograd of relu, relu, sigmoid and the mean cross-entropy: cost, Z, A, dZ, dA (the course's
    convention: gradients of the summed loss) and dW, db (of the mean)."""
    import torch_ref

    return torch_ref.forward_backward(torch_ref.from_params(params, ["relu", "relu", "sigmoid"]), X, Y, "bce")


def _cost_scale(ref: dict) -> float:
    """The cost's size: |J| and the logits it is computed from (the README's scale of the cross-entropy)."""
    return abs(ref["cost"]) + float(np.mean(np.abs(ref["Z3"])))


def _check_forward_n(u: Unit) -> None:
    X, Y, params = _network(u)
    ref = _torch(X, Y, params)
    cost, _ = u.parts(u.call(X, Y, params), ("cost", "cache"))
    u.close("cost", cost, np.asarray(ref["cost"]), _cost_scale(ref))


def _gradient_scales(ref: dict, X: np.ndarray, params: dict) -> dict:
    """Each gradient's scale: the size of the terms it sums (dW = dZ A_prev^T / m, db, dA = W^T dZ, dZ)."""
    m = X.shape[1]
    A = {0: X, 1: ref["A1"], 2: ref["A2"]}
    scales = {"dZ3": float(np.max(np.abs(ref["A3"]))) + 1.0}
    for l in (3, 2, 1):
        dZ = np.abs(ref[f"dZ{l}"])
        scales[f"dW{l}"] = float(np.max(dZ @ np.abs(A[l - 1]).T)) / m
        scales[f"db{l}"] = float(np.max(np.sum(dZ, axis=1))) / m
        if l > 1:
            scales[f"dA{l - 1}"] = float(np.max(np.abs(params[f"W{l}"]).T @ dZ))
            scales[f"dZ{l - 1}"] = scales[f"dA{l - 1}"]
    return scales


def _check_backward_n(u: Unit) -> str:
    """backward_propagation_n against torch; where it differs exactly by the course's planted bugs, that is said,
    not failed: they are there for the learner's checker to find."""
    X, Y, params = _network(u)
    ref = _torch(X, Y, params)
    _, cache = u.parts(u.call(X, Y, params, function="forward_propagation_n"), ("cost", "cache"))
    grads = u.call(X, Y, cache)
    if not isinstance(grads, dict):
        raise Wrong("", f"expected a dict of gradients, got {_describe(grads)}")
    scales, planted = _gradient_scales(ref, X, params), []
    for key in BACKWARD:
        if key[1] in "ZA" and key not in grads:  # the dZ and dA are the course's extras
            continue
        try:
            u.close(key, grads.get(key), ref[key], scales[key])
        except Wrong:
            factor = PLANTED.get(key)
            value = grads.get(key)
            if factor is None or not isinstance(value, np.ndarray) or value.shape != ref[key].shape:
                raise
            if np.max(np.abs(value - factor * ref[key])) > u.rtol * factor * scales[key]:
                raise
            planted.append(key)
    remark = _planted_remark(planted)
    u.impl.notes["planted bugs"] = f"backward_propagation_n {remark}"
    return remark


def _planted_remark(planted: list[str]) -> str:
    if not planted:
        bugs = " and ".join(PLANTED_TEXT.values())
        return f"is fixed: it agrees with torch (the course's planted bugs, {bugs}, are gone)"
    still = ", ".join(PLANTED_TEXT[key] for key in PLANTED if key in planted)
    fixed = [PLANTED_TEXT[key] for key in PLANTED if key not in planted]
    return (
        f"still has the course's planted bug{'s' if len(planted) > 1 else ''}: {still}: your checker should find "
        + ("them" if len(planted) > 1 else "it")
        + (f" ({', '.join(fixed)}: fixed)" if fixed else "")
    )


def _vector(params: dict) -> np.ndarray:
    """dictionary_to_vector's column: W1, b1, W2, b2, W3, b3, each row by row."""
    return np.concatenate([params[key].reshape(-1, 1) for key in KEYS])


def _dictionary(theta: np.ndarray) -> dict:
    """vector_to_dictionary's parameters from the column."""
    params, start = {}, 0
    for l in range(1, 4):
        for name, shape in (("W", (SIZES[l], SIZES[l - 1])), ("b", (SIZES[l], 1))):
            size = shape[0] * shape[1]
            params[f"{name}{l}"] = theta[start : start + size].reshape(shape)
            start += size
    return params


def _centred(cost: Callable[[np.ndarray], float], theta: np.ndarray, epsilon: float) -> np.ndarray:
    """The notebook's gradapprox: (J(theta + epsilon e_i) - J(theta - epsilon e_i)) / (2 epsilon), entry by entry."""
    approx = np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] = plus[i] + epsilon
        minus[i] = minus[i] - epsilon
        approx[i] = (cost(plus) - cost(minus)) / (2 * epsilon)
    return approx


def _one_sided(cost: Callable[[np.ndarray], float], theta: np.ndarray, epsilon: float) -> list[np.ndarray]:
    """gradapprox as a one-sided difference computes it: forward, (J(theta + epsilon e_i) - J) / epsilon, and
    backward, (J - J(theta - epsilon e_i)) / epsilon; then as theta_minus = np.copy(theta_plus) does, the step taken
    back from the stepped point: (J(theta + epsilon e_i) - J((theta + epsilon e_i) - epsilon e_i)) / (2 epsilon)."""
    J = cost(theta.copy())
    forward, backward, from_plus = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for i in range(theta.shape[0]):
        plus, minus = theta.copy(), theta.copy()
        plus[i] = plus[i] + epsilon
        minus[i] = minus[i] - epsilon
        J_plus = cost(plus)
        forward[i] = (J_plus - J) / epsilon
        backward[i] = (J - cost(minus)) / epsilon
        back = plus.copy()
        back[i] = back[i] - epsilon
        from_plus[i] = (J_plus - cost(back)) / (2 * epsilon)
    return [forward, backward, from_plus]


def _leaked(cost: Callable[[np.ndarray], float], theta: np.ndarray, epsilon: float) -> list[np.ndarray]:
    """gradapprox as the no-copy slip computes it, theta_plus or theta_minus (or both) being parameters_values
    itself: each step written into it stays there for what comes after."""
    variants = []
    for plus_copied, minus_copied in ((False, False), (False, True), (True, False)):
        values, approx = theta.copy(), np.zeros_like(theta)
        for i in range(theta.shape[0]):
            plus = values.copy() if plus_copied else values
            plus[i] = plus[i] + epsilon
            J_plus = cost(plus)
            minus = values.copy() if minus_copied else values
            minus[i] = minus[i] - epsilon
            approx[i] = (J_plus - cost(minus)) / (2 * epsilon)
        variants.append(approx)
    return variants


def _faulty(exact: dict) -> list[tuple[str, dict, float, bool | None]]:
    """(what, gradients, epsilon, whether they are wrong): torch's exact gradients, then the largest entry of dW1
    scaled by 1.5, then dW2 doubled (the course's own planted bug), at another epsilon; then the exact gradients at
    a wide epsilon, where a one-sided difference's error (of the order of epsilon) shows beside the centred one's
    (of epsilon squared), its verdict not judged (None: the threshold is for epsilon 1e-7)."""
    scaled = {key: value.copy() for key, value in exact.items()}
    at = np.unravel_index(int(np.argmax(np.abs(scaled["dW1"]))), scaled["dW1"].shape)
    scaled["dW1"][at] *= 1.5
    return [
        ("torch's exact gradients", exact, 1e-7, False),
        (f"torch's gradients but dW1{list(map(int, at))} times 1.5", scaled, 1e-7, True),
        ("torch's gradients but dW2 doubled", {**exact, "dW2": 2 * exact["dW2"]}, 1e-6, True),
        ("torch's exact gradients", exact, WIDE_STEP, None),
    ]


def _check_gradient_check_n(u: Unit) -> None:
    X, Y, params = _network(u)
    ref = _torch(X, Y, params)
    exact = {f"d{key}": np.asarray(ref[f"d{key}"]) for key in KEYS}
    theta, scale, approxes = _vector(params), _cost_scale(ref), {}

    def cost(vector: np.ndarray) -> float:
        result = u.call(X, Y, _dictionary(vector), function="forward_propagation_n")
        return u.impl.number("forward_propagation_n", u.parts(result, ("cost", "cache"))[0])

    calls, faults = [], []
    for what, grads, epsilon, wrong in _faulty(exact):
        returned = _returned(u, u.call(params, grads, X, Y, epsilon))
        if epsilon not in approxes:
            approxes[epsilon] = _centred(cost, theta, epsilon)
        grad = np.concatenate([grads[f"d{key}"].reshape(-1, 1) for key in KEYS])
        c = Checked(
            grad,
            approxes[epsilon],
            epsilon,
            scale,
            partial(_leaked, cost, theta, epsilon),
            partial(_one_sided, cost, theta, epsilon),
        )
        calls.append((returned, c, f"with {what}, epsilon = {epsilon:g}"))
        faults.append(wrong)
    _compare(u, calls)  # the formula first: a slip in it is named, whatever the verdicts
    for (returned, c, where), wrong in zip(calls, faults):
        if wrong is not None and wrong != (returned > THRESHOLD):
            raise Wrong(
                "difference",
                f"{where}: {returned:.3g}, "
                + ("not above" if wrong else "not below")
                + f" the notebook's threshold {THRESHOLD:g} (the formula gives {c.difference:.3g})",
            )
    u.impl.notes["planted bugs found"] = _finds_the_planted_bugs(u, params, exact, X, Y)


def _finds_the_planted_bugs(u: Unit, params: dict, exact: dict, X: np.ndarray, Y: np.ndarray) -> str:
    """Whether the learner's gradient_check_n, run on gradients with one of the course's planted bugs each, says
    "there is a mistake" (a difference above the notebook's threshold) for each."""
    found = {}
    for key, factor in PLANTED.items():
        found[key] = _returned(u, u.call(params, {**exact, key: factor * exact[key]}, X, Y, 1e-7))
    said = "; ".join(f"{PLANTED_TEXT[key]}: difference {value:.3g}" for key, value in found.items())
    missed = [PLANTED_TEXT[key] for key, value in found.items() if not value > THRESHOLD]
    if not missed:
        return (
            f"gradient_check_n finds both of the course's planted bugs, each on its own ({said}, above {THRESHOLD:g})"
        )
    return f"gradient_check_n misses {' and '.join(missed)} ({said}; the notebook's threshold is {THRESHOLD:g})"


GRADCHECK_CHECKS: dict[str, Callable[[Unit], str | None]] = {  # the notebook's order
    "forward_propagation": _check_forward,
    "backward_propagation": _check_backward,
    "gradient_check": _check_gradient_check,
    "forward_propagation_n": _check_forward_n,
    "backward_propagation_n": _check_backward_n,
    "gradient_check_n": _check_gradient_check_n,
}
