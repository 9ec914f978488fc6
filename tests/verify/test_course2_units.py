"""Function by function on the second course's 3-layer network: its graded functions, as its notebooks write them,
pass in both dtypes; each classic slip fails on its own function, named by its hint; correct code raises no alarm."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from verify.checking.units import check_functions
from verify.config import Config
from verify.impl import load_module
from verify.impl.course2 import Course2API
from verify.network import Network

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

RTOL = {"float64": 1e-7, "float32": 1.3e-6}
NETWORK = Network((2, 5, 3, 1), ("relu", "relu", "sigmoid"), "bce")

# the helper file (examples/course2/reg_utils.py, beside the module): relu, relu, sigmoid; a 12-tuple cache; dz3 =
# 1/m (a3 - Y); compute_cost a mean
HELPER = Path(__file__).resolve().parents[2] / "examples" / "course2" / "reg_utils.py"
HELPERS = "import numpy as np\n\nfrom reg_utils import *\n"

# the learner's graded functions, as the notebooks' solutions write them
GRADED = """

def initialize_parameters_zeros(layers_dims):
    parameters = {}
    L = len(layers_dims)
    for l in range(1, L):
        parameters["W" + str(l)] = np.zeros((layers_dims[l], layers_dims[l - 1]))
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def initialize_parameters_random(layers_dims):
    np.random.seed(3)
    parameters = {}
    L = len(layers_dims)
    for l in range(1, L):
        parameters["W" + str(l)] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * 10
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def initialize_parameters_he(layers_dims):
    np.random.seed(3)
    parameters = {}
    L = len(layers_dims) - 1
    for l in range(1, L + 1):
        parameters["W" + str(l)] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2.0 / layers_dims[l - 1])
        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))
    return parameters


def compute_cost_with_regularization(A3, Y, parameters, lambd):
    m = Y.shape[1]
    W1 = parameters["W1"]
    W2 = parameters["W2"]
    W3 = parameters["W3"]
    cross_entropy_cost = compute_cost(A3, Y)
    L2_regularization_cost = (1 / m) * (lambd / 2) * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))
    cost = cross_entropy_cost + L2_regularization_cost
    return cost


def backward_propagation_with_regularization(X, Y, cache, lambd):
    m = X.shape[1]
    (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T) + (lambd * W3) / m
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) + (lambd * W2) / m
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T) + (lambd * W1) / m
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
            "dZ1": dZ1, "dW1": dW1, "db1": db1}


def forward_propagation_with_dropout(X, parameters, keep_prob=0.5):
    np.random.seed(1)
    W1 = parameters["W1"]
    b1 = parameters["b1"]
    W2 = parameters["W2"]
    b2 = parameters["b2"]
    W3 = parameters["W3"]
    b3 = parameters["b3"]
    Z1 = np.dot(W1, X) + b1
    A1 = relu(Z1)
    D1 = np.random.rand(A1.shape[0], A1.shape[1])
    D1 = (D1 < keep_prob).astype(int)
    A1 = A1 * D1
    A1 = A1 / keep_prob
    Z2 = np.dot(W2, A1) + b2
    A2 = relu(Z2)
    D2 = np.random.rand(A2.shape[0], A2.shape[1])
    D2 = (D2 < keep_prob).astype(int)
    A2 = A2 * D2
    A2 = A2 / keep_prob
    Z3 = np.dot(W3, A2) + b3
    A3 = sigmoid(Z3)
    cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
    return A3, cache


def backward_propagation_with_dropout(X, Y, cache, keep_prob):
    m = X.shape[1]
    (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3) = cache
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dA2 = dA2 * D2
    dA2 = dA2 / keep_prob
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dA1 = dA1 * D1
    dA1 = dA1 / keep_prob
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,
            "dZ1": dZ1, "dW1": dW1, "db1": db1}
