"""Training and the learner's loops, every line true: a saturated output is not a slip, an imported loop is not
run, a loop-level slip is named with its kind, and the header counts the mini-batches as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from verify import Config, run
from verify.loops import loop_origin
from verify.optimization import Optimization
from verify.training import saturated_output

REPO = Path(__file__).resolve().parents[2]
WEEK4 = REPO / "examples" / "course_network.py"
WEEK3 = REPO / "examples" / "planar_network.py"
WEEK2 = REPO / "examples" / "logreg_network.py"
OPTIMISERS = REPO / "examples" / "course_optimizers.py"
QUIET = {"tensorboard": False, "gradcheck": False, "progress": False}


def course_optimizers(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """examples/course_optimizers.py, as the course writes it, beside the course_network.py it imports; one slip."""
    (tmp_path / "course_network.py").write_text(WEEK4.read_text())
    text = OPTIMISERS.read_text()
    assert text.count(old) == 1 if old else True, old
    path = tmp_path / "my_optimisers.py"
    path.write_text(text.replace(old, new) if old else text)
    return path


def learner(tmp_path: Path, source: Path, old: str = "", new: str = "", name: str = "") -> Path:
    text = source.read_text()
    assert text.count(old) == 1 if old else True, old
    path = tmp_path / (name or source.name)
    path.write_text(text.replace(old, new) if old else text)
    return path


def checks(report) -> dict:
    return {c["name"]: c for c in report.as_dict()["checks"]}


# --- problem 4: saturation is not a slip ------------------------------------------------------------------

SATURATING = dict(arch=(5, 8, 4, 1), optimizer="adam", mini_batch_size=64, epochs=5, learning_rate=0.1, **QUIET)
SATURATION = "not comparable from iteration 17 (A[L] reached exactly 1.0: the course's cost is log(0) there)"


def test_a_course_literal_cost_whose_output_reaches_exactly_1_is_not_comparable_from_there(tmp_path):
    report = run(Config(impl=str(course_optimizers(tmp_path)), **SATURATING))
    assert report.verdict == "pass", report.first_divergence()
    found = checks(report)
    lockstep, free = found["lockstep"], found["free-running"]
    assert lockstep["comparable_until"] == 17 and free["comparable_until"] == 17
    assert lockstep["status"] == "ok up to iteration 16, not comparable after"
    assert any(note.startswith(SATURATION + "; the verdict rests on iterations 0 to 16") for note in lockstep["notes"])
    assert SATURATION in free["notes"]
    assert found["loop model"]["skipped"] == SATURATION + ", and its final parameters come after it"
    assert all(r["compared"] == 17 for r in lockstep["rows"])  # iterations 0 to 16, nothing after
    assert "final cost" not in report.to_text()  # the course's cost at those parameters is nan: no line for it


def test_a_real_slip_before_the_output_saturates_still_fails(tmp_path):
    # epsilon inside the square root: a 0.5% step slip the function table names, and lockstep from iteration 0
    path = course_optimizers(tmp_path, "(np.sqrt(s_corrected[key]) + epsilon)", "np.sqrt(s_corrected[key] + epsilon)")
    report = run(Config(impl=str(path), **SATURATING))
    assert report.verdict == "fail"
    lockstep = checks(report)["lockstep"]
    failed = [r for r in lockstep["rows"] if r["status"] == "FAIL"]
    assert failed and min(r["iteration"] for r in failed) == 0
    assert lockstep["comparable_until"] is None or lockstep["comparable_until"] > 0


@pytest.mark.parametrize("Z, AL, reached", [
    ([[1.0, 40.0]], None, 1.0),  # the course's 1 / (1 + e^-40) is exactly 1.0 in float64
    ([[1.0, -800.0]], None, 0.0),  # e^800 overflows: exactly 0.0
    ([[1.0, -30.0]], None, None),  # 9.4e-14: small, not 0
    ([[1.0, 36.0]], [[0.7310585786300049, 1.0]], 1.0),  # the implementation's AL rounded to 1, within 4 eps of torch's
    ([[1.0, 36.0]], [[0.7310585786300049, 0.9]], None),  # a wrong AL of 0.9 is not saturation
])
def test_saturated_output_is_exactly_0_or_1_in_the_runs_dtype(Z, AL, reached):
    Z = np.array(Z)
    ref = {"Z2": Z, "A2": 1 / (1 + np.exp(-np.clip(Z, -700, 35.9)))}  # torch's, one ulp short of 1 at Z = 36
    assert saturated_output(ref, ref["A2"] if AL is None else np.array(AL), 2) == reached


# --- problem 5: a loop the module imports from elsewhere ---------------------------------------------------

def test_a_loop_imported_from_another_module_is_not_run(tmp_path):
    (tmp_path / "my_week4.py").write_text(WEEK4.read_text())
    path = tmp_path / "learner.py"
    path.write_text("from my_week4 import *  # noqa: F401,F403\n")
    report = run(Config(impl=str(path), arch=(3, 4, 4, 1), iterations=120, examples=40, **QUIET))
    assert report.verdict == "pass", report.first_divergence()
    loop = checks(report)["loop L_layer_model"]
    assert loop["status"] == "not run"
    assert loop["skipped"] == "it comes from my_week4 and starts from its own initialiser"


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

@pytest.mark.parametrize("m, size, words", [
    (400, 64, "20 epochs of 6 mini-batches of 64 and 1 of 16 (140 steps)"),
    (200, 50, "20 epochs of 4 mini-batches of 50 (80 steps)"),
    (64, 64, "20 epochs of 1 mini-batch of 64 (20 steps)"),
])
def test_the_header_counts_the_mini_batches_as_they_are(m, size, words):
    plan = Optimization("adam", 0.1, 20, m, size)
    assert words in plan.describe()
    assert [len(rows) for rows in plan.epoch_rows(0)] == [size] * (m // size) + ([m % size] if m % size else [])
