"""The first lines `python -m verify` runs (from verify/__init__.py, while Python is still finding
verify/__main__.py): a Ctrl-C, SIGTERM or SIGHUP before the run's own handlers (signals.py) take over ends the
process with one line and 128 + the signal's number, never a traceback. Only `os` and `signal` are imported
here, so the window before it is the interpreter's own start.
"""

import os
import signal

NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
if hasattr(signal, "SIGHUP"):  # not on Windows
    NAMES[signal.SIGHUP] = "SIGHUP"


def install_early() -> None:
    """Until signals.caught() takes over: one line, status 128 + the signal, no traceback."""
    for signum in handled():
        signal.signal(signum, _early)


def _early(signum: int, frame: object) -> None:
    say(f"verify: {NAMES.get(signum, f'signal {signum}')} while starting: stopped before any check")
    os._exit(128 + signum)


def handled() -> list[int]:
    """The signals to handle: all three, except one this process was told to ignore (`nohup` ignores SIGHUP; a
    shell's background job, Ctrl-C): ignored it stays."""
    return [signum for signum in NAMES if signal.getsignal(signum) is not signal.SIG_IGN]


def say(line: str) -> None:
    """One line on stderr, straight to the descriptor (safe inside a handler); nothing where it is closed."""
    try:
        os.write(2, (line + "\n").encode(errors="backslashreplace"))
    except OSError:  # a closed terminal (SIGHUP)
        pass
