"""The JSON report's one way out (`--json PATH`): checked before any work, written once, atomically.

The rules, as the code applies them:

- Refused up front (a UsageError: one line, exit 2), before anything is loaded or run: an empty path;
  the implementation under test (`--impl`) or the `--data` file, compared as files (a symlink,
  `./x` or `../dir/x` reaching one is the same file); any name ending in `.py` or `.ipynb`, since
  that is code (the implementation, or a helper file it may import); a folder, a FIFO, a device
  (`/dev/full`) or any other existing path that is not a regular file; a read-only file; a path
  whose folder is missing or where a file cannot be created (a probe file is created and removed).
- Accepted, the older file at the path is removed before the run starts, so a run that dies
  leaves no stale verdict behind.
- The report is written once, after the text report: into a temporary file in the same folder,
  then renamed over the path (`os.replace`), so a reader sees the old file, no file, or the whole
  new one, never a part. A run that ends without a report (an interrupt before it, an exception
  inside the verifier) still writes one, with the verdict `interrupted` or `error` and the reason.
- `--json -` prints the JSON on stdout, and nothing else goes there: while the run lasts, stdout
  (Python's and the process's file descriptor 1) is sent to stderr.

report_dict is the JSON renderer: a pure function of a finished Report (nothing in it is changed or decided
there), which names the two sides "impl" and "torch".
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import TYPE_CHECKING

import numpy as np

from ..errors import UsageError
from .output_paths import check_output

if TYPE_CHECKING:
    from ..judging.compare import CheckResult
    from ..results import Divergence, Sides
    from .report import Report

# The JSON's layout (docs/report.schema.json): raised when a key is removed or changes meaning.
SCHEMA_VERSION = 1


class JsonTarget:
    """Where `--json` sends the report: None (nowhere), "-" (stdout) or a checked file path."""

    def __init__(self, path: str | None):
        self.path = path
        # the file actually written: a symlink's target, so the link the user made stays a link
        self.file = None if path in (None, "-") else os.path.realpath(path)
        self.written = False
        self._umask = _current_umask()  # read now, before any thread can create a file

    @classmethod
    def checked(cls, path: str | None, impl: str | None, data: str | None) -> JsonTarget:
        """The target for `--json path`, or a UsageError saying why the report cannot go there."""
        if path is not None and path != "-":
            check_path(path, impl, data)
        return cls(path)

    def clear(self) -> None:
        """Remove the older report at the path, if any: from here on the path holds this run's report or nothing."""
        if self.file is not None and os.path.lexists(self.file):
            try:
                os.remove(self.file)
            except OSError as error:
                raise UsageError(
                    f"--json {self.path}: cannot remove the older file there ({error.strerror or error})"
                ) from None

    @contextmanager
    def stdout_for_json_only(self) -> Iterator[None]:
        """With `--json -`, everything printed while this lasts goes to stderr; otherwise nothing changes."""
        if self.path != "-":
            yield
            return
        with stdout_to_stderr():
            yield

    def write(self, document: dict) -> None:
        """Write `document` once (a second call does nothing): to stdout, or atomically to the file."""
        if self.path is None or self.written:
            return
        self.written = True
        text = json.dumps(document, indent=2) + "\n"
        if self.path == "-":
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            assert self.file is not None, "a path other than - has its file"
            write_atomically(self.file, text, 0o666 & ~self._umask)


def check_path(path: str, impl: str | None, data: str | None) -> None:
    """UsageError unless `path` can take the report without replacing an input or blocking (see the module doc)."""
    if path == "":
        raise UsageError("--json needs a file path (or - for stdout), got ''")
    reads = ((impl, "the implementation under test (--impl)"), (data, "the --data file"))
    check_output("--json", path, [(given, what) for given, what in reads if given], "the report", "report.json")


def write_atomically(file: str, text: str, mode: int) -> None:
    """`text` into `file` by way of a temporary file in the same folder and a rename, with permissions `mode`."""
    folder, name = os.path.split(file)
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the bytes on disk before the name points at them
        os.chmod(temporary, mode)  # mkstemp's 0600, widened to what a plain open() would have made
        os.replace(temporary, file)
    except BaseException:
        if os.path.lexists(temporary):
            os.remove(temporary)
        raise


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """sys.stdout and, where stdout is a real file descriptor, fd 1 itself (what C code, os.write or a child
    process prints) point at stderr while this lasts."""
    sys.stdout.flush()
    original = sys.stdout
    saved = _redirect_fd(sys.stdout, sys.stderr)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        for stream in (original, sys.__stdout__, sys.stderr):  # text a kept stdout reference buffered: to stderr too
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):
                pass
        if saved is not None:
            out_fd, copy = saved
            os.dup2(copy, out_fd)
            os.close(copy)


