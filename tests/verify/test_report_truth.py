"""Every line of the report is true: what did not run says so, consequences point at their cause,
an interrupted run says how far it got, the lr is blamed only when torch diverged too, and the
free-running check can fail on its own."""

import dataclasses
import json

import numpy as np
import pytest

import scratch
import scratch.activations
import scratch.losses
import scratch.model
import verify.progress
import verify.runner
from verify import Config, run
from verify_cases import QUIET, check, run_cli, tiny


def update_raising(parameters, grads, learning_rate):
    raise ValueError("not written yet")


def test_checks_that_did_not_run_say_so_and_no_final_cost_suggests_agreement(monkeypatch):
    monkeypatch.setattr(scratch, "update_parameters", update_raising)
    report = run(tiny())
    assert report.verdict == "fail"
    free = check(report, "free-running")
    assert free.status == "not run" and "raised during training" in free.skipped
    assert report.final == {}
    text = report.to_text()
    assert "training, free-running: each side on its own (tolerance follows the dynamics)  [not run]" in text
    assert "final cost: not compared (scratch raised at iteration 0, see lockstep)" in text
    assert "[ok]" not in text.split("training, lockstep")[1]  # nothing after the raise reads as agreement


def test_a_forward_pass_that_raises_leaves_backward_not_run_and_the_later_errors_point_back(monkeypatch):
    monkeypatch.setattr(scratch, "L_model_forward", lambda X, parameters, activations=None: 1 / 0)
    report = run(tiny())
    backward, gradcheck, lockstep = (check(report, name) for name in ("backward", "gradcheck", "lockstep"))
    assert backward.status == "not run" and backward.skipped == "scratch's forward pass raised (see forward)"
    assert gradcheck.error_follows == "forward" and lockstep.error_follows == "forward"
    text = report.to_text()
    assert text.count("the same as in forward") == 2  # the error is told once, then pointed at


def test_rows_that_follow_from_a_wrong_cost_name_it(monkeypatch):
    def bce_without_negative_term(AL, Y, ZL):
        return float(np.sum(Y * np.logaddexp(0, -ZL)) / Y.shape[1])

    monkeypatch.setitem(scratch.losses.LOSSES, "bce", scratch.losses.Loss("bce", "sigmoid", bce_without_negative_term))
    report = run(tiny())
    first = report.first_divergence()
    assert (first["stage"], first["quantity"]) == ("forward", "cost")
    assert "the (1-Y) log(1-AL) term is missing" in first["hint"]
    assert check(report, "backward").ok  # backward starts from dZ[L] = A[L] - Y: untouched
    for name in ("gradcheck", "lockstep", "free-running"):
        failed = [r for r in check(report, name).rows.values() if not r.ok]
        assert failed and all(r.follows == "forward cost" for r in failed), name
    lockstep_cost = check(report, "lockstep").rows[("cost", 3)]
    assert np.isfinite(lockstep_cost.max_abs) and np.isfinite(lockstep_cost.max_rel)
    text = report.to_text()
    assert "gradient check: backprop against centred differences of the cost (float64)  [FAIL, follows from forward cost]" in text


def test_a_failed_row_shows_its_numbers_at_the_iteration_it_names(monkeypatch):
    # db grows wrong over the run (1/m missing): the row shows iteration 0's numbers, the run's worst apart.
    monkeypatch.setattr(scratch.model, "linear_backward", _db_without_1_over_m)
    report = run(tiny(iterations=20))
    row = check(report, "lockstep").rows[("db", 3)]
    backward = check(report, "backward").rows[("db", 3)]
    assert row.iteration == 0 and row.max_abs == pytest.approx(backward.max_abs, rel=1e-12)
    assert row.run_max_abs > row.max_abs
    assert row.mismatched == row.entries == 1 and row.index == (0, 0)
    assert row.value == pytest.approx(32 * row.expected, rel=1e-9)
    text = report.to_text(verbose=True)
    assert f"largest max abs over the run: {row.run_max_abs:.1e}" not in text  # a consequence: no detail lines
    assert "FAIL at iteration 0, follows from backward db3" in text


