"""Which files a grading run grades: the PATHs given (files, folders, globs) as submissions, each with the helper
files of its folder.

A submission is a notebook (.ipynb) or a .py file. A folder stands for every notebook under it (its subfolders
too, .ipynb_checkpoints left out); a .py file is a submission only when it is named, by itself or by a glob, since
a folder's .py files are mostly the course's helpers (dnn_utils.py, public_tests.py). A submission's helper files
are the other files of its own folder (not its subfolders, not the other notebooks there), up to HELPER_BYTES
each: they are copied beside it for its run, as the course's notebooks import them. Its digest, the sha256 of its
content and of its helpers' names and contents, tells a rerun what is already graded.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

SUFFIXES = (".ipynb", ".py")
HELPER_BYTES = 20 * 2**20  # a larger file beside a submission (a data set) is not copied for its run
SKIPPED_FOLDERS = (".ipynb_checkpoints", "__pycache__", ".git")


@dataclass(frozen=True)
class Submission:
    """A notebook or .py file to grade, the helper files copied with it, and the digest of both."""

    path: Path
    helpers: tuple[Path, ...]
    digest: str

    @property
    def name(self) -> str:
        return str(self.path)


def find(paths: Iterable[str]) -> list[Submission]:
    """The submissions PATHs name, in a stable order, each once; UsageError for a PATH that names none."""
    found: dict[Path, None] = {}
    for text in paths:
        matches = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]
        named = [Path(m) for m in matches]
        files = [p for m in named for p in (_notebooks_under(m) if m.is_dir() else [m]) if _is_submission(p)]
        if not files:
            raise UsageError(f"{text}: no notebook (.ipynb) or .py file to grade there")
        for path in files:
            found.setdefault(path, None)
    return [_submission(path) for path in found]


def _notebooks_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and not set(p.parts) & set(SKIPPED_FOLDERS))


def _is_submission(path: Path) -> bool:
    return path.is_file() and path.suffix in SUFFIXES


def _submission(path: Path) -> Submission:
    folder = path.parent
    helpers = tuple(
        sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and p != path and p.suffix != ".ipynb" and os.path.getsize(p) <= HELPER_BYTES
        )
    )
    digest = hashlib.sha256(path.read_bytes())
    for helper in helpers:
        digest.update(b"\0" + helper.name.encode() + b"\0" + helper.read_bytes())
    return Submission(path, helpers, digest.hexdigest())


__all__ = ["HELPER_BYTES", "Submission", "find"]
