"""The course loop takes the steps training checks (loop_driven.py): a learner's steps run once, not once in training
and again in the loop check, and the report is the one the loop run on its own gives; a loop whose calls leave
the verifier's steps, or that writes into what it was handed, is judged as it is on its own."""

from __future__ import annotations

import json

import pytest
from conftest import COURSE, edited

import verify.runner
from verify.cli import main

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

RUN = ["--arch", "3,4,4,1", "--examples", "40", "--lr", "0.3", "--no-tensorboard", "--no-gradcheck", "-q"]
COUNTED = """
_backward = L_model_backward
def L_model_backward(AL, Y, caches):
    with open(CALLS, "a") as out:
        out.write("backward\\n")
    return _backward(AL, Y, caches)
"""


def _report(capsys, impl, *argv: str) -> tuple[int, dict]:
    code = main(["--impl", str(impl), *RUN, "--json", "-", *argv])
    return code, json.loads(capsys.readouterr().out)


def _check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


IN_PLACE = """
def update_parameters(parameters, grads, learning_rate):
    for l in range(1, len(parameters) // 2 + 1):
        parameters["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        parameters["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return parameters
"""


@pytest.mark.parametrize("update", ["", IN_PLACE], ids=["update on a copy", "update in place"])
def test_each_of_the_learners_steps_runs_once(capsys, tmp_path, update):
    # an update that writes into the arrays it is handed still hands the loop's next call the verifier's own
    calls = tmp_path / "calls.txt"
    impl = edited(tmp_path, COURSE, tail=f"\nCALLS = {str(calls)!r}\n" + COUNTED + update)
    counts = []
    for iterations in (5, 25):
        calls.write_text("")
        code, report = _report(capsys, impl, "--iterations", str(iterations))
        assert code == 0 and _check(report, "loop L_layer_model")["status"] == "ok"
        counts.append(len(calls.read_text().splitlines()))
    assert counts[1] - counts[0] == 20  # one call an iteration (the loop and training apart: two)


def test_the_report_is_the_one_the_loop_run_on_its_own_gives(capsys, tmp_path, monkeypatch):
    reports = []
    for driven in (True, False):
        if not driven:
            monkeypatch.setattr(verify.runner, "loop_driver", lambda *args: None)
        code, report = _report(capsys, COURSE, "--iterations", "150")
        assert code == 0
        reports.append({k: v for k, v in report.items() if k not in ("seconds", "run_dir")})
    assert reports[0] == reports[1]


@pytest.mark.parametrize(
    "slip, edit",
    [
        (
            "one iteration too many",
            (
                "for i in range(num_iterations):\n        AL, caches",
                "for i in range(num_iterations + 1):\n        AL, caches",
            ),
        ),
        (
            "W1 written in place after its update",
            (
                "grads = L_model_backward(AL, Y, caches)\n        parameters = update_parameters(parameters, grads, "
                "learning_rate)\n",
                "grads = L_model_backward(AL, Y, caches)\n        parameters = update_parameters(parameters, grads, "
                "learning_rate)\n        parameters['W1'] *= 1.01\n",
            ),
        ),
    ],
)
def test_a_loop_that_leaves_the_verifiers_steps_fails_as_it_does_on_its_own(capsys, tmp_path, slip, edit):
    impl = edited(tmp_path, COURSE, edit)
    code, report = _report(capsys, impl, "--iterations", "30")
    assert (
        code == 1 and _check(report, "lockstep")["status"] == "ok" and _check(report, "free-running")["status"] == "ok"
    )
    loop = _check(report, "loop L_layer_model")
    assert loop["status"] == "FAIL" and loop.get("error") is None, loop
