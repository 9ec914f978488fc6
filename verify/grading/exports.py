"""What a grading run hands a teacher: a CSV of the class, one feedback file per learner, and a summary (markdown and
an SVG chart, from verify/grading/summary.py). Every file is written whole or not at all (files.write_atomic)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .files import write_atomic
from .records import Graded
from .summary import FunctionTally, SlipTally, Summary, slip_of, summary, write_summary_chart, write_summary_markdown

NAME_LENGTH = 100  # a feedback file's name before its suffix: well under any file system's 255 bytes
SUFFIXES = (0, 8, 16, 64)  # hex digits of the path's sha256 added to names that would collide, tried in turn
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet evaluates a cell that starts so

__all__ = [
    "FunctionTally",
    "SlipTally",
    "Summary",
    "feedback_names",
    "functions_of",
    "slip_of",
    "summary",
    "write_csv",
    "write_feedback",
    "write_summary_chart",
    "write_summary_markdown",
]


def functions_of(rows: Iterable[Graded]) -> list[str]:
    """Every graded function of `rows`, each once, in the order first seen (the reports' own order)."""
    return list(dict.fromkeys(name for row in rows for name in row.functions))


def write_csv(rows: Iterable[Graded], path: str | os.PathLike[str]) -> Path:
    """One line per submission: file, verdict, one column per graded function, total, error.

    A function's cell is 1 when it is ok, 0 when it failed or did not run, and empty when the submission's report
    does not grade it at all (another API, or no verdict); total counts its functions that are ok; error is why an
    error row has no verdict. Text a learner controls (a file name, an error message) that a spreadsheet would read
    as a formula ('=...', '+...', '-...', '@...') is written with a leading apostrophe, so opening the CSV runs
    nothing."""
    rows = list(rows)
    functions = functions_of(rows)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "verdict", *map(_cell, functions), "total", "error"])
    for row in rows:
        cells = [_status_cell(row.functions.get(name)) for name in functions]
        ok = sum(status == "ok" for status in row.functions.values())
        writer.writerow([_cell(row.path), row.verdict, *cells, ok, _cell(_one_line(row.error or ""))])
    return write_atomic(path, text.getvalue())


def write_feedback(rows: Iterable[Graded], folder: str | os.PathLike[str]) -> dict[str, Path]:
    """One markdown file per submission in `folder` (created if missing), its verdict first ('# PASS', '# FAIL',
    '# ERROR: <reason>') and then its feedback; returns each submission's path and the file written for it.
    Names come from feedback_names, so two submissions never share a file; a path given twice is written once,
    from its last row."""
    latest = {row.path: row for row in rows}
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    names = feedback_names(latest)
    return {path: write_atomic(target / names[path], _feedback(row)) for path, row in latest.items()}


def feedback_names(paths: Iterable[str]) -> dict[str, str]:
    """A file name for each path, made safe and readable ('week4/alice/Building.ipynb' -> 'week4_alice_Building.md'),
    never the same for two paths, letter case aside (a case-insensitive file system would merge them): names that
    would collide get a short suffix from the sha256 of their path ('..._3f2a9c1e.md'), longer while any collide."""
    paths = list(dict.fromkeys(paths))
    level = dict.fromkeys(paths, 0)
    while True:
        names = {path: _name(path, SUFFIXES[level[path]]) for path in paths}
        taken = Counter(name.casefold() for name in names.values())
        clashing = [p for p in paths if taken[names[p].casefold()] > 1 and level[p] < len(SUFFIXES) - 1]
        if not clashing:
            return names
        for path in clashing:
            level[path] += 1


def _name(path: str, suffix: int) -> str:
    """`path`'s folders and stem joined by '_', in ASCII letters, digits, '.', '-' and '_' (accents dropped, any
    other character '_'), at most NAME_LENGTH characters (the end kept: the learner's own file), then `suffix` hex
    digits of the path's sha256, then '.md'."""
    parts = [part for part in re.split(r"[\\/]+", path) if part not in ("", ".", "..")]
    if parts:
        parts[-1] = os.path.splitext(parts[-1])[0] or parts[-1]
    ascii_text = unicodedata.normalize("NFKD", "_".join(parts)).encode("ascii", "ignore").decode("ascii")
    stem = re.sub(r"[^A-Za-z0-9.\-]+", "_", ascii_text)[-NAME_LENGTH:].strip("._-") or "submission"
    if suffix:
        stem += "_" + hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:suffix]
    return stem + ".md"


def _feedback(row: Graded) -> str:
    """The feedback file's text: the verdict as a heading, then the report to hand back."""
    heading = (
        f"# ERROR: {_one_line(row.error or 'no verdict')}" if row.verdict == "error" else f"# {row.verdict.upper()}"
    )
    return f"{heading}\n\n{row.feedback.strip()}\n" if row.feedback.strip() else heading + "\n"


def _status_cell(status: str | None) -> str:
    """A function's CSV cell: 1 ok, 0 failed or not run, empty when not graded."""
    if status is None:
        return ""
    return "1" if status == "ok" else "0"


def _cell(text: str) -> str:
    """`text` as a CSV cell a spreadsheet shows as text, never evaluates."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _one_line(text: str) -> str:
    """`text` with its line breaks and runs of spaces made single spaces: a reason fits one cell, one heading."""
    return " ".join(text.split())
