"""The report as text: the verdict block (`summary()` is its first lines), the run's header, the closing lines
(final cost, free-running gap, notes, rule, logs), the whole text report and its markdown for TensorBoard."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..judging.compare import CheckResult
from ..judging.hints import divergence_cure
from ..results import Final, Sides
from .report_tables import (
    TITLES,
    _check_lines,
    _divergence_text,
    _function_lines,
    _function_status,
    _functions_status,
    _gap,
    _num,
    _status,
    _title,
    _where,
)

if TYPE_CHECKING:
    from .report import Report

SUMMARY_LINES = 10  # report.summary(): short enough for a notebook cell's output or a CI log
UNRESOLVED_NAMED = 4  # the verdict names this many unresolved rows, then counts the rest


def to_text(report: Report, verbose: bool = False) -> str:
    """The whole report: the verdict block first (see verdict_lines), then the run, the tables, the closing lines."""
    hints = _verdict_hints(report)  # a hint is printed once: in the verdict block, else at its first row
    first = report.first_divergence
    if first is not None and first.fix and first.error:  # so is a rejection, in the fix line
        hints.add(first.error)
    lines = verdict_lines(report) + ["", header(report), ""]
    lines += _function_lines(report.functions, hints)
    for check in report.checks:
        lines += _check_lines(check, verbose, hints)
    lines += _closing_lines(report)
    return "\n".join(lines)


def summary(report: Report) -> str:
    """The short form for a notebook or a CI log (at most ten lines): the verdict, what to fix, where it was
    first seen, its hint."""
    return "\n".join(verdict_lines(report)[:SUMMARY_LINES])


def short_repr(report: Report) -> str:
    """'<Report fail: fix `relu_backward` ...>': one line, never the whole dataclass."""
    first = report.first_divergence
    what = "" if first is None else ": " + (first.fix or _divergence_text(first).split("\n")[0])
    return f"<Report {report.verdict}{_shorten(what, 120)}>"


def header(report: Report) -> str:
    """What was compared: the implementation, the network, the data, the training plan."""
    c = report.config
    assert c.activations is not None, "a report's config is validated"
    if report.functions_only or report.scope:
        scope = report.scope or "its course functions, each on its own"
        return f"{report.implementation} vs torch_ref: {scope}, {c.dtype} on {c.device}"
    return (
        f"{report.implementation} vs torch_ref: {c.arch_text}, activations {','.join(c.activations)}, "
        f"loss {c.loss}, init {c.init}, seed {c.seed}, data {c.data} (m={report.examples}), {c.dtype} on {c.device}, "
        + report.plan.describe()
        + (f", L2 lambd {c.lambd:g}" if c.lambd else "")
        + (f", dropout keep_prob {','.join(f'{p:g}' for p in c.keep_prob)}" if c.keep_prob else "")
    )


def verdict_lines(report: Report) -> list[str]:
    """The report's opening block: the verdict; on a failure the function to fix (with its hint), then where
    the network checks first saw it (with theirs); whether a side diverged. Every line is one line of text."""
    name = report.implementation
    if report.verdict == "pass" and report.functions_only:
        lines = [f"VERDICT: PASS  {name}'s functions and torch agree, each on its own (it has no network to train)"]
    elif report.verdict == "pass":
        lines = [
            f"VERDICT: PASS  {name} and torch agree on every check"
            + _unresolved_text(report.checks)
            + _overflow_text(report.checks)
            + _saturated_text(report.checks)
            + ("; training not run: no iterations" if report.untrained else "")
            + _loops_not_run_text(report.checks, report.untrained)
        ]
    elif report.verdict == "interrupted":
        checked = report.functions or any(c.rows or c.error for c in report.checks)
        stop = report.interruption
        assert stop is not None, "the verdict is interrupted only with an interruption"
        lines = [
            f"VERDICT: INTERRUPTED by {stop.signal} {stop.where()}; "
            + ("everything so far agreed" if checked else "nothing had been checked yet")
        ]
    else:
        stopped = (
            ""
            if report.interruption is None
            else f" (interrupted by {report.interruption.signal} {report.interruption.where()})"
        )
        lines = [f"VERDICT: FAIL{stopped}"]
    first = report.first_divergence
    if first is not None:
        if first.fix:  # what to fix, and where it is (a helper file is named, not only the file verified)
            lines.append(_one_line(first.fix) + (f"; defined in {first.source}" if first.source else ""))
        if first.stage == "functions":
            lines.append(
                f"first divergence: function by function, {first.function}'s {first.quantity or 'result'}; "
                + ("the network checks agree" if report.checks and not report.scope else "")
                + ("the checks after them agree" if report.checks and report.scope else "")
                + ("" if report.checks else "there is no network to check")
            )
        elif first.fix and first.rejected:  # the fix line holds the message: said once
            lines.append(f"first divergence: {_where(first)}: {first.function} {first.what}, as the fix line says")
        else:
            text = _divergence_text(first, with_fix=False)
            where, _, hint = text.partition("\n  hint: ")
            lines.append("first divergence: " + _one_line(where))
            if hint and hint not in (first.fix or ""):  # a loop's hint is its fix line: said once
                lines.append("  hint: " + _one_line(hint))
    diverged = diverged_line(report)
    if diverged:
        lines.append(diverged)
    return lines


def _verdict_hints(report: Report) -> set:
    """The hints the verdict block prints: the first divergence's, and the one in its fix line."""
    first = report.first_divergence
    if first is None:
        return set()
    unit = next((f for f in report.functions if f.function == first.function), None)
    return {hint for hint in (first.hint, unit.hint if unit and first.fix else None) if hint}


