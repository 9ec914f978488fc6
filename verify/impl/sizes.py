"""The network's size as the learner's own code fixes it, read from its source, never run.

The rule. The module's top-level statements are read in order (a notebook's code cells in
the order they appear), and, as in Jupyter, the last definition of a name wins:

- `layers_dims = [12288, 20, 7, 5, 1]` (a list or tuple of whole numbers, or of names bound
  earlier to whole numbers: `layers_dims = (n_x, n_h, n_y)`), and the dims a top-level call
  of `two_layer_model` or `L_layer_model` is given (`two_layer_model(X, Y, layers_dims =
  (n_x, n_h, n_y))`, `L_layer_model(X, Y, layers_dims)`), which count as defining
  layers_dims there;
- `n_x, n_h, n_y`: three whole-number constants, the network (n_x, n_h, n_y);
- `n_x` alone: the week 2 network (n_x, 1).

Which of them fixes the size depends on the API: week 4 (deep) takes layers_dims, else n_x,
n_h, n_y; week 3 (shallow) takes n_x, n_h, n_y, else a layers_dims of three sizes; week 2
(logreg) takes a layers_dims (n_x, 1), else n_x. A size that does not suit the API is not
taken. A definition that is not made of numbers (`layers_dims = [X.shape[0], 20, 1]`)
replaces the earlier ones: the module then fixes no size, and the message says why.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass, replace
from types import ModuleType

from .. import catalogue
from ..config import Config
from ..errors import UsageError
from .loading import notebook_definitions

# course loops called with the network's dims: (X, Y, layers_dims, ...)
LOOPS = tuple(f.name for f in catalogue.loops() if f.loop is not None and f.loop.layers_dims)
THREE = ("n_x", "n_h", "n_y")
DATA_INPUTS = "X.shape[0]"  # a constant's key no name can take: the size the data give the input layer
COURSE2_INPUTS = 2  # the second course's data sets: points in the plane
# Per API, the definitions that can fix its size, in the order they are preferred.
PREFERRED: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "deep": ("layers_dims", THREE),
    "shallow": (THREE, "layers_dims"),
    "logreg": ("layers_dims", "n_x"),
    "course2": ("layers_dims",),
}


@dataclass(frozen=True)
class Definition:
    """One module-level definition of a size: its value (None where not made of numbers) and how it reads."""

    value: int | tuple | None
    text: (
        str  # the definition as the learner wrote it, values resolved: "layers_dims = (n_x, n_h, n_y) = (12288, 7, 1)"
    )
    name: str  # what fixed it: "layers_dims", "two_layer_model's layers_dims"


# what --arch is for an API whose network has a fixed depth, where nothing in the module fixes its sizes
ARCH_EXAMPLES = {
    "logreg": ": give --arch n_x,1, logistic regression's one unit on n_x inputs (--arch 12288,1 for the cat pictures)",
    "shallow": ": give --arch n_x,n_h,n_y, one hidden layer (--arch 2,4,1 for the planar data)",
}


@dataclass(frozen=True)
class FixedSize:
    """The size a module fixes, and how messages name it."""

    arch: tuple[int, ...]
    text: str  # "layers_dims = [12288, 20, 7, 5, 1] in x.ipynb"
    origin: str  # "layers_dims in x.ipynb": the report's header shows it after the sizes


def network_size(config: Config, module: ModuleType | None, api: str, label: str) -> Config:
    """config with its arch decided: --arch alone, or the module's own size alone; both and different: UsageError,
    unless --arch is another size the module fixes (its n_x, n_h, n_y beside a deeper layers_dims).

    label names the module ("x.ipynb"); config.arch_from says where a size from the module came from."""
    definitions = module_definitions(module, api) if module is not None else {}
    fixed, why_not = _fixed(definitions, api, label)
    if config.arch is None:
        if fixed is None:
            raise UsageError(f"--arch is needed: {why_not}{ARCH_EXAMPLES.get(api, '')}")
        return replace(config, arch=fixed.arch, arch_from=fixed.origin)
    if fixed is not None and tuple(config.arch) != fixed.arch:
        other = _fixing(definitions, api, label, tuple(config.arch))
        if other is not None:  # another size the module fixes: the application notebook's n_x, n_h, n_y beside
            return replace(config, arch_from=other.origin)  # its layers_dims, for two_layer_model
        kind = "notebook's" if label.endswith(".ipynb") else "module's"
        raise UsageError(
            f"--arch {','.join(map(str, config.arch))} differs from {fixed.text}; drop --arch to use the "
            f"{kind}, or change one of them"
        )
    return config


def _fixed(definitions: dict, api: str, label: str) -> tuple[FixedSize | None, str]:
    """The size the definitions fix for `api`, or None and why not (for the message that asks for --arch).

    The API's preferred definitions are tried in order: one that fits decides; one that is not made of
    numbers stops the search (the learner's network is that one); one that does not fit the API is passed."""
    keys = PREFERRED.get(api, ("layers_dims",))
    reasons: list[str] = []
    for key in keys:
        definition = _definition(definitions, key)
        if definition is None:
            continue
        if definition.value is None:
            reasons.append(
                f"{definition.text} in {label} is not made of numbers the verifier can read without running it"
            )
            break
        arch = _as_arch(definition.value, api)
        if arch is not None:
            return FixedSize(arch, f"{definition.text} in {label}", f"{definition.name} in {label}"), ""
        reasons.append(f"{definition.text} in {label} does not fit {_SHAPES.get(api, 'a network')}")
    if reasons:
        return None, "; ".join(reasons)
    looked_for = ", ".join(", ".join(k) if isinstance(k, tuple) else k for k in keys)
    return None, f"{label} fixes no network size (no {looked_for})"


def _fixing(definitions: dict, api: str, label: str, arch: tuple[int, ...]) -> FixedSize | None:
    """The definition among those that can fix the API's size (PREFERRED) whose size is `arch`, if any."""
    for key in PREFERRED.get(api, ("layers_dims",)):
        definition = _definition(definitions, key)
        if definition is not None and definition.value is not None and _as_arch(definition.value, api) == arch:
            return FixedSize(arch, f"{definition.text} in {label}", f"{definition.name} in {label}")
    return None


def size_of_depth(module: ModuleType, api: str, layers: int) -> tuple[int, ...] | None:
    """The sizes of a network of `layers` layers the module fixes (the application notebook's n_x, n_h, n_y beside
    its deeper layers_dims, for its two_layer_model), or None."""
    definitions = module_definitions(module, api)
    for key in PREFERRED.get(api, ("layers_dims",)):
        definition = _definition(definitions, key)
        arch = None if definition is None or definition.value is None else _as_arch(definition.value, api)
        if arch is not None and len(arch) == layers + 1:
            return arch
    return None


_SHAPES = {
    "deep": "a network (at least two sizes)",
    "shallow": "the week 3 API's n_x, n_h, n_y",
    "logreg": "the week 2 API's n_x, 1",
    "course2": "the second course's n_x, n[1], n[2], 1",
}


def _definition(definitions: dict, key: str | tuple[str, ...]) -> Definition | None:
    """The definition of one of PREFERRED's keys: a name's, or n_x, n_h, n_y's combined."""
    return _combined(definitions, key) if isinstance(key, tuple) else definitions.get(key)


def _combined(definitions: dict, names: tuple) -> Definition | None:
    """n_x, n_h, n_y as one definition (all three must be there), or None."""
    parts = [part for part in (definitions.get(name) for name in names) if part is not None]
    if len(parts) < len(names):
        return None
    values = tuple(part.value for part in parts)
    if all(isinstance(v, int) for v in values):
        return Definition(values, f"{', '.join(names)} = {', '.join(map(str, values))}", ", ".join(names))
    texts = list(dict.fromkeys(part.text for part in parts if part.value is None))  # each statement once
    return Definition(None, "; ".join(texts), ", ".join(names))


def _as_arch(value, api: str) -> tuple[int, ...] | None:
    """value as the API's network sizes, or None where it does not fit the API."""
    if isinstance(value, int):  # n_x alone: week 2's one sigmoid unit
        return (value, 1) if api == "logreg" else None
    if not isinstance(value, tuple) or len(value) < 2:
        return None
    fits = {
        "shallow": len(value) == 3,
        "logreg": len(value) == 2 and value[1] == 1,
        "course2": len(value) == 4 and value[3] == 1,
    }.get(api, True)
    return value if fits else None


# ---------------------------------------------------------------- reading the source


def module_definitions(module: ModuleType, api: str = "") -> dict[str, Definition]:
    """The size definitions of the module's source, the last of each name winning (see the module docstring).

    The second course's notebooks (api course2) size their network from their data, 2-D points:
    `layers_dims = [X.shape[0], 10, 5, 1]`, at top level or in the body of their `model`, read with X.shape[0] = 2."""
    definitions: dict[str, Definition] = {}
    constants: dict[str, int] = {DATA_INPUTS: COURSE2_INPUTS} if api == "course2" else {}
    statements = _top_level(module)
    if api == "course2":
        statements += [s for f in statements if isinstance(f, ast.FunctionDef) and f.name == "model" for s in f.body]
    for statement in statements:
        _read(statement, definitions, constants)
    return definitions


def _top_level(module: ModuleType) -> list:
    """The module's top-level statements, in order: a notebook's code cells one after another, or the .py file."""
    path = getattr(module, "__file__", None) or ""
    if path.endswith(".ipynb"):
        sources = [cell[1] for cell in notebook_definitions(path)]
    else:
        try:
            sources = [inspect.getsource(module)]
        except (OSError, TypeError):  # no source to read (a compiled or built-in module)
            return []
    statements = []
    for source in sources:
        try:
            statements += ast.parse(source).body
        except SyntaxError:  # loading the module would already have said so
            continue
    return statements


def _read(statement: ast.stmt, definitions: dict, constants: dict) -> None:
    """Record what one top-level statement defines: whole-number constants, layers_dims, a loop's dims."""
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            _assign(target, statement.value, definitions, constants)
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        _assign(statement.target, statement.value, definitions, constants)
    value = getattr(statement, "value", None)
    if isinstance(value, ast.Call):
        _loop_call(value, definitions, constants)


def _assign(target: ast.expr, value: ast.expr, definitions: dict, constants: dict) -> None:
    if isinstance(target, ast.Name):
        _bind(target.id, value, definitions, constants)
    elif isinstance(target, (ast.Tuple, ast.List)):  # n_x, n_h, n_y = 12288, 7, 1 (or = layer_sizes(X, Y))
        values = (
            value.elts if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) else None
        )
        for i, element in enumerate(target.elts):
            if isinstance(element, ast.Name):
                whole = f"{', '.join(map(ast.unparse, target.elts))} = {ast.unparse(value)}"
                _bind(element.id, values[i] if values else None, definitions, constants, whole=whole)


