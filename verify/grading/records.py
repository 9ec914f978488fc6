"""What grading one submission yields: the record the gradebook keeps and the exports read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("pass", "fail", "error")  # error: no verdict (it timed out, crashed, or the verifier refused it)


@dataclass(frozen=True)
class Graded:
    """One submission, graded.

    path: the submission as given on the command line (a notebook or .py file); digest: the sha256 of its content
    and of the helper files graded with it (a rerun skips a path whose digest is already graded); verdict: pass,
    fail or error; functions: each graded function's status in the report ("ok", "FAIL", ...), in the report's
    order; slips: per failing function, the fix line that names its slip; first_divergence: the report's line for
    it, or None; seconds: the wall time the submission took; error: why there is no verdict (for "error"), else
    None; feedback: the markdown report to hand back (verdict first); report: the full JSON report, or None."""

    path: str
    digest: str
    verdict: str
    functions: dict[str, str] = field(default_factory=dict)
    slips: dict[str, str] = field(default_factory=dict)
    first_divergence: str | None = None
    seconds: float = 0.0
    error: str | None = None
    feedback: str = ""
    report: dict[str, Any] | None = None


__all__ = ["VERDICTS", "Graded"]
