"""TensorBoard logging: one experiment per run, runs/<experiment>/{numpy,torch,diff}.

numpy/ (the implementation under test: scratch, or the learner's file) and torch/ log the same
tags, so each chart of TensorBoard's default tab draws both curves; diff/ logs their (tiny)
differences under tags of its own. TensorBoard is imported only here, and only when logging is on.

Time Series, the default tab, groups cards by the tag's part before its first '/' and orders
them by tag (asciinumerically: a digit sorts before any letter, upper case before lower case),
so the tags are chosen for that order: `cost` first, then the other curves of both sides, the
gaps (`gap/...`), and last the custom-scalars copies under `~custom_scalars/` ('~' sorts after
every letter and digit).

Custom scalars: a chart holds no run, only tag regexes, and TensorBoard asks every run in
the logdir for them; it merges the layouts of all runs by category title. So each
experiment's layout is a category titled after the experiment, and its charts match only
tags that diff/ also logs under the experiment's name (`~custom_scalars/<name>/cost/torch`, ...).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import time
from typing import TYPE_CHECKING, cast

import numpy as np

from scratch.losses import mse_cost

from ..errors import ImplementationError, UsageError
from ..judging.prediction import prediction_accuracy
from ..network import Network
from ..results import Final, Sides
from .pictures import decision_boundary
from .tb_layers import layer_pictures
from .tblog_names import _safe, experiment_name, short_stem, source_hash

if TYPE_CHECKING:
    from torch.utils.tensorboard.writer import FileWriter

    from ..optimization import Optimization

__all__ = ["TensorBoardLog", "experiment_name", "short_stem", "source_hash"]  # the names tests import from here

SIDES = ("impl", "torch", "diff")  # the implementation under test, torch_ref, their differences
FOLDERS = {"impl": "numpy", "torch": "torch", "diff": "diff"}  # each side's run: what the run selector shows
CUSTOM = "~custom_scalars/"  # diff's copies for the custom-scalars charts: '~' sorts them after every other card
DETAIL_POINTS = 50  # accuracy, norms and the margin chart: about this many points per curve
HISTOGRAM_POINTS = 5  # a histogram of a large layer costs milliseconds
# Scalars are handed to the writers in batches, each event stamped with the time it was logged: each event handed
# over wakes a writer thread that takes the interpreter's lock from training (on 3,4,4,1, 0.15 s of a 1.8 s run).
# The writers flush every 10 s, so a live TensorBoard sees the same curves.
PUSH_EVERY_S = 1.0
PUSH_EVERY_EVENTS = 2_000
GAP_FLOOR = 1e-20  # log10 of an exact zero gap is drawn as -20


def _writes(method):
    """A TensorBoardLog method that writes: an OSError from the disk (ENOSPC: full, EDQUOT, EIO) becomes a
    UsageError naming the log folder, one line and exit 2, not a traceback from the middle of training."""

    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError as error:
            raise UsageError(
                f"--logdir {self.config.logdir}: the TensorBoard logs could not be written to {self.run_dir} "
                f"({error.strerror or error}); make room there, or give --no-tensorboard"
            ) from None

    guarded.__name__, guarded.__doc__ = method.__name__, method.__doc__
    return guarded


def _quiet_writer_errors(previous):
    """threading.excepthook while a log is open: an OSError in one of TensorBoard's writer threads is kept by
    that thread and raised again by the next write from the run, which says it in one line (_writes), so the
    thread's own traceback is not printed; anything else goes to the `previous` hook."""
    from tensorboard.summary.writer.event_file_writer import _AsyncWriterThread

    def hook(args):
        if isinstance(args.thread, _AsyncWriterThread) and issubclass(args.exc_type, OSError):
            return
        previous(args)

    return hook


