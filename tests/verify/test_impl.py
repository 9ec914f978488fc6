"""`python -m verify --impl`: a learner's own course-style module, verified against torch_ref.

The correct modules are examples/course_network.py (the course's own signatures) and
impl_cases/course_ext.py (the same API extended with activations and loss). Every broken
variant is the correct source with one slip patched in by string replacement, written to
tmp_path, so each test shows where the verifier localises exactly that slip.
Runs are in-process through verify.cli.main or verify.run; one is a real subprocess.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import CHECK_NAMES, COURSE, REPO, assert_usage_error, fast, run_cli, run_json, variant

import verify
from verify.cli import main
from verify.data import load_data

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

CASES = Path(__file__).resolve().parent / "impl_cases"
EXT = CASES / "course_ext.py"  # L_model_forward(X, parameters, activations), ... : any activations and loss
M = 40
FAST = fast(5, M)
CLASSIC_HINTS = ("1/m", "transpose", "opposite sign", "derivative of")


def run_fast(capsys, *argv: str) -> tuple[int, dict]:
    """main(argv + FAST + --json -) -> (exit code, the report as a dict); no traceback on stderr."""
    return run_json(capsys, *argv, *FAST)


def run_usage_error(capsys, *argv: str) -> str:
    """Exit 2, nothing on stdout, exactly one stderr line `verify: error: ...`; returns that line."""
    return assert_usage_error(*run_cli(capsys, *argv, *FAST))


def assert_first(first: dict, **expected) -> None:
    got = {key: first[key] for key in expected}
    assert got == expected, first


def assert_own_traceback(trace: list, path: Path, innermost: str) -> None:
    """Every line is `learner.py:N in function,  code` in the learner's file (by its path from the working folder,
    or its absolute path outside it); none of the verifier's."""
    own = os.path.relpath(path)
    own = str(path.resolve()) if own.startswith(os.pardir + os.sep) else own
    assert trace, "no traceback lines"
    for line in trace:
        file = line.split(":")[0]
        assert file == own and not file.startswith("verify"), line
    assert trace[-1].split(" in ", 1)[1] == innermost, trace


# ---------------------------------------------------------------- correct modules pass


@pytest.mark.parametrize(
    "impl, argv",
    [
        pytest.param(COURSE, ["--arch", "3,4,4,1"], id="course"),
        pytest.param(COURSE, ["--arch", "2,5,1", "--dtype", "float32"], id="course-float32"),
        pytest.param(EXT, ["--arch", "3,4,4,1"], id="ext-course-default"),
        pytest.param(EXT, ["--arch", "3,5,3", "--activations", "tanh,softmax"], id="ext-tanh-softmax"),
        pytest.param(
            EXT, ["--arch", "1,8,1", "--activations", "relu,linear", "--data", "house"], id="ext-relu-linear-house"
        ),
        pytest.param(
            EXT,
            ["--arch", "3,4,4,4,2", "--activations", "leaky_relu,sigmoid,linear,linear"],
            id="ext-leaky-sigmoid-linear",
        ),
    ],
)
def test_a_correct_module_passes_every_check(capsys, impl, argv):
    code, report = run_fast(capsys, *argv, "--impl", str(impl))
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["first_divergence"] is None
    assert report["implementation"] == impl.name
    loops = {"--arch 3,4,4,1": ["loop two_layer_model", "loop L_layer_model"]}  # the first not run (3 layers)
    loops["--arch 2,5,1"] = loops["--arch 3,4,4,1"]
    expected_loops = loops.get(" ".join(argv[:2]), []) if impl == COURSE else []  # the course file defines both loops
    assert [c["name"] for c in report["checks"]] == [*CHECK_NAMES, *expected_loops]
    for check in report["checks"]:
        if check["name"] == "loop two_layer_model" and argv[:2] == ["--arch", "3,4,4,1"]:
            assert check["skipped"].startswith("it trains a network of 2 layers and this run's has 3"), check
            continue
        assert check["ok"] and check["skipped"] is None and check["error"] is None, check
        assert check["rows"], check["name"]
    assert report["functions"] and all(f["status"] == "ok" for f in report["functions"])
    assert len(report["costs"]["impl"]) == len(report["costs"]["torch"]) == 5
    np.testing.assert_allclose(report["costs"]["impl"], report["costs"]["torch"], rtol=1e-5)


def test_the_api_verifies_a_module_path():
    report = verify.run(
        verify.Config(arch=(3, 4, 4, 1), impl=str(COURSE), iterations=5, examples=M, tensorboard=False, progress=False)
    )
    assert report.ok and report.verdict == "pass"
    assert report.implementation == "course_network.py"
    assert report.first_divergence is None
    assert report.examples == M and len(report.costs.torch) == 5


