"""The course's training loops, whole: right ones pass, and a slip that lives only in the loop fails on the loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verify.cli import main
from verify_cases import slipped

REPO = Path(__file__).resolve().parents[2]
WEEK4 = REPO / "examples" / "course_network.py"
WEEK3 = REPO / "examples" / "planar_network.py"
WEEK2 = REPO / "examples" / "logreg_network.py"
ARCH = {WEEK4: "3,4,1", WEEK3: "2,4,1", WEEK2: "2,1"}
RUN = ["--no-tensorboard", "--iterations", "250", "--examples", "40", "--no-gradcheck", "-q", "--json", "-"]


def verify(capsys, path: Path, arch: str, *extra: str) -> tuple[int, dict]:
    code = main(["--arch", arch, "--impl", str(path), *RUN, *extra])
    return code, json.loads(capsys.readouterr().out)


def loops(report: dict) -> dict:
    return {c["name"]: c for c in report["checks"] if c["name"].startswith("loop")}


@pytest.mark.parametrize("source, names", [
    (WEEK4, ["loop two_layer_model", "loop L_layer_model"]),
    (WEEK3, ["loop nn_model"]),
    (WEEK2, ["loop optimize"]),
], ids=["week4", "week3", "week2"])
def test_each_course_loop_is_checked_and_passes(capsys, source, names):
    code, report = verify(capsys, source, ARCH[source])
    assert code == 0, report["first_divergence"]
    checks = loops(report)
    assert list(checks) == names
    for check in checks.values():
        assert check["status"] == "ok"
        cost = next(r for r in check["rows"] if r["quantity"] == "cost")
        assert cost["compared"] == 1 and cost["tolerance"] > 0


def test_a_deep_network_checks_L_layer_model_only(capsys):
    code, report = verify(capsys, WEEK4, "3,4,4,1")
    assert code == 0
    assert list(loops(report)) == ["loop L_layer_model"]


LOOP_SLIPS = [
    # (file, old, new, the loop that fails, its first wrong quantity)
    (WEEK2, "if i % 100 == 0:", "if i % 100 == 1:", "loop optimize", "cost"),  # the cost kept one step late
    (WEEK2, "grads, cost = propagate(w, b, X, Y)", "grads, cost = propagate(w, b, X, Y)\n        w0 = w",
     None, None),  # harmless: a control, the loop stays right
    (WEEK3, "    for i in range(num_iterations):\n", "    for i in range(num_iterations):\n"
     "        parameters = initialize_parameters(n_x, n_h, n_y) if i % 2 else parameters\n", "loop nn_model", "cost"),
    (WEEK4, "parameters = update_parameters(parameters, grads, learning_rate)\n        if i % 100 == 0 or i == num_iterations - 1:\n"
            "            costs.append(cost)\n            if print_cost:\n                print(f\"Cost after iteration {i}: {np.squeeze(cost)}\")\n"
            "    return parameters, costs\n\n\ndef L_layer_model",
     "parameters = update_parameters(parameters, grads, 0.0075)\n        if i % 100 == 0 or i == num_iterations - 1:\n"
     "            costs.append(cost)\n            if print_cost:\n                print(f\"Cost after iteration {i}: {np.squeeze(cost)}\")\n"
     "    return parameters, costs\n\n\ndef L_layer_model", "loop two_layer_model", "cost"),  # a hard-coded learning rate
    (WEEK4, "dA0, dW1, db1 = linear_activation_backward(dA1, cache1, \"relu\")\n        grads = {\"dW1\": dW1, \"db1\": db1,",
     "dA0, dW1, db1 = linear_activation_backward(dA1, cache1, \"relu\")\n        grads = {\"dW1\": dW1, \"db1\": 0 * db1,",
     "loop two_layer_model", "cost"),  # b1 never moves
]


@pytest.mark.parametrize("source, old, new, failing, quantity", LOOP_SLIPS,
                         ids=["cost-kept-late", "control", "re-initialised", "hard-coded-lr", "b1-not-updated"])
def test_a_slip_in_the_loop_alone_fails_the_loop_alone(capsys, tmp_path, source, old, new, failing, quantity):
    code, report = verify(capsys, slipped(tmp_path, source, old, new), ARCH[source])
    failed = [c["name"] for c in report["checks"] if not c["ok"]] + [f["function"] for f in report["functions"] if f["status"] != "ok"]
    if failing is None:
        assert code == 0 and failed == []
        return
    assert code == 1 and failed == [failing]
    first = report["first_divergence"]
    assert first["name"] == failing and first["quantity"] == quantity


def test_a_costs_list_of_the_wrong_length_is_named(capsys, tmp_path):
    path = slipped(tmp_path, WEEK2, "if i % 100 == 0:", "if i % 10 == 0:")
    code, report = verify(capsys, path, ARCH[WEEK2])
    assert code == 1
    check = loops(report)["loop optimize"]
    assert "its costs list has 25 entries" in check["error"] and "one every 100 from iteration 0 (3)" in check["error"]


def test_a_loop_is_not_run_after_training_raised(capsys, tmp_path):
    path = slipped(tmp_path, WEEK3, "return {key: parameters[key] - learning_rate * grads[\"d\" + key] for key in parameters}",
                   "raise RuntimeError('no update')")
    code, report = verify(capsys, path, ARCH[WEEK3])
    assert code == 1
    assert loops(report)["loop nn_model"]["skipped"] == "planar_network.py raised during training (see lockstep)"


def test_a_loop_without_num_iterations_is_not_run_and_says_why(capsys, tmp_path):
    path = slipped(tmp_path, WEEK2, "def optimize(w, b, X, Y, num_iterations=100,", "def optimize(w, b, X, Y, steps=100,")
    path.write_text(path.read_text().replace("range(num_iterations)", "range(steps)"))
    code, report = verify(capsys, path, ARCH[WEEK2])
    assert code == 0
    assert loops(report)["loop optimize"]["skipped"] == "optimize takes no num_iterations, so it cannot be run for this run's iterations"
