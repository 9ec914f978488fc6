"""The judge's side of --isolate: the learner's module loaded and run in a process of its own (server.py), seen
here as a module whose functions are proxies.

`open_module(spec)` starts the process and returns a RemoteModule: its globals are what the process sent (data
as data; functions, modules and other objects as proxies, each function with its signature, code location and
source, so that the adapters, the size readers and the report read it as they read a module loaded here). A
global set or removed here (a loop's stand-ins, loop_watch.py) is set or removed there too, the stand-in crossing
as a handle the learner's code calls back. Torch, the tolerances, the comparisons and the verdict never leave
this process.
"""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import weakref
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from ..errors import UsageError, raised
from ..impl.loading import NOTES
from .peer import Lost, Peer, Remote

ROOT = Path(__file__).resolve().parents[2]  # the checkout, importable by the server when not installed


class RemoteModule(ModuleType):
    """The learner's module, as its process described it; its functions called there."""

    def __init__(self, description: dict, link: _Link) -> None:
        super().__init__(str(description.get("name") or "_impl"))
        self.__dict__["__remote__"] = link
        if isinstance(description.get("file"), str):
            self.__dict__["__file__"] = description["file"]
        values: dict = description["values"] if isinstance(description.get("values"), dict) else {}
        functions: dict = description["functions"] if isinstance(description.get("functions"), dict) else {}
        for name, value in values.items():
            if isinstance(name, str) and not _dunder(name):  # never this module's own (__remote__, __file__)
                if isinstance(value, Remote) and isinstance(functions.get(name), dict):
                    _describe(value, functions[name], self)
                self.__dict__[name] = value
        self.__dict__["__notes__"] = []

    def __setattr__(self, name: str, value: Any) -> None:
        if not _dunder(name):
            self.__dict__["__remote__"].control.assign(name, value)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if not _dunder(name):
            self.__dict__["__remote__"].control.remove(name)
        super().__delattr__(name)

    def replaced(self, library: str, name: str, value: Any) -> None:
        """A library's function replaced in the learner's process (numpy.random's choice), or put back (None)."""
        self.__dict__["__remote__"].control.replace(library, name, value)

    def close(self) -> None:
        self.__dict__["__remote__"].close()


def _notes(module: RemoteModule) -> list:
    """The loader's notes, as the learner's process has them now (a stand-in used during the checks adds one)."""
    link = module.__dict__["__remote__"]
    if link.peer.lost is None:
        try:
            module.__dict__["__notes__"] = link.control.notes()
        except Lost:
            pass
    return module.__dict__["__notes__"]


setattr(RemoteModule, NOTES, property(_notes))


class _Link:
    """The channel to the learner's process and the process itself."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        judge_in, learner_out = os.pipe()
        learner_in, judge_out = os.pipe()
        for fd in (judge_in, learner_in):
            _widen(fd)
        # the judge's import path, so that --impl names the same module there (its folder first, as here)
        path = [str(ROOT), *(entry or os.getcwd() for entry in sys.path)]
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "verify.remote.server", str(learner_in), str(learner_out), spec],
            pass_fds=(learner_in, learner_out),
            stdin=subprocess.DEVNULL,
            env=environment,
        )
        os.close(learner_in)
        os.close(learner_out)
        self.peer = Peer(judge_in, judge_out, lost=self._why)
        self.control = Remote(self.peer, 1)  # server.Control, exported first
        self._closed = weakref.finalize(self, _close, self.process, self.peer, judge_in, judge_out)

    def _why(self, what: str) -> str:
        """Why the learner's process can no longer answer, in one line."""
        try:
            status = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return f"--impl {self.spec}: the process running its code {what}; it was stopped"
        if status < 0:
            name = signal.Signals(-status).name
            how = {"SIGXCPU": "stopped at its CPU-time limit", "SIGKILL": "was killed (SIGKILL)"}.get(
                name, f"crashed ({name})"
            )
        else:
            how = f"ended with status {status} while the checks still needed it"
        return f"--impl {self.spec}: the process running its code {how}"

    def close(self) -> None:
        self._closed()


def _close(process: subprocess.Popen, peer: Peer, reading: int, writing: int) -> None:
    """The channel closed, and the process ended: by its end of file (the server returns), or killed where the
    channel is out of step (an interrupt while it ran) or it does not end within 5 s."""
    if peer.lost is not None:
        process.kill()
    for fd in (writing, reading):
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _widen(fd: int) -> None:
    """A pipe of 1 MiB (Linux's usual most) rather than 64 KiB: a week-4 array crosses in fewer switches."""
    try:
        import fcntl  # POSIX only: the verifier imports this module everywhere, and isolates on POSIX

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):  # another system, or a lower limit: the default size
        pass


def open_module(spec: str) -> RemoteModule:
    """`spec` loaded in a process of its own, as --impl loads it here (UsageError where it cannot be)."""
    link = _Link(spec)
    try:
        description = link.control.load()
        if not isinstance(description, dict):
            raise Lost(f"--impl {spec}: the process running its code sent no description of it")
        return RemoteModule(description, link)
    except (UsageError, KeyboardInterrupt):  # the loader's own line (a file it cannot load), or Ctrl-C
        link.close()
        raise
    except BaseException as error:  # its code took the loader's place (the describing is in its process)
        link.close()
        raise UsageError(
            f"--impl {spec}: the process running its code could not describe it ({raised(error)})"
        ) from None


def _describe(proxy: Any, info: dict, module: RemoteModule) -> None:
    """A function's proxy given what inspect and the report read of a function: its signature, names, code
    location (a stand-in for __code__), source, and (its own functions) the module's globals."""
    proxy.__signature__ = _signature(info.get("parameters"))
    for name in ("name", "qualname", "module"):
        if isinstance(info.get(name), str):
            setattr(proxy, f"__{name}__", info[name])
    code = info.get("code")
    if isinstance(code, list) and len(code) == 4 and type(code[1]) is int:
        proxy.__code__ = SimpleNamespace(
            co_filename=str(code[0]),
            co_firstlineno=code[1],
            co_name=str(code[2]),
            co_names=tuple(n for n in code[3] if isinstance(n, str)) if isinstance(code[3], list) else (),
        )
    if isinstance(info.get("source"), str):
        proxy.__source__ = info["source"]
    if info.get("own") is True:
        proxy.__globals__ = module.__dict__


def _signature(parameters: Any) -> inspect.Signature | None:
    if not isinstance(parameters, list):
        return None
    try:
        return inspect.Signature(
            [
                inspect.Parameter(
                    name, inspect._ParameterKind(kind), default=default if has else inspect.Parameter.empty
                )
                for name, kind, has, default in parameters
            ]
        )
    except (TypeError, ValueError):
        return None


def _dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


__all__ = ["RemoteModule", "open_module"]
