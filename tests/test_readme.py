"""The README is the user's door: its commands, options and examples must stay true."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from verify.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


OK_ROW = re.compile(r"^  (\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+ok$")
GAPS = "free-running gap (iteration: cost, largest parameter gap / allowed): "
ROUNDING = re.compile(r"\d\.\de-(?:1\d|[2-9]\d)|0\.0e\+00")  # 0 and below 1e-9: the size of rounding


def shown(line: str, text: str = README) -> bool:
    """The line is in the README (or `text`, a part of it), or it is a table row that agrees and the README shows
    that row agreeing, or the free-running gaps at the iterations the README shows them.

    An `ok` row's numbers are those of its closest call over the run, rounding noise (1e-16 or so)
    and the iteration it happened at; the free-running gaps of runs that agree are rounding noise too, and their
    allowance follows them: another BLAS or CPU rounds, and so picks, differently."""
    if line in text:
        return True
    if line.startswith(GAPS):
        return any(ROUNDING.sub("#", line) == ROUNDING.sub("#", other) for other in text.splitlines())
    row = OK_ROW.match(line)
    return row is not None and any(
        (r := OK_ROW.match(other)) and r.group(1, 2) == row.group(1, 2) for other in text.splitlines()
    )


def run_verify(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """python -m verify argv, run from cwd with this checkout importable, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "verify", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_exactly_the_quick_start_test_line():
    quick_start = [block.strip() for block in code_blocks("bash")[:2]]
    assert quick_start[0].endswith("python -m verify --arch 3,4,4,1")
    assert quick_start[1].endswith("python -m pytest")
    ci_commands = [
        line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")
    ]
    assert ci_commands[-1] == quick_start[1]


def test_every_command_line_option_is_documented():
    options = [
        o for action in build_parser()._actions for o in action.option_strings if o.startswith("--") and o != "--help"
    ]
    assert len(options) > 20
    missing = [o for o in options if f"`{o}" not in README]
    assert missing == []


@pytest.mark.end_to_end
def test_python_examples_run_as_written(tmp_path):
    script = "\n".join(code_blocks("python"))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split()[0])
    assert accuracy >= 0.9  # the comment beside the print says 0.94...


@pytest.mark.end_to_end
def test_the_walk_through_shows_what_the_broken_example_prints():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify",
            "--arch",
            "3,4,4,1",
            "--impl",
            "examples/broken_network.py",
            "--no-tensorboard",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    for line in result.stdout.strip().splitlines():
        assert line in README


SLIPPED_COPIES = {  # the README's "the same file with ... (in a copy named ...)" examples
    "my_planar.py": ("planar_network.py", "(1 - np.power(A1, 2))", "(1 - A1)", ["--arch", "2,4,1", "--lr", "1.2"]),
    "my_logreg.py": (
        "logreg_network.py",
        "dw = (1 / m) * np.dot(X, (A - Y).T)",
        "dw = np.dot(X, (A - Y).T)",
        ["--arch", "2,1"],
    ),
}


@pytest.mark.parametrize(
    "argv",
    [
        ["--arch", "2,1", "--impl", "examples/logreg_network.py", "--data", "flower"],
        ["--arch", "2,4,1", "--impl", "examples/planar_network.py", "--data", "flower", "--lr", "1.2"],
        ["--arch", "3,4,4,1", "--impl", "examples/course_slip.ipynb"],
        *[["--impl", name] for name in SLIPPED_COPIES],
    ],
    ids=["week2", "week3", "notebook-slip", *SLIPPED_COPIES],
)
@pytest.mark.end_to_end
def test_the_course_examples_print_what_the_readme_shows(tmp_path, argv):
    cwd = ROOT
    if argv[1] in SLIPPED_COPIES:
        source, old, new, extra = SLIPPED_COPIES[argv[1]]
        text = (ROOT / "examples" / source).read_text()
        assert old in text
        (tmp_path / argv[1]).write_text(text.replace(old, new))
        argv, cwd = [*argv, "--data", "flower", *extra], tmp_path
    result = run_verify([*argv, "--no-tensorboard", "-q"], cwd)
    assert result.returncode in (0, 1), result.stderr
    for line in result.stdout.strip().splitlines():
        assert line in README