@pytest.mark.parametrize(
    "path, spec",
    [
        pytest.param(CASES.parent, "impl_cases.course_ext", id="dotted"),
        pytest.param(CASES, "course_ext", id="plain"),
    ],
)
def test_impl_takes_an_importable_module_name(capsys, monkeypatch, path, spec):
    monkeypatch.syspath_prepend(str(path))
    code, report = run_fast(capsys, "--arch", "3,5,3", "--activations", "tanh,softmax", "--impl", spec)
    assert code == 0
    assert report["verdict"] == "pass"
    assert report["implementation"] == spec
    assert report["config"]["activations"] == ["tanh", "softmax"] and report["config"]["loss"] == "ce"


# ---------------------------------------------------------------- one slip, localised

SLIPS = [
    pytest.param(
        COURSE,
        ("db = (1 / m) * np.sum", "db = np.sum"),
        ["--arch", "3,4,4,1"],
        dict(stage="backward", name="backward", quantity="db", layer=3, point="initial weights"),
        f"it is m = {M} times the expected value: a missing 1/m",
        id="db-missing-1/m",
    ),
    # square layers (4x4): the transposed dW has the right shape and the transpose's values
    pytest.param(
        COURSE,
        ("np.dot(dZ, A_prev.T)", "np.dot(A_prev, dZ.T)"),
        ["--arch", "4,4,4,4"],
        dict(stage="backward", name="backward", quantity="dW", layer=3, point="initial weights"),
        "it equals the transpose of the expected value: a missing or extra transpose",
        id="dW-transposed",
    ),
    pytest.param(
        COURSE,
        ("dAL = -(np.divide", "dAL = (np.divide"),
        ["--arch", "3,4,4,1"],
        dict(stage="backward", name="backward", quantity="dW", layer=3, point="initial weights"),
        "it has the opposite sign: a sign slip",
        id="dAL-sign",
    ),
    # relu'(0) = 1 instead of 0: only exactly-zero Z differ, which only the kink probe has;
    # dW2 still agrees there (A1 of the probed example is relu(0) = 0), db2 does not
    pytest.param(
        COURSE,
        ("activation_cache <= 0", "activation_cache < 0"),
        ["--arch", "3,4,4,1"],
        dict(stage="backward", name="backward", quantity="db", layer=2, point="kink probe"),
        "dA2 agrees but db2 does not: the slip is in layer 2's backward step, dZ2 = dA2 * g'(Z2) "
        "(the derivative of relu) or db2 from dZ2",
        id="relu-backward-at-kink",
    ),
    # the course net's only sigmoid is the output, whose dZ3 the course does not return: dW3 is first
    pytest.param(
        COURSE,
        ("s * (1 - s)", "s * (1 + s)"),
        ["--arch", "3,4,4,1"],
        dict(stage="backward", name="backward", quantity="dW", layer=3, point="initial weights"),
        None,
        id="output-sigmoid-backward",
    ),
    pytest.param(
        COURSE,
        ("(1 - Y) * np.log(1 - AL)", "np.log(1 - AL)"),
        ["--arch", "3,4,4,1"],
        dict(stage="forward", name="forward", quantity="cost", layer=3, point="initial weights"),
        "log(1-AL) is missing its factor (1-Y)",
        id="cost-missing-(1-Y)",
    ),
    pytest.param(
        COURSE,
        ("Y * np.log(AL) + (1 - Y) * np.log(1 - AL)", "Y * np.log(AL)"),
        ["--arch", "3,4,4,1"],
        dict(stage="forward", name="forward", quantity="cost", layer=3, point="initial weights"),
        "the (1-Y) log(1-AL) term is missing",
        id="cost-without-its-(1-Y)-term",
    ),
    # layers 1 and 2 swap caches in backward (both 4x4, so the shapes fit): dA2 still agrees
    pytest.param(
        COURSE,
        ('caches[l], "relu")', 'caches[L - 2 - l], "relu")'),
        ["--arch", "4,4,4,1"],
        dict(stage="backward", name="backward", quantity="dW", layer=2, point="initial weights"),
        "layer 2's backward matches layer 1's cache (Z1, A0) used in place of its own",
        id="caches-swapped",
    ),
    pytest.param(
        COURSE,
        ('parameters["W" + str(l + 1)] -= ', 'parameters["W" + str(l + 1)] += '),
        ["--arch", "3,4,4,1"],
        dict(stage="training", name="lockstep", iteration=0, quantity="W", layer=1),
        "opposite sign",
        id="update-plus-equals",
    ),
    pytest.param(
        EXT,
        ("s * (1 - s)", "s * (1 + s)"),
        ["--arch", "3,4,4,1", "--activations", "sigmoid,sigmoid,sigmoid"],
        dict(stage="backward", name="backward", quantity="dZ", layer=2, point="initial weights"),
        "dA2 agrees but dZ2 does not: the step between them is dZ2 = dA2 * g'(Z2); check the derivative of sigmoid",
        id="hidden-sigmoid-backward",
    ),
    pytest.param(
        EXT,
        ("(1 - np.tanh(Z) ** 2)", "(1 - np.tanh(Z))"),
        ["--arch", "3,4,4,1", "--activations", "tanh,tanh,sigmoid"],
        dict(stage="backward", name="backward", quantity="dZ", layer=2, point="initial weights"),
        "check the derivative of tanh",
        id="tanh-backward",
    ),
    pytest.param(
        EXT,
        ("np.where(Z > 0, 1.0, LEAKY_SLOPE)", "np.where(Z >= 0, 1.0, LEAKY_SLOPE)"),
        ["--arch", "3,4,4,1", "--activations", "leaky_relu,leaky_relu,sigmoid"],
        dict(stage="backward", name="backward", quantity="dZ", layer=2, point="kink probe"),
        "check the derivative of leaky_relu",
        id="leaky-relu-backward-at-kink",
    ),
]


