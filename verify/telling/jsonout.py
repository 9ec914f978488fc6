"""The JSON report's one way out (`--json PATH`): checked before any work, written once, atomically.

The rules, as the code applies them:

- Refused up front (a UsageError: one line, exit 2), before anything is loaded or run: an empty path;
  the implementation under test (`--impl`) or the `--data` file, compared as files (a symlink,
  `./x` or `../dir/x` reaching one is the same file); any name ending in `.py` or `.ipynb`, since
  that is code (the implementation, or a helper file it may import); a folder, a FIFO, a device
  (`/dev/full`) or any other existing path that is not a regular file; a read-only file; a path
  whose folder is missing or where a file cannot be created (a probe file is created and removed).
- Accepted, the older file at the path is removed before the run starts, so a run that dies
  leaves no stale verdict behind.
- The report is written once, after the text report: into a temporary file in the same folder,
  then renamed over the path (`os.replace`), so a reader sees the old file, no file, or the whole
  new one, never a part. A run that ends without a report (an interrupt before it, an exception
  inside the verifier) still writes one, with the verdict `interrupted` or `error` and the reason.
- `--json -` prints the JSON on stdout, and nothing else goes there: while the run lasts, stdout
  (Python's and the process's file descriptor 1) is sent to stderr.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout

from ..errors import UsageError

# The JSON's layout (docs/report.schema.json): raised when a key is removed or changes meaning.
SCHEMA_VERSION = 1
CODE_SUFFIXES = (".py", ".ipynb")  # what Python or Jupyter runs: never a report's name
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class JsonTarget:
    """Where `--json` sends the report: None (nowhere), "-" (stdout) or a checked file path."""

    def __init__(self, path: str | None):
        self.path = path
        # the file actually written: a symlink's target, so the link the user made stays a link
        self.file = None if path in (None, "-") else os.path.realpath(path)
        self.written = False
        self._umask = _current_umask()  # read now, before any thread can create a file

    @classmethod
    def checked(cls, path: str | None, impl: str | None, data: str | None) -> JsonTarget:
        """The target for `--json path`, or a UsageError saying why the report cannot go there."""
        if path is not None and path != "-":
            check_path(path, impl, data)
        return cls(path)

    def clear(self) -> None:
        """Remove the older report at the path, if any: from here on the path holds this run's report or nothing."""
        if self.file is not None and os.path.lexists(self.file):
            try:
                os.remove(self.file)
            except OSError as error:
                raise UsageError(
                    f"--json {self.path}: cannot remove the older file there ({error.strerror or error})"
                ) from None

    @contextmanager
    def stdout_for_json_only(self) -> Iterator[None]:
        """With `--json -`, everything printed while this lasts goes to stderr; otherwise nothing changes."""
        if self.path != "-":
            yield
            return
        with stdout_to_stderr():
            yield

    def write(self, document: dict) -> None:
        """Write `document` once (a second call does nothing): to stdout, or atomically to the file."""
        if self.path is None or self.written:
            return
        self.written = True
        text = json.dumps(document, indent=2) + "\n"
        if self.path == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            assert self.file is not None, "a path other than - has its file"
            write_atomically(self.file, text, 0o666 & ~self._umask)


def check_path(path: str, impl: str | None, data: str | None) -> None:
    """UsageError unless `path` can take the report without replacing an input or blocking (see the module doc)."""
    if path == "":
        raise UsageError("--json needs a file path (or - for stdout), got ''")
    if "\0" in path:
        raise UsageError(f"--json {path!r}: a path cannot hold a NUL byte")
    for given, what in ((impl, "the implementation under test (--impl)"), (data, "the --data file")):
        if given and _same_file(path, given):
            raise UsageError(
                f"--json {path}: that is {what}, which the report would replace; "
                "give the report its own file, e.g. report.json"
            )
    real = os.path.realpath(path)
    if any(name.lower().endswith(CODE_SUFFIXES) for name in (path, real)):  # a symlink named x.json to code too
        raise UsageError(
            f"--json {path}: a .py or .ipynb name is code (the implementation or a file it may "
            "import), never the report's; give a .json name, e.g. report.json"
        )
    if os.path.exists(real):
        mode = os.stat(real).st_mode
        kind = next((name for test, name in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")
        if kind is not None:
            raise UsageError(f"--json {path}: cannot write there: it is {kind}; give a file path, e.g. report.json")
        if not os.access(real, os.W_OK):
            raise UsageError(f"--json {path}: cannot write there: the file is read-only")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise UsageError(f"--json {path}: cannot write there: the folder {os.path.dirname(path) or '.'} does not exist")
    try:  # the one honest test of writability: create a file there (os.access misleads, e.g. as root)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".verify-probe-", suffix=".tmp")
        os.close(fd)
        os.remove(probe)
    except OSError as error:
        raise UsageError(
            f"--json {path}: cannot write there: cannot create a file in its folder ({error.strerror or error})"
        ) from None


def write_atomically(file: str, text: str, mode: int) -> None:
    """`text` into `file` by way of a temporary file in the same folder and a rename, with permissions `mode`."""
    folder, name = os.path.split(file)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the bytes on disk before the name points at them
        os.chmod(temporary, mode)  # mkstemp's 0600, widened to what a plain open() would have made
        os.replace(temporary, file)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """sys.stdout and, where stdout is a real file descriptor, fd 1 itself (what C code, os.write or a child
    process prints) point at stderr while this lasts."""
    sys.stdout.flush()
    original = sys.stdout
    saved = _redirect_fd(sys.stdout, sys.stderr)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        for stream in (original, sys.__stdout__, sys.stderr):  # text a kept stdout reference buffered: to stderr too
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        if saved is not None:
            out_fd, copy = saved
            os.dup2(copy, out_fd)
            os.close(copy)


def _redirect_fd(out, err) -> tuple[int, int] | None:
    """Point out's descriptor at err's; (out's descriptor, a copy of what it was) to restore, or None when either
    stream has no descriptor (a test's captured stream)."""
    try:
        out_fd, err_fd = out.fileno(), err.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    copy = os.dup(out_fd)
    os.dup2(err_fd, out_fd)
    return out_fd, copy


def _same_file(a: str, b: str) -> bool:
    """Whether two paths reach the same file (symlinks, `.` and `..` resolved); False when either is missing."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def ended_early(verdict: str, reason: str, implementation: str | None) -> dict:
    """The JSON of a run that ended without a report: `verdict` ("error" or "interrupted"), the reason, and the
    report's list-valued keys empty, so a reader of either shape finds them."""
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "error": reason,
        "first_divergence": None,
        "functions": [],
        "checks": [],
        "interrupted_at": None,
        "implementation": implementation or "scratch",
        "notes": [],
    }
