"""The verifier's code stays readable in pieces: no module over 400 lines, no function over 60 lines, none taking more
than 6 parameters (self aside; argparse's parser builder is exempt as the design allows)."""

import ast
from pathlib import Path

VERIFY = Path(__file__).resolve().parents[2] / "verify"
MODULE_LINES, FUNCTION_LINES, PARAMETERS = 400, 60, 6


def _functions():
    for path in sorted(VERIFY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(VERIFY), node


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(VERIFY)): n for p in VERIFY.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_no_function_is_over_60_lines():
    long = [f"{path}:{node.name} {node.end_lineno - node.lineno + 1}" for path, node in _functions()]
    assert [entry for entry in long if int(entry.rsplit(" ", 1)[1]) > FUNCTION_LINES] == []


def test_no_function_takes_more_than_6_parameters():
    crowded = []
    for path, node in _functions():
        arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        count = len([a for a in arguments if a.arg not in ("self", "cls")])
        if count > PARAMETERS:
            crowded.append(f"{path}:{node.name} {count}")
    assert crowded == []
