"""One submission graded in a process of its own, so that nothing it does costs another submission or the run.

The submission and its helper files are copied into a private temporary folder, and a child process (child.py,
forked from the warm server of warm.py where this process may fork, else a fresh interpreter) runs the single-run
verifier there with --isolate: it is the judge, and the submission's code runs in a process the judge starts and
reaches only through data (verify/remote), so that nothing the submission patches or prints decides its verdict.
Both run with a scrubbed environment (a minimal PATH, HOME and TMPDIR in that folder, one thread per library) and
limits the judge sets before anything of the submission's is loaded: CPU time, address space, processes, file size
(their output goes to a file in the folder, so a flood of prints stops at the output limit), no core dumps. They
run in a session of their own: on the wall-time limit the whole session is killed. Whatever happens, the folder is
removed and the submission gets a Graded record, its reason in `error` when it has no verdict.

What a process cannot prevent: reading (or writing) whatever the user running the grader can read or write, and
the network. Run the grader inside a container without network, as another user, for code you do not trust
(README, "Grading a class").
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import warm
from .child import FEEDBACK, REPORT, VERDICT
from .records import Graded
from .submissions import Submission

OUTPUT_BYTES = 10 * 2**20  # stdout and stderr together, and any file the run writes
LINE_CHARS = 1500  # of the last line a run printed, as its gradebook entry: a usage error's names the closest API first
LOST = 255  # the status multiprocessing gives a forked child whose fork server is gone
ROOT = Path(__file__).resolve().parents[2]  # the checkout, importable by the child when not installed
_RUNNING: set[Any] = set()  # the children running now, for stop_all
_STOPPING = threading.Event()  # set by stop_all: no child starts after it
_STARTING = threading.Lock()  # held while a child starts and while stop_all runs: none slips between them


@dataclass(frozen=True)
class Limits:
    """What one submission may use: wall seconds, CPU seconds, bytes of address space, processes of this user
    (counted beyond those already running), bytes of any file it writes."""

    wall: float = 60.0
    cpu: float | None = None  # default: the wall time
    memory: int = 4 * 2**30
    processes: int = 256
    output: int = OUTPUT_BYTES


def grade(submission: Submission, options: Sequence[str], limits: Limits) -> Graded:
    """`submission` verified with the single run's `options` in a child process within `limits`."""
    started = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="verify-grade-"))
    try:
        for path in (submission.path, *submission.helpers):
            shutil.copy2(path, folder / path.name)
        outcome = _run(folder, [*options, "--impl", submission.path.name], limits)
        return _graded(submission, folder, outcome, time.perf_counter() - started, limits.output)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, argv: list[str], limits: Limits) -> str | int:
    """The child's exit status, or why it has none ("timed out after 60 s"): forked from the warm server where
    this process may (warm.py), else a fresh interpreter. A forked child whose server vanished under it (status
    255, no report: the server killed, or out of memory) is run once more in a fresh interpreter."""
    child_argv = [*_limit_values(limits), *argv, "--no-tensorboard", "--isolate"]
    outcome = _started(folder, child_argv, limits, forked=warm.available())
    if outcome == LOST and not (folder / REPORT).exists():
        outcome = _started(folder, child_argv, limits, forked=False)
    return outcome


def _started(folder: Path, child_argv: list[str], limits: Limits, forked: bool) -> str | int:
    with _STARTING:
        if _STOPPING.is_set():
            return "not graded: the run was interrupted"
        if forked:
            child: Any = warm.start(str(folder), child_argv, _environment(folder))
        else:
            with open(folder / "output.txt", "wb") as output:
                child = subprocess.Popen(
                    [sys.executable, "-m", "verify.grading.child", *child_argv],
                    cwd=folder,
                    env=_environment(folder),
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        _RUNNING.add(child)
    try:
        return child.wait(timeout=limits.wall)
    except subprocess.TimeoutExpired:
        return f"timed out after {limits.wall:g} s"
    finally:
        _kill_session(child)
        _RUNNING.discard(child)


def stop_all() -> None:
    """Every running child's session killed, and no child started after (Ctrl-C on the grader)."""
    with _STARTING:
        _STOPPING.set()
    for child in list(_RUNNING):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _environment(folder: Path) -> dict[str, str]:
    """A scrubbed environment: nothing of the grader's own but what Python and the verifier need."""
    threads = "1"
    return {
        "PATH": os.defpath,
        "HOME": str(folder),
        "TMPDIR": str(folder),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "MPLBACKEND": "Agg",
    }


def _limit_values(limits: Limits) -> list[str]:
    """The child's limits, as child.main reads them: CPU seconds, address space, processes, file size."""
    cpu = int(limits.cpu if limits.cpu is not None else limits.wall) + 1
    processes = _processes_of_this_user() + limits.processes  # RLIMIT_NPROC counts all of this user's
    return [str(value) for value in (cpu, limits.memory, processes, limits.output)]


def _processes_of_this_user() -> int:
    """How many processes and threads this user runs now: RLIMIT_NPROC counts them all, not the child's alone."""
    uid, count = os.getuid(), 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(entry / "task"))
            except OSError:
                continue
    return count


def _kill_session(child: Any) -> None:
    """The child and everything it started in its session killed, again while any is left (a fork bomb forks on
    while the first signal goes round), and the child reaped."""
    for _ in range(100):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            break
        time.sleep(0.02)
    child.wait()


def _graded(submission: Submission, folder: Path, outcome: str | int, seconds: float, output_limit: int) -> Graded:
    """The record of a finished child: its report's verdict, or the reason it has none."""
    base = Graded(path=submission.name, digest=submission.digest, verdict="error", seconds=round(seconds, 3))
    report_file = folder / REPORT
    if _flooded(folder / "output.txt", output_limit):  # (a flood from a graded function fails it as a slip would)
        return replace(base, error=f"stopped at its output limit ({output_limit / 2**20:g} MiB printed)")
    if isinstance(outcome, int) and outcome in (0, 1) and report_file.is_file():
        try:
            report = json.loads(report_file.read_text(encoding="utf-8"))
            feedback = (folder / FEEDBACK).read_text(encoding="utf-8")
            lines = (folder / VERDICT).read_text(encoding="utf-8").splitlines()
        except (OSError, ValueError) as error:
            return replace(base, error=f"its report could not be read ({error})")
        return _from_report(base, report, feedback, lines)
    return replace(base, error=_reason(outcome, folder / "output.txt", output_limit))


def _from_report(base: Graded, report: dict, feedback: str, lines: list[str]) -> Graded:
    """A verdict's record: each function's status, the slip of each that failed (as its fix line says it), the
    first divergence's line."""
    verdict = report.get("verdict")
    if verdict not in ("pass", "fail"):
        return replace(base, error=f"the run ended {verdict}", report=report)
    functions = {f["function"]: f["status"] for f in report.get("functions", [])}
    slips = {
        f["function"]: f"fix `{f['function']}`: its {f['output'] or 'result'} differs ({f['hint'] or f['detail']})"
        for f in report.get("functions", [])
        if f["status"] == "FAIL" and not f.get("follows")
    }
    first = next((line for line in lines if line.startswith("first divergence: ")), None)
    return replace(
        base,
        verdict=verdict,
        functions=functions,
        slips=slips,
        first_divergence=first,
        feedback=feedback,
        report=report,
    )


def _reason(outcome: str | int, output: Path, output_limit: int) -> str:
    """Why a child left no verdict, in one line."""
    if isinstance(outcome, str):
        return outcome
    if outcome < 0:
        name = signal.Signals(-outcome).name
        return {
            "SIGXCPU": "stopped at its CPU-time limit",
            "SIGKILL": "killed (SIGKILL)",
        }.get(name, f"crashed ({name})")
    last = _last_line(output)
    if outcome == 2 and last:
        return last.removeprefix("verify: error: ")
    return f"exited with status {outcome} without a report" + (f": {last}" if last else "")


def _flooded(output: Path, output_limit: int) -> bool:
    """Whether the run printed up to its output limit: whatever it reported after, its printing was stopped."""
    try:
        return output.stat().st_size >= output_limit
    except OSError:
        return False


def _last_line(output: Path) -> str:
    try:
        with open(output, "rb") as text:
            text.seek(max(0, output.stat().st_size - 4096))
            lines = text.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    if not lines:
        return ""
    line = lines[-1]  # a whole word cut last: "... | course 2 (the 3-layer ..." rather than "(the 3-lay"
    return line if len(line) <= LINE_CHARS else line[:LINE_CHARS].rsplit(" ", 1)[0] + " ..."


__all__ = ["OUTPUT_BYTES", "Limits", "grade", "stop_all"]
