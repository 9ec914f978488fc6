"""Function by function: each course function the module defines, on its own, against torch.

Before the network checks, every course function the implementation defines gets seeded
random inputs of the course's shapes (n[l-1] = 4, n[l] = 3, m = 5: no two alike, so a
transposed matrix cannot pass; Z with exact zeros, so relu'(0) is checked; a random upstream
gradient, so a backward function is not judged only where the cost's gradient happens to be
small) and its outputs are compared, one by one, with torch's (torch_ref/steps.py). The first
wrong output names the slip where it lives: `linear_backward`'s db, not the network's db1.
Initialisers have no torch counterpart: their shapes, dtypes, zero biases, scale and
symmetry breaking are checked against the course's rules.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .adam import bias_correction
from .compare import mismatch
from .config import Config
from .errors import ImplementationError
from .hints import (
    activation_backward_slip,
    bce_slip,
    db_slip,
    decay_slips,
    diagnose,
    fitting_slip,
    l2_slip,
    matches,
    optimizer_slips,
    skipped_layer_slip,
)
from .impl.base import DECAY_FUNCTIONS, OPTIMIZER_FUNCTIONS, _binds, _describe
from .optimization import course_permutation
from .tolerance import unit_gradient_scales, unit_linear_scale, unit_step_scale

N_PREV, N, M = 4, 3, 5  # a layer's shapes in the unit checks
# The initialisers' layers: wide enough that the weights' spread is measured, not guessed (about 5,000 draws).
DEEP_DIMS = [50, 40, 40, 30, 1]
TWO_LAYER_DIMS = [50, 40, 1]
# Small random weights: W[l] scaled by 0.01, 1/sqrt(n[l-1]) or sqrt(2/n[l-1]) (He), so W[l] sqrt(n[l-1]) has a
# spread of at most about 1.4 (He); unscaled randn gives sqrt(n[l-1]), 5 or more here.
SPREAD_LIMIT = 2.5
LEARNING_RATE = 0.1
CACHE_ORDER = "the course's linear cache is (A_prev, W, b) and linear_activation_forward's cache is (linear_cache, Z)"

# A function that calls another course function fails with it: it is marked, not blamed.
CALLS = {
    "linear_activation_forward": ("linear_forward", "sigmoid", "relu"),
    "linear_activation_backward": ("linear_backward", "sigmoid_backward", "relu_backward"),
    "propagate": ("sigmoid",),
    "optimize": ("propagate",),
    "forward_propagation": ("sigmoid",),
    "compute_cost_with_regularization": ("compute_cost",),
}


@dataclass
class UnitResult:
    """One course function's check: ok, or its first wrong output and what the numbers suggest."""

    function: str
    status: str = "ok"  # ok or FAIL
    output: str = ""  # the first wrong output: "db", "cache", "dw", ...
    detail: str = ""  # how it differs
    hint: str = ""
    follows: str = ""  # a course function it calls that failed first
    in_network: bool = True  # whether the network checks run it (not an unused initialiser or optimiser)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def fix(self) -> str:
        """'fix `linear_backward`: its db differs (it is m = 5 times the expected value: a missing 1/m)'."""
        why = self.hint or self.detail
        return f"fix `{self.function}`: " + (f"its {self.output} differs ({why})" if self.output else why)

    def as_dict(self) -> dict:
        return {
            "function": self.function,
            "status": self.status,
            "output": self.output,
            "detail": self.detail,
            "hint": self.hint,
            "follows": self.follows,
            "in_network": self.in_network,
        }


class _Wrong(Exception):
    def __init__(self, output: str, detail: str, hint: str = ""):
        super().__init__(detail)
        self.output, self.detail, self.hint = output, detail, hint


