"""The notebook filter: which top-level statements of a notebook's cell are kept as it loads (imports,
definitions whose making calls nothing, NAME = a value whose making calls nothing), why a definition was left
out, and which names only left-out code binds."""

from __future__ import annotations

import ast

from ..errors import UsageError

KEPT_LINES = "only imports, definitions and NAME = constant, name or lambda lines are"


class Filter:
    """What a notebook keeps: imports, definitions and NAME = an inert value, never what runs. Making a
    definition runs its decorators, its defaults and (a class) its bases and its body, so a definition is kept
    only where each of those is inert, i.e. evaluating it calls nothing: a literal, a name (a function, a class,
    an import, a constant; looking one up runs nothing, and one that is not there raises NameError as it would in
    Jupyter), an attribute chain on a name (np.float64, @x.setter), -x of one, a lambda whose defaults are inert,
    arithmetic on numbers (1 / 2, 2 ** 6), or a tuple, list, set or dict of those. A class body may hold
    docstrings, `pass`, nested definitions held to the same rule, and NAME = an inert value. Anything else there
    (`def f(p=time.sleep(30))`, `@app.route("/")`, a print in a class body) leaves the definition out, with a
    note. Annotations are never evaluated: loading compiles them as strings
    (`from __future__ import annotations` at the top of loading.py, whose compile() runs them).

    NAME = an inert value (EPS = 1e-8, relu = lambda Z: ..., ACTIVATIONS = {"relu": relu}, shape_X = X.shape, a
    test cell's x[0, 0] = 0.0) is kept on trial (`on_trial`): where running it raises, as X.shape does where X =
    load_data() was left out, it is left out too (left_out_at_load), so only what the notebook's own code cannot
    make is missing, and a test cell's error does not stop the load."""

    def __init__(self, path: str):
        self.path = path
        self.label = ""  # the cell being read
        self.unbound: dict[str, str] = {}  # a name only code left out binds -> where, for a NameError's message
        # a name a left-out `name = function(...)` binds -> {function: where}: a test cell's use of a graded function
        self.results: dict[str, dict[str, str]] = {}
        self.on_trial: set[ast.stmt] = set()  # kept assignments that are left out after all if running them raises

    def keeps(self, statement: ast.stmt, label: str, left_out: list) -> bool:
        """Whether `statement` is kept; when a definition is not, why is added to `left_out`."""
        self.label = label
        kept, note = self._keeps(statement)
        if note is not None:
            left_out.append(note)
        bound = bound_names(statement)
        for name in bound:
            self.unbound.pop(name, None)
        if not kept:
            where = (
                note
                or f"{label}, line {statement.lineno}{_result_of(statement)}, which is not run as the notebook loads: "
                + KEPT_LINES
            )
            self.unbound.update(dict.fromkeys(bound, where))
            called = _called(statement)
            for name in bound if called else ():
                self.results.setdefault(name, {})[called] = where
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
        if isinstance(statement, ast.Try) and self._guarded_import(statement):
            self.on_trial.add(statement)  # try: import numpy as np / except ImportError: ...
            return True, None
        if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            if not (self._inert(statement.value) and all(map(self._target, targets))):
                return False, None
            self.on_trial.add(statement)  # x[0, 0] = 0.0 raises where x = np.random.randn(...) is left out
            return True, None
        return False, None

    def _guarded_import(self, statement: ast.Try) -> bool:
        """try: imports, except: imports, `pass`, a raise or NAME = an inert value (plt = None), else: and finally:
        imports: what it runs is imports."""
        imports = (ast.Import, ast.ImportFrom, ast.Pass)
        handled = [s for handler in statement.handlers for s in handler.body]
        return (
            all(isinstance(s, imports) for s in [*statement.body, *statement.orelse, *statement.finalbody])
            and all(isinstance(h.type, (type(None), ast.Name, ast.Attribute, ast.Tuple)) for h in statement.handlers)
            and all(
                isinstance(s, (*imports, ast.Raise))
                or (isinstance(s, ast.Assign) and all(map(self._target, s.targets)) and self._inert(s.value))
                for s in handled
            )
        )

    def left_out_at_load(self, statement: ast.stmt, label: str, why: str) -> dict[str, str]:
        """The names a statement kept on trial binds -> where they come from, when running it raised (`why`: 'raised
        NameError: ...'): it is left out as the notebook loads, as a statement that calls code is."""
        where = f"{label}, line {statement.lineno}, which is left out as the notebook loads: it {why}"
        return dict.fromkeys(bound_names(statement), where)

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
        """A literal, a name or an attribute chain on one, -x of one, a lambda whose defaults are inert, arithmetic on
        numbers, or a tuple, list, set or dict of those."""
        if self._literal(node) or _reference(node) or _arithmetic(node):
            return True
        if isinstance(node, ast.UnaryOp):
            return self._inert(node.operand)
        if isinstance(node, ast.Lambda):  # making it evaluates its defaults, and nothing of its body
            return all(self._inert(d) for d in [*node.args.defaults, *node.args.kw_defaults] if d is not None)
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


def _arithmetic(node: ast.expr) -> bool:
    """Numbers and + - * / // % of them, and a number to a small whole power (2 ** 6): evaluating it calls no code
    of the learner's and ends soon (a power of a power, 10 ** 10 ** 10, would not)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (int, float))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _arithmetic(node.operand)
    if not isinstance(node, ast.BinOp):
        return False
    if isinstance(node.op, ast.Pow):
        base, power = node.left, node.right
        small = isinstance(power, ast.Constant) and type(power.value) is int and abs(power.value) <= 64
        nested = any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.Pow) for n in ast.walk(base))
        return small and not nested and _arithmetic(base)
    operators = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
    return isinstance(node.op, operators) and _arithmetic(node.left) and _arithmetic(node.right)


def _reference(node: ast.expr) -> bool:
    """A name, or an attribute chain on one (np.float64): looking it up runs nothing of the learner's."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def bound_names(statement: ast.stmt) -> set[str]:
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


def _result_of(statement: ast.stmt) -> str:
    """', `Z, cache = conv_forward(...)`' for a statement binding names to a call of a function by its name (a test
    cell's use of a graded function), else ''."""
    function = _called(statement)
    if not function:
        return ""
    assert isinstance(statement, ast.Assign), "_called reads assignments alone"
    target = statement.targets[0]
    names = target.elts if isinstance(target, ast.Tuple) else [target]
    return f", `{', '.join(n.id for n in names if isinstance(n, ast.Name))} = {function}(...)`"


def _called(statement: ast.stmt) -> str:
    """The function a statement `name[, name...] = function(...)` calls, by its name, else ''."""
    if not (
        isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.value, ast.Call)
    ):
        return ""
    target, function = statement.targets[0], statement.value.func
    names = target.elts if isinstance(target, ast.Tuple) else [target]
    if not (isinstance(function, ast.Name) and all(isinstance(n, ast.Name) for n in names)):
        return ""
    return function.id


def _shown(node: ast.AST) -> str:
    """A node as written, cut to one short line for a message."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 60 else text[:57] + "..."
