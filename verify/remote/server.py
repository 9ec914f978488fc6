"""The learner's process: `python -m verify.remote.server READ WRITE SPEC`, started by the judge (client.py).

It loads SPEC (a notebook, a .py or a module name) as a single run does (impl/loading.py), then answers the
judge's calls over the pipes READ and WRITE until the judge closes them: its Control describes the module and
changes its globals while a loop is watched; every other call is a call of the learner's own functions. It never
imports torch or the checks: nothing it could patch decides anything. What it prints goes to stderr (stdout is
the report's); Ctrl-C is the judge's to handle; it dies with the judge (Linux's PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import signal
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from ..signals import die_with_parent
from ..signatures import signature_of
from . import wire


class Control:
    """What the judge may ask of the learner's module besides calling its functions."""

    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.module: ModuleType | None = None
        self._replaced: dict[tuple[str, str], Any] = {}

    def load(self) -> dict:
        """The module loaded; its name, file, globals (functions cross as handles), and each function's
        signature, code location and source (what the judge reads of a function besides calling it)."""
        from ..impl.loading import load_module

        self.module = module = load_module(self.spec)
        values = {
            k: v for k, v in vars(module).items() if not (k.startswith("__") and k.endswith("__")) and _crossable(v)
        }
        return {
            "name": module.__name__,
            "file": getattr(module, "__file__", None),
            "values": values,
            # a function's, not a stand-in's (impl/standins.py: reading one of its attributes counts as a use)
            "functions": {k: _described(v, module) for k, v in values.items() if _is_function(v)},
        }

    def assign(self, name: str, value: Any) -> None:
        setattr(self.module, name, value)

    def remove(self, name: str) -> None:
        delattr(self.module, name)

    def replace(self, library: str, name: str, value: Any) -> None:
        """A library's function in its module (numpy.random's choice) replaced by `value`, or put back (None)."""
        owner = importlib.import_module(library)
        key = (library, name)
        if value is None:
            setattr(owner, name, self._replaced.pop(key))
            return
        self._replaced.setdefault(key, getattr(owner, name))
        setattr(owner, name, value)

    def notes(self) -> list:
        from ..impl.loading import NOTES

        return list(getattr(self.module, NOTES, []))


def _described(function: Callable, module: ModuleType) -> dict:
    code = getattr(inspect.unwrap(function), "__code__", None) if _unwraps(function) else None
    try:
        signature = signature_of(function)  # through a decorator of its own written without functools.wraps
        parameters = [
            [p.name, int(p.kind), p.default is not p.empty, None if p.default is p.empty else p.default]
            for p in signature.parameters.values()
        ]
    except (TypeError, ValueError):
        parameters = None
    try:
        source = inspect.getsource(function) if code is not None else None
    except (OSError, TypeError):
        source = None
    return {
        "parameters": parameters,
        "name": getattr(function, "__name__", None),
        "qualname": getattr(function, "__qualname__", None),
        "module": getattr(function, "__module__", None),
        "code": None if code is None else [code.co_filename, code.co_firstlineno, code.co_name, list(code.co_names)],
        "source": source,
        "own": getattr(function, "__globals__", None) is vars(module),
    }


def _crossable(value: Any) -> bool:
    """Whether the wire can send `value` (not, a structure nested past its depth: a list that holds itself)."""
    try:
        wire.Encoder(lambda v: [0, ""]).tree(value)
        return True
    except wire.WireError:
        return False


def _is_function(value: Any) -> bool:
    return inspect.isroutine(value) or isinstance(value, functools.partial)


def _unwraps(function: Callable) -> bool:
    try:
        inspect.unwrap(function)
        return True
    except ValueError:  # a __wrapped__ cycle
        return False


def main(argv: list[str]) -> int:
    reading, writing, spec = int(argv[0]), int(argv[1]), argv[2]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the judge's: it ends this process when it stops
    for other in (signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        signal.signal(other, signal.SIG_DFL)  # not `python -m verify`'s early handler (verify/_startup.py)
    die_with_parent()
    os.dup2(2, 1)
    from .peer import Lost, Peer

    peer = Peer(reading, writing)
    peer.export(Control(spec))  # ident 1: the judge's first handle
    try:
        peer.serve()
    except Lost:  # the judge closed the channel: the run is over
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
