"""What the verifier may learn of the implementation's module besides calling it, asked of the adapter (base.Adapter
has this part): whether it defines a function, a function's parameters, where a function comes from, and, while
one of its loops runs, its course functions replaced by stand-ins that watch the loop's calls (loop_watch.py
builds them). Nothing outside verify/impl reads or changes the module: the adapter is the one boundary.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import ModuleType

from ..remote.client import RemoteModule
from ..signatures import signature_of

# A stand-in's maker: handed the module's own function (None where the module lacks it), it returns the function
# to put in its place while a loop runs, or None to leave the name as it is.
StandIn = Callable[[Callable | None], Callable | None]


def loop_origin(module: ModuleType, function: str) -> str:
    """ "" when the loop `function` is the module's own (defined in its file, or in one of its notebook's cells),
    else the module it was imported from (`from my_week4 import *` brings my_week4's L_layer_model along).

    A loop looks its helpers up in the globals of the module that defined it: only the module's own loop calls
    the initialiser the check replaces with the shared start."""
    loop = getattr(module, function, None)
    try:  # a decorated loop (functools.wraps): the function it wraps is the one that calls the initialiser
        loop = inspect.unwrap(loop) if callable(loop) else loop
    except ValueError:  # a __wrapped__ cycle: the loop as it is
        pass
    if getattr(loop, "__globals__", None) is vars(module):
        return ""
    file = os.path.abspath(getattr(module, "__file__", None) or "")
    code = getattr(loop, "__code__", None)
    filename = os.path.abspath(code.co_filename) if code is not None else ""
    if file and (filename == file or filename.startswith(file + os.sep)):  # a notebook's cells lie under its path
        return ""
    return getattr(loop, "__module__", None) or "another module"


class _ModuleAccess:
    """The module's functions as names: the adapter's answers about them, and its loops watched."""

    module: ModuleType
    calling_own: Mapping[str, Callable]

    @contextmanager
    def calling(self, functions: Mapping[str, Callable]) -> Iterator[None]:
        """While the block runs, the adapter's own calls of these names reach the functions given, whatever stands
        in the module for them (a loop that takes its steps from the verifier's, loop_driven.py: the verifier's
        steps call the module's own functions while the loop's calls reach its stand-ins). Each is called as
        function(given, *handed, **kwargs): the tuple of arguments the adapter was given, then the copies it
        hands the module's function."""
        before, self.calling_own = self.calling_own, functions  # (the mapping itself: it may fill as the block runs)
        try:
            yield
        finally:
            self.calling_own = before

    def defines(self, function: str) -> bool:
        """Whether the module has a function of that name."""
        return callable(getattr(self.module, function, None))

    def parameters_of(self, function: str) -> tuple[str, ...]:
        """The names of the function's parameters, in order (none when it has no signature, or no such function)."""
        try:
            return tuple(signature_of(getattr(self.module, function)).parameters)
        except (AttributeError, TypeError, ValueError):
            return ()

    def origin_of(self, function: str) -> str:
        """ "" when the function is the module's own, else the module it was imported from (loop_origin)."""
        return loop_origin(self.module, function)

    def own_function(self, function: str) -> Callable:
        """The module's function itself, to be handed to another of its functions (a loop's decay argument): it is
        called there, inside the call of the function it is handed to."""
        return getattr(self.module, function)

    @contextmanager
    def watching(self, stand_ins: Mapping[str, StandIn]) -> Iterator[None]:
        """While the block runs (a loop, called through the adapter), each named function of the module is the
        stand-in its maker returns for it (handed the module's own, or None where the module lacks it); a name
        it returns None for stays as it is. Every name is put back as it was after, those the module lacked
        removed."""
        module, replaced, added = self.module, {}, []
        try:
            for name, make in stand_ins.items():
                original = getattr(module, name, None)
                stand_in = make(original if callable(original) else None)
                if stand_in is None:
                    continue
                if hasattr(module, name):
                    replaced[name] = original
                else:
                    added.append(name)
                setattr(module, name, stand_in)
            yield
        finally:
            for name, original in replaced.items():
                setattr(module, name, original)
            for name in added:
                delattr(module, name)

    @contextmanager
    def library_watched(self, library: str, name: str, make: Callable[[Callable], Callable]) -> Iterator[None]:
        """While the block runs, a library's function as the module's code calls it (numpy.random's choice) is
        the one `make` returns, handed the library's own; put back after. A module in another process
        (--isolate) has it replaced there: the watcher still runs here, each of its calls crossing back."""
        owner = importlib.import_module(library)
        original = getattr(owner, name)
        watcher = make(original)
        remote = self.module if isinstance(self.module, RemoteModule) else None
        if remote is not None:
            remote.replaced(library, name, watcher)
        else:
            setattr(owner, name, watcher)
        try:
            yield
        finally:
            if remote is not None:
                remote.replaced(library, name, None)
            else:
                setattr(owner, name, original)
