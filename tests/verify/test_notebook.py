"""`--impl notebook.ipynb`: a learner's notebook is verified like the same code in a .py file.

The notebooks are written here as nbformat 4 JSON, cell by cell, from examples/course_network.py.
"""

from __future__ import annotations

import json
import re
import types
from pathlib import Path

import pytest
from conftest import COURSE, FAST, QUIET, REPO, assert_usage_error, run_cli

import verify
from verify.impl import load_module

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")


def functions_of(source: str) -> list[str]:
    """The top-level function definitions of a course-style file, one string each."""
    body = source.split("import numpy as np\n", 1)[1].strip("\n")
    return [f.strip("\n") + "\n" for f in re.split(r"\n\n\n(?=def )", body)]


def write_notebook(path: Path, *cells: tuple[str, str]) -> Path:
    """cells: (cell_type, source) pairs, in order."""
    notebook = {
        "cells": [
            {
                "cell_type": kind,
                "metadata": {},
                "source": source.splitlines(True),
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for kind, source in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def learner_notebook(tmp_path: Path, functions: list[str]) -> Path:
    """What a learner's notebook holds besides its definitions: magics, shell lines, a helper file of its own
    folder, a missing plotting library, a test cell that fails, a training loop and a plot."""
    (tmp_path / "learner_helpers.py").write_text(
        "def sigmoid(Z):\n    import numpy as np\n    return 1 / (1 + np.exp(-Z)), Z\n"
    )
    return write_notebook(
        tmp_path / "learner.ipynb",
        ("markdown", "# My assignment\n"),
        (
            "code",
            "%matplotlib inline\n!pip install nothing\nimport numpy as np\nimport no_such_plotting_library as plt\n"
            "from learner_helpers import sigmoid\nLEARNING_RATE = 0.0075\n",
        ),
        ("code", "%%bash\necho this is a shell cell\n"),
        *(("code", f) for f in functions if not f.startswith("def sigmoid(")),
        ("code", "assert L_model_forward(np.ones((3, 2)), initialize_parameters_deep([3, 1]))[0].shape == (5, 5)\n"),
        ("code", "parameters = initialize_parameters_deep([3, 4, 1])\nfor i in range(10 ** 9):\n    pass\n"),
        ("code", "plt.plot([1, 2])\nplt.show()\n"),
    )


@pytest.mark.end_to_end
def test_a_notebook_verifies_like_the_same_code_in_a_py_file(tmp_path, capsys):
    notebook = learner_notebook(tmp_path, functions_of(COURSE.read_text()))
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(notebook), *FAST, "--json", "-")
    assert code == 0, out
    from_notebook = json.loads(out)
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(COURSE), *FAST, "--json", "-")
    from_file = json.loads(out)
    assert from_notebook["verdict"] == from_file["verdict"] == "pass"
    assert from_notebook["costs"] == from_file["costs"]  # the same functions, computing the same numbers
    assert from_notebook["implementation"] == "learner.ipynb"
    # the first code cell, never run: Jupyter shows it without a count
    assert from_notebook["notes"] == [
        "code cell 1, line 4: No module named 'no_such_plotting_library'; that import was skipped"
    ]


def test_only_definitions_run(tmp_path):
    module = load_module(str(learner_notebook(tmp_path, functions_of(COURSE.read_text()))))
    assert module.LEARNING_RATE == 0.0075 and module.sigmoid.__module__ == "learner_helpers"
    assert callable(module.L_model_backward)
    assert not hasattr(module, "parameters")  # the training cell never ran (nor its endless loop)


@pytest.mark.end_to_end
def test_a_slip_in_a_notebook_is_shown_in_its_cell(tmp_path, capsys):
    functions = [
        f.replace("dA_prev = np.dot(W.T, dZ)", "dA_prev = np.dot(W, dZ)") for f in functions_of(COURSE.read_text())
    ]
    notebook = write_notebook(
        tmp_path / "slip.ipynb", ("code", "import numpy as np\n"), *(("code", f) for f in functions)
    )
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(notebook), *FAST, "--json", "-")
    assert code == 1
    first = json.loads(out)["first_divergence"]
    assert first["quantity"] == "L_model_backward" and "ValueError" in first["error"]
    cell = 1 + next(n for n, f in enumerate(functions, start=1) if f.startswith("def linear_backward("))
    # the learner's own cell, line and code; the notebook by its name, wherever it lies
    line = 1 + functions[cell - 2].splitlines().index("    dA_prev = np.dot(W, dZ)")
    assert first["traceback"][-1] == f"slip.ipynb/code cell {cell}:{line} in linear_backward,  dA_prev = np.dot(W, dZ)"


