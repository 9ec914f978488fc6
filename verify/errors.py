"""The verifier's exceptions: the user's mistakes, and faults of the implementation under test."""

from __future__ import annotations

import os
import traceback


class UsageError(Exception):
    """Bad usage or bad input: the CLI prints the message as one line and exits with status 2.

    The message is stored printable: what a user typed or named (a path, a --name, a value) may hold a NUL,
    a line break, an escape sequence or a byte that is not UTF-8, and each is shown escaped as repr shows it
    ('\\x00', '\\n', '\\x1b', '\\udcff'), so the line stays one line and every character in it is visible.
    """

    def __init__(self, message: str = "", *args):
        super().__init__(printable(str(message)), *args)


def printable(text: str) -> str:
    """`text` with every character that is not printable (control characters, line breaks, a lone surrogate
    from a file name that is not UTF-8, invisible format characters such as a BOM) escaped as repr escapes it."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class MissingPackageError(UsageError):
    """A function under test called into a library that is not installed (loading gave it a stand-in):
    the setup's to fix, not a slip, so a usage error naming the function and the library."""


class ImplementationError(Exception):
    """The implementation under test raised, or returned something unusable: a failed check.

    `trace` holds the traceback lines inside the implementation's own source (a file, or a
    package folder), innermost last: the lines a learner needs, none of the verifier's.
    """

    def __init__(self, function: str, error: BaseException, source: str | None = None, what: str | None = None):
        self.function = function
        self.error = error
        self._what = what  # what a rejection the adapter built says it did, where not "returned" (see what)
        self.trace = _own_frames(error, source)
        where = f" ({self.trace[-1].split(',  ')[0].strip()})" if self.trace else ""
        super().__init__(f"{function} {raised(error)}{where}" if error.__traceback__ else f"{function}: {error}")

    @property
    def rejected(self) -> bool:
        """Whether the checks rejected what the implementation returned (an error the adapter built, never raised:
        no traceback), rather than the implementation raising it."""
        return self.error.__traceback__ is None

    @property
    def what(self) -> str:
        """What the implementation did, in the report's words."""
        if self.rejected:
            return self._what or "returned what the checks cannot use"
        return raised(self.error).split(":")[0] if isinstance(self.error, SystemExit) else "raised"


def raised(error: BaseException) -> str:
    """What code did, in words: 'raised ValueError: ...', or 'called sys.exit(0)' for a SystemExit."""
    if isinstance(error, SystemExit):
        return f"called sys.exit({error.code!r})" if error.code is not None else "called sys.exit()"
    return f"raised {type(error).__name__}: {error}" if str(error) else f"raised {type(error).__name__}"


def _own_frames(error: BaseException, source: str | None) -> list[str]:
    """'File, line N, in f:  code' for each traceback frame inside `source` (of the learner's process, for an
    exception that crossed from it: verify/remote)."""
    if error.__traceback__ is None or source is None:
        return []
    frames = [
        f
        for f in getattr(error, "remote_frames", None) or traceback.extract_tb(error.__traceback__)
        if os.path.abspath(f.filename) == source or os.path.abspath(f.filename).startswith(source + os.sep)
    ]
    return [f"{_shown(f.filename)}:{f.lineno} in {f.name},  {(f.line or '').strip()}" for f in frames]


def _shown(filename: str) -> str:
    """A file as the working directory reaches it where it lies inside it, else its absolute path (never a climb of
    ../..); a notebook's cell ('x.ipynb/cell [7]', loading.py) by the notebook's name, since no path reaches a cell."""
    notebook = os.path.dirname(filename)
    if os.path.isfile(notebook):
        return os.path.join(os.path.basename(notebook), os.path.basename(filename))
    relative = os.path.relpath(filename)
    return os.path.abspath(filename) if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative
