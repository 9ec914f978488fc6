"""Interrupts: Ctrl-C, SIGTERM and SIGHUP end a run with a report of what agreed so far.

While `caught()` lasts (the command line holds it from its first line; `verify.run` holds it for a
run started from Python), the first of these signals is recorded and raised as `Interrupted`, a
KeyboardInterrupt, wherever the main thread is. Each phase of the run catches it, keeps what it
finished, and the report says `VERDICT: INTERRUPTED`; the command line exits 128 + the signal's
number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP). `verify.run` returns that report after a
Ctrl-C; after a SIGTERM or SIGHUP it raises the signal again once the run is over, and the process ends.
A second signal, while the first is being reported, ends the process at once with one line on stderr and
the same status.

The learner's code runs inside the same process: a KeyboardInterrupt it raises itself (no signal
came) is its own outcome, not an interrupt, and `Interrupted` that its code swallowed (a bare
`except:`) is raised again when its function returns (see `arrived_during`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ._startup import NAMES
from ._startup import handled as _handled
from ._startup import say as _say


class Interrupted(KeyboardInterrupt):
    """A signal stopped the run: Ctrl-C (SIGINT), SIGTERM or SIGHUP. `phase` is what the run was doing."""

    def __init__(self, signum: int, phase: str = ""):
        super().__init__(NAMES.get(signum, f"signal {signum}"))
        self.signum = signum
        self.phase = phase

    @property
    def name(self) -> str:
        return NAMES.get(self.signum, f"signal {self.signum}")

    @property
    def status(self) -> int:
        """The exit status a shell gives a process this signal stopped: 128 + its number."""
        return 128 + self.signum


@dataclass(frozen=True)
class Interruption:
    """Where a run was stopped: by which signal, in which phase, after how many training iterations (None
    outside training), and the exit status that says so."""

    signal: str  # "Ctrl-C", "SIGTERM", "SIGHUP"
    status: int  # 130, 143, 129
    phase: str  # what the run was doing, as its progress lines name it
    iterations: int | None = None

    @classmethod
    def of(cls, stop: KeyboardInterrupt, phase: str, iterations: int | None = None) -> Interruption:
        """A plain KeyboardInterrupt (no handler was installed) is a Ctrl-C."""
        signum = stop.signum if isinstance(stop, Interrupted) else signal.SIGINT
        return cls(NAMES.get(signum, f"signal {signum}"), 128 + signum, phase, iterations)

    def where(self) -> str:
        """'after 5 iterations of training', or 'during the gradient check: ...'."""
        if self.iterations is not None:
            return f"after {self.iterations} iteration{'s' if self.iterations != 1 else ''} of training"
        return f"during {self.phase}" if self.phase else "while starting"

    def as_dict(self) -> dict[str, Any]:
        return {"signal": self.signal, "exit_status": self.status, "phase": self.phase, "iterations": self.iterations}


_received: list[int] = []  # the signals received while caught() lasts, in order
_depth = 0  # caught() nests: the command line's holds verify.run's


def received() -> Interrupted | None:
    """The first signal received while caught() lasts, as the exception it raised; None when none came."""
    return Interrupted(_received[0]) if _received else None


def check() -> None:
    """Raise the interrupt again if one came and nothing has taken it up: Python ignores an exception raised where
    it cannot propagate (a weakref callback during an import, a __del__), so the run would go on. Called at every
    phase boundary, training iteration and call into the learner's code; a no-op until a signal comes."""
    if _received and not _reporting:
        raise Interrupted(_received[0])


def reporting() -> None:
    """The interrupt has been taken up: the run is building its report, and check() raises no more."""
    global _reporting
    _reporting = True


def count() -> int:
    """How many signals have arrived so far (see arrived_during)."""
    return len(_received)


def arrived_during(before: int) -> Interrupted | None:
    """The interrupt to raise after a call into the learner's code that returned normally although a signal
    came while it ran (`before` is count() from before the call): its code swallowed the KeyboardInterrupt."""
    return Interrupted(_received[before]) if len(_received) > before else None


_deferring = False  # see deferred()
_reporting = False  # see reporting()


def _handle(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    if len(_received) > 1:  # the user insists: no report, no cleanup, one line
        _say(f"verify: {NAMES.get(signum, f'signal {signum}')} again: stopped at once, without a report")
        os._exit(128 + _received[0])
    if not _deferring:
        raise Interrupted(signum)


@contextmanager
def deferred(raise_after: bool = False) -> Iterator[None]:
    """While this lasts a first signal is only recorded: what is being written (the finished report, its JSON, an
    iteration's logs) is written whole. A second one still ends the process at once. raise_after: a signal that
    came meanwhile is raised when the block is done (outside another deferred block)."""
    global _deferring
    arrived, before, _deferring = len(_received), _deferring, True
    try:
        yield
    finally:
        _deferring = before
    if raise_after and not before and len(_received) > arrived:
        raise Interrupted(_received[arrived])


@contextmanager
def caught(terminating: bool = False) -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP raise Interrupted while this lasts (in the main thread: elsewhere a signal cannot
    be handled, and the main thread's KeyboardInterrupt is not this run's). The handlers that were there before
    come back after. Nested (verify.run inside the command line), the outer one keeps what it received.

    terminating (verify.run called from Python): a SIGTERM or SIGHUP that stopped the run is raised again once the
    run is over and those handlers are back, so that the process ends as the signal asks (or the caller's own
    handler takes it) instead of going on to its next line; a Ctrl-C stops the run alone."""
    global _depth, _reporting
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}
    if _depth == 0:
        previous = {signum: signal.signal(signum, _handle) for signum in _handled()}
        _received.clear()
        _reporting = False
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            again = _received[0] if terminating and _received and _received[0] != signal.SIGINT else None
            for signum, handler in previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            _received.clear()
            _reporting = False
            if again is not None:
                signal.raise_signal(again)


def printing_to_stderr(function, *args, **kwargs):
    """function(*args, **kwargs) with sys.stdout pointing at stderr (stdout is the report's), put back however the
    call ends. The switch is made inside the try: contextlib.redirect_stdout makes it in __enter__, before its with
    block begins, and a signal's exception raised in between left stdout on stderr for the rest of the run (its
    report printed there)."""
    original = sys.stdout
    try:
        sys.stdout = sys.stderr
        return function(*args, **kwargs)
    finally:
        sys.stdout = original


PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent() -> None:
    """This process killed (SIGKILL) when the thread that started it ends: a grader or a judge killed with
    SIGKILL leaves nothing of a learner's running (Linux's PR_SET_PDEATHSIG; elsewhere nothing). Where that parent
    is gone already, this process ends at once."""
    if sys.platform != "linux":
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the line above: nobody waits for this process
        os._exit(1)
