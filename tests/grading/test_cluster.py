"""Grading through a Dask cluster (`--scheduler`): a real LocalCluster of two worker processes grades a class, one
worker killed with SIGKILL midway; its task goes to another worker and every submission is in the gradebook once,
with its true verdict. The single run never imports dask."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster
from grading_runs import grade_command

pytestmark = [pytest.mark.end_to_end, pytest.mark.filterwarnings("ignore")]  # distributed's own, at shutdown

ROOT = Path(__file__).resolve().parents[2]
CLASS = ROOT / "examples" / "class"
NAMES = {"alice": "alice", "bob": "bob", "carol": "carol", "dan": "dan", "erin": "alice", "frank": "bob"}
VERDICTS = {"alice": "pass", "bob": "fail", "carol": "fail", "dan": "pass", "erin": "pass", "frank": "fail"}


def _count(book: Path) -> int:
    try:
        with sqlite3.connect(f"file:{book}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM submissions").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("daemon", [True, False])
def test_a_class_graded_on_a_cluster_survives_a_killed_worker(tmp_path, monkeypatch, daemon):
    """Daemonic workers (Dask's default) start a fresh interpreter per submission; others fork each from a server
    that imported torch once per worker (warm.py). The workers' temporary folders go under tmp_path: the killed
    worker's submission folder has nobody left to remove it."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # read by the workers this test starts
    for name, source in NAMES.items():
        shutil.copytree(CLASS / source, tmp_path / "class" / name)
    with (
        dask.config.set({"distributed.worker.daemon": daemon}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
    ):
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            grader = subprocess.Popen(
                [sys.executable, "-m", "verify", "grade", "class", "--arch", "3,4,4,1", "--iterations", "5"]
                + ["--scheduler", cluster.scheduler_address],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stderr=subprocess.PIPE,
                text=True,
            )
            book, deadline = tmp_path / "grades" / "gradebook.sqlite", time.monotonic() + 120
            while _count(book) < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(pids[0], signal.SIGKILL)  # midway: its running task goes to the other worker
            _, err = grader.communicate(timeout=300)
    assert grader.returncode == 1, err  # three fail
    assert 1 <= _count(book) and "6 submissions: 3 pass, 3 fail, 0 error" in err
    with sqlite3.connect(book) as db:
        rows = dict(db.execute("SELECT path, verdict FROM submissions"))
    assert rows == {str(Path("class", name, "week4.ipynb")): verdict for name, verdict in VERDICTS.items()}


def test_a_single_run_never_imports_dask(tmp_path):
    probe = (
        "import sys\nfrom verify.cli import main\n"
        "code = main(['--arch', '3,4,1', '--iterations', '2', '-q', '--no-tensorboard'])\n"
        "assert code == 0 and not any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules), code\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_no_scheduler_at_the_address_is_one_line_and_exit_2(tmp_path):
    shutil.copytree(CLASS / "alice", tmp_path / "class" / "alice")
    result = grade_command(tmp_path, "class", "--arch", "3,4,4,1", "--scheduler", "tcp://127.0.0.1:9", timeout=120)
    assert result.returncode == 2 and "no Dask scheduler answers there" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("verify grade: error: --scheduler tcp://127.0.0.1:9")
