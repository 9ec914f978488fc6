"""Every line of the report is true: what did not run says so, consequences point at their cause,
an interrupted run says how far it got, the lr is blamed only when torch diverged too, and the
free-running check can fail on its own."""

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import QUIET, check, run_cli, tiny

import scratch
import scratch.activations
import scratch.losses
import scratch.model
import verify.runner
import verify.telling.progress
from verify import Config, ImplementationError, run
from verify.checking.units import UnitResult
from verify.config import validate
from verify.judging.compare import CheckResult, Comparison
from verify.judging.consequences import mark_consequences
from verify.optimization import Optimization
from verify.results import Final, Sides
from verify.telling.report import Report


def update_raising(parameters, grads, learning_rate):
    raise ValueError("not written yet")


@pytest.mark.end_to_end
def test_checks_that_did_not_run_say_so_and_no_final_cost_suggests_agreement(monkeypatch):
    monkeypatch.setattr(scratch, "update_parameters", update_raising)
    report = run(tiny())
    assert report.verdict == "fail"
    free = check(report, "free-running")
    assert free.status == "not run" and "raised during training" in free.skipped
    assert report.final is None
    text = report.to_text()
    assert "training, free-running: each side on its own (tolerance follows the dynamics)  [not run]" in text
    assert "final cost: not compared (scratch raised at iteration 0, see lockstep)" in text
    assert "[ok]" not in text.split("training, lockstep")[1]  # nothing after the raise reads as agreement


@pytest.mark.end_to_end
def test_a_forward_pass_that_raises_leaves_backward_not_run_and_the_later_errors_point_back(monkeypatch):
    monkeypatch.setattr(scratch, "L_model_forward", lambda X, parameters, activations=None: 1 / 0)
    report = run(tiny())
    backward, gradcheck, lockstep = (check(report, name) for name in ("backward", "gradcheck", "lockstep"))
    assert backward.status == "not run" and backward.skipped == "scratch's forward pass raised (see forward)"
    assert gradcheck.error_follows == "forward" and lockstep.error_follows == "forward"
    text = report.to_text()
    assert text.count("the same as in forward") == 2  # the error is told once, then pointed at


@pytest.mark.end_to_end
def test_rows_that_follow_from_a_wrong_cost_name_it(monkeypatch):
    def bce_without_negative_term(AL, Y, ZL):
        return float(np.sum(Y * np.logaddexp(0, -ZL)) / Y.shape[1])

    monkeypatch.setitem(scratch.losses.LOSSES, "bce", scratch.losses.Loss("bce", "sigmoid", bce_without_negative_term))
    report = run(tiny())
    first = report.first_divergence
    assert (first.stage, first.quantity) == ("forward", "cost")
    assert "the (1-Y) log(1-AL) term is missing" in first.hint
    assert check(report, "backward").ok  # backward starts from dZ[L] = A[L] - Y: untouched
    for name in ("gradcheck", "lockstep", "free-running"):
        failed = [r for r in check(report, name).rows.values() if not r.ok]
        assert failed and all(r.follows == "forward cost" for r in failed), name
    lockstep_cost = check(report, "lockstep").rows[("cost", 3)]
    assert np.isfinite(lockstep_cost.max_abs) and np.isfinite(lockstep_cost.max_rel)
    text = report.to_text()
    assert (
        "gradient check: backprop against centred differences of the cost (float64)  [FAIL, follows from forward cost]"
        in text
    )


@pytest.mark.end_to_end
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


@pytest.mark.end_to_end
def test_an_interrupted_run_has_its_own_verdict(monkeypatch, capsys):
    def interrupt(self, record):
        if record.index == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(verify.telling.progress.Progress, "show", interrupt)
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--iterations", "50", "--no-tensorboard", "--examples", "32")
    assert code == 130
    assert "VERDICT: INTERRUPTED by Ctrl-C after 5 iterations of training; everything so far agreed" in out
    assert "FAIL" not in out