@pytest.mark.end_to_end
def test_the_optimiser_section_shows_what_the_runs_print(tmp_path):
    """The Adam run of scratch, and the slipped copy my_adam.py (beside course_network.py, which it imports)."""
    for name in ("course_network.py", "course_optimizers.py"):
        (tmp_path / name).write_text((ROOT / "examples" / name).read_text())
    text = (tmp_path / "course_optimizers.py").read_text()
    old = "/ (np.sqrt(s_corrected[key]) + epsilon)"
    assert old in text
    (tmp_path / "my_adam.py").write_text(text.replace(old, "/ np.sqrt(s_corrected[key] + epsilon)"))
    adam = ["--arch", "5,8,4,1", "--optimizer", "adam", "--mini-batch-size", "64", "--epochs", "20", "--no-tensorboard"]
    runs = [(adam, 0, ROOT), ([*adam, "--impl", "my_adam.py", "--lr", "0.01", "-q"], 1, tmp_path)]
    for argv, code, cwd in runs:
        result = run_verify(list(argv), cwd)
        assert result.returncode == code, result.stderr
        lines = result.stdout.strip().splitlines()
        if code == 0:  # the README shows the verdict, the header and the lockstep block
            start = lines.index(next(l for l in lines if l.startswith("training, lockstep")))
            lines = [lines[0], lines[2], *lines[start : lines.index("", start)]]
        for line in lines:
            assert shown(line), line


@pytest.mark.end_to_end
def test_the_regularisation_section_shows_what_the_runs_print(tmp_path):
    for name in ("course_network.py", "course_regularization.py"):
        (tmp_path / name).write_text((ROOT / "examples" / name).read_text())
    text = (tmp_path / "course_regularization.py").read_text()
    assert "            dA = dA / keep_prob\n" in text
    (tmp_path / "my_dropout.py").write_text(text.replace("            dA = dA / keep_prob\n", ""))
    run = ["--arch", "2,20,3,1", "--data", "moons", "--lambd", "0.7", "--keep-prob", "0.86", "--no-tensorboard"]
    for argv, code, cwd in ((run, 0, ROOT), ([*run, "--impl", "my_dropout.py", "-q"], 1, tmp_path)):
        result = run_verify(list(argv), cwd)
        assert result.returncode == code, result.stderr
        lines = result.stdout.strip().splitlines()
        if code == 0:  # the README shows the verdict, the header, gradient checking and lockstep
            start = lines.index(next(l for l in lines if l.startswith("gradient check")))
            lockstep = lines.index(next(l for l in lines if l.startswith("training, lockstep")))
            lines = [lines[0], lines[2], *lines[start : lines.index("", lockstep)]]
        for line in lines:
            assert shown(line), line


COURSE2 = ROOT / "examples" / "course2"
COURSE2_SLIPS = {  # the second course's section: a slip in a copy of each notebook, beside its helper file
    "my_initialization.ipynb": (
        "Initialization.ipynb",
        "init_utils.py",
        "np.sqrt(2. / layers_dims[l - 1])",
        "np.sqrt(2. / layers_dims[l])",
        ["--init", "impl"],
    ),
    "my_regularization.ipynb": (
        "Regularization.ipynb",
        "reg_utils.py",
        "+ lambd/m * W2",
        "+ lambd * W2",
        ["--lambd", "0.7"],
    ),
    "my_gradient_checking.ipynb": (
        "Gradient_Checking.ipynb",
        "gc_utils.py",
        "gradapprox[i] = (J_plus[i] - J_minus[i]) / (2 * epsilon)",
        "gradapprox[i] = (J_plus[i] - J_minus[i]) / epsilon",
        [],
    ),
    "my_optimization.ipynb": (
        "Optimization_methods.ipynb",
        "opt_utils_v1a.py",
        'beta * v[\\"dW\\" + str(l)] + (1 - beta) * grads',
        '(1 - beta) * v[\\"dW\\" + str(l)] + beta * grads',
        ["--optimizer", "momentum", "--mini-batch-size", "64", "--epochs", "20", "--lr", "0.01"],
    ),
}


def _course2_runs() -> list[list[str]]:
    """The section's commands, as the README writes them (the bash block that runs examples/course2)."""
    blocks = [b for b in code_blocks("bash") if "examples/course2/" in b]
    return [shlex.split(line)[3:] for block in blocks for line in block.strip().splitlines()]


@pytest.mark.end_to_end
@pytest.mark.parametrize("copy", [None, *COURSE2_SLIPS])
def test_the_second_courses_section_shows_what_the_runs_print(tmp_path, copy):
    if copy is None:
        runs, cwd = _course2_runs(), ROOT
    else:
        notebook, helper, old, new, options = COURSE2_SLIPS[copy]
        text = (COURSE2 / notebook).read_text()
        assert text.count(old) == 1
        (tmp_path / copy).write_text(text.replace(old, new))
        (tmp_path / helper).write_text((COURSE2 / helper).read_text())
        runs, cwd = [["--impl", copy, *options, "-q"]], tmp_path
    for argv in runs:
        result = run_verify([*argv, "--no-tensorboard"], cwd)
        assert result.returncode == (0 if copy is None else 1), result.stderr
        for line in result.stdout.strip().splitlines():
            assert line in README


