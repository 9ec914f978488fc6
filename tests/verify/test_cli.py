"""The command line, `python -m verify`: exit codes, output modes, --help, --json and usage errors.

Most cases call verify.cli.main in-process (torch is imported once); one runs the real
`python -m verify` in a subprocess, TensorBoard logs included. Every run logs under tmp_path
or not at all, so nothing lands in the repository's runs/.
"""

from __future__ import annotations

import gc
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHECK_NAMES, FAST, REPO, assert_usage_error, run_cli

import verify.telling.progress
from verify.cli import main

pytestmark = pytest.mark.end_to_end


def final_costs(text: str) -> tuple[float, float]:
    match = re.search(
        r"^final cost \(the verifier stepping scratch's functions\): scratch (\S+)\s+torch (\S+)", text, re.MULTILINE
    )
    assert match, text
    return float(match.group(1)), float(match.group(2))


def section(text: str, title_start: str) -> list[str]:
    """The table rows of the check whose title starts with `title_start`."""
    blocks = text.split("\n\n")
    block = next(b for b in blocks if b.lstrip("\n").startswith(title_start))
    return [line for line in block.splitlines()[2:] if line.startswith("  ") and not line.startswith("  quantity")]


def rows_of(rows: list[str], quantity: str) -> list[str]:
    """The layer column of each row for `quantity`."""
    return [line.split()[1] for line in rows if line.split()[0] == quantity]


# ---------------------------------------------------------------- a real process


COLLECTOR_AFTER_THE_RUN = """
import atexit, gc, runpy, sys
atexit.register(lambda: print("collector", gc.isenabled(), gc.get_freeze_count() > 0))
sys.argv = ["verify", *sys.argv[1:]]
runpy.run_module("verify", run_name="__main__")
"""


def test_the_garbage_collector_paused_for_the_start_up_imports_is_back_on_for_the_run():
    """python -m verify turns the cyclic collector off for its imports (verify/_startup.py): it must come back on,
    with what the imports built frozen out of its passes, or a long run's reference cycles would never be freed."""
    argv = ["--arch", "3,4,4,1", "--iterations", "2", "--no-tensorboard", "-q"]
    result = subprocess.run(
        [sys.executable, "-c", COLLECTOR_AFTER_THE_RUN, *argv], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "VERDICT: PASS" in result.stdout
    assert result.stdout.splitlines()[-1] == "collector True True"


def test_a_process_that_turned_the_collector_off_keeps_it_off():
    from verify import _startup

    gc.disable()
    try:
        _startup.pause_collection()
        _startup.resume_collection()
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "given, expected",
    [
        ({}, {"GOMP_SPINCOUNT": "10000", "OPENBLAS_THREAD_TIMEOUT": "4"}),
        ({"OMP_WAIT_POLICY": "PASSIVE"}, {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}),
        (
            {"GOMP_SPINCOUNT": "0", "OPENBLAS_THREAD_TIMEOUT": "10"},
            {"GOMP_SPINCOUNT": "0", "OPENBLAS_THREAD_TIMEOUT": "10"},
        ),
    ],
)
def test_thread_pools_spin_briefly_unless_the_user_says_otherwise(monkeypatch, given, expected):
    """verify/__main__.py's setting before NumPy and torch load: torch's OpenMP threads spin 10,000 times, NumPy's
    OpenBLAS threads sleep at once; a wait policy or the user's own values are left as they are."""
    from verify import _startup

    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    _startup.thread_pools_wait_briefly()
    names = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT")
    assert {name: os.environ[name] for name in names if name in os.environ} == expected


