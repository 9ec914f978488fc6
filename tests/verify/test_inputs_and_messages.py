"""Input files, run names, error messages and long runs: each case one clear line and exit 2, or a run that says
what it is doing. Runs are in-process through verify.cli.main, tiny and without TensorBoard unless it is the point."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import COURSE, assert_usage_error, fast, run_cli, run_json

import verify.telling.progress
from verify.cli import build_parser
from verify.errors import UsageError

FAST = fast(2, 20, "--no-gradcheck")


def usage_line(capsys, *argv: str) -> str:
    """Exit 2, nothing on stdout, one `verify: error: ...` line on stderr; returns that line."""
    return assert_usage_error(*run_cli(capsys, *argv))


# ---------------------------------------------------------------- values starting with '-'


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--arch", "-1,4"], "--arch '-1,4': every size must be at least 1"),
        (["--arch", "2,1", "--lr", "-inf"], "--lr must be a positive finite number, got -inf"),
        (["--arch", "2,1", "--lr", "-0.5"], "--lr must be a positive finite number, got -0.5"),
        (
            ["--arch", "2,1", "--iter", "-3"],
            "--iterations must be a whole number >= 0, got -3",
        ),  # a prefix of --iterations
        (["--arch", "2,1", "--keep-prob", "-0.5"], "--keep-prob values must be in (0, 1], got -0.5"),
        (["--arch", "2,1", "--data", "-x.csv"], "--data -x.csv: no such file"),
    ],
)
@pytest.mark.end_to_end
def test_a_value_starting_with_a_dash_reaches_its_own_check(capsys, argv, expected):
    assert usage_line(capsys, *argv, "--no-tensorboard") == f"verify: error: {expected}"


def test_an_option_after_an_option_is_still_an_option():
    """`--arch --lr 0.1` forgot the sizes: --lr is not taken as them, and -q after --name stays the quiet flag."""
    parser = build_parser()
    with pytest.raises(UsageError, match="argument --arch: expected one argument"):
        parser.parse_args(["--arch", "--lr", "0.1"])
    args = parser.parse_args(["--arch", "3,1", "--name", "x", "-q", "--lr", "-2"])
    assert (args.arch, args.name, args.quiet, args.lr) == ("3,1", "x", True, -2.0)


# ---------------------------------------------------------------- messages


@pytest.mark.end_to_end
def test_control_characters_in_a_value_are_escaped_in_the_message(capsys):
    line = usage_line(capsys, "--arch", "3,\x00x\n\x1b[31m,1", *FAST)
    assert (
        line
        == r"verify: error: --arch '3,\x00x\n\x1b[31m,1': '\x00x\n\x1b[31m' is not a whole number; give layer sizes like 3,4,4,1"
    )
    line = usage_line(capsys, "--arch", "2,1", "--data", "a\x07\tb.csv", *FAST)
    assert line == r"verify: error: --data a\x07\tb.csv: no such file"


@pytest.mark.end_to_end
def test_a_file_name_that_is_not_utf8_is_shown_escaped(capsys, tmp_path):
    missing = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffname.py")  # '\udcff': surrogateescape
    line = usage_line(capsys, "--arch", "3,4,1", "--impl", missing, *FAST)
    assert "bad\\udcffname.py" in line
    assert "\udcff" not in line


# ---------------------------------------------------------------- --data files


def test_an_excel_csv_with_a_byte_order_mark_is_read(tmp_path):
    from verify.data import read_file

    rows = "x1,x2,y\n1.5,2,1\n3,4,0\n"
    for name, text in (
        ("plain.csv", rows),
        ("excel.csv", "\ufeff" + rows),
        ("excel_no_header.csv", "\ufeff" + rows[8:]),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        X, Y = read_file(str(tmp_path / name), (2, 1))
        assert X.tolist() == [[1.5, 3.0], [2.0, 4.0]], name
        assert Y.tolist() == [[1.0, 0.0]], name


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.end_to_end
def test_a_named_pipe_for_data_is_refused_at_once(capsys, tmp_path):
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)  # no writer: opening it to read would block for ever
    line = usage_line(capsys, "--arch", "2,1", "--data", str(fifo), *FAST)
    assert line == f"verify: error: --data {fifo} is a named pipe (FIFO), not a file; give a .npz or .csv file"


def _npy_header(shape, descr="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def test_an_npz_declaring_a_huge_shape_is_refused_from_its_header(tmp_path, monkeypatch):
    """X.npy's header says (2, 1.5e12) float64, 21.8 TiB; the file holds 64 bytes: refused before any allocation
    (an allocation of that size would raise MemoryError, so make any large one fail loudly)."""
    from verify import data

    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", _npy_header((2, 1_500_000_000_000)) + bytes(64))
        archive.writestr("Y.npy", _npy_header((1, 40)) + np.zeros(40).tobytes())
    real_empty = np.empty
    monkeypatch.setattr(
        np,
        "empty",
        lambda shape, *a, **k: pytest.fail("allocated") if np.prod(shape) > 1e9 else real_empty(shape, *a, **k),
    )
    with pytest.raises(UsageError) as raised:
        data.read_file(str(path), (2, 1))
    assert str(raised.value) == (
        f"--data {path}: X.npy declares shape (2, 1500000000000) of float64 (21.8 TiB) "
        "but holds 64 bytes of values; the file is damaged or not what it says"
    )


@pytest.mark.end_to_end
def test_a_huge_npz_is_one_line_through_the_cli(capsys, tmp_path, monkeypatch):
    """Where no memory limit is known (no /proc), the header check still refuses it."""
    import verify.machine

    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", _npy_header((2, 1_500_000_000_000)) + bytes(64))
        archive.writestr("Y.npy", _npy_header((1, 40)) + np.zeros(40).tobytes())
    monkeypatch.setattr(verify.machine, "memory_limits", lambda: [])
    line = usage_line(capsys, "--arch", "2,1", "--data", str(path), *FAST)
    assert "X.npy declares shape (2, 1500000000000) of float64 (21.8 TiB)" in line


# ---------------------------------------------------------------- TensorBoard: names and the disk


@pytest.mark.end_to_end
def test_a_long_name_is_blamed_on_the_name_before_any_check(capsys, tmp_path, monkeypatch):
    import verify.runner

    monkeypatch.setattr(verify.runner, "each_function_checked", lambda *a, **k: pytest.fail("the checks ran"))
    line = usage_line(
        capsys,
        "--arch",
        "3,4,1",
        "--iterations",
        "2",
        "--examples",
        "20",
        "--logdir",
        str(tmp_path),
        "--name",
        "x" * 300,
    )
    limit = os.pathconf(tmp_path, "PC_NAME_MAX") - len("_9999")
    assert line == (
        f"verify: error: --name makes a run folder name of 300 characters ({'x' * 20}...); a folder name may "
        f"have at most {limit} here ({limit + 5}, the file system's limit, less room for a _9999 suffix): "
        "give a shorter --name"
    )
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    assert main_code(["--arch", "3,4,1", "--logdir", str(tmp_path), "--name", "x" * limit, *FAST[1:]]) == 0
    capsys.readouterr()


def main_code(argv: list) -> int:
    from verify.cli import main

    return main(argv)


@pytest.mark.parametrize("failing", ["write", "flush"])
@pytest.mark.end_to_end
def test_a_full_disk_under_logdir_is_one_line(capsys, tmp_path, monkeypatch, failing):
    """ENOSPC where TensorBoard's writer thread writes a record (mid-training), or where it flushes (at close)."""
    import threading

    from tensorboard.summary.writer.record_writer import RecordWriter

    def full(self, *args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(RecordWriter, failing, full)
    hook = threading.excepthook
    line = usage_line(
        capsys, "--arch", "3,4,1", "--iterations", "3", "--examples", "20", "--no-gradcheck", "--logdir", str(tmp_path)
    )
    assert line == (
        f"verify: error: --logdir {tmp_path}: the TensorBoard logs could not be written to "
        f"{tmp_path / 'scratch_3x4x1'} (No space left on device); make room there, or give --no-tensorboard"
    )
    assert threading.excepthook is hook  # the writer threads' hook is the log's only while it is open


@pytest.mark.end_to_end
def test_a_file_name_that_is_not_utf8_is_logged_to_tensorboard(capsys, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    source = Path(__file__).resolve().parents[2] / "examples" / "course_network.py"
    learner = Path(os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xffname.py"))
    learner.write_bytes(source.read_bytes())
    code, out, err = run_cli(
        capsys,
        "--arch",
        "3,4,1",
        "--impl",
        str(learner),
        "--iterations",
        "2",
        "--examples",
        "20",
        "--no-gradcheck",
        "--logdir",
        str(tmp_path / "runs"),
        "--name",
        "bad",
        "--json",
        "-",
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert json.loads(out)["implementation"] == "bad\udcffname.py"
    events = EventAccumulator(str(tmp_path / "runs" / "bad" / "diff"), size_guidance={"tensors": 0})
    events.Reload()
    (report,) = events.Tensors("report/text_summary")
    assert "bad\\udcffname.py" in report.tensor_proto.string_val[0].decode("utf-8")


@pytest.mark.end_to_end
def test_a_file_name_that_is_not_utf8_is_escaped_in_the_text_report_on_a_strict_stdout(tmp_path):
    source = Path(__file__).resolve().parents[2] / "examples" / "course_network.py"
    learner = os.fsencode(str(tmp_path)) + b"/bad\xffname.py"
    with open(learner, "wb") as f:
        f.write(source.read_bytes())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify",
            "--arch",
            "3,4,1",
            "--impl",
            learner,
            "--iterations",
            "2",
            "--examples",
            "20",
            "--no-gradcheck",
            "--no-tensorboard",
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "bad\\udcffname.py and torch agree on every check" in result.stdout


# ---------------------------------------------------------------- long runs and signs of life


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _plan(steps: int):
    from types import SimpleNamespace

    return SimpleNamespace(steps_total=steps, epochs=steps, batches_per_epoch=1, describe=lambda: f"{steps} iterations")


def _record(index: int):
    from types import SimpleNamespace

    return SimpleNamespace(
        index=index, epoch=index, impl_cost=0.5, torch_cost=0.5, impl_epoch_cost=None, torch_epoch_cost=None
    )


def test_a_mini_batch_runs_first_progress_line_says_no_epoch_has_finished(capsys, monkeypatch):
    """(was: "last epoch's cost scratch nan  torch nan" before the first epoch ended)"""
    from types import SimpleNamespace

    from conftest import tiny

    clock = FakeClock()
    monkeypatch.setattr(verify.telling.progress, "_clock", clock)
    progress = verify.telling.progress.Progress(tiny(progress=True))
    plan = SimpleNamespace(steps_total=4, epochs=2, batches_per_epoch=2, describe=lambda: "2 epochs of 2 mini-batches")
    progress.training(plan, "scratch")
    for index, epoch_cost in ((0, None), (1, 0.25)):
        clock.now += 100.0  # past EVERY: each step's line is printed
        record = SimpleNamespace(
            index=index, epoch=0, impl_cost=0.5, torch_cost=0.5, impl_epoch_cost=epoch_cost, torch_epoch_cost=epoch_cost
        )
        progress.show(record)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("iteration")]
    assert lines == [
        "iteration 1/4 (epoch 1/2)  no epoch finished yet",
        "iteration 2/4 (epoch 1/2)  last epoch's cost scratch 0.25  torch 0.25",
    ]


@pytest.mark.parametrize("steps, warned", [(1_000_000_000, True), (1_000_000, False)])
def test_a_run_longer_than_an_hour_is_announced_with_an_estimate(capsys, monkeypatch, steps, warned):
    """1000 steps in 2.9 s (a fake clock): a billion take 34 days, a warning; a million take 48 minutes, none."""
    from conftest import tiny

    clock = FakeClock()
    monkeypatch.setattr(verify.telling.progress, "_clock", clock)
    progress = verify.telling.progress.Progress(tiny(progress=True))  # not entered: no watcher thread, only these calls
    progress.training(_plan(steps), "scratch")
    clock.now = 0.5
    progress.show(_record(0))  # before MEASURE seconds: no estimate yet
    assert "warning" not in capsys.readouterr().err
    clock.now = 2.9
    progress.show(_record(999))
    clock.now = 100.0
    progress.show(_record(20_000))  # said once, not at every line
    lines = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    expected = [
        "verify: warning: training will take about 34 days (1,000,000,000 iterations at 2.9 ms); Ctrl-C stops "
        "it with a report of what agreed so far"
    ]
    assert lines == (expected if warned else [])


@pytest.mark.end_to_end
def test_the_long_run_warning_reaches_stderr_from_the_cli(capsys, monkeypatch):
    monkeypatch.setattr(verify.telling.progress, "LONG_RUN", 0.0)
    monkeypatch.setattr(verify.telling.progress, "MEASURE", 0.0)
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "-q", *FAST)
    assert code == 0
    assert out.startswith("VERDICT: PASS")
    (line,) = [line for line in err.splitlines() if line.startswith("verify: warning:")]
    assert line.startswith("verify: warning: training will take about ") and "(2 iterations at " in line


@pytest.mark.end_to_end
def test_every_phase_with_a_slow_learner_function_shows_signs_of_life(capsys, monkeypatch, tmp_path):
    """linear_backward sleeps 0.12 s a call: the function checks, the checks at one point, training and the course's
    loops each run longer than STILL (0.05 s here) and each says it is still running."""
    from conftest import variant

    learner = variant(
        tmp_path,
        COURSE,
        (
            "    A_prev, W, b = cache\n    m = A_prev.shape[1]\n",
            "    A_prev, W, b = cache\n    m = A_prev.shape[1]\n    import time; time.sleep(0.12)\n",
        ),
    )
    monkeypatch.setattr(verify.telling.progress, "AFTER", 0.0)
    monkeypatch.setattr(verify.telling.progress, "STILL", 0.05)
    code, out, err = run_cli(
        capsys,
        "--arch",
        "3,4,1",
        "--impl",
        str(learner),
        "-q",
        "--no-tensorboard",
        "--iterations",
        "2",
        "--examples",
        "20",
    )
    assert code == 0, err
    for stage in (
        "checking the course functions one by one",
        "forward and backward at the initial weights and at a kink probe",
        "gradient check: centred differences of the cost",
        "training: 2 iterations at lr 0.1",
        "the course's loop two_layer_model, whole",  # (L_layer_model takes training's steps: loop_driven.py)
    ):
        assert f"{stage}: still running (" in err, stage


@pytest.mark.end_to_end
def test_the_time_before_the_first_stage_is_a_stage_too(capsys, monkeypatch):
    """What runs before the data is loaded (the memory check, the device, the implementation's checks) is named."""
    import time

    import verify.runner

    check_memory = verify.runner.check_memory
    monkeypatch.setattr(verify.runner, "check_memory", lambda config: (time.sleep(0.3), check_memory(config)))
    monkeypatch.setattr(verify.telling.progress, "AFTER", 0.0)
    monkeypatch.setattr(verify.telling.progress, "STILL", 0.1)
    code, _, err = run_cli(capsys, "--arch", "3,4,1", "-q", *FAST)
    assert code == 0
    lines = err.splitlines()
    assert lines[0] == "preparing the run..."
    assert lines[1].startswith("preparing the run: still running (")


def test_a_progress_line_that_cannot_be_printed_does_not_stop_the_run(monkeypatch):
    from conftest import tiny

    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stderr", closed)
    monkeypatch.setattr(verify.telling.progress, "AFTER", 0.0)
    progress = verify.telling.progress.Progress(tiny(progress=True))
    progress.stage("loading x\udcff.py")  # printed escaped; here the stream is closed, and nothing is raised
    assert progress._announced


# ---------------------------------------------------------------- a run with no iterations


@pytest.mark.parametrize("flags", [["--iterations", "0"], ["--epochs", "0", "--mini-batch-size", "8"]])
@pytest.mark.end_to_end
def test_no_iterations_is_not_reported_as_training_that_agreed(capsys, flags):
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", "--no-tensorboard", "--no-gradcheck", "--examples", "20", *flags)
    assert code == 0
    assert (
        out.splitlines()[0] == "VERDICT: PASS  scratch and torch agree on every check; training not run: no iterations"
    )
    for title in (
        "training, lockstep: each step from the same parameters",
        "training, free-running: each side on its own (tolerance follows the dynamics)",
    ):
        at = out.splitlines().index(f"{title}  [not run]")
        assert out.splitlines()[at + 1] == "  not run: no iterations"
    assert "[ok]" in out.split("training, lockstep")[0]  # forward and backward still ran and agreed
    code, report = run_json(capsys, "--arch", "3,4,1", "--no-tensorboard", "--no-gradcheck", "--examples", "20", *flags)
    assert code == 0
    assert [(c["name"], c["status"], c["skipped"]) for c in report["checks"] if c["stage"] == "training"] == [
        ("lockstep", "not run", "no iterations"),
        ("free-running", "not run", "no iterations"),
    ]
