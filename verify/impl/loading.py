"""Loading the implementation under test: a .py file, an importable module, or a Jupyter notebook.

A notebook is read as the JSON it is (nbformat 4, what Jupyter has written since 2015, or nbformat 3,
whose code cells are under worksheets[0] with "input") with the standard json module rather than the
nbformat package: only the code cells' sources are needed, and that is not worth a dependency. From
each code cell, in order, the verifier keeps what defines the implementation: imports, function and
class definitions whose making calls nothing (Filter), and assignments of literal constants.
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

LEFT_OUT = "_verify_left_out"  # a loaded notebook's names that left-out code would have bound -> where from
NOTES = "_verify_notes"  # a loaded notebook's module keeps here what was left out that a user should know
KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # never skipped for a stand-in
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
        with redirect_stdout(sys.stderr):  # what it prints as it imports is not the report's (as for a file)
            return importlib.import_module(spec)
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
        for cell in cells:
            # Each cell is its own "file" under the notebook's path, so tracebacks show its lines (as written).
            filename = os.path.join(full, cell.label)
            linecache.cache[filename] = (len(cell.text), None, cell.text.splitlines(True), filename)
            for statement in cell.statements:
                _execute(statement, filename, module, path, cell.label, absences)
                if isinstance(statement, (ast.Import, ast.ImportFrom)):
                    _note_left_out_names(statement, module, cell.label, absences)
            getattr(module, NOTES).extend(cell.left_out)
            for line, magic in cell.magics:  # %matplotlib inline: nothing to run when matplotlib is missing
                if magic in absences.missing():
                    absences.used(magic, filename, line)
    absences.publish(getattr(module, NOTES))
    setattr(module, LEFT_OUT, absences.left_out_names)  # a NameError in the checks says where the name comes from
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
    left_out: list = []  # a note for each definition left out because defining it would run code (Filter)


def notebook_definitions(path: str) -> list[Cell]:
    """Each code cell of a notebook (or of a .py exported from one), with the statements kept from it."""
    return _read_cells(path)[0]


def _read_cells(path: str) -> tuple[list[Cell], Filter]:
    """notebook_definitions, and the Filter that chose the statements (it knows the names only code left out binds)."""
    if path.endswith(".ipynb"):
        code_cells, header = notebook_code_cells(path), ""
    else:
        header, code_cells = exported_cells(path)
    kept = []
    labels = [cell_label(cell, number) for number, cell in enumerate(code_cells, start=1)]
    labels = [
        f"code cell {number}" if labels.count(label) > 1 else label  # counts restart with the kernel:
        for number, label in enumerate(labels, start=1)
    ]  # two cells can both show [1]
    if any(line.strip() and not line.lstrip().startswith("#") for line in header.splitlines()):
        # code written above an export's first cell (nbconvert writes only comments there)
        code_cells, labels = (
            [{"source": header}, *code_cells],
            [f"before {labels[0]}" if labels else "code cell 0", *labels],
        )
    kept_so_far = Filter(path)
    for cell, label in zip(code_cells, labels):
        text = _text(cell.get("source", ""), path, label)
        source = _python_lines(text)
        try:
            tree = ast.parse(source)
        except SyntaxError as error:
            raise UsageError(f"--impl {path}: {label}, line {error.lineno}: {error.msg}") from None
        except (RecursionError, MemoryError):
            raise UsageError(f"--impl {path}: {label} is nested too deeply for Python to read") from None
        left_out: list[str] = []
        statements = [s for s in tree.body if kept_so_far.keeps(s, label, left_out)]
        kept.append(Cell(label, source, statements, text, _magics(text), left_out))
    return kept, kept_so_far


def notebook_code_cells(path: str) -> list[dict]:
    """A notebook's code cells, as nbformat 4 writes them ({"source": ..., "execution_count": ...}); an nbformat 3
    notebook's (worksheets[0]["cells"], with "input" and "prompt_number") are read as the same."""
    try:
        with open(path, encoding="utf-8") as f:
            notebook = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise UsageError(f"--impl {path}: not a readable Jupyter notebook (nbformat 4): {error}") from None
    if not isinstance(notebook, dict):
        raise UsageError(
            f'--impl {path}: not a Jupyter notebook: its JSON is {_json_kind(notebook)}, not an object with "cells"'
        )
    if "cells" not in notebook and "worksheets" in notebook:  # nbformat 3 (IPython 1 and 2, before 2015)
        worksheets = notebook["worksheets"]
        if not isinstance(worksheets, list) or not all(isinstance(w, dict) for w in worksheets):
            raise UsageError(
                f'--impl {path}: nbformat 3 notebook whose "worksheets" is not a list of objects; '
                "open and save it in Jupyter to convert it to nbformat 4"
            )
        cells = [cell for worksheet in worksheets[:1] for cell in _listed(worksheet.get("cells", []), path, "cells")]
        return [
            {"source": cell.get("input", ""), "execution_count": cell.get("prompt_number")}
            for cell in cells
            if cell.get("cell_type") == "code"
        ]
    if "cells" not in notebook:
        raise UsageError(f'--impl {path}: not a Jupyter notebook (nbformat 4): it has no "cells"')
    return [cell for cell in _listed(notebook["cells"], path, "cells") if cell.get("cell_type") == "code"]


