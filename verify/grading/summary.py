"""The class at a glance: verdicts counted, each function's pass rate, and the slips most learners made.

A slip is named by the fix line the report gives a failing function: "fix `clip`: its dWaa differs (clip by norm
instead of elementwise: ...); defined in ...". Its words are those in the first parentheses up to their first ':'
(the hint's name for the slip, before the numbers that vary from learner to learner), or the whole parenthesis
when it has no ':'. A fix line without parentheses is named by its words after "fix `clip`: " up to the first ':'
or ';'. Lines naming the same slip of the same function are counted together.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .files import write_atomic
from .records import VERDICTS, Graded

CHART = {"bar": 240, "height": 22, "gap": 6, "char": 7.2, "margin": 12, "count_width": 120}  # the chart's pixels

__all__ = [
    "FunctionTally",
    "SlipTally",
    "Summary",
    "slip_of",
    "summary",
    "write_summary_chart",
    "write_summary_markdown",
]


@dataclass(frozen=True)
class FunctionTally:
    """One function across the class: how many submissions ran it (their report grades it, other than 'not run')
    and how many of those have it ok."""

    name: str
    ran: int
    passed: int

    @property
    def rate(self) -> float:
        """The share of the submissions that ran it that have it ok (0 when none ran it)."""
        return self.passed / self.ran if self.ran else 0.0


@dataclass(frozen=True)
class SlipTally:
    """One slip of one function, and in how many submissions its fix line names it."""

    function: str
    slip: str
    count: int


@dataclass(frozen=True)
class Summary:
    """The whole class: submissions counted by verdict (every verdict, 0 when none), the functions in the order the
    reports grade them, and the slips from the most common down."""

    verdicts: dict[str, int]
    functions: tuple[FunctionTally, ...]
    slips: tuple[SlipTally, ...]

    @property
    def submissions(self) -> int:
        return sum(self.verdicts.values())


def summary(rows: Iterable[Graded]) -> Summary:
    """Count `rows`: verdicts, each function's runs and passes, and slips grouped by function and words."""
    rows = list(rows)
    verdicts = Counter(row.verdict for row in rows)
    ran: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for row in rows:
        for name, status in row.functions.items():
            ran[name] += status != "not run"
            passed[name] += status == "ok"
    names = dict.fromkeys(name for row in rows for name in row.functions)
    slips = Counter((function, slip_of(fix)) for row in rows for function, fix in row.slips.items())
    ranked = sorted(slips.items(), key=lambda item: (-item[1], item[0]))
    return Summary(
        verdicts={verdict: verdicts[verdict] for verdict in VERDICTS},
        functions=tuple(FunctionTally(name, ran[name], passed[name]) for name in names),
        slips=tuple(SlipTally(function, slip, count) for (function, slip), count in ranked),
    )


def slip_of(fix: str) -> str:
    """The slip a fix line names (see the module's docstring), its spaces made single."""
    body = re.sub(r"^fix `[^`]*`:\s*", "", fix.strip())
    opened = body.find("(")
    if opened < 0:
        return " ".join(re.split(r"[:;]", body, maxsplit=1)[0].split())
    depth, end = 0, len(body)
    for index in range(opened, len(body)):
        depth += {"(": 1, ")": -1}.get(body[index], 0)
        if depth == 0:
            end = index
            break
    return " ".join(body[opened + 1 : end].split(":", 1)[0].split())


def write_summary_markdown(summary: Summary, path: str | os.PathLike[str]) -> Path:
    """The summary as markdown: the verdicts, a table of the functions' pass rates, a table of the slips."""
    counts = ", ".join(f"{summary.verdicts[verdict]} {verdict}" for verdict in VERDICTS)
    lines = ["# Grading summary", "", f"{summary.submissions} submissions: {counts}.", "", "## Functions", ""]
    if summary.functions:
        lines += ["| function | ran | passed | pass rate |", "|---|---:|---:|---:|"]
        lines += [f"| `{_md(f.name)}` | {f.ran} | {f.passed} | {f.rate:.0%} |" for f in summary.functions]
    else:
        lines.append("No function was graded.")
    lines += ["", "## Most common slips", ""]
    if summary.slips:
        lines += ["| submissions | function | slip |", "|---:|---|---|"]
        lines += [f"| {s.count} | `{_md(s.function)}` | {_md(s.slip)} |" for s in summary.slips]
    else:
        lines.append("No slip was found.")
    return write_atomic(path, "\n".join(lines) + "\n")


def write_summary_chart(summary: Summary, path: str | os.PathLike[str]) -> Path:
    """A horizontal bar chart of each function's pass rate as SVG: one bar per function, in the summary's order, its
    length the pass rate (a full bar is 100%), the function's name on its left and 'passed/ran (rate)' on its right.
    """
    c = CHART
    label = c["margin"] + c["char"] * max((len(f.name) for f in summary.functions), default=8)
    title = f"Pass rate per function ({summary.submissions} submissions)"
    width = max(label + c["margin"] + c["bar"] + c["count_width"], c["margin"] * 2 + c["char"] * len(title))
    height = c["margin"] * 2 + 24 + len(summary.functions) * (c["height"] + c["gap"])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="12">',
        f'<text x="{c["margin"]}" y="{c["margin"] + 12}" font-weight="bold">{title}</text>',
    ]
    if not summary.functions:
        parts.append(f'<text x="{c["margin"]}" y="{c["margin"] + 36}">No function was graded.</text>')
    for index, tally in enumerate(summary.functions):
        top = c["margin"] + 24 + index * (c["height"] + c["gap"])
        middle = top + c["height"] / 2 + 4
        bar = c["bar"] * tally.rate
        name = escape(tally.name, {'"': "&quot;"})
        parts += [
            f'<text x="{label:.1f}" y="{middle:.1f}" text-anchor="end">{name}</text>',
            f'<rect x="{label + 6:.1f}" y="{top}" width="{c["bar"]}" height="{c["height"]}" fill="#eeeeee"/>',
            f'<rect class="bar" data-function="{name}" x="{label + 6:.1f}" y="{top}" width="{bar:.2f}" '
            f'height="{c["height"]}" fill="#4878a8"><title>{name}: {tally.passed} of {tally.ran} passed</title></rect>',
            f'<text x="{label + 12 + c["bar"]:.1f}" y="{middle:.1f}">{tally.passed}/{tally.ran} ({tally.rate:.0%})</text>',
        ]
    parts.append("</svg>")
    return write_atomic(path, "\n".join(parts) + "\n")


def _md(text: str) -> str:
    """`text` as one markdown table cell: no line break, and a '|' that does not end the cell."""
    return " ".join(text.split()).replace("|", "\\|")