def diverged_line(report: Report) -> str:
    name = report.implementation
    diverged = _diverged(report)
    if not diverged:
        return ""
    names = _names(report)
    line = "diverged (non-finite or overflowing): " + ", ".join(
        f"{names[side]} at iteration {at}" for side, at in diverged.items()
    )
    if "torch" in diverged:  # torch's own run blew up too: the learning rate, not the derivation
        return line + ("" if len(diverged) == 2 else f"; {name} stayed finite") + "; " + _divergence_cure(report)
    return line + "; torch stayed finite"


def _divergence_cure(report: Report) -> str:
    """The option to change where torch's own run diverged (hints.divergence_cure), over the smallest batch."""
    plan = report.plan
    size = plan.mini_batch_size or plan.m
    c = report.config
    return divergence_cure(c.learning_rate, c.lambd, min(size, plan.m % size or size), c.optimizer, c.beta)


def _closing_lines(report: Report) -> list[str]:
    """After the tables: the final cost, the free-running gap, the notes, the rule, where the logs are."""
    lines = _final_cost_lines(report)
    if report.drift:
        lines.append(
            "free-running gap (iteration: cost, largest parameter gap / allowed): "
            + ", ".join(f"{i}: {g:.1e}, {p:.1e}/{a:.1e}" for i, g, p, a in report.drift)
        )
    lines += [f"note: {note}" for note in report.notes]
    lines.append(f"rule: {report.rule}")
    if report.run_dir is not None:
        lines.append(f"TensorBoard logs: {report.run_dir}   open them with: {report.tensorboard_command}")
    return lines


def _final_overflow(report: Report) -> str:
    """The final-cost line where a side diverged, or its final cost is not finite: its final parameters are not
    comparable with the other side's (a diverged implementation keeps its last finite ones), so no numbers are
    set side by side; a side that stayed finite shows its own."""
    names = _names(report)
    final = report.final or Sides(Final(), Final())
    costs = {side: value.cost for side, value in final.items()}
    diverged = _diverged(report)
    blown = [
        side for side, cost in costs.items() if side not in diverged and cost is not None and not math.isfinite(cost)
    ]
    if not diverged and not blown:
        return ""
    went = [f"{names[side]} diverged at iteration {at}" for side, at in diverged.items()]
    went += [f"{names[side]}'s is {_num(costs[side])} at its final parameters" for side in blown]
    stayed = [
        f"{names[side]}'s own run stayed finite ({_num(costs[side])})"
        for side in names
        if side not in diverged and side not in blown and costs[side] is not None
    ]
    saturated = "" if diverged else _log0(report.checks)
    if saturated:  # a cost of log(0) at a saturated output, not an overflow: the parameters stayed finite
        return "final cost: not comparable: " + "; ".join([*went, *stayed, saturated])
    if not diverged and all(
        math.isinf(costs[side] or 0.0) for side in blown
    ):  # infinite from finite parameters: a log(0)
        # first reached after the last step compared
        went = [
            f"{names[side]}'s is {_num(costs[side])} at its final parameters, which are finite: its output reached "
            "exactly 0 or 1 there, where the course's cost is log(0)"
            for side in blown
        ]
        return "final cost: not comparable: " + "; ".join([*went, *stayed])
    return "final cost: not comparable (overflow): " + ", ".join(went) + "".join(f"; {s}" for s in stayed)


