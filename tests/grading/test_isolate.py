"""Each submission runs in a process of its own (verify/grading/isolate.py): whatever it does (loop, sleep, exhaust
memory, fork, exit early, crash, flood its output) costs that submission its grade with the reason, never the run;
a course notebook passes and a slip fails with its fix line, graded in a private copy of its folder."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

import pytest

from verify.grading import isolate, warm
from verify.grading.submissions import find

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
RNN = ROOT / "examples" / "rnn"
NOTEBOOK = RNN / "Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb"
OPTIONS = ["--arch", "3,4,1", "--iterations", "3"]
TIGHT = isolate.Limits(wall=6, memory=2**30, processes=48)

HOSTILE = {  # what the submission's code does when it is loaded, and the reason its grade says
    "loop": ("while True:\n    pass\n", "timed out after 6 s"),
    "sleep": ("import time\ntime.sleep(1000)\n", "timed out after 6 s"),
    "exit": ("import os\nos._exit(0)\n", "ended with status 0"),
    "crash": ("import ctypes\nctypes.string_at(0)\n", "crashed (SIGSEGV)"),
    "prints": ('chunk = "x" * 10**6\nfor _ in range(100):\n    print(chunk)\n', "stopped at its output limit (10 MiB"),
    "memory": ("hog = []\nwhile True:\n    hog.append(bytearray(10**8))\n", "importing it raised MemoryError"),
    "fork": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", "timed out"),
}


def _session_members(pid: int) -> int:
    """Processes still in the session `pid` led."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == pid:
                    count += 1
            except OSError:
                continue
    return count


@pytest.mark.parametrize(
    "kind, server",
    [(kind, True) for kind in HOSTILE] + [(kind, False) for kind in ("loop", "exit", "crash", "prints", "memory")],
)
def test_a_hostile_submission_costs_its_own_grade_with_the_reason(tmp_path, monkeypatch, kind, server):
    """Forked from the warm server (warm.py), and started as a fresh interpreter where a process may not fork
    children (a daemonic Dask worker)."""
    monkeypatch.setattr(warm, "available", lambda: server)
    code, reason = HOSTILE[kind]
    (tmp_path / f"{kind}.py").write_text(code)
    (submission,) = find([str(tmp_path / f"{kind}.py")])
    started = time.perf_counter()
    graded = isolate.grade(submission, OPTIONS, TIGHT)
    assert graded.verdict == "error" and reason in (graded.error or ""), graded.error
    assert time.perf_counter() - started < TIGHT.wall + 8  # killed on its limit, the fork bomb's children too
    assert not isolate._RUNNING


def test_the_course_notebook_passes_and_a_slip_fails_with_its_fix_line(tmp_path):
    text = NOTEBOOK.read_text()
    old = "rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])"
    assert text.count(old) == 1
    (tmp_path / "my_rnn.ipynb").write_text(text.replace(old, "rnn_cell_backward(da[:, :, t], caches[t])"))
    for helper in ("rnn_utils.py", "public_tests.py"):
        (tmp_path / helper).write_text((RNN / helper).read_text())
    good, slip = find([str(NOTEBOOK), str(tmp_path / "my_rnn.ipynb")])
    assert {p.name for p in slip.helpers} == {"rnn_utils.py", "public_tests.py"}
    passed = isolate.grade(good, ["--iterations", "3"], isolate.Limits(wall=60))
    assert passed.verdict == "pass" and passed.error is None and passed.feedback.startswith("## Verdict: PASS")
    assert passed.functions["rnn_backward"] == "ok" and passed.report["verdict"] == "pass"
    failed = isolate.grade(slip, ["--iterations", "3"], isolate.Limits(wall=60))
    assert failed.verdict == "fail" and list(failed.slips) == ["rnn_backward"]
    assert failed.slips["rnn_backward"].startswith("fix `rnn_backward`: its dx differs (da_prev is not carried")
    assert failed.first_divergence.startswith("first divergence: backward")
    assert json.dumps(failed.report)  # the whole report, as plain data


def test_it_runs_in_a_private_copy_with_a_scrubbed_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "s3cret")
    probe = (
        "import os\n"
        "raise SystemExit(f\"cwd={os.getcwd()} files={sorted(os.listdir('.'))} "
        "secret={'GRADER_SECRET' in os.environ} threads={os.environ.get('OMP_NUM_THREADS')}\")\n"
    )
    (tmp_path / "probe.py").write_text(probe)
    (tmp_path / "helper.py").write_text("X = 1\n")
    (submission,) = find([str(tmp_path / "probe.py")])
    graded = isolate.grade(submission, OPTIONS, TIGHT)
    cwd = re.search(r"cwd=(\S+) ", graded.error or "")[1]
    assert cwd != str(tmp_path) and cwd.startswith(tempfile.gettempdir()) and not Path(cwd).exists()
    assert "files=['helper.py', 'output.txt', 'probe.py']" in graded.error  # its folder's files, copied
    assert "secret=False threads=1" in graded.error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["helper.py", "probe.py"]  # nothing written beside it


def test_a_child_whose_fork_server_dies_is_graded_again_in_a_fresh_interpreter(tmp_path):
    """The server killed while a submission runs (its child dies with it): that submission is run once more,
    started afresh, and gets its true verdict."""
    import multiprocessing.forkserver
    import signal
    import threading

    code = (ROOT / "examples" / "course_network.py").read_text()
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(3)\n" + code)
    (submission,) = find([str(tmp_path / "slow.py")])
    warm._server()  # started, so that its pid is known
    server = multiprocessing.forkserver._forkserver._forkserver_pid
    threading.Timer(1.5, os.kill, (server, signal.SIGKILL)).start()
    graded = isolate.grade(submission, ["--arch", "3,4,4,1", "--iterations", "3"], isolate.Limits(wall=60))
    assert graded.verdict == "pass", graded.error


def test_a_long_last_line_is_cut_at_a_word_and_says_so(tmp_path):
    output = tmp_path / "output.txt"
    words = " ".join(f"word{i}" for i in range(400))  # within the 4 KiB read
    output.write_text(f"a first line\nverify: error: {words}\n")
    line = isolate._last_line(output)
    assert len(line) <= isolate.LINE_CHARS + 4 and line.endswith(" ...")
    assert line.removesuffix(" ...") == ("verify: error: " + words)[: len(line) - 4]  # whole words only
    assert line.removesuffix(" ...").split(" ")[-1] in words.split(" ")
    output.write_text("verify: error: short\n")
    assert isolate._last_line(output) == "verify: error: short"


def test_printing_to_its_limit_from_a_checked_function_is_an_error_not_a_slip(tmp_path):
    """The flood comes from sigmoid while the checks call it: the write that meets the file-size limit fails inside
    the learner's function, which would read as its slip (a FAIL with partial credit); its grade is the limit's."""
    course = (ROOT / "examples" / "course_network.py").read_text()
    flooding = course.replace("def sigmoid(Z):\n", 'def sigmoid(Z):\n    print("x" * 10**6)\n', 1)
    assert flooding != course
    (tmp_path / "floods.py").write_text(flooding)
    (submission,) = find([str(tmp_path / "floods.py")])
    graded = isolate.grade(submission, OPTIONS, isolate.Limits(wall=60))
    assert (graded.verdict, graded.error) == ("error", "stopped at its output limit (10 MiB printed)")
