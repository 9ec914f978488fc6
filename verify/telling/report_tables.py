"""The report's per-check tables and the text of one divergence: each check's block (title, status, error,
rows grouped by quantity), the function-by-function table, and the numbers' formatting shared by both renderers."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..checking.units import UnitResult
from ..judging.compare import CheckResult, Comparison, mismatch

if TYPE_CHECKING:
    from ..results import Divergence

TITLES = {
    "functions": "function by function: each course function on its own, against torch",
    "forward": "forward: Z, A and the cost J, at the initial weights and at a kink probe",
    "backward": "backward: dZ, dW, db, dA (course convention), at the same two points",
    "gradcheck": "gradient check: backprop against centred differences of the cost (float64)",
    "lockstep": "training, lockstep: each step from the same parameters",
    "free-running": "training, free-running: each side on its own (tolerance follows the dynamics)",
}


def _divergence_text(first: Divergence, with_fix: bool = True) -> str:
    """The first divergence in words: the fix line (with_fix) and where the network checks saw it, its numbers,
    its hint."""
    if with_fix and first.fix:
        if first.stage == "functions":
            return first.fix
        if first.rejected:  # the fix line holds the message: only where it was seen follows
            return f"{first.fix}\n  the network checks: {_where(first)}"
        hint = "" if first.hint and first.hint in first.fix else first.hint  # a loop's: said once
        return f"{first.fix}\n  the network checks: {_seen_text(first, hint)}"
    return _seen_text(first, first.hint)


def _seen_text(first: Divergence, hint: str) -> str:
    """Where the network checks saw the divergence, its numbers and `hint`."""
    if first.error:
        return f"{_where(first)}: {first.error}"
    row = first.row
    assert row is not None, "a divergence is a failed row, an error, or a function alone (which has its fix line)"
    where = [_where(first)]
    if row.point and first.stage in ("forward", "backward"):
        where.append(f"at the {row.point}")
    quantity = (
        row.quantity
        if row.quantity in ("cost", "lr") or row.layer is None
        else f"{row.quantity}{row.layer} (layer {row.layer})"
    )
    if _nan_at_worst(row):  # a nan has no difference to measure: no '>' either
        text = f"{', '.join(where)}: {quantity} differs; max abs nan (not a number), allowed {_num(row.tolerance, 2)}"
    else:
        text = (
            f"{', '.join(where)}: {quantity} differs; max abs {_num(row.max_abs, 2)} > allowed {_num(row.tolerance, 2)}"
        )
    if row.max_rel is not None and row.max_abs is not None and math.isfinite(row.max_abs):
        text += f" (max rel {_num(row.max_rel, 2)})"
    detail = _detail(row, first.name)
    if detail:
        text += f"; {detail}"
    if hint:
        text += f"\n  hint: {hint}"
    return text


def _where(first: Divergence) -> str:
    """'lockstep, iteration 3 (epoch 0, mini-batch 3)': the check that saw a divergence, and when."""
    where = [first.name if first.stage == "training" else first.stage]
    if first.iteration is not None:
        where.append(
            f"iteration {first.iteration}"
            + (f" (epoch {first.epoch}, mini-batch {first.mini_batch})" if first.epoch is not None else "")
        )
    return ", ".join(where)


def _detail(row: Comparison, check_name: str = "") -> str:
    """'3 of 16 entries differ, worst at (2, 0): 0.51 vs torch 0.026' for a failed row (a training loop's
    reference is the implementation's own steps, not torch)."""
    if row.value is None or row.expected is None:
        return ""
    reference = "its own steps" if check_name.startswith("loop") else "torch"
    return mismatch(row.mismatched, row.entries, row.index, row.value, row.expected, reference)


def _function_status(f: UnitResult) -> str:
    return f.status + (f", follows from {f.follows}" if f.follows else "")


def _functions_status(functions: list[UnitResult]) -> str:
    return "ok" if all(f.ok for f in functions) else "FAIL"


def _function_lines(functions: list[UnitResult], hints: set) -> list[str]:
    """The opening table: each course function the implementation defines, its verdict, its first wrong output
    (its hint unless already printed: `hints` holds those printed so far)."""
    if not functions:
        return []
    lines = [f"{TITLES['functions']}  [{_functions_status(functions)}]"]
    width = max(len(f.function) for f in functions) + 2
    for f in functions:
        lines.append(f"  {f.function:<{width}}{_function_status(f)}")
        if not f.ok and not f.follows:
            lines.append(f"  {'':<{width}}{f.output + ': ' if f.output else ''}{f.detail}")
            if f.hint and f.hint not in hints:
                hints.add(f.hint)
                lines.append(f"  {'':<{width}}hint: {f.hint}")
    lines.append("")
    return lines


def _status(row: Comparison) -> str:
    if row.ok:
        return row.status
    at = f" at iteration {row.iteration}" if row.iteration is not None else f" at the {row.point}" if row.point else ""
    return f"FAIL{at}" + (f", follows from {row.follows}" if row.follows else "")


def _title(name: str) -> str:
    if name.startswith("loop "):
        return f"training loop {name.split()[1]}: the course's loop, whole, against the same run"
    if name.startswith("init "):  # the initialization notebook's experiment (checking/initialisers_trained.py)
        return f"trained from initialize_parameters_{name.split()[1]}: each side on its own (free-running tolerance)"
    return TITLES.get(name, name)


def _check_lines(check: CheckResult, verbose: bool, hints: set) -> list[str]:
    """One check's block: title and status, why it did not run or what it raised, its rows; a failed row that is a
    cause gets its detail and its hint, the hint only where it was not printed above (`hints`)."""
    title = _title(check.name)
    primary = [r for r in check.rows.values() if not r.ok and not r.follows]
    status = check.status
    if not check.ok and not primary and check.error is None:
        origins = dict.fromkeys(r.follows for r in check.rows.values() if not r.ok)
        status += ", follows from " + ", ".join(origins)
    lines = [f"{title}  [{status}]"]
    if check.skipped:
        lines.append(f"  not run: {check.skipped}")
    if check.error is not None:
        at = f" at iteration {check.error_iteration}" if check.error_iteration is not None else ""
        if check.error_follows:  # printed in full once, in the check that saw it first
            lines.append(f"  error{at}: the same as in {check.error_follows}")
        else:
            said = check.error.rejected and str(check.error) in hints  # the verdict's fix line printed it
            lines.append(
                f"  error{at}: "
                + (f"{check.error.function} {check.error.what}: see the fix line above" if said else str(check.error))
            )
            lines += [f"    {line}" for line in check.error.trace]
    rows = list(check.rows.values())
    if rows:
        table = list(_table(rows, verbose))
        width = max([9] + [len(label) + 1 for label, _, _ in table])  # v_corrected_dW: an optimiser's state
        lines.append(f"  {'quantity':<{width}}{'layer':<8}{'max abs':>10}{'max rel':>10}{'allowed':>10}  status")
        for label, layer, row in table:
            lines.append(
                f"  {label:<{width}}{layer:<8}{_gap(row.max_abs, row, 1):>10}{_gap(row.max_rel, row, 1):>10}"
                f"{_num(row.tolerance, 1):>10}  {_status(row)}"
            )
            if not row.ok and not row.follows:
                detail = _detail(row, check.name)
                if detail:
                    lines.append(f"{'':19}{detail}")
                if row.hint and row.hint not in hints:
                    hints.add(row.hint)
                    lines.append(f"{'':19}hint: {row.hint}")
                if row.iteration is not None and row.max_abs is not None and row.run_max_abs > row.max_abs:
                    lines.append(f"{'':19}largest max abs over the run: {_num(row.run_max_abs, 1)}")
    lines += [f"  {note}" for note in check.notes]
    lines.append("")
    return lines


def _table(rows: list[Comparison], verbose: bool):
    """Every row when verbose; otherwise failing rows that are causes one by one, and one line
    per quantity and status for the rest (its closest call, or the first of those that follow)."""
    if verbose:
        return [(r.quantity, "-" if r.quantity == "lr" or r.layer is None else str(r.layer), r) for r in rows]
    order = {id(r): n for n, r in enumerate(rows)}
    out: list[tuple[int, str, str, Comparison]] = []
    groups: dict[tuple[str, str, str | None], list[Comparison]] = {}  # (quantity, status, follows) -> its rows
    for r in rows:
        if not r.ok and not r.follows:
            out.append((order[id(r)], r.quantity, "-" if r.quantity == "lr" or r.layer is None else str(r.layer), r))
        else:
            groups.setdefault((r.quantity, r.status, r.follows), []).append(r)
    for (quantity, _, _), group in groups.items():
        layers = sorted(r.layer for r in group if r.layer is not None)
        span = (
            "-"
            if quantity == "lr" or not layers
            else str(layers[0])
            if len(layers) == 1
            else f"{layers[0]}-{layers[-1]}"
            if layers == list(range(layers[0], layers[-1] + 1))
            else ",".join(map(str, layers))
        )
        shown = max(group, key=lambda r: r.ratio) if group[0].ok else group[0]
        out.append((order[id(group[0])], quantity, span, shown))
    return [item[1:] for item in sorted(out, key=lambda item: item[0])]


def _nan_at_worst(row: Comparison) -> bool:
    """Whether a row's gap is non-finite because a value at its worst entry is nan (compare.py counts a nan on one
    side as an infinite difference, so that it fails): the text then says nan, not inf."""
    gap = row.max_abs
    return (
        gap is not None
        and not math.isfinite(gap)
        and any(isinstance(v, float) and math.isnan(v) for v in (row.value, row.expected))
    )


def _gap(x, row: Comparison, digits: int) -> str:
    """A row's max abs or max rel: 'nan' where a value at its worst entry is nan, else the number."""
    return "nan" if x is not None and _nan_at_worst(row) else _num(x, digits)


def _num(x, digits: int = 7) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else "nan"
    return f"{x:.{digits}e}" if digits < 7 else f"{x:.7g}"
