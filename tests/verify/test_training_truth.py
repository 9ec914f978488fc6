"""Training and the learner's loops, every line true: a saturated output is not a slip, an imported loop is not
run, a loop-level slip is named with its kind, and the header counts the mini-batches as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import COURSE, EXAMPLES, edited

from verify import Config, run
from verify.checking.loops import loop_origin
from verify.checking.training import saturated_output
from verify.optimization import Optimization

WEEK4 = COURSE
WEEK3 = EXAMPLES / "planar_network.py"
WEEK2 = EXAMPLES / "logreg_network.py"
OPTIMISERS = EXAMPLES / "course_optimizers.py"
QUIET = {"tensorboard": False, "gradcheck": False, "progress": False}


def course_optimizers(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """examples/course_optimizers.py, as the course writes it, beside the course_network.py it imports; one slip."""
    return edited(tmp_path, OPTIMISERS, (old, new), name="my_optimisers.py", beside=(WEEK4,))


def learner(tmp_path: Path, source: Path, old: str = "", new: str = "", name: str = "") -> Path:
    return edited(tmp_path, source, (old, new), name=name)


def checks(report) -> dict:
    return {c["name"]: c for c in report.as_dict()["checks"]}


# --- problem 4: saturation is not a slip ------------------------------------------------------------------

SATURATING = dict(arch=(5, 8, 4, 1), optimizer="adam", mini_batch_size=64, epochs=5, learning_rate=0.1, **QUIET)
SATURATION = "not comparable from iteration 17 (A[L] reached exactly 1.0: the course's cost is log(0) there)"


@pytest.mark.end_to_end
def test_a_course_literal_cost_whose_output_reaches_exactly_1_is_not_comparable_from_there(tmp_path):
    report = run(Config(impl=str(course_optimizers(tmp_path)), **SATURATING))
    assert report.verdict == "pass", report.first_divergence
    found = checks(report)
    lockstep, free = found["lockstep"], found["free-running"]
    assert lockstep["comparable_until"] == 17 and free["comparable_until"] == 17
    assert lockstep["status"] == "ok up to iteration 16, not comparable after"
    assert any(note.startswith(SATURATION + "; the verdict rests on iterations 0 to 16") for note in lockstep["notes"])
    assert SATURATION in free["notes"]
    assert found["loop model"]["skipped"] == SATURATION + ", and its final parameters come after it"
    assert all(r["compared"] == 17 for r in lockstep["rows"])  # iterations 0 to 16, nothing after
    assert "final cost" not in report.to_text()  # the course's cost at those parameters is nan: no line for it
    assert report.summary().splitlines()[0] == (
        f"VERDICT: PASS  my_optimisers.py and torch agree on every check up to iteration 16; training is {SATURATION}"
    )


@pytest.mark.end_to_end
def test_a_real_slip_before_the_output_saturates_still_fails(tmp_path):
    # epsilon inside the square root: a 0.5% step slip the function table names, and lockstep from iteration 0
    path = course_optimizers(tmp_path, "(np.sqrt(s_corrected[key]) + epsilon)", "np.sqrt(s_corrected[key] + epsilon)")
    report = run(Config(impl=str(path), **SATURATING))
    assert report.verdict == "fail"
    lockstep = checks(report)["lockstep"]
    failed = [r for r in lockstep["rows"] if r["status"] == "FAIL"]
    assert failed and min(r["iteration"] for r in failed) == 0
    assert lockstep["comparable_until"] == 17  # saturated later all the same: what came before still fails
    assert report.first_divergence.function == "update_parameters_with_adam"


@pytest.mark.parametrize(
    "Z, AL, reached",
    [
        ([[1.0, 40.0]], None, 1.0),  # the course's 1 / (1 + e^-40) is exactly 1.0 in float64
        ([[1.0, -800.0]], None, 0.0),  # e^800 overflows: exactly 0.0
        ([[1.0, -30.0]], None, None),  # 9.4e-14: small, not 0
        (
            [[1.0, 36.0]],
            [[0.7310585786300049, 1.0]],
            1.0,
        ),  # the implementation's AL rounded to 1, within 4 eps of torch's
        ([[1.0, 36.0]], [[0.7310585786300049, 0.9]], None),  # a wrong AL of 0.9 is not saturation
    ],
)
def test_saturated_output_is_exactly_0_or_1_in_the_runs_dtype(Z, AL, reached):
    Z = np.array(Z)
    ref = {"Z2": Z, "A2": 1 / (1 + np.exp(-np.clip(Z, -700, 35.9)))}  # torch's, one ulp short of 1 at Z = 36
    assert saturated_output(ref, ref["A2"] if AL is None else np.array(AL), 2) == reached


# --- problem 5: a loop the module imports from elsewhere ---------------------------------------------------


@pytest.mark.end_to_end
def test_a_loop_imported_from_another_module_is_not_run(tmp_path):
    (tmp_path / "my_week4.py").write_text(WEEK4.read_text())
    path = tmp_path / "learner.py"
    path.write_text("from my_week4 import *  # noqa: F401,F403\n")
    report = run(Config(impl=str(path), arch=(3, 4, 4, 1), iterations=120, examples=40, **QUIET))
    assert report.verdict == "pass", report.first_divergence
    loop = checks(report)["loop L_layer_model"]
    assert loop["status"] == "not run"
    assert loop["skipped"] == "it comes from my_week4 and starts from its own initialiser"


def notebook(path: Path, *cells: str) -> Path:
    import json

    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [
                    {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": cell}
                    for cell in cells
                ],
            }
        )
    )
    return path


@pytest.mark.end_to_end
def test_a_notebooks_own_loop_is_run_and_an_imported_one_is_not(tmp_path):
    (tmp_path / "my_week4.py").write_text(WEEK4.read_text())
    own = notebook(tmp_path / "own.ipynb", "import numpy as np\n", WEEK4.read_text())
    imported = notebook(tmp_path / "imported.ipynb", "from my_week4 import *\n")
    config = dict(arch=(3, 4, 4, 1), iterations=120, examples=40, **QUIET)
    assert checks(run(Config(impl=str(own), **config)))["loop L_layer_model"]["status"] == "ok"
    loop = checks(run(Config(impl=str(imported), **config)))["loop L_layer_model"]
    assert loop["skipped"] == "it comes from my_week4 and starts from its own initialiser"


@pytest.mark.end_to_end
def test_a_loop_that_never_takes_the_shared_start_is_not_compared(tmp_path):
    init = (
        "    parameters = initialize_parameters_deep(layers_dims)\n    costs = []\n    for i in range(num_iterations):"
    )
    inline = (
        "    rng = np.random.default_rng(3)\n    parameters = {}\n    for l in range(1, len(layers_dims)):\n"
        "        parameters['W' + str(l)] = rng.standard_normal((layers_dims[l], layers_dims[l - 1])) * 0.01\n"
        "        parameters['b' + str(l)] = np.zeros((layers_dims[l], 1))\n"
        "    costs = []\n    for i in range(num_iterations):"
    )
    path = learner(tmp_path, WEEK4, init, inline)
    report = run(Config(impl=str(path), arch=(3, 4, 4, 1), iterations=120, examples=40, **QUIET))
    assert report.verdict == "pass", report.first_divergence
    assert checks(report)["loop L_layer_model"]["skipped"] == (
        "it never called initialize_parameters or initialize_parameters_deep, so it started from parameters of its "
        "own, not the shared start (its run was not compared)"
    )


@pytest.mark.end_to_end
def test_a_loop_decorated_by_another_modules_decorator_is_the_modules_own(tmp_path):
    (tmp_path / "timing_helpers.py").write_text(
        "import functools\n\n\ndef timed(f):\n    @functools.wraps(f)\n"
        "    def run(*args, **kwargs):\n        return f(*args, **kwargs)\n"
        "    return run\n"
    )
    path = learner(
        tmp_path, WEEK4, "def L_layer_model(", "from timing_helpers import timed\n\n\n@timed\ndef L_layer_model("
    )
    report = run(Config(impl=str(path), arch=(3, 4, 4, 1), iterations=120, examples=40, **QUIET))
    assert checks(report)["loop L_layer_model"]["status"] == "ok"


def test_a_loop_of_the_modules_own_is_its_own_and_an_imported_one_names_its_module(tmp_path):
    import types

    own = types.ModuleType("_impl_mine")
    own.__file__ = str(tmp_path / "mine.ipynb")
    exec(compile("def L_layer_model():\n    pass\n", str(tmp_path / "mine.ipynb" / "cell 3"), "exec"), vars(own))
    other = types.ModuleType("_impl_other")
    other.L_layer_model = own.L_layer_model  # a notebook's cell, seen from another module
    other.__file__ = str(tmp_path / "other.py")
    assert loop_origin(own, "L_layer_model") == ""
    assert loop_origin(other, "L_layer_model") == "_impl_mine"


# --- problem 8: the batch sizes as they are ------------------------------------------------------------------


@pytest.mark.parametrize(
    "m, size, words",
    [
        (400, 64, "20 epochs of 6 mini-batches of 64 and 1 of 16 (140 steps)"),
        (200, 50, "20 epochs of 4 mini-batches of 50 (80 steps)"),
        (64, 64, "20 epochs of 1 mini-batch of 64 (20 steps)"),
    ],
)
def test_the_header_counts_the_mini_batches_as_they_are(m, size, words):
    plan = Optimization("adam", 0.1, 20, m, size)
    assert words in plan.describe()
    assert [len(rows) for rows in plan.epoch_rows(0)] == [size] * (m // size) + ([m % size] if m % size else [])


# --- problem 7: a slip that lives in the loop, named with its kind ---------------------------------------------


@pytest.mark.end_to_end
def test_adams_t_from_0_in_model_is_named(tmp_path):
    path = course_optimizers(tmp_path, "                t = t + 1\n", "")  # moved after the update: t = 0 at the first
    update = "beta1, beta2, epsilon)\n"
    path.write_text(path.read_text().replace(update, update + "                t = t + 1\n"))
    report = run(
        Config(impl=str(path), arch=(4, 5, 1), examples=50, optimizer="adam", mini_batch_size=16, epochs=2, **QUIET)
    )
    first = report.first_divergence
    assert report.verdict == "fail" and first.name == "loop model"
    assert first.hint.startswith("t starts at 0: the bias correction divides by 1 - beta^0 = 0")
    hinted = [r for r in checks(report)["loop model"]["rows"] if r["hint"]]
    assert len(hinted) == 1  # one hint for one cause


@pytest.mark.end_to_end
def test_adams_t_counting_epochs_in_model_is_named(tmp_path):
    path = course_optimizers(tmp_path, "                t = t + 1\n", "")
    path.write_text(
        path.read_text().replace("        seed = seed + 1\n", "        seed = seed + 1\n        t = i + 1\n")
    )
    report = run(
        Config(impl=str(path), arch=(4, 5, 1), examples=50, optimizer="adam", mini_batch_size=16, epochs=2, **QUIET)
    )
    first = report.first_divergence
    assert first.name == "loop model"
    assert first.hint.startswith("t reached 2 after 8 updates: Adam's t counts the updates, one per mini-batch")


@pytest.mark.end_to_end
def test_a_rate_hard_coded_in_models_adam_call_is_named(tmp_path):
    call = "update_parameters_with_adam(parameters, grads, v, s, t, learning_rate,"
    path = course_optimizers(tmp_path, call, call.replace("learning_rate,", "0.01,"))
    report = run(
        Config(impl=str(path), arch=(4, 5, 1), examples=50, optimizer="adam", mini_batch_size=16, epochs=2, **QUIET)
    )
    first = report.first_divergence
    assert first.name == "loop model"
    assert first.hint == "its steps are those of learning rate 0.01, not the --lr 0.1 it was given"


UPDATE = "        grads = L_model_backward(AL, Y, caches)\n        parameters = update_parameters(parameters, grads, learning_rate)"


@pytest.mark.parametrize(
    "source, old, new, arch, hint",
    [
        (
            WEEK4,
            UPDATE,
            UPDATE.replace("parameters = update_parameters", "update_parameters"),
            (3, 4, 4, 1),
            "its parameters never change: update_parameters' result is not assigned",
        ),
        (
            WEEK3,
            "parameters = update_parameters(parameters, backward",
            "update_parameters(parameters, backward",
            (2, 4, 1),
            "its parameters never change: update_parameters' result is not assigned",
        ),
        (
            WEEK4,
            UPDATE,
            UPDATE.replace("learning_rate)", "0.0075)"),
            (3, 4, 4, 1),
            "its steps are those of learning rate 0.0075, not the --lr 0.1 it was given",
        ),
    ],
    ids=["week4-unassigned", "week3-unassigned", "hard-coded-rate"],
)
@pytest.mark.end_to_end
def test_a_loop_slip_is_named_with_its_kind(tmp_path, source, old, new, arch, hint):
    report = run(Config(impl=str(learner(tmp_path, source, old, new)), arch=arch, iterations=150, examples=40, **QUIET))
    first = report.first_divergence
    assert report.verdict == "fail" and first.name.startswith("loop")
    assert first.hint.startswith(hint)
    assert [f["function"] for f in report.as_dict()["functions"] if f["status"] != "ok"] == []


def test_a_loop_slip_hint_needs_the_numbers_to_fit():
    from verify.judging.hints import loop_slip

    P = {"W1": np.array([[1.0, 2.0]]), "b1": np.array([[0.5]])}
    G = {"dW1": np.array([[0.2, -0.4]]), "db1": np.array([[0.1]])}
    stepped = {k: P[k] - 0.0075 * G[f"d{k}"] for k in P}
    assert loop_slip({"first": (P, G, stepped), "updates": 3, "fixed": False}, 0.1).startswith(
        "its steps are those of learning rate 0.0075"
    )
    assert loop_slip({"first": (P, G, stepped), "updates": 3, "fixed": False}, 0.0075) == ""  # the run's own rate
    bent = {**stepped, "b1": P["b1"] - 0.2 * G["db1"]}  # not one rate for every parameter: no hypothesis fits
    assert loop_slip({"first": (P, G, bent), "updates": 3, "fixed": False}, 0.1) == ""
    assert loop_slip({"first": (P, G, stepped), "updates": 3, "fixed": True}, 0.0075).startswith(
        "its parameters never change"
    )
    assert loop_slip({"first": (P, G, stepped), "updates": 1, "fixed": True}, 0.0075) == ""  # one call proves nothing
    assert loop_slip({"adam_t": 1, "first": None}, 0.1) == ""
    assert loop_slip({"adam_t": 1, "rate": 0.1, "first": None}, 0.1) == ""  # Adam handed the run's rate
    assert loop_slip({"adam_t": 1, "rate": 0.01, "first": None}, 0.1).startswith(
        "its steps are those of learning rate 0.01"
    )


# --- problem 8: a loop that returns no costs; a consequence is not a cause ----------------------------------------


@pytest.mark.end_to_end
def test_a_model_that_returns_no_costs_says_so_and_has_no_unresolved_row(tmp_path):
    path = course_optimizers(tmp_path, "    return parameters, costs\n", "    return parameters\n")
    report = run(
        Config(impl=str(path), arch=(4, 5, 1), examples=50, optimizer="adam", mini_batch_size=16, epochs=2, **QUIET)
    )
    assert report.verdict == "pass", report.first_divergence
    loop = checks(report)["loop model"]
    assert loop["status"] == "ok" and "cost" not in [r["quantity"] for r in loop["rows"]]
    assert (
        "model: it returned no costs (its parameters alone), so its final parameters alone are compared"
        in loop["notes"]
    )
    assert "unresolved" not in report.to_text()


@pytest.mark.parametrize(
    "old, new, cause",
    [
        ("    dw = (1 / m) * np.dot", "    dw = -(1 / m) * np.dot", "backward dW1"),
        ("        w = w - learning_rate", "        w = w + learning_rate", "lockstep W1"),
    ],
    ids=["dw-sign", "update-sign"],
)
@pytest.mark.end_to_end
def test_a_week2_gradient_sign_slip_has_one_cause(tmp_path, old, new, cause):
    report = run(Config(impl=str(learner(tmp_path, WEEK2, old, new)), arch=(2, 1), iterations=200, **QUIET))
    assert report.verdict == "fail"
    lockstep = {r["quantity"]: r for r in checks(report)["lockstep"]["rows"]}
    cost = lockstep["cost"]  # where the wrong steps led, log(1 - AL) loses its digits: within its rounding, or after
    assert cost["status"] == "ok" or cost["follows"] == cause
    causes = [(c.name, r.label) for c in report.checks for r in c.rows.values() if not r.ok and not r.follows]
    assert causes == [tuple(cause.split())]
