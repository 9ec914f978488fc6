"""The second course's Gradient Checking notebook: the learner's checker is what is verified. The notebook as shipped
passes and says its backward_propagation_n still has the course's two planted bugs; a fixed one is said fixed; a
checker's classic slips are caught on the function that has them, and named."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES, QUIET, REPO, assert_usage_error, edited, run_cli, run_json
from jsonschema import Draft202012Validator

import verify
from verify import Config
from verify.checking import unit_gradcheck
from verify.errors import UsageError
from verify.impl import APIS, GradCheckAPI, detect, load_module
from verify.judging.gradcheck_hints import Checked, relative_difference
from verify.network import Network

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
NOTEBOOK = EXAMPLES / "course2" / "Gradient_Checking.ipynb"
HELPER = EXAMPLES / "course2" / "gc_utils.py"
SIX = [
    "forward_propagation",
    "backward_propagation",
    "gradient_check",
    "forward_propagation_n",
    "backward_propagation_n",
    "gradient_check_n",
]
# gradient_check_n's own lines (gradient_check has the same formula lines): the end of its formula, in the JSON
N_DIFFERENCE = 'difference = numerator / denominator\\n",\n    "    # YOUR CODE ENDS HERE\\n",\n    "    if print_msg:\\n",\n    "        if difference > 2e-7'


def _run(path) -> verify.Report:
    return verify.run(Config(impl=str(path), **QUIET))


def _functions(report) -> dict:
    return {f.function: f for f in report.functions}


def _copy(tmp_path, *edits):
    return edited(tmp_path, NOTEBOOK, *edits, beside=(HELPER,))


def test_the_notebook_as_shipped_passes_and_says_its_planted_bugs_are_there():
    report = _run(NOTEBOOK)
    assert report.verdict == "pass" and report.checks == []
    functions = _functions(report)
    assert [name for name in functions if name in SIX] == SIX
    assert all(functions[name].ok and not functions[name].in_network for name in SIX)
    planted = "still has the course's planted bugs: dW2 doubled, db1 four times: your checker should find them"
    assert functions["backward_propagation_n"].detail == planted
    text = report.to_text()
    assert f"note: backward_propagation_n {planted}" in text
    assert text.count("the network checks (forward, backward, gradient check, lockstep, free-running) are not run") == 1
    assert Draft202012Validator(SCHEMA).is_valid(report.as_dict())


def test_detected_by_gradient_check_n_and_refused_another_network(capsys):
    module = load_module(str(NOTEBOOK))
    assert detect(module, "nb") is GradCheckAPI and list(APIS)[:3] == ["deep", "gradcheck", "course2"]
    assert list(GradCheckAPI.REQUIRED) == ["forward_propagation_n", "gradient_check_n"]
    with pytest.raises(UsageError, match=r"^--arch 3,4,1: the course 2 \(gradient checking\) API checks forward_prop"):
        verify.run(Config(impl=str(NOTEBOOK), arch=(3, 4, 1), **QUIET))
    with pytest.raises(
        UsageError, match=r"checks forward_propagation_n.s network, 4,5,3,1 .* \(got --arch 4,5,3,1, act"
    ):
        verify.run(Config(impl=str(NOTEBOOK), activations=("tanh", "tanh", "sigmoid"), **QUIET))
    line = assert_usage_error(*run_cli(capsys, "--impl", str(NOTEBOOK), "--arch", "seq6x3,rnn5,1"))
    assert line.startswith("verify: error: --arch seq6x3,rnn5,1: the course 2 (gradient checking) API")  # as spelled
    code, report = run_json(capsys, "--impl", str(NOTEBOOK))
    assert code == 0 and report["verdict"] == "pass" and report["checks"] == []
    assert Draft202012Validator(SCHEMA).is_valid(report)


@pytest.mark.parametrize(
    "options, flags",
    [
        (dict(mini_batch_size=64, epochs=5, learning_rate=0.5), "--epochs, --lr, --mini-batch-size"),
        (dict(iterations=7), "--iterations"),
        (dict(optimizer="adam"), "--optimizer"),
    ],
)
def test_a_training_option_is_refused_not_ignored(options, flags):
    with pytest.raises(UsageError) as refused:  # was: a PASS, as if it had trained with them
        verify.run(Config(impl=str(NOTEBOOK), **{**QUIET, **options}))
    assert str(refused.value) == (
        f"{flags}: Gradient_Checking.ipynb is the course 2 (gradient checking) API: it trains no network: its checker "
        "is verified, function by function; give no training option"
    )


@pytest.mark.parametrize(
    "edits, said",
    [
        (
            [("np.dot(dZ2, A1.T) * 2", "np.dot(dZ2, A1.T)"), ("db1 = 4. / m", "db1 = 1. / m")],
            "is fixed: it agrees with torch (the course's planted bugs, dW2 doubled and db1 four times, are gone)",
        ),
        (
            [("db1 = 4. / m", "db1 = 1. / m")],
            "still has the course's planted bug: dW2 doubled: your checker should find it (db1 four times: fixed)",
        ),
    ],
    ids=["both-fixed", "db1-fixed"],
)
def test_a_fixed_backward_propagation_n_is_said_fixed(tmp_path, edits, said):
    report = _run(_copy(tmp_path, *edits))
    assert report.verdict == "pass"
    assert _functions(report)["backward_propagation_n"].detail == said
    assert f"note: backward_propagation_n {said}" in report.to_text()


def test_another_fault_in_backward_propagation_n_fails_it(tmp_path):
    report = _run(_copy(tmp_path, ("db2 = 1. / m", "db2 = 3. / m")))
    unit = _functions(report)["backward_propagation_n"]
    assert report.verdict == "fail" and not unit.ok and unit.output == "db2"
    assert "planted" not in unit.detail and _functions(report)["gradient_check_n"].ok


ONE_NORM = "np.sum(np.abs(grad - gradapprox)) / (np.sum(np.abs(grad)) + np.sum(np.abs(gradapprox)))"
SQUARED = "np.sum((grad - gradapprox) ** 2) / (np.sum(grad ** 2) + np.sum(gradapprox ** 2))"
NO_COPY = [
    ("theta_plus = np.copy(parameters_values)", "theta_plus = parameters_values"),
    ("theta_minus = np.copy(parameters_values)", "theta_minus = parameters_values"),
]
SLIPS = {
    "no np.copy": (NO_COPY, "without np.copy"),
    "no np.copy of theta_plus": (NO_COPY[:1], "without np.copy"),
    "theta_minus copied from theta_plus": (  # (was: named as the no-copy slip, which its numbers nearly fit too)
        [("theta_minus = np.copy(parameters_values)", "theta_minus = np.copy(theta_plus)")],
        "it fits J_minus computed at theta itself: theta_minus = np.copy(theta_plus), or theta_plus and theta_minus",
    ),
    "epsilon for 2 epsilon": (
        [("(J_plus[i] - J_minus[i]) / (2 * epsilon)", "(J_plus[i] - J_minus[i]) / epsilon")],
        "divides by 2 * epsilon",
    ),
    "one-sided": (
        [
            (
                "(J_plus[i] - J_minus[i]) / (2 * epsilon)",
                "(J_plus[i] - forward_propagation_n(X, Y, vector_to_dictionary(parameters_values))[0]) / epsilon",
            )
        ],
        "a one-sided difference",
    ),
    "no denominator": ([(N_DIFFERENCE, N_DIFFERENCE.replace(" / denominator", ""))], "numerator alone"),
    "the 1-norm": (
        [(N_DIFFERENCE, N_DIFFERENCE.replace("numerator / denominator", ONE_NORM))],
        "the 1-norm",
    ),
    "squared norms": (
        [(N_DIFFERENCE, N_DIFFERENCE.replace("numerator / denominator", SQUARED))],
        "squared norms without the square root",
    ),
    "the ratio squared": (
        [(N_DIFFERENCE, N_DIFFERENCE.replace("numerator / denominator", "numerator ** 2 / denominator ** 2"))],
        "",  # (||g - a|| / D)^2: caught, and named as no slip it does not fit
    ),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_a_slip_in_gradient_check_n_is_caught_and_named(tmp_path, slip):
    edits, named = SLIPS[slip]
    report = _run(_copy(tmp_path, *edits))
    functions = _functions(report)
    unit = functions["gradient_check_n"]
    assert report.verdict == "fail" and unit.status == "FAIL" and unit.output == "difference"
    assert all(functions[name].ok for name in SIX if name != "gradient_check_n")
    assert (named in unit.hint) if named else unit.hint == ""
    assert report.first_divergence is not None and report.first_divergence.function == "gradient_check_n"


def test_a_slip_in_gradient_check_is_caught_and_named(tmp_path):
    report = _run(
        _copy(
            tmp_path, ("gradapprox = (J_plus - J_minus) / (2 * epsilon)", "gradapprox = (J_plus - J_minus) / epsilon")
        )
    )
    unit = _functions(report)["gradient_check"]
    assert unit.status == "FAIL" and unit.output == "difference" and "divides by 2 * epsilon" in unit.hint
    assert "0.3333333 vs" in unit.detail  # (2x - x) / (x + 2x)
    assert _functions(report)["gradient_check_n"].ok


def test_a_wrong_backward_propagation_fails_alone_the_checker_being_right(tmp_path):
    # the checker that reports a wrong derivative is right: gradient_check passes, backward_propagation fails
    report = _run(_copy(tmp_path, ("dtheta = x\\n", "dtheta = theta\\n")))
    functions = _functions(report)
    assert (
        not functions["backward_propagation"].ok
        and "derivative of J = theta x" in functions["backward_propagation"].hint
    )
    assert functions["gradient_check"].ok and functions["forward_propagation"].ok


def test_the_verifiers_own_difference_separates_right_from_wrong_gradients():
    # the inputs the checks draw: exact gradients well below the threshold, the faults far above it, on several seeds
    module = load_module(str(NOTEBOOK))
    for seed in range(3):
        impl = GradCheckAPI(module, Network((4, 5, 3, 1), ("relu", "relu", "sigmoid"), "bce"), "nb")
        u = unit_gradcheck.Unit(impl, "gradient_check_n", "float64", 1e-7, seed)
        X, Y, params = unit_gradcheck._network(u)
        ref = unit_gradcheck._torch(X, Y, params)
        theta = unit_gradcheck._vector(params)
        assert np.array_equal(unit_gradcheck._vector(unit_gradcheck._dictionary(theta)), theta)

        def cost(v, X=X, Y=Y):
            return float(module.forward_propagation_n(X, Y, unit_gradcheck._dictionary(v))[0])

        exact = {f"d{k}": ref[f"d{k}"] for k in unit_gradcheck.KEYS}
        for _, grads, epsilon, wrong in unit_gradcheck._faulty(exact):
            grad = np.concatenate([grads[f"d{k}"].reshape(-1, 1) for k in unit_gradcheck.KEYS])
            c = Checked(grad, unit_gradcheck._centred(cost, theta, epsilon), epsilon, unit_gradcheck._cost_scale(ref))
            if wrong is None:  # the wide epsilon: each one-sided difference lies far outside a correct checker's
                for sided in unit_gradcheck._one_sided(cost, theta, epsilon):
                    assert abs(relative_difference(grad, sided) - c.difference) > 100 * c.allowed(c.difference)
                continue
            assert (c.difference > 1e-3) if wrong else (c.difference < unit_gradcheck.THRESHOLD / 4)
            assert not wrong or c.allowed(c.difference) < c.difference * 1e-4  # a slip moves it by far more
