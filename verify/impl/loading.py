"""Loading the implementation under test: a .py file, an importable module, or a Jupyter notebook.

A notebook is read as the JSON it is (nbformat 4, what Jupyter has written since 2015, or nbformat 3,
whose code cells are under worksheets[0] with "input") with the standard json module rather than the
nbformat package: only the code cells' sources are needed, and that is not worth a dependency. From
each code cell, in order, the verifier keeps what defines the implementation: imports, function and
class definitions whose making calls nothing (Filter), and assignments of values whose making calls
nothing (constants, names, lambdas; one that raises as it runs is left out too).
Everything else is left out (the statements that run tests, plot, download or train, IPython magics
and shell lines), so loading a notebook trains and draws nothing.
The kept code runs in a fresh module with the notebook's folder first on sys.path, so its
helper files (dnn_utils, testCases, ...) import as they do in Jupyter.

A .py that Jupyter exported ("Download as .py", `jupyter nbconvert --to script`) is loaded as the
notebook it came from, by the same mechanism. It is recognised by the cell markers nbconvert writes:
a line that is exactly `# In[7]:` (a cell that ran, with its execution count) or `# In[ ]:` (one that
never ran), at the start of the line, at least once in the file. Each marker opens a cell that runs to
the next marker, its blank lines around it dropped (nbconvert adds them), so a cell's line 1 is its
first line as in Jupyter; markdown, which nbconvert writes as comments, stays in the cell before it.
The lines before the first marker (the shebang, `# coding: utf-8`, markdown) run only if they hold
code, as a cell named "before cell [1]". An export's `get_ipython().run_line_magic('matplotlib', ...)`
is the notebook's `%matplotlib inline`, and is left out and noted the same way; a cell nbconvert wrote as one
`get_ipython().run_cell_magic('time', '', '...')` is the notebook's cell, `%%time` and its text.

Whatever is loaded (a notebook, a .py, a module, and the helper files they import), a plotting,
display or data library that is not installed is given a stand-in (standins.py), and the kept
statements that use it are skipped; the report notes once per library what was skipped. Cells are
named as Jupyter shows them: "cell [7]" by the execution count a cell has, else "code cell k"
(k counts code cells only, from 1), in every message and in tracebacks (`x.ipynb/cell [7]:6`).

Reading the cells is notebook_cells.py's part, choosing the statements kept notebook_filter.py's.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import linecache
import os
import sys
from contextlib import contextmanager, redirect_stdout
from types import ModuleType

from .. import signals
from ..errors import UsageError, raised
from .notebook_cells import CELL_MARKER, Cell, _read_cells, cell_label, notebook_definitions
from .notebook_filter import Filter, bound_names
from .standins import Absences, standing_in, stands_in

# cell_label and notebook_definitions: imported from here by impl/sizes.py and the tests
__all__ = [
    "LEFT_OUT",
    "RESULTS",
    "NOTES",
    "Cell",
    "cell_label",
    "helper_file_missing",
    "is_export",
    "left_out_origin",
    "load_module",
    "notebook_definitions",
    "why_missing",
]

LEFT_OUT = "_verify_left_out"  # a loaded notebook's names that left-out code would have bound -> where from
RESULTS = "_verify_results"  # its names a left-out `name = function(...)` binds -> {function: where}
NOTES = "_verify_notes"  # a loaded notebook's module keeps here what was left out that a user should know
LEFT_OUT_IMPORT = ", which was left out: "  # an origin in LEFT_OUT: '<module>, which was left out: <why>'
STAR = "* "  # LEFT_OUT's key for a skipped `from <module> import *` (STAR + the module): what it binds is unknown
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # never skipped for a stand-in


def load_module(spec: str) -> ModuleType:
    """The module named by --impl: a path to a .py file or a .ipynb notebook, or an importable module name."""
    if not spec.strip():
        raise UsageError("--impl needs a .py file, a .ipynb notebook or a module name, got nothing")
    if spec.endswith(".ipynb") or is_export(spec):
        return load_notebook(spec)
    if os.path.isdir(spec) and not os.path.isfile(os.path.join(spec, "__init__.py")):  # a folder, not a package
        raise UsageError(f"--impl {spec} is a directory; give the .py file or the .ipynb notebook")
    if os.path.isfile(spec) and not spec.endswith(".py"):  # good.txt: it cannot be imported as it is
        raise UsageError(
            f"--impl {spec} is not a Python file: give a .py file, a .ipynb notebook or an importable module's name"
        )
    with standing_in() as absences:
        try:
            module = _import(spec, absences)
        except UsageError:
            raise
        except ModuleNotFoundError as error:
            raise UsageError(f"--impl {spec}: cannot import it ({error})") from None
        except BaseException as error:  # anything the module does at import time is its own problem, sys.exit too
            if isinstance(error, signals.Interrupted) or signals.count():  # Ctrl-C while it loaded: the run's
                raise
            line = next(
                (
                    f" at line {f.lineno}"
                    for f in reversed(inspect.trace())
                    if f.filename.endswith(os.path.basename(spec))
                ),
                "",
            )
            did = raised(error).replace(": ", f"{line}: ", 1) if ": " in raised(error) else raised(error) + line
            raise UsageError(f"--impl {spec}: importing it {did}{absences.cause(error)}") from None
    if absences.missing() or spec.endswith(".py") or os.sep in spec:  # where a stand-in can be used later
        absences.publish(module.__dict__.setdefault(NOTES, []))
    return module


def _import(spec: str, absences: Absences) -> ModuleType:
    """A .py file (with Jupyter's get_ipython and display, which code written in a notebook may call), or a module
    by name."""
    if not (spec.endswith(".py") or os.sep in spec):
        return signals.printing_to_stderr(importlib.import_module, spec)  # what it prints is not the report's
    _check_file(spec)
    name = "_impl_" + os.path.splitext(os.path.basename(spec))[0]
    module_spec = importlib.util.spec_from_file_location(name, os.path.abspath(spec))
    # load_module refuses a file that is not .py, and _check_file a path that is no file: a .py file's spec is left
    assert module_spec is not None and module_spec.loader is not None, f"{spec} has a source loader"
    module = importlib.util.module_from_spec(module_spec)
    module.__dict__.update(absences.jupyter_builtins())
    sys.modules[name] = module  # dataclasses and pickling look modules up here
    with _own_folder(os.path.dirname(os.path.abspath(spec))):  # its helper files import, as with `python file.py`
        module_spec.loader.exec_module(module)
    return module


def is_export(path: str) -> bool:
    """Whether `path` is a .py that Jupyter exported from a notebook: a line that is a cell marker (# In[7]:)."""
    if not path.endswith(".py") or not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            return any(CELL_MARKER.fullmatch(line.rstrip("\r\n")) for line in f)
    except (OSError, UnicodeDecodeError):
        return False  # importing it will say what is wrong


def load_notebook(path: str) -> ModuleType:
    """The definitions of a notebook (or of a .py exported from one), executed in a fresh module named after
    it (see the module docstring)."""
    _check_file(path)
    full = os.path.abspath(path)
    module = ModuleType("_impl_" + os.path.splitext(os.path.basename(path))[0])
    module.__file__ = full
    setattr(module, NOTES, [])
    sys.modules[module.__name__] = module
    cells, kept_so_far = _read_cells(path)
    with _own_folder(os.path.dirname(full)), standing_in() as absences:
        module.__dict__.update(absences.jupyter_builtins())  # Jupyter's builtins, as in the notebook
        for name, origin in kept_so_far.unbound.items():  # a NameError for one of them says where it is bound
            absences.left_out(name, origin)
        binds = [set().union(*map(bound_names, cell.statements)) for cell in cells]
        for k, cell in enumerate(cells):
            # a NameError says where further down its name is bound (the first cell below that binds it)
            absences.ahead = {
                name: below.label for below, names in reversed(list(zip(cells, binds))[k + 1 :]) for name in names
            }
            # Each cell is its own "file" under the notebook's path, so tracebacks show its lines (as written).
            filename = os.path.join(full, cell.label)
            linecache.cache[filename] = (len(cell.text), None, cell.text.splitlines(True), filename)
            for statement in cell.statements:
                if statement in kept_so_far.on_trial:
                    _try(statement, filename, module, kept_so_far, cell.label, absences)
                    continue
                _execute(statement, filename, module, path, cell.label, absences)
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    _note_left_out_names(statement, module, cell.label, absences)
            getattr(module, NOTES).extend(cell.left_out)
            for line, magic in cell.magics:  # %matplotlib inline: nothing to run when matplotlib is missing
                if magic in absences.missing():
                    absences.used(magic, filename, line)
                if magic == "run":  # %run helpers.py: what it defines is missing, and a NameError for it says little
                    getattr(module, NOTES).append(_run_magic_note(cell, line))
    getattr(module, NOTES).extend(_defined_again(cells, module, full))
    absences.publish(getattr(module, NOTES))
    setattr(module, LEFT_OUT, absences.left_out_names)  # a NameError in the checks says where the name comes from
    setattr(module, RESULTS, kept_so_far.results)  # and one read by the function whose result it is, that it never
    # assigns it
    return module


def _defined_again(cells: list[Cell], module: ModuleType, full: str) -> list[str]:
    """A note for each function the notebook defines that a cell further down binds again: a second definition
    that differs (the one further down is the one loaded, as Restart & Run All leaves it, whichever Jupyter ran
    last), or an import (`from helpers import *`), whose function is then the one loaded."""
    defined: dict[str, list[tuple[str, str]]] = {}  # name -> (cell, its text) of each def
    for cell in cells:
        for statement in cell.statements:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defined.setdefault(statement.name, []).append((cell.label, ast.unparse(statement)))
    notes: list[str] = []
    imported: dict[str, list[str]] = {}  # file -> the notebook's functions an import from it bound again
    for name, defs in defined.items():
        value = module.__dict__.get(name)
        code = getattr(inspect.unwrap(value) if callable(value) else value, "__code__", None)  # @lru_cache: its own
        if code is None:  # bound again to what is not a Python function, or wrapped without __wrapped__: not said
            continue
        loaded = os.path.relpath(code.co_filename, full)
        if not code.co_filename.startswith(full + os.sep):  # a function of another file's: an import bound it
            imported.setdefault(os.path.basename(code.co_filename), []).append(f"{name} ({defs[-1][0]})")
        elif len({text for _, text in defs}) > 1:
            ran = max(defs, key=lambda d: _count(d[0]))[0]
            last = "" if _count(ran) < 0 or ran == loaded else f"; Jupyter ran {ran}'s last"
            notes.append(
                f"{name} is defined {len(defs)} times, differently ({', '.join(label for label, _ in defs)}): the one "
                f"further down, in {loaded}, is checked, as Restart & Run All leaves it{last}"
            )
    for where, names in imported.items():
        notes.append(
            f"an import further down binds again what the notebook defines, so {where}'s are checked, not the "
            f"notebook's: {', '.join(names)}"
        )
    return notes


def _count(label: str) -> int:
    """A cell's execution count, from its label ("cell [7]"), or -1 ("code cell 3": never run, or a count shown twice)."""
    return int(label[6:-1]) if label.startswith("cell [") else -1


@contextmanager
def _own_folder(folder: str):
    """While the implementation loads: its folder first on sys.path, and what it prints on stderr (stdout is
    the report's). Afterwards the helper modules it imported from that folder leave sys.modules (the module
    keeps its own references), so the next load, of another folder's or an edited file, imports them afresh."""
    before = set(sys.modules)
    sys.path.insert(0, folder)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        sys.path.remove(folder)
        for name in set(sys.modules) - before:
            file = getattr(sys.modules[name], "__file__", None) or ""
            if os.path.dirname(os.path.abspath(file)) == folder and not name.startswith("_impl_"):
                del sys.modules[name]


def _execute(statement: ast.stmt, filename: str, module: ModuleType, path: str, label: str, absences: Absences) -> None:
    library = _uses_stand_in(statement, module)
    if library is not None:  # plt.rcParams[...] = ...: it would only feed a library that is not there
        absences.used(library, filename, statement.lineno)
        for name in bound_names(statement):  # fig, ax = plt.subplots(): a NameError for ax says why it is missing
            absent = "exists only inside Jupyter" if library.endswith("()") else "is not installed"
            absences.left_out(name, f"{label}, line {statement.lineno}, skipped: it uses {library}, which {absent}")
        return
    try:
        exec(compile(ast.Module([statement], type_ignores=[]), filename, "exec"), module.__dict__)
    except ModuleNotFoundError as error:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            raise UsageError(f"--impl {path}: {label}, line {statement.lineno}: {error}") from None
        # A library the definitions may never call: noted, not fatal.
        getattr(module, NOTES).append(f"{label}, line {statement.lineno}: {error}; that import was skipped")
    except BaseException as error:  # its own problem, sys.exit and a KeyboardInterrupt it raised included
        if isinstance(error, signals.Interrupted) or signals.count():  # Ctrl-C while it loaded: the run's
            raise
        raise UsageError(
            f"--impl {path}: {label}, line {statement.lineno} {raised(error)}{absences.cause(error)}"
        ) from None


def _run_magic_note(cell: Cell, line: int) -> str:
    """'cell [2], line 1: %run my_helpers.py is not run as the notebook loads, ...: from my_helpers import *'."""
    words = cell.text.splitlines()[line - 1].split()
    script = words[1] if len(words) > 1 else ""
    name = os.path.splitext(os.path.basename(script))[0]
    instead = f"from {name} import *" if name.isidentifier() else "an import"
    shown = f"%run {script}" if script else "%run"
    return (
        f"{cell.label}, line {line}: {shown} is not run as the notebook loads, so what it defines is missing: "
        f"use {instead} instead"
    )


def _try(statement: ast.stmt, filename: str, module: ModuleType, kept: Filter, label: str, absences: Absences) -> None:
    """A statement kept on trial (shape_X = X.shape): run it, and where it raises, leave it out as a statement that
    calls code is, each name it binds noted with why (X comes from X, Y = load_data(), left out)."""
    if _uses_stand_in(statement, module) is not None:
        _execute(statement, filename, module, "", label, absences)  # noted as a use of that library, not run
        return
    try:
        exec(compile(ast.Module([statement], type_ignores=[]), filename, "exec"), module.__dict__)
    except Exception as error:  # whatever it raises leaves it out: the names it binds are noted as missing
        if signals.count():  # Ctrl-C while it loaded: the run's
            raise
        why = raised(error) + (absences.cause(error) if isinstance(error, NameError) else "")  # where it comes from
        for name, origin in kept.left_out_at_load(statement, label, why).items():
            absences.left_out(name, origin)


def _note_left_out_names(
    statement: ast.Import | ast.ImportFrom, module: ModuleType, label: str, absences: Absences
) -> None:
    """After an import that was skipped (its library missing): each name it would have bound, with why it is not
    there, so that a NameError for it says so (Absences.cause)."""
    place = f"{label}, line {statement.lineno}: "
    why = next((note for note in reversed(getattr(module, NOTES)) if note.startswith(place)), None)
    if why is None:
        return
    for alias in statement.names:
        name = alias.asname or alias.name.partition(".")[0]
        library = (
            ("." * statement.level + (statement.module or "")) if isinstance(statement, ast.ImportFrom) else alias.name
        )
        if name == "*":  # rnn_utils.py's softmax, for `from rnn_utils import *`: left_out_origin finds it
            absences.left_out(STAR + library, f"{library}{LEFT_OUT_IMPORT}{why}")
        elif name not in module.__dict__:
            absences.left_out(name, f"{library}{LEFT_OUT_IMPORT}{why}")


def left_out_origin(module: ModuleType, name: str) -> str | None:
    """Where `name`, unbound, would have come from (a LEFT_OUT origin): the skipped statement or import that binds
    it, else a skipped `from <module> import *` of a module not found (a helper file missing beside a notebook,
    which would have bound names nobody can list), else None."""
    left_out = getattr(module, LEFT_OUT, {})
    if name in left_out:
        return left_out[name]
    stars = (origin for key, origin in left_out.items() if key.startswith(STAR) and helper_file_missing(origin))
    return next(stars, None)


def why_missing(module: ModuleType, name: str) -> str:
    """' (code cell 5, line 1: def compute_cost was left out: its default ... would run code ...)' where a notebook
    binds `name` only in code loading leaves out, else ''."""
    origin = getattr(module, LEFT_OUT, {}).get(name)
    if not origin:
        return ""
    return f" ({origin})" if " was left out: " in origin else f" (bound only by {origin})"


def helper_file_missing(origin: str) -> tuple[str, str] | None:
    """(the module, where it was imported) for a LEFT_OUT origin whose import found no such module (a notebook
    copied without the course's helper file beside it, dnn_utils.py), else None."""
    helper, found, why = origin.partition(LEFT_OUT_IMPORT)
    if not found or "No module named" not in why:
        return None
    return helper, why.split(";")[0]


def _uses_stand_in(statement: ast.stmt, module: ModuleType) -> str | None:
    """The missing library a statement that is not a definition reads (a name bound to its stand-in), if any."""
    if isinstance(statement, KEPT):
        return None
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            library = stands_in(module.__dict__.get(node.id))
            if library is not None:
                return library
    return None


def _check_file(path: str) -> None:
    if os.path.isdir(path):
        raise UsageError(f"--impl {path} is a directory; give the .py file or the .ipynb notebook")
    if not os.path.isfile(path):
        raise UsageError(f"--impl {path}: no such file")
