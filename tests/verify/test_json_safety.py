"""`--json PATH` is safe: it never replaces an input, never blocks, leaves no stale verdict, is written once
and atomically after the text report, on every outcome; `--json -` keeps stdout for the JSON alone.

Most cases call verify.cli.main in-process; a refusal is checked with the runner replaced by one that
fails the test, so "before any work" is proved, not assumed. One case runs `python -m verify` in a
subprocess, where what a module prints through file descriptor 1 can be seen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import COURSE, REPO, assert_usage_error, fast, run_cli

import verify.cli
import verify.runner
import verify.telling.jsonout

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

BROKEN = REPO / "examples" / "broken_network.py"
FAST = fast(2, 20)
STALE = '{"verdict": "pass"}\n'  # an earlier run's report


@pytest.fixture
def no_run(monkeypatch):
    """The runner replaced by one that fails the test: a refusal must come before any work."""

    def ran(config):
        raise AssertionError("the run started")

    monkeypatch.setattr(verify.runner, "run", ran)


@pytest.fixture
def learner(tmp_path, monkeypatch) -> Path:
    """tmp_path/course/mine.py (the course's network), a helper beside it and data.csv; the working directory."""
    work = tmp_path / "course"
    work.mkdir()
    (work / "mine.py").write_text(COURSE.read_text(encoding="utf-8"), encoding="utf-8")
    (work / "helper.py").write_text("X = 1\n", encoding="utf-8")
    (work / "data.csv").write_text("0.1,0.2,0.3,1\n0.4,0.5,0.6,0\n", encoding="utf-8")
    monkeypatch.chdir(work)
    return work


def refused(capsys, *argv: str) -> str:
    """The one stderr line of a run refused with exit 2 (nothing on stdout, no traceback)."""
    return assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", *FAST, *argv))


def contents(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# ---------------------------------------------------------------- an input is never the report's path


@pytest.mark.parametrize("json_path", ["mine.py", "./mine.py", "../course/mine.py", "link.json"])
def test_the_implementation_under_test_is_refused_however_it_is_reached(capsys, learner, no_run, json_path):
    (learner / "link.json").symlink_to(learner / "mine.py")
    before = contents(learner)
    line = refused(capsys, "--impl", "mine.py", "--json", json_path)
    assert line == (
        f"verify: error: --json {json_path}: that is the implementation under test (--impl), which the "
        "report would replace; give the report its own file, e.g. report.json"
    )
    assert contents(learner) == before  # the code is as it was


def test_a_notebook_under_test_is_refused(capsys, learner, no_run):
    (learner / "mine.ipynb").write_text('{"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    line = refused(capsys, "--impl", "./mine.ipynb", "--json", str(learner / "mine.ipynb"))
    assert "that is the implementation under test (--impl)" in line


@pytest.mark.parametrize("json_path", ["data.csv", "./data.csv", "../course/data.csv", "data-link"])
def test_the_data_file_is_refused_however_it_is_reached(capsys, learner, no_run, json_path):
    (learner / "data-link").symlink_to(learner / "data.csv")
    before = contents(learner)
    line = refused(capsys, "--data", "data.csv", "--json", json_path)
    assert line == (
        f"verify: error: --json {json_path}: that is the --data file, which the report would replace; "
        "give the report its own file, e.g. report.json"
    )
    assert contents(learner) == before


@pytest.mark.parametrize("json_path", ["helper.py", "sub/notes.ipynb", "NEW.PY", "code-link.json"])
def test_a_code_name_is_refused(capsys, learner, no_run, json_path):
    """A helper the implementation may import (any .py or .ipynb, existing or not, or a link to one)."""
    (learner / "sub").mkdir()
    (learner / "code-link.json").symlink_to(learner / "helper.py")
    before = contents(learner)
    line = refused(capsys, "--impl", "mine.py", "--json", json_path)
    assert line == (
        f"verify: error: --json {json_path}: a .py or .ipynb name is code (the implementation or a file "
        "it may import), never the report's; give a .json name, e.g. report.json"
    )
    assert contents(learner) == before


def test_a_named_dataset_is_not_a_file(capsys, learner, monkeypatch):
    """--data flower is built in: a file called flower is not an input and may take the report."""

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(verify.runner, "run", interrupted)
    code, _, _ = run_cli(capsys, "--arch", "2,4,1", "--data", "flower", *FAST, "--json", "flower")
    assert code == 130
    assert json.loads((learner / "flower").read_text())["verdict"] == "interrupted"


# ---------------------------------------------------------------- a path that cannot take the report


def test_unwritable_paths_are_refused_before_any_work(capsys, tmp_path, no_run):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # opened, it would block until a reader came
    cases = {
        "": "verify: error: --json needs a file path (or - for stdout), got ''",
        "/dev/full": "verify: error: --json /dev/full: cannot write there: it is a character device; give a file "
        "path, e.g. report.json",
        str(fifo): f"verify: error: --json {fifo}: cannot write there: it is a FIFO (named pipe); give a file path, "
        "e.g. report.json",
        str(tmp_path): f"verify: error: --json {tmp_path}: cannot write there: it is a folder; give a file path, "
        "e.g. report.json",
        str(tmp_path / "no" / "r.json"): f"verify: error: --json {tmp_path / 'no' / 'r.json'}: cannot write there: "
        f"the folder {tmp_path / 'no'} does not exist",
        # a folder where no file can be created, even by root
        "/proc/report.json": "verify: error: --json /proc/report.json: cannot write there: cannot create a file in "
        "its folder (",
    }
    for path, message in cases.items():
        assert refused(capsys, "--json", path).startswith(message), path
    assert fifo.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json"]  # no probe left behind


def test_a_read_only_file_is_refused(capsys, tmp_path, no_run, monkeypatch):
    path = tmp_path / "ci.json"
    path.write_text(STALE)
    path.chmod(0o444)
    # what access(2) answers a user who is not root (root may write anyway, and is let through)
    monkeypatch.setattr(verify.telling.jsonout.os, "access", lambda p, mode: not (p == str(path) and mode == os.W_OK))
    assert (
        refused(capsys, "--json", str(path))
        == f"verify: error: --json {path}: cannot write there: the file is read-only"
    )
    assert path.read_text() == STALE


def test_a_folder_that_refuses_new_files_is_refused(capsys, tmp_path, no_run, monkeypatch):
    def denied(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(verify.telling.jsonout.tempfile, "mkstemp", denied)
    line = refused(capsys, "--json", str(tmp_path / "r.json"))
    assert (
        line
        == f"verify: error: --json {tmp_path / 'r.json'}: cannot write there: cannot create a file in its folder (Permission denied)"
    )


# ---------------------------------------------------------------- no stale verdict, one atomic write


def test_the_older_report_is_gone_before_the_run_starts(capsys, tmp_path, monkeypatch):
    path = tmp_path / "ci.json"
    path.write_text(STALE)
    seen = []

    def dies(config):  # a run that dies after it started (bad data found mid-way, a crash, a kill)
        seen.append(path.exists())
        raise verify.cli.UsageError("the data file is truncated")

    monkeypatch.setattr(verify.runner, "run", dies)
    code, out, err = run_cli(capsys, "--arch", "3,4,1", *FAST, "--json", str(path))
    assert (code, seen, err) == (2, [False], "verify: error: the data file is truncated\n")
    assert not path.exists()  # no report, rather than an earlier run's


def test_a_symlinked_report_is_written_through_the_link(capsys, tmp_path):
    target, link = tmp_path / "reports" / "latest.json", tmp_path / "ci.json"
    target.parent.mkdir()
    target.write_text(STALE)
    link.symlink_to(target)
    code, _, _ = run_cli(capsys, "--arch", "3,4,1", *FAST, "--json", str(link))
    assert code == 0 and link.is_symlink()
    assert json.loads(target.read_text())["verdict"] == "pass"


def test_the_json_is_written_once_atomically_after_the_text_report(capsys, tmp_path, monkeypatch):
    path = tmp_path / "ci.json"
    path.write_text(STALE)
    events = []
    text_report = verify.cli._print_report
    monkeypatch.setattr(verify.cli, "_print_report", lambda *a: (events.append("text"), text_report(*a)))
    replace = os.replace

    def renamed(source, destination):
        events.append(("rename", os.path.dirname(source), os.path.basename(source), destination))
        assert json.loads(Path(source).read_text())["verdict"] == "pass"  # complete before it gets the name
        replace(source, destination)

    monkeypatch.setattr(verify.telling.jsonout.os, "replace", renamed)
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", *FAST, "--json", str(path))
    assert code == 0 and "VERDICT: PASS" in out
    assert len(events) == 2 and events[0] == "text"
    _, folder, temporary, destination = events[1]
    assert folder == str(tmp_path) and temporary.startswith(".ci.json.") and destination == str(path)
    assert os.listdir(tmp_path) == ["ci.json"]  # no temporary file left
    assert json.loads(path.read_text())["verdict"] == "pass"
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()  # as a plain open() would have made it


def test_a_write_that_fails_leaves_no_part_and_says_so(capsys, tmp_path, monkeypatch):
    path = tmp_path / "ci.json"

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(verify.telling.jsonout.os, "fsync", full)
    code, out, err = run_cli(capsys, "--arch", "3,4,1", *FAST, "--json", str(path))
    assert code == 2 and "VERDICT: PASS" in out  # the text report was printed first
    assert err == f"verify: error: --json {path}: the report could not be written (No space left on device)\n"
    assert os.listdir(tmp_path) == []  # neither a half-written report nor its temporary file


# ---------------------------------------------------------------- every outcome writes it


def test_a_failed_run_writes_its_report(capsys, tmp_path):
    path = tmp_path / "ci.json"
    path.write_text(STALE)
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(BROKEN), *FAST, "--json", str(path))
    report = json.loads(path.read_text())
    assert (code, report["verdict"]) == (1, "fail")
    assert "VERDICT: FAIL" in out


@pytest.mark.parametrize("to_stdout", [False, True], ids=["file", "stdout"])
def test_an_exception_inside_the_verifier_writes_the_verdict_error(capsys, tmp_path, monkeypatch, to_stdout):
    path = tmp_path / "ci.json"
    path.write_text(STALE)

    def crashes(config):
        raise RuntimeError("a bug of the verifier's")

    monkeypatch.setattr(verify.runner, "run", crashes)
    with pytest.raises(RuntimeError, match="a bug of the verifier's"):  # a bug keeps its traceback
        verify.cli.main(["--arch", "3,4,1", *FAST, "--json", "-" if to_stdout else str(path)])
    out = capsys.readouterr().out
    report = json.loads(out if to_stdout else path.read_text())
    assert report["verdict"] == "error"
    assert report["error"] == "RuntimeError: a bug of the verifier's"
    assert report["checks"] == [] and report["first_divergence"] is None


@pytest.mark.parametrize("to_stdout", [False, True], ids=["file", "stdout"])
def test_ctrl_c_before_the_report_writes_the_verdict_interrupted(capsys, tmp_path, monkeypatch, to_stdout):
    path = tmp_path / "ci.json"
    path.write_text(STALE)

    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(verify.runner, "run", interrupted)
    code, out, err = run_cli(capsys, "--arch", "3,4,1", *FAST, "--json", "-" if to_stdout else str(path))
    report = json.loads(out if to_stdout else path.read_text())
    assert code == 130 and "Traceback" not in err
    assert report["verdict"] == "interrupted"
    assert report["error"] == "INTERRUPTED by Ctrl-C while starting; nothing had been checked yet"
    assert report["interrupted"] == {"signal": "Ctrl-C", "exit_status": 130, "phase": "", "iterations": None}


# ---------------------------------------------------------------- --json -: stdout is the JSON's alone

LOUD = "import os\nprint('hello at import')\nos.write(1, b'written to fd 1\\n')\n"


def test_what_a_module_prints_at_import_goes_to_stderr_loaded_by_path(capsys, tmp_path):
    path = tmp_path / "loud.py"
    path.write_text("print('hello at import')\n" + COURSE.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST, "--json", "-")
    assert code == 0 and json.loads(out)["verdict"] == "pass"  # the whole of stdout is the JSON
    assert "hello at import" in err


def test_what_a_module_prints_at_import_goes_to_stderr_imported_by_name(tmp_path):
    """A real process: what reaches file descriptor 1 directly (os.write, C code) goes to stderr too."""
    (tmp_path / "loud_module.py").write_text(LOUD + COURSE.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "verify", "--impl", "loud_module", "--arch", "3,4,1", *FAST, "--json", "-"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "pass"
    assert "hello at import\n" in result.stderr and "written to fd 1\n" in result.stderr


def test_a_sys_exit_escaping_the_run_leaves_the_verdict_error_not_an_older_pass(capsys, tmp_path, monkeypatch):
    path = tmp_path / "ci.json"
    path.write_text(STALE)

    def exits(config):  # what a learner's sys.exit(0) would be, were it to get past the checks
        raise SystemExit(0)

    monkeypatch.setattr(verify.runner, "run", exits)
    with pytest.raises(SystemExit):
        verify.cli.main(["--arch", "3,4,1", *FAST, "--json", str(path)])
    report = json.loads(path.read_text())
    assert (report["verdict"], report["error"]) == ("error", "SystemExit: 0")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
