"""The second course's week-1/2 files as learners have them (examples/course2/): four helper modules and the four
notebooks that import them. These tests keep the fixtures honest on their own, without the verifier: every helper
defines the course's functions with the course's parameter names, the notebooks import only what the helpers
define, and the numbers follow the course's conventions (the 1/m inside dz3, the optimisation helper's cost summed
over the batch, the two planted slips of the gradient-checking notebook).

matplotlib, sklearn, scipy and h5py are not installed here: a helper is run with every import but numpy and math
left out, and only its function definitions (none of them touches those libraries unless it plots or loads data).
"""

from __future__ import annotations

import ast
import json
import math
from copy import deepcopy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

COURSE2 = Path(__file__).resolve().parents[2] / "examples" / "course2"
KEPT_MODULES = {"numpy", "math", "copy"}

ACTIVATIONS = {"sigmoid": ["x"], "relu": ["x"]}
NETWORK = {
    "forward_propagation": ["X", "parameters"],
    "backward_propagation": ["X", "Y", "cache"],
    "predict": ["X", "y", "parameters"],
    "predict_dec": ["parameters", "X"],
    "plot_decision_boundary": ["model", "X", "y"],
}
SIGNATURES = {
    "init_utils": {
        **ACTIVATIONS,
        **NETWORK,
        "update_parameters": ["parameters", "grads", "learning_rate"],
        "compute_loss": ["a3", "Y"],
        "load_cat_dataset": [],
        "load_dataset": [],
    },
    "reg_utils": {
        **ACTIVATIONS,
        **NETWORK,
        "initialize_parameters": ["layer_dims"],
        "update_parameters": ["parameters", "grads", "learning_rate"],
        "compute_cost": ["a3", "Y"],
        "load_2D_dataset": [],
    },
    "opt_utils_v1a": {
        **ACTIVATIONS,
        **NETWORK,
        "initialize_parameters": ["layer_dims"],
        "compute_cost": ["a3", "Y"],
        "load_dataset": [],
        "load_params_and_grads": ["seed"],
    },
    "gc_utils": {
        **ACTIVATIONS,
        "dictionary_to_vector": ["parameters"],
        "vector_to_dictionary": ["theta"],
        "gradients_to_vector": ["gradients"],
    },
}
TOP_IMPORTS = {
    "init_utils": ["numpy", "matplotlib.pyplot", "h5py", "sklearn", "sklearn.datasets"],
    "reg_utils": [
        "numpy",
        "matplotlib.pyplot",
        "h5py",
        "sklearn",
        "sklearn.datasets",
        "sklearn.linear_model",
        "scipy.io",
    ],
    "opt_utils_v1a": ["numpy", "matplotlib.pyplot", "scipy.io", "math", "sklearn", "sklearn.datasets"],
    "gc_utils": ["numpy"],
}
NOTEBOOKS = {
    "Initialization": (
        "init_utils",
        ["initialize_parameters_zeros", "initialize_parameters_random", "initialize_parameters_he"],
    ),
    "Regularization": (
        "reg_utils",
        [
            "compute_cost_with_regularization",
            "backward_propagation_with_regularization",
            "forward_propagation_with_dropout",
            "backward_propagation_with_dropout",
        ],
    ),
    "Gradient_Checking": (
        "gc_utils",
        ["forward_propagation", "backward_propagation", "gradient_check", "gradient_check_n"],
    ),
    "Optimization_methods": (
        "opt_utils_v1a",
        [
            "update_parameters_with_gd",
            "random_mini_batches",
            "initialize_velocity",
            "update_parameters_with_momentum",
            "initialize_adam",
            "update_parameters_with_adam",
            "update_lr",
            "schedule_lr_decay",
        ],
    ),
}


def _plot_stub() -> SimpleNamespace:
    """Stands in for matplotlib.pyplot inside a model(): every call does nothing."""
    nothing = lambda *args, **kwargs: None  # noqa: E731
    return SimpleNamespace(plot=nothing, ylabel=nothing, xlabel=nothing, title=nothing, show=nothing)


