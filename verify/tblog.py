"""TensorBoard logging: one experiment per run, runs/<name>/{scratch,torch,diff}.

scratch/ and torch/ log the same tags, so each TensorBoard chart draws both curves; diff/
logs their (tiny) differences under tags of its own. TensorBoard is imported only here,
and only when logging is on.

Custom scalars: a chart holds no run, only tag regexes, and TensorBoard asks every run in
the logdir for them; it merges the layouts of all runs by category title. So each
experiment's layout is a category titled after the experiment, and its charts match only
tags that diff/ also logs under the experiment's name (`<name>/cost/torch`, ...).
"""

from __future__ import annotations

import math
import os
import re
import time
from typing import Optional

import numpy as np

import scratch

from .errors import ImplementationError, UsageError
from .pictures import decision_boundary

SIDES = ("impl", "torch", "diff")  # the implementation under test, torch_ref, their differences
DETAIL_POINTS = 50  # accuracy, norms and the margin chart: about this many points per curve
HISTOGRAM_POINTS = 5  # a histogram of a large layer costs milliseconds
HISTOGRAM_BINS = 30  # over the values' own range
GAP_FLOOR = 1e-20  # log10 of an exact zero gap is drawn as -20


def experiment_name(arch, activations, name: Optional[str], implementation: str = "scratch") -> str:
    """`--name` made safe as one folder name, or date_time[_implementation]_arch_activations."""
    if name is None:
        tested = "" if implementation == "scratch" else run_folder(implementation) + "_"
        return "{}_{}{}_{}".format(time.strftime("%Y-%m-%d_%H%M%S"), tested, "-".join(map(str, arch)),
                                   "-".join(dict.fromkeys(activations)))
    return _safe(name) or "run"


def run_folder(implementation: str) -> str:
    """The run of the implementation under test: scratch, or the learner's file name without its extension."""
    folder = _safe(os.path.splitext(implementation)[0]) or "impl"
    return folder + "_impl" if folder in ("torch", "diff") else folder


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("._")


