"""A notebook's code cells, or a Jupyter .py export's, as the loader reads them: each cell's text (nbformat 4 or
3, or the lines between an export's cell markers), its name as Jupyter shows it, its Python without magics and
shell lines, and the statements the notebook filter keeps from it (see loading.py for the whole mechanism)."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from typing import NamedTuple

from ..errors import UsageError
from .notebook_filter import Filter

PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture")  # the rest of such a cell is Python
CELL_MARKER = re.compile(r"# In\[(\d+| *)\]:")  # what nbconvert writes above each code cell of a .py export
DEFINES = re.compile(r"^(?:def|async\s+def|class)\s|^@", re.M)  # a top-level definition, or its decorator
ASSIGNED = re.compile(r"^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", re.M)  # NAME = ... at the top level
# A line magic, as written in a notebook (%matplotlib inline) or as an export writes it.
MAGIC = re.compile(r"\s*(?:%(\w+)|get_ipython\(\)\.run_line_magic\(\s*['\"](\w+)['\"])")
# Lines IPython runs that are not Python: a magic or shell command (%, !), help (np.dot?, ?np.dot, np.dot??), and
# a name assigned a shell command's or a magic's output (files = !ls, t = %timeit -o f()).
IPYTHON_ONLY = re.compile(r"\s*(?:[%!]|\?+[\w.]+\s*$|[\w.]+\?+\s*$|[\w.,\s]+=\s*[%!])")


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
            kept.append(_unreadable(Cell(label, source, [], text, _magics(text)), error, path, kept_so_far))
            continue
        except (RecursionError, MemoryError):
            raise UsageError(f"--impl {path}: {label} is nested too deeply for Python to read") from None
        left_out: list[str] = []
        statements = [s for s in tree.body if kept_so_far.keeps(s, label, left_out)]
        kept.append(Cell(label, source, statements, text, _magics(text), left_out))
    return kept, kept_so_far


def _unreadable(cell: Cell, error: SyntaxError, path: str, kept_so_far: Filter) -> Cell:
    """A cell Python cannot read, left out with a note where it defines nothing (a test or scratch cell: print "x",
    `parameters = `), as Jupyter runs none of it; UsageError (exit 2) where it holds a definition or a decorator."""
    where = f"line {error.lineno}: {error.msg}"
    if DEFINES.search(cell.source):
        raise UsageError(f"--impl {path}: {cell.label}, {where}{_empty_block(cell.source, error)}") from None
    why = f"it has a syntax error ({where}), so none of it runs"
    kept_so_far.unbound.update(dict.fromkeys(ASSIGNED.findall(cell.source), f"{cell.label}, which was left out: {why}"))
    return cell._replace(left_out=[f"{cell.label} was left out: {why}"])


def _empty_block(source: str, error: SyntaxError) -> str:
    """' (in def initialize_parameters_he: an exercise's block left empty? ...)' for an indented block Python expected
    inside a function the cell defines, else ''."""
    if not (error.msg or "").startswith("expected an indented block") or not error.lineno:
        return ""
    above = source.splitlines()[: error.lineno]
    name = next((m.group(1) for line in reversed(above) if (m := re.match(r"\s*def\s+(\w+)", line))), None)
    if name is None:
        return ""
    return f" (in def {name}: an exercise's block left empty? Python needs a statement there: its code, or pass)"


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
        cells.append({"execution_count": int(count) if count else None, "source": _cell_magic("".join(body))})
    return "".join(lines[: starts[0]] if starts else lines), cells


def _cell_magic(source: str) -> str:
    """An export's cell that is one `get_ipython().run_cell_magic('time', '', 'def f(...):...')` (how nbconvert writes
    a cell that begins with %%time, %%capture, %%writefile, ...) as the notebook's cell: `%%time` and then its text;
    any other cell as it is."""
    if not source.startswith("get_ipython().run_cell_magic("):
        return source
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if not isinstance(call, ast.Call) or len(call.args) != 3 or call.keywords:
        return source
    try:
        name, line, text = (ast.literal_eval(arg) for arg in call.args)
    except ValueError:  # not three literals
        return source
    if not (isinstance(name, str) and isinstance(line, str) and isinstance(text, str)) or "\n" in name + line:
        return source
    return f"%%{name} {line}".rstrip() + "\n" + text


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
    """A cell's source without IPython's own lines (magics, shell, help: IPYTHON_ONLY), or '' for a non-Python cell
    magic."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%") and not first.startswith(PYTHON_CELL_MAGICS):
        return ""
    python: list[str] = []
    for line in lines:  # IPython reads a magic only where a logical line starts: `% (m, cost)` continuing is Python
        python.append("" if IPYTHON_ONLY.match(line) and _starts_a_statement(python) else line)
    return "\n".join(python) + "\n"


def _starts_a_statement(before: list[str]) -> bool:
    """Whether the line after `before` starts a logical line: not inside brackets, a string or after a backslash."""
    try:
        for _ in tokenize.generate_tokens(io.StringIO("\n".join(before) + "\n").readline):
            pass
    except tokenize.TokenError:  # EOF in a multi-line statement or string: the line continues it
        return False
    except SyntaxError:  # an indentation Python refuses: ast.parse will say where
        return True
    return True
