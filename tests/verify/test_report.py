"""verify/telling/report.py on a Report built by hand from CheckResults: which failure is the first divergence, and what the
text, markdown and JSON renderers say of it (the verdict line, the first divergence, the tables, the keys)."""

import copy
import dataclasses
import json

import numpy as np
import pytest
from conftest import tiny

from verify import ImplementationError
from verify.checking.units import UnitResult
from verify.config import validate
from verify.judging.compare import CheckResult, Comparison
from verify.optimization import Optimization
from verify.results import Divergence, Final, Sides
from verify.telling.report import Report

HINT = "it is m = 32 times the expected value: a missing 1/m"


def failed(quantity: str, layer: int, stage: str = "backward", iteration=None, **fields) -> Comparison:
    """A row that broke: max abs 2 against an allowed 1e-7, its one entry 4 where torch has 2."""
    numbers = dict(max_abs=2.0, max_rel=1.0, tolerance=1e-7, ratio=2e7, mismatched=1, entries=1, index=(0, 0))
    return Comparison(
        stage,
        quantity,
        layer,
        ok=False,
        compared=1,
        resolved=1,
        iteration=iteration,
        point=None if stage == "training" else "initial weights",
        value=4.0,
        expected=2.0,
        **{**numbers, **fields},
    )


def agreed(quantity: str, layer: int, stage: str = "backward", resolved: int = 1) -> Comparison:
    return Comparison(stage, quantity, layer, max_abs=1e-17, tolerance=1e-7, ratio=1e-10, compared=1, resolved=resolved)


def check(name: str, *rows: Comparison, stage: str = "") -> CheckResult:
    result = CheckResult(name, stage or name, 1e-7)
    for row in rows:
        result.rows[(row.quantity, row.layer)] = row
    return result


def report(*checks: CheckResult, functions=()) -> Report:
    """A 3-4-1 run of x.py, as the runner assembles it."""
    config = validate(tiny((3, 4, 1)))
    return Report(
        config,
        Optimization.from_config(config, 32),
        checks=list(checks),
        functions=list(functions),
        implementation="x.py",
    )


def failing_backward() -> Report:
    return report(
        check("forward", agreed("Z", 1, "forward")),
        check("backward", agreed("dZ", 2), failed("dW", 2, hint=HINT), failed("db", 2, follows="backward dW2")),
        check("lockstep", failed("cost", 2, "training", iteration=0), stage="training"),
    )


# ---------------------------------------------------------------- first_divergence


def test_a_report_where_everything_agrees_has_no_first_divergence():
    passed = report(check("forward", agreed("Z", 1, "forward")), check("backward", agreed("dW", 1)))
    assert passed.verdict == "pass" and passed.first_divergence is None


def test_the_first_divergence_is_in_the_first_check_that_failed():
    first = failing_backward().first_divergence
    assert (first.name, first.quantity, first.layer) == ("backward", "dW", 2)  # not lockstep's cost
    assert (first.max_abs, first.tolerance, first.hint) == (2.0, 1e-7, HINT)


def test_within_a_training_check_the_earliest_iteration_is_the_first_divergence():
    lockstep = check(
        "lockstep",
        failed("cost", 2, "training", iteration=4),
        failed("W", 1, "training", iteration=1),
        stage="training",
    )
    first = report(check("backward", agreed("dW", 1)), lockstep).first_divergence
    assert (first.quantity, first.layer, first.iteration) == (
        "W",
        1,
        1,
    )  # computed after the cost, broke before


def test_an_error_raised_in_a_check_is_its_first_divergence():
    backward = check("backward")
    backward.error = ImplementationError("L_model_backward", ValueError("not written yet"))
    first = report(check("forward", agreed("Z", 1, "forward")), backward).first_divergence
    assert (first.name, first.quantity, first.error) == ("backward", "L_model_backward", str(backward.error))


def test_a_wrong_function_the_network_runs_is_named_to_fix_and_one_it_does_not_run_is_not():
    used = UnitResult("linear_backward", "FAIL", "db", "1 of 4 entries differ", HINT)
    unused = UnitResult("initialize_parameters", "FAIL", "W1", "differs", in_network=False)
    assert failing_backward().first_divergence.fix is None
    named = report(*failing_backward().checks, functions=[unused, used]).first_divergence
    assert named.function == "linear_backward" and named.fix == used.fix
    assert report(*failing_backward().checks, functions=[unused]).first_divergence.fix is None


# ---------------------------------------------------------------- to_text


def test_the_text_of_a_pass_opens_with_its_verdict_and_names_unresolved_rows():
    lines = report(check("forward", agreed("Z", 1, "forward"))).to_text().splitlines()
    assert lines[0] == "VERDICT: PASS  x.py and torch agree on every check"
    unresolved = report(check("gradcheck", agreed("dW", 1, "gradcheck", resolved=0)))
    assert unresolved.to_text().splitlines()[0] == (
        "VERDICT: PASS  x.py and torch agree on every check (1 row unresolved by its check: gradcheck dW1)"
    )