@pytest.mark.parametrize("source, edit, argv, where, hint", SLIPS)
def test_one_slip_is_localised_where_it_first_shows(capsys, tmp_path, source, edit, argv, where, hint):
    path = variant(tmp_path, source, edit)
    code, report = run_fast(capsys, *argv, "--impl", str(path))
    assert code == 1
    assert report["verdict"] == "fail"
    first = report["first_divergence"]
    assert_first(first, **where)
    assert first.get("error") is None and first["max_abs"] > 0
    if hint is None:  # no classic slip fits: no hint may point at one
        assert not any(phrase in first["hint"] for phrase in CLASSIC_HINTS), first["hint"]
    else:
        assert hint in first["hint"]
    if where["stage"] == "backward":  # the forward pass is untouched by a backward slip
        assert report["checks"][0]["ok"]


NO_COPY = ("    parameters = {key: value.copy() for key, value in parameters.items()}\n", "")
IN_PLACE = {  # update_parameters as learners write it: into the dict it was given, correct and with a sign slip
    "-= on its arrays": ([NO_COPY], [NO_COPY, ('["W" + str(l + 1)] -= ', '["W" + str(l + 1)] += ')]),
    "assigns into its dict": (
        [NO_COPY]
        + [
            (
                f'parameters["{p}" + str(l + 1)] -= learning_rate',
                f'parameters["{p}" + str(l + 1)] = parameters["{p}" + str(l + 1)] - learning_rate',
            )
            for p in "Wb"
        ],
        [NO_COPY]
        + [
            (
                f'parameters["{p}" + str(l + 1)] -= learning_rate',
                f'parameters["{p}" + str(l + 1)] = parameters["{p}" + str(l + 1)] + learning_rate',
            )
            for p in "Wb"
        ],
    ),
}


@pytest.mark.parametrize("style", IN_PLACE)
def test_an_update_that_writes_into_its_input_is_checked_and_noted(capsys, tmp_path, style):
    path = variant(tmp_path, COURSE, *IN_PLACE[style][0])
    code, report = run_fast(capsys, "--arch", "3,4,4,1", "--impl", str(path))
    assert code == 0, report["first_divergence"]
    assert report["verdict"] == "pass"
    (note,) = report["notes"]
    # first seen by its function-by-function check, on parameters with the run's layers (W3 is the network's W3)
    assert note.startswith("update_parameters modified its input parameters (W1, b1, W2, b2, W3, b3) in place")
    assert [f["status"] for f in report["functions"] if f["function"] == "update_parameters"] == ["ok"]
    lockstep = report["checks"][3]
    W1 = next(r for r in lockstep["rows"] if (r["quantity"], r["layer"]) == ("W", 1))
    # the step was really compared, every iteration, within a tolerance far below its size (not 0 against 0)
    assert W1["status"] == "ok" and W1["resolved"] == W1["compared"] == 5
    assert 0 < W1["tolerance"] < 1e-6


