"""Fault injection: a classic slip patched into scratch's derivation is caught, and located.

Each fault goes into the implementation under test only (scratch's module globals, its
activation and loss registries, or the functions the verifier looks up on the package);
verify/ and torch_ref/ are never touched. The first divergence must name the first wrong
line of the derivation: its check, layer and quantity, worked out by hand below.
"""

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pytest
from conftest import CHECK_NAMES, DTYPES, failing_checks, tiny

import scratch
import scratch.activations
import scratch.losses
import scratch.model
import verify.cli
from scratch.losses import Loss, softplus
from verify import run

# --- scratch's own lines, and the slips ----------------------------------------------------------

CORRECT_BACKWARD = {
    "dW": lambda dZ, A_prev, W, m: (1 / m) * (dZ @ A_prev.T),
    "db": lambda dZ, A_prev, W, m: (1 / m) * np.sum(dZ, axis=1, keepdims=True),
    "dA_prev": lambda dZ, A_prev, W, m: W.T @ dZ,
}


def linear_backward_with(**slips: Callable) -> Callable:
    """scratch.model.linear_backward with the named lines (dW, db, dA_prev) replaced."""
    lines = {**CORRECT_BACKWARD, **slips}

    def linear_backward(dZ, cache):
        A_prev, W, b = cache
        m = A_prev.shape[1]
        args = (dZ, A_prev, W, m)
        return lines["dA_prev"](*args), lines["dW"](*args), lines["db"](*args)

    return linear_backward


def update_parameters_with(W: Callable = None, b: Callable = None) -> Callable:
    """scratch.update_parameters with the W or the b line replaced; each line is (theta, dtheta, lr) -> new theta."""
    step = lambda theta, d, lr: theta - lr * d  # noqa: E731
    lines = {"W": W or step, "b": b or step}

    def update_parameters(parameters, grads, learning_rate):
        L = len(parameters) // 2
        return {
            f"{q}{l}": lines[q](parameters[f"{q}{l}"], grads[f"d{q}{l}"], learning_rate)
            for l in range(1, L + 1)
            for q in ("W", "b")
        }

    return update_parameters


def update_dividing_by_zero(parameters, grads, learning_rate):
    examples_seen = 0
    scale = learning_rate / examples_seen  # ZeroDivisionError, inside the implementation
    return {k: v - scale * grads["d" + k] for k, v in parameters.items()}


def bce_without_negative_term(AL, Y, ZL):
    """-(1/m) sum Y log A: the (1 - Y) log(1 - A) term forgotten."""
    m = Y.shape[1]
    return -(1 / m) * np.sum(Y * -softplus(-ZL))


def mse_without_half(AL, Y, ZL):
    """(1/m) sum (A - Y)^2 instead of (1/2m) sum (A - Y)^2."""
    m = Y.shape[1]
    return (1 / m) * np.sum((AL - Y) ** 2)


def tanh_raising(Z):
    raise FloatingPointError("overflow in the forward pass")


def derivative(name: str, g_prime: Callable) -> Callable:
    """Patch the registry's g' for `name`; its forward function stays scratch's."""
    return lambda mp: mp.setitem(
        scratch.activations.ACTIVATIONS, name, replace(scratch.activations.ACTIVATIONS[name], derivative=g_prime)
    )


def function(name: str, g: Callable) -> Callable:
    """Patch the registry's g for `name`; its derivative stays scratch's."""
    return lambda mp: mp.setitem(
        scratch.activations.ACTIVATIONS, name, replace(scratch.activations.ACTIVATIONS[name], function=g)
    )


def model_global(attribute: str, value: Callable) -> Callable:
    """Patch a function scratch.model's other functions call through its globals."""
    return lambda mp: mp.setattr(scratch.model, attribute, value)


def package_function(attribute: str, value: Callable) -> Callable:
    """Patch a function the verifier looks up on the scratch package."""
    return lambda mp: mp.setattr(scratch, attribute, value)


def loss(name: str, cost: Callable) -> Callable:
    return lambda mp: mp.setitem(
        scratch.losses.LOSSES, name, Loss(name, scratch.losses.LOSSES[name].output_activation, cost)
    )


# --- the faults and where each must be found ----------------------------------------------------

