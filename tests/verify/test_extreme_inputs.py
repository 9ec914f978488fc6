"""Extreme but accepted inputs: overflow is never a disagreement, numeric options at their limits never a traceback.

A quantity that leaves the dtype's range on both sides is "not comparable (overflow)", not a
FAIL, and no row says "allowed inf"; a genuine slip next to it still fails. An option whose value
cannot give a finite run is refused in one line (exit 2); every other value runs to a report.
"""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_usage_error, run_cli

import scratch.model
from verify.config import MAX_STEPS
from verify.judging.compare import OVERFLOW, CheckResult, agreement, gradient_agreement
from verify.judging.hints import diagnose, divergence_cure

ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--arch", "3,4,1", "--examples", "16", "--no-tensorboard")
TOP = float(np.finfo(np.float64).max)


def json_report(capsys, tmp_path, *argv: str) -> tuple[int, str, dict]:
    """Run the CLI with --json; returns (exit code, the text report, the JSON report)."""
    path = tmp_path / "report.json"
    code, out, err = run_cli(capsys, *argv, "--json", str(path))
    assert "Traceback" not in err
    return code, out, json.loads(path.read_text())


def dA_sign_slip(dZ, cache):
    """linear_backward with dA_prev = -W^T dZ: a wrong derivative (dW and db are right)."""
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return -(W.T @ dZ), (dZ @ A_prev.T) / m, np.sum(dZ, axis=1, keepdims=True) / m


# --- the rule on hand-built arrays ------------------------------------------------------------------


def test_non_finite_on_both_sides_is_not_comparable():
    (stats,) = agreement([(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]))], [1.0], 1e-7)
    assert stats.overflow and stats.agrees and not stats.resolved
    (nan_both,) = agreement([(np.array([np.nan]), np.array([np.inf]))], [1.0], 1e-7)
    assert nan_both.overflow and nan_both.agrees


def test_a_slip_next_to_an_overflow_still_fails():
    (stats,) = agreement([(np.array([np.inf, 1.0]), np.array([np.inf, 2.0]))], [1.0], 1e-7)
    assert not stats.overflow and not stats.agrees and stats.max_abs == 1.0


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_a_non_finite_value_facing_a_finite_one_fails(value):
    (stats,) = agreement([(np.array([value, 1.0]), np.array([3.0, 1.0]))], [3.0], 1e-7)
    assert not stats.overflow and not stats.agrees


def test_infinite_against_the_largest_number_is_rounding_across_the_top():
    (edge,) = agreement([(np.array([np.inf]), np.array([TOP]))], [TOP], 1e-7)
    assert edge.overflow and edge.agrees
    (far,) = agreement([(np.array([np.inf]), np.array([1e300]))], [1e300], 1e-7)
    assert not far.overflow and not far.agrees


def test_a_tolerance_that_overflows_compares_nothing():
    (stats,) = agreement([(np.array([1.0]), np.array([1.5]))], [np.inf], 1e-7)
    assert stats.overflow and stats.agrees
    row = CheckResult("forward", "forward", 1e-7).row("Z", 1)
    row.record(stats, point="initial weights")
    assert row.status == OVERFLOW == "not comparable (overflow)"
    assert row.tolerance is None and row.max_abs is None  # no "allowed inf"
    assert row.as_dict()["status"] == OVERFLOW and row.as_dict()["overflowed"] == 1


def test_a_row_overflowing_at_one_point_of_two_says_so():
    check = CheckResult("forward", "forward", 1e-7)
    check.compare([("Z", 1, np.array([1.0]), np.array([1.0]))], 1, {("Z", 1): 1.0}, at="initial weights")
    check.compare([("Z", 1, np.array([np.inf]), np.array([np.inf]))], 1, {("Z", 1): np.inf}, at="kink probe")
    row = check.rows[("Z", 1)]
    assert row.ok and row.status == f"ok, {OVERFLOW} at 1 of 2 points"
    assert row.tolerance == 1e-7  # the numbers of the point that was compared
    assert check.status == "ok"
    only = CheckResult("forward", "forward", 1e-7)
    only.compare([("Z", 1, np.array([np.inf]), np.array([np.inf]))], 1, {("Z", 1): 1.0})
    assert only.status == OVERFLOW