@pytest.mark.parametrize("style", IN_PLACE)
def test_a_sign_slip_in_an_update_that_writes_into_its_input_is_a_sign_slip(capsys, tmp_path, style):
    path = variant(tmp_path, COURSE, *IN_PLACE[style][1])
    code, report = run_fast(capsys, "--arch", "3,4,4,1", "--impl", str(path))
    assert code == 1
    first = report["first_divergence"]
    assert_first(first, stage="training", name="lockstep", iteration=0, quantity="W", layer=1)
    assert first["hint"] == "it has the opposite sign: a sign slip"
    assert np.isclose(first["value"], -first["expected"])


def test_update_with_plus_equals_is_hinted_as_a_sign_slip(capsys, tmp_path):
    path = variant(tmp_path, COURSE, ('parameters["W" + str(l + 1)] -= ', 'parameters["W" + str(l + 1)] += '))
    code, report = run_fast(capsys, "--arch", "3,4,4,1", "--impl", str(path))
    assert code == 1
    assert "opposite sign" in report["first_divergence"]["hint"]


def test_broken_example_subprocess_names_db3_and_missing_1_over_m():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify",
            "--arch",
            "3,4,4,1",
            "--impl",
            "examples/broken_network.py",
            "--no-tensorboard",
            "--iterations",
            "10",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "db3" in result.stdout
    assert "missing 1/m" in result.stdout
    assert result.stdout.startswith(
        "VERDICT: FAIL\nfix `linear_backward`: its db differs (it is m = 5 times the expected value: a missing 1/m); "
        "defined in broken_network.py, line 68\n"
        "first divergence: backward, at the initial weights: db3 (layer 3)"
    )


# ---------------------------------------------------------------- runs but returns or raises the wrong thing

WRONG = [
    # dA_prev = W dZ: W3 is (1, 4), dZ3 (1, m): NumPy raises inside the learner's linear_backward
    pytest.param(
        ("np.dot(W.T, dZ)", "np.dot(W, dZ)"),
        dict(stage="backward", name="backward", iteration=None),
        "L_model_backward",
        "raised ValueError",
        "linear_backward,  dA_prev = np.dot(W, dZ)",
        id="dA_prev-without-transpose",
    ),
    pytest.param(
        ('grads["dW" + str(l + 1)]\n', 'grads["dW" + str(l)]\n'),
        dict(stage="training", name="lockstep", iteration=0),
        "update_parameters",
        "raised KeyError: 'dW0'",
        'update_parameters,  parameters["W" + str(l + 1)] -= learning_rate * grads["dW" + str(l)]',
        id="update-off-by-one",
    ),
    pytest.param(
        ("    return AL, caches", "    return AL"),
        dict(stage="forward", name="forward", iteration=None),
        "L_model_forward",
        f"expected (AL, caches), got an array of shape (1, {M})",
        None,
        id="forward-returns-AL-only",
    ),
    pytest.param(
        ("    return AL, caches", "    return AL.T, caches"),
        dict(stage="forward", name="forward", iteration=None),
        "L_model_forward",
        f"AL should be an array of shape (1, {M}), got an array of shape ({M}, 1)",
        None,
        id="forward-AL-transposed",
    ),
    pytest.param(
        ("    return AL, caches", "    return AL, [(A_prev, W, b, Z) for (A_prev, W, b), Z in caches]"),
        dict(stage="forward", name="forward", iteration=None),
        "L_model_forward",
        f"cache 1 should be ((A_prev, W, b), Z) with Z of shape (4, {M})",
        None,
        id="flat-caches",
    ),
    pytest.param(
        ("    return np.squeeze(cost)", "    np.squeeze(cost)"),
        dict(stage="forward", name="forward", iteration=None),
        "compute_cost",
        "expected a number, got nothing (None)",
        None,
        id="cost-returns-None",
    ),
    pytest.param(
        ('grads["db" + str(l + 1)] = dA_prev', 'grads["b" + str(l + 1)] = dA_prev'),
        dict(stage="backward", name="backward", iteration=None),
        "L_model_backward",
        "its gradients have no db1, db2 (it has dA2, dW3, db3, dA1, dW2, b2, dA0, dW1, b1)",  # was: "got nothing"
        None,
        id="grads-missing-db",
    ),
    pytest.param(  # the loop over the layers one short: layer 1's gradients never computed
        ("    for l in reversed(range(L - 1)):", "    for l in reversed(range(1, L - 1)):"),
        dict(stage="backward", name="backward", iteration=None),
        "L_model_backward",
        "its gradients have no dW1, db1, dA0 (it has dA2, dW3, db3, dA1, dW2, db2): the loop over the layers stops "
        "one short, before layer 1",
        None,
        id="grads-loop-short",
    ),
    pytest.param(
        ('grads["db" + str(l + 1)]\n    return parameters\n', 'grads["db" + str(l + 1)]\n'),
        dict(stage="training", name="lockstep", iteration=0),
        "update_parameters",
        "expected a dict, got nothing (None)",
        None,
        id="update-returns-None",
    ),
]