ALL_BUT_FORWARD = frozenset(CHECK_NAMES) - {"forward"}
# A raise stops training at once, so free-running has nothing to disagree on (it is not run).
RAISES_IN_BACKWARD = frozenset({"backward", "gradcheck", "lockstep"})
TRAINING = frozenset({"lockstep", "free-running"})


@dataclass(frozen=True)
class Fault:
    id: str
    patch: Callable  # (monkeypatch) -> None
    config: dict  # tiny(**config)
    where: dict  # the first divergence's check, mode, iteration, layer, quantity (and point)
    fails: frozenset  # exactly the checks that must fail
    hint: str | None = None  # a substring of the first divergence's hint
    error: tuple = ()  # substrings of the first divergence's error message


def at(check, layer, quantity, mode=None, iteration=None, point=None) -> dict:
    where = {"stage": check, "name": mode or check, "iteration": iteration, "layer": layer, "quantity": quantity}
    if check in ("forward", "backward") and point is not None:
        where["point"] = point
    return where


FAULTS = [
    # dZ[L] = A[L] - Y never uses the output's g', so a hidden sigmoid is needed; layer 2 is the
    # first layer backward whose dZ goes through sigma'.
    Fault(
        "sigmoid' = sigma, not sigma (1 - sigma)",
        derivative("sigmoid", scratch.activations.sigmoid),
        {"activations": ("sigmoid", "sigmoid", "sigmoid")},
        at("backward", 2, "dZ", point="initial weights"),
        ALL_BUT_FORWARD,
        hint="derivative of sigmoid",
    ),
    # Pre-activations are never exactly 0 on random data: only the kink probe's first column
    # (x = 0, b = 0, so Z1 = Z2 = 0) reaches relu'(0). Gradient checking and training miss it.
    Fault(
        "relu'(0) = 1",
        derivative("relu", lambda Z: (Z >= 0).astype(Z.dtype)),
        {},
        at("backward", 2, "dZ", point="kink probe"),
        frozenset({"backward"}),
        hint="derivative of relu",
    ),
    Fault(
        "tanh' = 1 - tanh",
        derivative("tanh", lambda Z: 1 - np.tanh(Z)),
        {"activations": ("tanh", "tanh", "sigmoid")},
        at("backward", 2, "dZ", point="initial weights"),
        ALL_BUT_FORWARD,
        hint="derivative of tanh",
    ),
    # The forward pass keeps slope 0.01, so the forward check passes and gradient checking
    # (backward against finite differences of its own forward) fails.
    Fault(
        "leaky_relu slope 0.02 in backward only",
        derivative("leaky_relu", lambda Z: np.where(Z > 0, 1, 0.02).astype(Z.dtype)),
        {"activations": ("leaky_relu", "leaky_relu", "sigmoid")},
        at("backward", 2, "dZ", point="initial weights"),
        ALL_BUT_FORWARD,
        hint="derivative of leaky_relu",
    ),
    # dZ3 = A3 - Y is computed before linear_backward; dW3 is its first wrong line.
    Fault(
        "dW missing 1/m",
        model_global("linear_backward", linear_backward_with(dW=lambda dZ, A, W, m: dZ @ A.T)),
        {},
        at("backward", 3, "dW", point="initial weights"),
        ALL_BUT_FORWARD,
        hint="1/m",
    ),
    Fault(
        "db missing 1/m",
        model_global("linear_backward", linear_backward_with(db=lambda dZ, A, W, m: np.sum(dZ, axis=1, keepdims=True))),
        {},
        at("backward", 3, "db", point="initial weights"),
        ALL_BUT_FORWARD,
        hint="1/m",
    ),
    # Summed over the units (axis 0) instead of over the examples (axis 1): db is (1, m), not
    # (n[l], 1), which the verifier's shape check names before any value is compared.
    Fault(
        "db summed over axis 0 (wrong shape)",
        model_global(
            "linear_backward", linear_backward_with(db=lambda dZ, A, W, m: (1 / m) * np.sum(dZ, axis=0, keepdims=True))
        ),
        {},
        at("backward", None, "L_model_backward"),
        RAISES_IN_BACKWARD,
        error=("L_model_backward", "db1", "(4, 1)", "(1, 32)"),
    ),
    # ...and transposed to fit: with m = n[l] = 4 the shapes pass and the values are wrong.
    Fault(
        "db summed over axis 0, transposed to fit",
        model_global(
            "linear_backward",
            linear_backward_with(db=lambda dZ, A, W, m: (1 / m) * np.sum(dZ, axis=0, keepdims=True).T),
        ),
        {"arch": (4, 4, 4, 4), "examples": 4},
        at("backward", 3, "db", point="initial weights"),
        ALL_BUT_FORWARD,
    ),
    # Every W square, so W dZ runs; dA2 = W3 dZ3 is the first wrong line.
    Fault(
        "dA_prev = W dZ (square W)",
        model_global("linear_backward", linear_backward_with(dA_prev=lambda dZ, A, W, m: W @ dZ)),
        {"arch": (4, 4, 4, 4)},
        at("backward", 2, "dA", point="initial weights"),
        ALL_BUT_FORWARD,
    ),
    # W3 is (1, 4): W3 @ dZ3 with dZ3 (1, m) raises inside L_model_backward.
    Fault(
        "dA_prev = W dZ (W not square: raises)",
        model_global("linear_backward", linear_backward_with(dA_prev=lambda dZ, A, W, m: W @ dZ)),
        {},
        at("backward", None, "L_model_backward"),
        RAISES_IN_BACKWARD,
        error=("L_model_backward raised ValueError", "matmul", os.path.join("scratch", "model.py")),
    ),
    # Z = W A_prev: the very first line of the derivation, Z1, is wrong.
    Fault(
        "Z = W A_prev, no + b",
        model_global("linear_forward", lambda A_prev, W, b: (W @ A_prev, (A_prev, W, b))),
        {},
        at("forward", 1, "Z", point="initial weights"),
        frozenset(CHECK_NAMES),
    ),
    # Z and A agree; only the cost differs. Backward starts from dZ[L] = A[L] - Y, so it passes,
    # while gradient checking (those gradients against this cost) fails.
    Fault(
        "bce cost missing its (1 - Y) term",
        loss("bce", bce_without_negative_term),
        {},
        at("forward", 3, "cost", point="initial weights"),
        frozenset(CHECK_NAMES) - {"backward"},
        hint="the (1-Y) log(1-AL) term is missing",
    ),
    Fault(
        "mse cost missing its 1/2",
        loss("mse", mse_without_half),
        {"arch": (3, 4, 2), "activations": ("tanh", "linear")},
        at("forward", 2, "cost", point="initial weights"),
        frozenset(CHECK_NAMES) - {"backward"},
        hint="2 times",
    ),
    # Forward and backward take no step: only training sees it, at its first update, where
    # lockstep compares each side's step P_next - P (W1 before b1).
    Fault(
        "bias never updated",
        package_function("update_parameters", update_parameters_with(b=lambda b, db, lr: b)),
        {},
        at("training", 1, "b", mode="lockstep", iteration=0),
        TRAINING,
        hint="it is 0 where the expected value is not",
    ),
    Fault(
        "update sign flipped",
        package_function(
            "update_parameters",
            update_parameters_with(W=lambda W, dW, lr: W + lr * dW, b=lambda b, db, lr: b + lr * db),
        ),
        {},
        at("training", 1, "W", mode="lockstep", iteration=0),
        TRAINING,
        hint="opposite sign",
    ),
    # An exception inside scratch is a failed check that names the function, not a crash.
    Fault(
        "ZeroDivisionError in update_parameters",
        package_function("update_parameters", update_dividing_by_zero),
        {},
        at("training", None, "update_parameters", mode="lockstep", iteration=0),
        frozenset({"lockstep"}),
        error=("update_parameters raised ZeroDivisionError", "division by zero"),
    ),
    # The forward pass raises: backward is not run, gradient checking and training report it too.
    Fault(
        "tanh raises in the forward pass",
        function("tanh", tanh_raising),
        {"activations": ("tanh", "tanh", "sigmoid")},
        at("forward", None, "L_model_forward"),
        frozenset({"forward", "gradcheck", "lockstep"}),
        error=(
            "L_model_forward raised FloatingPointError",
            "overflow in the forward pass",
            "in linear_activation_forward",
        ),
    ),
]