@pytest.mark.parametrize(
    "source, message",
    [
        ("def broken(:\n    pass\n", "code cell 2, line 1: invalid syntax"),  # markdown cells are not counted
        (
            "@decorator_that_is_not_there\ndef f():\n    pass\n",
            "code cell 2, line 2 raised NameError: name 'decorator_that_is_not_there'",
        ),
        ("from a_helper_that_is_not_there import f\nimport numpy as np\n", None),
    ],
)
@pytest.mark.end_to_end
def test_a_cell_that_cannot_run_is_named(tmp_path, capsys, source, message):
    notebook = write_notebook(
        tmp_path / "bad.ipynb", ("markdown", "# title\n"), ("code", "import numpy as np\n"), ("code", source)
    )
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--impl", str(notebook), *FAST)
    if message is None:  # a missing import alone is noted; the missing functions are what stops it
        line = assert_usage_error(code, out, err)
        assert "none of the course APIs" in line and "L_model_forward" in line
        return
    line = assert_usage_error(code, out, err)
    assert f"--impl {notebook}: {message}" in line


@pytest.mark.end_to_end
def test_not_a_notebook(tmp_path, capsys):
    path = tmp_path / "empty.ipynb"
    path.write_text("{not json")
    line = assert_usage_error(*run_cli(capsys, "--arch", "3,4,1", "--impl", str(path), *FAST))
    assert "not a readable Jupyter notebook" in line


@pytest.mark.end_to_end
def test_the_example_notebook_passes(capsys):
    code, out, _ = run_cli(
        capsys, "--arch", "3,4,4,1", "--impl", str(REPO / "examples" / "course_network.ipynb"), *FAST
    )
    assert code == 0 and "VERDICT: PASS  course_network.ipynb and torch agree on every check" in out


@pytest.mark.end_to_end
def test_a_report_shows_itself_as_markdown_in_a_notebook():
    # In Jupyter the learner's functions live in the notebook's own namespace: run() takes that module.
    namespace = types.ModuleType("__main__")
    exec("import numpy as np\n" + "\n\n".join(functions_of(COURSE.read_text())), namespace.__dict__)
    report = verify.run(verify.Config(arch=(3, 4, 4, 1), examples=16, iterations=3, **QUIET), implementation=namespace)
    assert report.verdict == "pass" and report.implementation == "your code"
    assert report._repr_markdown_() == report.to_markdown()
    assert report._repr_markdown_().startswith("## Verdict: PASS")


@pytest.mark.parametrize(
    "notebook",
    ["charlm/Dinosaurus_Island.ipynb", "rnn/Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb"],
    ids=["charlm", "rnn"],
)
@pytest.mark.end_to_end
def test_run_takes_a_module_whose_api_needs_no_arch(notebook):
    """The recurrent and language-model notebooks fix their own sizes, as --impl runs them with no --arch: handed
    their module, run() must not ask for one."""
    module = load_module(str(REPO / "examples" / notebook))
    report = verify.run(verify.Config(**QUIET), implementation=module)
    assert report.verdict == "pass", report.summary()
    assert report.config.api == notebook.partition("/")[0]


@pytest.mark.parametrize(
    "example, arch, api",
    [
        ("logreg_network.py", "2,1", "logreg"),
        ("planar_network.py", "2,4,1", "shallow"),
        ("course_network.py", "3,4,1", "deep"),
    ],
)
@pytest.mark.end_to_end
def test_each_course_api_is_detected_from_a_notebook(tmp_path, capsys, example, arch, api):
    source = (REPO / "examples" / example).read_text()
    notebook = write_notebook(
        tmp_path / "assignment.ipynb", ("code", "import numpy as np\n"), *(("code", f) for f in functions_of(source))
    )
    runs = {}
    for path in (notebook, REPO / "examples" / example):
        code, out, _ = run_cli(capsys, "--arch", arch, "--impl", str(path), *FAST, "--json", "-")
        runs[path.suffix] = json.loads(out)
        assert code == 0, runs[path.suffix]["first_divergence"]
    assert runs[".ipynb"]["config"]["api"] == runs[".py"]["config"]["api"] == api
    assert runs[".ipynb"]["functions"] == runs[".py"]["functions"]
    assert runs[".ipynb"]["costs"] == runs[".py"]["costs"]
