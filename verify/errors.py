"""The verifier's exceptions: the user's mistakes, and faults of the implementation under test."""

from __future__ import annotations

import traceback
from typing import Optional


class UsageError(Exception):
    """Bad usage or bad input: the CLI prints the message as one line and exits with status 2."""


class ImplementationError(Exception):
    """The implementation under test raised inside one of its own functions: a failed check."""

    def __init__(self, function: str, error: BaseException, package_dir: Optional[str] = None):
        self.function = function
        self.error = error
        self.where = _innermost_frame(error, package_dir)
        super().__init__(f"{function} raised {type(error).__name__}: {error}" + (f" ({self.where})" if self.where else ""))


def _innermost_frame(error: BaseException, package_dir: Optional[str]) -> str:
    """'file:line in function' of the deepest traceback frame inside `package_dir` (or the deepest at all)."""
    frames = traceback.extract_tb(error.__traceback__)
    inside = [f for f in frames if package_dir is None or f.filename.startswith(package_dir)]
    if not inside:
        return ""
    frame = inside[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"
