"""The function-by-function checks of the course's forward and backward steps (weeks 2 to 4), against torch.

Activations and their derivatives, the linear steps and their caches, the costs, the plain gradient-descent
update, logistic regression's propagate and optimize, and the two-layer network's forward and backward
propagation: each on seeded inputs of the course's shapes, its outputs compared with torch_ref/steps.py's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..impl.base import _binds, _describe
from ..judging.hints import (
    L2,
    activation_backward_slip,
    bce_slip,
    db_slip,
    l2_slip,
    matches,
    rate_slip,
    skipped_layer_slip,
)
from ..judging.tolerance import unit_gradient_scales, unit_linear_scale, unit_step_scale
from ..signatures import signature_of
from .unit_harness import CACHE_ORDER, LEARNING_RATE, N_PREV, M, N, Unit, Wrong, layer, parameters, z_with_zeros


def _activation_output(u: Unit, result, Z) -> np.ndarray:
    """The course's week-4 helpers return (A, cache = Z) (or [A, Z]); week 2 and 3's sigmoid(z) returns A alone."""
    if isinstance(result, (tuple, list)):
        A, cache = u.parts(result, ("A", "cache"))
        u.same("cache", cache, Z, "the activation's cache is Z itself")
        return A
    return result


def _check_activation(name: str) -> Callable[[Unit], None]:
    def check(u: Unit) -> None:
        from torch_ref import steps

        Z = z_with_zeros(u) * 3
        A = _activation_output(u, u.call(Z), Z)
        u.close("A", A, steps.activation(name, Z), 1.0, Z)

    return check


def _check_activation_backward(name: str) -> Callable[[Unit], None]:
    def check(u: Unit) -> None:
        from torch_ref import steps

        Z, dA = z_with_zeros(u) * 3, u.randn(N, M)
        dZ = u.call(dA, Z)
        try:
            u.close("dZ", dZ, steps.activation_backward(name, dA, Z), float(np.max(np.abs(dA))), Z)
        except Wrong as wrong:
            g_prime = steps.activation_backward(name, np.ones_like(dA), Z)
            g = steps.activation(name, Z)
            wrong.hint = activation_backward_slip(name, dZ, dA, Z, g, g_prime) or wrong.hint
            raise

    return check


def _check_linear_forward(u: Unit) -> None:
    from torch_ref import steps

    A_prev, W, b = layer(u)
    Z, cache = u.parts(u.call(A_prev, W, b), ("Z", "cache"))
    u.close("Z", Z, steps.linear_forward(A_prev, W, b), unit_linear_scale(A_prev, W, b))
    _check_linear_cache(u, cache, A_prev, W, b)


def _check_linear_cache(u: Unit, cache, A_prev, W, b, output: str = "cache") -> None:
    expected = {"A_prev": A_prev, "W": W, "b": b}
    if not (isinstance(cache, (tuple, list)) and len(cache) == 3):
        raise Wrong(output, f"expected (A_prev, W, b), got {_describe(cache)}", CACHE_ORDER)
    held = [
        next(
            (
                k
                for k, v in expected.items()
                if isinstance(c, np.ndarray) and c.shape == v.shape and np.array_equal(c, v)
            ),
            "?",
        )
        for c in cache
    ]
    if held != list(expected):
        raise Wrong(output, f"it holds ({', '.join(held)})", f"caches in the wrong order: {CACHE_ORDER}")


def _check_linear_activation_forward(u: Unit) -> None:
    from torch_ref import steps

    for name in ("sigmoid", "relu"):
        A_prev, W, b = layer(u)
        A, cache = u.parts(u.call(A_prev, W, b, name), ("A", "cache"))
        Z = steps.linear_forward(A_prev, W, b)
        u.close(f"A ({name})", A, steps.activation(name, Z), unit_linear_scale(A_prev, W, b))
        if not (isinstance(cache, (tuple, list)) and len(cache) == 2):
            raise Wrong("cache", f"expected (linear_cache, Z), got {_describe(cache)}", CACHE_ORDER)
        linear_cache, Z_cached = cache
        if isinstance(linear_cache, np.ndarray) and isinstance(Z_cached, (tuple, list)):
            raise Wrong("cache", "it holds (Z, linear_cache)", f"caches in the wrong order: {CACHE_ORDER}")
        _check_linear_cache(u, linear_cache, A_prev, W, b, "cache[0]")
        u.close("cache[1] (Z)", Z_cached, Z, unit_linear_scale(A_prev, W, b))


def _check_linear_backward(u: Unit) -> None:
    from torch_ref import steps

    A_prev, W, b = layer(u)
    dZ = u.randn(N, M)
    dA_prev, dW, db = u.parts(u.call(dZ, (A_prev, W, b)), ("dA_prev", "dW", "db"))
    _close_linear_gradients(u, (dA_prev, dW, db), steps.linear_activation_backward(dZ, A_prev, W, b), dZ, (A_prev, W))


def _close_linear_gradients(u: Unit, got, expected, dZ_size, layer: tuple, dZ=None) -> None:
    """(dA_prev, dW, db) in the order backprop computes them: dW and db first, as the course does.

    dZ_size: what bounds |dZ| (the scales); layer: (A_prev, W); dZ: the gradient itself (dZ_size where not given),
    for db's hint."""
    A_prev, W = layer
    dZ = np.asarray(dZ_size if dZ is None else dZ, dtype=np.float64)
    dW_scale, db_scale, dA_prev_scale = unit_gradient_scales(dZ_size, A_prev, W)
    u.close("dW", got[1], expected[1], dW_scale)
    try:
        u.close("db", got[2], expected[2], db_scale)
    except Wrong as wrong:
        wrong.hint = (db_slip(got[2], dZ) if isinstance(got[2], np.ndarray) else "") or wrong.hint
        raise
    u.close("dA_prev", got[0], expected[0], dA_prev_scale)


def _check_linear_activation_backward(u: Unit) -> None:
    from torch_ref import steps

    for name in ("sigmoid", "relu"):
        A_prev, W, b = layer(u)
        Z = steps.linear_forward(A_prev, W, b)
        Z[0, :2] = 0  # exactly at relu's kink
        dA = u.randn(N, M)
        got = u.parts(u.call(dA, ((A_prev, W, b), Z), name), ("dA_prev", "dW", "db"))
        dZ = steps.activation_backward(name, dA, Z)
        expected = steps.linear_activation_backward(dZ, A_prev, W, b)  # from the same Z, kinks included
        try:
            _close_linear_gradients(u, got, expected, np.abs(dA), (A_prev, W), dZ)
        except Wrong as wrong:
            wrong.output += f" ({name})"
            raise


def _check_compute_cost(u: Unit) -> None:
    from torch_ref import steps

    AL = (0.05 + 0.9 * u.rng.random((1, M))).astype(u.dtype)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    Y[0, :2] = (0, 1)  # both classes
    args: tuple[Any, ...] = (AL, Y)
    function = u.impl.module.compute_cost
    if not _binds(function, 2) and _binds(function, 3):
        third = list(signature_of(function).parameters)[2]
        # older week-3 notebooks: compute_cost(A2, Y, parameters); an extended week-4 one: compute_cost(AL, Y, loss)
        args = (AL, Y, "bce" if third == "loss" or u.impl.API == "deep" else {})
    cost = u.call(*args)
    try:
        cost = float(np.asarray(cost).reshape(()))
    except (TypeError, ValueError):
        raise Wrong("cost", f"expected a number, got {_describe(cost)}") from None
    expected = steps.bce_cost(AL, Y)
    log_A, log_1_minus_A = np.log(AL.astype(np.float64)), np.log1p(-AL.astype(np.float64))
    try:
        u.close("cost", cost, np.asarray(expected), float(np.mean(np.abs(log_A) + np.abs(log_1_minus_A))))
    except Wrong as wrong:
        wrong.hint = bce_slip(cost, log_A, log_1_minus_A, Y) or wrong.hint
        raise


def _check_compute_cost_with_regularization(u: Unit) -> None:
    from torch_ref import steps

    AL = (0.05 + 0.9 * u.rng.random((1, M))).astype(u.dtype)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    params = parameters(u)
    lambd = 0.7
    cost = u.call(AL, Y, params, lambd)
    try:
        cost = float(np.asarray(cost).reshape(()))
    except (TypeError, ValueError):
        raise Wrong("cost", f"expected a number, got {_describe(cost)}") from None
    expected = steps.bce_cost_with_regularization(AL, Y, params, lambd)
    log_A, log_1_minus_A = np.log(AL.astype(np.float64)), np.log1p(-AL.astype(np.float64))
    penalty = lambd / (2 * M) * sum(float(np.sum(v.astype(np.float64) ** 2)) for k, v in params.items() if k[0] == "W")
    try:
        u.close("cost", cost, np.asarray(expected), float(np.mean(np.abs(log_A) + np.abs(log_1_minus_A))) + penalty)
    except Wrong as wrong:
        wrong.hint = l2_slip("cost", 0, cost, expected, L2(params, lambd, M)) or wrong.hint
        raise