def test_subprocess_run_passes_and_writes_tensorboard_logs(tmp_path):
    logdir = tmp_path / "logs"
    result = subprocess.run(
        [sys.executable, "-m", "verify", "--arch", "3,4,4,1", "--logdir", str(logdir), "--iterations", "20"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "VERDICT: PASS" in result.stdout

    match = re.search(r"tensorboard --logdir (.+)$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    (run_dir,) = shlex.split(match.group(1))
    run_dir = Path(run_dir)
    assert run_dir.is_dir()
    assert run_dir.resolve().parent == logdir.resolve()
    for side in ("numpy", "torch"):
        events = list((run_dir / side).glob("events.out.tfevents.*"))
        assert events, f"no event file under {run_dir / side}"
        assert all(e.stat().st_size > 0 for e in events)
    # one experiment folder, nothing else written next to it
    assert [p.name for p in logdir.iterdir()] == [run_dir.name]


# ---------------------------------------------------------------- --help


HELP_OPTIONS = [
    "--arch",
    "--activations",
    "--loss",
    "--init",
    "--seed",
    "--data",
    "--examples",
    "--iterations",
    "--lr",
    "--dtype",
    "--device",
    "--tf32",
    "--rtol",
    "--no-gradcheck",
    "--logdir",
    "--name",
    "--no-tensorboard",
    "--json",
    "-q",
    "-v",
]


@pytest.fixture
def help_text(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # no wrapping inside an option name or a default
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0
    assert captured.err == ""
    return captured.out


def test_help_lists_every_option(help_text):
    for option in HELP_OPTIONS:
        assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", help_text), option


def test_help_shows_defaults(help_text):
    flat = " ".join(help_text.split())
    for default in (
        "default: 200",
        "default: 0.1",
        "default: 0)",
        "default: he",
        "default: float64",
        "default: cpu",
        "default: runs",
        "default: auto",
        "default: 200",
        "default: 1e-07",
    ):
        assert default in flat, default
    for choice in ("flower", "moons", "xor", "house", ".npz", ".csv", "bce", "mse", "ce", "float32", "xavier"):
        assert choice in flat, choice


def test_help_has_an_examples_section(help_text):
    assert re.search(r"^examples:$", help_text, re.MULTILINE)
    examples = help_text.split("examples:", 1)[1]
    assert "python -m verify --arch 3,4,4,1" in examples
    assert examples.count("python -m verify --arch") >= 3


# ---------------------------------------------------------------- output modes


def test_default_run_passes(capsys):
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", *FAST)
    assert code == 0
    assert "Traceback" not in err
    lines = out.splitlines()
    assert lines[:2] == ["VERDICT: PASS  scratch and torch agree on every check", ""]  # the verdict first
    assert lines[2].startswith("scratch vs torch_ref: 3-4-4-1, activations relu,relu,sigmoid, loss bce")
    assert "(m=40)" in lines[2]
    assert "FAIL" not in out
    assert "TensorBoard logs" not in out  # --no-tensorboard
    for title in ("forward:", "backward:", "gradient check:", "training, lockstep:", "training, free-running:"):
        assert re.search(rf"^{re.escape(title)}.*\[ok\]$", out, re.MULTILINE), title


def test_quiet_prints_only_the_verdict(capsys, monkeypatch):
    monkeypatch.setattr(verify.telling.progress, "AFTER", 1e9)  # a short run: no progress lines
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "-q", *FAST)
    assert code == 0
    assert out == "VERDICT: PASS  scratch and torch agree on every check\n"
    assert err == ""


def test_quiet_keeps_the_progress_lines_on_stderr(capsys, monkeypatch):
    """-q hides the tables, not the signs of life: past AFTER seconds each stage is named on stderr."""
    monkeypatch.setattr(verify.telling.progress, "AFTER", 0.0)
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "-q", *FAST)
    assert code == 0
    assert out == "VERDICT: PASS  scratch and torch agree on every check\n"  # stdout: the report only
    lines = err.splitlines()
    for stage in (
        "loading the data (auto)...",
        "checking the course functions one by one...",
        "forward and backward at the initial weights and at a kink probe...",
        "gradient check: centred differences of the cost...",
        "training: 5 iterations at lr 0.1...",
    ):
        assert stage in lines, stage
    assert "iteration 1/5  cost scratch" in err


def test_verbose_prints_one_row_per_layer(capsys):
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "-v", *FAST)
    assert code == 0
    forward = section(out, "forward:")
    assert rows_of(forward, "Z") == ["1", "2", "3"]
    assert rows_of(forward, "A") == ["1", "2", "3"]
    assert rows_of(forward, "cost") == ["3"]
    backward = section(out, "backward:")
    for quantity in ("dZ", "dW", "db"):
        assert sorted(rows_of(backward, quantity)) == ["1", "2", "3"], quantity
    assert sorted(rows_of(backward, "dA")) == ["0", "1", "2"]
    gradcheck = section(out, "gradient check:")
    assert sorted(rows_of(gradcheck, "dW")) == ["1", "2", "3"]
    lockstep = section(out, "training, lockstep:")
    assert sorted(rows_of(lockstep, "W")) == ["1", "2", "3"]


def test_default_prints_one_row_per_quantity(capsys):
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", *FAST)
    assert code == 0
    forward = section(out, "forward:")
    assert rows_of(forward, "Z") == ["1-3"]
    assert rows_of(forward, "A") == ["1-3"]
    assert rows_of(section(out, "backward:"), "dA") == ["0-2"]


def test_no_gradcheck_is_reported_as_not_run(capsys, tmp_path):
    path = tmp_path / "report.json"
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", "--no-gradcheck", "--json", str(path), *FAST)
    assert code == 0
    assert "not run: --no-gradcheck" in out
    report = json.loads(path.read_text())
    gradcheck = next(c for c in report["checks"] if c["name"] == "gradcheck")
    assert gradcheck["skipped"] == "--no-gradcheck"
    assert gradcheck["rows"] == []


def test_zero_iterations_still_checks_forward_and_backward(capsys):
    code, out, _ = run_cli(capsys, "--arch", "3,4,1", "--no-tensorboard", "--iterations", "0", "--examples", "20")
    assert code == 0
    assert "VERDICT: PASS" in out


# ---------------------------------------------------------------- --json


def test_json_file_matches_the_printed_report(capsys, tmp_path):
    path = tmp_path / "report.json"
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--json", str(path), *FAST)
    assert code == 0
    report = json.loads(path.read_text(encoding="utf-8"))

    assert report["verdict"] == "pass"
    assert report["first_divergence"] is None
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    assert all(c["ok"] for c in report["checks"])
    assert all(row["ok"] for c in report["checks"] for row in c["rows"])

    config = report["config"]
    assert config["arch"] == [3, 4, 4, 1]
    assert config["activations"] == ["relu", "relu", "sigmoid"]
    assert config["loss"] == "bce"
    assert config["iterations"] == 5
    assert config["examples"] == 40
    assert config["rtol"] == 1e-7 and "atol" not in config

    # the printed text shows the same run: final costs to the 7 digits it prints
    printed_scratch, printed_torch = final_costs(out)
    json_scratch, json_torch = report["final"]["impl"]["cost"], report["final"]["torch"]["cost"]
    assert printed_scratch == float(f"{json_scratch:.7g}")
    assert printed_torch == float(f"{json_torch:.7g}")
    assert json_scratch == pytest.approx(json_torch, rel=1e-7, abs=1e-7)
    assert len(report["costs"]["impl"]) == len(report["costs"]["torch"]) == 5
    assert report["interrupted_at"] is None
    assert report["logdir"] is None and report["tensorboard"] is None
    assert "VERDICT: PASS" in out  # with a file, the text report still goes to stdout


def test_json_dash_prints_only_json(capsys):
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--json", "-", *FAST)
    assert code == 0
    report = json.loads(out)  # the whole of stdout is one JSON document
    assert report["verdict"] == "pass"
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    assert report["first_divergence"] is None
    assert "VERDICT" not in out


def test_json_names_the_tensorboard_folder(capsys, tmp_path):
    code, out, _ = run_cli(
        capsys,
        "--arch",
        "3,4,1",
        "--logdir",
        str(tmp_path / "tb"),
        "--name",
        "my run",
        "--iterations",
        "5",
        "--examples",
        "40",
        "--json",
        "-",
    )
    assert code == 0
    report = json.loads(out)
    run_dir = Path(report["logdir"])
    assert run_dir.parent == tmp_path / "tb"
    assert run_dir.name == "my_run"
    assert report["tensorboard"] == f"tensorboard --logdir {shlex.quote(str(run_dir))}"
    assert {p.name for p in run_dir.iterdir()} >= {"numpy", "torch"}


def test_same_seed_same_numbers(capsys):
    argv = ["--arch", "3,4,1", "--json", "-", "--seed", "7", *FAST]
    first = json.loads(run_cli(capsys, *argv)[1])
    second = json.loads(run_cli(capsys, *argv)[1])
    assert first["costs"] == second["costs"]
    assert first["final"] == second["final"]
    other = json.loads(run_cli(capsys, "--arch", "3,4,1", "--json", "-", "--seed", "8", *FAST)[1])
    assert other["costs"]["impl"] != first["costs"]["impl"]


@pytest.mark.parametrize(
    "argv",
    [
        ["--arch", "2,5,3", "--activations", "tanh,softmax"],
        ["--arch", "2,6,1", "--activations", "leaky_relu,linear"],
        ["--arch", "2,3,1", "--init", "xavier", "--dtype", "float32"],
        ["--arch", "2,1", "--init", "torch"],
    ],
    ids=["softmax-ce", "linear-mse", "float32", "single-layer-torch-init"],
)
def test_other_configurations_pass(capsys, argv):
    code, out, err = run_cli(capsys, *argv, "--json", "-", *FAST)
    assert code == 0, out
    report = json.loads(out)
    assert report["verdict"] == "pass"
    expected_loss = {"softmax": "ce", "linear": "mse", "sigmoid": "bce"}[report["config"]["activations"][-1]]
    assert report["config"]["loss"] == expected_loss


# ---------------------------------------------------------------- usage errors


USAGE_ERRORS = [
    (["--arch", ""], "--arch is empty"),
    (["--arch", "3"], "at least two sizes"),
    (["--arch", "3,,1"], "empty item"),
    (["--arch", "3,0,1"], "at least 1"),
    (["--arch", "3,-4,1"], "at least 1"),
    (["--arch", "3,4.5,1"], "'4.5' is not a whole number"),
    (["--arch", "a,b"], "'a' is not a whole number"),
    ([], "--arch is needed: give layer sizes like 3,4,4,1 (or --impl with a module that fixes them"),
    (["--arch", "3,4,1", "--activations", "relu"], "--activations needs 2 names"),
    (["--arch", "3,4,1", "--activations", "relu,relu,sigmoid"], "--activations needs 2 names"),
    (
        ["--arch", "3,4,1", "--activations", "relu,swish"],
        "unknown activation 'swish'; choose from sigmoid, tanh, relu, leaky_relu, linear, softmax",
    ),
    (["--arch", "3,4,4,1", "--activations", "softmax,relu,sigmoid"], "softmax can only be the output"),
    (["--arch", "3,4,1", "--activations", "relu,softmax"], "at least 2 units"),
    (["--arch", "3,4,1", "--activations", "relu,tanh"], "has no loss"),
    (["--arch", "3,4,1", "--loss", "mse"], "goes with --loss bce"),
    (["--arch", "3,4,3", "--activations", "relu,softmax", "--loss", "bce"], "goes with --loss ce"),
    (["--arch", "3,4,1", "--activations", "relu,linear", "--loss", "ce"], "goes with --loss mse"),
    (["--arch", "3,4,1", "--loss", "huber"], "unknown loss 'huber'"),
    (["--arch", "3,4,1", "--lr", "0"], "--lr must be a positive finite number"),
    (["--arch", "3,4,1", "--lr", "-1"], "--lr must be a positive finite number"),
    (["--arch", "3,4,1", "--lr", "nan"], "--lr must be a positive finite number"),
    (["--arch", "3,4,1", "--lr", "inf"], "--lr must be a positive finite number"),
    (["--arch", "3,4,1", "--lr", "fast"], "--lr needs a number"),
    (["--arch", "3,4,1", "--iterations", "-1"], "--iterations must be a whole number >= 0"),
    (["--arch", "3,4,1", "--iterations", "1.5"], "--iterations needs a whole number"),
    (["--arch", "3,4,1", "--examples", "0"], "--examples must be a whole number >= 1"),
    (["--arch", "3,4,1", "--seed", "-1"], "--seed must be a whole number >= 0"),
    (["--arch", "3,4,1", "--rtol", "-1"], "--rtol must be a finite number >= 0"),
    (["--arch", "3,4,1", "--rtol", "nan"], "--rtol must be a finite number >= 0"),
    (["--arch", "3,4,1", "--atol", "1e-7"], "unrecognized arguments: --atol"),
    (["--arch", "3,4,1", "--dtype", "float16"], "unknown --dtype 'float16'; choose from float64, float32"),
    (["--arch", "3,4,1", "--init", "glorot"], "unknown --init 'glorot'"),
    (["--arch", "3,4,1", "--device", "tpu"], "--device"),
    (["--arch", "3,4,1", "--data", "missing.npz"], "no such file"),
    (["--arch", "3,4,1", "--data", "missing.csv"], "no such file"),
    (["--arch", "3,4,1", "--data", "bogus"], "auto, flower, moons, xor, house"),
    (["--arch", "3,4,1", "--data", "data.txt"], "a path to a .npz or .csv file"),
    (["--arch", "3,4,1", "--json", "no/such/folder/report.json"], "cannot write there"),
    (["--arch", "3,4,1", "--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize("argv, phrase", USAGE_ERRORS, ids=[" ".join(a) or "no-args" for a, _ in USAGE_ERRORS])
def test_usage_error(capsys, tmp_path, monkeypatch, argv, phrase):
    monkeypatch.chdir(tmp_path)  # relative paths above point into an empty folder
    code, out, err = run_cli(capsys, "--no-tensorboard", "--iterations", "5", *argv)  # argv wins
    line = assert_usage_error(code, out, err)
    assert phrase in line
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_data_directory_is_a_usage_error(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--data", str(tmp_path), "--no-tensorboard")
    assert "--data" in assert_usage_error(code, out, err)
    folder = tmp_path / "looks_like.npz"
    folder.mkdir()
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--data", str(folder), "--no-tensorboard")
    assert "is a directory" in assert_usage_error(code, out, err)


def test_impl_a_folder_named_as_a_module_is_said_to_be_a_directory(capsys, tmp_path, monkeypatch):
    """`--impl examples`: a folder with no __init__.py imports as an empty namespace package (was: "matches none of
    the course APIs", each API's missing functions listed); a package's folder is still imported as a module."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    code, out, err = run_cli(capsys, "--impl", "examples", "--no-tensorboard")
    assert assert_usage_error(code, out, err) == (
        "verify: error: --impl examples is a directory; give the .py file or the .ipynb notebook"
    )
    (tmp_path / "package").mkdir()
    (tmp_path / "package" / "__init__.py").write_text("", encoding="utf-8")
    code, out, err = run_cli(capsys, "--impl", "package", "--no-tensorboard")
    assert "is a directory" not in assert_usage_error(code, out, err)  # imported by its name (not on sys.path here)


def test_json_into_a_directory_is_a_usage_error(capsys, tmp_path):
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--json", str(tmp_path), "--no-tensorboard")
    assert "--json" in assert_usage_error(code, out, err)


def test_device_cuda(capsys):
    import torch

    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--device", "cuda", *FAST)
    if torch.cuda.is_available():
        assert code == 0, out + err
        assert "on cuda" in out.splitlines()[2]
        assert "VERDICT: PASS" in out
    else:
        line = assert_usage_error(code, out, err)
        assert "--device" in line and "CUDA" in line and "--device cpu" in line


def test_device_cuda_index_out_of_range(capsys):
    import torch

    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--device", "cuda:99", *FAST)
    line = assert_usage_error(code, out, err)
    assert "--device" in line
    if torch.cuda.is_available():
        assert "99" in line


def test_usage_error_does_not_create_a_log_folder(capsys, tmp_path):
    logdir = tmp_path / "logs"
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--lr", "0", "--logdir", str(logdir))
    assert_usage_error(code, out, err)
    assert not logdir.exists()


def test_usage_error_in_a_subprocess_prints_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "verify", "--arch", "3,,1"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "verify: error: --arch '3,,1' has an empty item; give layer sizes like 3,4,4,1"
    ]
