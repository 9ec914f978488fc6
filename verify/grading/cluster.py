"""The same grading tasks on a Dask distributed cluster (`--scheduler tcp://HOST:PORT`), for a class too large
for one machine.

Each task carries its submission whole (the file's and its helper files' bytes: the workers need not share a
file system with the grader) and runs isolate.grade on the worker that takes it, so there too each submission
runs in an isolated child of its own. The results come back to the grading process, which alone writes the
gradebook, each as it arrives. A worker that dies midway loses only its running tasks, which the scheduler gives
to another worker; a task's result is recorded once, keyed by the submission's path.

dask.distributed is an optional extra (pip install -e '.[grade]'); it is imported here only, when --scheduler is
given, never by a single run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import UsageError
from . import isolate
from .records import Graded
from .submissions import Submission

Payload = tuple[str, str, str, dict[str, bytes]]  # (the submission's path, its digest, its file name, every file)


def payload(submission: Submission) -> Payload:
    """The submission as plain data: its path as given, its digest, its file's name and each file's bytes."""
    files = {p.name: p.read_bytes() for p in (submission.path, *submission.helpers)}
    return submission.name, submission.digest, submission.path.name, files


def grade_payload(task: Payload, options: Sequence[str], limits: isolate.Limits) -> Graded:
    """On a worker: the submission's files written to a folder of the worker's, graded by isolate.grade there."""
    name, digest, main, files = task
    with tempfile.TemporaryDirectory(prefix="verify-task-") as folder:
        for file_name, content in files.items():
            (Path(folder) / file_name).write_bytes(content)
        helpers = tuple(Path(folder) / n for n in sorted(files) if n != main)
        graded = isolate.grade(Submission(Path(folder) / main, helpers, digest), options, limits)
    return replace(graded, path=name)


def grade_on(
    address: str,
    todo: list[Submission],
    options: Sequence[str],
    limits: isolate.Limits,
    recorded: Callable[[Graded], None],
) -> None:
    """Every submission of `todo` graded on the cluster whose scheduler is at `address`; `recorded(graded)` in this
    process for each result, as it arrives."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise UsageError("--scheduler needs dask.distributed, the grading extra: pip install -e '.[grade]'") from None
    try:
        client = Client(address, timeout=30)
    except (OSError, TimeoutError) as error:
        raise UsageError(f"--scheduler {address}: no Dask scheduler answers there ({error})") from None
    with client:
        futures = [
            client.submit(
                grade_payload, payload(s), list(options), limits, key=f"grade-{i}-{s.digest[:16]}", pure=False
            )
            for i, s in enumerate(todo)
        ]
        try:
            for future in as_completed(futures):
                recorded(future.result())
        except BaseException:  # Ctrl-C: what runs on the cluster is cancelled; what was recorded stays
            client.cancel(futures)
            raise


__all__ = ["grade_on", "grade_payload", "payload"]