@pytest.mark.parametrize("edit, where, function, message, innermost", WRONG)
def test_a_module_that_returns_or_raises_the_wrong_thing_fails_naming_the_function(
    capsys, tmp_path, edit, where, function, message, innermost
):
    path = variant(tmp_path, COURSE, edit)
    code, report = run_fast(capsys, "--arch", "3,4,4,1", "--impl", str(path))
    assert code == 1
    assert report["verdict"] == "fail"
    first = report["first_divergence"]
    assert_first(first, **where, quantity=function, layer=None)
    assert first["error"].startswith(function) and message in first["error"], first["error"]
    if innermost is None:  # a bad return value: no traceback of the learner's to show
        assert first["traceback"] == []
    else:
        assert_own_traceback(first["traceback"], path, innermost)


def test_the_text_report_shows_only_the_learners_traceback_lines(capsys, tmp_path):
    path = variant(tmp_path, COURSE, ("np.dot(W.T, dZ)", "np.dot(W, dZ)"))
    json_path = tmp_path / "report.json"
    code = main(["--arch", "3,4,4,1", "--impl", str(path), *FAST, "--json", str(json_path)])
    out = capsys.readouterr().out
    assert code == 1
    trace = json.loads(json_path.read_text())["first_divergence"]["traceback"]
    assert_own_traceback(trace, path, "linear_backward,  dA_prev = np.dot(W, dZ)")
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  error: L_model_backward raised ValueError"))
    shown = [line[4:] for line in lines[start + 1 : start + 1 + len(trace)]]
    assert shown == trace
    assert not lines[start + 1 + len(trace)].startswith("    ")  # nothing of the verifier's after them
    assert not any(f"verify{os.sep}{name}" in out for name in ("impl.py", "checks.py", "runner.py", "errors.py"))


# ---------------------------------------------------------------- course-literal saturation


def _load(path: Path):
    spec = importlib.util.spec_from_file_location("_impl_saturation_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dtype, lr", [("float64", 1000.0), ("float32", 50.0)])
def test_course_literal_cost_and_dAL_are_not_comparable_where_the_output_saturates(capsys, dtype, lr):
    # saturation is not a slip: from the iteration where AL is exactly 0 or 1 the course's own cost is log(0)
    code, report = run_fast(capsys, "--arch", "3,4,4,1", "--impl", str(COURSE), "--dtype", dtype, "--lr", str(lr))
    assert code == 0 and report["first_divergence"] is None
    by_name = {c["name"]: c for c in report["checks"]}
    for name in ("lockstep", "free-running"):
        assert by_name[name]["comparable_until"] == 1 and by_name[name]["ok"]
    assert "the course's cost is log(0) there" in by_name["lockstep"]["notes"][-1]
    assert "dAL = -(Y/AL - (1-Y)/(1-AL))" in by_name["lockstep"]["notes"][-1]
    assert report["nonfinite"] == {"impl": None, "torch": None}

    # the mechanism: after the first (shared) step, some AL of the course's sigmoid is exactly 0 or 1
    config = verify.Config(arch=(3, 4, 4, 1), examples=M, dtype=dtype, learning_rate=lr)
    X, Y = load_data(verify.Config(data="auto", arch=config.arch, loss="bce", examples=M, seed=0, dtype=dtype))
    from verify.runner import initial_parameters

    course = _load(COURSE)
    with np.errstate(all="ignore"):
        P = initial_parameters(config)
        AL, caches = course.L_model_forward(X, P)
        assert np.all((AL > 0) & (AL < 1))
        P = course.update_parameters(P, course.L_model_backward(AL, Y, caches), lr)
        AL, _ = course.L_model_forward(X, P)
        assert AL.dtype == np.dtype(dtype)
        assert np.any((AL == 0) | (AL == 1))
        assert not np.isfinite(course.compute_cost(AL, Y))


# ---------------------------------------------------------------- unusable modules: exit 2, one line

MISSING = ["L_model_forward", "compute_cost", "L_model_backward", "update_parameters"]


