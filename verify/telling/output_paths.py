"""Whether a file the verifier writes (a single run's --json, the grader's --csv) may go where it was asked: checked
before any work, so a mistyped path costs one line, exit 2, never an input of the run or an hour of grading.

Refused: an empty path or one holding a NUL byte; a file the run reads (the implementation under test, the data,
a submission, the gradebook), compared as files (a symlink, `./x` or `../dir/x` reaching one is the same file); any
name ending in `.py` or `.ipynb` (code: an implementation, or a helper file it may import); a folder, a FIFO, a
device (`/dev/full`) or any other existing path that is not a regular file; a read-only file; a path whose folder is
missing or where a file cannot be created (a probe file is created and removed: os.access misleads, e.g. as root).
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable

from ..errors import UsageError

CODE_SUFFIXES = (".py", ".ipynb")  # what Python or Jupyter runs: never a report's name
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_output(option: str, path: str, reads: Iterable[tuple[str, str]], thing: str, example: str) -> None:
    """UsageError, naming `option`, unless `path` can take `thing` ("the report") without replacing one of the files
    the run `reads` ((path, what it is) pairs) or blocking; `example` is a name to suggest (report.json)."""
    if path == "":
        raise UsageError(f"{option} needs a file path, got ''")
    if "\0" in path:
        raise UsageError(f"{option} {path!r}: a path cannot hold a NUL byte")
    for given, what in reads:
        if given and same_file(path, given):
            raise UsageError(
                f"{option} {path}: that is {what}, which {thing} would replace; give {thing} its own file, e.g. {example}"
            )
    real = os.path.realpath(path)
    if any(name.lower().endswith(CODE_SUFFIXES) for name in (path, real)):  # a symlink named x.json to code too
        raise UsageError(
            f"{option} {path}: a .py or .ipynb name is code (the implementation or a file it may "
            f"import), never {thing}'s; give a {os.path.splitext(example)[1]} name, e.g. {example}"
        )
    if os.path.exists(real):
        mode = os.stat(real).st_mode
        kind = next((name for test, name in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")
        if kind is not None:
            raise UsageError(f"{option} {path}: cannot write there: it is {kind}; give a file path, e.g. {example}")
        if not os.access(real, os.W_OK):
            raise UsageError(f"{option} {path}: cannot write there: the file is read-only")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise UsageError(
            f"{option} {path}: cannot write there: the folder {os.path.dirname(path) or '.'} does not exist"
        )
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".verify-probe-", suffix=".tmp")
        os.close(fd)
        os.remove(probe)
    except OSError as error:
        raise UsageError(
            f"{option} {path}: cannot write there: cannot create a file in its folder ({error.strerror or error})"
        ) from None


def same_file(a: str, b: str) -> bool:
    """Whether two paths reach the same file (symlinks, `.` and `..` resolved); False when either is missing."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


__all__ = ["CODE_SUFFIXES", "check_output", "same_file"]