def _listed(cells, path: str, key: str) -> list[dict]:
    """`cells` when it is a list of objects, else the one line that says what it is."""
    if not isinstance(cells, list):
        raise UsageError(
            f'--impl {path}: not a readable Jupyter notebook: its "{key}" is {_json_kind(cells)}, not a list'
        )
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise UsageError(
                f"--impl {path}: not a readable Jupyter notebook: cell {number} is {_json_kind(cell)}, not an object"
            )
    return cells


def _json_kind(value) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}
    return kinds.get(type(value), "a number")


def exported_cells(path: str) -> tuple[str, list[dict]]:
    """A .py export's text before its first cell marker, and its cells as a notebook's code cells
    ({"execution_count": 7 or None, "source": the lines up to the next marker, blank lines around them dropped})."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines(True)
    starts = [k for k, line in enumerate(lines) if CELL_MARKER.fullmatch(line.rstrip("\r\n"))]
    cells = []
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        marker = CELL_MARKER.fullmatch(lines[start].rstrip("\r\n"))
        assert marker is not None, "starts are the lines it matches"
        count = marker.group(1).strip()
        body = lines[start + 1 : end]
        while body and not body[0].strip():
            body.pop(0)
        while body and not body[-1].strip():
            body.pop()
        cells.append({"execution_count": int(count) if count else None, "source": "".join(body)})
    return "".join(lines[: starts[0]] if starts else lines), cells


def cell_label(cell: dict, number: int) -> str:
    """As Jupyter shows a code cell: by its execution count ("cell [7]"), else by its place among the
    code cells ("code cell 3"), as also where two cells show the same count (notebook_definitions)."""
    count = cell.get("execution_count")
    if isinstance(count, int) and not isinstance(count, bool):
        return f"cell [{count}]"
    return f"code cell {number}"


def _text(source, path: str = "", label: str = "") -> str:
    """A cell's source as one string: nbformat keeps it as one string or as a list of lines."""
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise UsageError(
        f"--impl {path}: {label}: its source is {_json_kind(source)}"
        f"{' holding a non-string' if isinstance(source, list) else ''}, not text or a list of lines"
    )


def _magics(text: str) -> list[tuple[int, str]]:
    """(line, name) of each line magic: `%matplotlib inline` is (k, "matplotlib"), and so is an export's
    `get_ipython().run_line_magic('matplotlib', 'inline')`."""
    return [
        (k, match.group(1) or match.group(2))
        for k, line in enumerate(text.splitlines(), start=1)
        for match in [MAGIC.match(line)]
        if match
    ]


