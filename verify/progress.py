"""The progress line on stderr for runs longer than a couple of seconds."""

from __future__ import annotations

import sys
import time

from .config import Config


class Progress:
    """Iteration and both costs on stderr, about once a second, once a run has taken two seconds."""

    def __init__(self, config: Config, total: int, started: float, label: str):
        self.label = label
        self.enabled = config.progress
        self.total = total
        self.started = started
        self.next_at = started + 2.0
        self.costs = [float("nan"), float("nan")]  # the implementation's and torch's latest

    def show(self, record) -> None:
        """After each training iteration (a training.Iteration): each side's latest cost."""
        self.costs = [c if c is not None else last for c, last in zip((record.impl_cost, record.torch_cost), self.costs)]
        if not self.enabled:
            return
        now = time.perf_counter()
        if now < self.next_at:
            return
        self.next_at = now + 1.0
        s, t = self.costs
        epoch = f"  epoch {record.epoch + 1}" if record.epoch != record.index else ""
        print(f"iteration {record.index + 1}/{self.total}{epoch}  cost {self.label} {s:.7g}  torch {t:.7g}", file=sys.stderr, flush=True)