FAULT = {f.id: f for f in FAULTS}


@pytest.fixture(params=FAULTS, ids=[f.id for f in FAULTS])
def fault(request):
    return request.param


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.end_to_end
def test_the_fault_is_caught_at_its_first_wrong_line(fault, dtype, monkeypatch):
    fault.patch(monkeypatch)
    report = run(tiny(dtype=dtype, **fault.config))

    assert report.verdict == "fail" and not report.ok
    first = report.first_divergence
    assert first is not None, report.to_text(verbose=True)
    assert {k: getattr(first, k) for k in fault.where} == fault.where, report.to_text(verbose=True)
    assert failing_checks(report) == fault.fails, report.to_text(verbose=True)
    if fault.hint is not None:
        assert fault.hint in first.hint
    if fault.error:
        assert all(text in first.error for text in fault.error), first.error
        assert first.max_abs is None and first.tolerance is None
    else:
        assert first.row.rtol == report.config.relative_tolerance
        assert first.max_abs > first.tolerance
        assert first.row.mismatched >= 1 and first.row.value is not None and first.row.expected is not None
    # The report says the same in JSON and in text.
    as_dict = json.loads(json.dumps(report.as_dict()))
    assert as_dict["verdict"] == "fail"
    assert {k: as_dict["first_divergence"].get(k) for k in fault.where} == fault.where
    assert "VERDICT: FAIL" in report.to_text()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.end_to_end