@pytest.mark.parametrize("function", MISSING)
def test_a_missing_function_is_a_usage_error(capsys, tmp_path, function):
    path = variant(tmp_path, COURSE, (f"def {function}(", f"def {function}_v0("))
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--impl", str(path))
    found = ", ".join(name for name in MISSING if name != function)
    assert (
        f"learner.py matches none of the course APIs: week 4 (L layers): found {found}; missing {function} | " in line
    )


def test_a_name_that_is_not_a_function_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "learner.py"
    path.write_text(COURSE.read_text(encoding="utf-8") + "\ncompute_cost = 0.5\n", encoding="utf-8")
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--impl", str(path))
    assert (
        "found L_model_forward, L_model_backward, update_parameters; missing compute_cost (not a function: a float)"
        in line
    )


SIGNATURES = [
    pytest.param(
        COURSE,
        ("def L_model_forward(X, parameters):", "def L_model_forward(X):"),
        [],
        "L_model_forward: L_model_forward(X, parameters[, activations]) -> (AL, caches)",
        id="forward(X)",
    ),
    pytest.param(
        COURSE,
        ("def compute_cost(AL, Y):", "def compute_cost(AL):"),
        [],
        "compute_cost: compute_cost(AL, Y[, loss]) -> cost",
        id="cost(AL)",
    ),
    pytest.param(
        COURSE,
        ("def L_model_backward(AL, Y, caches):", "def L_model_backward(AL, caches):"),
        [],
        "L_model_backward: L_model_backward(AL, Y, caches[, activations, loss]) -> grads",
        id="backward(AL,caches)",
    ),
    pytest.param(
        COURSE,
        ("def update_parameters(parameters, grads, learning_rate):", "def update_parameters(parameters, grads):"),
        [],
        "update_parameters: update_parameters(parameters, grads, learning_rate) -> parameters",
        id="update(2)",
    ),
    pytest.param(
        COURSE,
        None,
        ["--activations", "tanh,tanh,sigmoid"],
        "L_model_forward: its signature L_model_forward(X, parameters) computes relu hidden layers and a sigmoid "
        "output; --activations tanh,tanh,sigmoid needs L_model_forward(X, parameters, activations)",
        id="course-with-tanh",
    ),
    pytest.param(
        COURSE,
        None,
        ["--activations", "relu,relu,linear", "--loss", "mse"],
        "--activations relu,relu,linear needs L_model_forward(X, parameters, activations)",
        id="course-with-mse",
    ),
    pytest.param(
        EXT,
        (
            'def L_model_backward(AL, Y, caches, activations=None, loss="bce"):',
            'def L_model_backward(AL, Y, caches):\n    activations, loss = None, "bce"',
        ),
        ["--activations", "tanh,tanh,sigmoid"],
        "L_model_backward: its signature L_model_backward(AL, Y, caches) backpropagates relu hidden layers and a "
        "sigmoid output; --activations tanh,tanh,sigmoid needs L_model_backward(AL, Y, caches, activations, loss)",
        id="course-backward-with-tanh",
    ),
    pytest.param(
        EXT,
        ('def compute_cost(AL, Y, loss="bce"):', 'def compute_cost(AL, Y):\n    loss = "bce"'),
        ["--activations", "relu,relu,linear", "--loss", "mse"],
        "compute_cost: compute_cost(AL, Y) computes the cross-entropy of a sigmoid output; "
        "--loss mse needs compute_cost(AL, Y, loss)",
        id="course-cost-with-mse",
    ),
]


@pytest.mark.parametrize("source, edit, argv, message", SIGNATURES)
def test_a_signature_that_cannot_do_what_was_asked_is_a_usage_error(capsys, tmp_path, source, edit, argv, message):
    path = variant(tmp_path, source, *([edit] if edit else []))
    line = run_usage_error(capsys, "--arch", "3,4,4,1", *argv, "--impl", str(path))
    assert message in line


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


UNLOADABLE = [
    pytest.param(lambda t: str(t / "nowhere.py"), ["nowhere.py", "no such file"], id="missing-file"),
    pytest.param(lambda t: str(t), ["--impl "], id="a-directory"),
    pytest.param(
        lambda t: str(_write(t, "syntax.py", "import numpy as np\n\ndef L_model_forward(X, parameters:\n    pass\n")),
        ["syntax.py: importing it raised SyntaxError", "line 3"],
        id="syntax-error",
    ),
    pytest.param(
        lambda t: str(_write(t, "raising.py", "import numpy as np\n\nraise RuntimeError('no GPU here')\n")),
        ["raising.py: importing it raised RuntimeError at line 3: no GPU here"],
        id="import-raises",
    ),
    pytest.param(
        lambda t: str(_write(t, "needs.py", "import numpy_course_utils_v0\n")),
        ["needs.py: cannot import it", "numpy_course_utils_v0"],
        id="missing-dependency",
    ),
    pytest.param(
        lambda t: "no_such_course_module_v0",
        ["--impl no_such_course_module_v0: cannot import it"],
        id="unknown-module-name",
    ),
]


