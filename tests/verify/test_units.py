"""Function by function: correct course functions pass, and each classic slip is named on the function where it lives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import optimisers_text, slipped

import scratch
import verify
from verify.checking.units import check_functions
from verify.cli import main
from verify.config import Config
from verify.impl import detect, load_module
from verify.network import Network
from verify.results import Divergence

REPO = Path(__file__).resolve().parents[2]
WEEK4 = REPO / "examples" / "course_network.py"
WEEK3 = REPO / "examples" / "planar_network.py"
WEEK2 = REPO / "examples" / "logreg_network.py"
RTOL = {"float64": 1e-7, "float32": 1.3e-6}


def functions_of(path_or_module, dtype: str = "float64") -> dict:
    module = load_module(str(path_or_module)) if isinstance(path_or_module, Path) else path_or_module
    api = detect(module, "learner")
    L = 1 if api.API == "logreg" else 2
    impl = api(module, Network((2,) * L + (1,), tuple(api.default_activations(L)), "bce"), "learner")
    return {f.function: f for f in check_functions(impl, Config(dtype=dtype, rtol=RTOL[dtype], seed=0))}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "source, expected",
    [
        (
            WEEK4,
            [
                "initialize_parameters",
                "initialize_parameters_deep",
                "sigmoid",
                "relu",
                "linear_forward",
                "linear_activation_forward",
                "compute_cost",
                "sigmoid_backward",
                "relu_backward",
                "linear_backward",
                "linear_activation_backward",
                "update_parameters",
            ],
        ),
        (
            WEEK3,
            [
                "initialize_parameters",
                "sigmoid",
                "forward_propagation",
                "compute_cost",
                "backward_propagation",
                "update_parameters",
            ],
        ),
        (WEEK2, ["initialize_with_zeros", "sigmoid", "propagate", "optimize"]),
        (
            scratch,
            [
                "initialize_parameters_deep",
                "linear_forward",
                "linear_activation_forward",
                "compute_cost",
                "compute_cost_with_regularization",
                "linear_backward",
                "linear_activation_backward",
                "update_parameters",
                "random_mini_batches",
                "initialize_velocity",
                "update_parameters_with_momentum",
                "initialize_adam",
                "update_parameters_with_adam",
                "update_lr",
                "schedule_lr_decay",
            ],
        ),
    ],
    ids=["week4", "week3", "week2", "scratch"],
)
def test_correct_functions_pass_in_both_dtypes(source, expected, dtype):
    results = functions_of(source, dtype)
    assert list(results) == expected  # each defined course function, in the course's order
    assert {name: (f.output, f.detail) for name, f in results.items() if not f.ok} == {}


WEEK4_SLIPS = [
    # (function, old, new, failing output, words of the hint)
    ("relu_backward", "dZ[activation_cache <= 0] = 0", "dZ[activation_cache < 0] = 0", "dZ", "exactly 0"),
    ("linear_forward", "return Z, (A, W, b)", "return Z, (W, A, b)", "cache", "caches in the wrong order"),
    (
        "linear_activation_forward",
        "return A, (linear_cache, activation_cache)",
        "return A, (activation_cache, linear_cache)",
        "cache",
        "caches in the wrong order",
    ),
    ("linear_forward", "Z = np.dot(W, A) + b", "Z = np.dot(W.T, A) + b", "", "a shape error"),
    ("linear_backward", "dW = (1 / m) * np.dot(dZ, A_prev.T)", "dW = np.dot(dZ, A_prev.T)", "dW", "a missing 1/m"),
    (
        "linear_backward",
        "dW = (1 / m) * np.dot(dZ, A_prev.T)",
        "dW = (1 / m) * np.dot(A_prev, dZ.T)",
        "dW",
        "transposed",
    ),
    ("linear_backward", "dA_prev = np.dot(W.T, dZ)", "dA_prev = -np.dot(W.T, dZ)", "dA_prev", "opposite sign"),
    (  # was: only the entries that differ, though each is 5/200 of the expected
        "linear_backward",
        "m = A_prev.shape[1]",
        "m = 200",
        "dW",
        "its 1/m divides by 200, not by the m = 5 examples it is handed (an m set outside the function",
    ),
    ("linear_backward", "A_prev, W, b = cache", "W, A_prev, b = cache", "", "the order the cache is unpacked in"),
    (  # a matrix product written with * (was: only the cache's order and the transposes)
        "linear_backward",
        "dA_prev = np.dot(W.T, dZ)",
        "dA_prev = W.T * dZ",
        "",
        "a matrix product is np.dot, not * (Z = np.dot(W, A_prev) + b, dA_prev = np.dot(W.T, dZ))",
    ),
    ("sigmoid_backward", "return dA * s * (1 - s)", "return dA * s", "dZ", ""),
    (  # relu's own check takes A alone (week 2's sigmoid returns it): the unpacking names what it returns
        "linear_activation_forward",
        "return np.maximum(0, Z), Z",
        "return np.maximum(0, Z)",
        "",
        "what sigmoid and relu return (A, activation_cache), as the course's do; one returning A alone has its rows",
    ),
    (
        "compute_cost",
        "np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))",
        "np.sum(Y * np.log(AL))",
        "cost",
        "the (1-Y) log(1-AL) term is missing",
    ),
    (
        "update_parameters",
        'parameters["W" + str(l + 1)] -= learning_rate',
        'parameters["W" + str(l + 1)] += learning_rate',
        "W1 (its step)",
        "opposite sign",
    ),
    ("initialize_parameters_deep", "np.zeros((layer_dims[l], 1))", "np.ones((layer_dims[l], 1))", "b1", "zeros"),
    ("initialize_parameters_deep", "layer_dims[l - 1])) * 0.01", "layer_dims[l - 1]))", "W", "small random weights"),
    (
        "initialize_parameters_deep",
        '        parameters["W" + str(l)] = rng',  # a generator re-seeded for every layer
        '        rng = np.random.default_rng(3)\n        parameters["W" + str(l)] = rng',
        "W2",
        "each layer must draw its own weights",
    ),
    (  # was: no hint, though the step is exactly 0.075 times the expected
        "update_parameters",
        "def update_parameters(parameters, grads, learning_rate):\n",
        "def update_parameters(parameters, grads, learning_rate):\n    learning_rate = 0.0075\n",
        "W1 (its step)",
        "its step is that of learning rate 0.0075, not the 0.1 it was handed: a rate hard-coded, or a default kept",
    ),
    (  # was: "expected an array of shape (1, 30), got nothing (None)", at sizes the learner never chose
        "initialize_parameters_deep",
        '    for l in range(1, len(layer_dims)):\n        parameters["W"',
        '    for l in range(1, len(layer_dims) - 1):\n        parameters["W"',
        "W4",
        "the loop over the layers stops one short: it must cover layers 1..4, for l in range(1, L), L the number of "
        "sizes it is handed",  # (was: "it covers layers 1..4", which it does not)
    ),
]


@pytest.mark.parametrize(
    "function, old, new, output, hint", WEEK4_SLIPS, ids=[f"{s[0]}:{s[2][:30]}" for s in WEEK4_SLIPS]
)
def test_each_week4_slip_is_named_on_its_function(tmp_path, function, old, new, output, hint):
    results = functions_of(slipped(tmp_path, WEEK4, old, new))
    failed = [name for name, f in results.items() if not f.ok and not f.follows]
    assert failed == [function], {n: (f.output, f.detail, f.hint) for n, f in results.items() if not f.ok}
    result = results[function]
    assert result.output == output
    assert hint in result.hint + result.detail


def test_a_function_calling_a_failed_one_follows_from_it(tmp_path):
    results = functions_of(slipped(tmp_path, WEEK4, "dZ[activation_cache <= 0] = 0", "dZ[activation_cache < 0] = 0"))
    assert results["linear_activation_backward"].status == "FAIL"
    assert results["linear_activation_backward"].follows == "relu_backward"


WEEK3_SLIPS = [
    ("backward_propagation", "dW1 = (1 / m) * np.dot(dZ1, X.T)", "dW1 = np.dot(dZ1, X.T)", "dW1", "a missing 1/m"),
    (
        "backward_propagation",
        "db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)",
        "db1 = (1 / m) * np.sum(dZ1)",
        "db1",
        "the shape is ()",
    ),
    (
        "backward_propagation",
        "db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)",
        "db1 = (1 / m) * np.sum(dZ1, axis=1)",
        "db1",
        "db has shape (3,): np.sum(dZ, axis=1, keepdims=True) keeps it",
    ),
    (
        "backward_propagation",
        "db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)",
        "db1 = (1 / m) * np.sum(np.abs(dZ1), axis=1, keepdims=True)",
        "db1",
        "dW1 agrees, and so does dZ1: check db1",
    ),
    ("backward_propagation", "(1 - np.power(A1, 2))", "(1 - A1)", "dW1", "tanh's derivative"),
    (
        "backward_propagation",
        "dZ2 = A2 - Y",
        "dZ2 = A1 - Y",
        "",
        "a shape error: check each product's order and transposes, dW =",
    ),
    (
        "update_parameters",
        "parameters[key] - learning_rate",
        "parameters[key] + learning_rate",
        "W1 (its step)",
        "opposite sign",
    ),
    (
        "compute_cost",
        "np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)",
        "np.multiply(np.log(A2), Y)",
        "cost",
        "the (1-Y) log(1-AL) term is missing",
    ),
]


def first_divergence(path: Path, arch: tuple) -> Divergence:
    report = verify.run(
        verify.Config(
            arch=arch, impl=str(path), iterations=2, examples=40, gradcheck=False, tensorboard=False, progress=False
        )
    )
    return report.first_divergence


WEEK2_SLIPS = [
    ("propagate", "dw = (1 / m) * np.dot(X, (A - Y).T)", "dw = np.dot(X, (A - Y).T)", "dw", "a missing 1/m"),
    (
        "propagate",
        "m = X.shape[1]\n    A = sigmoid(np.dot(w.T, X) + b)",
        "m = X.shape[1]\n    A = sigmoid(np.dot(w, X) + b)",
        "",
        "a shape error: w is (n_x, 1), a column, so A = sigmoid(np.dot(w.T, X) + b)",  # (was: week 4's W (n[l], ...))
    ),
    (
        "optimize",
        'w = w - learning_rate * grads["dw"]',
        'w = w + learning_rate * grads["dw"]',
        "w (its step)",
        "opposite sign",
    ),
    (  # was: no hint
        "optimize",
        "    w, b = w.copy(), b\n",
        "    w, b = initialize_with_zeros(X.shape[0])\n",
        "w (its step)",
        "it starts from w = 0 and b = 0, not the w and b it is handed",
    ),
    (  # was: no hint, though the step is exactly 0.09 times the expected
        "optimize",
        'w = w - learning_rate * grads["dw"]',
        'w = w - 0.009 * grads["dw"]',
        "w (its step)",
        "its step is that of learning rate 0.009, not the 0.1 it was handed: a rate hard-coded, or a default kept",
    ),
    ("propagate", "np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))", "np.sum(Y * np.log(A))", "cost", ""),
    ("initialize_with_zeros", "w = np.zeros((dim, 1))", "w = np.zeros((1, dim))", "w", ""),
]


SMALL_SLIPS = [(WEEK3, (2, 4, 1), *slip) for slip in WEEK3_SLIPS] + [(WEEK2, (2, 1), *slip) for slip in WEEK2_SLIPS]


@pytest.mark.parametrize(
    "source, arch, function, old, new, output, hint",
    SMALL_SLIPS,
    ids=[f"week{3 if s[0] == WEEK3 else 2}:{s[4][:30]}" for s in SMALL_SLIPS],
)
@pytest.mark.end_to_end
def test_each_week2_and_week3_slip_is_named_on_its_function(tmp_path, source, arch, function, old, new, output, hint):
    path = slipped(tmp_path, source, old, new)
    results = functions_of(path)
    failed = [name for name, f in results.items() if not f.ok and not f.follows]
    assert failed == [function]
    assert results[function].output == output
    assert hint in results[function].hint + results[function].detail
    assert first_divergence(path, arch).function == function  # the whole run's verdict names it too


@pytest.mark.end_to_end
def test_the_report_opens_with_the_table_and_its_first_divergence_names_the_function(tmp_path, capsys):
    path = slipped(tmp_path, WEEK4, "dZ[activation_cache <= 0] = 0", "dZ[activation_cache < 0] = 0")
    code = main(["--arch", "3,4,4,1", "--impl", str(path), "--no-tensorboard", "--iterations", "3", "--examples", "40"])
    text = capsys.readouterr().out
    assert code == 1
    lines = text.splitlines()
    assert lines[1].startswith("fix `relu_backward`: its dZ differs")  # after the verdict, before the tables
    start = lines.index("function by function: each course function on its own, against torch  [FAIL]")
    assert any(line.split() == ["relu_backward", "FAIL"] for line in lines[start + 1 : start + 20])


@pytest.mark.end_to_end
def test_the_json_lists_each_function(tmp_path, capsys):
    code = main(
        [
            "--arch",
            "2,1",
            "--impl",
            str(WEEK2),
            "--no-tensorboard",
            "--iterations",
            "3",
            "--examples",
            "40",
            "--json",
            "-",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(f["function"], f["status"]) for f in report["functions"]] == [
        ("initialize_with_zeros", "ok"),
        ("sigmoid", "ok"),
        ("propagate", "ok"),
        ("optimize", "ok"),
    ]


@pytest.mark.parametrize(
    "source, third, check",
    [
        (WEEK4, "loss", 'loss == "bce"'),  # week 4's extended compute_cost(AL, Y, loss), as the network checks call it
        (
            WEEK3,
            "parameters",
            "isinstance(parameters, dict)",
        ),  # older week-3 notebooks' compute_cost(A2, Y, parameters)
    ],
)
def test_compute_cost_with_a_third_argument_gets_what_its_api_passes(tmp_path, source, third, check):
    text = source.read_text(encoding="utf-8")
    for name in ("AL", "A2"):
        text = text.replace(
            f"def compute_cost({name}, Y):", f"def compute_cost({name}, Y, {third}):\n    assert {check}"
        )
    path = tmp_path / "learner.py"
    path.write_text(text, encoding="utf-8")
    assert functions_of(path)["compute_cost"].ok


OPTIMIZER_SLIPS = [
    # (function, old, new, failing output, words of the hint)
    (
        "update_parameters_with_adam",
        "/ (np.sqrt(s_corrected[key]) + epsilon)",
        "/ np.sqrt(s_corrected[key] + epsilon)",
        "step of W1",
        "epsilon is inside the square root",
    ),
    (
        "update_parameters_with_adam",
        "v_corrected[key] = v[key] / (1 - beta1 ** t)",
        "v_corrected[key] = v[key]",
        'v_corrected["dW1"]',
        "no bias correction",
    ),
    (
        "update_parameters_with_adam",
        "v_corrected[key] = v[key] / (1 - beta1 ** t)",
        "v_corrected[key] = v[key] / (1 - beta1 ** (t - 1))",
        'v_corrected["dW1"]',
        "uses t - 1 where it needs t",
    ),
    (  # was told "uses t - 1" by the network's rows at t = 2, where the two are one number
        "update_parameters_with_adam",
        "s_corrected[key] = s[key] / (1 - beta2 ** t)",
        "s_corrected[key] = s[key] / (1 - beta2)",
        's_corrected["dW1"]',
        "the bias correction divides by 1 - beta: beta is not raised to the power t",
    ),
    (
        "update_parameters_with_adam",
        "v[key] = beta1 * v[key] + (1 - beta1) * grads[key]",
        "v[key] = (1 - beta1) * v[key] + beta1 * grads[key]",
        'v["dW1"]',
        "beta1 and 1 - beta1 are swapped",
    ),
    (
        "update_parameters_with_momentum",
        '(1 - beta) * grads["dW" + str(l)]',
        'grads["dW" + str(l)]',
        'v["dW1"]',
        "the (1 - beta) factor on the gradient is missing",
    ),
    (
        "update_parameters_with_momentum",
        'v["dW" + str(l)] = beta * v["dW" + str(l)] + (1 - beta)',
        'v["dW" + str(l)] = (1 - beta)',
        'v["dW1"]',
        "v was not carried over",
    ),
    (  # its update left out: v handed back as it came (was: only the numbers that differ)
        "update_parameters_with_momentum",
        'v["dW" + str(l)] = beta * v["dW" + str(l)] + (1 - beta)',
        'v["dW" + str(l)] = v["dW" + str(l)] + 0 * (1 - beta)',
        'v["dW1"]',
        "v is the v it was handed: it is not updated",
    ),
    (
        "random_mini_batches",
        "    if m % mini_batch_size != 0:\n",
        "    if False:\n",
        "mini_batches",
        "the course keeps a last, smaller batch",
    ),
    (  # an exercise's placeholder left (was: "cut the columns, X[:, a:b] and Y[:, a:b]", a slicing slip)
        "random_mini_batches",
        "mini_batches.append((shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size],",
        "mini_batches.append((None,",
        "mini_batches",
        "a batch left None, as an exercise's `= None` placeholder leaves it",
    ),
    (  # X's batch one column wider than Y's (was: "cut the columns", which it did)
        "random_mini_batches",
        "mini_batches.append((shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size],",
        "mini_batches.append((shuffled_X[:, k * mini_batch_size:(k + 1) * mini_batch_size + 1],",
        "mini_batches",
        "X and Y cut with different bounds: one slice of columns for both",
    ),
    (
        "random_mini_batches",
        "shuffled_Y = Y[:, permutation]",
        "shuffled_Y = Y[:, np.random.permutation(m)]",
        "mini_batches",
        "the same permutation",
    ),
    (
        "update_lr",
        "return learning_rate0 / (1 + decay_rate * epoch_num)",
        "return learning_rate0 / (1 + decay_rate * (epoch_num + 1))",
        "learning rate at epoch 0",
        "",
    ),
    (  # was: "it is 0 where the expected value is not: a term or a whole update is missing"
        "update_lr",
        "return learning_rate0 / (1 + decay_rate * epoch_num)",
        "return learning_rate0 // (1 + decay_rate * epoch_num)",
        "learning rate at epoch 0",
        "it divides with //, which floors the quotient to a whole number",
    ),
    (
        "update_lr",
        "return learning_rate0 / (1 + decay_rate * epoch_num)",
        "return learning_rate0 / (1 + decay_rate * max(epoch_num - 1, 0))",
        "learning rate at epoch 1",
        "the decay runs one epoch behind the course's",
    ),
]


@pytest.mark.parametrize("function, old, new, output, hint", OPTIMIZER_SLIPS, ids=[s[2][:30] for s in OPTIMIZER_SLIPS])
def test_each_optimiser_slip_is_named_on_its_function(tmp_path, function, old, new, output, hint):
    learner = tmp_path / "learner.py"
    learner.write_text(WEEK4.read_text(encoding="utf-8") + optimisers_text(), encoding="utf-8")
    results = functions_of(slipped(tmp_path, learner, old, new))
    failed = [name for name, f in results.items() if not f.ok and not f.follows]
    assert failed == [function], {n: (f.output, f.detail, f.hint) for n, f in results.items() if not f.ok}
    assert results[function].output == output
    assert hint in results[function].hint + results[function].detail


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_optimiser_functions_pass(tmp_path, dtype):
    learner = tmp_path / "learner.py"
    learner.write_text(WEEK4.read_text(encoding="utf-8") + optimisers_text(), encoding="utf-8")
    results = functions_of(learner, dtype)
    assert [
        name
        for name in results
        if name.startswith(("random", "initialize_v", "initialize_a", "update_p", "update_l", "sched"))
    ][-7:] == [
        "random_mini_batches",
        "initialize_velocity",
        "update_parameters_with_momentum",
        "initialize_adam",
        "update_parameters_with_adam",
        "update_lr",
        "schedule_lr_decay",
    ]
    assert {n: f.detail for n, f in results.items() if not f.ok} == {}


def test_an_older_adam_returning_three_values_is_checked_on_them(tmp_path):
    learner = tmp_path / "learner.py"
    learner.write_text(
        WEEK4.read_text(encoding="utf-8")
        + optimisers_text().replace("return parameters, v, s, v_corrected, s_corrected", "return parameters, v, s"),
        encoding="utf-8",
    )
    assert functions_of(learner)["update_parameters_with_adam"].ok
    slipped_learner = slipped(
        tmp_path, learner, "/ (np.sqrt(s_corrected[key]) + epsilon)", "/ np.sqrt(s_corrected[key] + epsilon)"
    )
    assert "epsilon is inside the square root" in functions_of(slipped_learner)["update_parameters_with_adam"].hint


@pytest.mark.parametrize("scale", ["* 0.01", "/ np.sqrt(layer_dims[l - 1])", "* np.sqrt(2 / layer_dims[l - 1])"])
def test_every_course_initialisation_passes_whatever_the_seed(tmp_path, scale):
    source = WEEK4.read_text(encoding="utf-8")
    for seed in range(12):  # the spread is measured over thousands of draws, not guessed from a few
        text = source.replace("rng = np.random.default_rng(3)", f"rng = np.random.default_rng({seed})")
        text = text.replace("layer_dims[l - 1])) * 0.01", f"layer_dims[l - 1])) {scale}")
        path = tmp_path / f"learner_{seed}.py"
        path.write_text(text, encoding="utf-8")
        result = functions_of(path)["initialize_parameters_deep"]
        assert result.ok, (seed, result.output, result.detail)


@pytest.mark.end_to_end
def test_a_function_the_network_does_not_run_is_not_blamed_for_the_networks_divergence(tmp_path):
    path = slipped(tmp_path, WEEK4, "np.zeros((layer_dims[l], 1))", "np.ones((layer_dims[l], 1))")  # unused: --init he
    path = slipped(tmp_path, path, "dA_prev = np.dot(W.T, dZ)", "dA_prev = -np.dot(W.T, dZ)")  # used by the network
    first = first_divergence(path, (3, 4, 4, 1))
    assert first.function == "linear_backward" and first.stage == "backward"
    alone = first_divergence(
        slipped(tmp_path, WEEK4, "np.zeros((layer_dims[l], 1))", "np.ones((layer_dims[l], 1))"), (3, 4, 4, 1)
    )
    assert alone.function == "initialize_parameters_deep" and alone.stage == "functions"  # the network agrees
