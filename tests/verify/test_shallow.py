"""The week-3 API (one hidden layer): detected from the module, verified by the same checks, slips
located in the function where they live. examples/planar_network.py is the correct module;
each broken variant patches one slip into it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import assert_usage_error, fast, run_cli, run_json, variant

pytestmark = pytest.mark.end_to_end

REPO = Path(__file__).resolve().parents[2]
PLANAR = REPO / "examples" / "planar_network.py"
M = 40
FAST = ["--arch", "2,4,1", *fast(5, M)]


def run_fast(capsys, *argv: str) -> tuple[int, dict]:
    """main(FAST + argv + --json -) -> (exit code, the report as a dict); no traceback on stderr."""
    return run_json(capsys, *FAST, *argv)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_correct_week_3_module_passes_every_check(capsys, dtype):
    code, report = run_fast(capsys, "--impl", str(PLANAR), "--dtype", dtype)
    assert code == 0, report["first_divergence"]
    assert report["config"]["activations"] == ["tanh", "sigmoid"]  # the API's own network, without --activations
    assert report["config"]["api"] == "shallow"
    by_name = {c["name"]: c for c in report["checks"]}
    assert [(r["quantity"], r["layer"]) for r in by_name["backward"]["rows"]] == [
        ("dW", 2),
        ("db", 2),
        ("dW", 1),
        ("db", 1),
    ]
    assert [r["quantity"] for r in by_name["forward"]["rows"]] == ["Z", "A", "Z", "A", "cost"]
    assert all(c["status"] == "ok" for c in report["checks"])


SLIPS = [
    pytest.param(
        ("dW1 = (1 / m) * np.dot", "dW1 = np.dot"),
        dict(stage="backward", quantity="dW", layer=1),
        f"m = {M} times",
        id="dW1-missing-1/m",
    ),
    pytest.param(
        ("dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))", "dZ1 = np.dot(W2.T, dZ2) * (1 - A1)"),
        dict(stage="backward", quantity="dW", layer=1),
        "the derivative of tanh",
        id="tanh-derivative-1-A1",
    ),
    pytest.param(
        ("- learning_rate * grads", "+ learning_rate * grads"),
        dict(stage="training", name="lockstep", iteration=0, quantity="W", layer=1),
        "opposite sign",
        id="update-sign",
    ),
    pytest.param(
        ("np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)", "np.multiply(np.log(A2), Y)"),
        dict(stage="forward", quantity="cost", layer=2),
        "the (1-Y) log(1-AL) term is missing",
        id="cost-missing-(1-Y)",
    ),
]


@pytest.mark.parametrize("edit, where, hint", SLIPS)
def test_a_slip_is_located(capsys, tmp_path, edit, where, hint):
    code, report = run_fast(capsys, "--impl", str(variant(tmp_path, PLANAR, edit)))
    assert code == 1
    first = report["first_divergence"]
    assert {k: first[k] for k in where} == where, first
    if hint is not None:
        assert hint in first["hint"]


@pytest.mark.parametrize(
    "edit, message",
    [
        # np.sum without axis=1, keepdims=True: a number, not the (n_y, 1) column
        (
            ("db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)", "db2 = (1 / m) * np.sum(dZ2)"),
            "backward_propagation: db2 should be an array of shape (1, 1), got a float",
        ),
        # A1 where the output layer needs A2: dZ2 broadcasts to (n_h, m), and W2^T dZ2 cannot be formed
        (
            ("dZ2 = A2 - Y", "dZ2 = A1 - Y"),
            "backward_propagation raised ValueError: shapes (4,1) and (4,40) not aligned",
        ),
    ],
)
def test_a_slip_that_breaks_a_shape_names_the_function(capsys, tmp_path, edit, message):
    code, report = run_fast(capsys, "--impl", str(variant(tmp_path, PLANAR, edit)))
    assert code == 1
    first = report["first_divergence"]
    assert first["quantity"] == "backward_propagation" and message in first["error"]


@pytest.mark.parametrize("key", ["dW1", "db1"])
def test_a_gradient_left_none_is_said_so_not_a_derivation_hint(capsys, tmp_path, key):
    """The exercise's `dW1 = None` placeholder: nothing to derive a slip from (was: check dZ1 = W2^T dZ2 * ...)."""
    line = {"dW1": "dW1 = (1 / m) * np.dot(dZ1, X.T)", "db1": "db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)"}
    code, report = run_fast(capsys, "--impl", str(variant(tmp_path, PLANAR, (line[key], f"{key} = None"))))
    assert code == 1
    assert report["first_divergence"]["fix"] == (
        f"fix `backward_propagation`: its {key} differs (got nothing (None): a missing return, a missing key, or a "
        "value an exercise's `= None` left)"
    )


def test_init_impl_takes_the_modules_own_initialize_parameters(capsys):
    code, report = run_fast(capsys, "--impl", str(PLANAR), "--init", "impl")
    assert code == 0 and report["config"]["init"] == "impl"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--arch", "2,4,4,1"], "the week 3 (one hidden layer) API computes n_x -> n_h (tanh) -> n_y (sigmoid)"),
        (
            ["--activations", "relu,sigmoid"],
            "give no other --activations or --loss (got activations relu,sigmoid, loss bce)",
        ),
        (
            ["--api", "deep"],
            "planar_network.py is not the week 4 (L layers) API (--api deep): found compute_cost, "
            "update_parameters; missing L_model_forward, L_model_backward",
        ),
        (
            ["--api", "logreg"],
            "is not the week 2 (logistic regression) API (--api logreg): found sigmoid; missing propagate, optimize",
        ),
        (["--api", "week2"], "unknown --api 'week2'; choose from deep, gradcheck, course2, shallow, logreg"),
    ],
)
def test_a_network_the_api_cannot_compute_is_a_usage_error(capsys, argv, message):
    line = assert_usage_error(*run_cli(capsys, *FAST, "--impl", str(PLANAR), *argv))
    assert message in line
