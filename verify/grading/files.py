"""Writing an export whole or not at all: a reader (a teacher's spreadsheet, a course site syncing the folder) never
sees half a file, and a grading run killed mid-write leaves the previous version in place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` (UTF-8, line endings as given) to `path` by writing a temporary file in the same folder and then
    os.replace-ing it over `path`, which is atomic within one file system; returns the path written.

    The temporary file is created with mode 0o666 less the umask, as open() would create `path`, so the export is
    as readable as any other file the user writes. A character UTF-8 cannot hold (a lone surrogate from a file name
    that is not UTF-8) is written as its escape, '\\udcff', rather than failing the export."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(descriptor, "w", encoding="utf-8", errors="backslashreplace", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target
