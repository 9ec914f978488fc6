"""Loading what --impl names, when it is hostile or damaged: the notebook filter runs no code it leaves out, a
name that is missing because its import was skipped says so, a damaged notebook or a file that is not Python
stops with one line (exit 2), and what a module imported by name prints never reaches --json -'s stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import COURSE, REPO, assert_usage_error, fast, run_cli

from verify.errors import UsageError
from verify.impl import NOTES, load_module
from verify.impl.loading import LEFT_OUT

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

FAST = fast(2, 16)


def notebook(path: Path, *sources: str, **top) -> Path:
    """An nbformat 4 notebook of these code cells (never run), with `top` replacing its top-level keys."""
    cells = [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        for source in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5, **top}))
    return path


# ---------------------------------------------------------------- 1. the filter runs nothing it leaves out


@pytest.mark.parametrize(
    "definition, note",
    [
        ("def f(p=open(MARK, 'w')):\n    return p\n", "def f was left out: its default open(MARK, 'w') would run code"),
        ("def f(*, p=open(MARK, 'w')):\n    return p\n", "def f was left out: its default open(MARK, 'w')"),
        ("@(lambda g: open(MARK, 'w') and g)\ndef f():\n    pass\n", "def f was left out: its decorator lambda g:"),
        ("@os.system(f'touch {MARK}')\ndef f():\n    pass\n", "def f was left out: its decorator os.system("),
        ("class f:\n    open(MARK, 'w')\n", "class f was left out: its body's statement open(MARK, 'w')"),
        ("class f:\n    x = open(MARK, 'w')\n", "class f was left out: its class attribute open(MARK, 'w')"),
        (
            "class f:\n    def g(self, p=open(MARK, 'w')):\n        pass\n",
            "class f was left out: its default open(MARK, 'w')",
        ),
        ("class f(type(open(MARK, 'w'))):\n    pass\n", "class f was left out: its base type(open(MARK, 'w'))"),
        (
            "class f:\n    for _ in [open(MARK, 'w')]:\n        pass\n",
            "class f was left out: its body's statement for _ in",
        ),
    ],
)
def test_a_definition_that_would_run_code_is_left_out_and_noted(tmp_path, definition, note):
    mark = tmp_path / "ran"
    path = notebook(tmp_path / "hostile.ipynb", f"import os\nMARK = {str(mark)!r}\n", definition)
    module = load_module(str(path))
    assert not mark.exists()  # nothing of it ran
    assert not hasattr(module, "f")
    line = 2 if definition.startswith("@") else 1  # a decorated def's line is its `def` line, as in a traceback
    (only,) = getattr(module, NOTES)
    assert only.startswith(f"code cell 2, line {line}: {note}"), only


def test_a_default_that_sleeps_is_not_waited_for(tmp_path):
    import time

    path = notebook(tmp_path / "slow.ipynb", "import time\ndef f(p=time.sleep(30)):\n    return p\n")
    started = time.perf_counter()
    module = load_module(str(path))
    assert time.perf_counter() - started < 5 and not hasattr(module, "f")


def test_annotations_are_never_evaluated(tmp_path):
    mark = tmp_path / "ran"
    path = notebook(
        tmp_path / "annotated.ipynb",
        f"MARK = {str(mark)!r}\ndef f(x: open(MARK, 'w')) -> open(MARK, 'w'):\n    return x\n"
        "class C:\n    y: open(MARK, 'w')\n",
    )
    module = load_module(str(path))
    assert not mark.exists() and module.f(3) == 3 and isinstance(module.C(), module.C)


def test_what_makes_nothing_run_is_kept(tmp_path):
    """Names, attribute chains, literals and containers of them as defaults, decorators and class bodies."""
    path = notebook(
        tmp_path / "plain.ipynb",
        "import numpy as np\nfrom functools import lru_cache\nfrom typing import NamedTuple\n"
        "from dataclasses import dataclass\nEPS = 1e-8\n",
        "def f(x, low=-np.inf, dtype=np.float64, eps=EPS, acts=(np.tanh, np.exp), *, k={'pi': np.pi}):\n    return x\n",
        'class P:\n    """A docstring."""\n    scale = 2.0\n    twice = scale\n    def __init__(self, v=EPS):\n'
        "        self._v = v\n    @property\n    def v(self):\n        return self._v\n    @v.setter\n"
        "    def v(self, value):\n        self._v = value\n    @staticmethod\n    def s():\n        pass\n",
        "class T(NamedTuple):\n    a: int\n    b: float = 0.5\n",
        "@dataclass\nclass D:\n    x: int = 0\n",
        "@lru_cache\ndef g():\n    return 3\n",
    )
    module = load_module(str(path))
    assert getattr(module, NOTES) == []
    assert module.f.__defaults__ == (-np_inf(), module.np.float64, 1e-8, (module.np.tanh, module.np.exp))
    assert module.f.__kwdefaults__ == {"k": {"pi": module.np.pi}}
    p = module.P()
    p.v = 5
    assert (p.v, module.P.twice, module.T(1), module.D().x, module.g()) == (5, 2.0, module.T(1, 0.5), 0, 3)


def np_inf() -> float:
    return float("inf")


def test_a_value_made_without_calls_is_kept_and_one_that_raises_is_left_out_by_name(tmp_path):
    """relu = lambda ..., a dict of names, arithmetic on numbers: kept as Jupyter makes them. shape_X = X.shape,
    where X comes from a call left out, raises as it loads: left out too, and a NameError for it says why."""
    mark = tmp_path / "ran"
    path = notebook(
        tmp_path / "helpers.ipynb",
        f"import numpy as np\nMARK = {str(mark)!r}\n",
        "relu = lambda Z, slope=-0.0: np.maximum(slope, Z)\nACTIVATIONS = {'relu': relu, 'exp': np.exp}\n"
        "HALF = 1 / 2\nBATCH = 2 ** 6\nsame = relu\n",
        "X, Y = np.load('data.npz')\nshape_X = X.shape\nopened = lambda p=open(MARK, 'w'): p\nHUGE = 10 ** 10 ** 10\n",
    )
    module = load_module(str(path))
    assert not mark.exists() and not hasattr(module, "opened") and not hasattr(module, "HUGE")
    assert module.ACTIVATIONS["relu"](module.np.array([-1.0, 2.0])).tolist() == [-0.0, 2.0]
    assert (module.HALF, module.BATCH, module.same, module.ACTIVATIONS["exp"]) == (0.5, 64, module.relu, module.np.exp)
    assert not hasattr(module, "shape_X")
    assert getattr(module, LEFT_OUT)["shape_X"] == (
        "code cell 3, line 2, which is left out as the notebook loads: it raised NameError: name 'X' is not defined "
        "(X comes from code cell 3, line 1, which is not run as the notebook loads: only imports, definitions and "
        "NAME = constant, name or lambda lines are)"
    )


def test_a_test_cells_assignment_that_raises_is_left_out_not_fatal(tmp_path):
    """x[0, 0] = 0.0 where x = np.random.randn(...) is left out, or a, b = 1, 2, 3: in Jupyter only that cell stops;
    loading leaves them out (was: exit 2 at the first, blaming matplotlib for the second), and names why."""
    path = notebook(
        tmp_path / "tests.ipynb",
        "import numpy as np\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (5.0, 4.0)\n",
        "def double(x):\n    return 2 * x\n",
        "x = np.random.randn(4, 3)\nx[0, 0] = 0.0\nprint(double(x))\n",
        "a, b = 1, 2, 3\n",
    )
    module = load_module(str(path))
    assert module.double(2) == 4 and not hasattr(module, "a")
    assert getattr(module, LEFT_OUT)["a"] == (
        "code cell 4, line 1, which is left out as the notebook loads: it raised ValueError: too many values to unpack "
        "(expected 2)"
    )


def test_a_test_cell_with_a_syntax_error_is_left_out_and_a_definitions_cell_is_refused(tmp_path):
    """print "x" in a test cell: Jupyter runs none of that cell and the rest of the notebook still works (was: exit 2
    for the whole notebook); a cell holding a def it cannot read still stops the load, naming the line."""
    path = notebook(
        tmp_path / "py2.ipynb",
        "def double(x):\n    return 2 * x\n",
        'parameters = double(2)\nprint "shape", parameters\n',
        "def triple(x):\n    return 3 * x\n",
    )
    module = load_module(str(path))
    assert (module.double(2), module.triple(2)) == (4, 6) and not hasattr(module, "parameters")
    note = "code cell 2 was left out: it has a syntax error (line 2: Missing parentheses in call to 'print'"
    assert getattr(module, NOTES)[0].startswith(note)
    assert getattr(module, LEFT_OUT)["parameters"].startswith("code cell 2, which was left out: it has a syntax error")
    broken = notebook(tmp_path / "broken.ipynb", "def double(x):\n    return 2 *\n")
    with pytest.raises(UsageError, match=r"code cell 1, line 2: invalid syntax"):
        load_module(str(broken))


def test_an_exercise_block_left_empty_names_its_function(tmp_path):
    """The current course's '# YOUR CODE STARTS HERE' block emptied after a for: Python's IndentationError names a
    line; the line also names the def it is in (was: the line alone)."""
    cell = (
        "def initialize_parameters_he(layers_dims):\n    parameters = {}\n    for l in range(1, len(layers_dims)):\n"
        "        # YOUR CODE STARTS HERE\n\n        # YOUR CODE ENDS HERE\n    return parameters\n"
    )
    with pytest.raises(UsageError) as raised:
        load_module(str(notebook(tmp_path / "empty.ipynb", cell)))
    assert str(raised.value).endswith(
        "code cell 1, line 7: expected an indented block after 'for' statement on line 3 (in def "
        "initialize_parameters_he: an exercise's block left empty? Python needs a statement there: its code, or pass)"
    )


def test_a_run_magic_is_noted_as_not_run(tmp_path):
    path = notebook(tmp_path / "ran.ipynb", "import numpy as np\n%run my_helpers.py\n")
    (tmp_path / "my_helpers.py").write_text("def helper():\n    return 1\n")
    module = load_module(str(path))
    assert not hasattr(module, "helper")
    assert getattr(module, NOTES) == [
        "code cell 1, line 2: %run my_helpers.py is not run as the notebook loads, so what it defines is missing: "
        "use from my_helpers import * instead"
    ]


def test_a_run_magic_is_named_where_no_api_is_found(tmp_path, capsys):
    """The functions %run would have defined are what the API search misses: its line says so (was: only the
    functions found and missing, per API, where a run that passes notes the %run line)."""
    path = notebook(tmp_path / "ran.ipynb", "import numpy as np\n%run course_network.py\n")
    (tmp_path / "course_network.py").write_text(COURSE.read_text())
    line = assert_usage_error(*run_cli(capsys, "--impl", str(path), *FAST))
    assert line.startswith(f"verify: error: --impl {path} matches none of the course APIs: ")
    assert line.endswith(
        "; code cell 1, line 2: %run course_network.py is not run as the notebook loads, so what it defines is "
        "missing: use from course_network import * instead"
    )


def test_an_import_guarded_by_try_is_kept(tmp_path):
    """try: import numpy as np / except ImportError: raise (was left out: 'np is not defined ... only imports
    ... are'); a guard that falls back to None keeps None; one that raises leaves its names out, saying why."""
    path = notebook(
        tmp_path / "guarded.ipynb",
        "try:\n    import numpy as np\nexcept ImportError:\n    raise\n",
        "try:\n    import no_such_library\nexcept ImportError:\n    no_such_library = None\n",
        "try:\n    from no_such_library import thing\nexcept (ImportError, OSError) as error:\n"
        "    raise RuntimeError('pip install it') from error\n",
        "def total(x):\n    return np.sum(x)\n",
    )
    module = load_module(str(path))
    assert module.total([1, 2]) == 3 and module.no_such_library is None and not hasattr(module, "thing")
    assert getattr(module, LEFT_OUT)["thing"] == (
        "code cell 3, line 1, which is left out as the notebook loads: it raised RuntimeError: pip install it"
    )


def test_a_line_starting_with_percent_or_bang_inside_a_statement_is_python(tmp_path):
    """IPython reads a magic or a shell line only where a logical line starts: `% (m, cost)` continuing a print,
    `!= 2` inside brackets and a docstring's `!` line are Python, and stay (were blanked: a SyntaxError)."""
    path = notebook(
        tmp_path / "percent.ipynb",
        "%matplotlib inline\nimport numpy as np\n!pip install nothing\n",
        'def f(m, cost):\n    text = ("after %i: %.1f"\n            % (m, cost))\n    notes = """\n!kept\n%kept\n"""\n'
        "    return text, notes, (m\n != 0)\n",
        "files = !ls\n%time f(1, 2.0)\n",
    )
    module = load_module(str(path))
    assert module.f(3, 0.5) == ("after 3: 0.5", "\n!kept\n%kept\n", True)


@pytest.mark.end_to_end
def test_a_graded_function_using_a_lambda_helper_passes(tmp_path, capsys):
    path = notebook(
        tmp_path / "lambdas.ipynb",
        COURSE.read_text(),
        "positive = lambda Z: np.maximum(0, Z)\nACTIVATIONS = {'relu': positive}\nONE = 2 / 2\n",
        "def relu(Z):\n    return ACTIVATIONS['relu'](Z) * ONE, Z\n",
    )
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST)
    assert code == 0, out + err


