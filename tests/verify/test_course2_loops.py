"""The second course's notebooks' model(), run whole: the initialization notebook's (initialization="he"), the
regularization notebook's (with the run's lambd or keep_prob) and the optimisation notebook's (with the run's
optimizer, mini-batches and decay), each from the shared start against the notebook's own steps of the run. A right
model() passes; a slip planted in a copy of one fails the loop alone, named as the loop checks name it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, edited

from verify.cli import main

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

COURSE2 = EXAMPLES / "course2"
HELPERS = {
    "Initialization": COURSE2 / "init_utils.py",
    "Regularization": COURSE2 / "reg_utils.py",
    "Optimization_methods": COURSE2 / "opt_utils_v1a.py",
}
RUN = ["--no-tensorboard", "--examples", "40", "--no-gradcheck", "-q", "--json", "-"]
MINI_BATCHES = ["--epochs", "3", "--mini-batch-size", "16"]


def notebook(tmp_path: Path, name: str, *edits: tuple[str, str]) -> Path:
    """A copy of the notebook `name` with its helper file beside it, each (old, new) edit made in its JSON text
    (a line of a cell reads '"    text\\n",')."""
    return edited(tmp_path, COURSE2 / f"{name}.ipynb", *edits, beside=(HELPERS[name],))


def verify(capsys, path: Path, *extra: str) -> tuple[int, dict]:
    code = main(["--impl", str(path), *RUN, *extra])
    return code, json.loads(capsys.readouterr().out)


def loop(report: dict) -> dict:
    (found,) = [c for c in report["checks"] if c["name"] == "loop model"]
    return found


def failed(report: dict) -> list[str]:
    return [c["name"] for c in report["checks"] if not c["ok"]] + [
        f["function"] for f in report["functions"] if f["status"] != "ok"
    ]


@pytest.mark.parametrize(
    "name, argv, rows",
    [
        ("Initialization", ["--iterations", "12"], {"cost", "W", "b"}),
        ("Initialization", ["--iterations", "12", "--dtype", "float32"], {"cost", "W", "b"}),
        ("Regularization", ["--iterations", "12"], {"cost", "W", "b"}),
        ("Regularization", ["--iterations", "12", "--lambd", "0.7"], {"cost", "W", "b"}),
        ("Regularization", ["--iterations", "12", "--keep-prob", "0.86"], {"cost", "W", "b"}),
        ("Optimization_methods", ["--optimizer", "adam", *MINI_BATCHES], {"cost", "W", "b"}),
        ("Optimization_methods", ["--optimizer", "momentum", "--decay", "inverse", *MINI_BATCHES], {"cost", "W", "b"}),
        ("Optimization_methods", ["--optimizer", "gd", "--decay", "scheduled", *MINI_BATCHES], {"cost", "W", "b"}),
    ],
    ids=["he", "he-float32", "plain", "l2", "dropout", "adam", "momentum-inverse", "gd-scheduled"],
)
def test_each_notebooks_model_runs_whole_and_passes(capsys, tmp_path, name, argv, rows):
    code, report = verify(capsys, notebook(tmp_path, name), *argv)
    assert code == 0, report["first_divergence"]
    check = loop(report)
    assert check["status"] == "ok"
    assert {row["quantity"] for row in check["rows"]} == rows
    for row in check["rows"]:
        assert row["ok"] and row["max_abs"] <= row["tolerance"] and row["tolerance"] > 0
    if name == "Optimization_methods":  # it returns its parameters alone; the costs it kept are those it plotted
        assert "model: its costs are those it plotted (plt.plot(costs)), one per kept epoch" in check["notes"]
    elif "cost" in rows:  # a full-batch model() returns no costs: its cost function's calls give one per iteration
        assert any(note.startswith("costs at iterations 0, 1, 2, 3, 4, ..., 11: model ") for note in check["notes"])
        assert not any("plotted" in note for note in check["notes"])  # print_cost False: it plotted an empty list


def test_the_optimisation_model_is_not_run_without_an_optimiser_and_the_others_not_with_one(capsys, tmp_path):
    code, report = verify(capsys, notebook(tmp_path, "Optimization_methods"), "--iterations", "3")
    assert code == 0 and [c["name"] for c in report["checks"] if c["name"].startswith("loop")] == ["loop model"]
    assert loop(report)["skipped"] == (  # (was: not a word, where the verdict line names a loop left unrun)
        "it takes an optimizer and mini-batches: run again with --optimizer gd, momentum or adam and "
        "--mini-batch-size 64 to verify it"
    )
    code, report = verify(capsys, notebook(tmp_path, "Initialization"), *MINI_BATCHES)
    assert code == 0, report["first_divergence"]
    assert loop(report)["skipped"].startswith("it takes no optimizer")


def test_a_dropout_that_draws_new_masks_at_every_call_is_not_compared(capsys, tmp_path):
    path = notebook(tmp_path, "Regularization", ('"    np.random.seed(1)\\n",', '"\\n",'))
    code, report = verify(capsys, path, "--iterations", "5", "--keep-prob", "0.86")
    assert code == 0, report["first_divergence"]
    assert "draws new dropout masks at every call" in loop(report)["skipped"]


SLIPS = [
    # (notebook, old, new, the run's options): each slip lives in model() alone
    (
        "Regularization",
        "grads = backward_propagation_with_regularization(X, Y, cache, lambd)",
        "grads = backward_propagation(X, Y, cache)",
        ["--iterations", "12", "--lambd", "0.7"],
    ),
    (
        "Initialization",
        "parameters = update_parameters(parameters, grads, learning_rate)",
        "parameters = update_parameters(parameters, grads, 0.01)",
        ["--iterations", "12", "--lr", "0.1"],
    ),
    (
        "Optimization_methods",
        '"                t = t + 1 # Adam counter\\n",',
        '"                t = t + 0 # Adam counter\\n",',
        ["--optimizer", "adam", *MINI_BATCHES],
    ),
]


@pytest.mark.parametrize("name, old, new, argv", SLIPS, ids=["l2-backward-forgotten", "hard-coded-lr", "adam-t-0"])
def test_a_slip_in_a_notebooks_model_fails_the_loop_alone(capsys, tmp_path, name, old, new, argv):
    code, report = verify(capsys, notebook(tmp_path, name, (old, new)), *argv)
    assert code == 1
    assert failed(report) == ["loop model"]
    first = report["first_divergence"]
    assert first["name"] == "loop model"
    if name == "Optimization_methods":  # t handed as 0: the bias correction divides by zero
        assert "t starts at 0" in first["hint"]
    elif name == "Initialization":
        assert first["quantity"] == "cost" and "learning rate 0.01, not the --lr 0.1" in first["hint"]
    else:  # the costs after a step without L2's gradient: the regularized cost's, W's and b's rows fail
        assert first["quantity"] == "cost"
        assert {row["quantity"] for row in loop(report)["rows"] if not row["ok"]} == {"cost", "W", "b"}


def test_an_optimisation_model_that_keeps_its_seed_fails_the_loop(capsys, tmp_path):
    path = notebook(tmp_path, "Optimization_methods", ('"        seed = seed + 1\\n",', '"\\n",'))
    code, report = verify(capsys, path, "--optimizer", "momentum", *MINI_BATCHES)
    assert code == 1 and failed(report) == ["loop model"]
    assert "the seed 10 in two epochs" in loop(report)["error"]


def test_an_optimisation_model_whose_epoch_cost_is_not_the_courses_fails_the_loop(capsys, tmp_path):
    """The epoch's cost is the sum of opt_utils' batch sums over m; one divided by the batch size instead changes
    no parameter: only the costs the model keeps, read from what it plots, show it."""
    edit = ('"        cost_avg = cost_total / m\\n",', '"        cost_avg = cost_total / mini_batch_size\\n",')
    code, report = verify(
        capsys, notebook(tmp_path, "Optimization_methods", edit), "--optimizer", "adam", *MINI_BATCHES
    )
    assert code == 1 and failed(report) == ["loop model"]
    rows = {row["quantity"]: row for row in loop(report)["rows"]}
    assert not rows["cost"]["ok"] and rows["W"]["ok"] and rows["b"]["ok"]