CONV = ROOT / "examples" / "conv"
# the one line of the convolution section whose number is the machine's: how long the notebook's functions took
CONV_TIME = re.compile(r"^note: the notebook's functions ran in [0-9.e-]+ s in all \(every call the checks made\)$")


def _conv_shown(line: str) -> bool:
    return shown(line) or bool(CONV_TIME.match(line) and any(CONV_TIME.match(r) for r in README.splitlines()))


@pytest.mark.end_to_end
def test_the_conv_network_section_shows_what_its_run_prints(tmp_path):
    """The --arch conv run, as written (TensorBoard on, into the run's folder), and in float32."""
    (block,) = [b for b in code_blocks("bash") if ",conv" in b and "--impl" not in b]
    argv = shlex.split(block.strip())[3:]
    assert argv == ["--arch", "8x8x3,conv4f3p1,max2,flatten,8,1"]
    for extra in ([], ["--dtype", "float32", "--no-tensorboard"]):
        result = run_verify([*argv, *extra], tmp_path)
        assert result.returncode == 0, result.stderr
        if not extra:
            assert all(shown(line) for line in result.stdout.strip().splitlines())
    assert list((tmp_path / "runs" / "scratch_4layers" / "diff").glob("events.out.tfevents.*"))


@pytest.mark.end_to_end
@pytest.mark.parametrize("copy", [None, "my_conv.ipynb"])
def test_the_convolution_section_shows_what_the_runs_print(tmp_path, copy):
    if copy is None:
        blocks = [b for b in code_blocks("bash") if "examples/conv/" in b]
        runs, cwd = [shlex.split(line)[3:] for block in blocks for line in block.strip().splitlines()], ROOT
        assert runs == [["--impl", "examples/conv/Convolution_model_Step_by_Step.ipynb"]]
    else:  # the section's slip: dW's slice taken from A_prev[i], in a copy beside public_tests.py
        text = (CONV / "Convolution_model_Step_by_Step.ipynb").read_text()
        old = "a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]"
        assert text.count(old) == 1
        (tmp_path / copy).write_text(
            text.replace(old, "a_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, :]")
        )
        (tmp_path / "public_tests.py").write_text((CONV / "public_tests.py").read_text())
        runs, cwd = [["--impl", copy, "-q"]], tmp_path
    for argv in runs:
        result = run_verify([*argv, "--no-tensorboard"], cwd)
        assert result.returncode == (0 if copy is None else 1), result.stderr
        lines = result.stdout.strip().splitlines()
        assert any(CONV_TIME.match(line) for line in lines) == (copy is None)
        for line in lines:
            assert _conv_shown(line), line


@pytest.mark.end_to_end
def test_the_recurrent_section_shows_what_its_run_prints(tmp_path):
    (block,) = [b for b in code_blocks("bash") if "seq6x3" in b]
    argv = shlex.split(block.strip())[3:]
    assert argv == ["--arch", "seq6x3,rnn5,1"]
    result = run_verify(argv, tmp_path)
    assert result.returncode == 0, result.stderr
    assert all(shown(line) for line in result.stdout.strip().splitlines())


RNN = ROOT / "examples" / "rnn"
RNN_SECTION = README.split("### The recurrent-network notebook", 1)[1].split("\n### The language-model notebook", 1)[0]


def _rnn_shown(line: str) -> bool:
    """The line is in the recurrent section, or it is the time its functions took and the section shows that line."""
    shown_here = RNN_SECTION.splitlines()
    return shown(line, RNN_SECTION) or bool(CONV_TIME.match(line) and any(CONV_TIME.match(r) for r in shown_here))


def test_the_recurrent_notebook_section_sits_under_recurrent_networks():
    headings = re.findall(r"^#{2,3} .*$", README, flags=re.M)
    at = headings.index("### The recurrent-network notebook")
    assert headings[at - 1] == "## Recurrent networks"
    assert headings[at + 1] == "### The language-model notebook" and headings[at + 2].startswith("## ")