@pytest.mark.end_to_end
def test_a_course_notebook_with_definitions_only_still_passes(tmp_path, capsys):
    functions = COURSE.read_text().split("import numpy as np\n", 1)[1]
    path = notebook(tmp_path / "course.ipynb", "import numpy as np\n", functions)
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST, "--json", "-")
    assert code == 0, err
    assert json.loads(out)["verdict"] == "pass"


# ---------------------------------------------------------------- 2. a name whose import was skipped


@pytest.mark.end_to_end
def test_a_graded_function_left_out_for_its_default_is_named_as_such_where_it_is_missing(tmp_path, capsys):
    """def compute_cost(AL, Y, eps=np.finfo(float).tiny): left out, as its default calls np.finfo; the line that says
    compute_cost is missing says why (was: 'missing compute_cost' alone), and so does --init impl's."""
    course = COURSE.read_text()
    path = notebook(
        tmp_path / "finfo.ipynb",
        course.replace("def compute_cost(AL, Y):", "def compute_cost(AL, Y, eps=np.finfo(float).tiny):"),
    )
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    why = (
        "compute_cost (code cell 1, line {}: def compute_cost was left out: its default np.finfo(float).tiny would run "
        "code as the notebook loads"
    )
    assert why.format(course[: course.index("def compute_cost")].count("\n") + 1) in line, line
    path = notebook(
        tmp_path / "seeded.ipynb",
        course.replace(
            "def initialize_parameters_deep(layer_dims):",
            "def initialize_parameters_deep(layer_dims, rng=np.random.default_rng(3)):",
        ),
    )
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST, "--init", "impl"))
    assert "has no function initialize_parameters_deep(layer_dims) -> parameters (code cell 1, line" in line, line
    assert "def initialize_parameters_deep was left out: its default np.random.default_rng(3)" in line