def test_gradient_norms_do_not_overflow():
    grad = np.full(4, -2.311085e305)
    stats = gradient_agreement(grad, grad * (1 + 1e-9), 1e-6, 0.0)
    assert np.isfinite(stats.max_abs) and np.isfinite(stats.tolerance) and stats.agrees and not stats.overflow
    wrong = gradient_agreement(-grad, grad, 1e-6, 0.0)
    assert not wrong.agrees and not wrong.overflow
    non_finite = gradient_agreement(np.array([np.inf, 1.0]), np.array([1.0, 1.0]), 1e-6, 0.0)
    assert not non_finite.agrees


def test_overflowing_entries_mixed_with_finite_pairs_keep_each_pair_apart():
    pairs = [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0])),
        (np.array([np.inf]), np.array([np.inf])),
        (np.array([5.0]), np.array([6.0])),
    ]
    ok, over, wrong = agreement(pairs, [2.0, 1.0, 6.0], 1e-7)
    assert ok.agrees and not ok.overflow
    assert over.overflow
    assert not wrong.agrees and not wrong.overflow


def test_hints_near_the_top_of_the_range_name_the_slip_without_a_warning():
    expected = np.full((2, 3), 1.7e308)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert diagnose(-expected, expected, 4) == "it has the opposite sign: a sign slip"
        assert diagnose(expected / 2, expected, 4) == "it is 1/2 of the expected value: a lost or extra factor 2"


# --- 1. overflow in a run is not a disagreement --------------------------------------------------------


@pytest.mark.end_to_end
def test_huge_lambd_with_correct_code_passes_and_says_the_run_overflowed(capsys, tmp_path):
    code, out, report = json_report(
        capsys, tmp_path, "--arch", "3,4,4,1", "--lambd", "1e308", "--iterations", "3", "--no-tensorboard"
    )
    assert code == 0 and report["verdict"] == "pass"
    assert "allowed inf" not in out and "FAIL" not in out
    gradcheck = next(c for c in report["checks"] if c["name"] == "gradcheck")
    assert all(row["status"] in ("ok", "unresolved") for row in gradcheck["rows"])
    assert [r for r in gradcheck["rows"] if r["quantity"] == "dW" and r["status"] == "ok"]  # 1e305 gradients, resolved
    assert (
        "final cost: not comparable (overflow): scratch diverged at iteration 0, torch diverged at iteration 0" in out
    )


@pytest.mark.end_to_end
def test_huge_lambd_still_catches_a_wrong_derivative(capsys, monkeypatch):
    monkeypatch.setattr(scratch.model, "linear_backward", dA_sign_slip)
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--lambd", "1e308", "--iterations", "3", "--no-tensorboard")
    assert code == 1
    assert "first divergence: backward, at the initial weights: dA" in out
    assert "Traceback" not in err


@pytest.mark.end_to_end
def test_huge_lr_still_catches_a_wrong_derivative(capsys, monkeypatch):
    monkeypatch.setattr(scratch.model, "linear_backward", dA_sign_slip)
    code, out, err = run_cli(capsys, *SMALL, "--lr", "1e308", "--iterations", "3")
    assert code == 1 and "first divergence: backward" in out