@pytest.mark.end_to_end
@pytest.mark.parametrize("copy", [None, "my_rnn.ipynb"])
def test_the_recurrent_section_shows_what_the_runs_print(tmp_path, copy):
    if copy is None:
        blocks = [b for b in code_blocks("bash") if "examples/rnn/" in b]
        runs, cwd = [shlex.split(line)[3:] for block in blocks for line in block.strip().splitlines()], ROOT
        assert runs == [["--impl", "examples/rnn/Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb"]]
    else:  # the section's slip: da_prev not carried back through time, in a copy beside the notebook's helpers
        text = (RNN / "Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb").read_text()
        old = "rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])"
        assert text.count(old) == 1
        (tmp_path / copy).write_text(text.replace(old, "rnn_cell_backward(da[:, :, t], caches[t])"))
        for helper in ("rnn_utils.py", "public_tests.py"):
            (tmp_path / helper).write_text((RNN / helper).read_text())
        runs, cwd = [["--impl", copy, "-q"]], tmp_path
    for argv in runs:
        result = run_verify([*argv, "--no-tensorboard"], cwd)
        assert result.returncode == (0 if copy is None else 1), result.stderr
        lines = result.stdout.strip().splitlines()
        assert any(CONV_TIME.match(line) for line in lines) == (copy is None)
        for line in lines:
            assert _rnn_shown(line), line


CHARLM = ROOT / "examples" / "charlm"


@pytest.mark.end_to_end
@pytest.mark.parametrize("copy", [None, "my_dinos.ipynb"])
def test_the_language_model_section_shows_what_the_runs_print(tmp_path, copy):
    """The notebook as written (TensorBoard on: its logs' line is the README's, the folder beside the run), and the
    section's slip: clip rescaling each gradient by its norm, in a copy beside the helper files."""
    notebook = CHARLM / "Dinosaurus_Island.ipynb"
    if copy is None:
        blocks = [b for b in code_blocks("bash") if "examples/charlm/" in b]
        runs = [shlex.split(line)[3:] for block in blocks for line in block.strip().splitlines()]
        assert runs == [["--impl", "examples/charlm/Dinosaurus_Island.ipynb"]]
        runs = [["--impl", str(notebook)]]  # run in tmp_path: its logs go to tmp_path/runs, named as from ROOT
    else:
        text = notebook.read_text()
        old = "        np.clip(gradient, -maxValue, maxValue, out = gradient)"
        new = "        norm = np.linalg.norm(gradient)\n        if norm > maxValue:\n            gradient *= maxValue / norm"
        assert text.count(json.dumps(old)[1:-1]) == 1
        (tmp_path / copy).write_text(text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1]))
        for helper in ("utils.py", "public_tests.py", "dinos.txt"):
            (tmp_path / helper).write_text((CHARLM / helper).read_text())
        runs = [["--impl", copy, "-q", "--no-tensorboard"]]
    for argv in runs:
        result = run_verify(argv, tmp_path)
        assert result.returncode == (0 if copy is None else 1), result.stderr
        lines = result.stdout.strip().splitlines()
        assert any(CONV_TIME.match(line) for line in lines) == (copy is None)
        for line in lines:
            assert _conv_shown(line), line
    if copy is None:
        assert sorted(p.name for p in (tmp_path / "runs").iterdir())[0].startswith("Dinosaurus_")
        assert {p.name for p in next((tmp_path / "runs").iterdir()).iterdir()} == {"numpy", "torch", "diff"}


GRADING = README.split("## Grading a class", 1)[1].split("\n## ", 1)[0]
TIMING = re.compile(r"^\[\d+/(\d+)\] (.*?)  \d+\.\d s; about \d+ s left$")


@pytest.mark.end_to_end
def test_the_grading_section_shows_what_its_run_writes(tmp_path):
    """The section's command, run on a copy of examples/class: the same lines (in any order, times aside), the
    same CSV to the byte, and the summary's slips."""
    (block,) = [b for b in code_blocks("bash") if "verify grade examples/class" in b]
    argv = shlex.split(block.strip())[3:]
    shutil.copytree(ROOT / "examples" / "class", tmp_path / "examples" / "class")
    result = run_verify(argv, tmp_path)
    assert result.returncode == 1, result.stderr
    texts = [b for b in code_blocks("text") if b in GRADING]
    shown, table = texts[0], texts[1]

    def untimed(lines: str) -> set[str]:
        return {TIMING.sub(r"\1 \2", line) for line in lines.strip().splitlines()}

    assert untimed(result.stderr) == untimed(shown)
    assert (tmp_path / "grades" / "grades.csv").read_text() == table
    summary = (tmp_path / "grades" / "summary.md").read_text()
    assert "| 1 | `relu_backward` | it differs only where Z is exactly 0 |" in summary
    assert (ROOT / "docs" / "grading-summary.svg").read_text() == (tmp_path / "grades" / "summary.svg").read_text()


def test_the_grading_section_lists_every_grade_option():
    from verify.grading.cli import build_grade_parser

    options = [o for action in build_grade_parser()._actions for o in action.option_strings if o.startswith("--")]
    table = [line for line in GRADING.splitlines() if line.startswith("| `")]
    assert all(any(line.startswith(f"| `{option}") for line in table) for option in options if option != "--help")