class _Unit:
    """What one unit check needs: the implementation's calls, seeded inputs, and comparisons."""

    def __init__(self, impl, function: str, dtype: str, rtol: float, seed: int):
        self.impl, self.function, self.dtype, self.rtol = impl, function, np.dtype(dtype), rtol
        self.rng = np.random.default_rng([seed, 7, len(function)])

    def randn(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape).astype(self.dtype)

    def call(self, *args, function: str | None = None):
        return self.impl.call(function or self.function, *args)

    def parts(self, result, names: tuple[str, ...]) -> tuple:
        if len(names) == 1:
            return (result,)
        if not (isinstance(result, (tuple, list)) and len(result) == len(names)):
            raise _Wrong("", f"expected ({', '.join(names)}), got {_describe(result)}")
        return tuple(result)

    def in_run_dtype(self, output: str, value) -> None:
        """A float output narrower than the run's dtype (float32 in a float64 run) has lost the run's precision."""
        dtype = getattr(value, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < np.dtype(self.dtype).itemsize:
            raise _Wrong(
                output,
                f"it is {dtype} in a {self.dtype} run",
                f"a {dtype} array or constant (np.{dtype}(...), .astype({dtype})) rounds the run's numbers",
            )

    def close(self, output: str, value, expected: np.ndarray, scale: float, Z: np.ndarray | None = None) -> None:
        """value agrees with torch's `expected` within rtol x scale (scale: the size of the terms it sums)."""
        expected = np.asarray(expected)
        if value is None:
            raise _Wrong(output, "got nothing (None): a missing return, or a missing key")
        self.in_run_dtype(output, value)
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise _Wrong(output, f"expected an array, got {_describe(value)}") from None
        if value.shape != expected.shape and value.size == expected.size == 1:
            value = value.reshape(expected.shape)  # a number for a (1, 1) array, or back
        if value.shape != expected.shape:  # the detail says the shapes; the hint only what they suggest
            raise _Wrong(
                output,
                f"the shape is {value.shape}, expected {expected.shape}",
                "the shape is transposed" if value.shape == expected.shape[::-1] else "",
            )
        gap = np.abs(value - expected)
        allowed = self.rtol * scale
        if not np.all(np.isfinite(value)) or float(np.max(gap)) > allowed:
            bad = ~(gap <= allowed)
            worst = np.unravel_index(int(np.argmax(np.where(np.isfinite(gap), gap, np.inf))), gap.shape)
            detail = mismatch(int(bad.sum()), gap.size, worst, value[worst], expected[worst])
            hint = diagnose(value, expected, M)
            if not hint and Z is not None and np.all(Z[bad] == 0):
                hint = "it differs only where Z is exactly 0: the course's relu'(0) is 0 (dZ[Z <= 0] = 0), as in torch"
            raise _Wrong(output, detail, hint)

    def same(self, output: str, value, expected: np.ndarray, hint: str = "") -> None:
        """value is the very array handed in (a cache keeps its inputs as they are)."""
        if not (isinstance(value, np.ndarray) and value.shape == expected.shape and np.array_equal(value, expected)):
            raise _Wrong(output, f"it should hold the input unchanged, got {_describe(value)}", hint)


INITIALISER = {
    "logreg": "initialize_with_zeros",
    "shallow": "initialize_parameters",
    "deep": "initialize_parameters_deep",
}
REGULARISATION = ("compute_cost_with_regularization",)
OPTIMISATION = (
    "random_mini_batches",
    "initialize_velocity",
    "update_parameters_with_momentum",
    "initialize_adam",
    "update_parameters_with_adam",
    "update_lr",
    "schedule_lr_decay",
)


def check_functions(impl, config: Config) -> list[UnitResult]:
    """Every course function `impl.module` defines, checked on its own, in the course's order, in config's dtype
    and relative tolerance, its inputs drawn from config's seed.

    config's init impl: the network starts from the implementation's initialiser (its API's own), which is then in
    the network. Its optimizer and decay: their functions are in the network (its mini-batches are the verifier's
    own); its lambd: the regularised cost is.
    """
    return list(each_function_checked(impl, config))


def each_function_checked(impl, config: Config) -> Iterator[UnitResult]:
    """check_functions' results one at a time, each as soon as it is known (a run stopped midway keeps them)."""
    dtype, rtol, seed = config.dtype, config.relative_tolerance, config.seed
    init_impl = config.init == "impl"
    used = (
        set(OPTIMIZER_FUNCTIONS.get(config.optimizer, ()))
        | ({DECAY_FUNCTIONS[config.decay]} if config.decay else set())
        | (set(REGULARISATION) if config.lambd else set())
    )
    results: dict[str, UnitResult] = {}
    for function, check in CHECKS.items():
        if not callable(getattr(impl.module, function, None)):
            continue
        unit = _Unit(impl, function, dtype, rtol, seed)
        result = UnitResult(function)
        try:
            with np.errstate(all="ignore"):
                check(unit)
        except _Wrong as wrong:
            result.status, result.output, result.detail, result.hint = "FAIL", wrong.output, wrong.detail, wrong.hint
        except ImplementationError as error:
            result.status, result.detail = "FAIL", str(error).removeprefix(function).lstrip(": ")
            result.hint = _hint_for_raise(function, error)
        failed_calls = [f for f in CALLS.get(function, ()) if f in results and not results[f].ok]
        if not result.ok and failed_calls:
            result.follows = failed_calls[0]
        initialiser = function in INITIALISER.values()
        optional = function in OPTIMISATION + REGULARISATION
        result.in_network = not (
            (optional and function not in used)
            or (initialiser and not (init_impl and function == INITIALISER.get(impl.API)))
        )
        results[function] = result
        yield result


def _hint_for_raise(function: str, error: ImplementationError) -> str:
    text = str(error)
    if any(word in text for word in ("shape", "aligned", "broadcast", "dimension")):
        if "backward" in function:
            return f"a shape error: check the order the cache is unpacked in ({CACHE_ORDER}) and each transpose"
        return "a shape error: check each product's order and transposes, Z = W A_prev + b with W (n[l], n[l-1])"
    return ""


def _layer(u: _Unit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A_prev (n[l-1], m), W (n[l], n[l-1]) and b (n[l], 1), random, of the unit checks' shapes."""
    return u.randn(N_PREV, M), u.randn(N, N_PREV) / N_PREV**0.5, u.randn(N, 1) * 0.5


def _parameters(u: _Unit) -> dict:
    """W1, b1, ..., WL, bL, random, with the run's number of layers L (at least 2), so that a layer named here is
    the layer of the same name in the network checks (W3 is the last layer of both): n = (4, 3, ..., 3, 1)."""
    dims = [N_PREV] + [N] * (max(u.impl.L, 2) - 1) + [1]
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"], params[f"b{l}"] = u.randn(dims[l], dims[l - 1]), u.randn(dims[l], 1)
    return params


def _z_with_zeros(u: _Unit) -> np.ndarray:
    Z = u.randn(N, M)
    Z[0, :2] = 0  # exactly at the kink: relu'(0) must be 0
    Z[2, 4] = 0
    return Z


def _activation_output(u: _Unit, result, Z) -> np.ndarray:
    """The course's week-4 helpers return (A, cache = Z); week 2 and 3's sigmoid(z) returns A alone."""
    if isinstance(result, tuple):
        A, cache = u.parts(result, ("A", "cache"))
        u.same("cache", cache, Z, "the activation's cache is Z itself")
        return A
    return result


def _check_activation(name: str) -> Callable[[_Unit], None]:
    def check(u: _Unit) -> None:
        from torch_ref import steps

        Z = _z_with_zeros(u) * 3
        A = _activation_output(u, u.call(Z), Z)
        u.close("A", A, steps.activation(name, Z), 1.0, Z)

    return check


def _check_activation_backward(name: str) -> Callable[[_Unit], None]:
    def check(u: _Unit) -> None:
        from torch_ref import steps

        Z, dA = _z_with_zeros(u) * 3, u.randn(N, M)
        dZ = u.call(dA, Z)
        try:
            u.close("dZ", dZ, steps.activation_backward(name, dA, Z), float(np.max(np.abs(dA))), Z)
        except _Wrong as wrong:
            g_prime = steps.activation_backward(name, np.ones_like(dA), Z)
            wrong.hint = activation_backward_slip(name, dZ, dA, steps.activation(name, Z), g_prime) or wrong.hint
            raise

    return check


def _check_linear_forward(u: _Unit) -> None:
    from torch_ref import steps

    A_prev, W, b = _layer(u)
    Z, cache = u.parts(u.call(A_prev, W, b), ("Z", "cache"))
    u.close("Z", Z, steps.linear_forward(A_prev, W, b), unit_linear_scale(A_prev, W, b))
    _check_linear_cache(u, cache, A_prev, W, b)


def _check_linear_cache(u: _Unit, cache, A_prev, W, b, output: str = "cache") -> None:
    expected = {"A_prev": A_prev, "W": W, "b": b}
    if not (isinstance(cache, tuple) and len(cache) == 3):
        raise _Wrong(output, f"expected (A_prev, W, b), got {_describe(cache)}", CACHE_ORDER)
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
        raise _Wrong(output, f"it holds ({', '.join(held)})", f"caches in the wrong order: {CACHE_ORDER}")


def _check_linear_activation_forward(u: _Unit) -> None:
    from torch_ref import steps

    for name in ("sigmoid", "relu"):
        A_prev, W, b = _layer(u)
        A, cache = u.parts(u.call(A_prev, W, b, name), ("A", "cache"))
        Z = steps.linear_forward(A_prev, W, b)
        u.close(f"A ({name})", A, steps.activation(name, Z), unit_linear_scale(A_prev, W, b))
        if not (isinstance(cache, tuple) and len(cache) == 2):
            raise _Wrong("cache", f"expected (linear_cache, Z), got {_describe(cache)}", CACHE_ORDER)
        linear_cache, Z_cached = cache
        if isinstance(linear_cache, np.ndarray) and isinstance(Z_cached, tuple):
            raise _Wrong("cache", "it holds (Z, linear_cache)", f"caches in the wrong order: {CACHE_ORDER}")
        _check_linear_cache(u, linear_cache, A_prev, W, b, "cache[0]")
        u.close("cache[1] (Z)", Z_cached, Z, unit_linear_scale(A_prev, W, b))


def _check_linear_backward(u: _Unit) -> None:
    from torch_ref import steps

    A_prev, W, b = _layer(u)
    dZ = u.randn(N, M)
    dA_prev, dW, db = u.parts(u.call(dZ, (A_prev, W, b)), ("dA_prev", "dW", "db"))
    _close_linear_gradients(u, (dA_prev, dW, db), steps.linear_activation_backward(dZ, A_prev, W, b), dZ, A_prev, W)


def _close_linear_gradients(u: _Unit, got, expected, dZ_size, A_prev, W, dZ=None) -> None:
    """(dA_prev, dW, db) in the order backprop computes them: dW and db first, as the course does.

    dZ_size: what bounds |dZ| (the scales); dZ: the gradient itself (dZ_size where not given), for db's hint."""
    dZ = np.asarray(dZ_size if dZ is None else dZ, dtype=np.float64)
    dW_scale, db_scale, dA_prev_scale = unit_gradient_scales(dZ_size, A_prev, W)
    u.close("dW", got[1], expected[1], dW_scale)
    try:
        u.close("db", got[2], expected[2], db_scale)
    except _Wrong as wrong:
        wrong.hint = (db_slip(got[2], dZ) if isinstance(got[2], np.ndarray) else "") or wrong.hint
        raise
    u.close("dA_prev", got[0], expected[0], dA_prev_scale)


def _check_linear_activation_backward(u: _Unit) -> None:
    from torch_ref import steps

    for name in ("sigmoid", "relu"):
        A_prev, W, b = _layer(u)
        Z = steps.linear_forward(A_prev, W, b)
        Z[0, :2] = 0  # exactly at relu's kink
        dA = u.randn(N, M)
        got = u.parts(u.call(dA, ((A_prev, W, b), Z), name), ("dA_prev", "dW", "db"))
        dZ = steps.activation_backward(name, dA, Z)
        expected = steps.linear_activation_backward(dZ, A_prev, W, b)  # from the same Z, kinks included
        try:
            _close_linear_gradients(u, got, expected, np.abs(dA), A_prev, W, dZ)
        except _Wrong as wrong:
            wrong.output += f" ({name})"
            raise


def _check_compute_cost(u: _Unit) -> None:
    from torch_ref import steps

    AL = (0.05 + 0.9 * u.rng.random((1, M))).astype(u.dtype)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    Y[0, :2] = (0, 1)  # both classes
    args: tuple[Any, ...] = (AL, Y)
    function = u.impl.module.compute_cost
    if not _binds(function, 2) and _binds(function, 3):
        third = list(inspect.signature(function).parameters)[2]
        # older week-3 notebooks: compute_cost(A2, Y, parameters); an extended week-4 one: compute_cost(AL, Y, loss)
        args = (AL, Y, "bce" if third == "loss" or u.impl.API == "deep" else {})
    cost = u.call(*args)
    try:
        cost = float(np.asarray(cost).reshape(()))
    except (TypeError, ValueError):
        raise _Wrong("cost", f"expected a number, got {_describe(cost)}") from None
    expected = steps.bce_cost(AL, Y)
    log_A, log_1_minus_A = np.log(AL.astype(np.float64)), np.log1p(-AL.astype(np.float64))
    try:
        u.close("cost", cost, np.asarray(expected), float(np.mean(np.abs(log_A) + np.abs(log_1_minus_A))))
    except _Wrong as wrong:
        wrong.hint = bce_slip(cost, log_A, log_1_minus_A, Y) or wrong.hint
        raise


def _check_compute_cost_with_regularization(u: _Unit) -> None:
    from torch_ref import steps

    AL = (0.05 + 0.9 * u.rng.random((1, M))).astype(u.dtype)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    params = _parameters(u)
    lambd = 0.7
    cost = u.call(AL, Y, params, lambd)
    try:
        cost = float(np.asarray(cost).reshape(()))
    except (TypeError, ValueError):
        raise _Wrong("cost", f"expected a number, got {_describe(cost)}") from None
    expected = steps.bce_cost_with_regularization(AL, Y, params, lambd)
    log_A, log_1_minus_A = np.log(AL.astype(np.float64)), np.log1p(-AL.astype(np.float64))
    penalty = lambd / (2 * M) * sum(float(np.sum(v.astype(np.float64) ** 2)) for k, v in params.items() if k[0] == "W")
    try:
        u.close("cost", cost, np.asarray(expected), float(np.mean(np.abs(log_A) + np.abs(log_1_minus_A))) + penalty)
    except _Wrong as wrong:
        wrong.hint = l2_slip("cost", 0, cost, expected, params, lambd, M) or wrong.hint
        raise


def _check_update_parameters(u: _Unit) -> None:
    from torch_ref import steps

    params = _parameters(u)
    grads = {f"d{k}": u.randn(*v.shape) for k, v in params.items()}
    updated = u.call(params, grads, LEARNING_RATE)
    if not isinstance(updated, dict):
        raise _Wrong("parameters", f"expected a dict, got {_describe(updated)}")
    expected = steps.sgd_update(params, grads, LEARNING_RATE)
    for key in params:
        if key not in updated:
            raise _Wrong(key, f"the updated parameters have no {key}")
        step = (
            np.asarray(updated[key], dtype=np.float64) - params[key]
            if np.shape(updated[key]) == params[key].shape
            else updated[key]
        )
        try:
            u.close(
                f"{key} (its step)",
                step,
                expected[key] - params[key].astype(np.float64),
                unit_step_scale(LEARNING_RATE * float(np.max(np.abs(grads[f"d{key}"]))), params[key]),
            )
        except _Wrong as wrong:
            wrong.hint = skipped_layer_slip(key, step, len(params) // 2) or wrong.hint
            raise


def _check_propagate(u: _Unit) -> None:
    from torch_ref import steps

    w, b, X = u.randn(N_PREV, 1) * 0.5, 0.3, u.randn(N_PREV, M)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    grads, cost = u.parts(u.call(w, b, X, Y), ("grads", "cost"))
    if not isinstance(grads, dict):
        raise _Wrong("grads", f"expected a dict with dw and db, got {_describe(grads)}")
    expected, expected_cost = steps.propagate(w, b, X, Y)
    z = np.abs(w.T.astype(np.float64)) @ np.abs(X) + abs(b)
    u.close("dw", grads.get("dw"), np.asarray(expected["dw"]), float(np.max(np.abs(X) @ np.ones((M, 1)))) / M)
    u.close("db", grads.get("db"), np.asarray(expected["db"]), 1.0)
    u.close("cost", np.asarray(cost), np.asarray(expected_cost), float(np.max(z)) + 1.0)


def _check_optimize(u: _Unit) -> None:
    """One iteration of optimize: w and b moved by -learning_rate times propagate's gradients (torch's SGD step)."""
    from torch_ref import steps

    w, b, X = u.randn(N_PREV, 1) * 0.5, 0.3, u.randn(N_PREV, M)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    params, _, _ = u.parts(u.call(w, b, X, Y, 1, LEARNING_RATE), ("params", "grads", "costs"))
    if not isinstance(params, dict):
        raise _Wrong("params", f'expected a dict {{"w", "b"}}, got {_describe(params)}')
    grads, _ = steps.propagate(w, b, X, Y)
    expected = steps.sgd_update({"w": w, "b": np.array(b)}, grads, LEARNING_RATE)
    try:
        step_w = np.asarray(params.get("w"), dtype=np.float64) - w
        step_b = np.asarray(params.get("b"), dtype=np.float64) - b
    except (TypeError, ValueError):
        raise _Wrong(
            "params", f"expected w and b, got {_describe(params.get('w'))} and {_describe(params.get('b'))}"
        ) from None
    u.close(
        "w (its step)",
        step_w,
        expected["w"] - w,
        unit_step_scale(LEARNING_RATE * float(np.max(np.abs(X))), w),
    )
    u.close("b (its step)", step_b, np.asarray(expected["b"] - b), unit_step_scale(LEARNING_RATE, b))


def _two_layer_inputs(u: _Unit):
    X = u.randn(N_PREV, M)
    Y = (u.rng.random((1, M)) < 0.5).astype(u.dtype)
    params = {
        "W1": u.randn(N, N_PREV) * 0.5,
        "b1": u.randn(N, 1) * 0.5,
        "W2": u.randn(1, N) * 0.5,
        "b2": u.randn(1, 1) * 0.5,
    }
    return X, Y, params


def _check_forward_propagation(u: _Unit) -> None:
    from torch_ref import steps

    X, Y, params = _two_layer_inputs(u)
    A2, cache = u.parts(u.call(X, params), ("A2", "cache"))
    expected, _ = steps.two_layer(X, Y, params)
    if not isinstance(cache, dict):
        raise _Wrong("cache", f'expected a dict {{"Z1", "A1", "Z2", "A2"}}, got {_describe(cache)}')
    scale1 = unit_linear_scale(X, params["W1"], params["b1"])
    scale2 = unit_linear_scale(np.abs(expected["A1"]), params["W2"], params["b2"]) + scale1 * float(
        np.max(np.abs(params["W2"]))
    )
    for key, scale in (("Z1", scale1), ("A1", scale1), ("Z2", scale2), ("A2", scale2)):
        u.close(f'cache["{key}"]', cache.get(key), expected[key], scale)
    u.close("A2", A2, expected["A2"], scale2)


def _check_backward_propagation(u: _Unit) -> None:
    from torch_ref import steps

    X, Y, params = _two_layer_inputs(u)
    cache, expected = steps.two_layer(X, Y, params)
    grads = u.call(params, cache, X, Y)
    if not isinstance(grads, dict):
        raise _Wrong("grads", f"expected a dict of dW1, db1, dW2, db2, got {_describe(grads)}")
    dZ2 = np.abs(cache["A2"] - Y)
    dW2, db2, _ = unit_gradient_scales(dZ2, cache["A1"], params["W2"])
    dW1, db1, _ = unit_gradient_scales(np.abs(params["W2"].T) @ dZ2, X, params["W1"])
    for key, scale in (("dW2", dW2), ("db2", db2), ("dW1", dW1), ("db1", db1)):
        try:
            u.close(key, grads.get(key), expected[key], float(scale))
        except _Wrong as wrong:
            if key.endswith("1") and not wrong.hint:  # layer 2's gradients agree: the slip is in dZ1
                wrong.hint = (
                    "dW2 and db2 agree: check dZ1 = W2^T dZ2 * (1 - A1^2), tanh's derivative written with A1 = tanh(Z1)"
                )
            raise


def _check_weights(u: _Unit, params, dims: list[int]) -> None:
    """The course's initialisation: W[l] (n[l], n[l-1]) small and random, b[l] (n[l], 1) zeros."""
    if not isinstance(params, dict):
        raise _Wrong("parameters", f"expected a dict, got {_describe(params)}")
    seen: list[tuple[int, np.ndarray]] = []  # (l, W[l]) of the layers checked so far
    for l in range(1, len(dims)):
        W, b = params.get(f"W{l}"), params.get(f"b{l}")
        for key, value, shape in ((f"W{l}", W, (dims[l], dims[l - 1])), (f"b{l}", b, (dims[l], 1))):
            if not isinstance(value, np.ndarray) or value.shape != shape:
                raise _Wrong(
                    key,
                    f"expected an array of shape {shape}, got {_describe(value)}",
                    "the shape is transposed" if isinstance(value, np.ndarray) and value.shape == shape[::-1] else "",
                )
            if not np.issubdtype(value.dtype, np.floating):
                raise _Wrong(key, f"its dtype is {value.dtype}, expected a floating-point array")
        assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray), "each was checked just above"
        if np.any(b != 0):
            raise _Wrong(f"b{l}", "the course initialises the biases to zeros", "b = np.zeros((n[l], 1))")
        if W.size > 1 and np.all(W == W.flat[0]):
            raise _Wrong(
                f"W{l}",
                f"every entry is {W.flat[0]:g}",
                "equal weights never break the symmetry: every unit of the layer learns the same thing",
            )
        if not float(np.std(W)) > 0:
            raise _Wrong(f"W{l}", "its entries do not vary", "the course draws random weights")
        for k, other in seen:
            n = min(other.size, W.size)  # a generator re-seeded per layer repeats its first draws, whatever the shapes
            if np.array_equal(other.ravel()[:n], W.ravel()[:n]):
                raise _Wrong(
                    f"W{l}",
                    f"its first {n} entries repeat W{k}'s",
                    "each layer must draw its own weights (a generator re-seeded per layer repeats them)",
                )
        seen.append((l, W))
    spread = float(np.sqrt(np.mean(np.concatenate([(W * np.sqrt(W.shape[1])).ravel() ** 2 for _, W in seen]))))
    if spread > SPREAD_LIMIT:
        raise _Wrong(
            "W",
            f"the weights times sqrt(n[l-1]) have a spread of {spread:.3g}, where the course's "
            f"initialisations give at most about 1.4",
            "the course draws small random weights: randn(...) * 0.01, or / sqrt(n[l-1]) (He: * sqrt(2 / n[l-1]))",
        )


def _check_initialize_parameters(u: _Unit) -> None:
    _check_weights(u, u.call(*TWO_LAYER_DIMS), TWO_LAYER_DIMS)


def _check_initialize_parameters_deep(u: _Unit) -> None:
    _check_weights(u, u.call(list(DEEP_DIMS)), DEEP_DIMS)


def _check_initialize_with_zeros(u: _Unit) -> None:
    w, b = u.parts(u.call(N_PREV), ("w", "b"))
    if not (isinstance(w, np.ndarray) and w.shape == (N_PREV, 1) and np.issubdtype(w.dtype, np.floating)):
        raise _Wrong("w", f"expected a float array of shape {(N_PREV, 1)}, got {_describe(w)}")
    if np.any(w != 0):
        raise _Wrong("w", "it should be zeros")
    if not (isinstance(b, (int, float, np.floating, np.integer)) and b == 0):
        raise _Wrong(
            "b",
            f"expected the number 0, got {_describe(b) if not isinstance(b, (int, float)) else b}",
            "b is a number (0.0), not an array" if isinstance(b, np.ndarray) else "",
        )


BETA, ADAM_T, BETA1, BETA2, EPSILON = 0.9, 3, 0.9, 0.999, 1e-2  # a large epsilon, so where it is added shows


def _optimizer_inputs(u: _Unit) -> tuple[dict, dict, dict, dict]:
    """Parameters, gradients, and mid-training moments v and s (non-zero, as after a few steps), keyed like the course."""
    params = _parameters(u)
    grads = {f"d{k}": u.randn(*p.shape) for k, p in params.items()}
    v = {k: u.randn(*g.shape) * 0.1 for k, g in grads.items()}
    s = {k: np.abs(u.randn(*g.shape)) * 0.01 for k, g in grads.items()}
    return params, grads, v, s


def _check_zeros_like(u: _Unit, output: str, value, params: dict) -> None:
    if not isinstance(value, dict):
        raise _Wrong(output, f"expected a dict keyed dW1, db1, ..., got {_describe(value)}")
    for key, p in params.items():
        got = value.get(f"d{key}")
        if not (isinstance(got, np.ndarray) and got.shape == p.shape):
            raise _Wrong(output, f'its "d{key}" should be an array of shape {p.shape}, got {_describe(got)}')
        if np.any(got != 0):
            raise _Wrong(output, f'its "d{key}" should start at zeros')


def _check_initialize_velocity(u: _Unit) -> None:
    params = _optimizer_inputs(u)[0]
    _check_zeros_like(u, "v", u.call(params), params)


def _check_initialize_adam(u: _Unit) -> None:
    params = _optimizer_inputs(u)[0]
    v, s = u.parts(u.call(params), ("v", "s"))
    _check_zeros_like(u, "v", v, params)
    _check_zeros_like(u, "s", s, params)


def _close_moments(u: _Unit, output: str, got, expected: dict, terms: dict, slips: dict) -> None:
    """Each entry of a dict of moments against torch's; `slips`: hint -> what a classic slip would have given."""
    if not isinstance(got, dict):
        raise _Wrong(output, f"expected a dict keyed dW1, db1, ..., got {_describe(got)}")
    for key, value in expected.items():
        try:
            u.close(
                f"step of {key[1:]}" if output == "step of" else f'{output}["{key}"]', got.get(key), value, terms[key]
            )
        except _Wrong as wrong:
            wrong.hint = fitting_slip(got.get(key), key, slips) or wrong.hint
            raise


def _close_steps(u: _Unit, got, params: dict, expected: dict, slips: dict) -> None:
    """The step each parameter took, got[key] - params[key], against torch's; `slips` keyed like the gradients."""
    if not isinstance(got, dict):
        raise _Wrong("parameters", f"expected a dict, got {_describe(got)}")
    steps_got = {}
    for key, p in params.items():
        new = got.get(key)
        if not (isinstance(new, np.ndarray) and new.shape == p.shape):
            raise _Wrong(key, f"should be an array of shape {p.shape}, got {_describe(new)}")
        u.in_run_dtype(key, new)
        steps_got[f"d{key}"] = new.astype(np.float64) - p
    _close_moments(
        u,
        "step of",
        steps_got,
        {f"d{k}": expected[k] - params[k] for k in params},
        {f"d{k}": unit_step_scale(float(np.max(np.abs(expected[k] - params[k]))), params[k]) for k in params},
        slips,
    )


def _check_update_parameters_with_momentum(u: _Unit) -> None:
    from torch_ref import steps

    params, grads, v, _ = _optimizer_inputs(u)
    new_params, new_v = u.parts(u.call(params, grads, v, BETA, LEARNING_RATE), ("parameters", "v"))
    expected_params, expected_v = steps.momentum_step(params, grads, v, BETA, LEARNING_RATE)
    terms = {k: float(np.max(BETA * np.abs(v[k]) + (1 - BETA) * np.abs(grads[k]))) for k in v}
    settings = {"beta": BETA}
    _close_moments(u, "v", new_v, expected_v, terms, optimizer_slips("v", v, {}, grads, 1, settings))
    _close_steps(
        u, new_params, params, expected_params, optimizer_slips("step", v, {}, grads, 1, settings, LEARNING_RATE)
    )


def _check_update_parameters_with_adam(u: _Unit) -> None:
    from torch_ref import steps

    params, grads, v, s = _optimizer_inputs(u)
    result = u.call(params, grads, v, s, ADAM_T, LEARNING_RATE, BETA1, BETA2, EPSILON)
    if isinstance(result, tuple) and len(result) == 3:  # older notebooks: (parameters, v, s)
        result = (*result, None, None)
    new_params, new_v, new_s, v_hat, s_hat = u.parts(result, ("parameters", "v", "s", "v_corrected", "s_corrected"))
    expected = steps.adam_step(params, grads, v, s, ADAM_T, LEARNING_RATE, BETA1, BETA2, EPSILON)
    settings = {"beta1": BETA1, "beta2": BETA2, "epsilon": EPSILON}
    v_terms = {k: float(np.max(BETA1 * np.abs(v[k]) + (1 - BETA1) * np.abs(grads[k]))) for k in v}
    s_terms = {k: float(np.max(BETA2 * s[k] + (1 - BETA2) * grads[k] ** 2)) for k in s}
    _close_moments(u, "v", new_v, expected[1], v_terms, optimizer_slips("v", v, s, grads, ADAM_T, settings))
    _close_moments(u, "s", new_s, expected[2], s_terms, optimizer_slips("s", v, s, grads, ADAM_T, settings))
    corrections = {"v_corrected": (v_hat, BETA1, v_terms), "s_corrected": (s_hat, BETA2, s_terms)}
    moments = {"v": expected[1], "s": expected[2]}
    for name, (got, beta, terms) in corrections.items():
        if got is None:
            continue
        _close_moments(
            u,
            name,
            got,
            expected[3 if name == "v_corrected" else 4],
            {k: terms[k] / bias_correction(beta, ADAM_T) for k in terms},
            optimizer_slips(name, v, s, grads, ADAM_T, settings, moments=moments),
        )
    corrected = {"v_corrected": expected[3], "s_corrected": expected[4]}
    _close_steps(
        u,
        new_params,
        params,
        expected[0],
        optimizer_slips("step", v, s, grads, ADAM_T, settings, LEARNING_RATE, corrected=corrected),
    )


def _check_decay(name: str) -> Callable[[_Unit], None]:
    def check(u: _Unit) -> None:
        from torch_ref.optimizers import lr_factor

        lr0, rate, epochs = 0.2, 0.5, (0, 1, 3, 2500)
        takes_interval = name == "schedule_lr_decay" and _binds(getattr(u.impl.module, name), 4)
        interval = 2 if takes_interval else 1000
        factor = lr_factor("inverse" if name == "update_lr" else "scheduled", rate, interval)
        rates = []
        for epoch in epochs:
            got = u.call(*((lr0, epoch, rate) + ((interval,) if takes_interval else ())))
            try:
                rates.append(float(np.asarray(got).reshape(())))
            except (TypeError, ValueError):
                raise _Wrong("learning rate", f"expected a number, got {_describe(got)}") from None
        for epoch, got in zip(epochs, rates):
            try:  # LambdaLR's factor for epoch e + 1 is the course's rate after epoch e (see torch_ref.optimizers)
                u.close(f"learning rate at epoch {epoch}", np.asarray(got), np.asarray(lr0 * factor(epoch + 1)), lr0)
            except _Wrong as wrong:  # a slip's hint fits the rate at every epoch, not only where it first shows
                slips = decay_slips(name, lr0, rate, interval)
                wrong.hint = next(
                    (
                        hint
                        for hint, slip in slips.items()
                        if matches(np.array(rates), np.array([slip(e) for e in epochs]))
                    ),
                    wrong.hint,
                )
                raise

    return check


def _check_random_mini_batches(u: _Unit) -> None:
    m, size = 10, 4
    X = np.arange(N_PREV * m, dtype=u.dtype).reshape(N_PREV, m)  # each column tells where it came from
    Y = X[:1] + 0.5
    seed = 1
    batches = u.call(X, Y, size, seed)
    if not isinstance(batches, (list, tuple)) or not all(isinstance(b, (tuple, list)) and len(b) == 2 for b in batches):
        raise _Wrong("mini_batches", f"expected a list of (X_batch, Y_batch), got {_describe(batches)}")
    for X_batch, Y_batch in batches:
        ok = (
            isinstance(X_batch, np.ndarray)
            and isinstance(Y_batch, np.ndarray)
            and X_batch.ndim == Y_batch.ndim == 2
            and X_batch.shape[0] == N_PREV
            and Y_batch.shape == (1, X_batch.shape[1])
        )
        if not ok:
            raise _Wrong(
                "mini_batches",
                f"a batch should be X ({N_PREV}, k) and Y (1, k), got {_describe(X_batch)} and {_describe(Y_batch)}",
                "cut the columns, X[:, a:b] and Y[:, a:b]",
            )
    sizes = [b[0].shape[1] for b in batches]
    if sizes != [4, 4, 2]:
        missing = "the course keeps a last, smaller batch of the rest" if sizes == [4, 4] else ""
        raise _Wrong("mini_batches", f"m = {m} in batches of {size}: expected sizes [4, 4, 2], got {sizes}", missing)
    X_all, Y_all = np.hstack([b[0] for b in batches]), np.hstack([b[1] for b in batches])
    if sorted(X_all[0].tolist()) != X[0].tolist() or X_all.shape != X.shape:
        raise _Wrong("mini_batches", "the batches' columns are not each column of X exactly once")
    if not np.array_equal(Y_all, X_all[:1] + 0.5):
        raise _Wrong(
            "mini_batches",
            "X and Y were not shuffled with the same permutation",
            "take X[:, permutation] and Y[:, permutation] with one permutation",
        )
    course_order = course_permutation(seed, m)
    if not np.array_equal(X_all[0] // 1, X[0, course_order]):
        unshuffled = np.array_equal(X_all, X)
        raise _Wrong(
            "mini_batches",
            "the columns are in their original order"
            if unshuffled
            else "the columns are not in the course's order for this seed",
            "the course shuffles with np.random.seed(seed), then permutation = np.random.permutation(m)",
        )


CHECKS: dict[str, Callable[[_Unit], None]] = {  # the course's order: a function before those that call it
    "initialize_with_zeros": _check_initialize_with_zeros,
    "initialize_parameters": _check_initialize_parameters,
    "initialize_parameters_deep": _check_initialize_parameters_deep,
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
    "random_mini_batches": _check_random_mini_batches,
    "initialize_velocity": _check_initialize_velocity,
    "update_parameters_with_momentum": _check_update_parameters_with_momentum,
    "initialize_adam": _check_initialize_adam,
    "update_parameters_with_adam": _check_update_parameters_with_adam,
    "update_lr": _check_decay("update_lr"),
    "schedule_lr_decay": _check_decay("schedule_lr_decay"),
}