def test_the_text_of_a_failure_opens_with_its_verdict_the_first_divergence_and_its_hint():
    lines = failing_backward().to_text().splitlines()
    assert lines[:3] == [
        "VERDICT: FAIL",
        "first divergence: backward, at the initial weights: dW2 (layer 2) differs; max abs 2.00e+00 > allowed "
        "1.00e-07 (max rel 1.00e+00); 1 of 1 entries differ, worst at (0, 0): 4 vs torch 2",
        f"  hint: {HINT}",
    ]
    assert sum(HINT in line for line in lines) == 1  # said once, in the verdict block


def test_a_row_that_follows_from_an_earlier_one_says_so_without_a_detail_of_its_own():
    lines = failing_backward().to_text().splitlines()
    (db_line,) = [line for line in lines if line.lstrip().startswith("db ")]
    assert db_line.endswith("FAIL at the initial weights, follows from backward dW2")
    assert lines[lines.index(db_line) + 1].strip() == ""  # no "entries differ" line under it: only its cause has one


def test_a_check_that_did_not_run_says_why():
    skipped = check("lockstep", stage="training")
    skipped.skipped = "no iterations"
    lines = report(check("forward", agreed("Z", 1, "forward")), skipped).to_text().splitlines()
    at = lines.index("training, lockstep: each step from the same parameters  [not run]")
    assert lines[at + 1] == "  not run: no iterations"


# ---------------------------------------------------------------- to_markdown and as_dict


def test_the_markdown_has_the_verdict_the_first_divergence_and_a_table_per_check():
    text = failing_backward().to_markdown()
    lines = text.splitlines()
    assert lines[0] == "## Verdict: FAIL"
    assert lines[2] == (
        "**First divergence:** backward, at the initial weights: dW2 (layer 2) differs; max abs 2.00e+00 > allowed "
        f"1.00e-07 (max rel 1.00e+00); 1 of 1 entries differ, worst at (0, 0): 4 vs torch 2 *hint:* {HINT}"
    )
    assert "| dW | 2 | 2.0e+00 | 1.0e+00 | 1.0e-07 | **FAIL at the initial weights** |" in lines
    assert "| dZ | 2 | 1.0e-17 | 0.0e+00 | 1.0e-07 | ok |" in lines
    assert "### backward: dZ, dW, db, dA (course convention), at the same two points: FAIL" in lines


def test_the_json_has_the_verdict_the_first_divergence_and_each_checks_rows():
    d = failing_backward().as_dict()
    assert {"verdict", "first_divergence", "rule", "functions", "checks", "config", "final", "costs"} <= set(d)
    assert d["verdict"] == "fail"
    assert (d["first_divergence"]["name"], d["first_divergence"]["quantity"]) == ("backward", "dW")
    assert [c["name"] for c in d["checks"]] == ["forward", "backward", "lockstep"]
    dW2 = d["checks"][1]["rows"][1]
    assert (dW2["quantity"], dW2["layer"], dW2["status"], dW2["index"]) == ("dW", 2, "FAIL", [0, 0])
    assert "ratio" not in dW2  # max_abs / tolerance, both given
    assert d["checks"][1]["rows"][2]["follows"] == "backward dW2"
    assert d["config"]["arch"] == [3, 4, 1]


def test_the_json_turns_a_non_finite_number_into_null():
    diverged = report(check("lockstep", failed("cost", 2, "training", iteration=3, max_abs=np.inf), stage="training"))
    d = diverged.as_dict()
    assert d["first_divergence"]["max_abs"] is None
    assert json.loads(json.dumps(d, allow_nan=False)) == d  # strict JSON: no NaN or Infinity literal


# ---------------------------------------------------------------- typed results, assembled once, pure renderers


def test_each_side_s_values_are_a_pair_the_json_names_impl_and_torch():
    finished = dataclasses.replace(
        failing_backward(),
        final=Sides(Final(0.25, 0.9), Final(None, None)),
        costs=Sides([0.7, 0.5], [0.7, 0.6]),
        nonfinite=Sides(None, 4),
    )
    d = finished.as_dict()
    assert d["final"] == {"impl": {"cost": 0.25, "accuracy": 0.9}, "torch": {"cost": None, "accuracy": None}}
    assert d["costs"] == {"impl": [0.7, 0.5], "torch": [0.7, 0.6]}
    assert d["nonfinite"] == {"impl": None, "torch": 4}
    assert "diverged (non-finite or overflowing): torch at iteration 4; x.py stayed finite" in finished.to_text()
    assert Sides(1, 2).items() == (("impl", 1), ("torch", 2))