@pytest.mark.end_to_end
def test_the_lr_is_blamed_only_when_torch_diverged_too(monkeypatch, capsys):
    def update_that_explodes(parameters, grads, learning_rate):
        return {k: v * 1e200 for k, v in parameters.items()}

    monkeypatch.setattr(scratch, "update_parameters", update_that_explodes)
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", "--iterations", "5", "--examples", "16", "--no-tensorboard")
    assert code == 1
    assert "diverged (non-finite or overflowing): scratch at iteration" in out
    assert "torch stayed finite" in out and "--lr" not in out


@pytest.mark.end_to_end
def test_free_running_catches_a_systematic_slip_below_lockstep_resolution(monkeypatch):
    # Each update is off by a relative 1e-9: inside lockstep's rtol of 1e-7, far outside what
    # rounding can do to one step (16 eps). Step after step the runs part, and free-running sees it.
    def update_slightly_off(parameters, grads, learning_rate):
        return {k: v - learning_rate * (1 + 1e-9) * grads["d" + k] for k, v in parameters.items()}

    monkeypatch.setattr(scratch, "update_parameters", update_slightly_off)
    report = run(tiny(iterations=10))
    assert check(report, "lockstep").ok
    first = report.first_divergence
    assert first.name == "free-running" and first.quantity in ("W", "b")
    assert first.max_abs > first.tolerance


@pytest.mark.end_to_end
def test_free_running_stays_tight_on_a_chaotic_float32_run_and_its_json_is_json(tmp_path, capsys):
    # Reproduction: 3,8,8,1, lr 0.5, 1000 float32 iterations: the old tolerance reached 1e16.
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli(
        capsys,
        "--arch",
        "3,8,8,1",
        "--iterations",
        "1000",
        "--lr",
        "0.5",
        "--dtype",
        "float32",
        "--no-tensorboard",
        "--no-gradcheck",
        "--json",
        str(out_json),
        "-q",
    )
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


@pytest.mark.end_to_end
def test_the_report_states_the_rule_it_applied():
    report = run(tiny(dtype="float32"))
    text = report.to_text()
    rule = next(line for line in text.splitlines() if line.startswith("rule: "))
    assert "rtol 1.3e-06 x each quantity's scale, the size of the terms it is computed from" in rule
    assert text.splitlines()[0] == "VERDICT: PASS  scratch and torch agree on every check"  # the verdict first
    assert report.as_dict()["rule"] == rule[len("rule: ") :]
    assert "atol" not in json.dumps(report.as_dict())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.end_to_end
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

    report = run(
        Config(arch=(3, 4, 2), activations=("tanh", "softmax"), dtype=dtype, examples=16, iterations=3, **QUIET)
    )
    walk(report.as_dict())
    json.dumps(report.as_dict(), allow_nan=False)


@pytest.mark.end_to_end
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


@pytest.mark.end_to_end
def test_a_wrong_relu_derivative_at_zero_is_not_excused_as_a_kink(monkeypatch):
    # The same point with Z exactly 0 on both sides: relu'(0) = 1 is a slip, caught at the probe.
    monkeypatch.setitem(
        scratch.activations.ACTIVATIONS,
        "relu",
        dataclasses.replace(scratch.activations.ACTIVATIONS["relu"], derivative=lambda Z: (Z >= 0).astype(Z.dtype)),
    )
    report = run(tiny())
    first = report.first_divergence
    assert (first.stage, first.point, first.quantity) == ("backward", "kink probe", "dZ")
    assert check(report, "backward").notes == []


@pytest.mark.end_to_end
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


# ---------------------------------------------------------------- the report a learner reads (issue 20: 6, 8, 9, 10)


def _failed_row(quantity: str, layer: int, hint: str = "", stage: str = "backward", follows=None) -> Comparison:
    return Comparison(
        stage,
        quantity,
        layer,
        max_abs=2.0,
        max_rel=1.0,
        tolerance=1e-7,
        ratio=2e7,
        ok=False,
        compared=1,
        resolved=1,
        point="initial weights" if stage != "training" else None,
        iteration=0 if stage == "training" else None,
        hint=hint,
        mismatched=1,
        entries=1,
        index=(0, 0),
        value=4.0,
        expected=2.0,
        follows=follows,
    )


