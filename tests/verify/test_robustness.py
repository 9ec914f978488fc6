"""Bad input is refused with one line and exit 2; diverging numerics and Ctrl-C end in a clear verdict."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_usage_error, fast, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratch
from verify import Config, run
from verify.cli import main

ROOT = Path(__file__).resolve().parents[2]
FAST = fast(3, 8, "--no-gradcheck", "-q")


@pytest.mark.parametrize("arch, needs", [("100000,100000,1", "GiB"), ("99999999999,1", "GiB")])
@pytest.mark.end_to_end
def test_arrays_that_cannot_fit_are_refused_before_allocating(capsys, arch, needs):
    started = time.perf_counter()
    code, out, err = run_cli(capsys, "--arch", arch, *FAST)
    line = assert_usage_error(code, out, err)
    assert "would need about" in line and needs in line and "is available (" in line
    assert time.perf_counter() - started < 5  # refused, not attempted


@pytest.mark.end_to_end
def test_unwritable_logdir_is_refused_before_any_work(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    code, out, err = run_cli(
        capsys, "--arch", "3,4,1", "--logdir", str(blocker / "runs"), "--data", str(tmp_path / "missing.npz")
    )
    line = assert_usage_error(code, out, err)
    assert "--logdir" in line  # the log folder is checked before the data is even looked at


@pytest.mark.parametrize("name", ["../escape", "a/b/c", "..", "/abs/path", "x\\..\\y"])
@pytest.mark.end_to_end
def test_name_cannot_leave_the_log_folder(tmp_path, name):
    logdir = tmp_path / "runs"
    report = run(Config(arch=(3, 4, 1), iterations=2, examples=8, logdir=str(logdir), name=name, progress=False))
    run_dir = Path(report.run_dir).resolve()
    assert run_dir.parent == logdir.resolve()
    assert sorted(p.name for p in run_dir.iterdir()) == ["diff", "numpy", "torch"]
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]


@pytest.mark.end_to_end
def test_a_second_run_never_overwrites_the_first(tmp_path):
    first = run(Config(arch=(3, 4, 1), iterations=2, examples=8, logdir=str(tmp_path), name="same", progress=False))
    second = run(Config(arch=(3, 4, 1), iterations=2, examples=8, logdir=str(tmp_path), name="same", progress=False))
    assert Path(first.run_dir).name == "same" and Path(second.run_dir).name == "same_2"
    assert len(list((Path(first.run_dir) / "numpy").iterdir())) == 1


@pytest.mark.end_to_end
def test_agreeing_divergence_is_reported_and_passes(capsys, tmp_path):
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli(
        capsys,
        "--arch",
        "3,4,4,1",
        "--activations",
        "relu,relu,linear",
        "--lr",
        "50",
        "--iterations",
        "100",
        "--no-gradcheck",
        "--no-tensorboard",
        "--json",
        str(out_json),
        "-q",
    )
    report = json.loads(out_json.read_text(), parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    assert code == 0 and report["verdict"] == "pass"
    at = report["nonfinite"]["impl"]
    assert at is not None and at == report["nonfinite"]["torch"]
    assert f"scratch at iteration {at}, torch at iteration {at}" in out


@pytest.mark.end_to_end
def test_one_sided_divergence_is_a_mismatch_with_a_hint(monkeypatch, capsys, tmp_path):
    original = scratch.compute_cost
    calls = {"n": 0}

    def cost_that_blows_up(AL, Y, loss="bce", ZL=None):  # what log(AL) does once AL rounds to 1
        calls["n"] += 1
        return np.inf if calls["n"] > 12 else original(AL, Y, loss, ZL)

    monkeypatch.setattr(scratch, "compute_cost", cost_that_blows_up)
    out_json = tmp_path / "r.json"
    code, _, _ = run_cli(
        capsys,
        "--arch",
        "3,4,1",
        "--iterations",
        "20",
        "--examples",
        "16",
        "--no-tensorboard",
        "--no-gradcheck",
        "--json",
        str(out_json),
        "-q",
    )
    report = json.loads(out_json.read_text())
    first = report["first_divergence"]
    assert code == 1
    assert (first["stage"], first["name"], first["quantity"]) == ("training", "lockstep", "cost")
    assert "dAL" in first["hint"] and "stayed finite" in first["hint"]
    assert report["nonfinite"]["torch"] is None


@pytest.mark.parametrize("Z", [np.array([[1e4, -1e4, 0.0]]), np.array([[800.0, -800.0, 3.0]], dtype=np.float32)])
def test_saturated_sigmoid_and_bce_stay_finite_without_warnings(Z):
    A = scratch.get_activation("sigmoid").function(Z)
    Y = np.array([[0.0, 1.0, 1.0]], dtype=Z.dtype)
    assert np.isfinite(scratch.compute_cost(A, Y, "bce", ZL=Z))
    assert np.all(np.isfinite(scratch.get_activation("sigmoid").derivative(Z)))


def _default_sigint() -> None:
    """In the child before exec: a suite run as a background job (`pytest &`) inherits SIGINT ignored,
    and Python keeps an inherited SIG_IGN, so the child would never see the Ctrl-C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.end_to_end