@pytest.mark.end_to_end
def test_a_name_from_a_skipped_import_is_named_as_such(tmp_path, capsys):
    path = notebook(
        tmp_path / "widgets.ipynb",
        "import numpy as np\n",
        "from no_such_widgets import interact\n\n@interact\ndef f(x=1):\n    return x\n",
    )
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert line == (
        f"verify: error: --impl {path}: code cell 2, line 4 raised NameError: name 'interact' is not "
        "defined (interact comes from no_such_widgets, which was left out: code cell 2, line 1: No module "
        "named 'no_such_widgets'; that import was skipped)"
    )


def test_a_function_defined_again_further_down_is_noted_with_the_one_loaded(tmp_path):
    """Cells run out of order in Jupyter: the definition further down is the one loaded (as Restart & Run All leaves
    it), and a note says so, and which one Jupyter ran last, where the two differ; the same text twice is no news."""
    path = notebook(
        tmp_path / "twice.ipynb",
        "def f(x):\n    return x\n",
        "def f(x):\n    return 2 * x\n",
        "def g(x):\n    return x\n",
        "def g(x):\n    return x\n",
    )
    cells = json.loads(path.read_text())
    for cell, count in zip(cells["cells"], (9, 4, 1, 2)):
        cell["execution_count"] = count
    path.write_text(json.dumps(cells))
    module = load_module(str(path))
    assert module.f(1) == 2 and module.f.__code__.co_filename.endswith("cell [4]")
    assert [note for note in getattr(module, NOTES) if "defined" in note] == [
        "f is defined 2 times, differently (cell [9], cell [4]): the one further down, in cell [4], is checked, as "
        "Restart & Run All leaves it; Jupyter ran cell [9]'s last"
    ]