def _hand_built(checks=(), functions=(), **fields) -> Report:
    """A report as the runner assembles it, from hand-built results: a 3-4-4-1 run of x.py."""
    config = validate(tiny())
    return Report(
        config,
        Optimization.from_config(config, 32),
        checks=list(checks),
        functions=list(functions),
        implementation="x.py",
        **fields,
    )


MISSING_1_OVER_M = "it is m = 32 times the expected value: a missing 1/m"


def _db_slip() -> Report:
    backward = CheckResult("backward", "backward", 1e-7)
    for layer in (3, 2, 1):  # one line of code makes all three wrong: one cause, one hint
        backward.rows[("db", layer)] = _failed_row("db", layer, MISSING_1_OVER_M)
    unit = UnitResult(
        "linear_backward", "FAIL", "db", "3 of 3 entries differ", "it is m = 5 times the expected value: a missing 1/m"
    )
    return _hand_built([CheckResult("forward", "forward", 1e-7), backward], [unit])


def test_the_text_opens_with_the_verdict_what_to_fix_and_where_it_was_seen():
    report = _db_slip()
    lines = report.to_text().splitlines()
    assert lines[:4] == [
        "VERDICT: FAIL",
        report.functions[0].fix,
        "first divergence: backward, at the initial weights: db3 (layer 3) differs; max abs 2.00e+00 > "
        "allowed 1.00e-07 (max rel 1.00e+00); 1 of 1 entries differ, worst at (0, 0): 4 vs torch 2",
        f"  hint: {MISSING_1_OVER_M}",
    ]
    assert lines[4:7] == ["", report.header(), ""]  # then what was compared, then the tables


def test_str_is_the_text_report_repr_one_line_and_summary_the_verdict_block():
    report = _db_slip()
    assert str(report) == report.to_text()
    assert repr(report).startswith("<Report fail: fix `linear_backward`: its db differs") and "\n" not in repr(report)
    assert len(repr(report)) < 160
    assert report.summary() == "\n".join(report.to_text().splitlines()[:4])


def test_summary_is_at_most_ten_lines():
    report = dataclasses.replace(_db_slip(), nonfinite=Sides(3, None))
    assert len(report.summary().splitlines()) == 5 <= 10  # the diverged line joins the verdict block
    assert (
        report.summary().splitlines()[-1]
        == "diverged (non-finite or overflowing): x.py at iteration 3; torch stayed finite"
    )


def test_a_hint_is_printed_once_per_cause():
    report = _db_slip()
    text = report.to_text()
    unit_hint = report.functions[0].hint
    assert text.count(MISSING_1_OVER_M) == 1  # db3, db2, db1: one line of code, one hint, in the verdict block
    assert text.count(unit_hint) == 1  # in the fix line, not again in the function table
    backward = report.checks[1]
    backward.rows[("db", 1)].hint = "another cause"
    tables = report.to_text().split("\n\n", 1)[1]
    assert tables.count("hint: another cause") == 1  # not in the verdict block: at its first row
    assert tables.index("db       1") < tables.index("hint: another cause")


def test_the_final_cost_says_whose_run_it_is():
    report = _hand_built(final=Sides(Final(0.2473771, 0.91), Final(0.2457903, 0.91)))
    assert (
        "final cost (the verifier stepping x.py's functions): x.py 0.2473771  torch 0.2457903   "
        "accuracy: x.py 91.0%  torch 91.0%"
    ) in report.to_text().splitlines()


def test_a_final_cost_that_could_not_be_computed_says_why_instead_of_a_dash():
    report = _hand_built(final=Sides(Final(), Final(0.2457903, 0.91)))
    (line,) = [line for line in report.to_text().splitlines() if line.startswith("final cost")]
    assert (
        line
        == "final cost: torch 0.2457903; x.py's not computed: its forward pass or cost raised at its final parameters"
    )


