"""The network's size from the learner's own code, and which course API a module is.

`--arch` may be left out when the module fixes the size (`layers_dims`, `n_x, n_h, n_y`, the
dims `two_layer_model` is called with; the last definition wins, as in Jupyter); given as well,
it must agree. A module is taken for an API only when it defines all of that API's functions.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import QUIET, REPO, assert_usage_error, fast, run_cli

import verify
from verify.impl import Course2API, DeepAPI, LogRegAPI, RnnStepAPI, ShallowAPI, detect, load_module
from verify.impl.sizes import module_definitions, network_size

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

COURSE = (REPO / "examples" / "course_network.py").read_text(encoding="utf-8")
PLANAR = (REPO / "examples" / "planar_network.py").read_text(encoding="utf-8")
FAST = fast(2, 20, "--no-gradcheck")


def notebook(path: Path, *sources: str) -> Path:
    """An nbformat 4 notebook of these code cells, as Jupyter writes it."""
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        for source in sources
    ]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}), encoding="utf-8")
    return path


def python_file(path: Path, *sources: str) -> Path:
    path.write_text("\n\n".join(sources), encoding="utf-8")
    return path


def size_of(path: Path, api: str = "deep", arch=None) -> verify.Config:
    """The Config network_size decides for the module at path, with --arch `arch` (None: not given)."""
    return network_size(verify.Config(arch=arch, impl=str(path)), load_module(str(path)), api, path.name)


def cli_line(*argv: str) -> str:
    """The one stderr line of a `python -m verify` that must stop with exit 2 (a real process: exit code, stderr)."""
    result = subprocess.run(
        [sys.executable, "-m", "verify", *argv], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    return assert_usage_error(result.returncode, result.stdout, result.stderr)


# ---------------------------------------------------------------- the rule, one definition at a time


@pytest.mark.parametrize(
    "cells, arch, origin",
    [
        (["layers_dims = [12288, 20, 7, 5, 1]\n"], (12288, 20, 7, 5, 1), "layers_dims"),
        (["n_x = 12288\nn_h = 7\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\n"], (12288, 7, 1), "layers_dims"),
        (["n_x, n_h, n_y = 6, 3, 1\n"], (6, 3, 1), "n_x, n_h, n_y"),
        # Jupyter's order: the later cell's layers_dims is the network, the two-layer one before it is not
        (
            [
                "n_x = 12288\nn_h = 7\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\n",
                "layers_dims = [12288, 20, 7, 5, 1]  # 4-layer\n",
            ],
            (12288, 20, 7, 5, 1),
            "layers_dims",
        ),
        (
            [
                "n_x = 5\nn_h = 4\nn_y = 1\n",
                "parameters, costs = two_layer_model(train_x, train_y, layers_dims = (n_x, n_h, n_y), num_iterations = 2)\n",
            ],
            (5, 4, 1),
            "two_layer_model's layers_dims",
        ),
        (
            [
                "layers_dims = [5, 4, 3, 1]\n",
                "parameters, costs = L_layer_model(train_x, train_y, layers_dims, num_iterations=2)\n",
            ],
            (5, 4, 3, 1),
            "layers_dims",
        ),  # the course's application notebook: the variable is run as it is
        (
            ["layers_dims = [5, 4, 3, 1]\n", "L_layer_model(train_x, train_y, [5, 2, 1], 0.1)\n"],
            (5, 2, 1),
            "L_layer_model's layers_dims",
        ),
    ],
)
def test_the_module_fixes_the_size(tmp_path, cells, arch, origin):
    config = size_of(notebook(tmp_path / "x.ipynb", COURSE, *cells))
    assert config.arch == arch
    assert config.arch_from == f"{origin} in x.ipynb"


def test_a_py_file_fixes_it_too(tmp_path):
    config = size_of(
        python_file(tmp_path / "x.py", COURSE, "n_x = 12288\nn_h = 7\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\n")
    )
    assert (config.arch, config.arch_from) == ((12288, 7, 1), "layers_dims in x.py")


def test_only_top_level_whole_numbers_count(tmp_path):
    path = python_file(tmp_path / "x.py", COURSE, "def f():\n    layers_dims = [9, 9, 1]\n\nif True:\n    n_x = 3\n")
    assert module_definitions(load_module(str(path))) == {}  # inside a function or an if: never read


def test_a_later_definition_that_is_not_a_number_replaces_the_earlier(tmp_path):
    path = notebook(tmp_path / "x.ipynb", PLANAR, "n_x, n_h, n_y = 5, 4, 1\n", "n_x, n_h, n_y = layer_sizes(X, Y)\n")
    with pytest.raises(verify.UsageError) as error:
        size_of(path, "shallow")
    assert str(error.value) == (
        "--arch is needed: n_x, n_h, n_y = layer_sizes(X, Y) in x.ipynb is not made of numbers the "
        "verifier can read without running it: give --arch n_x,n_h,n_y, one hidden layer (--arch 2,4,1 for the "
        "planar data)"
    )


@pytest.mark.parametrize(
    "api, cells, arch",
    [
        (
            "shallow",
            ["n_x, n_h, n_y = 2, 4, 1\nlayers_dims = [2, 5, 5, 1]\n"],
            (2, 4, 1),
        ),  # week 3: n_x, n_h, n_y first
        ("shallow", ["layers_dims = [2, 5, 1]\n"], (2, 5, 1)),
        ("logreg", ["n_x = 7\n"], (7, 1)),
        ("logreg", ["layers_dims = [7, 1]\n"], (7, 1)),
    ],
)
def test_the_size_suits_the_api(tmp_path, api, cells, arch):
    assert size_of(notebook(tmp_path / "x.ipynb", *cells), api).arch == arch


# ---------------------------------------------------------------- --arch as well, or neither


def test_an_agreeing_arch_is_used(tmp_path):
    config = size_of(notebook(tmp_path / "x.ipynb", COURSE, "layers_dims = [3, 4, 1]\n"), arch=(3, 4, 1))
    assert (config.arch, config.arch_from) == ((3, 4, 1), None)


def test_arch_decides_where_the_module_fixes_nothing(tmp_path):
    config = size_of(python_file(tmp_path / "x.py", COURSE), arch=(3, 4, 1))
    assert (config.arch, config.arch_from) == ((3, 4, 1), None)


APPLICATION_SIZES = "n_x = 3\nn_h = 4\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\n", "layers_dims = [3, 4, 4, 1]\n"


def test_an_arch_that_is_another_size_the_module_fixes_is_taken(tmp_path):
    """The application notebook: n_x, n_h, n_y for two_layer_model, then a deeper layers_dims for L_layer_model;
    --arch n_x,n_h,n_y is how its two_layer_model gets verified."""
    path = notebook(tmp_path / "x.ipynb", COURSE, *APPLICATION_SIZES)
    assert size_of(path).arch == (3, 4, 4, 1)
    config = size_of(path, arch=(3, 4, 1))
    assert (config.arch, config.arch_from) == ((3, 4, 1), "n_x, n_h, n_y in x.ipynb")
    with pytest.raises(verify.UsageError, match="--arch 3,5,1 differs from layers_dims = "):
        size_of(path, arch=(3, 5, 1))


@pytest.mark.end_to_end
def test_two_layer_model_beside_a_deeper_network_says_how_to_verify_it(tmp_path):
    path = notebook(tmp_path / "x.ipynb", COURSE, *APPLICATION_SIZES)
    deeper = verify.run(verify.Config(impl=str(path), iterations=2, examples=16, gradcheck=False, **QUIET))
    loops = {check.name: check for check in deeper.checks if check.name.startswith("loop ")}
    assert loops["loop L_layer_model"].ok and not loops["loop L_layer_model"].skipped
    why = "it trains a network of 2 layers and this run's has 3: run again with --arch 3,4,1 (its n_x, n_h, n_y) to"
    assert loops["loop two_layer_model"].skipped == why + " verify it"
    # the PASS line says so too, its tables shown or not: two_layer_model is the learner's code, left unchecked
    assert deeper.verdict == "pass"
    assert deeper.summary() == (
        f"VERDICT: PASS  x.ipynb and torch agree on every check; loop two_layer_model not run: {why} verify it"
    )
    its_own = verify.run(
        verify.Config(impl=str(path), arch=(3, 4, 1), iterations=2, examples=16, gradcheck=False, **QUIET)
    )
    two_layer = next(check for check in its_own.checks if check.name == "loop two_layer_model")
    assert its_own.verdict == "pass" and two_layer.ok and not two_layer.skipped


@pytest.mark.end_to_end
def test_a_two_layer_model_whose_sizes_the_module_does_not_fix_is_told_to_give_them(tmp_path):
    path = python_file(tmp_path / "x.py", COURSE)
    report = verify.run(verify.Config(impl=str(path), arch=(3, 4, 4, 1), iterations=2, examples=16, **QUIET))
    assert report.summary().endswith(
        "; loop two_layer_model not run: it trains a network of 2 layers and this run's has 3: run again with "
        "--arch n_x,n_h,n_y (its own sizes) to verify it"
    )
    untrained = verify.run(verify.Config(impl=str(path), arch=(3, 4, 4, 1), iterations=0, examples=16, **QUIET))
    assert untrained.summary().endswith("agree on every check; training not run: no iterations")  # no loop runs


@pytest.mark.end_to_end
def test_a_different_arch_is_one_line_exit_2(tmp_path):
    path = notebook(tmp_path / "x.ipynb", COURSE, "layers_dims = [12288, 20, 7, 5, 1]\n")
    line = cli_line("--arch", "3,4,4,1", "--impl", str(path), *FAST)
    assert line == (
        "verify: error: --arch 3,4,4,1 differs from layers_dims = [12288, 20, 7, 5, 1] in x.ipynb; drop "
        "--arch to use the notebook's, or change one of them"
    )


@pytest.mark.end_to_end
def test_a_different_arch_names_the_resolved_names(tmp_path):
    path = python_file(tmp_path / "x.py", COURSE, "n_x = 4\nn_h = 7\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\n")
    line = cli_line("--impl", str(path), "--arch", "4,8,1", *FAST)
    assert line == (
        "verify: error: --arch 4,8,1 differs from layers_dims = (n_x, n_h, n_y) = (4, 7, 1) in x.py; drop "
        "--arch to use the module's, or change one of them"
    )


@pytest.mark.end_to_end
def test_no_size_anywhere_says_what_was_looked_for(tmp_path):
    line = cli_line("--impl", str(python_file(tmp_path / "x.py", COURSE)), *FAST)
    assert line == "verify: error: --arch is needed: x.py fixes no network size (no layers_dims, n_x, n_h, n_y)"


@pytest.mark.parametrize(
    "example, arch",
    [
        ("logreg_network.py", "give --arch n_x,1, logistic regression's one unit on n_x inputs (--arch 12288,1 for"),
        ("planar_network.py", "give --arch n_x,n_h,n_y, one hidden layer (--arch 2,4,1 for the planar data)"),
    ],
)
def test_no_size_in_a_fixed_depth_module_says_what_arch_it_takes(tmp_path, example, arch):
    """Weeks 2 and 3 fix the depth, not the sizes: the line says what --arch to give (was: only what was looked for)."""
    path = tmp_path / example
    path.write_text((REPO / "examples" / example).read_text())
    line = cli_line("--impl", str(path), *FAST)
    assert line.startswith(f"verify: error: --arch is needed: {example} fixes no network size") and arch in line


def test_a_size_made_of_more_than_numbers_says_so(tmp_path):
    path = notebook(
        tmp_path / "x.ipynb", COURSE, "layers_dims = [5, 4, 1]\n", "layers_dims = [train_X.shape[0], 20, 3, 1]\n"
    )
    with pytest.raises(verify.UsageError) as error:
        size_of(path)
    assert str(error.value) == (
        "--arch is needed: layers_dims = [train_X.shape[0], 20, 3, 1] in x.ipynb is not made of "
        "numbers the verifier can read without running it"
    )


def test_a_size_that_does_not_suit_the_api_is_not_taken(tmp_path):
    path = notebook(tmp_path / "x.ipynb", PLANAR, "layers_dims = [2, 5, 5, 1]\n")
    assert size_of(path, "shallow", arch=(2, 4, 1)).arch == (2, 4, 1)  # no conflict: it is not a week 3 size
    with pytest.raises(
        verify.UsageError,
        match=r"^--arch is needed: layers_dims = \[2, 5, 5, 1\] in x.ipynb does not "
        r"fit the week 3 API's n_x, n_h, n_y: give --arch n_x,n_h,n_y, one hidden layer \(--arch 2,4,1 for the "
        r"planar data\)$",
    ):
        size_of(path, "shallow")


@pytest.mark.end_to_end
def test_neither_arch_nor_impl(capsys):
    line = assert_usage_error(*run_cli(capsys, "--no-tensorboard"))
    assert line.startswith("verify: error: --arch is needed: give layer sizes like 3,4,4,1")


# ---------------------------------------------------------------- whole runs


@pytest.mark.end_to_end
def test_a_notebook_runs_at_its_own_size_and_the_header_says_so(tmp_path):
    path = notebook(
        tmp_path / "course.ipynb",
        COURSE,
        "n_x = 5\nn_h = 3\nn_y = 1\nlayers_dims = (n_x, n_h, n_y)\n",
        "layers_dims = [5, 4, 3, 1]\n",
    )
    report = verify.run(verify.Config(impl=str(path), examples=20, iterations=2, gradcheck=False, **QUIET))
    assert report.verdict == "pass"
    assert report.config.arch == (5, 4, 3, 1)
    assert (
        "course.ipynb vs torch_ref: 5-4-3-1 (layers_dims in course.ipynb), activations relu,relu,sigmoid"
        in report.to_text()
    )


@pytest.mark.end_to_end
def test_a_week_3_py_with_n_x_n_h_n_y_runs_without_arch(tmp_path, capsys):
    path = python_file(tmp_path / "planar.py", PLANAR, "n_x, n_h, n_y = 2, 4, 1\n")
    code, out, err = run_cli(capsys, "--impl", str(path), "--json", "-", *FAST)
    assert code == 0, err
    config = json.loads(out)["config"]
    assert (config["arch"], config["arch_from"]) == ([2, 4, 1], "n_x, n_h, n_y in planar.py")


@pytest.mark.end_to_end
def test_messages_about_the_size_name_the_modules_variable(tmp_path, capsys):
    path = notebook(tmp_path / "x.ipynb", COURSE, "layers_dims = [5, 4, 1]\n")
    line = assert_usage_error(*run_cli(capsys, "--impl", str(path), "--activations", "relu,relu,sigmoid", *FAST))
    assert line == "verify: error: --activations needs 2 names (one per layer of layers_dims in x.ipynb (5,4,1)), got 3"
    data = tmp_path / "d.npz"
    np.savez(data, X=np.zeros((3, 10)), Y=np.zeros((1, 10)))
    line = assert_usage_error(*run_cli(capsys, "--impl", str(path), "--data", str(data), *FAST))
    assert line.endswith("X has 3 features per example but layers_dims in x.ipynb (5,4,1) starts with 5")


# ---------------------------------------------------------------- which API


def module(**functions) -> types.ModuleType:
    """A module defining each named function (a stand-in body: detection looks at names only)."""
    made = types.ModuleType("learner")
    for name, function in functions.items():
        setattr(made, name, function)
    return made


def _stub(*args):
    return None


DEEP = ("L_model_forward", "compute_cost", "L_model_backward", "update_parameters")
SHALLOW = ("forward_propagation", "compute_cost", "backward_propagation", "update_parameters")
RNN = ("rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward")


@pytest.mark.parametrize(
    "names, api",
    [
        (DEEP, DeepAPI),
        (SHALLOW, ShallowAPI),
        (("sigmoid", "propagate", "optimize"), LogRegAPI),
        (DEEP + SHALLOW, DeepAPI),
        (RNN, RnnStepAPI),
        (DEEP + RNN, DeepAPI),  # the recurrent notebook's API comes last: no other API's detection changes
    ],
)
def test_an_api_whose_functions_are_all_there_is_chosen(names, api):
    assert detect(module(**{name: _stub for name in names}), "learner.py") is api


def test_one_missing_function_is_named_per_api_those_with_most_found_first():
    learner = module(**{name: _stub for name in DEEP if name != "L_model_backward"}, forward_propagation=_stub)
    with pytest.raises(verify.UsageError) as error:
        detect(learner, "--impl learner.py")
    assert str(error.value) == (
        "--impl learner.py matches none of the course APIs: week 4 (L layers): found L_model_forward, compute_cost, "
        "update_parameters; missing L_model_backward | week 3 (one hidden layer): found forward_propagation, "
        "compute_cost, update_parameters; missing backward_propagation | course 2 (the 3-layer network of its helper "
        "files): found forward_propagation; missing backward_propagation | course 2 (gradient checking): found none "
        "of them; missing forward_propagation_n, gradient_check_n | week 2 (logistic regression): found none of "
        "them; missing sigmoid, propagate, optimize"
        " | course 4 week 1 (convolution step by step): found none of them; missing zero_pad, conv_single_step, "
        "conv_forward, pool_forward"
        " | course 5 week 1 (recurrent networks step by step): found none of them; missing rnn_cell_forward, "
        "rnn_forward, lstm_cell_forward, lstm_forward"
        " | course 5 week 1 (the character-level language model): found none of them; missing clip, sample, "
        "optimize"
    )


def test_api_given_names_what_that_api_misses():
    with pytest.raises(verify.UsageError) as error:
        detect(module(**{name: _stub for name in SHALLOW}), "--impl learner.py", "deep")
    assert str(error.value) == (
        "--impl learner.py is not the week 4 (L layers) API (--api deep): found compute_cost, "
        "update_parameters; missing L_model_forward, L_model_backward"
    )


# The second course's helper network (reg_utils.py, opt_utils.py): week 3's names, three layers.
THREE_LAYERS = """import numpy as np


