"""Loading the implementation under test: a .py file, an importable module, or a Jupyter notebook.

A notebook is read as the JSON it is (nbformat 4, what Jupyter has written since 2015) with
the standard json module rather than the nbformat package: only the code cells' sources are
needed, and that is not worth a dependency. From each code cell, in order, the verifier keeps
what defines the implementation: imports, function and class definitions, and assignments of
literal constants. Everything else is left out (the statements that run tests, plot, download
or train, IPython magics and shell lines), so loading a notebook trains and draws nothing.
The kept code runs in a fresh module with the notebook's folder first on sys.path, so its
helper files (dnn_utils, testCases, ...) import as they do in Jupyter.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import linecache
import os
import sys
from contextlib import contextmanager, redirect_stdout
from types import ModuleType

from ..errors import UsageError

NOTES = "_verify_notes"  # a loaded notebook's module keeps here what was left out that a user should know
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")  # the rest of such a cell is Python


def load_module(spec: str) -> ModuleType:
    """The module named by --impl: a path to a .py file or a .ipynb notebook, or an importable module name."""
    if not spec.strip():
        raise UsageError("--impl needs a .py file, a .ipynb notebook or a module name, got nothing")
    if spec.endswith(".ipynb"):
        return load_notebook(spec)
    try:
        if spec.endswith(".py") or os.sep in spec:
            _check_file(spec)
            name = "_impl_" + os.path.splitext(os.path.basename(spec))[0]
            module_spec = importlib.util.spec_from_file_location(name, os.path.abspath(spec))
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module  # dataclasses and pickling look modules up here
            with _own_folder(os.path.dirname(os.path.abspath(spec))):  # its helper files import, as with `python file.py`
                module_spec.loader.exec_module(module)
            return module
        return importlib.import_module(spec)
    except UsageError:
        raise
    except ModuleNotFoundError as error:
        raise UsageError(f"--impl {spec}: cannot import it ({error})") from None
    except BaseException as error:  # anything the module does at import time is its own problem
        if isinstance(error, KeyboardInterrupt):
            raise
        line = next((f" at line {f.lineno}" for f in reversed(inspect.trace()) if f.filename.endswith(os.path.basename(spec))), "")
        raise UsageError(f"--impl {spec}: importing it raised {type(error).__name__}{line}: {error}") from None


def load_notebook(path: str) -> ModuleType:
    """The notebook's definitions, executed in a fresh module named after it (see the module docstring)."""
    _check_file(path)
    full = os.path.abspath(path)
    module = ModuleType("_impl_" + os.path.splitext(os.path.basename(path))[0])
    module.__file__ = full
    setattr(module, NOTES, [])
    sys.modules[module.__name__] = module
    with _own_folder(os.path.dirname(full)):
        for number, source, statements in notebook_definitions(path):
            # Each cell is its own "file" under the notebook's path, so tracebacks show its lines.
            filename = os.path.join(full, f"cell {number}")
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            for statement in statements:
                _execute(statement, filename, module, path, number)
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


def notebook_definitions(path: str) -> list[tuple[int, str, list]]:
    """(cell number, the cell's Python source, the statements kept from it) for each code cell."""
    try:
        with open(path, encoding="utf-8") as f:
            notebook = json.load(f)
        cells = notebook["cells"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise UsageError(f"--impl {path}: not a readable Jupyter notebook (nbformat 4): {error}") from None
    kept = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _python_lines(cell.get("source", ""))
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            raise UsageError(f"--impl {path}: cell {number}, line {error.lineno}: {error.msg}") from None
        kept.append((number, source, [s for s in tree.body if _defines(s)]))
    return kept


def _python_lines(source) -> str:
    """A cell's source without IPython magics and shell lines (%, %%, !), or '' for a non-Python cell magic."""
    text = "".join(source) if isinstance(source, list) else str(source)
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


def _execute(statement: ast.stmt, filename: str, module: ModuleType, path: str, number: int) -> None:
    try:
        exec(compile(ast.Module([statement], type_ignores=[]), filename, "exec"), module.__dict__)
    except ModuleNotFoundError as error:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)):
            raise UsageError(f"--impl {path}: cell {number}, line {statement.lineno}: {error}") from None
        # A plotting or data library the definitions may never call: noted, not fatal.
        getattr(module, NOTES).append(f"cell {number}, line {statement.lineno}: {error}; that import was skipped")
    except Exception as error:
        raise UsageError(f"--impl {path}: cell {number}, line {statement.lineno} raised "
                         f"{type(error).__name__}: {error}") from None


def _check_file(path: str) -> None:
    if os.path.isdir(path):
        raise UsageError(f"--impl {path} is a directory; give the .py file or the .ipynb notebook")
    if not os.path.isfile(path):
        raise UsageError(f"--impl {path}: no such file")