def test_no_final_cost_is_credited_when_the_learners_own_loop_does_not_train_like_its_functions():
    loop = CheckResult("loop nn_model", "training", 1e-7, rows={("cost", 2): _failed_row("cost", 2, stage="training")})
    report = _hand_built([loop], final=Sides(Final(0.2473771, 0.91), Final(0.2457903, 0.91)))
    (line,) = [line for line in report.to_text().splitlines() if line.startswith("final cost")]
    assert line == "final cost: not shown: x.py's own nn_model does not train like its functions (see loop nn_model)"
    try:
        raise ValueError("shapes (1,4) and (1,40) not aligned")
    except ValueError as error:
        loop.rows, loop.error = {}, ImplementationError("nn_model", error)
    assert "final cost: not shown: x.py's own nn_model raised (see loop nn_model)" in report.to_text().splitlines()
    loop.error = ImplementationError(
        "nn_model", ValueError("sizes"), what="called initialize_parameters for other sizes"
    )
    assert (  # a call the checks rejected, nothing raised: what it did
        "final cost: not shown: x.py's own nn_model called initialize_parameters for other sizes (see loop nn_model)"
        in report.to_text().splitlines()
    )


@pytest.mark.end_to_end
def test_a_flat_nn_model_gets_no_final_cost_end_to_end(tmp_path):
    """Problem 6: an nn_model that drops update_parameters' result keeps a flat cost; its final cost is not shown."""
    planar = Path(__file__).resolve().parents[2] / "examples" / "planar_network.py"
    text = planar.read_text()
    old = "        parameters = update_parameters(parameters, backward_propagation(parameters, cache, X, Y))"
    assert old in text
    (tmp_path / "flat.py").write_text(text.replace(old, old.replace("parameters = ", "", 1)))
    report = run(
        Config(
            arch=(2, 4, 1),
            impl=str(tmp_path / "flat.py"),
            data="flower",
            learning_rate=1.2,
            iterations=10,
            examples=40,
            **QUIET,
        )
    )
    assert not check(report, "loop nn_model").ok
    assert (
        "final cost: not shown: flat.py's own nn_model does not train like its functions (see loop nn_model)"
        in report.to_text().splitlines()
    )


def test_unresolved_rows_are_named_in_the_verdict_not_marked_above():
    row = Comparison("gradcheck", "dW", 1, compared=1, resolved=0)
    report = _hand_built([CheckResult("gradcheck", "gradcheck", 1e-6, rows={("dW", 1): row})])
    assert (
        report.summary()
        == "VERDICT: PASS  x.py and torch agree on every check (1 row unresolved by its check: gradcheck dW1)"
    )
    assert "marked above" not in report.to_text()


def test_progress_names_a_long_stage_on_stderr_only(monkeypatch, capsys):
    monkeypatch.setattr(verify.telling.progress, "AFTER", 0.0)
    monkeypatch.setattr(verify.telling.progress, "STILL", 0.05)
    with verify.telling.progress.Progress(tiny(progress=True)) as progress:
        progress.stage("gradient check")
        time.sleep(0.3)  # a stage with no line of its own for STILL seconds says it is still running
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "gradient check..." and lines[1].startswith("gradient check: still running (")


def test_progress_is_silent_when_off_or_before_its_delay(monkeypatch, capsys):
    monkeypatch.setattr(verify.telling.progress, "STILL", 0.05)
    for config, after in ((tiny(progress=False), 0.0), (tiny(progress=True), 60.0)):
        monkeypatch.setattr(verify.telling.progress, "AFTER", after)
        with verify.telling.progress.Progress(config) as progress:
            progress.stage("training")
            time.sleep(0.2)
    assert capsys.readouterr() == ("", "")


def test_the_fix_line_names_the_file_and_line_where_the_function_is_defined():
    """A helper file's function is named with its file (course_optimizers.py imports course_network.py's), a
    notebook's with its cell as Jupyter shows it."""
    from verify.impl import load_module
    from verify.telling.report import function_sources

    examples = Path(__file__).resolve().parents[2] / "examples"
    optimizers = load_module(str(examples / "course_optimizers.py"))
    assert function_sources(optimizers, ["linear_backward", "update_parameters_with_adam", "absent"]) == {
        "linear_backward": "course_network.py, line 68",
        "update_parameters_with_adam": "course_optimizers.py, line 57",
    }
    notebook = load_module(str(examples / "course_slip.ipynb"))
    assert function_sources(notebook, ["relu_backward"]) == {"relu_backward": "course_slip.ipynb, code cell 5, line 1"}
    report = dataclasses.replace(_db_slip(), sources={"linear_backward": "dnn_utils.py, line 12"})
    assert report.summary().splitlines()[1] == report.functions[0].fix + "; defined in dnn_utils.py, line 12"
    assert report.as_dict()["first_divergence"]["source"] == "dnn_utils.py, line 12"  # and in the JSON


