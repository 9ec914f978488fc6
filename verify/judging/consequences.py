"""Which failures are consequences of an earlier one, so the first divergence stands out as the cause.

A failed row follows from an earlier failure of a quantity it is computed from (the
derivation's own dependencies, _inputs), in the same check or an earlier one, or of the same
quantity in an earlier check; gradient checking's rows also depend on the cost. Free-running
rows, and the training loop's, follow from any earlier failure: each run continues from its own steps.
A lockstep cost or gradient row that first breaks at a later iteration than a wrong step (a W or b row)
follows from that step's cause: lockstep starts each step from the implementation's own parameters, which
the wrong steps drove where correct training never goes (a gradient-sign slip climbs the cost until a
course-literal log(1 - AL) has lost its digits). The step's own rows and the optimiser's state are not
moved there: a slip in them can show first at a later step (Adam's epsilon, once s is small).
"""

from __future__ import annotations

from .compare import CheckResult, Comparison

AT_THE_PARAMETERS = ("cost", "Z", "A", "dZ", "dA", "dW", "db")  # computed from a step's starting parameters


def mark_consequences(checks: list[CheckResult], L: int) -> None:
    """Set `follows` on each failed row, and `error_follows` on each check repeating an earlier error."""
    failed: list[
        tuple[int, str, tuple[str, int], str]
    ] = []  # (check index, check name, key, label) of the failures so far, earliest first
    wrong_steps: list[tuple[int, str]] = []  # (iteration, the cause's label) of each lockstep W or b row that broke
    errors: dict[str, str] = {}  # function -> the first check whose error it raised
    for n, check in enumerate(checks):
        if check.error is not None:
            function = check.error.function
            if function in errors:
                check.error_follows = errors[function]
            else:
                errors[function] = check.name
        rows = sorted((r for r in check.rows.values() if not r.ok), key=failed_at)  # stable: computation order
        for row in rows:
            key = (row.quantity, row.layer)
            if check.name == "free-running" or check.name.startswith("loop"):
                origins = [f for f in failed if f[0] < n]
            else:
                upstream = _upstream(key, L) | (
                    _upstream(("cost", L), L) | {("cost", L)} if check.name == "gradcheck" else set()
                )
                origins = [f for f in failed if f[2] in upstream or (f[2] == key and f[0] < n)]
            if origins:
                row.follows = origins[0][3]
            elif check.name == "lockstep" and row.quantity in AT_THE_PARAMETERS:
                row.follows = next((cause for i, cause in wrong_steps if i < failed_at(row)), None)
            if check.name == "lockstep" and row.quantity in ("W", "b"):
                wrong_steps.append((failed_at(row), row.follows or f"{check.name} {row.label}"))
            failed.append((n, check.name, key, f"{check.name} {row.label}"))


def failed_at(row: Comparison) -> int:
    """When a failed row broke: its iteration (training), or -1 for the checks at one point."""
    return row.iteration if row.iteration is not None else -1


def _inputs(key: tuple, L: int) -> list:
    """The quantities (of the implementation's computation) that `key` is computed from directly."""
    q, l = key
    if l is None:  # a quantity of no layer (the language model's Wax, dWax, a): a parameter's step from its gradient
        return [(f"d{q}", None)] if not q.startswith("d") and q not in ("cost", "a") else []
    if q.startswith(("v_", "s_")):  # an optimiser's state: v_dW from dW, v_corrected_dW from v_dW, ...
        name, gradient = q.rsplit("_", 1)
        return [(f"{name.split('_')[0]}_{gradient}", l)] if name.endswith("corrected") else [(gradient, l)]
    if q in ("W", "b"):  # the step: from the gradient, the optimiser's state and the learning rate
        d = f"d{q}"
        return [(d, l), (f"v_{d}", l), (f"v_corrected_{d}", l), (f"s_corrected_{d}", l), ("lr", L)]
    return {
        "Z": [("A", l - 1)] if l > 1 else [],
        "A": [("Z", l)],
        "cost": [("A", L), ("Z", L)],
        "dZ": [("A", L)] if l == L else [("dA", l), ("Z", l)],
        "dW": [("dZ", l)] + ([("A", l - 1)] if l > 1 else []),
        "db": [("dZ", l)],
        "dA": [("dZ", l + 1)],
    }.get(q, [])


def _upstream(key: tuple, L: int) -> set:
    """Every quantity `key` is computed from, directly or not."""
    seen, todo = set(), list(_inputs(key, L))
    while todo:
        k = todo.pop()
        if k not in seen:
            seen.add(k)
            todo += _inputs(k, L)
    return seen
