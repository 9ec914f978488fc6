"""Stand-ins for the libraries a course file imports but its graded functions never call.

The course's notebooks and the helper files beside them import plotting, display and data
loading libraries at their top (matplotlib, IPython, h5py, scipy, sklearn, PIL, and termcolor for
their tests' colours), and a notebook downloaded as .py calls `get_ipython()`. The checks need
none of them. While an implementation loads, a finder first on sys.meta_path serves each of those
libraries that cannot be imported for real with a stand-in module: whatever is done with it (an
attribute, a call, an item, an assignment) is absorbed and gives another stand-in, and where that
happened is recorded for the report. A library that is installed imports for real; the finder
leaves sys.meta_path, and the stand-in modules leave sys.modules, once loading is over.

Then the stand-ins turn strict: a function that calls into one during the checks raises
MissingPackageError, one line naming the function, its line and the package (exit 2). A stand-in
never hides a real need. Only what shows (SHOWS: a plot, a display, a colour) is still skipped
during the checks, and noted, so the course's training loops that plot their costs run; computing
with it is refused like the rest.

What is printed stays readable. termcolor's `colored(text, ...)` gives back its text, and `cprint`
prints it, without colour (as termcolor itself does where colour is off), so a test's "All tests
passed." still shows; the note says so. A print of nothing but stand-ins (`print(plt.gca())`) is
skipped while loading, as its note says; elsewhere a stand-in prints as nothing, never as its repr.
When the code that loads fails after a stand-in was used (`np.array(h5py.File(...)[...])` then
`.reshape`), the error names the missing library and where it was used (Absences.cause).
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.util
import linecache
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, ModuleType

from ..errors import MissingPackageError

# Top-level module -> the name pip installs it by: what a course file imports for plotting,
# display and loading its data sets, and its graded functions never need.
OPTIONAL = {
    "matplotlib": "matplotlib",
    "IPython": "ipython",
    "h5py": "h5py",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "PIL": "Pillow",
    "termcolor": "termcolor",
}  # termcolor: the tests' colours
# Jupyter's own builtins, which a plain module lacks: a notebook downloaded as .py calls get_ipython().
JUPYTER = ("get_ipython", "display")
# What only shows (a plot, a display, a colour): a call to it, even during the checks, is skipped and
# noted, so a training loop that plots its costs at the end still runs. The others compute values.
SHOWS = {"matplotlib", "IPython", "termcolor", "get_ipython()", "display()"}
SHOWN_TEXTS = 2  # statements quoted in a note; the rest are counted in its places


def _colored(text="", *args, **kwargs) -> str:
    return str(text)


def _cprint(text="", *args, end="\n", file=None, flush=False, **kwargs) -> None:
    print(str(text), end=end, file=file, flush=flush)


# A missing library's function that has a plain meaning: what the library itself does where colour is off.
PLAIN = {"termcolor.colored": _colored, "termcolor.cprint": _cprint}


class Absences:
    """One load's stand-ins: which libraries were missing, where they were imported and used, and
    whether a use is still absorbed (while loading) or refused (strict: during the checks)."""

    def __init__(self) -> None:
        self.strict = False
        self.imports: dict[str, list[tuple[str, int]]] = {}  # library -> (file, line) of each import stood in for
        self.uses: dict[str, list[tuple[str, int]]] = {}  # library -> (file, line) of each statement skipped
        self.plain: dict[str, list[tuple[str, int]]] = {}  # library -> (file, line) of each call that ran plain (PLAIN)
        self._last: dict[str, None] = {}  # the libraries used, the one used last at the end
        self._published: tuple[list, int] | None = None  # (a notes list, where this load's notes start in it)
        self.left_out_names: dict[str, str] = {}  # a name a skipped import would have bound -> where it comes from
        self.ahead: dict[str, str] = {}  # a name the notebook binds further down than the cell loading -> that cell

    def publish(self, notes: list) -> None:
        """Keep this load's notes at the end of `notes` (the module's), now and after each later use."""
        self._published = (notes, len(notes))
        notes.extend(self.notes())

    def imported(self, library: str, filename: str, line: int) -> None:
        _add(self.imports.setdefault(library, []), (filename, line))
        if (filename, line) in self.uses.get(library, []):  # `from h5py import File` reads File: an import, not a use
            self.uses[library].remove((filename, line))

    def used(self, library: str, filename: str, line: int, places: dict | None = None) -> None:
        """A statement that uses the stand-in for `library` was skipped (or, with places=self.plain, ran plain)."""
        self._last.pop(library, None)
        self._last[library] = None
        places = self.uses if places is None else places
        if (filename, line) in self.imports.get(library, []) or (filename, line) in places.get(library, []):
            return
        places.setdefault(library, []).append((filename, line))
        if self._published is not None:  # a plot during the checks: the note says so too
            notes, start = self._published
            notes[start:] = self.notes()

    def left_out(self, name: str, origin: str) -> None:
        """`name` is not there because what binds it was left out: a skipped import (origin 'ipywidgets, which was
        left out: <why>') or a notebook's statement that does not run as it loads (origin: its cell and line)."""
        self.left_out_names[name] = origin

    def cause(self, error: BaseException) -> str:
        """For an error raised while loading: ' (h5py is not installed, and loader.py, line 6 used it: pip install
        h5py)', naming the library used last (one that computes values before one that only shows), or ''
        where no stand-in was used or the error already names it. A NameError says where its name comes from: an
        import or a statement that was skipped, or a cell further down the notebook; else nothing (a missing
        library leaves unbound only what a skipped statement would have bound)."""
        if isinstance(error, NameError):
            name = getattr(error, "name", None)
            if name in self.left_out_names:  # @interact, where `from ipywidgets import interact` was skipped
                return f" ({name} comes from {self.left_out_names[name]})"
            if name in self.ahead:  # Jupyter ran that cell first
                return (
                    f" ({name} is set further down, in {self.ahead[name]}: the cells run here from the top down, "
                    "as Restart & Run All runs them)"
                )
            return ""
        used = [library for library in self._last if self.uses.get(library)]
        computing = [library for library in used if library not in SHOWS]
        if not used:
            return ""
        library = (computing or used)[-1]
        if library in str(error):
            return ""
        place = _places(self.uses[library][:1])
        if library.endswith("()"):
            return f" ({library} exists only inside Jupyter, and {place} used it)"
        return f" ({library} is not installed, and {place} used it: pip install {OPTIONAL.get(library, library)})"

    def missing(self) -> list[str]:
        """The libraries that were stood in for, in the order they were first imported."""
        return list(self.imports)

    def jupyter_builtins(self) -> dict:
        """Stand-ins for get_ipython and display, for a namespace that runs outside Jupyter."""
        return {name: NotInstalled(name, f"{name}()", self) for name in JUPYTER}

    def notes(self) -> list[str]:
        """One line per missing library (and per Jupyter builtin used): what was skipped, and where."""
        notes = []
        for library in dict.fromkeys([*self.imports, *self.uses, *self.plain]):
            uses, plain = self.uses.get(library, []), self.plain.get(library, [])
            if library not in self.imports and not uses and not plain:
                continue
            if library in self.imports:
                imports = self.imports[library]
                its = "its import was" if len(imports) == 1 else "its imports were"
                note = f"{library} is not installed, so {its} skipped ({_places(imports)})"
                if uses:
                    note += f" and so was what uses it: {_described(uses)}"
            else:
                note = f"{library} exists only inside Jupyter, so what uses it was skipped: {_described(uses)}"
            if plain:
                note += f"; what it colours was printed without colour: {_described(plain)}"
            notes.append(note)
        return notes

    def absent(self, library: str) -> str:
        """Why a stand-in has no value: 'h5py is not installed (pip install h5py)'."""
        if library.endswith("()"):
            return f"{library} exists only inside Jupyter"
        return f"{library} is not installed (pip install {OPTIONAL.get(library, library)})"

    def need(self, library: str) -> str:
        """What a function that calls into the stand-in for `library` is told it needs."""
        if library.endswith("()"):
            return (
                f"calls {library}, which exists only inside Jupyter (IPython); the checks run your functions "
                "outside it: leave it out of the functions they call"
            )
        return f"needs {library}, which is not installed: pip install {OPTIONAL.get(library, library)}"


class NotInstalled:
    """Whatever a missing library's name stands for: every use gives another stand-in while loading;
    afterwards a use raises MissingPackageError (of a library in SHOWS, only computing with it)."""

    __slots__ = ("_path", "_library", "_absences")

    def __init__(self, path: str, library: str, absences: Absences):
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_library", library)
        object.__setattr__(self, "_absences", absences)

    def _use(self, what: str) -> NotInstalled:
        return _use(self._absences, self._library, what)

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):  # protocols (numpy's __array__, copy's ...): not there
            raise AttributeError(name)
        return self._use(f"{self._path}.{name}")

    def __setattr__(self, name: str, value) -> None:
        self._use(f"{self._path}.{name} = ...")

    def __call__(self, *args, **kwargs):
        plain = PLAIN.get(self._path)
        if plain is not None:  # colored("All tests passed.", "green"): the text, without its colour
            self._absences.used(self._library, *_caller()[:2], places=self._absences.plain)
            return plain(*args, **kwargs)
        return self._use(f"{self._path}(...)")

    def __getitem__(self, key):
        return self._use(f"{self._path}[...]")

    def __setitem__(self, key, value) -> None:
        self._use(f"{self._path}[...] = ...")

    def __iter__(self):
        # Unpacking would need a count a stand-in cannot know: say why, rather than "too many values".
        if self._absences.strict:
            _refuse(self._absences, self._library)
        self._use(f"iter({self._path})")
        raise TypeError(f"`{self._path}` has no value here: {self._absences.absent(self._library)}")

    def __repr__(self) -> str:
        return f"<{self._path}: {self._absences.absent(self._library)}>"

    def __str__(self) -> str:
        """Printed (print(plt.gca()), f"{...}"), a stand-in shows as nothing; during the checks, only one that shows."""
        if self._absences.strict and self._library not in SHOWS:
            _refuse(self._absences, self._library)
        return ""

    def _compute(self, *other) -> NotInstalled:
        """Arithmetic: while loading, another stand-in; during the checks its value was needed."""
        if self._absences.strict:
            _refuse(self._absences, self._library)
        return self._use(f"({self._path} ...)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _compute
    __matmul__ = __rmatmul__ = __pow__ = __rpow__ = __neg__ = _compute


class NotInstalledModule(ModuleType):
    """A missing library's module (or submodule): its attributes are NotInstalled stand-ins."""

    def __init__(self, name: str, absences: Absences):
        super().__init__(name)
        self._library = name.partition(".")[0]
        self._absences = absences

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):  # __file__, __all__, ...: what a stand-in has not
            raise AttributeError(name)
        return _use(self._absences, self._library, f"{self.__name__}.{name}")


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a stand-in for an OPTIONAL library that no other finder can import (nor its submodules)."""

    def __init__(self, absences: Absences):
        self.absences = absences

    def find_spec(self, fullname, path, target=None):
        library = fullname.partition(".")[0]
        if library not in OPTIONAL:
            return None
        parent = sys.modules.get(library)
        if "." in fullname and not (isinstance(parent, NotInstalledModule) and parent._absences is self.absences):
            return None  # a submodule of a library that did import: its own finders decide
        if "." not in fullname and self._importable(fullname, path, target):
            return None
        filename, line, _ = _caller()
        self.absences.imported(library, filename, line)
        return importlib.util.spec_from_loader(fullname, self, is_package=True)  # its submodules are stand-ins too

    def _importable(self, fullname, path, target) -> bool:
        """Whether the finders after this one find `fullname`, as the import system would ask them."""
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            try:
                if finder.find_spec(fullname, path, target) is not None:
                    return True
            except ImportError:  # a finder that refuses the name stops the search, as in an import
                return False
        return False

    def create_module(self, spec):
        return NotInstalledModule(spec.name, self.absences)

    def exec_module(self, module) -> None:
        pass


@contextmanager
def standing_in() -> Iterator[Absences]:
    """While the body loads an implementation: stand-ins for the OPTIONAL libraries that are missing.
    Afterwards they are strict, the finder is gone, and their modules have left sys.modules."""
    absences = Absences()
    finder = _Finder(absences)
    sys.meta_path.insert(0, finder)
    original = builtins.__import__

    def noting_import(name, globals=None, locals=None, fromlist=(), level=0):
        # A stand-in already in sys.modules is served without asking the finder: note each import of it.
        module = original(name, globals, locals, fromlist, level)
        stand_in = sys.modules.get(name.partition(".")[0]) if level == 0 else None
        if isinstance(stand_in, NotInstalledModule) and stand_in._absences is absences:
            absences.imported(stand_in._library, *_caller()[:2])
        return module

    def quiet_print(*args, **kwargs):
        # print(plt.gca()): a stand-in has nothing to show, so the statement is skipped, as its note says.
        if args and all(stands_in(arg) is not None for arg in args):
            return
        printing(*args, **kwargs)

    printing = builtins.print
    builtins.__import__, builtins.print = noting_import, quiet_print
    try:
        yield absences
    finally:
        builtins.__import__, builtins.print = original, printing
        sys.meta_path.remove(finder)
        for name, module in list(sys.modules.items()):
            if isinstance(module, NotInstalledModule) and module._absences is absences:
                del sys.modules[name]
        absences.strict = True


def stands_in(value) -> str | None:
    """The library `value` stands in for, or None when it is a real object."""
    if isinstance(value, NotInstalled):
        return object.__getattribute__(value, "_library")
    if isinstance(value, NotInstalledModule):
        return value._library
    return None


def _use(absences: Absences, library: str, what: str) -> NotInstalled:
    if absences.strict and library not in SHOWS:
        _refuse(absences, library)
    absences.used(library, *_caller()[:2])
    return NotInstalled(what, library, absences)


def _refuse(absences: Absences, library: str) -> None:
    filename, line, function = _caller()
    who = "the code" if function == "<module>" else f"`{function}`"
    raise MissingPackageError(f"{who} ({os.path.basename(filename)}, line {line}) {absences.need(library)}")


def _caller() -> tuple[str, int, str]:
    """(file, line, function) of the nearest frame outside this module and the import machinery."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and (
        frame.f_globals.get("__name__") == __name__ or frame.f_code.co_filename.startswith("<frozen")
    ):
        frame = frame.f_back
    if frame is None:
        return "?", 0, "<module>"
    return frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name