def test_without_the_fault_the_same_config_passes(fault, dtype):
    # The control: each fault test fails because of its fault, not because of its config.
    report = run(tiny(dtype=dtype, **fault.config))
    assert report.ok, report.to_text(verbose=True)
    assert report.first_divergence is None


@pytest.mark.end_to_end
def test_the_missing_1_over_m_hint_names_m(monkeypatch):
    FAULT["dW missing 1/m"].patch(monkeypatch)
    first = run(tiny(examples=20)).first_divergence
    assert first.hint == "it is m = 20 times the expected value: a missing 1/m"
    assert first.max_abs > 1e4 * first.tolerance  # off by a factor, not by rounding


def test_the_faults_are_undone_between_tests():
    # monkeypatch restores scratch: the registry and the globals are scratch's own again.
    assert scratch.model.linear_backward is scratch.linear_backward
    assert scratch.update_parameters is scratch.model.update_parameters
    assert scratch.activations.ACTIVATIONS["relu"].derivative is scratch.activations.relu_derivative
    assert scratch.losses.LOSSES["bce"].cost is scratch.losses.bce_cost


CLI_ARGS = ["--arch", "3,4,4,1", "--iterations", "5", "--examples", "32", "--no-tensorboard", "-q"]


@pytest.mark.end_to_end
def test_cli_exits_1_on_a_fault(monkeypatch, capsys):
    FAULT["dW missing 1/m"].patch(monkeypatch)
    assert verify.cli.main(CLI_ARGS) == 1
    out = capsys.readouterr().out
    assert "VERDICT: FAIL" in out
    assert "backward" in out and "dW3 (layer 3)" in out
    assert "a missing 1/m" in out


@pytest.mark.end_to_end
def test_cli_json_names_the_fault(monkeypatch, capsys):
    FAULT["relu'(0) = 1"].patch(monkeypatch)
    assert verify.cli.main(CLI_ARGS + ["--json", "-"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "fail"
    first = report["first_divergence"]
    assert (first["stage"], first["layer"], first["quantity"], first["point"]) == ("backward", 2, "dZ", "kink probe")


@pytest.mark.end_to_end
def test_cli_exits_1_when_scratch_raises(monkeypatch, capsys):
    monkeypatch.setattr(scratch, "update_parameters", update_dividing_by_zero)
    assert verify.cli.main(CLI_ARGS) == 1
    assert "update_parameters raised ZeroDivisionError" in capsys.readouterr().out


@pytest.mark.end_to_end
def test_cli_exits_0_without_a_fault(capsys):
    assert verify.cli.main(CLI_ARGS) == 0
    assert "VERDICT: PASS" in capsys.readouterr().out
