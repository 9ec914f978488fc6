"""The verifier's report: what a run found (checks, final costs, notes), assembled once at its end, with its verdict
and first divergence decided when it is assembled; text and markdown are rendered by report_text.py (the per-check
tables by report_tables.py), the JSON by jsonout.py, each a pure function of a finished Report."""

from __future__ import annotations

import inspect
import os
import shlex
from dataclasses import dataclass, field, replace

from ..checking.units import UnitResult, unfinished
from ..config import Config
from ..judging.compare import CheckResult
from ..judging.consequences import failed_at
from ..judging.tolerance import GRADCHECK_RTOL, UPDATE_ROUNDING
from ..optimization import Optimization
from ..results import Divergence, Final, Sides
from ..signals import Interruption
from . import jsonout, report_text
from .report_tables import _detail

__all__ = ["Report", "_detail", "first_divergence", "function_sources"]  # _detail: imported from here by the tests


@dataclass(frozen=True)
class Report:
    """A finished run's results. Built once, by the runner at the end of the run (or by hand in a test); its first
    divergence is found when it is built, from the checks and functions it is given."""

    config: Config
    plan: Optimization  # how the run trained (its steps, mini-batches, rate), built once by the runner
    checks: list[CheckResult]
    final: Sides[Final] | None = None  # each side's cost and accuracy at its final parameters (None: not computed)
    costs: Sides[list[float]] | None = None  # each side's cost per iteration (per epoch with mini-batches)
    nonfinite: Sides[int | None] | None = None  # the iteration each side diverged at (None: training did not run)
    drift: list = field(default_factory=list)  # (iteration, cost gap, largest parameter gap, its allowance)
    run_dir: str | None = None
    interruption: Interruption | None = None  # a signal stopped the run: what agreed until then is reported
    seconds: float = 0.0
    implementation: str = "scratch"  # what was verified against torch
    notes: list[str] = field(default_factory=list)  # what the implementation did that is worth knowing, not a failure
    functions: list[UnitResult] = field(default_factory=list)  # the course functions' own checks, run first
    sources: dict = field(default_factory=dict)  # course function -> where it is defined (see function_sources)
    scope: str = ""  # an API with checks of its own and no network (impl/charlm.py): what the run checked
    composing: dict = field(default_factory=dict)  # its API's Adapter.COMPOSING (a fix line's function)
    first_divergence: Divergence | None = field(init=False, repr=False)  # decided once, from the above

    def __post_init__(self) -> None:
        first = first_divergence(self.checks, self.functions, self.sources, self.plan, self.composing)
        object.__setattr__(self, "first_divergence", first)

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
    def functions_only(self) -> bool:
        """Whether the run checked course functions alone: an API with no network (the gradient-checking notebook)."""
        return not self.checks and bool(self.functions) and self.interruption is None

    @property
    def untrained(self) -> bool:
        """Whether the run had no training step to check (--iterations 0 or --epochs 0; an API's own checks train)."""
        return self.plan.steps_total == 0 and not self.scope

    @property
    def examples(self) -> int:
        """m, the examples the run trained on."""
        return self.plan.m

    @property
    def tensorboard_command(self) -> str | None:
        return None if self.run_dir is None else f"tensorboard --logdir {shlex.quote(self.run_dir)}"

    @property
    def rule(self) -> str:
        """The tolerance rule, as applied."""
        if self.functions_only:
            return (
                f"|{self.implementation} - torch| <= rtol {self.config.relative_tolerance:g} x each quantity's scale, "
                "the size of the terms it is computed from"
            )
        if self.scope:
            return (
                f"|{self.implementation} - torch| <= rtol {self.config.relative_tolerance:g} x each quantity's scale, the size of "
                f"the terms it is computed from (update steps: + {UPDATE_ROUNDING} eps x the weights they move); "
                "free-running: the gap the dynamics allow"
            )
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

    def as_dict(self) -> dict:
        """The report as plain JSON types (jsonout.report_dict); a non-finite number (a diverged cost) becomes null."""
        return jsonout.report_dict(self)

    def to_text(self, verbose: bool = False) -> str:
        """The whole report: the verdict block first (see verdict_lines), then the run, the tables, the closing lines."""
        return report_text.to_text(self, verbose)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        """'<Report fail: fix `relu_backward` ...>': one line, never the whole dataclass."""
        return report_text.short_repr(self)

    def summary(self) -> str:
        """The short form for a notebook or a CI log (at most ten lines): the verdict, what to fix, where it was
        first seen, its hint."""
        return report_text.summary(self)

    def header(self) -> str:
        """What was compared: the implementation, the network, the data, the training plan."""
        return report_text.header(self)

    def verdict_lines(self) -> list[str]:
        """The report's opening block: the verdict; on a failure the function to fix (with its hint), then where
        the network checks first saw it (with theirs); whether a side diverged. Every line is one line of text."""
        return report_text.verdict_lines(self)

    def _repr_markdown_(self) -> str:
        """In a Jupyter notebook, a report shows itself as its markdown tables."""
        return self.to_markdown()

    def to_markdown(self) -> str:
        """The report for TensorBoard's text tab: the verdict, the first divergence, one table per check."""
        return report_text.to_markdown(self)


