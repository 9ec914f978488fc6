"""The verifier's report: verdict, first divergence, per-check tables, as text and as JSON."""

from __future__ import annotations

import inspect
import math
import os
import shlex
from dataclasses import dataclass, field

import numpy as np

from .compare import CheckResult, Comparison, mismatch
from .config import Config
from .consequences import failed_at, mark_consequences
from .hints import divergence_cure
from .jsonout import SCHEMA_VERSION
from .optimization import Optimization
from .signals import Interruption
from .tolerance import GRADCHECK_RTOL, UPDATE_ROUNDING
from .units import UnitResult

SUMMARY_LINES = 10  # report.summary(): short enough for a notebook cell's output or a CI log
UNRESOLVED_NAMED = 4  # the verdict names this many unresolved rows, then counts the rest

TITLES = {
    "functions": "function by function: each course function on its own, against torch",
    "forward": "forward: Z, A and the cost J, at the initial weights and at a kink probe",
    "backward": "backward: dZ, dW, db, dA (course convention), at the same two points",
    "gradcheck": "gradient check: backprop against centred differences of the cost (float64)",
    "lockstep": "training, lockstep: each step from the same parameters",
    "free-running": "training, free-running: each side on its own (tolerance follows the dynamics)",
}


@dataclass
class Report:
    config: Config
    plan: Optimization  # how the run trained (its steps, mini-batches, rate), built once by the runner
    checks: list[CheckResult]
    final: dict = field(default_factory=dict)  # side ("impl", "torch") -> {"cost": float, "accuracy": float | None}
    costs: dict = field(default_factory=dict)  # side ("impl", "torch") -> [cost per iteration]
    nonfinite: dict = field(default_factory=dict)
    drift: list = field(default_factory=list)
    run_dir: str | None = None
    interruption: Interruption | None = None  # a signal stopped the run: what agreed until then is reported
    seconds: float = 0.0
    implementation: str = "scratch"  # what was verified against torch
    notes: list[str] = field(default_factory=list)  # what the implementation did that is worth knowing, not a failure
    functions: list[UnitResult] = field(default_factory=list)  # the course functions' own checks, run first
    sources: dict = field(default_factory=dict)  # course function -> where it is defined (see function_sources)

    @property
    def failed(self) -> bool:
        return any(not c.ok for c in self.checks) or any(not f.ok for f in self.functions)

    @property
    def ok(self) -> bool:
        return self.interruption is None and not self.failed

    @property
    def verdict(self) -> str:
        """pass, fail, or interrupted (Ctrl-C or a signal before the end, with nothing failed so far)."""
        return "fail" if self.failed else "interrupted" if self.interruption is not None else "pass"

    @property
    def interrupted_at(self) -> int | None:
        """The training iterations finished when a signal stopped training; None otherwise."""
        return None if self.interruption is None else self.interruption.iterations

    @property
    def untrained(self) -> bool:
        """Whether the run had no training step to check (--iterations 0 or --epochs 0)."""
        return self.plan.steps_total == 0

    @property
    def examples(self) -> int:
        """m, the examples the run trained on."""
        return self.plan.m

    @property
    def tensorboard_command(self) -> str | None:
        return None if self.run_dir is None else f"tensorboard --logdir {shlex.quote(self.run_dir)}"

    def mark_consequences(self) -> None:
        """Mark each failed row (and repeated error) that follows from an earlier divergence (see consequences.py)."""
        mark_consequences(self.checks, self.config.L)

    def first_divergence(self) -> dict | None:
        """The first failing quantity, in the order the checks (and the quantities in them) are computed,
        with the course function to fix ("fix": its first wrong output) when one failed on its own and the
        network runs it; a function the network does not run is the first divergence only when the network agrees."""
        first = self._first_network_divergence()
        plan = self.plan
        if (
            first is not None
            and first.get("iteration") is not None
            and first["name"] in ("lockstep", "free-running")
            and plan.batches_per_epoch > 1
        ):  # which epoch and mini-batch the step was
            first = {
                **first,
                "epoch": first["iteration"] // plan.batches_per_epoch,
                "mini_batch": first["iteration"] % plan.batches_per_epoch,
            }
        causes = [f for f in self.functions if not f.ok and not f.follows and (first is None or f.in_network)]
        if first is not None and first.get("point") != "kink probe":
            # a function wrong only at Z = 0 cannot explain a divergence away from the kink: another cause first
            causes.sort(key=lambda f: "exactly 0" in f.hint)
        unit = causes[0] if causes else None
        if unit is None:
            return self._fix_of(first)
        if first is None:  # the network agrees: the function alone is wrong (e.g. only at an exact 0)
            first = {
                "stage": "functions",
                "name": "functions",
                "iteration": None,
                "layer": None,
                "quantity": unit.output,
                "max_abs": None,
                "max_rel": None,
                "tolerance": None,
                "point": None,
                "hint": "",
                "error": None,
                "traceback": [],
            }
        return {**first, "function": unit.function, "fix": unit.fix, "source": self.sources.get(unit.function)}

    def _fix_of(self, first: dict | None) -> dict | None:
        """The first divergence with its fix line where the network checks name the function to fix on their own:
        a course loop whose run differs from its own functions' steps (the functions and the network agree), or a
        function whose result the checks rejected (caches in reverse order): the function, what is wrong, where
        it is defined. A function that raised names itself in its error; it gets no fix line here."""
        if first is None:
            return None
        if first["name"].startswith("loop ") and not first.get("error"):
            function = first["name"].split(" ", 1)[1]
            what = first.get("hint") or (
                f"its {_row_name(first)} differs from its own functions' steps from the "
                "same start (which the checks above agree with)"
            )
        elif first.get("rejected"):
            function, what = first["quantity"], first["error"].split(": ", 1)[-1]
        else:
            return first
        return {**first, "function": function, "fix": f"fix `{function}`: {what}", "source": self.sources.get(function)}

    def _first_network_divergence(self) -> dict | None:
        for check in self.checks:
            if check.error is not None:
                return {
                    "stage": check.stage,
                    "name": check.name,
                    "iteration": check.error_iteration,
                    "layer": None,
                    "quantity": check.error.function,
                    "max_abs": None,
                    "max_rel": None,
                    "tolerance": None,
                    "point": None,
                    "hint": "",
                    "error": str(check.error),
                    "rejected": check.error.rejected,
                    "traceback": check.error.trace,
                }
            failed = [r for r in check.rows.values() if not r.ok]
            if failed:
                row = min(failed, key=failed_at)
                return {**row.as_dict(), "name": check.name, "error": None, "traceback": []}
        return None

    def as_dict(self) -> dict:
        """The report as plain JSON types; a non-finite number (a diverged cost) becomes null."""
        return _json_safe(self._as_dict())

    def _as_dict(self) -> dict:
        c = self.config
        assert c.activations is not None, "a report's config is validated"
        return {
            "schema_version": SCHEMA_VERSION,
            "verdict": self.verdict,
            "first_divergence": self.first_divergence(),
            "rule": self.rule,
            "functions": [f.as_dict() for f in self.functions],
            "checks": [
                {
                    "name": k.name,
                    "stage": k.stage,
                    "status": k.status,
                    "ok": k.ok,
                    "skipped": k.skipped,
                    "notes": k.notes,
                    "error": None if k.error is None else str(k.error),
                    "error_follows": k.error_follows,
                    "comparable_until": k.comparable_until,
                    "rows": [r.as_dict() for r in k.rows.values()],
                }
                for k in self.checks
            ],
            "config": {
                "arch": list(c.sizes),
                "arch_from": c.arch_from,
                "activations": list(c.activations),
                "loss": c.loss,
                "init": c.init,
                "seed": c.seed,
                "data": c.data,
                "examples": self.examples,
                "iterations": self.plan.steps_total,
                "lr": c.learning_rate,
                "dtype": c.dtype,
                "device": c.device,
                "rtol": c.relative_tolerance,
                "api": c.api,
                "optimizer": c.optimizer,
                "beta": c.beta,
                "beta1": c.beta1,
                "beta2": c.beta2,
                "epsilon": c.epsilon,
                "mini_batch_size": c.mini_batch_size,
                "epochs": c.epoch_count,
                "decay": c.decay,
                "decay_rate": c.decay_rate if c.decay else None,
                "decay_interval": c.decay_interval if c.decay == "scheduled" else None,
                "lambd": c.lambd,
                "keep_prob": None if c.keep_prob is None else list(c.keep_prob),
            },
            "final": self.final,
            "nonfinite": self.nonfinite,
            "drift": [{"iteration": i, "cost_gap": g, "max_param_gap": p, "allowed": a} for i, g, p, a in self.drift],
            "costs": self.costs,
            "interrupted_at": self.interrupted_at,
            "interrupted": None if self.interruption is None else self.interruption.as_dict(),
            "implementation": self.implementation,
            "notes": self.notes,
            "logdir": self.run_dir,
            "tensorboard": self.tensorboard_command,
            "seconds": round(self.seconds, 3),
        }

    @property
    def rule(self) -> str:
        """The tolerance rule, as applied."""
        return (
            f"|{self.implementation} - torch| <= rtol {self.config.relative_tolerance:g} x each quantity's scale, the size of "
            f"the terms it is computed from (update steps: + {UPDATE_ROUNDING} eps x the weights they move); gradient "
            f"check: relative difference {GRADCHECK_RTOL:g} + the finite differences' rounding; free-running: the gap "
            "the dynamics allow"
            + (
                "; Adam's step: entry by entry, each against the error its own "
                "v_corrected / (sqrt(s_corrected) + epsilon) can carry (its rows show the entry "
                "closest to its own tolerance)"
                if self.config.optimizer == "adam"
                else ""
            )
        )

    def to_text(self, verbose: bool = False) -> str:
        """The whole report: the verdict block first (see verdict_lines), then the run, the tables, the closing lines."""
        hints = self._verdict_hints()  # a hint is printed once: in the verdict block, else at its first row
        first = self.first_divergence()
        if first is not None and first.get("fix") and first.get("error"):  # so is a rejection, in the fix line
            hints.add(first["error"])
        lines = self.verdict_lines() + ["", self.header(), ""]
        lines += _function_lines(self.functions, hints)
        for check in self.checks:
            lines += _check_lines(check, verbose, hints)
        lines += self._closing_lines()
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """'<Report fail: fix `relu_backward` ...>': one line, never the whole dataclass."""
        first = self.first_divergence()
        what = "" if first is None else ": " + (first.get("fix") or _divergence_text(first).split("\n")[0])
        return f"<Report {self.verdict}{_shorten(what, 120)}>"

    def summary(self) -> str:
        """The short form for a notebook or a CI log (at most ten lines): the verdict, what to fix, where it was
        first seen, its hint."""
        return "\n".join(self.verdict_lines()[:SUMMARY_LINES])

    def header(self) -> str:
        """What was compared: the implementation, the network, the data, the training plan."""
        c = self.config
        assert c.activations is not None, "a report's config is validated"
        return (
            f"{self.implementation} vs torch_ref: {c.arch_text}, activations {','.join(c.activations)}, "
            f"loss {c.loss}, init {c.init}, seed {c.seed}, data {c.data} (m={self.examples}), {c.dtype} on {c.device}, "
            + self.plan.describe()
            + (f", L2 lambd {c.lambd:g}" if c.lambd else "")
            + (f", dropout keep_prob {','.join(f'{p:g}' for p in c.keep_prob)}" if c.keep_prob else "")
        )

    def verdict_lines(self) -> list[str]:
        """The report's opening block: the verdict; on a failure the function to fix (with its hint), then where
        the network checks first saw it (with theirs); whether a side diverged. Every line is one line of text."""
        name = self.implementation
        if self.verdict == "pass":
            lines = [
                f"VERDICT: PASS  {name} and torch agree on every check"
                + _unresolved_text(self.checks)
                + _overflow_text(self.checks)
                + _saturated_text(self.checks)
                + ("; training not run: no iterations" if self.untrained else "")
            ]
        elif self.verdict == "interrupted":
            checked = self.functions or any(c.rows or c.error for c in self.checks)
            stop = self.interruption
            assert stop is not None, "the verdict is interrupted only with an interruption"
            lines = [
                f"VERDICT: INTERRUPTED by {stop.signal} {stop.where()}; "
                + ("everything so far agreed" if checked else "nothing had been checked yet")
            ]
        else:
            stopped = (
                ""
                if self.interruption is None
                else f" (interrupted by {self.interruption.signal} {self.interruption.where()})"
            )
            lines = [f"VERDICT: FAIL{stopped}"]
        first = self.first_divergence()
        if first is not None:
            if first.get("fix"):  # what to fix, and where it is (a helper file is named, not only the file verified)
                lines.append(
                    _one_line(first["fix"]) + (f"; defined in {first['source']}" if first.get("source") else "")
                )
            if first["stage"] == "functions":
                lines.append(
                    f"first divergence: function by function, {first['function']}'s {first['quantity'] or 'result'}; "
                    "the network checks agree"
                )
            elif first.get("fix") and first.get("rejected"):  # the fix line holds the message: said once
                lines.append(
                    f"first divergence: {_where(first)}: {first['function']} returned what the checks "
                    "cannot use, as the fix line says"
                )
            else:
                text = _divergence_text({**first, "fix": None})
                where, _, hint = text.partition("\n  hint: ")
                lines.append("first divergence: " + _one_line(where))
                if hint and hint not in (first.get("fix") or ""):  # a loop's hint is its fix line: said once
                    lines.append("  hint: " + _one_line(hint))
        diverged = self._diverged_line()
        if diverged:
            lines.append(diverged)
        return lines

    def _verdict_hints(self) -> set:
        """The hints the verdict block prints: the first divergence's, and the one in its fix line."""
        first = self.first_divergence()
        if first is None:
            return set()
        unit = next((f for f in self.functions if f.function == first.get("function")), None)
        return {hint for hint in (first.get("hint"), unit.hint if unit and first.get("fix") else None) if hint}

    def _diverged_line(self) -> str:
        name = self.implementation
        diverged = {side: at for side, at in self.nonfinite.items() if at is not None}
        if not diverged:
            return ""
        names = {"impl": name, "torch": "torch"}
        line = "diverged (non-finite or overflowing): " + ", ".join(
            f"{names[side]} at iteration {at}" for side, at in diverged.items()
        )
        if "torch" in diverged:  # torch's own run blew up too: the learning rate, not the derivation
            return line + ("" if len(diverged) == 2 else f"; {name} stayed finite") + "; " + self._divergence_cure()
        return line + "; torch stayed finite"

    def _divergence_cure(self) -> str:
        """The option to change where torch's own run diverged (hints.divergence_cure), over the smallest batch."""
        plan = self.plan
        size = plan.mini_batch_size or plan.m
        c = self.config
        return divergence_cure(c.learning_rate, c.lambd, min(size, plan.m % size or size), c.optimizer, c.beta)

    def _repr_markdown_(self) -> str:
        """In a Jupyter notebook, a report shows itself as its markdown tables."""
        return self.to_markdown()

    def to_markdown(self) -> str:
        """The report for TensorBoard's text tab: the verdict, the first divergence, one table per check."""
        first = self.first_divergence()
        lines = [f"## Verdict: {self.verdict.upper()}", ""]
        if self.interruption is not None:  # an incomplete run says where it stopped
            lines += [self.verdict_lines()[0].removeprefix("VERDICT: "), ""]
        if first is not None:
            lines += [
                "**First divergence:** "
                + _divergence_text(first).replace("\n  hint:", " *hint:*").replace("\n  ", " "),
                "",
            ]
        if self.functions:
            lines += [
                f"### {TITLES['functions']}: {_functions_status(self.functions)}",
                "",
                "| function | verdict | first wrong output | hint |",
                "|---|---|---|---|",
            ]
            lines += [
                f"| `{f.function}` | {_function_status(f) if f.ok else '**' + _function_status(f) + '**'} | "
                f"{f.output or '-'}{': ' + f.detail if f.detail else ''} | {f.hint or '-'} |"
                for f in self.functions
            ]
            lines.append("")
        for check in self.checks:
            lines += [f"### {_title(check.name)}: {check.status}", ""]
            if check.skipped:
                lines += [f"not run: {check.skipped}", ""]
            if check.error is not None:  # in full once, in the check that saw it first
                lines += [
                    f"error: the same as in {check.error_follows}"
                    if check.error_follows
                    else f"error: `{check.error}`",
                    "",
                ]
            if check.rows:
                lines += ["| quantity | layer | max abs | max rel | allowed | status |", "|---|---|---|---|---|---|"]
                lines += [
                    f"| {r.quantity} | {r.layer} | {_gap(r.max_abs, r, 1)} | {_gap(r.max_rel, r, 1)} | {_num(r.tolerance, 1)} | "
                    f"{_status(r) if r.ok else '**' + _status(r) + '**'} |"
                    for r in check.rows.values()
                ]
                lines.append("")
        diverged = self._diverged_line()
        lines += ([diverged] if diverged else []) + self._closing_lines()
        return "\n".join(lines)

    def _closing_lines(self) -> list[str]:
        """After the tables: the final cost, the free-running gap, the notes, the rule, where the logs are."""
        lines = self._final_cost_lines()
        if self.drift:
            lines.append(
                "free-running gap (iteration: cost, largest parameter gap / allowed): "
                + ", ".join(f"{i}: {g:.1e}, {p:.1e}/{a:.1e}" for i, g, p, a in self.drift)
            )
        lines += [f"note: {note}" for note in self.notes]
        lines.append(f"rule: {self.rule}")
        if self.run_dir is not None:
            lines.append(f"TensorBoard logs: {self.run_dir}   open them with: {self.tensorboard_command}")
        return lines

    def _final_overflow(self) -> str:
        """The final-cost line where a side diverged, or its final cost is not finite: its final parameters are not
        comparable with the other side's (a diverged implementation keeps its last finite ones), so no numbers are
        set side by side; a side that stayed finite shows its own."""
        names = {"impl": self.implementation, "torch": "torch"}
        costs = {side: self.final.get(side, {}).get("cost") for side in names}
        diverged = {side: at for side, at in self.nonfinite.items() if at is not None}
        blown = [
            side
            for side, cost in costs.items()
            if side not in diverged and cost is not None and not math.isfinite(cost)
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
        return "final cost: not comparable (overflow): " + ", ".join(went) + "".join(f"; {s}" for s in stayed)

    def _final_cost_lines(self) -> list[str]:
        """Whose run the final cost is (the verifier stepping the implementation's functions), or why none is shown:
        the implementation raised in training, or its own loop does not train like its functions (then the
        verifier's run is not what the learner's code does)."""
        name = self.implementation
        raised = next((c for c in self.checks if c.name in ("lockstep", "free-running") and c.error is not None), None)
        if raised is not None and raised.error is not None:  # (the check found is one with an error)
            what = raised.error.what
            return [
                f"final cost: not compared ({name} {what} at iteration {raised.error_iteration}, see {raised.name})"
            ]
        loop = next((c for c in self.checks if c.name.startswith("loop ") and not c.ok), None)
        if loop is not None:
            function = loop.name.split(" ", 1)[1]
            why = "raised" if loop.error is not None else "does not train like its functions"
            return [f"final cost: not shown: {name}'s own {function} {why} (see {loop.name})"]
        if not self.final:
            return []
        s, t = self.final.get("impl", {}), self.final.get("torch", {})
        overflow = self._final_overflow()
        if overflow:
            return [overflow]
        if s.get("cost") is None:
            return [
                f"final cost: torch {_num(t.get('cost'))}; {name}'s not computed: its forward pass or cost raised "
                "at its final parameters"
            ]
        line = f"final cost (the verifier stepping {name}'s functions): {name} {_num(s['cost'])}  torch {_num(t.get('cost'))}"
        if s.get("accuracy") is not None and t.get("accuracy") is not None:
            line += f"   accuracy: {name} {s['accuracy']:.1%}  torch {t['accuracy']:.1%}"
        return [line]


def function_sources(module, names) -> dict:
    """Where each course function in `names` is defined, as a learner finds it: 'dnn_utils.py, line 24' (a helper
    file is named, not only the file verified), 'slip.ipynb, cell [7], line 3' (a notebook's cell as Jupyter
    shows it; a Jupyter .py export's too: 'app.py, cell [7], line 3'). A name the module does not define as
    Python code is left out."""
    sources = {}
    for name in names:
        function = getattr(module, name, None)
        code = getattr(inspect.unwrap(function), "__code__", None) if callable(function) else None
        if code is None or not code.co_filename or code.co_filename.startswith("<"):
            continue
        folder, file = os.path.split(code.co_filename)
        in_cell = folder.endswith(".ipynb") or os.path.isfile(folder)  # a notebook's, or a .py export's, cell
        where = f"{os.path.basename(folder)}, {file}" if in_cell else file
        sources[name] = f"{where}, line {code.co_firstlineno}"
    return sources


def _row_name(first: dict) -> str:
    """'cost' or 'W2': a divergence's quantity, with its layer where it has one."""
    return first["quantity"] if first["quantity"] in ("cost", "lr") else f"{first['quantity']}{first['layer']}"


def _unresolved_text(checks: list[CheckResult]) -> str:
    """' (2 rows unresolved by their check: gradcheck dW1, gradcheck db1)': which rows, by name, so the line is
    true with the tables shown or hidden (-q, summary())."""
    rows = [f"{c.name} {r.label}" for c in checks for r in c.rows.values() if r.status == "unresolved"]
    if not rows:
        return ""
    shown = ", ".join(rows[:UNRESOLVED_NAMED]) + (
        f" and {len(rows) - UNRESOLVED_NAMED} more" if len(rows) > UNRESOLVED_NAMED else ""
    )
    return f" ({len(rows)} row{'s' * (len(rows) != 1)} unresolved by {'their' if len(rows) != 1 else 'its'} check: {shown})"


def _overflow_text(checks: list[CheckResult]) -> str:
    """' (1 row not comparable (overflow) at some point: lockstep b2)': rows whose numbers left the dtype's range."""
    rows = [f"{c.name} {r.label}" for c in checks for r in c.rows.values() if r.ok and r.overflowed]
    if not rows:
        return ""
    shown = ", ".join(rows[:UNRESOLVED_NAMED]) + (
        f" and {len(rows) - UNRESOLVED_NAMED} more" if len(rows) > UNRESOLVED_NAMED else ""
    )
    return f" ({len(rows)} row{'s' * (len(rows) != 1)} not comparable (overflow) at some point: {shown})"


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


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _shorten(text: str, width: int) -> str:
    text = _one_line(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def _json_safe(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _divergence_text(first: dict) -> str:
    if first.get("fix"):
        if first["stage"] == "functions":
            return first["fix"]
        if first.get("rejected"):  # the fix line holds the message: only where it was seen follows
            return f"{first['fix']}\n  the network checks: {_where(first)}"
        hint = "" if first.get("hint") and first["hint"] in first["fix"] else first.get("hint")  # a loop's: said once
        return f"{first['fix']}\n  the network checks: {_divergence_text({**first, 'fix': None, 'hint': hint})}"
    if first.get("error"):
        return f"{_where(first)}: {first['error']}"
    where = [_where(first)]
    if first.get("point") and first["stage"] in ("forward", "backward"):
        where.append(f"at the {first['point']}")
    quantity = (
        first["quantity"]
        if first["quantity"] in ("cost", "lr")
        else f"{first['quantity']}{first['layer']} (layer {first['layer']})"
    )
    if _nan_at_worst(first):  # a nan has no difference to measure: no '>' either
        text = (
            f"{', '.join(where)}: {quantity} differs; max abs nan (not a number), allowed {_num(first['tolerance'], 2)}"
        )
    else:
        text = f"{', '.join(where)}: {quantity} differs; max abs {_num(first['max_abs'], 2)} > allowed {_num(first['tolerance'], 2)}"
    if first.get("max_rel") is not None and first["max_abs"] is not None and math.isfinite(first["max_abs"]):
        text += f" (max rel {_num(first['max_rel'], 2)})"
    detail = _detail(first, first.get("name", ""))
    if detail:
        text += f"; {detail}"
    if first.get("hint"):
        text += f"\n  hint: {first['hint']}"
    return text


def _where(first: dict) -> str:
    """'lockstep, iteration 3 (epoch 0, mini-batch 3)': the check that saw a divergence, and when."""
    where = [first["name"] if first["stage"] == "training" else first["stage"]]
    if first.get("iteration") is not None:
        where.append(
            f"iteration {first['iteration']}"
            + (f" (epoch {first['epoch']}, mini-batch {first['mini_batch']})" if first.get("epoch") is not None else "")
        )
    return ", ".join(where)


def _detail(row: dict, check_name: str = "") -> str:
    """'3 of 16 entries differ, worst at (2, 0): 0.51 vs torch 0.026' for a failed row (a training loop's
    reference is the implementation's own steps, not torch)."""
    if row.get("value") is None:
        return ""
    reference = "its own steps" if check_name.startswith("loop") else "torch"
    return mismatch(
        row.get("mismatched"), row.get("entries"), row.get("index"), row["value"], row["expected"], reference
    )


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
                + (
                    f"{check.error.function} returned what the checks cannot use: see the fix line above"
                    if said
                    else str(check.error)
                )
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
                detail = _detail(row.as_dict(), check.name)
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
        return [(r.quantity, "-" if r.quantity == "lr" else str(r.layer), r) for r in rows]
    order = {id(r): n for n, r in enumerate(rows)}
    out: list[tuple[int, str, str, Comparison]] = []
    groups: dict[tuple[str, str, str | None], list[Comparison]] = {}  # (quantity, status, follows) -> its rows
    for r in rows:
        if not r.ok and not r.follows:
            out.append((order[id(r)], r.quantity, "-" if r.quantity == "lr" else str(r.layer), r))
        else:
            groups.setdefault((r.quantity, r.status, r.follows), []).append(r)
    for (quantity, _, _), group in groups.items():
        layers = sorted(r.layer for r in group)
        span = (
            "-"
            if quantity == "lr"
            else str(layers[0])
            if len(layers) == 1
            else f"{layers[0]}-{layers[-1]}"
            if layers == list(range(layers[0], layers[-1] + 1))
            else ",".join(map(str, layers))
        )
        shown = max(group, key=lambda r: r.ratio) if group[0].ok else group[0]
        out.append((order[id(group[0])], quantity, span, shown))
    return [item[1:] for item in sorted(out, key=lambda item: item[0])]


def _nan_at_worst(row: dict) -> bool:
    """Whether a row's gap is non-finite because a value at its worst entry is nan (compare.py counts a nan on one
    side as an infinite difference, so that it fails): the text then says nan, not inf."""
    gap = row.get("max_abs")
    return (
        gap is not None
        and not math.isfinite(gap)
        and any(isinstance(v, float) and math.isnan(v) for v in (row.get("value"), row.get("expected")))
    )


def _gap(x, row: Comparison, digits: int) -> str:
    """A row's max abs or max rel: 'nan' where a value at its worst entry is nan, else the number."""
    return (
        "nan"
        if x is not None and _nan_at_worst({"max_abs": row.max_abs, "value": row.value, "expected": row.expected})
        else _num(x, digits)
    )


def _num(x, digits: int = 7) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else "nan"
    return f"{x:.{digits}e}" if digits < 7 else f"{x:.7g}"
