"""The verifier's report: verdict, first divergence, per-check tables, as text and as JSON."""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass, field
from typing import Optional

from .checks import CheckResult
from .compare import Comparison
from .config import Config

TITLES = {
    "forward": "forward: Z, A and the cost J, at the initial weights and at a kink probe",
    "backward": "backward: dZ, dW, db, dA (course convention), at the same two points",
    "gradcheck": "gradient check: backprop against centred differences of the cost (float64)",
    "lockstep": "training, lockstep: each step from the same parameters",
    "free-running": "training, free-running: each side on its own (tolerance grows with the step)",
}


@dataclass
class Report:
    config: Config
    examples: int
    checks: list[CheckResult]
    final: dict = field(default_factory=dict)  # side -> {"cost": float, "accuracy": float | None}
    costs: dict = field(default_factory=dict)  # side -> [cost per iteration]
    nonfinite: dict = field(default_factory=dict)
    drift: list = field(default_factory=list)
    run_dir: Optional[str] = None
    interrupted_at: Optional[int] = None
    seconds: float = 0.0
    implementation: str = "scratch"  # what was verified against torch

    @property
    def ok(self) -> bool:
        return self.interrupted_at is None and all(c.ok for c in self.checks)

    @property
    def verdict(self) -> str:
        return "pass" if self.ok else "fail"

    @property
    def tensorboard_command(self) -> Optional[str]:
        return None if self.run_dir is None else f"tensorboard --logdir {shlex.quote(self.run_dir)}"

    def first_divergence(self) -> Optional[dict]:
        """The first failing quantity, in the order the checks (and the quantities in them) are computed."""
        for check in self.checks:
            if check.error is not None:
                return {"check": check.check, "mode": check.name, "iteration": check.error_iteration,
                        "layer": None, "quantity": check.error.function, "max_abs": None, "max_rel": None,
                        "tolerance": None, "point": None, "hint": "", "error": str(check.error),
                        "traceback": check.error.trace}
            failed = [r for r in check.rows.values() if not r.ok]
            if failed:
                row = min(failed, key=lambda r: r.iteration if r.iteration is not None else -1)
                return {**_row_dict(row), "mode": check.name, "error": None, "traceback": []}
        return None

    def as_dict(self) -> dict:
        """The report as plain JSON types; a non-finite number (a diverged cost) becomes null."""
        return _json_safe(self._as_dict())

    def _as_dict(self) -> dict:
        c = self.config
        rtol, atol = c.tolerances
        return {
            "verdict": self.verdict,
            "first_divergence": self.first_divergence(),
            "checks": [
                {"name": k.name, "check": k.check, "ok": k.ok, "skipped": k.skipped, "notes": k.notes,
                 "error": None if k.error is None else str(k.error),
                 "rows": [_row_dict(r) for r in k.rows.values()]}
                for k in self.checks
            ],
            "config": {"arch": list(c.arch), "activations": list(c.activations), "loss": c.loss, "init": c.init,
                       "seed": c.seed, "data": c.data, "examples": self.examples, "iterations": c.iterations,
                       "lr": c.learning_rate, "dtype": c.dtype, "device": c.device, "rtol": rtol, "atol": atol},
            "final": self.final,
            "nonfinite": self.nonfinite,
            "drift": [{"iteration": i, "cost_gap": g, "max_param_gap": p} for i, g, p in self.drift],
            "costs": self.costs,
            "interrupted_at": self.interrupted_at,
            "implementation": self.implementation,
            "logdir": self.run_dir,
            "tensorboard": self.tensorboard_command,
            "seconds": round(self.seconds, 3),
        }

    def to_text(self, verbose: bool = False) -> str:
        c = self.config
        rtol, atol = c.tolerances
        lines = [
            f"{self.implementation} vs torch_ref: {'-'.join(map(str, c.arch))}, activations {','.join(c.activations)}, "
            f"loss {c.loss}, init {c.init}, seed {c.seed}, data {c.data} (m={self.examples}), {c.dtype} on {c.device}, "
            f"{c.iterations} iterations at lr {c.learning_rate:g}",
            "",
        ]
        for check in self.checks:
            lines += _check_lines(check, verbose)
        lines += self._summary_lines(rtol, atol)
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The report for TensorBoard's text tab: the verdict, the first divergence, one table per check."""
        first = self.first_divergence()
        lines = [f"## Verdict: {self.verdict.upper()}", ""]
        if first is not None:
            lines += ["**First divergence:** " + _describe(first).replace("\n  hint:", " *hint:*"), ""]
        for check in self.checks:
            lines += [f"### {TITLES.get(check.name, check.name)}: {'ok' if check.ok else 'FAIL'}", ""]
            if check.skipped:
                lines += [f"not run: {check.skipped}", ""]
            if check.error is not None:
                lines += [f"error: `{check.error}`", ""]
            if check.rows:
                lines += ["| quantity | layer | max abs | max rel | rtol | atol | ok |", "|---|---|---|---|---|---|---|"]
                lines += [f"| {r.quantity} | {r.layer} | {_num(r.max_abs, 1)} | {_num(r.max_rel, 1)} | {r.rtol:.2g} | {r.atol:.2g} | "
                          f"{'ok' if r.ok else '**FAIL**'} |" for r in check.rows.values()]
                lines.append("")
        lines += [line for line in self._summary_lines(*self.config.tolerances) if not line.startswith(("VERDICT", "first"))]
        return "\n".join(lines)

    def _summary_lines(self, rtol: float, atol: float) -> list[str]:
        lines = []
        if self.final:
            s, t = self.final.get("scratch", {}), self.final.get("torch", {})
            name = self.implementation
            line = f"final cost: {name} {_num(s.get('cost'))}  torch {_num(t.get('cost'))}"
            if s.get("accuracy") is not None:
                line += f"   accuracy: {name} {s['accuracy']:.1%}  torch {t['accuracy']:.1%}"
            lines.append(line)
        if self.drift:
            lines.append("free-running gap (iteration: cost, largest parameter): "
                         + ", ".join(f"{i}: {g:.1e}, {p:.1e}" for i, g, p in self.drift))
        diverged = {side: at for side, at in self.nonfinite.items() if at is not None}
        if diverged:
            names = {"scratch": self.implementation, "torch": "torch"}
            lines.append("diverged (non-finite or overflowing): " + ", ".join(
                f"{names[side]} at iteration {at}" for side, at in diverged.items())
                + ("" if len(diverged) == 2 else "; the other side stayed finite") + "; a smaller --lr trains")
        if self.interrupted_at is not None:
            lines.append(f"interrupted at iteration {self.interrupted_at}: the checks above cover what ran before it")
        first = self.first_divergence()
        if self.ok:
            lines.append(f"VERDICT: PASS  {self.implementation} and torch agree on every check (rtol {rtol:g}, atol {atol:g})")
        else:
            lines.append("VERDICT: FAIL")
        if first is not None:
            lines.append("first divergence: " + _describe(first))
        if self.run_dir is not None:
            lines.append(f"TensorBoard logs: {self.run_dir}   open them with: {self.tensorboard_command}")
        return lines


