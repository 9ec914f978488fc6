"""docs/report.schema.json describes the JSON the verifier really writes: real reports of every shape (pass, a
failed function, an implementation that raised, mini-batches with Adam, overflow, no iterations, an interrupt
in training and before any check, an exception inside the verifier) validate against it, and a report with a
key removed or of the wrong type does not."""

from __future__ import annotations

import json
import signal

import pytest
from conftest import EXAMPLES, REPO, run_cli
from jsonschema import Draft202012Validator

import verify.runner
from verify.telling.jsonout import SCHEMA_VERSION
from verify.telling.progress import Progress

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
SMALL = ["--arch", "3,4,1", "--examples", "20", "--iterations", "3", "--no-tensorboard"]
BATCHES = ["--arch", "3,4,1", "--examples", "20", "--no-tensorboard", "--mini-batch-size", "8", "--epochs", "2"]

RUNS = {  # name -> (argv, the verdict it reports)
    "pass": (SMALL, "pass"),
    "a failed function": (["--arch", "3,4,4,1", "--impl", str(EXAMPLES / "broken_network.py"), *SMALL[2:]], "fail"),
    "adam with mini-batches": (
        [*BATCHES, "--optimizer", "adam", "--impl", str(EXAMPLES / "course_optimizers.py")],
        "pass",
    ),
    "l2 and dropout": (["--arch", "3,4,4,1", *SMALL[2:], "--lambd", "0.7", "--keep-prob", "0.8"], "pass"),
    "overflow": (["--arch", "3,4,4,1", *SMALL[2:], "--lambd", "1e308"], "pass"),
    "no iterations": ([*SMALL[:4], "--iterations", "0", "--no-tensorboard"], "pass"),
    "a notebook": ([*SMALL, "--impl", str(EXAMPLES / "course_network.ipynb")], "pass"),
    "week 2": (["--arch", "3,1", "--impl", str(EXAMPLES / "logreg_network.py"), *SMALL[2:]], "pass"),
}


@pytest.fixture
def report_of(capsys):
    def report(*argv: str) -> tuple[int, dict]:
        code, out, _ = run_cli(capsys, *argv, "--json", "-")
        return code, json.loads(out)

    return report


def _errors(document: dict) -> list[str]:
    return [error.message for error in Draft202012Validator(SCHEMA).iter_errors(document)]


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("name", RUNS)
def test_every_shape_of_report_validates(name, report_of):
    argv, verdict = RUNS[name]
    _, report = report_of(*argv)
    assert report["verdict"] == verdict
    assert report["schema_version"] == SCHEMA_VERSION
    assert _errors(report) == []


def test_an_interrupted_run_validates(report_of, monkeypatch):
    def show(self, record):
        if record.index == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Progress, "show", show)
    code, report = report_of(*SMALL)
    assert code == 130 and report["interrupted"]["iterations"] == 2
    assert _errors(report) == []


@pytest.mark.parametrize("ending", ["interrupted", "error"])
def test_a_run_that_ended_before_its_first_check_validates(ending, capsys, tmp_path, monkeypatch):
    def run(config):
        raise KeyboardInterrupt if ending == "interrupted" else RuntimeError("a fault of the verifier's")

    monkeypatch.setattr(verify.runner, "run", run)
    path = tmp_path / "report.json"
    if ending == "error":
        with pytest.raises(RuntimeError):
            run_cli(capsys, *SMALL, "--json", str(path))
    else:
        assert run_cli(capsys, *SMALL, "--json", str(path))[0] == 128 + signal.SIGINT
    report = json.loads(path.read_text())
    assert report["verdict"] == ending
    assert _errors(report) == []


def test_a_report_missing_a_key_or_with_a_wrong_type_does_not_validate(report_of):
    _, report = report_of(*SMALL)
    assert _errors({k: v for k, v in report.items() if k != "config"})
    assert _errors({**report, "verdict": "maybe"})
    assert _errors({**report, "checks": [{**report["checks"][0], "rows": [{"quantity": 1}]}]})
    assert _errors({**report, "schema_version": SCHEMA_VERSION + 1})