def _kept(node: ast.stmt) -> bool:
    """Whether a top-level statement of a helper runs here: function definitions and numpy/math imports."""
    if isinstance(node, ast.FunctionDef):
        return True
    if isinstance(node, ast.Import):
        return all(alias.name in KEPT_MODULES for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.module in KEPT_MODULES
    return False


def _run_definitions(source: str, filename: str, namespace: dict) -> dict:
    """Executes the imports of numpy/math/copy and the function definitions of `source` into `namespace`."""
    tree = ast.parse(source, filename)
    tree.body = [node for node in tree.body if _kept(node)]
    exec(compile(tree, filename, "exec"), namespace)
    return namespace


def helper(name: str) -> dict:
    """The namespace of examples/course2/<name>.py with its plotting and data libraries left out."""
    path = COURSE2 / f"{name}.py"
    return _run_definitions(path.read_text(), str(path), {"__name__": name})


def code_cells(notebook: str) -> list[str]:
    data = json.loads((COURSE2 / f"{notebook}.ipynb").read_text())
    return ["".join(cell["source"]) for cell in data["cells"] if cell["cell_type"] == "code"]


def _python(cell: str) -> str:
    """A cell without its IPython magics."""
    return "\n".join(line for line in cell.splitlines() if not line.lstrip().startswith("%"))


def notebook(name: str) -> dict:
    """The notebook's functions, defined over what its opening cell imports from its helper (plus numpy, math,
    deepcopy and a do-nothing plt)."""
    helper_name, _ = NOTEBOOKS[name]
    source = helper(helper_name)
    namespace: dict = {"__name__": name, "np": np, "math": math, "deepcopy": deepcopy, "plt": _plot_stub()}
    for cell in code_cells(name):
        tree = ast.parse(_python(cell))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == helper_name:
                namespace.update({alias.name: source[alias.name] for alias in node.names})
    for index, cell in enumerate(code_cells(name)):
        _run_definitions(_python(cell), f"{name}[{index}]", namespace)
    return namespace


def network_parameters(dims, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) * 0.7
        parameters[f"b{l}"] = rng.standard_normal((dims[l], 1)) * 0.3
    return parameters


def batch(n: int, m: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, m)), (rng.random((1, m)) < 0.5).astype(float)


def central_differences(cost, parameters: dict, eps: float = 1e-6) -> dict:
    """d cost / d parameters[key] for every key, by centred differences (parameters left as they were)."""
    found = {}
    for key, value in parameters.items():
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            plus = cost(parameters)
            value[index] = saved - eps
            minus = cost(parameters)
            value[index] = saved
            grad[index] = (plus - minus) / (2 * eps)
        found["d" + key] = grad
    return found


def assert_gradients(grads: dict, expected: dict, keys=None) -> None:
    for key in keys or expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-5, atol=1e-8, err_msg=key)


# ---------------------------------------------------------------- the helper files


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_helper_defines_the_course_functions_and_imports(name):
    tree = ast.parse((COURSE2 / f"{name}.py").read_text())
    defined = {node.name: [a.arg for a in node.args.args] for node in tree.body if isinstance(node, ast.FunctionDef)}
    for function, parameters in SIGNATURES[name].items():
        assert defined.get(function) == parameters, function
    imported = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    assert imported == TOP_IMPORTS[name]


@pytest.mark.parametrize("name", ["init_utils", "reg_utils", "opt_utils_v1a"])
def test_helper_backward_is_the_gradient_of_the_mean_cost(name):
    ns = helper(name)
    X, Y = batch(3, 7)
    m = X.shape[1]
    parameters = network_parameters([3, 4, 3, 1])
    cost_of = ns["compute_loss"] if name == "init_utils" else ns["compute_cost"]
    per_example = m if name == "opt_utils_v1a" else 1  # the optimisation helper's cost is a sum over the batch

    a3, cache = ns["forward_propagation"](X, parameters)
    assert len(cache) == 12 and cache[9] is a3 and cache[2] is parameters["W1"]
    grads = ns["backward_propagation"](X, Y, cache)
    assert set(grads) == {"dz3", "dW3", "db3", "da2", "dz2", "dW2", "db2", "da1", "dz1", "dW1", "db1"}
    np.testing.assert_allclose(grads["dz3"], (a3 - Y) / m)  # the 1/m lives in dz3

    expected = central_differences(lambda p: cost_of(ns["forward_propagation"](X, p)[0], Y) / per_example, parameters)
    assert_gradients(grads, expected)


def test_opt_utils_cost_is_m_times_the_mean_cost():
    reg, opt = helper("reg_utils"), helper("opt_utils_v1a")
    rng = np.random.default_rng(4)
    a3 = rng.uniform(0.05, 0.95, (1, 9))
    Y = (rng.random((1, 9)) < 0.5).astype(float)
    mean = -np.mean(Y * np.log(a3) + (1 - Y) * np.log(1 - a3))
    assert reg["compute_cost"](a3, Y) == pytest.approx(mean, rel=1e-12)
    assert helper("init_utils")["compute_loss"](a3, Y) == pytest.approx(mean, rel=1e-12)
    assert opt["compute_cost"](a3, Y) == pytest.approx(9 * reg["compute_cost"](a3, Y), rel=1e-12)


@pytest.mark.parametrize("name", ["init_utils", "reg_utils"])
def test_update_parameters_steps_every_layer(name):
    ns = helper(name)
    parameters = network_parameters([2, 3, 1])
    before = deepcopy(parameters)
    grads = {"d" + key: np.full_like(value, 2.0) for key, value in parameters.items()}
    after = ns["update_parameters"](parameters, grads, 0.25)
    for key in before:
        np.testing.assert_allclose(after[key], before[key] - 0.5)


def test_initialize_parameters_of_the_two_helpers():
    reg = helper("reg_utils")["initialize_parameters"]([4, 3, 1])
    opt = helper("opt_utils_v1a")["initialize_parameters"]([4, 3, 1])
    np.random.seed(3)
    W1 = np.random.randn(3, 4)
    np.testing.assert_allclose(reg["W1"], W1 / 2)  # divided by sqrt(n0) = 2
    np.testing.assert_allclose(opt["W1"], W1 * np.sqrt(2 / 4))
    assert not reg["b1"].any() and reg["b2"].shape == (1, 1) and opt["W2"].shape == (1, 3)


def test_gc_utils_vectors_round_trip():
    ns = helper("gc_utils")
    parameters = network_parameters([4, 5, 3, 1])
    theta, keys = ns["dictionary_to_vector"](parameters)
    assert theta.shape == (47, 1)
    assert keys[:20] == ["W1"] * 20 and keys[20:25] == ["b1"] * 5 and keys[-1] == "b3" and len(keys) == 47
    np.testing.assert_array_equal(theta[:20, 0], parameters["W1"].ravel())
    back = ns["vector_to_dictionary"](theta)
    for key, value in parameters.items():
        np.testing.assert_array_equal(back[key], value)
    gradients = {"d" + key: value * 3 for key, value in parameters.items()}
    np.testing.assert_array_equal(ns["gradients_to_vector"](gradients), theta * 3)