def check_logdir(logdir: str) -> None:
    """Create logdir if needed and make sure runs can be written into it; UsageError otherwise."""
    try:
        os.makedirs(logdir, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--logdir {logdir}: cannot create it ({error.strerror or error})") from None
    if not os.access(logdir, os.W_OK | os.X_OK):
        raise UsageError(f"--logdir {logdir} is not writable")


def make_run_dir(logdir: str, name: str) -> str:
    """A new folder under logdir; a taken name gets a suffix (-2, -3, ...), so no run is appended to."""
    check_logdir(logdir)
    for n in range(1, 10_000):
        path = os.path.join(logdir, name if n == 1 else f"{name}-{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
        except OSError as error:
            raise UsageError(f"--logdir {logdir}: cannot create {path} ({error.strerror})") from None
    raise UsageError(f"--logdir {logdir}: too many runs named {name}")


class TensorBoardLog:
    """The writers of one experiment and what goes into them."""

    def __init__(self, run_dir: str, config, X: np.ndarray, Y: np.ndarray, implementation: str = "scratch"):
        from tensorboard.compat.proto.summary_pb2 import Summary
        from torch.utils.tensorboard import SummaryWriter

        self._Summary = Summary
        self.run_dir = run_dir
        self.config = config
        self.X, self.Y = X, Y
        self.L = config.L
        self.classification = config.activations[-1] != "linear"
        # A large queue: the writer thread computes each record's CRC in Python, and a full
        # queue (the default holds 10) would make training wait for it.
        # The side under test is logged into a run named after it: scratch, or the learner's file.
        self.implementation = implementation
        self.folders = {"impl": run_folder(implementation), "torch": "torch", "diff": "diff"}
        # The custom-scalars charts' tags start with the experiment's folder name: no other experiment's do.
        self.experiment = _safe(os.path.basename(os.path.normpath(run_dir))) or "run"
        self.writers = {side: SummaryWriter(os.path.join(run_dir, self.folders[side]), max_queue=100_000, flush_secs=10)
                        for side in SIDES}
        from .optimization import Optimization

        self.plan = Optimization.from_config(config, X.shape[1])
        self.steps = self.plan.steps_total
        self.detail_every = max(1, math.ceil(self.steps / DETAIL_POINTS))
        self.histogram_every = max(1, math.ceil(self.steps / HISTOGRAM_POINTS))

    def scalars(self, side: str, step: int, values: dict) -> None:
        """Several scalars in one event: one record (and one CRC) instead of one per value."""
        summary = self._Summary(value=[self._Summary.Value(tag=t, simple_value=float(v)) for t, v in values.items()])
        self.writers[side].file_writer.add_summary(summary, step)

    def iteration(self, record) -> None:
        """What one training iteration (a training.Iteration) adds: costs and gaps every time, details and
        histograms now and then; at an epoch's end (with an optimiser, mini-batches or a decay), the epoch's
        cost, learning rate and the norms of the optimiser's v and s, per layer, with the epoch as the step."""
        if record.epoch_end and not self.plan.plain:
            self._epoch(record)
        i, s, t = record.index, record.impl_cost, record.torch_cost
        own = self.experiment + "/"  # diff/'s copies for this experiment's custom-scalars charts
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
            diff["cost_gap_log10"] = _log10(abs(s - t))
            shown = {f"param_gap_log10/layer{l}": _log10(max(record.gaps[("W", l)], record.gaps[("b", l)]))
                     for l in range(1, self.L + 1)}
            if i % self.detail_every == 0 or last:
                bound = record.cost_tolerance  # the free-running tolerance at this step
                shown.update({"cost_gap/signed": s - t, "cost_gap/lower": -bound, "cost_gap/upper": bound})
                self._details(record)
            for tag, value in shown.items():  # under the plain tag, and again for this experiment's charts
                diff[tag] = diff[own + tag] = value
        if record.masks is not None:  # the same masks on both sides: the fraction each hidden layer dropped
            dropped = {f"dropped/layer{l}": 1 - float(np.mean(D)) for l, D in enumerate(record.masks, 1) if D is not None}
            for side in ("impl", "torch"):
                self.scalars(side, i, dropped)
        if diff:
            self.scalars("diff", i, diff)
        if compared and (i % self.histogram_every == 0 or last):
            self._histograms(record)

    def _l2(self, cost: float, params: dict, rows) -> dict:
        """With L2: the cost's penalty (lambd / 2m) sum ||W||^2, from the side's parameters before the step, and the
        data cost, the rest."""
        if not self.config.lambd or params is None:
            return {}
        penalty = scratch.l2_penalty(params, self.config.lambd, self.X.shape[1] if rows is None else len(rows))
        return {"cost_penalty": penalty, "cost_data": cost - penalty}

    def _epoch(self, record) -> None:
        own, diff = self.experiment + "/", {}
        for side, cost, lr, state in (("impl", record.impl_epoch_cost, record.impl_lr, record.impl_state),
                                      ("torch", record.torch_epoch_cost, record.torch_lr, record.torch_state)):
            if cost is None:
                continue
            values = {"epoch/cost": cost, "epoch/learning_rate": lr}
            for name in ("v", "s"):
                for l in range(1, self.L + 1):
                    if state and name in state:
                        values[f"epoch/{name}_norm/layer{l}"] = float(np.sqrt(
                            np.sum(state[name][f"dW{l}"] ** 2) + np.sum(state[name][f"db{l}"] ** 2)))
            self.scalars(side, record.epoch, values)
            diff[own + "epoch_cost/" + self.folders[side]] = cost
            diff[own + "learning_rate/" + self.folders[side]] = lr
        if diff:
            self.scalars("diff", record.epoch, diff)

    def _details(self, record) -> None:
        with np.errstate(all="ignore"):  # a diverging run's norms overflow to inf, which is what to show
            self._details_unguarded(record)

    def _details_unguarded(self, record) -> None:
        import torch_ref

        trainer = record.torch_run
        sides = {
            "impl": (record.impl_AL, record.impl_grads, record.impl_before, record.impl_after),
            "torch": (trainer.output(), torch_ref.gradients(trainer.model), record.torch_before, record.torch_after),
        }
        Y = self.Y if record.rows is None else self.Y[:, record.rows]  # the step's mini-batch
        for side, (AL, grads, before, after) in sides.items():
            values = {"accuracy": scratch.prediction_accuracy(AL, Y, self.config.activations[-1])} if self.classification else {
                "squared_error": float(np.sum((AL - Y) ** 2) / Y.shape[1])}
            for l in range(1, self.L + 1):
                values[f"norm/W{l}"] = np.linalg.norm(after[f"W{l}"])
                values[f"norm/dW{l}"] = np.linalg.norm(grads[f"dW{l}"])
                values[f"norm/update{l}"] = np.linalg.norm(after[f"W{l}"] - before[f"W{l}"])
            self.scalars(side, record.index, values)

    def _histograms(self, record) -> None:
        import torch_ref

        sides = {"impl": (record.impl_after, record.impl_grads),
                 "torch": (record.torch_after, torch_ref.gradients(record.torch_run.model))}
        for side, (params, grads) in sides.items():
            writer = self.writers[side]
            for l in range(1, self.L + 1):
                for tag, values in ((f"weights/W{l}", params[f"W{l}"]), (f"weights/b{l}", params[f"b{l}"]),
                                    (f"gradients/dW{l}", grads[f"dW{l}"])):
                    _histogram(writer, tag, values, record.index)

    def finish(self, report, predict: dict) -> None:
        """After the run: hparams and final metrics, the report as text, the layout, decision boundaries."""
        from torch.utils.tensorboard.summary import hparams

        c = self.config
        step = max(self.steps - 1, 0)
        for side in ("impl", "torch"):
            final = report.final.get(side) or {}
            metrics = {"final/cost": _finite_or_nan(final.get("cost")), "final/verdict": 1.0 if report.ok else 0.0}
            if self.classification:
                metrics["final/accuracy"] = _finite_or_nan(final.get("accuracy"))
            settings = {"side": self.folders[side], "implementation": self.implementation, "arch": "-".join(map(str, c.arch)), "activations": ",".join(c.activations),
                        "loss": c.loss, "init": c.init, "lr": float(c.learning_rate), "iterations": int(self.steps),
                        "epochs": int(c.epoch_count), "optimizer": c.optimizer, "mini_batch_size": int(c.mini_batch_size or 0),
                        **{k: float(v) for k, v in self.plan.settings().items()}, "decay": c.decay or "none",
                        **({"decay_rate": float(c.decay_rate)} if c.decay else {}),
                        **({"decay_interval": int(c.decay_interval)} if c.decay == "scheduled" else {}),
                        **({"lambd": float(c.lambd)} if c.lambd else {}),
                        **({"keep_prob": ",".join(f"{p:g}" for p in c.keep_prob)} if c.keep_prob else {}),
                        "dtype": c.dtype, "seed": int(c.seed), "examples": int(report.examples)}
            # Only the session summaries, written into this run's own file: add_hparams would
            # open a stray timestamped run folder, and several experiments' tables would clash.
            _, start, end = hparams(settings, metrics)
            writer = self.writers[side]
            writer.file_writer.add_summary(start)
            writer.file_writer.add_summary(end)
            self.scalars(side, step, metrics)
            if side in predict and self.X.shape[0] == 2 and self.classification:
                try:
                    image = decision_boundary(self.X, self.Y, predict[side])
                except ImplementationError:  # already reported by the checks; no picture then
                    image = None
                if image is not None:
                    writer.add_image("decision_boundary", image, step, dataformats="HWC")
        diff = self.writers["diff"]
        diff.add_text("report", report.to_markdown(), step)
        diff.add_custom_scalars(self.layout())

    def layout(self) -> dict:
        """The custom-scalars charts of this experiment: one category, titled after it, over its own tags.

        Multiline charts take regexes (matched from the tag's start); margin series take tag names.
        """
        own, tested = self.experiment + "/", self.folders["impl"]
        epochs = {} if self.plan.plain else {
            f"epoch cost: {tested} and torch": ["Multiline", ["^" + re.escape(own + "epoch_cost/")]],
            f"learning rate: {tested} and torch": ["Multiline", ["^" + re.escape(own + "learning_rate/")]]}
        return {self.experiment: {**epochs,
            f"cost: {tested} and torch": ["Multiline", ["^" + re.escape(own + "cost/")]],
            f"cost gap ({tested} - torch) within the free-running tolerance": [
                "Margin", [own + "cost_gap/signed", own + "cost_gap/lower", own + "cost_gap/upper"]],
            "largest parameter gap per layer (log10)": ["Multiline", ["^" + re.escape(own + "param_gap_log10/")]],
        }}

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _histogram(writer, tag: str, values: np.ndarray, step: int) -> None:
    """A histogram of the finite values, with bins from their own range: torch's default
    bins stop at about 1e20, and a diverging run's weights go past that."""
    finite = values if np.isfinite(values).all() else values[np.isfinite(values)]
    if finite.size:
        with np.errstate(all="ignore"):
            writer.add_histogram(tag, finite, step, bins=HISTOGRAM_BINS)


def _log10(gap: float) -> float:
    return math.log10(max(gap, GAP_FLOOR)) if math.isfinite(gap) else float("inf")


def _finite_or_nan(x) -> float:
    return float(x) if x is not None and math.isfinite(x) else float("nan")