def _redirect_fd(out, err) -> tuple[int, int] | None:
    """Point out's descriptor at err's; (out's descriptor, a copy of what it was) to restore, or None when either
    stream has no descriptor (a test's captured stream)."""
    try:
        out_fd, err_fd = out.fileno(), err.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    copy = os.dup(out_fd)
    os.dup2(err_fd, out_fd)
    return out_fd, copy


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def ended_early(verdict: str, reason: str, implementation: str | None) -> dict:
    """The JSON of a run that ended without a report: `verdict` ("error" or "interrupted"), the reason, and the
    report's list-valued keys empty, so a reader of either shape finds them."""
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "error": reason,
        "first_divergence": None,
        "functions": [],
        "checks": [],
        "interrupted_at": None,
        "implementation": implementation or "scratch",
        "notes": [],
    }


def report_dict(report: Report) -> dict:
    """The JSON of a finished report, as plain JSON types: a non-finite number (a diverged cost) becomes null."""
    return _json_safe(
        {
            "schema_version": SCHEMA_VERSION,
            "verdict": report.verdict,
            "first_divergence": _divergence_dict(report.first_divergence),
            "rule": report.rule,
            "functions": [f.as_dict() for f in report.functions],
            "checks": [_check_dict(k) for k in report.checks],
            "config": _config_dict(report),
            "final": _sides_dict(report.final, lambda f: {"cost": f.cost, "accuracy": f.accuracy}),
            "nonfinite": _sides_dict(report.nonfinite),
            "drift": [{"iteration": i, "cost_gap": g, "max_param_gap": p, "allowed": a} for i, g, p, a in report.drift],
            "costs": _sides_dict(report.costs, list),
            "interrupted_at": report.interrupted_at,
            "interrupted": None if report.interruption is None else report.interruption.as_dict(),
            "implementation": report.implementation,
            "notes": list(report.notes),
            "logdir": report.run_dir,
            "tensorboard": report.tensorboard_command,
            "seconds": round(report.seconds, 3),
        }
    )


def _sides_dict(sides: Sides | None, value=lambda v: v) -> dict:
    """{"impl": ..., "torch": ...}: the JSON's names for the two sides ({} where there is no value per side)."""
    return {} if sides is None else {name: value(v) for name, v in sides.items()}


def _divergence_dict(first: Divergence | None) -> dict | None:
    """The first divergence: its row's keys (or, for an error or a function alone, the same keys with no numbers),
    with the epoch and mini-batch where training had several, and the function to fix where one is known."""
    if first is None:
        return None
    if first.row is not None:
        d = {**first.row.as_dict(), "name": first.name, "error": None, "traceback": []}
    else:
        d = {
            "stage": first.stage,
            "name": first.name,
            "iteration": first.iteration,
            "layer": first.layer,
            "quantity": first.quantity,
            "max_abs": None,
            "max_rel": None,
            "tolerance": None,
            "point": None,
            "hint": "",
            "error": first.error,
            **({} if first.stage == "functions" else {"rejected": first.rejected}),
            "traceback": list(first.traceback),
        }
    if first.epoch is not None:
        d.update(epoch=first.epoch, mini_batch=first.mini_batch)
    if first.function is not None:
        d.update(function=first.function, fix=first.fix, source=first.source)
    return d


def _config_dict(report: Report) -> dict:
    """The run's configuration in the JSON report: the options as given, m and the steps as trained."""
    c = report.config
    assert c.activations is not None, "a report's config is validated"
    return {
        "arch": list(c.sizes),
        "arch_from": c.arch_from,
        "layers": list(c.layers) if c.layers else None,
        "activations": list(c.activations),
        "loss": c.loss,
        "init": c.init,
        "seed": c.seed,
        "data": c.data,
        "examples": report.examples,
        "iterations": report.plan.steps_total,
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


def _check_dict(k: CheckResult) -> dict:
    """One check in the JSON report: its status, why it did not run or what it raised, its rows."""
    return {
        "name": k.name,
        "stage": k.stage,
        "status": k.status,
        "ok": k.ok,
        "skipped": k.skipped,
        "notes": list(k.notes),
        "error": None if k.error is None else str(k.error),
        "error_follows": k.error_follows,
        "comparable_until": k.comparable_until,
        "rows": [r.as_dict() for r in k.rows.values()],
    }


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