def _log0(checks: list[CheckResult]) -> str:
    """'from iteration 2580, A[L] reached exactly 1.0 where the course's cost is log(0)', where lockstep noted it."""
    lockstep = next((c for c in checks if c.name == "lockstep"), None)
    notes = lockstep.notes if lockstep is not None else []
    return next((note.split(";")[0] for note in notes if "the course's cost is log(0)" in note), "")


def _final_cost_lines(report: Report) -> list[str]:
    """Whose run the final cost is (the verifier stepping the implementation's functions), or why none is shown:
    the implementation raised in training, or its own loop does not train like its functions (then the
    verifier's run is not what the learner's code does)."""
    name = report.implementation
    raised = next((c for c in report.checks if c.name in ("lockstep", "free-running") and c.error is not None), None)
    if raised is not None and raised.error is not None:  # (the check found is one with an error)
        what = raised.error.what
        return [f"final cost: not compared ({name} {what} at iteration {raised.error_iteration}, see {raised.name})"]
    loop = next((c for c in report.checks if c.name.startswith("loop ") and not c.ok), None)
    if loop is not None:
        function = loop.name.split(" ", 1)[1]
        why = loop.error.what if loop.error is not None else "does not train like its functions"
        return [f"final cost: not shown: {name}'s own {function} {why} (see {loop.name})"]
    if report.final is None:
        return []
    s, t = report.final.impl, report.final.torch
    overflow = _final_overflow(report)
    if overflow:
        return [overflow]
    if s.cost is None:
        return [
            f"final cost: torch {_num(t.cost)}; {name}'s not computed: its forward pass or cost raised "
            "at its final parameters"
        ]
    line = f"final cost (the verifier stepping {name}'s functions): {name} {_num(s.cost)}  torch {_num(t.cost)}"
    if s.accuracy is not None and t.accuracy is not None:
        line += f"   accuracy: {name} {s.accuracy:.1%}  torch {t.accuracy:.1%}"
    return [line]


def _names(report: Report) -> dict[str, str]:
    """Each side's name in the report's words: the implementation's label, and torch."""
    return dict(Sides(report.implementation, "torch").items())


def _diverged(report: Report) -> dict[str, int]:
    """The sides that diverged, and the iteration each did, in the sides' order."""
    nonfinite = report.nonfinite
    return {} if nonfinite is None else {side: at for side, at in nonfinite.items() if at is not None}


def _unresolved_text(checks: list[CheckResult]) -> str:
    """' (2 rows unresolved by their check: gradcheck dW1, gradcheck db1)': which rows, by name, so the line is
    true with the tables shown or hidden (-q, summary())."""
    rows = [f"{c.name} {r.label}" for c in checks for r in c.rows.values() if r.status == "unresolved"]
    if not rows:
        return ""
    return f" ({_count(rows)} unresolved by {'their' if len(rows) != 1 else 'its'} check: {_named(rows)})"


def _overflow_text(checks: list[CheckResult]) -> str:
    """' (1 row not comparable (overflow) at some point: lockstep b2)': rows whose numbers left the dtype's range;
    a cost that is log(0), where a sigmoid output reached exactly 1.0 (lockstep's note), is said so."""
    log0 = bool(_log0(checks))
    rows = [
        (f"{c.name} {r.label}", log0 and r.quantity == "cost")
        for c in checks
        for r in c.rows.values()
        if r.ok and r.overflowed
    ]
    texts = []
    for cause, saturated in (("overflow", False), ("the course's cost is log(0)", True)):
        named = [name for name, cost in rows if cost == saturated]
        if named:
            texts.append(f"{_count(named)} not comparable ({cause}) at some point: {_named(named)}")
    return f" ({'; '.join(texts)})" if texts else ""