@pytest.mark.parametrize("spec, fragments", UNLOADABLE)
def test_a_module_that_cannot_be_loaded_is_a_usage_error(capsys, tmp_path, spec, fragments):
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--impl", spec(tmp_path))
    for fragment in fragments:
        assert fragment in line
    assert spec(tmp_path) in line


def test_a_package_without_the_functions_is_a_usage_error(capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(CASES.parent))
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--impl", "impl_cases")
    assert line == (
        "verify: error: --impl impl_cases matches none of the course APIs: "
        "week 4 (L layers): found none of them; missing L_model_forward, compute_cost, L_model_backward, "
        "update_parameters | course 2 (gradient checking): found none of them; missing forward_propagation_n, "
        "gradient_check_n | course 2 (the 3-layer network of its helper files): found none of them; missing "
        "forward_propagation, backward_propagation | week 3 (one hidden layer): found none of them; missing "
        "forward_propagation, "
        "compute_cost, backward_propagation, update_parameters | week 2 (logistic regression): found none of "
        "them; missing sigmoid, propagate, optimize"
        " | course 4 week 1 (convolution step by step): found none of them; missing zero_pad, conv_single_step, "
        "conv_forward, pool_forward"
        " | course 5 week 1 (recurrent networks step by step): found none of them; missing rnn_cell_forward, "
        "rnn_forward, lstm_cell_forward, lstm_forward"
        " | course 5 week 1 (the character-level language model): found none of them; missing clip, sample, "
        "optimize"
    )


def test_an_empty_impl_names_no_line_of_the_import_machinery(capsys):
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--impl", "")
    assert " at line " not in line


# ---------------------------------------------------------------- --init impl


def test_init_impl_needs_impl(capsys):
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--init", "impl")
    assert line == (
        "verify: error: --init impl takes the initial weights from --impl's own initializer; give --impl too"
    )


def test_init_impl_needs_the_modules_initializer(capsys, tmp_path):
    path = variant(tmp_path, COURSE, ("def initialize_parameters_deep(", "def init_parameters("))
    line = run_usage_error(capsys, "--arch", "3,4,4,1", "--init", "impl", "--impl", str(path))
    assert line == (
        "verify: error: --init impl: learner.py has no function initialize_parameters_deep(layer_dims) -> parameters"
    )


KNOWN_INIT = """

def initialize_parameters_deep(layer_dims):
    parameters = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        parameters["W" + str(l)] = np.linspace(-0.9, 0.7, n * n_prev).reshape(n, n_prev)
        parameters["b" + str(l)] = np.full((n, 1), 0.1 * l)
    return parameters
"""


def _course_cost(X: np.ndarray, Y: np.ndarray, arch: tuple[int, ...]) -> float:
    """The cross-entropy of the relu-relu-sigmoid net with KNOWN_INIT's weights, written out here."""
    A = X
    for l in range(1, len(arch)):
        n, n_prev = arch[l], arch[l - 1]
        Z = np.linspace(-0.9, 0.7, n * n_prev).reshape(n, n_prev) @ A + 0.1 * l
        A = np.maximum(Z, 0) if l < len(arch) - 1 else 1 / (1 + np.exp(-Z))
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def test_init_impl_starts_from_the_modules_own_weights(tmp_path):
    path = tmp_path / "learner.py"
    path.write_text(COURSE.read_text(encoding="utf-8") + KNOWN_INIT, encoding="utf-8")  # the later def wins
    arch = (3, 4, 4, 1)
    X, Y = load_data(verify.Config(data="auto", arch=arch, loss="bce", examples=M, seed=0, dtype="float64"))
    expected = _course_cost(X, Y, arch)

    def first_costs(init: str) -> dict:
        report = verify.run(
            verify.Config(
                arch=arch, impl=str(path), init=init, iterations=2, examples=M, tensorboard=False, progress=False
            )
        )
        # the network agrees; the initialiser itself breaks the course's rule of zero biases
        assert all(check.ok for check in report.checks), report.first_divergence
        assert [f.function for f in report.functions if not f.ok] == ["initialize_parameters_deep"]
        return {side: costs[0] for side, costs in report.costs.items()}

    costs = first_costs("impl")
    assert costs["torch"] == pytest.approx(expected, rel=1e-12)
    assert costs["impl"] == pytest.approx(expected, rel=1e-12)
    assert abs(first_costs("he")["torch"] - expected) > 1e-3  # the default start is another one