def test_a_function_an_import_further_down_binds_again_is_noted(tmp_path):
    """`from helpers import *` below the learner's definitions (Jupyter ran it first): the helper file's functions
    are the ones loaded and checked, and a note says so (was: a PASS of the helper's code, without a word)."""
    (tmp_path / "helpers.py").write_text("def f(x):\n    return x\n\n\ndef g(x):\n    return x\n")
    path = notebook(tmp_path / "shadowed.ipynb", "def f(x):\n    return 2 * x\n", "from helpers import *\n")
    module = load_module(str(path))
    assert module.f(1) == 1
    assert [note for note in getattr(module, NOTES) if "import" in note] == [
        "an import further down binds again what the notebook defines, so helpers.py's are checked, not the "
        "notebook's: f (code cell 1)"
    ]


def test_a_name_set_further_down_is_said_so_not_blamed_on_a_missing_library(tmp_path, capsys, block):
    """Jupyter ran the cell that sets RATE first; here the cells run from the top. The NameError is not the missing
    matplotlib's doing (was: '(matplotlib is not installed, and code cell 1, line 2 used it: pip install
    matplotlib)')."""
    block("matplotlib")
    path = notebook(
        tmp_path / "later.ipynb",
        "import numpy as np\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (5.0, 4.0)\n",
        "def f(x, learning_rate=RATE):\n    return x\n",
        "RATE = 0.0075\n",
    )
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert line == (
        f"verify: error: --impl {path}: code cell 2, line 1 raised NameError: name 'RATE' is not defined (RATE is set "
        "further down, in code cell 3: the cells run here from the top down, as Restart & Run All runs them)"
    )


