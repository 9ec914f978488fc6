"""What the verifier's tests share: tiny configs and CLI argument lists, CLI runners, report readers, and copies of
the course's example files with one edit (a planted slip).

Test modules import these helpers with `from conftest import ...` (this folder is on sys.path under pytest, and
this is the only conftest.py of the suite). Every config here is tiny (a few iterations, a few dozen examples) and
writes nothing: no TensorBoard logs, no progress lines.
"""

import importlib.abc
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from verify import Config
from verify.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
COURSE = EXAMPLES / "course_network.py"  # the course's week-4 module: relu hidden layers, sigmoid output, bce

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "linear")
OUTPUT_PAIRS = (("sigmoid", "bce"), ("linear", "mse"), ("softmax", "ce"))
INITS = ("he", "xavier", "random", "zeros", "torch")
DTYPES = ("float64", "float32")
CHECK_NAMES = ("forward", "backward", "gradcheck", "lockstep", "free-running")

QUIET = {"tensorboard": False, "progress": False}


def fast(iterations: int = 5, examples: int = 40, *flags: str, tensorboard: bool = False) -> list[str]:
    """CLI arguments for a short run: `iterations` iterations on `examples` examples, TensorBoard off unless asked,
    then `flags` as given."""
    size = ["--iterations", str(iterations), "--examples", str(examples)]
    return [*([] if tensorboard else ["--no-tensorboard"]), *size, *flags]


FAST = fast()  # 5 iterations on 40 examples, no TensorBoard


def tiny(arch=(3, 4, 4, 1), **fields) -> Config:
    """A quick, silent Config: 32 examples and 5 iterations unless overridden."""
    base = Config(arch=tuple(arch), examples=32, iterations=5, **QUIET)
    return replace(base, **fields)


def failing_checks(report) -> set:
    """The names of the checks that failed (forward, backward, gradcheck, lockstep, free-running)."""
    return {check.name for check in report.checks if not check.ok}


def check(report, name: str):
    """The CheckResult called `name`."""
    (found,) = [c for c in report.checks if c.name == name]
    return found


def expected_rows(name: str, L: int) -> list:
    """(quantity, layer) rows each check fills, in the order the verifier computes them."""
    if name == "forward":
        return [(q, l) for l in range(1, L + 1) for q in ("Z", "A")] + [("cost", L)]
    if name == "backward":
        return [row for l in range(L, 0, -1) for row in (("dZ", l), ("dW", l), ("db", l), ("dA", l - 1))]
    if name == "gradcheck":
        return [(q, l) for l in range(L, 0, -1) for q in ("dW", "db")]
    if name == "lockstep":
        return (
            [("cost", L)]
            + [(q, l) for l in range(L, 0, -1) for q in ("dW", "db")]
            + [(q, l) for l in range(1, L + 1) for q in ("W", "b")]
        )
    if name == "free-running":
        return [("cost", L)] + [(q, l) for l in range(1, L + 1) for q in ("W", "b")]
    raise ValueError(name)


def run_cli(capsys, *argv: str):
    """verify.cli.main(argv) in this process -> (exit code, stdout, stderr)."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    """main(argv + --json -) -> (exit code, the report as a dict); no traceback on stderr."""
    code, out, err = run_cli(capsys, *argv, "--json", "-")
    assert "Traceback" not in err
    return code, json.loads(out)


def assert_usage_error(code: int, out: str, err: str) -> str:
    """Exit 2, nothing on stdout, exactly one stderr line `verify: error: ...`, no traceback; returns the line."""
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("verify: error: ")
    return lines[0]


def edited(
    folder: Path, source: Path, *edits: tuple[str, str], name: str = "", tail: str = "", beside: tuple[Path, ...] = ()
) -> Path:
    """A copy of `source` as folder/name (`source`'s own name unless given): its text with `tail` appended, then each
    (old, new) edit applied; each file of `beside` (a module the copy imports) is copied unchanged next to it.
    Each `old` text must occur exactly once; an edit whose `old` is empty changes nothing."""
    text = source.read_text(encoding="utf-8") + tail
    for old, new in edits:
        if old:
            assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {source.name}"
            text = text.replace(old, new)
    for other in beside:
        (folder / other.name).write_text(other.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / (name or source.name)
    path.write_text(text, encoding="utf-8")
    return path


def notebook_edited(
    folder: Path, notebook: Path, function: str, *edits: tuple[str, str], name: str, beside=(), drop: bool = False
) -> Path:
    """A copy of `notebook` as folder/name, beside copies of the files `beside`, with each (old, new) edit made in
    the code cell defining `function` (each old text once there), or with that cell dropped."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if c["cell_type"] == "code" and f"def {function}(" in "".join(c["source"])]
    text = "".join(cell["source"])
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    cell["source"] = text.splitlines(keepends=True)
    if drop:
        nb["cells"].remove(cell)
    for other in beside:
        (folder / other.name).write_text(other.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def variant(tmp_path: Path, source: Path, *edits: tuple[str, str], name: str = "learner.py") -> Path:
    """`source` with each (old, new) edit applied, as tmp_path/name; each old text must occur exactly once."""
    return edited(tmp_path, source, *edits, name=name)


def slipped(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    """A copy of `source` (same file name) in tmp_path with its one `old` text replaced by `new`: a classic slip."""
    return edited(tmp_path, source, (old, new))


def optimisers_text() -> str:
    """examples/course_optimizers.py's functions alone, to append to a week-4 module's text."""
    path = EXAMPLES / "course_optimizers.py"
    return path.read_text(encoding="utf-8").replace("from course_network import *", "")


@pytest.fixture
def forget_loaded_modules():
    """--impl registers the modules it loads in sys.modules: drop those a test added. A test module that loads
    learners' files uses it for each of its tests: `pytestmark = pytest.mark.usefixtures("forget_loaded_modules")`."""
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("_impl_", "impl_cases", "course_ext", "learner_helpers")):
            del sys.modules[name]


class Blocked(importlib.abc.MetaPathFinder):
    """Makes these top-level libraries unimportable, as on a machine that lacks them."""

    def __init__(self, libraries):
        self.libraries = set(libraries)

    def find_spec(self, fullname, path, target=None):
        if fullname.partition(".")[0] in self.libraries:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


@pytest.fixture
def block(monkeypatch):
    def block(*libraries):
        for name in list(sys.modules):
            if name.partition(".")[0] in libraries:
                monkeypatch.delitem(sys.modules, name)
        monkeypatch.setattr(sys, "meta_path", [Blocked(libraries), *sys.meta_path])

    return block