def _count(rows: list[str]) -> str:
    return f"{len(rows)} row{'s' * (len(rows) != 1)}"


def _named(rows: list[str]) -> str:
    """The first UNRESOLVED_NAMED rows by name, and how many more."""
    more = f" and {len(rows) - UNRESOLVED_NAMED} more" if len(rows) > UNRESOLVED_NAMED else ""
    return ", ".join(rows[:UNRESOLVED_NAMED]) + more


def _saturated_text(checks: list[CheckResult]) -> str:
    """'; training is not comparable from iteration k (A[L] reached exactly 1.0: ...)': where lockstep stopped
    at a saturated output (training.py), the PASS line says how far it holds."""
    lockstep = next((c for c in checks if c.name == "lockstep" and c.comparable_until is not None), None)
    if lockstep is None or lockstep.comparable_until is None:
        return ""
    reason = next((n.split(";")[0] for n in lockstep.notes if n.startswith("not comparable from")), "")
    if not reason:
        return ""
    k = lockstep.comparable_until
    return (f" up to iteration {k - 1}" if k > 0 else "") + f"; training is {reason}"


def _loops_not_run_text(checks: list[CheckResult], untrained: bool) -> str:
    """'; loop two_layer_model not run: it trains a network of 2 layers ...': a course loop the implementation
    defines that this run's sizes or options could not run (CheckResult.left_out) is its code left unverified, and
    the PASS line says so, tables shown or hidden (-q, summary()); with no iterations, no loop runs and the line
    says that."""
    if untrained:
        return ""
    return "".join(f"; {c.name} not run: {c.skipped}" for c in checks if c.left_out)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _shorten(text: str, width: int) -> str:
    text = _one_line(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def to_markdown(report: Report) -> str:
    """The report for TensorBoard's text tab: the verdict, the first divergence, one table per check."""
    first = report.first_divergence
    lines = [f"## Verdict: {report.verdict.upper()}", ""]
    if report.interruption is not None:  # an incomplete run says where it stopped
        lines += [verdict_lines(report)[0].removeprefix("VERDICT: "), ""]
    if first is not None:
        lines += [
            "**First divergence:** "
            + _divergence_text(first)
            .replace("\n  hint:", " *hint:*")
            .replace("\n  the network checks:", "; the network checks:")
            .replace("\n  ", " "),
            "",
        ]
    if report.functions:
        lines += [
            f"### {TITLES['functions']}: {_functions_status(report.functions)}",
            "",
            "| function | verdict | first wrong output | hint |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{f.function}` | {_function_status(f) if f.ok else '**' + _function_status(f) + '**'} | "
            f"{f.output or '-'}{': ' + f.detail if f.detail else ''} | {f.hint or '-'} |"
            for f in report.functions
        ]
        lines.append("")
    for check in report.checks:
        lines += [f"### {_title(check.name)}: {check.status}", ""]
        if check.skipped:
            lines += [f"not run: {check.skipped}", ""]
        if check.error is not None:  # in full once, in the check that saw it first
            lines += [
                f"error: the same as in {check.error_follows}" if check.error_follows else f"error: `{check.error}`",
                "",
            ]
        if check.rows:
            lines += ["| quantity | layer | max abs | max rel | allowed | status |", "|---|---|---|---|---|---|"]
            lines += [
                f"| {r.quantity} | {'-' if r.layer is None else r.layer} | {_gap(r.max_abs, r, 1)} | {_gap(r.max_rel, r, 1)} | {_num(r.tolerance, 1)} | "
                f"{_status(r) if r.ok else '**' + _status(r) + '**'} |"
                for r in check.rows.values()
            ]
            lines.append("")
    diverged = diverged_line(report)
    lines += ([diverged] if diverged else []) + _closing_lines(report)
    return "\n".join(lines)