BAD_INIT = [
    pytest.param(
        'parameters["W" + str(l)] = np.linspace(-0.9, 0.7, n * n_prev).reshape(n_prev, n)',
        "initialize_parameters_deep: W1 should be an array of shape (4, 3), got an array of shape (3, 4)",
        None,
        id="W-transposed",
    ),
    pytest.param(
        'parameters["b" + str(l)] = np.zeros(n)',
        "initialize_parameters_deep: b1 should be an array of shape (4, 1), got an array of shape (4,)",
        None,
        id="b-1d",
    ),
    pytest.param(
        'parameters["W" + str(l)] = np.ones((n, n_prev)) * layer_dims[l + 1]',
        "initialize_parameters_deep raised IndexError: list index out of range",
        'initialize_parameters_deep,  parameters["W" + str(l)] = np.ones((n, n_prev)) * layer_dims[l + 1]',
        id="raises",
    ),
]


@pytest.mark.parametrize("line, message, innermost", BAD_INIT)
def test_init_impl_with_a_broken_initializer_fails_naming_it(capsys, tmp_path, line, message, innermost):
    original = 'parameters["W" + str(l)] = np.linspace(-0.9, 0.7, n * n_prev).reshape(n, n_prev)'
    text = (
        KNOWN_INIT.replace(original, line)
        if line.startswith('parameters["W"')
        else KNOWN_INIT.replace('parameters["b" + str(l)] = np.full((n, 1), 0.1 * l)', line)
    )
    assert text != KNOWN_INIT
    path = tmp_path / "learner.py"
    path.write_text(COURSE.read_text(encoding="utf-8") + text, encoding="utf-8")
    code, report = run_fast(capsys, "--arch", "3,4,4,1", "--init", "impl", "--impl", str(path))
    assert code == 1
    assert report["verdict"] == "fail"
    first = report["first_divergence"]
    assert_first(first, stage="forward", name="forward", quantity="initialize_parameters_deep", layer=None)
    assert first["error"].startswith(message), first["error"]
    assert [c["name"] for c in report["checks"]] == ["forward"]  # nothing else ran without a start
    if innermost is None:
        assert first["traceback"] == []
    else:
        assert_own_traceback(first["traceback"], path, innermost)


def test_float64_promotion_in_a_float32_run_is_noted_not_failed(capsys):
    # course_ext's leaky_relu_backward multiplies by np.where(Z > 0, 1.0, LEAKY_SLOPE), a float64
    # array: its gradients, and so its updated weights, come back as float64.
    code, report = run_json(
        capsys,
        "--arch",
        "3,4,4,1",
        "--activations",
        "leaky_relu,leaky_relu,sigmoid",
        "--dtype",
        "float32",
        "--impl",
        str(EXT),
    )
    assert code == 0, report["first_divergence"]
    assert any(note.startswith("update_parameters returned W1 as float64 in a float32 run") for note in report["notes"])


def test_the_api_with_the_most_functions_found_comes_first_in_the_refusal(capsys, tmp_path):
    """A recurrent notebook half done: its own API's entry leads, where a line cut short (a gradebook's) keeps it."""
    path = tmp_path / "half_done.py"
    path.write_text(
        "def rnn_cell_forward(xt, a_prev, parameters):\n    pass\n\n\ndef rnn_forward(x, a0, parameters):\n    pass\n"
    )
    line = run_usage_error(capsys, "--impl", str(path))
    parts = line.split(" matches none of the course APIs: ")[1].split(" | ")
    assert parts[0] == (
        "course 5 week 1 (recurrent networks step by step): found rnn_cell_forward, rnn_forward; missing "
        "lstm_cell_forward, lstm_forward"
    )
    assert parts[1].startswith("week 4 (L layers): found none of them")  # the rest in the usual order


def test_a_traceback_names_a_file_outside_the_working_folder_by_its_absolute_path(tmp_path, monkeypatch):
    from verify.errors import _shown

    (tmp_path / "work" / "sub").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    assert _shown(str(tmp_path / "work" / "sub" / "mine.py")) == os.path.join("sub", "mine.py")
    assert _shown(str(tmp_path / "elsewhere.py")) == str(tmp_path / "elsewhere.py")  # not ../elsewhere.py
