"""Signs of life on stderr for a run longer than a couple of seconds, also under -q (which hides the tables).

Lines go to stderr only (stdout holds the report, or the JSON with --json -) and never depend on a
terminal: the same lines are written to a pipe, a file or a captured stream.
"""

from __future__ import annotations

import sys
import threading
import time

from .. import signals
from ..config import Config
from ..errors import printable
from ..results import Sides

AFTER = 2.0  # seconds: a run shorter than this prints no progress at all
EVERY = 1.0  # seconds between two training lines
STILL = 5.0  # seconds: a stage this long without a line says it is still running
MEASURE = 1.0  # seconds of training (at least one step) that time a step for the estimate of a long run
LONG_RUN = 3600.0  # seconds: training estimated to take longer than this is announced with a warning
FIRST_STAGE = "preparing the run"  # what the run is doing before its first named stage (loading, the device, ...)

_clock = time.perf_counter  # the one clock of this module (tests replace it)


class Progress:
    """What the run is doing, on stderr, once it has taken AFTER seconds.

    Each stage ("checking the course functions one by one", "forward and backward ...", "gradient check",
    "training", a loop) is named when it starts; a stage that runs STILL seconds without a line says so,
    from a background thread, so a long single step (a big network's gradient check) shows life too.
    In training, the steps done and each side's latest cost, about once a second; with mini-batches the
    line counts epochs too and shows each side's last epoch cost (a mini-batch's own cost jumps from batch
    to batch). Once MEASURE seconds of training have timed a step, training estimated to last more than
    LONG_RUN seconds is announced with a warning (how long, how many steps at what rate, how to stop it).
    Use it as a context manager: leaving it stops the thread.

    Every phase has a stage, the first one (FIRST_STAGE) included, so no phase is silent; a line that cannot
    be printed (stderr closed) is dropped without stopping the watcher.
    """

    def __init__(self, config: Config, started: float | None = None):
        self.enabled = config.progress
        self.label, self.total, self.epochs, self.per_epoch = "", 0, 0, 1  # set by training()
        self.started = _clock() if started is None else started
        self.next_at = self.started + AFTER
        self.costs: Sides[float | None] = Sides(None, None)  # each side's latest (epoch) cost, None before the first
        self._stage, self._stage_since, self._announced = FIRST_STAGE, self.started, False
        self._training_since: float | None = None
        self._warned = False
        self._last_line = self.started
        self._lock = threading.RLock()  # _say takes it too, also from inside stage()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.enabled:
            self._thread = threading.Thread(target=self._watch, name="verify-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:  # (bounded: an interrupt can land between a `with` lock's acquire and its
            self._thread.join(timeout=1.0)  # block, leaving the watcher waiting; it is a daemon thread)

    def stage(self, text: str) -> None:
        """A new stage begins: named at once when the run is already past AFTER, else when it gets there. A phase
        boundary: an interrupt Python swallowed before it is raised here (signals.check)."""
        signals.check()
        now = _clock()
        with self._lock:  # one step, so the watcher cannot name the stage a second time in between
            self._stage, self._stage_since, self._announced = text, now, False
            if self.enabled and now - self.started >= AFTER:
                self._say(f"{text}...")

    @property
    def current(self) -> str:
        """The stage the run is in ("" before the first)."""
        return self._stage

    def training(self, plan, label: str) -> None:
        """Training begins: `plan` (an Optimization) gives the steps and epochs counted, `label` names the implementation."""
        self.label, self.total, self.epochs, self.per_epoch = (
            label,
            plan.steps_total,
            plan.epochs,
            plan.batches_per_epoch,
        )
        self.stage(f"training: {plan.describe()}")
        self._training_since = self._stage_since

    def show(self, record) -> None:
        """After each training iteration (a training.Iteration): each side's latest cost."""
        latest = (
            Sides(record.impl_epoch_cost, record.torch_epoch_cost)
            if self.per_epoch > 1
            else Sides(record.impl_cost, record.torch_cost)
        )
        self.costs = Sides(
            self.costs.impl if latest.impl is None else latest.impl,
            self.costs.torch if latest.torch is None else latest.torch,
        )
        if not self.enabled:
            return
        now = _clock()
        if not self._warned and self._training_since is not None and now - self._training_since >= MEASURE:
            self._warn_if_long(record.index + 1, now - self._training_since)
        if now < self.next_at:
            return
        self.next_at = now + EVERY
        s, t = self.costs.impl, self.costs.torch
        if self.per_epoch > 1:
            done = f"iteration {record.index + 1}/{self.total} (epoch {record.epoch + 1}/{self.epochs})"
            costs = "  no epoch finished yet" if s is None and t is None else "  last epoch's cost"
        else:
            done, costs = f"iteration {record.index + 1}/{self.total}", "  cost"
        shown = "".join(f" {who} {cost:.7g}" for who, cost in ((self.label, s), (" torch", t)) if cost is not None)
        self._say(f"{done}{costs}{shown}")

    def _warn_if_long(self, done: int, seconds: float) -> None:
        """Once: a warning when `done` steps in `seconds` say all of training will take more than LONG_RUN."""
        self._warned = True
        per_step = seconds / done
        if per_step * self.total > LONG_RUN:
            self._say(
                f"verify: warning: training will take about {_duration(per_step * self.total)} ({self.total:,} "
                f"iterations at {_duration(per_step)}); Ctrl-C stops it with a report of what agreed so far"
            )

    def _watch(self) -> None:
        """The background thread: names a stage that reached AFTER unannounced, and one running STILL seconds
        without a line."""
        while not self._stop.wait(min(EVERY, STILL) / 4):
            now = _clock()
            if now - self.started < AFTER or not self._stage:
                continue
            with self._lock:  # decide and print in one step: the main thread may begin another stage meanwhile
                if not self._announced:
                    self._say(f"{self._stage}...")
                elif now - self._last_line >= STILL:
                    self._say(f"{self._stage}: still running ({now - self._stage_since:.0f} s)")

    def _say(self, line: str) -> None:
        with self._lock:
            try:  # printable: a stage names a path, which may hold bytes that are not UTF-8
                print(printable(line), file=sys.stderr, flush=True)
            except (OSError, ValueError):  # stderr closed or gone: no signs of life to give, and the run goes on
                pass
            self._last_line = _clock()
            self._announced = True


def _duration(seconds: float) -> str:
    """2.9 ms, 1.2 s, 45 minutes, 3.5 hours, 33 days: two significant digits, in the unit a reader counts in."""
    if seconds < 1:
        ms = seconds * 1000
        return f"{ms:.2g} ms" if ms < 10 else f"{ms:.0f} ms"
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}" if seconds >= 10 * size else f"{seconds / size:.2g} {unit}"
    return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