def relu(x):
    return np.maximum(0, x)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def forward_propagation(X, parameters):
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    z1 = np.dot(W1, X) + b1
    a1 = relu(z1)
    z2 = np.dot(W2, a1) + b2
    a2 = relu(z2)
    z3 = np.dot(W3, a2) + b3
    a3 = sigmoid(z3)
    return a3, (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3)


def backward_propagation(X, Y, cache):
    return {}


def compute_cost(a3, Y):
    return 0.0


def update_parameters(parameters, grads, learning_rate):
    return parameters
"""


COURSE2 = "the course 2 (the 3-layer network of its helper files) API"


@pytest.mark.parametrize(
    "arch, message",
    [
        ([], "--arch is needed: reg_utils.py fixes no network size (no layers_dims)"),
        (
            ["--arch", "3,4,1"],
            f"{COURSE2} computes n_x -> n[1] (relu) -> n[2] (relu) -> 1 (sigmoid) with the cross-entropy cost: "
            "give --arch n_x,n1,n2,1 (got --arch 3,4,1)",
        ),
        (
            ["--arch", "3,4,1", "--api", "shallow"],
            "--impl {path}: its forward_propagation computes a network of 3 layers (it reads W3); the week 3 (one "
            "hidden layer) API has 2 (n_x -> n_h -> n_y), whatever --arch says (the second course's 3-layer helper "
            "networks take backward_propagation(X, Y, cache))",
        ),
    ],
    ids=["no-arch", "two-layer-arch", "api-shallow"],
)
@pytest.mark.end_to_end
def test_a_three_layer_helper_network_is_the_second_courses_not_week_3s(tmp_path, capsys, arch, message):
    path = python_file(tmp_path / "reg_utils.py", THREE_LAYERS)
    line = assert_usage_error(*run_cli(capsys, "--impl", str(path), *arch, *FAST))
    assert line == "verify: error: " + message.format(path=path)
    assert detect(load_module(str(path)), "reg_utils.py") is Course2API
