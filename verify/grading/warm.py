"""Children forked from a process that has imported torch and the verifier once, so that a submission's run
does not pay for a fresh interpreter's imports (about three quarters of a week-4 notebook's time alone).

multiprocessing's fork server, started on first use with one thread per numerical library, imports preload.py,
then forks a child per submission. The child leaves the server's session for one of its own, moves into the
submission's private folder, sends its output to output.txt there, takes the scrubbed environment, and runs
child.main, which sets the resource limits before it loads the submission. A daemonic process (a Dask worker, by
default) may not start children this way: isolate.py starts a fresh interpreter there instead.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_LOCK = threading.Lock()
_context: Any = None


def available() -> bool:
    """Whether this process may fork children from the server (Linux, and not a daemonic process itself)."""
    return sys.platform == "linux" and not multiprocessing.current_process().daemon


class WarmChild:
    """A started child, as isolate.py uses a subprocess.Popen: its pid (its session's id too) and wait()."""

    def __init__(self, process: Any) -> None:
        self.process, self.pid = process, process.pid

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired("a submission's run", timeout or 0)
        return int(self.process.exitcode)


def start_server() -> None:
    """The server started from this thread, whose end ends it (preload.py): the grader's main thread, before its
    workers' threads (which come and go) fork their children from it."""
    _server()


def start(folder: str, argv: Sequence[str], environment: Mapping[str, str]) -> WarmChild:
    """A child forked from the server, running child.main(argv) in `folder` with `environment`."""
    process = _server().Process(target=_run, args=(folder, list(argv), dict(environment)), daemon=True)
    process.start()
    return WarmChild(process)


def _server() -> Any:
    """The fork server's context, its server started once, with one thread per numerical library."""
    global _context
    with _LOCK:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["verify.grading.preload"])
            saved = {name: os.environ.get(name) for name in THREADS}
            os.environ.update(THREADS)
            try:
                multiprocessing.forkserver.ensure_running()
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
            _context = context
    return _context


def _run(folder: str, argv: list[str], environment: dict[str, str]) -> None:
    """In the forked child: its own session, folder, output and environment, then the run; its status the exit."""
    os.setsid()
    os.chdir(folder)
    output = os.open("output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.environ.clear()
    os.environ.update(environment)
    import torch

    torch.set_num_threads(1)
    from .child import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


__all__ = ["WarmChild", "available", "start", "start_server"]