@pytest.mark.end_to_end
def test_a_row_whose_tolerance_overflows_is_not_comparable_in_text_and_json(capsys, tmp_path):
    # Adam with an epsilon of 5e-324 from zero weights: a step's error bound, v / epsilon, overflows
    code, out, report = json_report(
        capsys,
        tmp_path,
        *SMALL,
        "--iterations",
        "2",
        "--optimizer",
        "adam",
        "--epsilon",
        "5e-324",
        "--init",
        "zeros",
        "--no-gradcheck",
    )
    assert code == 0
    lockstep = next(c for c in report["checks"] if c["name"] == "lockstep")
    over = [r for r in lockstep["rows"] if r["status"] == OVERFLOW]
    assert over and all(r["tolerance"] is None and r["overflowed"] == r["compared"] for r in over)
    rows = [line for line in out.splitlines() if line.rstrip().endswith(OVERFLOW)]
    assert rows and all(" - " in line and "inf" not in line for line in rows)
    assert "not comparable (overflow) at some point: lockstep" in out.splitlines()[0]


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
@pytest.mark.end_to_end
def test_data_whose_squares_overflow_is_refused(capsys, tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    X, Y = np.full((3, 4), 1e308), np.array([[0.0, 1.0, 0.0, 1.0]])
    if suffix == ".npz":
        np.savez(path, X=X, Y=Y)
    else:
        np.savetxt(path, np.vstack([X, Y]).T, delimiter=",")
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,4,1", "--data", str(path), "--no-tensorboard"))
    assert "X holds values up to 1e+308, whose squares overflow float64" in line


@pytest.mark.end_to_end
def test_data_just_below_the_square_root_of_the_top_runs(capsys, tmp_path):
    path = tmp_path / "large.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.standard_normal((3, 8)) * 1e150, Y=(rng.random((1, 8)) > 0.5).astype(float))
    code, out, err = run_cli(capsys, *SMALL[:2], "--data", str(path), "--iterations", "3", "--no-tensorboard")
    assert code == 0 and "allowed inf" not in out and "Traceback" not in err


@pytest.mark.end_to_end
def test_lambd_whose_penalty_overflows_at_the_start_is_refused(capsys):
    line = assert_usage_error(*run_cli(capsys, *SMALL[:2], "--examples", "2", "--lambd", "1e308", "--no-tensorboard"))
    assert "--lambd 1e+308: the L2 penalty (lambd / (2m)) sum ||W[l]||^2 of the initial weights is beyond" in line


# --- 2. the diverged line names the option that fits ---------------------------------------------------


@pytest.mark.end_to_end
def test_divergence_from_the_l2_term_names_lambd(capsys):
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--lambd", "1e20", "--iterations", "5", "--no-tensorboard")
    diverged = next(line for line in out.splitlines() if line.startswith("diverged"))
    assert "a smaller --lambd trains" in diverged and "--lr trains" not in diverged


def test_divergence_cure_rule():
    assert divergence_cure(0.1, 1e20, 200).startswith("a smaller --lambd trains")
    assert "below 4e+03" in divergence_cure(0.1, 1e20, 200)  # 2 m / lr
    assert divergence_cure(0.1, 3000, 200) == "a smaller --lr trains"  # lr lambd / m = 1.5 < 2: not the L2 term
    assert divergence_cure(1e308, 0.0, 200) == "a smaller --lr trains"
    assert divergence_cure(0.1, 1e20, 200, "adam") == "a smaller --lr trains"  # Adam's step is bounded by lr
    assert divergence_cure(0.1, 3000, 200, "momentum", 0.9) == "a smaller --lr trains"  # momentum's limit is 38


# --- 3. the final cost never contradicts the verdict -------------------------------------------------


@pytest.mark.end_to_end
def test_huge_lr_final_cost_is_not_set_beside_torchs_nan(capsys, tmp_path):
    code, out, report = json_report(capsys, tmp_path, *SMALL, "--lr", "1e308", "--iterations", "3")
    assert code == 0 and report["verdict"] == "pass"
    final = next(line for line in out.splitlines() if line.startswith("final cost"))
    assert (
        final == "final cost: not comparable (overflow): scratch diverged at iteration 0, torch diverged at iteration 0"
    )
    assert report["nonfinite"] == {"impl": 0, "torch": 0}
    assert report["final"]["impl"]["cost"] is None and report["final"]["torch"]["cost"] is None  # as the text says


# --- 4. numeric options at their limits: a report or one line, never a traceback ------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ("--mini-batch-size", "8", "--seed", "4294967295"),
            "--seed 4294967295 is too large for 2 epochs of mini-batches",
        ),
        (("--mini-batch-size", "8", "--epochs", "3", "--seed", "4294967293"), "give a --seed of at most 4294967292"),
        (("--init", "torch", "--seed", str(2**64)), "too large for --init torch"),
        (("--seed", "-1"), "--seed must be a whole number >= 0"),
        (("--rtol", "1"), "--rtol must be a finite number >= 0 and below 1"),
        (("--rtol", "1e308"), "--rtol must be a finite number >= 0 and below 1"),
        (("--iterations", str(MAX_STEPS + 1)), f"more than the {MAX_STEPS:,} steps a run can take"),
        (("--mini-batch-size", "1", "--iterations", "5000000"), "80,000,000 steps, more than the 10,000,000"),
        (("--dtype", "float32", "--lr", "1e39"), "--lr 1e+39 is beyond float32's largest number"),
        (("--dtype", "float32", "--lambd", "1e39"), "--lambd 1e+39 is beyond float32's largest number"),
        (("--dtype", "float32", "--optimizer", "adam", "--epsilon", "1e39"), "--epsilon 1e+39 is beyond float32's"),
        (("--dtype", "float32", "--optimizer", "adam", "--lr", "3e38"), "Adam's first step size, lr / (1 - beta1)"),
        (("--optimizer", "adam", "--lr", "1e308"), "Adam's first step size, lr / (1 - beta1) = inf"),
    ],
)
@pytest.mark.end_to_end
def test_options_that_cannot_run_are_one_line(capsys, argv, message):
    iterations = () if "--epochs" in argv or "--iterations" in argv else ("--iterations", "2")
    line = assert_usage_error(*run_cli(capsys, *SMALL, *iterations, *argv))
    assert message in line