def _bind(name: str, value: ast.expr | None, definitions: dict, constants: dict, whole: str = "") -> None:
    """name = value: a whole number joins the constants; layers_dims and n_x, n_h, n_y become definitions."""
    number = _whole(value, constants) if value is not None else None
    if number is None:
        constants.pop(name, None)
    else:
        constants[name] = number
    if name == "layers_dims":
        sizes = _sizes(value, constants) if value is not None else None
        definitions[name] = Definition(sizes, _shown(name, value, sizes, whole), name)
    elif name in THREE:
        if number is not None:
            shown = f"{name} = {number}"
        elif whole or value is None:  # a tuple assignment (the one without a value of its own) gives the whole line
            shown = whole
        else:
            shown = f"{name} = {ast.unparse(value)}"
        definitions[name] = Definition(number, shown, name)


def _loop_call(call: ast.Call, definitions: dict, constants: dict) -> None:
    """two_layer_model(X, Y, layers_dims, ...) or (..., layers_dims=...) at top level: the dims it is run with."""
    function = call.func.id if isinstance(call.func, ast.Name) else None
    if function not in LOOPS:
        return
    given = next(
        (k.value for k in call.keywords if k.arg == "layers_dims"), call.args[2] if len(call.args) > 2 else None
    )
    if given is None or isinstance(given, ast.Name) and given.id == "layers_dims":  # the one defined above, as it is
        return
    sizes = _sizes(given, constants)
    shown = ast.unparse(given)
    resolved = "" if sizes is None or shown == _literal(sizes, given) else f" = {_literal(sizes, given)}"
    definitions["layers_dims"] = Definition(
        sizes, f"{function}(..., layers_dims={shown}{resolved})", f"{function}'s layers_dims"
    )