def test_ctrl_c_flushes_the_logs_and_reports_where_it_stopped(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "verify",
            "--arch",
            "3,4,4,1",
            "--iterations",
            "1000000",
            "--logdir",
            str(tmp_path),
            "--name",
            "interrupted",
            "--no-gradcheck",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and not line.startswith("iteration"):
            line = proc.stderr.readline()  # progress starts after two seconds of training
        assert line.startswith("iteration"), "no progress line within a minute"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    stopped = int(
        out.split("VERDICT: INTERRUPTED by Ctrl-C after ")[1].split(
            " iterations of training; everything so far agreed"
        )[0]
    )
    assert stopped > 0
    assert "FAIL" not in out

    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(str(tmp_path / "interrupted" / "numpy"), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    steps = [e.step for e in acc.Scalars("cost")]
    assert steps == list(range(stopped))  # every finished iteration was flushed, nothing after


ARCH_TEXT = st.text(alphabet="0123456789,-+. aZ\t", max_size=12)
ACTIVATION_TEXT = st.one_of(
    st.text(max_size=20),
    st.lists(
        st.sampled_from(["relu", "tanh", "sigmoid", "softmax", "linear", "leaky_relu", "RELU", ""]),
        min_size=0,
        max_size=4,
    ).map(",".join),
)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arch=ARCH_TEXT, activations=ACTIVATION_TEXT)
@pytest.mark.end_to_end
def test_fuzzed_arch_and_activations_never_crash(capsys, arch, activations):
    args = ["--arch", arch, *FAST] + (["--activations", activations] if activations else [])
    try:
        code = main(args)
    finally:
        _, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 2:
        assert len(err.strip().splitlines()) == 1


FUZZ_ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.bool_]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
    elements=None,
)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(X=FUZZ_ARRAYS, Y=FUZZ_ARRAYS)
@pytest.mark.end_to_end
def test_fuzzed_npz_data_never_crashes(capsys, tmp_path_factory, X, Y):
    path = tmp_path_factory.mktemp("fuzz") / "data.npz"
    np.savez(path, X=X, Y=Y)
    try:
        code = main(["--arch", "3,1", "--data", str(path), *FAST])
    finally:
        _, err = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in err


@pytest.mark.end_to_end
def test_missing_torch_is_one_line_with_the_install_command(tmp_path):
    shadow = tmp_path / "torch"  # first on the path: `import torch` fails as it does when torch is not installed
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "verify", "--arch", "3,4,4,1", "--no-tensorboard", "--iterations", "1"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (2, ""), proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("verify: error: torch is not importable") and "pip install torch" in line