# ---------------------------------------------------------------- fix lines for loops and rejected results; nan rows

FLAT = "its parameters never change: update_parameters' result is not assigned (parameters = update_parameters(...))"
REVERSED = (
    "cache 1 holds layer 3's (A_prev, W3, b3): caches[l-1] must be layer l's; caches are in reverse order: "
    "append, not insert(0, ...)"
)


def _flat_loop() -> Report:
    """The functions and the network agree; nn_model's own run stays flat (its loop drops update_parameters' result)."""
    loop = CheckResult("loop nn_model", "training", 1e-7, rows={("cost", 2): _failed_row("cost", 2, FLAT, "training")})
    return _hand_built(
        [CheckResult("forward", "forward", 1e-7), loop],
        [UnitResult("update_parameters", "ok", None, "", "")],
        sources={"nn_model": "x.py, line 40"},
    )


def test_a_loop_that_differs_from_its_own_functions_gets_a_fix_line_with_its_hint_and_where_it_is_defined():
    report = _flat_loop()
    lines = report.summary().splitlines()
    assert lines[1] == f"fix `nn_model`: {FLAT}; defined in x.py, line 40"
    assert lines[2].startswith("first divergence: loop nn_model, iteration 0: cost differs; max abs 2.00e+00")
    assert len(lines) == 3 and report.to_text().count(FLAT) == 1  # the hint is the fix line's: said once
    assert report.to_markdown().count(FLAT) == 1
    first = report.as_dict()["first_divergence"]
    assert (first["function"], first["fix"], first["source"]) == (
        "nn_model",
        f"fix `nn_model`: {FLAT}",
        "x.py, line 40",
    )


def test_a_loop_without_a_hint_says_what_differs_and_a_wrong_function_still_comes_first():
    flat = _flat_loop()
    flat.checks[1].rows[("cost", 2)].hint = ""
    report = dataclasses.replace(flat)  # assembled again, from the changed row
    assert report.summary().splitlines()[1] == (
        "fix `nn_model`: its cost differs from its own functions' steps from "
        "the same start (which the checks above agree with); defined in x.py, line 40"
    )
    report = dataclasses.replace(
        report, functions=[UnitResult("linear_backward", "FAIL", "db", "3 of 3 entries differ", MISSING_1_OVER_M)]
    )
    assert report.summary().splitlines()[1].startswith("fix `linear_backward`: its db differs")


def _rejected_caches() -> Report:
    """L_model_forward's caches in reverse order: the adapter rejects them (nothing raised) in forward, then again in
    the gradient check and lockstep."""
    error = ImplementationError("L_model_forward", ValueError(REVERSED))
    checks = [
        CheckResult("forward", "forward", 1e-7, error=error),
        CheckResult("backward", "backward", 1e-7, skipped="x.py's forward pass returned what the checks cannot use"),
        CheckResult("gradcheck", "gradcheck", 1e-6, error=error),
        CheckResult("lockstep", "training", 1e-7, error=error, error_iteration=0),
    ]
    mark_consequences(checks, 3)  # as the runner does before it assembles the report
    report = _hand_built(checks, sources={"L_model_forward": "x.ipynb, cell [7], line 3"})
    return report


def test_a_rejected_result_gets_a_fix_line_and_its_message_is_printed_once():
    report = _rejected_caches()
    text = report.to_text()
    assert text.splitlines()[:3] == [
        "VERDICT: FAIL",
        f"fix `L_model_forward`: {REVERSED}; defined in x.ipynb, cell [7], line 3",
        "first divergence: forward: L_model_forward returned what the checks cannot use, as the fix line says",
    ]
    assert text.count("cache 1 holds layer 3's") == 1
    assert "  error: L_model_forward returned what the checks cannot use: see the fix line above" in text
    assert "  error: the same as in forward\n" in text and "  error at iteration 0: the same as in forward\n" in text
    assert "final cost: not compared (x.py returned what the checks cannot use at iteration 0, see lockstep)" in text
    assert report.to_markdown().count("cache 1 holds layer 3's") == 2  # the fix, and the check that saw it
    assert f"{REVERSED}; the network checks: forward" in report.to_markdown()  # (was: run together, no separator)
    first = report.as_dict()["first_divergence"]
    assert first["rejected"] is True and first["fix"] == f"fix `L_model_forward`: {REVERSED}"