"""

GRADED_FUNCTIONS = [
    "initialize_parameters_zeros",
    "initialize_parameters_random",
    "initialize_parameters_he",
    "forward_propagation_with_dropout",
    "backward_propagation_with_regularization",
    "backward_propagation_with_dropout",
]
CHECKED = ["sigmoid", "relu", "compute_cost_with_regularization", "update_parameters", *GRADED_FUNCTIONS]


def results_of(tmp_path: Path, *edits: tuple[str, str], dtype: str = "float64", seed: int = 0) -> dict:
    """The unit checks' results on the course-2 module (the helper file and the graded functions) with each
    (old, new) edit applied (each `old` found exactly once)."""
    text = HELPERS + GRADED
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / f"course2_{abs(hash(edits)) % 10**8}.py"
    path.write_text(text, encoding="utf-8")
    (tmp_path / HELPER.name).write_text(HELPER.read_text(encoding="utf-8"), encoding="utf-8")
    state = np.random.get_state()
    try:
        impl = Course2API(load_module(str(path)), NETWORK, "learner")
        found = check_functions(impl, Config(dtype=dtype, rtol=RTOL[dtype], seed=seed))
    finally:
        np.random.set_state(state)  # the course's functions seed NumPy's generator
    return {f.function: f for f in found}


def failures(results: dict) -> dict:
    return {name: (f.output, f.detail, f.hint) for name, f in results.items() if not f.ok}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_courses_graded_functions_pass_in_both_dtypes(tmp_path, dtype):
    results = results_of(tmp_path, dtype=dtype)
    assert list(results) == CHECKED  # in the catalogue's order
    assert failures(results) == {}


def test_the_helpers_conventions_for_dz_and_da_are_accepted(tmp_path):
    # dz3 = 1/m (a3 - Y), lower-case keys, dW and db without a second 1/m: the helper file's backward, with L2
    helpers_form = (
        "    dZ3 = A3 - Y\n    dW3 = 1.0 / m * np.dot(dZ3, A2.T) + (lambd * W3) / m\n"
        "    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)\n    dA2 = np.dot(W3.T, dZ3)\n"
        "    dZ2 = np.multiply(dA2, np.int64(A2 > 0))\n    dW2 = 1.0 / m * np.dot(dZ2, A1.T) + (lambd * W2) / m\n"
        "    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)\n    dA1 = np.dot(W2.T, dZ2)\n"
        "    dZ1 = np.multiply(dA1, np.int64(A1 > 0))\n    dW1 = 1.0 / m * np.dot(dZ1, X.T) + (lambd * W1) / m\n"
        "    db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)\n"
        '    return {"dZ3": dZ3, "dW3": dW3, "db3": db3, "dA2": dA2, "dZ2": dZ2, "dW2": dW2, "db2": db2, "dA1": dA1,\n'
        '            "dZ1": dZ1, "dW1": dW1, "db1": db1}\n\n\ndef forward_propagation_with_dropout'
    )
    per_mean = (
        "    dz3 = 1.0 / m * (A3 - Y)\n    dW3 = np.dot(dz3, A2.T) + (lambd * W3) / m\n"
        "    db3 = np.sum(dz3, axis=1, keepdims=True)\n    da2 = np.dot(W3.T, dz3)\n"
        "    dz2 = np.multiply(da2, np.int64(A2 > 0))\n    dW2 = np.dot(dz2, A1.T) + (lambd * W2) / m\n"
        "    db2 = np.sum(dz2, axis=1, keepdims=True)\n    da1 = np.dot(W2.T, dz2)\n"
        "    dz1 = np.multiply(da1, np.int64(A1 > 0))\n    dW1 = np.dot(dz1, X.T) + (lambd * W1) / m\n"
        "    db1 = np.sum(dz1, axis=1, keepdims=True)\n"
        '    return {"dz3": dz3, "dW3": dW3, "db3": db3, "da2": da2, "dz2": dz2, "dW2": dW2, "db2": db2, "da1": da1,\n'
        '            "dz1": dz1, "dW1": dW1, "db1": db1}\n\n\ndef forward_propagation_with_dropout'
    )
    results = results_of(tmp_path, (helpers_form, per_mean))
    assert failures(results) == {}
    # the same dz with a second 1/m in dW is caught: dW is compared always
    results = results_of(tmp_path, (helpers_form, per_mean.replace("np.dot(dz3, A2.T)", "1.0 / m * np.dot(dz3, A2.T)")))
    assert failures(results)["backward_propagation_with_regularization"][0] == "dW3"


SLIPS = [
    # (function, old, new, the first wrong output, words of its hint)
    (
        "initialize_parameters_random",
        "layers_dims[l - 1]) * 10",
        "layers_dims[l - 1]) * 0.01",
        "W1",
        "W is randn * 0.01",
    ),
    ("initialize_parameters_random", "layers_dims[l - 1]) * 10", "layers_dims[l - 1])", "W1", "with no factor"),
    (
        "initialize_parameters_he",
        "np.sqrt(2.0 / layers_dims[l - 1])",
        "np.sqrt(2.0 / layers_dims[l])",
        "W1",
        "He scaled by n[l]",
    ),
    (
        "initialize_parameters_he",
        "np.sqrt(2.0 / layers_dims[l - 1])",
        "np.sqrt(1.0 / layers_dims[l - 1])",
        "W1",
        "Xavier's scale",
    ),
    (
        "initialize_parameters_he",
        "np.sqrt(2.0 / layers_dims[l - 1])",
        "(2.0 / layers_dims[l - 1])",
        "W1",
        "He without its square root",
    ),
    (  # was: only the shape expected, at layer sizes the run never chose
        "initialize_parameters_he",
        '        parameters["b" + str(l)] = np.zeros((layers_dims[l], 1))\n    return parameters\n\n\ndef compute_cost_with',
        '        parameters["b" + str(l)] = np.zeros(layers_dims[l])\n    return parameters\n\n\ndef compute_cost_with',
        "b1",
        "a rank-1 array: b[l] is (layers_dims[l], 1), np.zeros((layers_dims[l], 1))",
    ),
    (
        "initialize_parameters_zeros",
        '        parameters["W" + str(l)] = np.zeros((layers_dims[l], layers_dims[l - 1]))',
        '        parameters["W" + str(l)] = np.zeros((layers_dims[l - 1], layers_dims[l]))',
        "W1",
        "transposed",
    ),
    (
        "backward_propagation_with_regularization",
        "(lambd * W3) / m",
        "lambd * W3",
        "dW3",
        "lambd W: the course's is (lambd / m) W",
    ),
    (
        "backward_propagation_with_regularization",
        "(lambd * W2) / m",
        "(lambd * W2) / (2 * m)",
        "dW2",
        "(lambd / (2m)) W: the course's is (lambd / m) W",
    ),
    (
        "backward_propagation_with_regularization",
        " + (lambd * W1) / m",
        "",
        "dW1",
        "dW lacks its L2 term",
    ),
    (
        "backward_propagation_with_regularization",
        "    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)\n    dA2 = np.dot(W3.T, dZ3)\n    dZ2 = np.multiply(dA2",
        "    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True) + lambd / m * b3\n    dA2 = np.dot(W3.T, dZ3)\n"
        "    dZ2 = np.multiply(dA2",
        "db3",
        "the course regularises W only",
    ),
    (
        "compute_cost_with_regularization",
        "(1 / m) * (lambd / 2)",
        "(1 / m) * lambd",
        "cost",
        "(lambd / m) sum ||W||^2",
    ),
    (
        "compute_cost_with_regularization",
        " + np.sum(np.square(W3)))",
        ")",
        "cost",
        "the penalty leaves out W3",
    ),
    (
        "forward_propagation_with_dropout",
        "    A1 = A1 / keep_prob\n",
        "",
        "cache[2] (A1)",
        "A1 is not divided by keep_prob",
    ),
    (
        "forward_propagation_with_dropout",
        "D2 = (D2 < keep_prob).astype(int)",
        "D2 = (D2 > keep_prob).astype(int)",
        "cache[6] (D2)",
        "drawn with rand > keep_prob",
    ),
    (
        "forward_propagation_with_dropout",
        "    A3 = sigmoid(Z3)\n",
        "    A3 = sigmoid(Z3)\n    D3 = (np.random.rand(A3.shape[0], A3.shape[1]) < keep_prob).astype(int)\n"
        "    A3 = A3 * D3 / keep_prob\n",
        "cache[11] (A3)",
        "the output\nA3 = sigmoid(Z3) keeps every example",
    ),
    (
        "backward_propagation_with_dropout",
        "    dA2 = dA2 / keep_prob\n",
        "",
        "dA2",
        "dA2 is not divided by keep_prob in backward",
    ),
    (
        "backward_propagation_with_dropout",
        "    dA1 = dA1 * D1\n",
        "",
        "dA1",
        "dA1 is not multiplied by the mask D1",
    ),
    (
        "backward_propagation_with_dropout",
        "    dA2 = dA2 * D2\n",
        "    D2 = (np.random.rand(A2.shape[0], A2.shape[1]) < keep_prob).astype(int)\n    dA2 = dA2 * D2\n",
        "dA2",
        "not draw a new one",
    ),
]


@pytest.mark.parametrize("function, old, new, output, hint", SLIPS, ids=[f"{s[0]}:{s[4][:24]}" for s in SLIPS])
def test_each_slip_is_named_on_its_function(tmp_path, function, old, new, output, hint):
    results = results_of(tmp_path, (old, new))
    assert list(failures(results)) == [function], failures(results)
    result = results[function]
    assert result.output == output
    assert hint.replace("\n", " ") in result.hint, (result.detail, result.hint)


def test_zero_weights_fail_the_random_and_he_rules_and_pass_the_zeros_one(tmp_path):
    zeros = "np.zeros((layers_dims[l], layers_dims[l - 1]))"
    results = results_of(
        tmp_path,
        ("np.random.randn(layers_dims[l], layers_dims[l - 1]) * 10", zeros),
        ("np.random.randn(layers_dims[l], layers_dims[l - 1]) * np.sqrt(2.0 / layers_dims[l - 1])", zeros),
    )
    assert {name: f[0] for name, f in failures(results).items()} == {
        "initialize_parameters_random": "W1",
        "initialize_parameters_he": "W1",
    }
    assert "spread (root mean square) is 0, where randn * 10 gives 10" in results["initialize_parameters_random"].detail


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_no_false_alarm_over_seeds(tmp_path, seed, dtype):
    # other seeds draw other inputs and the verifier's own masks; the learner's masks are seeded by its code; an
    # unseeded He initialisation draws other weights at every call
    unseeded = (
        "    np.random.seed(3)\n    parameters = {}\n    L = len(layers_dims) - 1",
        "    parameters = {}\n    L = len(layers_dims) - 1",
    )
    assert failures(results_of(tmp_path, unseeded, dtype=dtype, seed=seed)) == {}


def test_a_backward_pass_returning_no_dA_has_its_dropout_slip_named_on_dZ(tmp_path):
    # without dA in the gradients, the first wrong output is dZ2, keep_prob times the right one
    no_dA = (
        "def backward_propagation_with_dropout(X, Y, cache, keep_prob):\n"
        "    grads = course_backward(X, Y, cache, keep_prob)\n"
        '    return {key: value for key, value in grads.items() if not key.startswith("dA")}\n\n\n'
        "def course_backward(X, Y, cache, keep_prob):"
    )
    results = results_of(
        tmp_path,
        ("    dA2 = dA2 / keep_prob\n", ""),
        ("def backward_propagation_with_dropout(X, Y, cache, keep_prob):", no_dA),
    )
    result = results["backward_propagation_with_dropout"]
    assert (result.output, result.hint) == (
        "dZ2",
        "dA2 is not divided by keep_prob in backward: dA = dA * D / keep_prob, as in forward",
    )


def test_an_initialiser_reseeded_for_every_layer_repeats_its_draws(tmp_path):
    results = results_of(
        tmp_path,
        (
            "    np.random.seed(3)\n    parameters = {}\n    L = len(layers_dims)\n",
            "    parameters = {}\n    L = len(layers_dims)\n",
        ),
        (
            '    for l in range(1, L):\n        parameters["W" + str(l)] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * 10',
            '    for l in range(1, L):\n        np.random.seed(3)\n        parameters["W" + str(l)] = np.random.randn(layers_dims[l], layers_dims[l - 1]) * 10',
        ),
    )
    result = results["initialize_parameters_random"]
    assert (result.output, result.hint) == ("W2", "seed once, before the loop")