def _python_lines(text: str) -> str:
    """A cell's source without IPython magics and shell lines (%, %%, !), or '' for a non-Python cell magic."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%") and not first.startswith(PYTHON_CELL_MAGICS):
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines) + "\n"


class Filter:
    """What a notebook keeps: imports, definitions and NAME = a literal constant, never what runs. Making a
    definition runs its decorators, its defaults and (a class) its bases and its body, so a definition is kept
    only where each of those is inert, i.e. evaluating it calls nothing: a literal, a name (a function, a class,
    an import, a constant; looking one up runs nothing, and one that is not there raises NameError as it would in
    Jupyter), an attribute chain on a name (np.float64, @x.setter), -x of one, or a tuple, list, set or dict of
    those. A class body may hold docstrings, `pass`, nested definitions held to the same rule, and NAME = an
    inert value. Anything else there (`def f(p=time.sleep(30))`, `@app.route("/")`, a print in a class body)
    leaves the definition out, with a note. Annotations are never evaluated: loading compiles them as strings
    (`from __future__ import annotations` at the top of this file)."""

    def __init__(self, path: str):
        self.path = path
        self.label = ""  # the cell being read
        self.unbound: dict[str, str] = {}  # a name only code left out binds -> where, for a NameError's message

    def keeps(self, statement: ast.stmt, label: str, left_out: list) -> bool:
        """Whether `statement` is kept; when a definition is not, why is added to `left_out`."""
        self.label = label
        kept, note = self._keeps(statement)
        if note is not None:
            left_out.append(note)
        bound = _bound_names(statement)
        for name in bound:
            self.unbound.pop(name, None)
        if not kept:
            where = (
                note
                or f"{label}, line {statement.lineno}, which is not run as the notebook loads: only imports, "
                "definitions and NAME = constant lines are"
            )
            self.unbound.update(dict.fromkeys(bound, where))
        return kept

    def _keeps(self, statement: ast.stmt) -> tuple[bool, str | None]:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            return True, None
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            running = self._runs(statement)
            if running is None:
                return True, None
            node, role = running
            kind = "class" if isinstance(statement, ast.ClassDef) else "def"
            return False, (
                f"{self.label}, line {statement.lineno}: {kind} {statement.name} was left out: its {role} "
                f"{_shown(node)} would run code as the notebook loads (only literals, names and "
                "definitions are run there)"
            )
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            return self._literal(statement.value) and all(map(self._target, targets)), None
        return False, None

    def _runs(self, definition: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[ast.AST, str] | None:
        """(the node, its role) of the first part of a definition that would run code as it is made, or None."""
        for decorator in definition.decorator_list:
            if not _reference(decorator):
                return decorator, "decorator"
        if isinstance(definition, ast.ClassDef):
            for base in [*definition.bases, *(keyword.value for keyword in definition.keywords)]:
                if not self._inert(base):
                    return base, "base"
            return self._body_runs(definition.body)
        arguments = definition.args
        for default in [*arguments.defaults, *(d for d in arguments.kw_defaults if d is not None)]:
            if not self._inert(default):
                return default, "default"
        return None

    def _body_runs(self, body: list) -> tuple[ast.AST, str] | None:
        """What of a class body would run code as the class is made, or None."""
        for statement in body:
            if isinstance(statement, ast.Pass) or (
                isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            ):
                continue  # a docstring, or `...`
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                running = self._runs(statement)
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                if not all(isinstance(target, ast.Name) for target in targets):
                    running = statement, "body's statement"
                elif statement.value is not None and not self._inert(statement.value):
                    running = statement.value, "class attribute"
                else:
                    running = None
            else:
                running = statement, "body's statement"
            if running is not None:
                return running
        return None

    def _inert(self, node: ast.expr) -> bool:
        """A literal, a name or an attribute chain on one, -x of one, or a tuple, list, set or dict of those."""
        if self._literal(node) or _reference(node):
            return True
        if isinstance(node, ast.UnaryOp):
            return self._inert(node.operand)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return all(map(self._inert, node.elts))
        if isinstance(node, ast.Dict):
            return all(key is None or self._inert(key) for key in node.keys) and all(map(self._inert, node.values))
        return False

    def _target(self, node: ast.expr) -> bool:
        """What a kept assignment may assign to: names (unpacked or not), or an item or attribute of a name's
        attribute chain, by literal keys (plt.rcParams["figure.figsize"] = ...)."""
        if isinstance(node, ast.Name):
            return True
        if isinstance(node, (ast.Tuple, ast.List)):
            return all(map(self._target, node.elts))
        if isinstance(node, ast.Starred):
            return self._target(node.value)
        return isinstance(node, (ast.Subscript, ast.Attribute)) and self._place(node)

    def _place(self, node: ast.expr) -> bool:
        """A name's attribute chain, or an item of one by a literal key: evaluating it calls no code of the learner's."""
        if isinstance(node, ast.Subscript):
            return self._place(node.value) and self._literal(node.slice)
        if isinstance(node, ast.Attribute):
            return self._place(node.value)
        return isinstance(node, ast.Name)

    def _literal(self, node: ast.expr) -> bool:
        """Whether ast.literal_eval takes `node`; one that Python itself refuses ({[1]: 2}: unhashable) stops the
        load, as it stops the notebook in Jupyter."""
        try:
            ast.literal_eval(node)
            return True
        except TypeError as error:
            raise UsageError(
                f"--impl {self.path}: {self.label}, line {node.lineno}: {_shown(node)} raises TypeError: {error}"
            ) from None
        except (ValueError, SyntaxError, RecursionError, MemoryError):
            return False


def _reference(node: ast.expr) -> bool:
    """A name, or an attribute chain on one (np.float64): looking it up runs nothing of the learner's."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _bound_names(statement: ast.stmt) -> set[str]:
    """The names a top-level statement binds in the module (not those inside the functions it defines)."""
    names: set[str] = set()
    todo: list[ast.AST] = [statement]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            todo.extend([*node.decorator_list])
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(alias.asname or alias.name.partition(".")[0] for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue  # their names are their own
        todo.extend(ast.iter_child_nodes(node))
    return names


def _shown(node: ast.AST) -> str:
    """A node as written, cut to one short line for a message."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."


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
        raise UsageError(
            f"--impl {path}: {label}, line {statement.lineno} {raised(error)}{absences.cause(error)}"
        ) from None


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
        if name != "*" and name not in module.__dict__:
            absences.left_out(name, f"{library}, which was left out: {why}")


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