def test_an_error_the_implementation_raised_gets_no_fix_line_and_is_printed_where_it_was_seen():
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as raised:
        error = ImplementationError("relu", raised)
    report = _hand_built([CheckResult("forward", "forward", 1e-7, error=error)])
    lines = report.to_text().splitlines()
    assert lines[1] == "first divergence: forward: relu raised ZeroDivisionError: division by zero"
    assert "  error: relu raised ZeroDivisionError: division by zero" in lines
    assert not report.first_divergence.fix


def test_a_nan_reads_nan_not_an_infinite_difference_and_the_json_stays_json():
    row = _failed_row("cost", 3, stage="training")
    row.max_abs, row.max_rel, row.value, row.expected = np.inf, np.inf, np.nan, 0.7425279
    report = _hand_built([CheckResult("loop model", "training", 1e-7, rows={("cost", 3): row})])
    text = report.to_text()
    assert (
        "first divergence: loop model, iteration 0: cost differs; max abs nan (not a number), allowed 1.00e-07; "
        "1 of 1 entries differ, worst at (0, 0): nan vs its own steps 0.7425279"
    ) in text
    assert "  cost     3              nan       nan   1.0e-07  FAIL at iteration 0" in text.splitlines()
    assert " inf " not in text
    assert json.loads(json.dumps(report.as_dict(), allow_nan=False))["checks"][0]["rows"][0]["max_abs"] is None
    row.value = np.inf  # an infinite value is an infinite difference: it stays inf
    assert "  cost     3              inf       inf   1.0e-07  FAIL at iteration 0" in report.to_text().splitlines()


def test_the_loops_costs_line_shows_both_runs_at_the_same_iterations():
    from verify.checking.loops import _costs_note

    at = list(range(200))
    note = _costs_note("nn_model", "iterations", at, [0.684926] * 200, [0.7 - i / 1000 for i in range(200)])
    assert note == (
        "costs at iterations 0, 1, 2, 3, 4, ..., 199: nn_model 0.684926, 0.684926, 0.684926, 0.684926, "
        "0.684926, ..., 0.684926; torch from the same start 0.7, 0.699, 0.698, 0.697, 0.696, ..., 0.501"
    )
    short = _costs_note("model", "epochs", [0, 100, 199], [0.7, 0.5, 0.4], [0.7, 0.6])
    assert (
        short == "costs at epochs 0, 100, 199: model 0.7, 0.5, 0.4; torch from the same start 0.7, -, - (only 2 kept)"
    )


def test_an_infinite_final_cost_at_finite_parameters_is_a_log0_not_an_overflow(tmp_path, capsys):
    """The update's sign slipped at a large rate: after the one step lockstep compares, the output saturates
    exactly, and the final cost is log(0) at finite parameters (was: 'not comparable (overflow)')."""
    course = (Path(__file__).parents[2] / "examples" / "course_network.py").read_text()
    step = 'parameters["W" + str(l + 1)] -= learning_rate'
    assert course.count(step) == 1
    path = tmp_path / "plus.py"
    path.write_text(course.replace(step, step.replace("-=", "+=")))
    code, out, _ = run_cli(
        capsys, "--impl", str(path), "--arch", "3,4,4,1", "--iterations", "1", "--lr", "100", "--no-tensorboard"
    )
    (final,) = [line for line in out.splitlines() if line.startswith("final cost:")]
    assert code == 1 and final.startswith(
        "final cost: not comparable: plus.py's is inf at its final parameters, which are finite: its output reached "
        "exactly 0 or 1 there, where the course's cost is log(0); torch's own run stayed finite ("
    )