# ---------------------------------------------------------------- the notebooks


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_is_shaped_like_the_course(name):
    data = json.loads((COURSE2 / f"{name}.ipynb").read_text())
    assert data["nbformat"] == 4 and data["metadata"]["kernelspec"]["name"] == "python3"
    assert data["cells"][0]["cell_type"] == "markdown"
    for cell in data["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    helper_name, graded = NOTEBOOKS[name]
    cells = code_cells(name)
    for function in graded:
        assert any(cell.startswith(f"# GRADED FUNCTION: {function}\n") for cell in cells), function
    # What the notebook imports from its helper is what the helper defines.
    defined = set(SIGNATURES[helper_name])
    imported = [
        alias.name
        for cell in cells
        for node in ast.parse(_python(cell)).body
        if isinstance(node, ast.ImportFrom) and node.module == helper_name
        for alias in node.names
    ]
    assert imported and set(imported) <= defined
    assert "testCases" not in "".join(cells) and "public_tests" not in "".join(cells)


def test_initialization_notebook():
    ns = notebook("Initialization")
    zeros = ns["initialize_parameters_zeros"]([3, 2, 1])
    assert zeros["W1"].shape == (2, 3) and zeros["b2"].shape == (1, 1)
    assert not any(value.any() for value in zeros.values())

    random = ns["initialize_parameters_random"]([3, 2, 1])
    np.random.seed(3)
    np.testing.assert_array_equal(random["W1"], np.random.randn(2, 3) * 10)

    he = ns["initialize_parameters_he"]([2000, 400, 1])
    assert he["W1"].std() == pytest.approx(np.sqrt(2 / 2000), rel=0.01)
    assert he["W2"].shape == (1, 400) and not he["b1"].any()

    # One iteration of the model is one gradient step from He weights.
    X, Y = batch(2, 30)
    start = ns["initialize_parameters_he"]([2, 10, 5, 1])
    grads = ns["backward_propagation"](X, Y, ns["forward_propagation"](X, deepcopy(start))[1])
    trained = ns["model"](X, Y, learning_rate=0.5, num_iterations=1, print_cost=False)
    for key in start:
        np.testing.assert_allclose(trained[key], start[key] - 0.5 * grads["d" + key])


def test_regularization_cost_and_backward():
    ns = notebook("Regularization")
    X, Y = batch(3, 6)
    parameters = network_parameters([3, 4, 2, 1])
    lambd = 0.7
    cost_of = lambda p: ns["compute_cost_with_regularization"](ns["forward_propagation"](X, p)[0], Y, p, lambd)  # noqa: E731
    squares = sum(np.sum(parameters[f"W{l}"] ** 2) for l in (1, 2, 3))
    a3 = ns["forward_propagation"](X, parameters)[0]
    assert cost_of(parameters) == pytest.approx(ns["compute_cost"](a3, Y) + lambd / (2 * 6) * squares, rel=1e-12)

    _, cache = ns["forward_propagation"](X, parameters)
    grads = ns["backward_propagation_with_regularization"](X, Y, cache, lambd)
    assert {"dZ3", "dA2", "dZ1"} <= set(grads)
    np.testing.assert_allclose(grads["dZ3"], a3 - Y)  # no 1/m in dZ3 here
    assert_gradients(grads, central_differences(cost_of, parameters))


def test_dropout_forward_and_backward_follow_their_masks():
    ns = notebook("Regularization")
    X, Y = batch(3, 8)
    parameters = network_parameters([3, 5, 4, 1])
    keep_prob = 0.7
    A3, cache = ns["forward_propagation_with_dropout"](X, parameters, keep_prob)
    Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3_cached, W3, b3 = cache
    assert len(cache) == 14 and A3_cached is A3
    np.random.seed(1)
    np.testing.assert_array_equal(D1, np.random.rand(5, 8) < keep_prob)
    np.testing.assert_array_equal(D2, np.random.rand(4, 8) < keep_prob)
    assert 0 < D1.sum() < D1.size
    np.testing.assert_allclose(A1, np.maximum(0, Z1) * D1 / keep_prob)
    np.testing.assert_allclose(Z2, W2 @ A1 + b2)
    np.testing.assert_allclose(A2, np.maximum(0, Z2) * D2 / keep_prob)

    # The forward pass reseeds, so its masks are fixed: its cost is a function of the parameters alone.
    grads = ns["backward_propagation_with_dropout"](X, Y, cache, keep_prob)
    cost_of = lambda p: ns["compute_cost"](ns["forward_propagation_with_dropout"](X, p, keep_prob)[0], Y)  # noqa: E731
    assert_gradients(grads, central_differences(cost_of, parameters))

    plain, _ = ns["forward_propagation"](X, parameters)
    np.testing.assert_allclose(ns["forward_propagation_with_dropout"](X, parameters, 1.0)[0], plain)


def test_regularization_model_takes_the_regularized_step():
    ns = notebook("Regularization")
    X, Y = batch(2, 12)
    start = ns["initialize_parameters"]([2, 20, 3, 1])
    grads = ns["backward_propagation_with_regularization"](X, Y, ns["forward_propagation"](X, start)[1], 0.7)
    trained = ns["model"](X, Y, learning_rate=0.3, num_iterations=1, print_cost=False, lambd=0.7)
    for key in start:
        np.testing.assert_allclose(trained[key], start[key] - 0.3 * grads["d" + key])


def test_gradient_checking_one_dimension():
    ns = notebook("Gradient_Checking")
    assert ns["forward_propagation"](2, 4) == 8 and ns["backward_propagation"](3, 4) == 3
    assert ns["gradient_check"](3, 4) < 2e-7
    ns["backward_propagation"] = lambda x, theta: 2 * x
    assert ns["gradient_check"](3, 4) == pytest.approx(1 / 3, rel=1e-6)


def test_gradient_checking_finds_the_two_planted_slips():
    ns = notebook("Gradient_Checking")
    np.random.seed(1)
    X = np.random.randn(4, 3)
    Y = np.array([1, 1, 0])
    parameters = {
        key: np.random.randn(*shape)
        for key, shape in [
            ("W1", (5, 4)),
            ("b1", (5, 1)),
            ("W2", (3, 5)),
            ("b2", (3, 1)),
            ("W3", (1, 3)),
            ("b3", (1, 1)),
        ]
    }
    cost, cache = ns["forward_propagation_n"](X, Y, parameters)
    gradients = ns["backward_propagation_n"](X, Y, cache)
    truth = central_differences(lambda p: ns["forward_propagation_n"](X, Y, p)[0], parameters)
    assert_gradients(gradients, truth, ["dW1", "db2", "dW3", "db3"])
    assert_gradients(gradients, {"dW2": 2 * truth["dW2"], "db1": 4 * truth["db1"]})

    assert ns["gradient_check_n"](parameters, gradients, X, Y, 1e-7) > 2e-7
    fixed = dict(gradients, dW2=gradients["dW2"] / 2, db1=gradients["db1"] / 4)
    assert ns["gradient_check_n"](parameters, fixed, X, Y, 1e-7) < 2e-7


def test_optimization_updates_follow_their_formulas():
    ns = notebook("Optimization_methods")
    W1, b1, W2, b2, dW1, db1, dW2, db2 = ns["load_params_and_grads"]()
    start = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    gd = ns["update_parameters_with_gd"](deepcopy(start), grads, 0.01)
    for key in start:
        np.testing.assert_allclose(gd[key], start[key] - 0.01 * grads["d" + key])

    v = ns["initialize_velocity"](start)
    assert set(v) == set(grads) and not any(value.any() for value in v.values())
    parameters, v = ns["update_parameters_with_momentum"](deepcopy(start), grads, v, 0.9, 0.01)
    parameters, v = ns["update_parameters_with_momentum"](parameters, grads, v, 0.9, 0.01)
    for key in start:
        g = grads["d" + key]
        np.testing.assert_allclose(v["d" + key], 0.9 * 0.1 * g + 0.1 * g)
        np.testing.assert_allclose(parameters[key], start[key] - 0.01 * (0.1 * g) - 0.01 * (0.19 * g))

    v, s = ns["initialize_adam"](start)
    lr, beta1, beta2, eps = 0.02, 0.8, 0.888, 1e-2
    parameters, v, s, _, _ = ns["update_parameters_with_adam"](deepcopy(start), grads, v, s, 1, lr, beta1, beta2, eps)
    parameters, v, s, vc, sc = ns["update_parameters_with_adam"](parameters, grads, v, s, 2, lr, beta1, beta2, eps)
    for key in start:
        g = grads["d" + key]
        first = start[key] - lr * g / (np.abs(g) + eps)  # step 1: the corrected moments are g and g**2
        m2 = (1 - beta1) * g * (1 + beta1)
        v2 = (1 - beta2) * g**2 * (1 + beta2)
        np.testing.assert_allclose(v["d" + key], m2)
        np.testing.assert_allclose(vc["d" + key], m2 / (1 - beta1**2))
        np.testing.assert_allclose(sc["d" + key], v2 / (1 - beta2**2))
        expected = first - lr * (m2 / (1 - beta1**2)) / (np.sqrt(v2 / (1 - beta2**2)) + eps)
        np.testing.assert_allclose(parameters[key], expected)

    assert ns["update_lr"](0.5, 2, 1) == pytest.approx(0.5 / 3)
    assert ns["schedule_lr_decay"](0.5, 10, 0.3, 100) == pytest.approx(0.5)
    assert ns["schedule_lr_decay"](0.5, 100, 0.3, 100) == pytest.approx(0.5 / 1.3)
    assert ns["schedule_lr_decay"](0.5, 2999, 1) == pytest.approx(0.5 / 3)


def test_random_mini_batches_shuffle_and_cut():
    ns = notebook("Optimization_methods")
    X = np.arange(3 * 148).reshape(3, 148).astype(float)
    Y = X[:1] * 10
    batches = ns["random_mini_batches"](X, Y, 64, seed=5)
    assert [b[0].shape[1] for b in batches] == [64, 64, 20]
    np.random.seed(5)
    permutation = np.random.permutation(148)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches], axis=1), X[:, permutation])
    for mini_X, mini_Y in batches:
        np.testing.assert_array_equal(mini_Y, mini_X[:1] * 10)
    assert len(ns["random_mini_batches"](X, Y, 74)) == 2


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_optimization_model_takes_one_step_per_mini_batch(optimizer):
    ns = notebook("Optimization_methods")
    X, Y = batch(2, 10)
    dims = [2, 5, 2, 1]
    start = ns["initialize_parameters"](dims)
    grads = ns["backward_propagation"](X, Y, ns["forward_propagation"](X, start)[1])
    v, s = ns["initialize_adam"](start)
    if optimizer == "gd":
        expected = ns["update_parameters_with_gd"](deepcopy(start), grads, 0.1)
    elif optimizer == "momentum":
        expected, _ = ns["update_parameters_with_momentum"](deepcopy(start), grads, v, 0.9, 0.1)
    else:
        expected = ns["update_parameters_with_adam"](deepcopy(start), grads, v, s, 1, 0.1)[0]
    # One epoch, one mini-batch holding every example (shuffled: the gradient is the same).
    trained = ns["model"](X, Y, dims, optimizer, learning_rate=0.1, mini_batch_size=64, num_epochs=1, print_cost=False)
    for key in start:
        np.testing.assert_allclose(trained[key], expected[key], rtol=1e-10, atol=1e-12)
