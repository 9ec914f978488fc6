"""The first lines `python -m verify` runs (from verify/__init__.py, while Python is still finding
verify/__main__.py): a Ctrl-C, SIGTERM or SIGHUP before the run's own handlers (signals.py) take over ends the
process with one line and 128 + the signal's number, never a traceback. Only `os` and `signal` are imported
here, so the window before it is the interpreter's own start.
"""

import gc
import os
import signal

NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
if hasattr(signal, "SIGHUP"):  # not on Windows
    NAMES[signal.SIGHUP] = "SIGHUP"


_collection_paused = False


def pause_collection() -> None:
    """Python's cyclic garbage collector off until resume_collection(): the start-up imports (torch, NumPy) build
    a few hundred thousand long-lived objects and no garbage, and the collector's passes over them were a fifth
    of a second of `python -m verify`'s start. Nothing happens where it was already off."""
    global _collection_paused
    if gc.isenabled():
        gc.disable()
        _collection_paused = True


def resume_collection() -> None:
    """After the start-up imports: what they built is frozen out of later passes (gc.freeze), the collector back
    on. Only where pause_collection() turned it off: a process that imports verify keeps its own setting."""
    global _collection_paused
    if _collection_paused:
        gc.freeze()
        gc.enable()
        _collection_paused = False


def thread_pools_wait_briefly() -> None:
    """How NumPy's and torch's idle worker threads wait, set before either library loads; a user's own setting
    wins. The two pools take turns at every training step, and one left spinning after its work (OpenBLAS's
    default, about 0.1 s; GNU OpenMP's, 300,000 spins) holds the cores the other needs next: a run of
    784,256,128,10 (m = 2048) took twice as long. OpenBLAS's threads sleep at once (2^4 cycles); torch's OpenMP
    threads (GNU OpenMP in torch's wheels; other runtimes ignore GOMP_SPINCOUNT) spin 10,000 times first, so
    that the next operation of the same torch step finds them awake.
    Sleeping at once (OMP_WAIT_POLICY=PASSIVE) cost every small product of a torch step a wake-up: about 90 us
    against 6 us for a (7, 20) by (20, 209) product, and torch_ref's step on 12288,20,7,5,1 took 7.3 ms against
    6.0 ms."""
    if "OMP_WAIT_POLICY" not in os.environ:  # a wait policy decides the spinning itself
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


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