@pytest.mark.parametrize(
    "argv",
    [
        ("--mini-batch-size", "8", "--epochs", "3", "--seed", "4294967292"),  # seed + epoch + 1 reaches 2**32 - 1
        ("--init", "torch", "--seed", str(2**63)),
        ("--decay", "inverse", "--decay-rate", "1e307", "--iterations", "6"),  # the rate decays to exactly 0
        ("--decay", "scheduled", "--decay-rate", "1e308", "--decay-interval", "1", "--iterations", "6"),
        ("--lr", "5e-324", "--iterations", "2"),
        ("--lambd", "5e-324", "--iterations", "2"),
        ("--optimizer", "adam", "--epsilon", "5e-324", "--iterations", "2"),
        ("--optimizer", "adam", "--epsilon", "1e308", "--iterations", "2"),
        ("--optimizer", "adam", "--beta2", "0.9999999999999999", "--iterations", "2"),
        ("--optimizer", "momentum", "--beta", "5e-324", "--iterations", "2"),
        ("--iterations", "0"),
        ("--dtype", "float32", "--lr", "3e38", "--iterations", "2"),
        ("--rtol", "5e-324", "--iterations", "2"),
    ],
)
@pytest.mark.end_to_end
def test_options_at_their_limits_run_to_a_report(capsys, argv):
    code, out, err = run_cli(capsys, *SMALL, "--no-gradcheck", *argv)
    assert code in (0, 1)
    assert out.startswith("VERDICT: ") and "Traceback" not in err and "allowed inf" not in out


@pytest.mark.end_to_end
def test_rtol_0_is_exact_agreement(capsys, tmp_path):
    code, out, report = json_report(capsys, tmp_path, *SMALL, "--iterations", "2", "--rtol", "0", "--no-gradcheck")
    assert code in (0, 1) and report["config"]["rtol"] == 0
    floor = 4 * float(np.finfo(np.float64).smallest_subnormal)  # no rtol x scale left: the subnormal steps at most
    forward = next(c for c in report["checks"] if c["name"] == "forward")
    for row in forward["rows"]:
        assert row["tolerance"] <= floor
        assert (row["status"] == "FAIL") == (row["max_abs"] > row["tolerance"])


# --- 5. no raw NumPy warning from the verifier's own computations ---------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("--arch", "1,8,1", "--activations", "relu,linear", "--data", "house", "--examples", "1"),
        ("--arch", "3,4,4,1", "--lambd", "1e308", "--iterations", "3"),
    ],
)
@pytest.mark.end_to_end
def test_no_runtime_warning_reaches_stderr(argv):
    done = subprocess.run(
        [sys.executable, "-m", "verify", *argv, "--no-tensorboard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "RuntimeWarning" not in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.end_to_end
def test_house_with_one_example_is_one_line(capsys):
    line = assert_usage_error(
        *run_cli(
            capsys,
            "--arch",
            "1,8,1",
            "--activations",
            "relu,linear",
            "--data",
            "house",
            "--examples",
            "1",
            "--no-tensorboard",
        )
    )
    assert "give --examples 2 or more" in line


@pytest.mark.parametrize(
    "argv",
    [
        ("--optimizer", "adam", "--epsilon", "5e-324", "--init", "zeros"),
        ("--lr", "1e308"),
        ("--lambd", "1e200"),
    ],
)
@pytest.mark.end_to_end
def test_overflowing_runs_warn_nothing(capsys, argv):
    with np.errstate(all="raise"):  # a NumPy warning the verifier did not expect would raise here
        code, out, err = run_cli(capsys, *SMALL, "--iterations", "3", *argv)
    assert code == 0 and "Traceback" not in err
