"""The progress line on stderr for runs longer than a couple of seconds."""

from __future__ import annotations

import sys
import time

from .config import Config


class Progress:
    """Steps done and both costs on stderr, about once a second, once a run has taken two seconds.

    With mini-batches the line counts epochs too, and shows each side's last epoch cost (a
    mini-batch's own cost jumps from batch to batch)."""

    def __init__(self, config: Config, plan, started: float, label: str):
        self.label = label
        self.enabled = config.progress
        self.total, self.epochs, self.per_epoch = plan.steps_total, plan.epochs, plan.batches_per_epoch
        self.started = started
        self.next_at = started + 2.0
        self.costs = [float("nan"), float("nan")]  # the implementation's and torch's latest (epoch) costs

    def show(self, record) -> None:
        """After each training iteration (a training.Iteration): each side's latest cost."""
        latest = (record.impl_epoch_cost, record.torch_epoch_cost) if self.per_epoch > 1 else (record.impl_cost, record.torch_cost)
        self.costs = [c if c is not None else last for c, last in zip(latest, self.costs)]
        if not self.enabled:
            return
        now = time.perf_counter()
        if now < self.next_at:
            return
        self.next_at = now + 1.0
        s, t = self.costs
        if self.per_epoch > 1:
            done = f"iteration {record.index + 1}/{self.total} (epoch {record.epoch + 1}/{self.epochs})  last epoch's cost"
        else:
            done = f"iteration {record.index + 1}/{self.total}  cost"
        print(f"{done} {self.label} {s:.7g}  torch {t:.7g}", file=sys.stderr, flush=True)