def _json_safe(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _row_dict(row: Comparison) -> dict:
    d = row.as_dict()
    d.pop("worst")
    return d


def _describe(first: dict) -> str:
    where = [first["mode"] if first["check"] == "training" else first["check"]]
    if first.get("iteration") is not None:
        where.append(f"iteration {first['iteration']}")
    if first.get("error"):
        return f"{', '.join(where)}: {first['error']}"
    if first.get("point") and first["check"] in ("forward", "backward"):
        where.append(f"at the {first['point']}")
    quantity = "cost" if first["quantity"] == "cost" else f"{first['quantity']}{first['layer']} (layer {first['layer']})"
    tol = first["tolerance"]
    text = (f"{', '.join(where)}: {quantity} differs; max abs {_num(first['max_abs'], 2)}, "
            f"max rel {_num(first['max_rel'], 2)} > tolerance rtol {tol['rtol']:.2g}, atol {tol['atol']:.2g}")
    if first.get("hint"):
        text += f"\n  hint: {first['hint']}"
    return text


def _check_lines(check: CheckResult, verbose: bool) -> list[str]:
    title = TITLES.get(check.name, check.name)
    status = "ok" if check.ok else "FAIL"
    lines = [f"{title}  [{status}]"]
    if check.skipped:
        lines.append(f"  not run: {check.skipped}")
    if check.error is not None:
        at = f" at iteration {check.error_iteration}" if check.error_iteration is not None else ""
        lines.append(f"  error{at}: {check.error}")
        lines += [f"    {line}" for line in check.error.trace]
    rows = list(check.rows.values())
    if rows:
        lines.append(f"  {'quantity':<9}{'layer':<8}{'max abs':>10}{'max rel':>10}{'rtol':>10}{'atol':>10}  ok")
        for label, layer, row in _table(rows, verbose):
            lines.append(f"  {label:<9}{layer:<8}{_num(row.max_abs, 1):>10}{_num(row.max_rel, 1):>10}"
                         f"{row.rtol:>10.2g}{row.atol:>10.2g}  {'ok' if row.ok else 'FAIL'}"
                         + (f" (iteration {row.iteration})" if not row.ok and row.iteration is not None else ""))
    lines += [f"  {note}" for note in check.notes]
    lines.append("")
    return lines


def _table(rows: list[Comparison], verbose: bool):
    """Every row when verbose; otherwise one line per quantity (its worst layer), failing rows always shown."""
    if verbose:
        return [(r.quantity, str(r.layer), r) for r in rows]
    out, groups = [], {}
    for r in rows:
        groups.setdefault(r.quantity, []).append(r)
    for quantity, group in groups.items():
        for r in group:
            if not r.ok:
                out.append((quantity, str(r.layer), r))
        if all(r.ok for r in group):
            worst = max(group, key=lambda r: r.worst)
            layers = sorted(r.layer for r in group)
            span = str(layers[0]) if len(layers) == 1 else f"{layers[0]}-{layers[-1]}"
            out.append((quantity, span, worst))
    return out


def _num(x, digits: int = 7) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return "inf" if x > 0 else "nan"
    return f"{x:.{digits}e}" if digits < 7 else f"{x:.7g}"
