"""Loading the implementation under test: a .py file, an importable module, or a Jupyter notebook.

A notebook is read as the JSON it is (nbformat 4, what Jupyter has written since 2015) with
the standard json module rather than the nbformat package: only the code cells' sources are
needed, and that is not worth a dependency. From each code cell, in order, the verifier keeps
what defines the implementation: imports, function and class definitions, and assignments of
literal constants. Everything else is left out (the statements that run tests, plot, download
or train, IPython magics and shell lines), so loading a notebook trains and draws nothing.
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
is the notebook's `%matplotlib inline`, and is left out and noted the same way.

Whatever is loaded (a notebook, a .py, a module, and the helper files they import), a plotting,
display or data library that is not installed is given a stand-in (standins.py), and the kept
statements that use it are skipped; the report notes once per library what was skipped. Cells are
named as Jupyter shows them: "cell [7]" by the execution count a cell has, else "code cell k"
(k counts code cells only, from 1), in every message and in tracebacks (`x.ipynb/cell [7]:6`).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import linecache
import os
import re
import sys
from contextlib import contextmanager, redirect_stdout
from types import ModuleType
from typing import NamedTuple

from .. import signals
from ..errors import UsageError, raised
from .standins import Absences, standing_in, stands_in

NOTES = "_verify_notes"  # a loaded notebook's module keeps here what was left out that a user should know
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")  # the rest of such a cell is Python
CELL_MARKER = re.compile(r"# In\[(\d+| *)\]:")  # what nbconvert writes above each code cell of a .py export
# A line magic, as written in a notebook (%matplotlib inline) or as an export writes it.
MAGIC = re.compile(r"\s*(?:%(\w+)|get_ipython\(\)\.run_line_magic\(\s*['\"](\w+)['\"])")


def load_module(spec: str) -> ModuleType:
    """The module named by --impl: a path to a .py file or a .ipynb notebook, or an importable module name."""
    if not spec.strip():
        raise UsageError("--impl needs a .py file, a .ipynb notebook or a module name, got nothing")
    if spec.endswith(".ipynb") or is_export(spec):
        return load_notebook(spec)
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
            line = next((f" at line {f.lineno}" for f in reversed(inspect.trace())
                         if f.filename.endswith(os.path.basename(spec))), "")
            did = raised(error).replace(": ", f"{line}: ", 1) if ": " in raised(error) else raised(error) + line
            raise UsageError(f"--impl {spec}: importing it {did}{absences.cause(error)}") from None
    if absences.missing() or spec.endswith(".py") or os.sep in spec:  # where a stand-in can be used later
        absences.publish(module.__dict__.setdefault(NOTES, []))
    return module


def _import(spec: str, absences: Absences) -> ModuleType:
    """A .py file (with Jupyter's get_ipython and display, which code written in a notebook may call), or a module
    by name."""
    if not (spec.endswith(".py") or os.sep in spec):
        return importlib.import_module(spec)
    _check_file(spec)
    name = "_impl_" + os.path.splitext(os.path.basename(spec))[0]
    module_spec = importlib.util.spec_from_file_location(name, os.path.abspath(spec))
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
    cells = notebook_definitions(path)
    with _own_folder(os.path.dirname(full)), standing_in() as absences:
        module.__dict__.update(absences.jupyter_builtins())  # Jupyter's builtins, as in the notebook
        for cell in cells:
            # Each cell is its own "file" under the notebook's path, so tracebacks show its lines (as written).
            filename = os.path.join(full, cell.label)
            linecache.cache[filename] = (len(cell.text), None, cell.text.splitlines(True), filename)
            for statement in cell.statements:
                _execute(statement, filename, module, path, cell.label, absences)
            for line, magic in cell.magics:  # %matplotlib inline: nothing to run when matplotlib is missing
                if magic in absences.missing():
                    absences.used(magic, filename, line)
    absences.publish(getattr(module, NOTES))
    return module


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


class Cell(NamedTuple):
    """A code cell: how Jupyter names it, its text as written, the statements kept, its line magics."""

    label: str  # "cell [7]" (its execution count) or "code cell 3" (the third code cell, never run)
    source: str  # its Python: the text with magics and shell lines blanked, line for line
    statements: list
    text: str  # as written
    magics: list  # (line, magic's name) for each %magic line, e.g. (8, "matplotlib")


def notebook_definitions(path: str) -> list[Cell]:
    """Each code cell of a notebook (or of a .py exported from one), with the statements kept from it."""
    if path.endswith(".ipynb"):
        try:
            with open(path, encoding="utf-8") as f:
                notebook = json.load(f)
            cells = notebook["cells"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise UsageError(f"--impl {path}: not a readable Jupyter notebook (nbformat 4): {error}") from None
        code_cells = [cell for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
        header = ""
    else:
        header, code_cells = exported_cells(path)
    kept = []
    labels = [cell_label(cell, number) for number, cell in enumerate(code_cells, start=1)]
    labels = [f"code cell {number}" if labels.count(label) > 1 else label  # counts restart with the kernel:
              for number, label in enumerate(labels, start=1)]             # two cells can both show [1]
    if any(line.strip() and not line.lstrip().startswith("#") for line in header.splitlines()):
        # code written above an export's first cell (nbconvert writes only comments there)
        code_cells, labels = [{"source": header}, *code_cells], [f"before {labels[0]}" if labels else "code cell 0", *labels]
    for cell, label in zip(code_cells, labels):
        text = _text(cell.get("source", ""))
        source = _python_lines(text)
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            raise UsageError(f"--impl {path}: {label}, line {error.lineno}: {error.msg}") from None
        kept.append(Cell(label, source, [s for s in tree.body if _defines(s)], text, _magics(text)))
    return kept


def exported_cells(path: str) -> tuple[str, list[dict]]:
    """A .py export's text before its first cell marker, and its cells as a notebook's code cells
    ({"execution_count": 7 or None, "source": the lines up to the next marker, blank lines around them dropped})."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(True)
    starts = [k for k, line in enumerate(lines) if CELL_MARKER.fullmatch(line.rstrip("\r\n"))]
    cells = []
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        count = CELL_MARKER.fullmatch(lines[start].rstrip("\r\n")).group(1).strip()
        body = lines[start + 1:end]
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        cells.append({"execution_count": int(count) if count else None, "source": "".join(body)})
    return "".join(lines[:starts[0]] if starts else lines), cells


def cell_label(cell: dict, number: int) -> str:
    """As Jupyter shows a code cell: by its execution count ("cell [7]"), else by its place among the
    code cells ("code cell 3"), as also where two cells show the same count (notebook_definitions)."""
    count = cell.get("execution_count")
    if isinstance(count, int) and not isinstance(count, bool):
        return f"cell [{count}]"
    return f"code cell {number}"


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def _magics(text: str) -> list[tuple[int, str]]:
    """(line, name) of each line magic: `%matplotlib inline` is (k, "matplotlib"), and so is an export's
    `get_ipython().run_line_magic('matplotlib', 'inline')`."""
    return [(k, match.group(1) or match.group(2)) for k, line in enumerate(text.splitlines(), start=1)
            for match in [MAGIC.match(line)] if match]


def _python_lines(text: str) -> str:
    """A cell's source without IPython magics and shell lines (%, %%, !), or '' for a non-Python cell magic."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%") and not first.startswith(PYTHON_CELL_MAGICS):
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines) + "\n"


def _defines(statement: ast.stmt) -> bool:
    """Imports, definitions, and NAME = a literal constant: what defines an implementation, never what runs it."""
    if isinstance(statement, KEPT):
        return True
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        try:
            ast.literal_eval(statement.value)
            return True
        except ValueError:
            return False
    return False


def _execute(statement: ast.stmt, filename: str, module: ModuleType, path: str, label: str, absences: Absences) -> None:
    library = _uses_stand_in(statement, module)
    if library is not None:  # plt.rcParams[...] = ...: it would only feed a library that is not there
        absences.used(library, filename, statement.lineno)
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
        raise UsageError(f"--impl {path}: {label}, line {statement.lineno} {raised(error)}"
                         f"{absences.cause(error)}") from None


def _uses_stand_in(statement: ast.stmt, module: ModuleType) -> "str | None":
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
