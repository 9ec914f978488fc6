"""The verifier's report: its data (checks, final costs, notes), its verdict and first divergence, and its JSON
form; the text and markdown renderers are in report_text.py, the per-check tables in report_tables.py."""

from __future__ import annotations

import inspect
import math
import os
import shlex
from dataclasses import dataclass, field

import numpy as np

from ..checking.units import UnitResult
from ..config import Config
from ..judging.compare import CheckResult
from ..judging.consequences import failed_at, mark_consequences
from ..judging.tolerance import GRADCHECK_RTOL, UPDATE_ROUNDING
from ..optimization import Optimization
from ..signals import Interruption
from . import report_text
from .jsonout import SCHEMA_VERSION
from .report_tables import _detail

__all__ = ["Report", "_detail", "function_sources"]  # _detail: imported from here by the tests


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
        return {
            "schema_version": SCHEMA_VERSION,
            "verdict": self.verdict,
            "first_divergence": self.first_divergence(),
            "rule": self.rule,
            "functions": [f.as_dict() for f in self.functions],
            "checks": [_check_dict(k) for k in self.checks],
            "config": self._config_dict(),
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

    def _config_dict(self) -> dict:
        """The run's configuration in the JSON report: the options as given, m and the steps as trained."""
        c = self.config
        assert c.activations is not None, "a report's config is validated"
        return {
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


def _check_dict(k: CheckResult) -> dict:
    """One check in the JSON report: its status, why it did not run or what it raised, its rows."""
    return {
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
