"""`python -m verify grade`: a folder of submissions graded into one gradebook and its exports; bad usage is one
line and exit 2; a rerun skips what is graded (--regrade does not); a grader killed midway loses nothing it
recorded, and the same command resumes."""

from __future__ import annotations

import csv
import fcntl
import os
import pty
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from grading_runs import grade_command

from verify.cli import main
from verify.grading.cli import split_options

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
CLASS = ROOT / "examples" / "class"
QUICK = ["--arch", "3,4,4,1", "--iterations", "5"]


def _class(tmp_path: Path, names=("alice", "bob", "carol")) -> Path:
    folder = tmp_path / "class"
    for name in names:
        shutil.copytree(CLASS / name, folder / name)
    return folder


_grade = grade_command


@pytest.mark.parametrize(
    "argv, says",
    [
        (["class", "--impl", "x.py"], "--impl is set by the grader for each submission"),
        (["class", "--iterations", "many"], "a single run's option is wrong"),
        (["class", "--workers", "0"], "--workers at least 1"),
        (["class", "--timeout", "nan"], "--timeout must be above 0 and below 604800 s"),
        (["class", "--timeout", "inf"], "--timeout must be above 0 and below 604800 s"),
        (["class", "--lr", "-1"], "a single run's option is wrong: --lr must be a positive finite number"),
        (["class", "--arch", "3,,1"], "a single run's option is wrong: --arch '3,,1' has an empty item"),
        (["class", "--csv", "class/alice/week4.ipynb"], "that is a submission, which the CSV would replace"),
        (["class", "--csv", "grades/gradebook.sqlite"], "that is the gradebook, which the CSV would replace"),
        (["class", "--csv", "class"], "--csv class: cannot write there: it is a folder"),
        (["class", "--csv", "nowhere/grades.csv"], "the folder nowhere does not exist"),
        (["class", "--out", "class/alice/week4.ipynb"], "it is a file; give the folder the grades go to"),
        (["nowhere"], "nowhere: no notebook (.ipynb) or .py file to grade there"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, says):
    _class(tmp_path, ("alice",))
    monkeypatch.chdir(tmp_path)
    assert main(["grade", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert not (tmp_path / "grades" / "gradebook.sqlite").exists()
    assert (tmp_path / "class" / "alice" / "week4.ipynb").read_bytes() == (CLASS / "alice" / "week4.ipynb").read_bytes()


def test_a_class_is_graded_exported_and_a_rerun_skips_what_is_graded(tmp_path):
    _class(tmp_path)
    first = _grade(tmp_path, "class", *QUICK)
    assert first.returncode == 1, first.stderr  # bob and carol fail
    assert "grading 3 of 3 submissions (0 already graded)" in first.stderr
    with open(tmp_path / "grades" / "grades.csv", newline="") as table:
        rows = {row["file"]: row for row in csv.DictReader(table)}
    assert {Path(f).parts[1]: row["verdict"] for f, row in rows.items()} == {
        "alice": "pass",
        "bob": "fail",
        "carol": "fail",
    }
    bob = rows[str(Path("class", "bob", "week4.ipynb"))]
    assert bob["relu_backward"] == "0" and bob["sigmoid"] == "1" and bob["total"] == "9"
    feedback = sorted(p.name for p in (tmp_path / "grades" / "feedback").iterdir())
    assert len(feedback) == 3 and all(name.endswith(".md") for name in feedback)
    summary = (tmp_path / "grades" / "summary.md").read_text()
    assert "| `relu_backward` | 3 | 2 | 67% |" in summary and (tmp_path / "grades" / "summary.svg").is_file()
    again = _grade(tmp_path, "class", "--iterations", "5", "--arch", "3,4,4,1")  # the same options, in another order
    assert "grading 0 of 3 submissions (3 already graded)" in again.stderr and again.returncode == 1
    other = _grade(tmp_path, "class/alice", "--arch", "3,4,4,1", "--iterations", "6")  # graded with other options
    assert "grading 1 of 1 submissions (0 already graded)" in other.stderr and other.returncode == 0
    regrade = _grade(tmp_path, "class", *QUICK, "--regrade", "--workers", "1")
    assert "grading 3 of 3 submissions (0 already graded)" in regrade.stderr


def _grader(tmp_path: Path, *argv: str) -> subprocess.Popen:
    """The grader in a process of its own, its temporary folders (each submission's) under tmp_path/tmp."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "verify", "grade", *argv],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp_path / "tmp")},
        stderr=subprocess.PIPE,
        text=True,
    )


def _running_in(folder: Path) -> list[int]:
    """The processes whose working folder is inside `folder` (a submission's run works in its own folder)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                pids.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            pass
    return pids


def _none_left_running(folder: Path, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while _running_in(folder) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _running_in(folder)


def test_a_grader_killed_midway_loses_nothing_leaves_nothing_running_and_resumes(tmp_path):
    _class(tmp_path, ("alice", "bob", "carol", "dan"))
    grader = _grader(tmp_path, "class", *QUICK, "--workers", "1")
    book = tmp_path / "grades" / "gradebook.sqlite"
    deadline = time.monotonic() + 120
    while _count(book) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    grader.send_signal(signal.SIGKILL)
    grader.communicate()
    assert _none_left_running(tmp_path)  # its fork server (working in tmp_path) and its children died with it
    recorded = _count(book)
    assert 1 <= recorded < 4
    resumed = _grade(tmp_path, "class", *QUICK)
    assert f"grading {4 - recorded} of 4 submissions ({recorded} already graded)" in resumed.stderr
    with sqlite3.connect(book) as db:
        paths = [path for (path,) in db.execute("SELECT path FROM submissions")]
    assert sorted(paths) == sorted(str(Path("class", n, "week4.ipynb")) for n in ("alice", "bob", "carol", "dan"))


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="reads the processes' folders in /proc")
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_a_grader_stopped_midway_leaves_no_submission_running(tmp_path, stop):
    """A submission that loops forever, the grader stopped while it runs: with SIGTERM one line, 128 + 15, the
    temporary folders removed; even with SIGKILL (no cleanup can run) neither its fork server nor the submission's
    processes outlive it: they die with it."""
    _class(tmp_path, ("alice",))
    looping = (
        (CLASS / "alice" / "week4.ipynb")
        .read_text()
        .replace("def sigmoid(Z):", "def sigmoid(Z):\\n    while True: pass")
    )
    assert "while True" in looping
    (tmp_path / "class" / "loops").mkdir()
    (tmp_path / "class" / "loops" / "week4.ipynb").write_text(looping)
    grader = _grader(tmp_path, "class", *QUICK, "--workers", "2", "--timeout", "120")
    book = tmp_path / "grades" / "gradebook.sqlite"
    deadline = time.monotonic() + 120
    while _count(book) < 1 and time.monotonic() < deadline:  # alice graded; the loop runs on
        time.sleep(0.05)
    assert _running_in(tmp_path / "tmp")
    grader.send_signal(stop)
    _, err = grader.communicate(timeout=60)
    assert _none_left_running(tmp_path)  # the grader's fork server works in tmp_path, the submissions in tmp/
    assert _count(book) == 1
    if stop == signal.SIGKILL:
        assert grader.returncode == -signal.SIGKILL
        return
    assert grader.returncode == 128 + signal.SIGTERM, err
    assert (
        err.splitlines()[-1] == "interrupted: what was graded is in the gradebook; run the same command again to go on"
    )
    assert list((tmp_path / "tmp").glob("verify-grade-*")) == []


def _count(book: Path) -> int:
    if not book.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{book}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_on_a_terminal_a_progress_bar_counts_the_submissions(tmp_path):
    """tqdm draws its bar when stderr is a terminal (a pseudo-terminal of the test's own here), with the counts of
    each verdict beside it; in a log (the tests above) only the lines are written."""
    _class(tmp_path, ("alice", "bob"))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 columns wide
    grader = subprocess.Popen(
        [sys.executable, "-m", "verify", "grade", "class", *QUICK, "--workers", "1"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the grader has closed the terminal's other end
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert grader.wait(timeout=120) == 1
    text = seen.decode("utf-8", "replace")
    assert "1/2 [" in text and "2/2 [" in text and "submission/s" in text
    assert "pass=1" in text and "fail=1" in text


@pytest.mark.parametrize(
    "argv, own, passed",
    [
        (["--arch", "3,4,4,1", "class"], ["class"], ["--arch", "3,4,4,1"]),
        (["a", "--arch", "3,4,4,1", "b", "--workers", "1"], ["a", "b", "--workers", "1"], ["--arch", "3,4,4,1"]),
        (["a", "--iterations=5", "--no-gradcheck", "b"], ["a", "b"], ["--iterations=5", "--no-gradcheck"]),
    ],
)
def test_the_single_runs_options_take_their_values_wherever_they_stand(argv, own, passed):
    assert split_options(argv) == (own, passed)
