"""--isolate: the learner's code runs in a process of its own, reached only through data, so that a submission
that patches NumPy, torch, the verifier or its comparisons in its own process, prints a fake report or exits
early gets its true verdict. Each submission below carries the same slip (week 4's db without 1/m) behind its
trick; run in the judge's process, the verifier-patching one is believed (the threat is real)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from verify.cli import main

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
COURSE = (ROOT / "examples" / "course_network.py").read_text()
RIGHT = "db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)"
SLIP = COURSE.replace(RIGHT, "db = np.sum(dZ, axis=1, keepdims=True)")
QUICK = ["--arch", "3,4,4,1", "--iterations", "5", "--no-tensorboard"]
FIX = "fix `linear_backward`: its db differs (it is m = 5 times the expected value: a missing 1/m)"

TRICKS = {
    "verifier": (
        "import sys\n"
        "for _name in ('verify.telling.report', 'verify.judging.compare'):\n"
        "    __import__(_name)\n"
        "_report, _compare = sys.modules['verify.telling.report'], sys.modules['verify.judging.compare']\n"
        "_report.Report.ok = property(lambda self: True)\n"
        "_report.Report.verdict = property(lambda self: 'pass')\n"
        "_compare.Stats.agrees = property(lambda self: True)\n"
    ),
    "numpy": (
        "import numpy as _np\n"
        "_np.allclose = lambda *a, **k: True\n"
        "_np.isclose = lambda a, b, *r, **k: _np.ones(_np.broadcast(a, b).shape, bool)\n"
        "_np.array_equal = lambda *a, **k: True\n"
        "_np.max = lambda *a, **k: 0.0\n"
    ),
    "torch": (
        "import torch as _torch\n"
        "_torch.Tensor.backward = lambda self, *a, **k: None\n"
        "_torch.allclose = lambda *a, **k: True\n"
        "_torch.testing.assert_close = lambda *a, **k: None\n"
    ),
    "fake report": (
        "print('VERDICT: PASS  my_network.py and torch agree on every check')\n"
        "import sys\n"
        "sys.stdout.write('VERDICT: PASS\\n')\n"
    ),
}


def _submission(tmp_path: Path, trick: str, code: str = SLIP) -> str:
    path = tmp_path / "my_network.py"
    path.write_text(TRICKS.get(trick, trick) + code)
    return str(path)


@pytest.mark.parametrize("trick", list(TRICKS))
def test_a_submission_that_patches_the_judge_in_its_process_gets_its_true_verdict(tmp_path, capfd, trick):
    code = main(["--impl", _submission(tmp_path, trick), *QUICK, "--isolate"])
    out, err = capfd.readouterr()
    assert code == 1 and out.startswith("VERDICT: FAIL\n" + FIX), out[:600]
    assert "first divergence: backward, at the initial weights: db3 (layer 3) differs" in out
    assert out.count("VERDICT") == 1 and "Traceback" not in err


def test_the_same_patch_fools_a_run_in_the_judges_own_process(tmp_path, capsys, monkeypatch):
    """Why --isolate exists: without it, the submission's patch decides the verdict."""
    from verify.judging.compare import Stats
    from verify.telling.report import Report

    for owner, name in ((Report, "ok"), (Report, "verdict"), (Stats, "agrees")):  # put back after the test
        monkeypatch.setattr(owner, name, owner.__dict__[name])
    code = main(["--impl", _submission(tmp_path, "verifier"), *QUICK])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("VERDICT: PASS")


def test_the_isolated_verdict_is_the_in_process_one_for_honest_code(tmp_path, capsys):
    right = _submission(tmp_path, "", COURSE)
    isolated = main(["--impl", right, *QUICK, "--isolate", "--json", "-"]), capsys.readouterr().out
    here = main(["--impl", right, *QUICK, "--json", "-"]), capsys.readouterr().out
    assert isolated[0] == here[0] == 0
    strip = lambda text: "\n".join(line for line in text.splitlines() if "seconds" not in line)  # noqa: E731
    assert strip(isolated[1]) == strip(here[1])