LEFT_OUT_NAMES = {  # cells 1 and 2 bind a name only as left out (matplotlib missing), cell 3 reads it as it loads
    "skipped for a missing library": (
        ("import numpy as np\nimport matplotlib.pyplot as plt\n", "ax = plt.gca\n", "def f(x, where=ax):\n    pass\n"),
        "code cell 3, line 1 raised NameError: name 'ax' is not defined (ax comes from code cell 2, line 1, skipped: "
        "it uses matplotlib, which is not installed)",
    ),
    "left out as a call": (
        ("import functools\n", "cache = functools.lru_cache(maxsize=4)\n", "@cache\ndef f():\n    pass\n"),
        "code cell 3, line 2 raised NameError: name 'cache' is not defined (cache comes from code "
        "cell 2, line 1, which is not run as the notebook loads: only imports, definitions and NAME = "
        "constant, name or lambda lines are)",
    ),
}


@pytest.mark.end_to_end
@pytest.mark.parametrize("case", LEFT_OUT_NAMES)
def test_a_name_only_left_out_code_binds_is_named_as_such(tmp_path, capsys, block, case):
    block("matplotlib")
    cells, said = LEFT_OUT_NAMES[case]
    path = notebook(tmp_path / "made.ipynb", *cells)
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert line.endswith(said)


@pytest.mark.end_to_end
def test_a_graded_function_using_a_name_a_left_out_cell_binds_says_where_it_comes_from(tmp_path, capsys):
    path = notebook(
        tmp_path / "scaled.ipynb",
        COURSE.read_text(),
        "SCALE = np.sqrt(2.0)\n",
        "def relu(Z):\n    return np.maximum(0, Z) * SCALE / SCALE, Z\n",
    )
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST)
    assert code == 1 and "Traceback" not in err
    assert (
        "fix `relu`: raised NameError: name 'SCALE' is not defined (SCALE comes from code cell 2, line 1, which is not "
        "run as the notebook loads"
    ) in out