def _add(places: list, place: tuple[str, int]) -> None:
    if place not in places:
        places.append(place)


def _places(places: list[tuple[str, int]]) -> str:
    """'cell [1], lines 8-11; dnn_utils.py, line 2': the lines grouped by file, consecutive ones as a range."""
    files: dict[str, list[int]] = {}
    for filename, line in places:
        files.setdefault(filename, []).append(line)
    parts = []
    for filename, lines in files.items():
        runs: list[list[int]] = []  # [first, last] of each run of consecutive lines
        for line in sorted(set(lines)):
            if runs and line == runs[-1][1] + 1:
                runs[-1][1] = line
            else:
                runs.append([line, line])
        spans = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
        many = len(runs) > 1 or runs[0][0] != runs[0][1]
        parts.append(f"{os.path.basename(filename)}, line{'s' if many else ''} {spans}")
    return "; ".join(parts)


def _described(places: list[tuple[str, int]]) -> str:
    """The places, then the first statements there as written ('...' for the rest)."""
    files = list(dict.fromkeys(filename for filename, _ in places))
    in_order = sorted(places, key=lambda place: (files.index(place[0]), place[1]))
    texts = [t for t in dict.fromkeys(linecache.getline(filename, line).strip() for filename, line in in_order) if t]
    if not texts:
        return _places(places)
    return f"{_places(places)} ({'; '.join(texts[:SHOWN_TEXTS])}{'; ...' if len(texts) > SHOWN_TEXTS else ''})"