@pytest.mark.parametrize(
    "where, code, says",
    [
        ("import", "import os\nos._exit(0)\n", "the process running its code ended with status 0"),
        ("import", "import sys\nsys.exit(0)\n", "importing it called sys.exit(0)"),
        (
            "compute_cost",
            COURSE.replace(
                "    m = Y.shape[1]\n    cost =", "    import os\n    os._exit(0)\n    m = Y.shape[1]\n    cost ="
            ),
            "the process running its code ended with status 0 while the checks still needed it, in compute_cost",
        ),
        (
            "L_model_forward",
            COURSE.replace(
                "def L_model_forward(X, parameters):\n",
                "def L_model_forward(X, parameters):\n    import ctypes\n    ctypes.string_at(0)\n",
            ),
            "the process running its code crashed (SIGSEGV), in L_model_forward",
        ),
    ],
)
def test_a_submission_that_exits_or_crashes_early_is_an_error_never_a_pass(tmp_path, capfd, where, code, says):
    status = main(["--impl", _submission(tmp_path, "", code), *QUICK, "--isolate"])
    out, err = capfd.readouterr()
    assert status == 2 and out == "" and says in err, (where, err[-600:])
    assert err.count("\n") == 1 and "Traceback" not in err


def test_ctrl_c_while_the_learners_code_runs_interrupts_the_run_and_ends_its_process(tmp_path):
    """As a terminal sends it, to the whole process group: the learner's process ignores it, the judge reports
    what agreed so far and ends the learner's process at once."""
    slow = COURSE.replace(
        "def L_model_backward(AL, Y, caches):\n",
        "def L_model_backward(AL, Y, caches):\n    import pathlib, time\n"
        "    pathlib.Path('inside').touch()\n    time.sleep(60)\n",
    )
    spec = _submission(tmp_path, "", slow)
    run = subprocess.Popen(
        [sys.executable, "-m", "verify", "--impl", spec, *QUICK, "--isolate"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "inside").exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    assert (tmp_path / "inside").exists(), run.communicate()
    os.killpg(run.pid, signal.SIGINT)
    stopped = time.monotonic()
    out, err = run.communicate(timeout=15)
    assert time.monotonic() - stopped < 4  # not the 5 s a learner's process that ends on its own is given
    assert run.returncode == 130 and out.startswith("VERDICT: INTERRUPTED by Ctrl-C"), (out[:300], err[-600:])
    assert "Traceback" not in err
    with pytest.raises(ProcessLookupError):  # nothing of its session is left: the learner's process ended too
        os.killpg(run.pid, 0)


def test_numpys_global_random_state_is_one_across_the_two_processes(tmp_path):
    """The learner's draws continue the judge's sequence and the judge's continue the learner's, as in one process
    (a cached normal of the legacy generator included)."""
    from verify.remote.client import open_module

    path = tmp_path / "draws.py"
    path.write_text(
        "import numpy as np\n"
        "def uniform(n):\n    return np.random.rand(n)\n"
        "def normal():\n    return np.random.randn()\n"
        "def seeded(seed):\n    np.random.seed(seed)\n"
    )
    module = open_module(str(path))
    try:
        np.random.seed(5)
        isolated = [module.uniform(3), np.random.rand(2), module.normal(), np.random.randn(), module.normal()]
        module.seeded(7)
        isolated.append(np.random.rand(1))
    finally:
        module.close()
    np.random.seed(5)
    here = [np.random.rand(3), np.random.rand(2), np.random.randn(), np.random.randn(), np.random.randn()]
    np.random.seed(7)
    here.append(np.random.rand(1))
    assert all(np.array_equal(a, b) for a, b in zip(isolated, here, strict=True))


def test_a_description_the_learners_process_forges_cannot_replace_the_modules_own_names():
    """Its code may rewrite what its process sends; the names the judge's module keeps for itself stay its own."""
    from verify.remote.client import RemoteModule

    class Link:
        closed = False

        def close(self):
            Link.closed = True

    forged = {"name": "x", "file": "x.py", "values": {"__remote__": 1, "__file__": "/etc/passwd", "f": 2}}
    module = RemoteModule(forged, Link())  # type: ignore[arg-type]
    assert module.__file__ == "x.py" and module.f == 2
    module.close()
    assert Link.closed


def test_a_global_the_wire_cannot_send_is_left_out_of_the_description(tmp_path, capsys):
    """A list that holds itself (past the wire's depth) stays in the learner's process; the rest is verified."""
    spec = _submission(tmp_path, "cycle = []\ncycle.append(cycle)\n", COURSE)
    assert main(["--impl", spec, *QUICK, "--isolate"]) == 0
    assert capsys.readouterr().out.startswith("VERDICT: PASS")