def _utf8(text: str) -> str:
    """Text TensorBoard can store (protobuf strings are UTF-8): a file name's undecodable bytes, kept as lone
    surrogates, or a surrogate in an exception's message, are written as their escapes ('\\udcff')."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class TensorBoardLog:
    """The writers of one experiment and what goes into them."""

    @_writes
    def __init__(
        self, run_dir: str, config, plan: Optimization, X: np.ndarray, Y: np.ndarray, implementation: str = "scratch"
    ):
        import threading

        from tensorboard.compat.proto.summary_pb2 import Summary
        from torch.utils.tensorboard import SummaryWriter

        self._Summary = Summary
        self.run_dir = run_dir
        self.config = config
        self.X, self.Y = X, Y
        self.L = config.L
        self.network = Network.of(config)
        self.classification = config.activations[-1] != "linear"
        # A large queue: the writer thread computes each record's CRC in Python, and a full
        # queue (the default holds 10) would make training wait for it.
        # Each side's run is named after the side (numpy, torch, diff); the experiment's name says which file.
        self.implementation = implementation
        self.folders = dict(FOLDERS)
        # The custom-scalars charts' tags name the experiment's folder: no other experiment's do.
        self.experiment = _safe(os.path.basename(os.path.normpath(run_dir))) or "run"
        self.own = CUSTOM + self.experiment + "/"
        self._hook = threading.excepthook
        threading.excepthook = _quiet_writer_errors(self._hook)  # restored by close()
        self.writers = {}
        self._pending: list[tuple[str, object, int, float]] = []  # (side, summary, step, wall time): see _push
        self._pushed = time.monotonic()
        try:
            for side in SIDES:
                self.writers[side] = SummaryWriter(
                    os.path.join(run_dir, self.folders[side]), max_queue=100_000, flush_secs=10
                )
        except BaseException:  # no log to close later: close what was opened now
            for writer in self.writers.values():
                with contextlib.suppress(OSError):
                    writer.close()
            threading.excepthook = self._hook
            raise
        self.plan, self.initialisers = plan, False  # initialisers: the initialization notebook's curves were logged
        self.steps = self.plan.steps_total
        self.detail_every = max(1, math.ceil(self.steps / DETAIL_POINTS))
        self.histogram_every = max(1, math.ceil(self.steps / HISTOGRAM_POINTS))

    def scalars(self, side: str, step: int, values: dict) -> None:
        """Several scalars in one event: one record (and one CRC) instead of one per value; written with the next
        batch (PUSH_EVERY_S)."""
        summary = self._Summary(value=[self._Summary.Value(tag=t, simple_value=float(v)) for t, v in values.items()])
        self._pending.append((side, summary, step, time.time()))
        if len(self._pending) >= PUSH_EVERY_EVENTS or time.monotonic() - self._pushed >= PUSH_EVERY_S:
            self._push()

    def _push(self) -> None:
        """The scalars logged since the last batch, to their writers."""
        pending, self._pending, self._pushed = self._pending, [], time.monotonic()
        for side, summary, step, wall_time in pending:
            self._event_file(side).add_summary(summary, step, wall_time)

    def _event_file(self, side: str) -> FileWriter:
        """The side's event file. torch's SummaryWriter opens it on creation, yet its own code declares the
        attribute None (the value close() leaves), so its type is stated here."""
        return cast("FileWriter", self.writers[side].file_writer)

    @_writes
    def iteration(self, record) -> None:
        """What one training iteration (a training.Iteration) adds: costs and gaps every time, details and
        histograms now and then; at an epoch's end (with an optimiser, mini-batches or a decay), the epoch's
        cost, learning rate and the norms of the optimiser's v and s, per layer, with the epoch as the step."""
        if record.epoch_end and not self.plan.plain:
            self._epoch(record)
        i, s, t = record.index, record.impl_cost, record.torch_cost
        own = self.own  # diff/'s copies for this experiment's custom-scalars charts
        diff = {}
        if s is not None:
            self.scalars("impl", i, {"cost": s, **self._l2(s, record.impl_before, record.rows)})
            diff[own + "cost/" + self.folders["impl"]] = s
        if t is not None:
            self.scalars("torch", i, {"cost": t, **self._l2(t, record.torch_before, record.rows)})
            diff[own + "cost/torch"] = t
        compared = s is not None and t is not None and record.gaps is not None
        last = i == self.steps - 1
        if compared:
            diff["gap/cost_log10"] = _log10(abs(s - t))
            for l in self.network.parametrised():  # under the plain tag, and again for this experiment's charts
                diff[f"gap/params_log10/layer{l}"] = diff[f"{own}param_gap_log10/layer{l}"] = _log10(
                    max(record.gaps[(name, l)] for name in self.network.kind(l).names)
                )
            if i % self.detail_every == 0 or last:
                bound = record.cost_tolerance  # the free-running tolerance at this step
                diff.update(
                    {
                        "gap/cost": s - t,
                        "gap/cost_tolerance": bound,
                        own + "cost_gap/signed": s - t,
                        own + "cost_gap/lower": -bound,
                        own + "cost_gap/upper": bound,
                    }
                )
                self._details(record)
        if record.masks is not None:  # the same masks on both sides: the fraction each hidden layer dropped
            dropped = {
                f"dropped/layer{l}": 1 - float(np.mean(D)) for l, D in enumerate(record.masks, 1) if D is not None
            }
            for side in ("impl", "torch"):
                self.scalars(side, i, dropped)
        if diff:
            self.scalars("diff", i, diff)
        if compared and (i % self.histogram_every == 0 or last):
            layer_pictures(self.writers, self.network, record)

    @_writes
    def initialiser_cost(self, kind: str, step: int, impl_cost: float | None, torch_cost: float | None) -> None:
        """Each side's cost trained from one initialiser (checking/initialisers_trained.py) as `init/<kind>/cost`: one
        card per initialiser, both curves; diff's copies chart all six. A log(0) (inf) is not drawn."""
        self.initialisers, diff = True, {}
        for side, cost in (("impl", impl_cost), ("torch", torch_cost)):
            if cost is not None and math.isfinite(cost):
                self.scalars(side, step, {f"init/{kind}/cost": cost})
                diff[f"{self.own}init_cost/{kind}/{self.folders[side]}"] = cost
        if diff:
            self.scalars("diff", step, diff)

    def _l2(self, cost: float, params: dict, rows) -> dict:
        """With L2: the cost's penalty (lambd / 2m) sum ||W||^2, from the side's parameters before the step, and the
        data cost, the rest."""
        if not self.config.lambd or params is None:
            return {}
        m = self.X.shape[1] if rows is None else len(rows)
        squares = sum(float(np.sum(np.square(params[key]))) for key in self.network.decayed_keys())
        penalty = self.config.lambd / (2 * m) * squares  # scratch.l2_penalty's, over each kind's decayed parameters
        return {"cost_penalty": penalty, "cost_data": cost - penalty}

    def _epoch(self, record) -> None:
        own, diff = self.own, {}
        for side, cost, lr, state in (
            ("impl", record.impl_epoch_cost, record.impl_lr, record.impl_state),
            ("torch", record.torch_epoch_cost, record.torch_lr, record.torch_state),
        ):
            if cost is None:
                continue
            values = {"epoch/cost": cost, "epoch/learning_rate": lr}
            for name in ("v", "s"):
                for l in self.network.parametrised():
                    if state and name in state:
                        keys = [f"d{q}{l}" for q in self.network.kind(l).names]
                        values[f"epoch/{name}_norm/layer{l}"] = float(
                            np.sqrt(sum(np.sum(state[name][key] ** 2) for key in keys))
                        )
            self.scalars(side, record.epoch, values)
            diff[own + "epoch_cost/" + self.folders[side]] = cost
            diff[own + "learning_rate/" + self.folders[side]] = lr
        if diff:
            self.scalars("diff", record.epoch, diff)

    def _details(self, record) -> None:
        with np.errstate(all="ignore"):  # a diverging run's norms overflow to inf, which is what to show
            self._details_unguarded(record)

    def _details_unguarded(self, record) -> None:
        sides = {
            "impl": (record.impl_AL, record.impl_grads, record.impl_before, record.impl_after),
            "torch": (record.torch_AL, record.torch_grads, record.torch_before, record.torch_after),
        }
        Y = self.Y if record.rows is None else self.Y[:, record.rows]  # the step's mini-batch
        for side, (AL, grads, before, after) in sides.items():
            values = (
                {"prediction/accuracy": prediction_accuracy(AL, Y, self.config.activations[-1])}
                if self.classification
                else {"prediction/squared_error": float(mse_cost(AL, Y, None))}  # the mse cost, (1/2m) sum (A - Y)^2
            )
            for l in range(1, self.L + 1):
                weights = [name for name in self.network.kind(l).names if name not in self.network.kind(l).offsets]
                for name in weights:  # a dense layer's W
                    values[f"norm/{name}{l}"] = float(np.linalg.norm(after[f"{name}{l}"]))
                    values[f"norm/d{name}{l}"] = float(np.linalg.norm(grads[f"d{name}{l}"]))
                if weights:
                    key = f"{weights[0]}{l}"
                    values[f"norm/update{l}"] = float(np.linalg.norm(after[key] - before[key]))
            self.scalars(side, record.index, values)

    @_writes
    def finish(self, report, predict: Sides) -> None:
        """After the run: hparams and final metrics, the report as text, the layout, decision boundaries (`predict`:
        each side's A[L] of a grid of inputs, from its final parameters)."""
        from torch.utils.tensorboard.summary import hparams

        c = self.config
        step = max(self.steps - 1, 0)
        finals = report.final or Sides(Final(), Final())
        for (side, final), (_, predictor) in zip(finals.items(), predict.items()):
            metrics = {"final/cost": _finite_or_nan(final.cost), "final/verdict": 1.0 if report.ok else 0.0}
            if self.classification:
                metrics["final/accuracy"] = _finite_or_nan(final.accuracy)
            settings = {
                "side": self.folders[side],
                "implementation": _utf8(self.implementation),
                "arch": "-".join(map(str, c.arch)),
                "activations": ",".join(c.activations),
                "loss": c.loss,
                "init": c.init,
                "lr": float(c.learning_rate),
                "iterations": int(self.steps),
                "epochs": int(c.epoch_count),
                "optimizer": c.optimizer,
                "mini_batch_size": int(c.mini_batch_size or 0),
                **{k: float(v) for k, v in self.plan.settings().items()},
                "decay": c.decay or "none",
                **({"decay_rate": float(c.decay_rate)} if c.decay else {}),
                **({"decay_interval": int(c.decay_interval)} if c.decay == "scheduled" else {}),
                **({"lambd": float(c.lambd)} if c.lambd else {}),
                **({"keep_prob": ",".join(f"{p:g}" for p in c.keep_prob)} if c.keep_prob else {}),
                "dtype": c.dtype,
                "seed": int(c.seed),
                "examples": int(report.examples),
            }
            # Only the session summaries, written into this run's own file: add_hparams would
            # open a stray timestamped run folder, and several experiments' tables would clash.
            _, start, end = hparams(settings, metrics)
            writer, events = self.writers[side], self._event_file(side)
            events.add_summary(start)
            events.add_summary(end)
            self.scalars(side, step, metrics)
            if self.X.shape[0] == 2 and self.classification:
                try:
                    image = decision_boundary(self.X, self.Y, predictor)
                except ImplementationError:  # already reported by the checks; no picture then
                    image = None
                if image is not None:
                    writer.add_image("decision_boundary", image, step, dataformats="HWC")
        diff = self.writers["diff"]
        diff.add_text("report", _utf8(report.to_markdown()), step)
        diff.add_custom_scalars(self.layout())

    def interrupted(self, report) -> None:
        """A run a signal stopped: its text report (verdict INTERRUPTED, where, what agreed) and the layout, so the
        run shows as incomplete; no final metrics or pictures."""
        diff = self.writers["diff"]
        diff.add_text("report", report.to_markdown(), max(self.steps - 1, 0))
        diff.add_custom_scalars(self.layout())

    def layout(self) -> dict:
        """The custom-scalars charts of this experiment: one category, titled after it, over its own tags.

        Multiline charts take regexes (matched from the tag's start); margin series take tag names.
        """
        own, tested = self.own, self.folders["impl"]
        epochs = (
            {}
            if self.plan.plain
            else {
                f"epoch cost: {tested} and torch": ["Multiline", ["^" + re.escape(own + "epoch_cost/")]],
                f"learning rate: {tested} and torch": ["Multiline", ["^" + re.escape(own + "learning_rate/")]],
            }
        )
        each = {f"cost from each initialiser: {tested} and torch": ["Multiline", ["^" + re.escape(own + "init_cost/")]]}
        return {
            self.experiment: {
                **epochs,
                f"cost: {tested} and torch": ["Multiline", ["^" + re.escape(own + "cost/")]],
                f"cost gap ({tested} - torch) within the free-running tolerance": [
                    "Margin",
                    [own + "cost_gap/signed", own + "cost_gap/lower", own + "cost_gap/upper"],
                ],
                "largest parameter gap per layer (log10)": ["Multiline", ["^" + re.escape(own + "param_gap_log10/")]],
                **(each if self.initialisers else {}),
            }
        }

    @_writes
    def close(self) -> None:
        """Close every writer, even when one cannot write its last events (raised once all are closed)."""
        import threading

        failed = None
        try:
            try:
                self._push()
            except OSError as error:
                failed = error
            for writer in self.writers.values():
                try:
                    writer.close()
                except OSError as error:
                    failed = failed or error
        finally:
            threading.excepthook = self._hook
        if failed is not None:
            raise failed


def _log10(gap: float) -> float:
    return math.log10(max(gap, GAP_FLOOR)) if math.isfinite(gap) else float("inf")


def _finite_or_nan(x) -> float:
    return float(x) if x is not None and math.isfinite(x) else float("nan")