def _whole(node: ast.expr, constants: dict) -> int | None:
    """A whole number written as one, or a name bound to one earlier; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if DATA_INPUTS in constants and re.fullmatch(r"\w+\.shape\[0\]", ast.unparse(node)):
        return constants[DATA_INPUTS]  # X.shape[0], train_X.shape[0]: the data's inputs
    return None


def _sizes(node: ast.expr, constants: dict) -> tuple[int, ...] | None:
    """A list or tuple whose every item is a whole number (or a name bound to one), as a tuple; else None."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        return None
    items = [_whole(item, constants) for item in node.elts]
    sizes = tuple(item for item in items if item is not None)
    return None if len(sizes) < len(items) else sizes


def _literal(sizes: tuple, node: ast.expr) -> str:
    """The sizes written as the learner wrote the container: [a, b] for a list, (a, b) for a tuple."""
    return str(list(sizes)) if isinstance(node, ast.List) else str(tuple(sizes))


def _shown(name: str, value: ast.expr | None, sizes: tuple | None, whole: str) -> str:
    """'layers_dims = (n_x, n_h, n_y) = (12288, 7, 1)': as written, and its numbers where names stand for them."""
    if value is None:  # one target of an unpacking: the whole statement
        return whole
    written = ast.unparse(value)
    if sizes is None or written == _literal(sizes, value):
        return f"{name} = {written}"
    return f"{name} = {written} = {_literal(sizes, value)}"


# ---------------------------------------------------------------- layers a function reads


def layers_read(function) -> int | None:
    """The highest layer l whose parameters["W{l}"] or ["b{l}"] the function's source names, or None where it
    names none (or has no source to read): a week-3 forward_propagation reads W1 and W2, a 3-layer one W3."""
    try:  # a function of the learner's process (--isolate) carries its source
        source = getattr(function, "__source__", None) or inspect.getsource(function)
        tree = ast.parse(textwrap.dedent(source))
    except (OSError, TypeError, SyntaxError):
        return None
    layers = [
        int(match.group(1))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        for match in [re.fullmatch(r"[Wb](\d+)", node.value)]
        if match
    ]
    return max(layers) if layers else None


__all__ = ["Definition", "FixedSize", "layers_read", "module_definitions", "network_size"]