@pytest.mark.end_to_end
def test_a_graded_function_whose_result_only_its_test_cell_binds_is_told_it_never_assigns_it(tmp_path, capsys):
    """An exercise left empty (`return A, cache` with no A = ...): in Jupyter it would read the A its own test cell
    bound; loaded here, the NameError says the function never assigns it (was: "A comes from code cell 3, ...")."""
    path = notebook(
        tmp_path / "unfinished.ipynb",
        COURSE.read_text(),
        "def relu(Z):\n    # YOUR CODE STARTS HERE\n\n    # YOUR CODE ENDS HERE\n    cache = Z\n    return A, cache\n",
        "A, cache = relu(np.array([[1.0, -1.0]]))\n",
    )
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST)
    assert code == 1 and "Traceback" not in err
    assert (
        "fix `relu`: raised NameError: name 'A' is not defined (relu never assigns A: the notebook's only A is the "
        "result of calling it, code cell 3, line 1, `A, cache = relu(...)`, which is not run as the notebook loads"
    ) in out


@pytest.mark.end_to_end
def test_the_function_that_never_assigns_its_result_is_named_when_another_function_calls_it(tmp_path, capsys):
    """relu's block left empty, its A bound by its own test cell and, further down, by L_model_forward's test: the
    NameError, raised in relu while linear_activation_forward calls it, names relu and its own test cell (was: 'the
    notebook's only A is the result of calling' the function under check, with the last binding's cell)."""
    path = notebook(
        tmp_path / "unfinished.ipynb",
        COURSE.read_text(),
        "def relu(Z):\n    # YOUR CODE STARTS HERE\n\n    # YOUR CODE ENDS HERE\n    cache = Z\n    return A, cache\n",
        "A, cache = relu(np.array([[1.0, -1.0]]))\n",
        "A, caches = L_model_forward(np.ones((3, 2)), {})\n",
    )
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST)
    assert code == 1 and "Traceback" not in err
    assert (
        "raised NameError: name 'A' is not defined (relu never assigns A: the notebook's A is the result of calling "
        "it, code cell 3, line 1, `A, cache = relu(...)`, which is not run as the notebook loads"
    ) in out
    assert "(relu never assigns A: the notebook's only A" not in out


@pytest.mark.end_to_end
def test_a_name_missing_everywhere_is_the_plain_name_error(tmp_path, capsys):
    path = notebook(tmp_path / "typo.ipynb", "@not_there\ndef f():\n    pass\n")
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert line.endswith("code cell 1, line 2 raised NameError: name 'not_there' is not defined")


# ---------------------------------------------------------------- 3. damaged notebooks: one line, exit 2


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda p: p.write_text(json.dumps({"nbformat": 4, "cells": {"a": 1}})),
            'not a readable Jupyter notebook: its "cells" is an object, not a list',
        ),
        (
            lambda p: p.write_text(json.dumps({"nbformat": 4, "cells": [3]})),
            "not a readable Jupyter notebook: cell 1 is a number, not an object",
        ),
        (
            lambda p: notebook(p, ["x = 1\n", 3]),
            "code cell 1: its source is a list holding a non-string, not text or a list",
        ),
        (lambda p: notebook(p, {"x": 1}), "code cell 1: its source is an object, not text or a list of lines"),
        (lambda p: p.write_text("[1, 2]"), 'not a Jupyter notebook: its JSON is a list, not an object with "cells"'),
        (lambda p: p.write_text('"text"'), 'not a Jupyter notebook: its JSON is a string, not an object with "cells"'),
        (lambda p: p.write_text(json.dumps({"nbformat": 4, "metadata": {}})), 'it has no "cells"'),
        (
            lambda p: notebook(p, "X = {[1]: 2}\n"),
            "code cell 1, line 1: {[1]: 2} raises TypeError: unhashable type: 'list'",
        ),
        (
            lambda p: notebook(p, "def f(a={[]: 1}):\n    pass\n"),
            "code cell 1, line 1: {[]: 1} raises TypeError: unhashable type: 'list'",
        ),
        (
            lambda p: notebook(p, "X = {1, 2, {3}}\n"),
            "code cell 1, line 1: {1, 2, {3}} raises TypeError: unhashable type: 'set'",
        ),
        (
            lambda p: p.write_text(json.dumps({"nbformat": 3, "worksheets": 7})),
            'nbformat 3 notebook whose "worksheets"',
        ),
        (lambda p: p.write_text("[" * 100000 + "]" * 100000), "not a readable Jupyter notebook"),
    ],
)
@pytest.mark.end_to_end
def test_a_damaged_notebook_is_one_line(tmp_path, capsys, make, message):
    path = tmp_path / "damaged.ipynb"
    make(path)
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert line.startswith(f"verify: error: --impl {path}: ") and message in line, line