def _db_without_1_over_m(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return W.T @ dZ, (1 / m) * (dZ @ A_prev.T), np.sum(dZ, axis=1, keepdims=True)


def test_an_interrupted_run_has_its_own_verdict(monkeypatch, capsys):
    def interrupt(self, record):
        if record.index == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(verify.progress.Progress, "show", interrupt)
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--iterations", "50", "--no-tensorboard", "--examples", "32")
    assert code == 130
    assert "VERDICT: INTERRUPTED after 5 iterations; everything so far agreed" in out
    assert "FAIL" not in out


def test_the_lr_is_blamed_only_when_torch_diverged_too(monkeypatch, capsys):
    def update_that_explodes(parameters, grads, learning_rate):
        return {k: v * 1e200 for k, v in parameters.items()}

    monkeypatch.setattr(scratch, "update_parameters", update_that_explodes)
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", "--iterations", "5", "--examples", "16", "--no-tensorboard")
    assert code == 1
    assert "diverged (non-finite or overflowing): scratch at iteration" in out
    assert "torch stayed finite" in out and "--lr" not in out


def test_free_running_catches_a_systematic_slip_below_lockstep_resolution(monkeypatch):
    # Each update is off by a relative 1e-9: inside lockstep's rtol of 1e-7, far outside what
    # rounding can do to one step (16 eps). Step after step the runs part, and free-running sees it.
    def update_slightly_off(parameters, grads, learning_rate):
        return {k: v - learning_rate * (1 + 1e-9) * grads["d" + k] for k, v in parameters.items()}

    monkeypatch.setattr(scratch, "update_parameters", update_slightly_off)
    report = run(tiny(iterations=10))
    assert check(report, "lockstep").ok
    first = report.first_divergence()
    assert first["name"] == "free-running" and first["quantity"] in ("W", "b")
    assert first["max_abs"] > first["tolerance"]


def test_free_running_stays_tight_on_a_chaotic_float32_run_and_its_json_is_json(tmp_path, capsys):
    # Reproduction: 3,8,8,1, lr 0.5, 1000 float32 iterations: the old tolerance reached 1e16.
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "--arch", "3,8,8,1", "--iterations", "1000", "--lr", "0.5", "--dtype", "float32",
                           "--no-tensorboard", "--no-gradcheck", "--json", str(out_json), "-q")
    assert code == 0
    report = json.loads(out_json.read_text(), parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    free = next(c for c in report["checks"] if c["name"] == "free-running")
    params = [r for r in free["rows"] if r["quantity"] != "cost"]
    largest = max(r["scale"] for r in params)
    assert all(r["tolerance"] <= 1e-2 * largest for r in params)
    if free["comparable_until"] is not None:  # training magnified rounding: said, and nothing after compared
        assert free["status"].startswith(f"ok up to iteration {free['comparable_until'] - 1}")
        assert any("not comparable" in note for note in free["notes"])
    assert report["drift"] and all(d["max_param_gap"] <= d["allowed"] for d in report["drift"])


def test_the_report_states_the_rule_it_applied():
    report = run(tiny(dtype="float32"))
    text = report.to_text()
    rule = next(line for line in text.splitlines() if line.startswith("rule: "))
    assert "rtol 1.3e-06 x each quantity's scale, the size of the terms it is computed from" in rule
    assert text.splitlines()[0] == "VERDICT: PASS  scratch and torch agree on every check"  # the verdict first
    assert report.as_dict()["rule"] == rule[len("rule: "):]
    assert "atol" not in json.dumps(report.as_dict())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_json_holds_only_json_types(dtype):
    def walk(value):
        if isinstance(value, dict):
            assert all(isinstance(k, str) for k in value)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert value is None or type(value) in (str, int, float, bool), (type(value), value)

    report = run(Config(arch=(3, 4, 2), activations=("tanh", "softmax"), dtype=dtype, examples=16, iterations=3, **QUIET))
    walk(report.as_dict())
    json.dumps(report.as_dict(), allow_nan=False)


def test_opposite_sides_of_a_kink_within_rounding_are_not_a_mismatch(monkeypatch):
    # At the kink probe torch's Z is exactly 0 for the zero input column; this implementation
    # nudges that input to 1e-30, so its Z is +-1e-30 (right to within rounding) and its relu'
    # is 1 where torch's is 0. Both are right: the gradients below are not compared there.
    def forward_nudging_zero_inputs(X, parameters, activations=None):
        X = X.copy()
        X[:, ~X.any(axis=0)] = 1e-30
        return scratch.model.L_model_forward(X, parameters, activations)

    monkeypatch.setattr(scratch, "L_model_forward", forward_nudging_zero_inputs)
    report = run(tiny())
    assert report.ok, report.to_text(verbose=True)
    (note,) = check(report, "backward").notes
    assert note.startswith("at the kink probe, a relu unit of layer 2 had Z on opposite sides of its kink")
    assert check(report, "backward").rows[("dW", 1)].compared == 1  # at the initial weights only


def test_a_wrong_relu_derivative_at_zero_is_not_excused_as_a_kink(monkeypatch):
    # The same point with Z exactly 0 on both sides: relu'(0) = 1 is a slip, caught at the probe.
    monkeypatch.setitem(scratch.activations.ACTIVATIONS, "relu", dataclasses.replace(
        scratch.activations.ACTIVATIONS["relu"], derivative=lambda Z: (Z >= 0).astype(Z.dtype)))
    report = run(tiny())
    first = report.first_divergence()
    assert (first["stage"], first["point"], first["quantity"]) == ("backward", "kink probe", "dZ")
    assert check(report, "backward").notes == []


def test_gradient_checking_leaves_out_entries_whose_step_crosses_a_relu_kink():
    """Zero biases and a dead hidden layer put Z exactly at 0, and small weights put deep Z within a step of
    it: a centred difference across the kink measures neither side's derivative (it failed db2 of the course
    example); those entries are not compared, and the report says so."""
    from pathlib import Path

    course = Path(__file__).resolve().parents[2] / "examples" / "course_network.py"
    report = run(Config(arch=(3, 4, 4, 1), impl=str(course), init="impl", iterations=2, examples=64, **QUIET))
    gradcheck = next(c for c in report.checks if c.name == "gradcheck")
    assert gradcheck.status == "ok", report.to_text(verbose=True)
    assert any("sampled entries not compared" in note for note in gradcheck.notes)
    deep = run(Config(arch=(2, 3, 3, 3, 3, 3, 1), impl=str(course), init="impl", iterations=2, examples=64, **QUIET))
    assert deep.ok, deep.to_text(verbose=True)  # every row compared away from its kinks: no false alarm