def first_divergence(
    checks: list[CheckResult], functions: list[UnitResult], sources: dict, plan: Optimization, composing: dict
) -> Divergence | None:
    """The first failing quantity, in the order the checks (and the quantities in them) are computed, with the
    course function to fix (its first wrong output) when one failed on its own and the network runs it; a
    function the network does not run is the first divergence only when the network agrees. `sources` says where
    each function is defined; `plan` which epoch and mini-batch a training iteration was; `composing` the
    function each check's stage runs by calling the others (Adapter.COMPOSING)."""
    first = _first_network_divergence(checks)
    if (
        first is not None
        and first.iteration is not None
        and first.name in ("lockstep", "free-running")
        and plan.batches_per_epoch > 1
    ):  # which epoch and mini-batch the step was
        first = replace(
            first, epoch=first.iteration // plan.batches_per_epoch, mini_batch=first.iteration % plan.batches_per_epoch
        )
    # a function that failed on its own explains the first divergence where the network runs it, or where it raised
    # in a check of its own (the initialisation notebook's "init zeros" trains from initialize_parameters_zeros; what
    # such a check rejected says itself, at the run's own sizes)
    raised = first.quantity if first is not None and first.error and not first.rejected else None
    causes = [
        f for f in functions if not f.ok and not f.follows and (first is None or f.in_network or f.function == raised)
    ]
    if first is not None and first.point != "kink probe":
        # a function wrong only at Z = 0 cannot explain a divergence away from the kink: another cause first
        causes.sort(key=lambda f: "exactly 0" in f.hint)
    unit = causes[0] if causes else None
    if unit is None:
        return _fix_of(first, sources, composing, {f.function for f in functions if f.ok})
    if first is None:  # the network agrees: the function alone is wrong (e.g. only at an exact 0)
        first = Divergence("functions", "functions", unit.output)
    return replace(first, function=unit.function, fix=unit.fix, source=sources.get(unit.function))


def _fix_of(first: Divergence | None, sources: dict, composing: dict, passed: set[str]) -> Divergence | None:
    """The first divergence with its fix line where the network checks name the function to fix on their own:
    a course loop whose run differs from its own functions' steps (the functions and the network agree), a
    function whose result the checks rejected (caches in reverse order), or the function that composes a stage
    (L_model_backward) where every function it calls agrees on its own, its numbers wrong or raising: the
    function, what is wrong, where it is defined (`passed`: the functions that pass their own checks). Any other
    function that raised names itself in its error; it gets no fix line here."""
    if first is None:
        return None
    if first.name == first.stage and first.stage in composing and first.row is not None and not first.error:
        function, handed = composing[first.stage]
        what = f"its {first.label} differs " + (
            f"({first.hint})"
            if first.hint
            else f"(the functions it calls agree on their own: the slip is in how it calls them, {handed})"
        )
    elif first.name == first.stage and first.stage in composing and first.error and not first.rejected:
        function, handed = composing[first.stage]
        if first.quantity != function:
            return first
        what = _raised_within(function, first.error, first.traceback, handed, passed)
    elif first.name.startswith("loop ") and not first.error:
        function = first.name.split(" ", 1)[1]
        what = first.hint or (
            f"its {first.label} differs from its own functions' steps from the "
            "same start (which the checks above agree with)"
        )
    elif first.quantity and first.name == f"loop {first.quantity}" and first.error and not first.rejected:
        function = first.quantity  # the loop raised, in its own code or a function it called
        what = _raised_within(
            function, first.error, first.traceback, "the values it passes from one step to the next", passed
        )
    elif first.rejected and first.error is not None and first.quantity is not None:
        function, what = first.quantity, first.error.split(": ", 1)[-1]
    else:
        return first
    return replace(first, function=function, fix=f"fix `{function}`: {what}", source=sources.get(function))


def _raised_within(function: str, error: str, trace: tuple[str, ...], handed: str, passed: set[str]) -> str:
    """What a composing function that raised is told: the error, and where the innermost of its frames is another
    function, that what it hands that function is to check (the slip, where that function passes its own check)."""
    kind = error.split(" raised ", 1)[-1].split(":", 1)[0]
    where = trace[-1].split(",  ", 1)[0] if trace else ""
    inner = where.rsplit(" in ", 1)[-1] if where else function
    hint = unfinished(error)  # a value left None, a block left empty
    left, more = (f" ({hint})", f"; {hint}") if hint else ("", "")
    if inner == function:  # (its file is on the fix line already)
        return (
            f"it raised {kind} at line {where.rsplit(' in ', 1)[0].rsplit(':', 1)[-1]}{left}"
            if where
            else f"it raised {kind}{left}"
        )
    if inner in passed:
        return (
            f"{kind} raised in {inner}, which passes its own check: the slip is in what {function} hands it "
            f"({handed}){more}"
        )
    return f"{kind} raised in {inner}, called from it: check what it hands it ({handed}){more}"


def _first_network_divergence(checks: list[CheckResult]) -> Divergence | None:
    for check in checks:
        if check.error is not None:
            return Divergence(
                check.stage,
                check.name,
                check.error.function,
                iteration=check.error_iteration,
                error=str(check.error),
                rejected=check.error.rejected,
                what=check.error.what,
                traceback=tuple(check.error.trace),
            )
        failed = [r for r in check.rows.values() if not r.ok]
        if failed:
            row = min(failed, key=failed_at)
            return Divergence(row.stage, check.name, row.quantity, iteration=row.iteration, layer=row.layer, row=row)
    return None


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