def test_a_report_without_training_has_no_values_per_side_and_the_json_keeps_its_keys_empty():
    d = failing_backward().as_dict()
    assert (d["final"], d["costs"], d["nonfinite"], d["drift"]) == ({}, {}, {}, [])


def test_the_first_divergence_is_a_frozen_divergence_read_by_attribute():
    first = failing_backward().first_divergence
    assert isinstance(first, Divergence) and (first.stage, first.label, first.point) == (
        "backward",
        "dW2",
        "initial weights",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.hint = "another"


def test_the_json_of_a_divergence_is_its_rows_keys_or_an_errors_with_no_numbers():
    row = failing_backward().as_dict()["first_divergence"]
    assert (row["name"], row["error"], row["traceback"], row["mismatched"], row["index"]) == (
        "backward",
        None,
        [],
        1,
        [0, 0],
    )
    assert "rejected" not in row and "fix" not in row
    backward = check("backward")
    try:  # raised: the implementation's error, with its traceback (not a rejected result)
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError as raised:
        backward.error = ImplementationError("L_model_backward", raised)
    error = report(backward).as_dict()["first_divergence"]
    assert (error["quantity"], error["max_abs"], error["hint"], error["rejected"]) == (
        "L_model_backward",
        None,
        "",
        False,
    )
    assert error["traceback"] == list(backward.error.trace) and "fix" not in error


def test_a_training_divergence_with_mini_batches_names_its_epoch_and_mini_batch():
    config = validate(tiny((3, 4, 1), mini_batch_size=8, epochs=2))
    lockstep = check("lockstep", failed("cost", 2, "training", iteration=5), stage="training")
    batched = Report(config, Optimization.from_config(config, 32), checks=[lockstep])
    first = batched.first_divergence
    assert (first.iteration, first.epoch, first.mini_batch) == (5, 1, 1)  # 4 mini-batches of 8 per epoch
    assert "lockstep, iteration 5 (epoch 1, mini-batch 1)" in batched.to_text()
    assert (batched.as_dict()["first_divergence"]["epoch"], batched.as_dict()["first_divergence"]["mini_batch"]) == (
        1,
        1,
    )


def test_a_report_is_frozen_and_its_first_divergence_decided_when_it_is_built():
    built = failing_backward()
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.checks = []  # type: ignore[misc]
    assert dataclasses.replace(built, checks=built.checks[:1]).first_divergence is None  # forward alone agrees


@pytest.mark.parametrize("render", ["to_text", "to_markdown", "as_dict", "summary", "__repr__"])
def test_rendering_is_pure_twice_the_same_and_the_report_unchanged(render):
    used = UnitResult("linear_backward", "FAIL", "db", "1 of 4 entries differ", HINT)
    finished = dataclasses.replace(
        report(*failing_backward().checks, functions=[used]),
        final=Sides(Final(0.25, 0.9), Final(0.24, 0.9)),
        costs=Sides([0.7], [0.7]),
        nonfinite=Sides(None, None),
        drift=[(0, 0.0, 1e-17, 1e-14)],
        notes=["a note"],
    )
    before = copy.deepcopy(finished)
    first = getattr(finished, render)()
    assert getattr(finished, render)() == first
    assert finished == before and finished.as_dict() == before.as_dict()


def test_a_run_assembles_its_report_once_at_the_end(monkeypatch):
    import verify.runner

    built = []

    class Counted(Report):
        def __post_init__(self):
            built.append(self)
            super().__post_init__()

    monkeypatch.setattr(verify.runner, "Report", Counted)
    finished = verify.runner.run(tiny((3, 4, 1), iterations=2, examples=16))
    assert built == [finished] and finished.ok
    assert [c.name for c in finished.checks] == ["forward", "backward", "gradcheck", "lockstep", "free-running"]
    assert all(c.rows for c in finished.checks)  # each check added once filled


def test_training_hands_its_listeners_arrays_and_numbers_never_a_trainer(monkeypatch):
    import torch_ref
    import verify.runner
    from verify.telling.progress import Progress

    records = []
    monkeypatch.setattr(Progress, "show", lambda self, record: records.append(record))
    verify.runner.run(tiny((3, 4, 1), iterations=3, examples=16))
    assert [r.index for r in records] == [0, 1, 2]
    for record in records:
        values = [getattr(record, f.name) for f in dataclasses.fields(record)]
        assert not any(isinstance(v, (torch_ref.Trainer, torch_ref.TorchNet)) for v in values)
        assert record.torch_AL.shape == record.impl_AL.shape == (1, 16)
        assert set(record.torch_grads) == {"dW1", "db1", "dW2", "db2"} <= set(record.impl_grads)