def _check_update_parameters(u: Unit) -> None:
    from torch_ref import steps

    params = parameters(u)
    grads = {f"d{k}": u.randn(*v.shape) for k, v in params.items()}
    updated = u.call(params, grads, LEARNING_RATE)
    if not isinstance(updated, dict):
        raise Wrong("parameters", f"expected a dict, got {_describe(updated)}")
    expected = steps.sgd_update(params, grads, LEARNING_RATE)
    none_moved = all(key in updated and np.array_equal(updated[key], value) for key, value in params.items())
    for key in params:
        if key not in updated:
            raise Wrong(key, f"the updated parameters have no {key}")
        step = (
            np.asarray(updated[key], dtype=np.float64) - params[key]
            if np.shape(updated[key]) == params[key].shape
            else updated[key]
        )
        expected_step = expected[key] - params[key].astype(np.float64)
        try:
            u.close(
                f"{key} (its step)",
                step,
                expected_step,
                unit_step_scale(LEARNING_RATE * float(np.max(np.abs(grads[f"d{key}"]))), params[key]),
            )
        except Wrong as wrong:
            wrong.hint = (
                skipped_layer_slip(key, step, len(params) // 2, none_moved)
                or rate_slip(step, expected_step, LEARNING_RATE)
                or wrong.hint
            )
            raise


def _check_propagate(u: Unit) -> None:
    from torch_ref import steps

    w, b, X = u.randn(N_PREV, 1) * 0.5, 0.3, u.randn(N_PREV, M)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    grads, cost = u.parts(u.call(w, b, X, Y), ("grads", "cost"))
    if not isinstance(grads, dict):
        raise Wrong("grads", f"expected a dict with dw and db, got {_describe(grads)}")
    expected, expected_cost = steps.propagate(w, b, X, Y)
    z = np.abs(w.T.astype(np.float64)) @ np.abs(X) + abs(b)
    u.close("dw", grads.get("dw"), np.asarray(expected["dw"]), float(np.max(np.abs(X) @ np.ones((M, 1)))) / M)
    u.close("db", grads.get("db"), np.asarray(expected["db"]), 1.0)
    u.close("cost", np.asarray(cost), np.asarray(expected_cost), float(np.max(z)) + 1.0)


def _check_optimize(u: Unit) -> None:
    """One iteration of optimize: w and b moved by -learning_rate times propagate's gradients (torch's SGD step)."""
    from torch_ref import steps

    w, b, X = u.randn(N_PREV, 1) * 0.5, 0.3, u.randn(N_PREV, M)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    params, _, _ = u.parts(u.call(w, b, X, Y, 1, LEARNING_RATE), ("params", "grads", "costs"))
    if not isinstance(params, dict):
        raise Wrong("params", f'expected a dict {{"w", "b"}}, got {_describe(params)}')
    grads, _ = steps.propagate(w, b, X, Y)
    expected = steps.sgd_update({"w": w, "b": np.array(b)}, grads, LEARNING_RATE)
    try:
        step_w = np.asarray(params.get("w"), dtype=np.float64) - w
        step_b = np.asarray(params.get("b"), dtype=np.float64) - b
    except (TypeError, ValueError):
        raise Wrong(
            "params", f"expected w and b, got {_describe(params.get('w'))} and {_describe(params.get('b'))}"
        ) from None
    compared = {
        "w": (step_w, expected["w"] - w, unit_step_scale(LEARNING_RATE * float(np.max(np.abs(X))), w)),
        "b": (step_b, np.asarray(expected["b"] - b), unit_step_scale(LEARNING_RATE, b)),
    }
    zero_grads, _ = steps.propagate(np.zeros_like(w), 0.0, X, Y)  # a start of its own: initialize_with_zeros inside
    from_zeros = {
        "w": -LEARNING_RATE * np.asarray(zero_grads["dw"]),
        "b": -LEARNING_RATE * np.asarray(zero_grads["db"]),
    }
    for name, (step, expected_step, scale) in compared.items():
        try:
            u.close(f"{name} (its step)", step, expected_step, scale)
        except Wrong as wrong:
            own_start = matches(params.get("w"), from_zeros["w"]) and matches(params.get("b"), from_zeros["b"])
            wrong.hint = (
                "it starts from w = 0 and b = 0, not the w and b it is handed: initialize_with_zeros is called "
                "before optimize (in model), not inside it"
                if own_start
                else rate_slip(step, expected_step, LEARNING_RATE) or wrong.hint
            )
            raise


def _two_layer_inputs(u: Unit):
    X = u.randn(N_PREV, M)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    params = {
        "W1": u.randn(N, N_PREV) * 0.5,
        "b1": u.randn(N, 1) * 0.5,
        "W2": u.randn(1, N) * 0.5,
        "b2": u.randn(1, 1) * 0.5,
    }
    return X, Y, params


def _check_forward_propagation(u: Unit) -> None:
    from torch_ref import steps

    X, Y, params = _two_layer_inputs(u)
    A2, cache = u.parts(u.call(X, params), ("A2", "cache"))
    expected, _ = steps.two_layer(X, Y, params)
    if not isinstance(cache, dict):
        raise Wrong("cache", f'expected a dict {{"Z1", "A1", "Z2", "A2"}}, got {_describe(cache)}')
    scale1 = unit_linear_scale(X, params["W1"], params["b1"])
    scale2 = unit_linear_scale(np.abs(expected["A1"]), params["W2"], params["b2"]) + scale1 * float(
        np.max(np.abs(params["W2"]))
    )
    for key, scale in (("Z1", scale1), ("A1", scale1), ("Z2", scale2), ("A2", scale2)):
        u.close(f'cache["{key}"]', cache.get(key), expected[key], scale)
    u.close("A2", A2, expected["A2"], scale2)


def _check_backward_propagation(u: Unit) -> None:
    from torch_ref import steps

    X, Y, params = _two_layer_inputs(u)
    cache, expected = steps.two_layer(X, Y, params)
    grads = u.call(params, cache, X, Y)
    if not isinstance(grads, dict):
        raise Wrong("grads", f"expected a dict of dW1, db1, dW2, db2, got {_describe(grads)}")
    dZ2 = np.abs(cache["A2"] - Y)
    dW2, db2, _ = unit_gradient_scales(dZ2, cache["A1"], params["W2"])
    dW1, db1, _ = unit_gradient_scales(np.abs(params["W2"].T) @ dZ2, X, params["W1"])
    dZ = {"2": cache["A2"] - Y}
    dZ["1"] = (params["W2"].T @ dZ["2"]) * (1 - cache["A1"] ** 2)
    for key, scale in (("dW2", dW2), ("db2", db2), ("dW1", dW1), ("db1", db1)):
        try:
            u.close(key, grads.get(key), expected[key], float(scale))
        except Wrong as wrong:
            if grads.get(key) is None:  # the detail says it: nothing to derive a slip from
                raise
            if not wrong.hint and key.startswith("db"):
                wrong.hint = db_slip(grads[key], dZ[key[-1]])  # without keepdims, or over the units
            if not wrong.hint and key == "dW1":  # layer 2's gradients agree: the slip is in dZ1
                wrong.hint = (
                    "dW2 and db2 agree: check dZ1 = W2^T dZ2 * (1 - A1^2), tanh's derivative written with A1 = tanh(Z1)"
                )
            elif not wrong.hint and key == "db1":
                wrong.hint = "dW1 agrees, and so does dZ1: check db1 = (1/m) np.sum(dZ1, axis=1, keepdims=True)"
            raise


STEP_CHECKS: dict[str, Callable[[Unit], None]] = {  # the course's order: a function before those that call it
    "sigmoid": _check_activation("sigmoid"),
    "relu": _check_activation("relu"),
    "linear_forward": _check_linear_forward,
    "linear_activation_forward": _check_linear_activation_forward,
    "forward_propagation": _check_forward_propagation,
    "propagate": _check_propagate,
    "optimize": _check_optimize,
    "compute_cost": _check_compute_cost,
    "compute_cost_with_regularization": _check_compute_cost_with_regularization,
    "sigmoid_backward": _check_activation_backward("sigmoid"),
    "relu_backward": _check_activation_backward("relu"),
    "linear_backward": _check_linear_backward,
    "linear_activation_backward": _check_linear_activation_backward,
    "backward_propagation": _check_backward_propagation,
    "update_parameters": _check_update_parameters,
    "update_parameters_with_gd": _check_update_parameters,  # the optimisation notebook's name for the same step
}