@pytest.mark.end_to_end
def test_an_nbformat_3_notebook_loads(tmp_path, capsys):
    """nbformat 3 keeps the code cells under worksheets[0] with "input" and "prompt_number"."""
    functions = COURSE.read_text().split("import numpy as np\n", 1)[1]
    cells = [
        {"cell_type": "heading", "level": 1, "source": "Title"},
        {
            "cell_type": "code",
            "language": "python",
            "outputs": [],
            "prompt_number": 1,
            "input": ["import numpy as np\n", "print('cell ran')\n"],
        },
        {"cell_type": "code", "language": "python", "outputs": [], "input": functions},
    ]
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": cells}]}))
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST, "--json", "-")
    assert code == 0, err
    assert json.loads(out)["verdict"] == "pass" and "cell ran" not in out + err
    bad = tmp_path / "old_slip.ipynb"
    bad.write_text(path.read_text().replace("dA_prev = np.dot(W.T, dZ)", "dA_prev = np.dot(W, dZ)"))
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", "--impl", str(bad), *FAST, "--json", "-")
    # nbformat 3's prompt_number names the cell as Jupyter showed it; the second cell never ran
    assert code == 1 and "old_slip.ipynb/code cell 2:" in json.dumps(json.loads(out)["first_divergence"])


# ---------------------------------------------------------------- 4. a file that is not Python


@pytest.mark.parametrize("name", ["good.txt", "notes.md", "network"])
@pytest.mark.end_to_end
def test_a_file_that_is_not_python_is_named(tmp_path, capsys, name):
    path = tmp_path / name
    path.write_text("x = 1\n")
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert line == (
        f"verify: error: --impl {path} is not a Python file: give a .py file, a .ipynb notebook or an "
        "importable module's name"
    )


@pytest.mark.end_to_end
def test_a_file_in_the_working_folder_that_is_not_python_is_named(tmp_path, capsys, monkeypatch):
    (tmp_path / "good.txt").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", "good.txt", *FAST))
    assert "--impl good.txt is not a Python file" in line


# ---------------------------------------------------------------- 5. a module imported by name prints


def printing_module(folder: Path) -> Path:
    """A course module on sys.path that prints as it imports: by print, by the original stdout and through fd 1."""
    folder.mkdir()
    (folder / "printing_learner.py").write_text(
        "import os, sys\nprint('printed at import')\nsys.__stdout__.write('written to sys.__stdout__\\n')\n"
        "os.write(1, b'written to fd 1\\n')\n" + COURSE.read_text()
    )
    return folder


@pytest.mark.end_to_end
def test_what_a_module_imported_by_name_prints_is_not_on_json_stdout(tmp_path):
    folder = printing_module(tmp_path / "mods")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "verify", "--arch", "3,4,1", "--impl", "printing_learner", *FAST, "--json", "-"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "pass"  # stdout is the JSON, whole
    assert "printed at import" in result.stderr and "written to fd 1" in result.stderr


def test_a_module_imported_by_name_prints_on_stderr(tmp_path, capsys, monkeypatch):
    folder = printing_module(tmp_path / "mods")
    monkeypatch.syspath_prepend(str(folder))
    try:
        module = load_module("printing_learner")
    finally:
        sys.modules.pop("printing_learner", None)
    captured = capsys.readouterr()
    assert callable(module.L_model_forward)
    assert "printed at import" not in captured.out and "printed at import" in captured.err
