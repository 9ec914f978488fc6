"""A run stopped by a signal, or by the learner's own code, ends with a verdict nothing can fake by accident.

Ctrl-C, SIGTERM and SIGHUP at every phase end with `VERDICT: INTERRUPTED`, what agreed so far, the
JSON written and the status 128 + the signal; a second Ctrl-C ends at once with one line. The
learner's `sys.exit` or `KeyboardInterrupt` is its function's outcome, never the verifier's exit.

In-process cases send the signal to this very process from inside the phase (a patched step, or the
learner's function), so it lands where it is meant to; subprocess cases check what only a real process
shows: the exit status, the early start, the second Ctrl-C.
"""

from __future__ import annotations

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import COURSE, REPO, edited, fast, run_cli

import verify.checking.loops_whole
import verify.checking.units
import verify.runner
import verify.telling.tblog
from verify import signals
from verify.telling.progress import Progress

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

FAST = fast(3, 20, tensorboard=True)
STALE = '{"verdict": "pass"}\n'  # an earlier, passing run's report at the same path


def _signal_self(signum: int = signal.SIGTERM) -> None:
    """The signal, delivered to this process now: Python raises it at the next instruction."""
    os.kill(os.getpid(), signum)
    time.sleep(1)  # not reached: the handler raises first


def _learner(tmp_path: Path, tail: str, name: str = "learner.py") -> Path:
    """The course-literal week-4 file with `tail` appended (a redefinition replaces the course's function)."""
    return edited(tmp_path, COURSE, tail="\n\nimport os, signal, sys, time\n" + tail, name=name)


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


# -- every phase -------------------------------------------------------------------------------------------------


def _stop_loading(monkeypatch):
    load = verify.runner.load_module
    monkeypatch.setattr(verify.runner, "load_module", lambda spec: (_signal_self(), load(spec))[1])


def _stop_function_checks(monkeypatch):
    checks = dict(verify.checking.units.CHECKS)
    checks["linear_backward"] = lambda unit: _signal_self()  # after the forward functions were checked
    monkeypatch.setattr(verify.checking.units, "CHECKS", checks)


def _stop_network_checks(monkeypatch):
    probe = verify.runner.kink_probe
    monkeypatch.setattr(verify.runner, "kink_probe", lambda *a: (_signal_self(), probe(*a))[1])


def _stop_gradient_check(monkeypatch):
    monkeypatch.setattr(verify.runner, "check_gradients", lambda *a: _signal_self())


def _stop_loop(monkeypatch):
    monkeypatch.setattr(verify.checking.loops_whole, "check_loop", lambda *a: _signal_self())


def _stop_tensorboard_finish(monkeypatch):
    monkeypatch.setattr(verify.telling.tblog.TensorBoardLog, "finish", lambda *a: _signal_self())


PHASES = {  # patch, the phase the verdict names, whether any check had agreed
    "loading": (_stop_loading, "during loading", False),
    "function checks": (_stop_function_checks, "during checking the course functions one by one", True),
    "network checks": (_stop_network_checks, "during forward and backward at the initial weights", True),
    "gradient check": (_stop_gradient_check, "during gradient check", True),
    "course loop": (_stop_loop, "during the course's loop", True),
    "tensorboard finish": (_stop_tensorboard_finish, "during writing the TensorBoard logs", True),
}


@pytest.mark.parametrize("phase", PHASES)
def test_a_signal_in_any_phase_ends_with_the_verdict_interrupted_and_the_json(phase, capsys, tmp_path, monkeypatch):
    patch, where, checked = PHASES[phase]
    patch(monkeypatch)
    path = tmp_path / "report.json"
    path.write_text(STALE)
    code, out, err = run_cli(
        capsys,
        "--arch",
        "3,4,4,1",
        "--impl",
        str(COURSE),
        *FAST,
        "--logdir",
        str(tmp_path / "runs"),
        "--json",
        str(path),
    )
    assert code == 143 and "Traceback" not in err
    verdict = out.splitlines()[0]
    assert verdict.startswith(f"VERDICT: INTERRUPTED by SIGTERM {where}")
    assert verdict.endswith("everything so far agreed" if checked else "nothing had been checked yet")
    report = _report(path)
    assert report["verdict"] == "interrupted"
    assert report["interrupted"]["signal"] == "SIGTERM" and report["interrupted"]["exit_status"] == 143
    if checked:
        assert report["functions"] and all(f["status"] == "ok" for f in report["functions"])
    if phase == "function checks":  # the functions before it, not the one it stopped in
        assert [f["function"] for f in report["functions"]][-1] != "linear_backward"
        assert "linear_forward" in [f["function"] for f in report["functions"]]


@pytest.mark.parametrize(
    "signum,status,name",
    [(signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")],
)
def test_each_signal_during_training_reports_the_iterations_that_agreed(
    signum, status, name, capsys, tmp_path, monkeypatch
):
    def show(self, record):
        if record.index == 3:
            _signal_self(signum)

    monkeypatch.setattr(Progress, "show", show)
    code, out, err = run_cli(
        capsys,
        "--arch",
        "3,4,4,1",
        "--iterations",
        "50",
        "--examples",
        "20",
        "--logdir",
        str(tmp_path),
        "--name",
        "stopped",
        "--json",
        str(tmp_path / "r.json"),
    )
    assert code == status and "Traceback" not in err
    assert out.startswith(f"VERDICT: INTERRUPTED by {name} after 4 iterations of training; everything so far agreed")
    report = _report(tmp_path / "r.json")
    assert report["interrupted_at"] == 4 and report["interrupted"]["iterations"] == 4
    assert len(report["costs"]["impl"]) == 4

    from tensorboard.backend.event_processing import event_accumulator as ea

    diff = ea.EventAccumulator(str(tmp_path / "stopped" / "diff"))
    diff.Reload()
    text = diff.Tensors("report/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "Verdict: INTERRUPTED" in text and f"by {name} after 4 iterations" in text  # marked incomplete


def test_a_slip_found_before_the_signal_is_still_a_fail_with_the_signals_status(capsys, tmp_path, monkeypatch):
    slip = _learner(tmp_path, "def relu_backward(dA, activation_cache):\n    return dA * (activation_cache >= 0)\n")
    monkeypatch.setattr(verify.runner, "check_gradients", lambda *a: _signal_self())
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(slip), *FAST, "--no-tensorboard")
    assert code == 143
    assert out.startswith("VERDICT: FAIL (interrupted by SIGTERM during gradient check")


def test_an_interrupt_python_swallowed_is_raised_at_the_next_phase(capsys, monkeypatch):
    """Python ignores an exception raised where it cannot propagate (an import lock's weakref callback, a __del__):
    a signal landing there must still stop the run, at the next phase boundary."""
    probe = verify.runner.kink_probe

    def swallowing_probe(*args):
        try:
            _signal_self()
        except KeyboardInterrupt:  # as an ignored callback would: the exception goes nowhere
            pass
        return probe(*args)

    monkeypatch.setattr(verify.runner, "kink_probe", swallowing_probe)
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", *FAST, "--no-tensorboard")
    assert code == 143 and "Traceback" not in err
    assert out.startswith("VERDICT: INTERRUPTED by SIGTERM during forward and backward")  # its next call


# -- the learner's own exits -------------------------------------------------------------------------------------


def test_sys_exit_0_inside_a_slipped_function_is_its_outcome_not_the_verdict(capsys, tmp_path):
    slipped = _learner(
        tmp_path,
        """
_course_backward = L_model_backward
def L_model_backward(AL, Y, caches):
    grads = _course_backward(AL, Y, caches)
    grads["db1"] = grads["db1"] * 2
    sys.exit(0)
""",
    )
    path = tmp_path / "ci.json"
    path.write_text(STALE)
    code, out, err = run_cli(
        capsys, "--arch", "3,4,4,1", "--impl", str(slipped), *FAST, "--no-tensorboard", "--json", str(path)
    )
    assert code == 1 and "Traceback" not in err
    assert out.startswith("VERDICT: FAIL")
    assert "L_model_backward called sys.exit(0)" in out
    assert _report(path)["verdict"] == "fail"


def test_sys_exit_after_the_50th_update_fails_the_training_check(capsys, tmp_path):
    quits = _learner(
        tmp_path,
        """
_course_update, _calls = update_parameters, [0]
def update_parameters(parameters, grads, learning_rate):
    _calls[0] += 1
    if _calls[0] > 50:
        sys.exit(0)
    return _course_update(parameters, grads, learning_rate)
""",
    )
    code, out, _ = run_cli(
        capsys,
        "--arch",
        "3,4,4,1",
        "--impl",
        str(quits),
        "--iterations",
        "80",
        "--examples",
        "20",
        "--no-tensorboard",
        "--no-gradcheck",
    )
    assert code == 1
    assert "update_parameters called sys.exit(0)" in out


def test_a_keyboard_interrupt_the_learner_raises_itself_is_a_failure_not_an_interrupt(capsys, tmp_path):
    raises = _learner(tmp_path, "def relu_backward(dA, activation_cache):\n    raise KeyboardInterrupt\n")
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(raises), *FAST, "--no-tensorboard")
    assert code == 1
    assert out.startswith("VERDICT: FAIL") and "INTERRUPTED" not in out
    assert "`relu_backward`: raised KeyboardInterrupt" in out


def test_a_real_signal_while_the_learners_code_runs_interrupts_even_when_its_code_swallows_it(capsys, tmp_path):
    swallows = _learner(
        tmp_path,
        """
_course_backward = L_model_backward
def L_model_backward(AL, Y, caches):
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    except:  # a bare except, as learners write them
        pass
    return _course_backward(AL, Y, caches)
""",
    )
    code, out, _ = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(swallows), *FAST, "--no-tensorboard")
    assert code == 130
    assert out.startswith("VERDICT: INTERRUPTED by Ctrl-C during forward and backward at the initial weights")


@pytest.mark.parametrize("where", ["module", "helper", "class body"])
def test_sys_exit_while_loading_is_one_line_exit_2(where, capsys, tmp_path):
    if where == "module":
        impl = _learner(tmp_path, "sys.exit(0)\n")
    elif where == "helper":  # a helper file beside a notebook, imported by a kept cell
        (tmp_path / "dnn_helper.py").write_text("import sys\nsys.exit(0)\n")
        impl = tmp_path / "nb.ipynb"
        impl.write_text(
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "metadata": {},
                    "cells": [
                        {
                            "cell_type": "code",
                            "execution_count": 1,
                            "metadata": {},
                            "outputs": [],
                            "source": COURSE.read_text() + "\nfrom dnn_helper import *\n",
                        }
                    ],
                }
            )
        )
    else:
        impl = _learner(tmp_path, "class Settings:\n    sys.exit(0)\n")
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(impl), *FAST, "--no-tensorboard")
    assert code == 2 and out == "" and "Traceback" not in err
    assert len(err.splitlines()) == 1 and "called sys.exit(0)" in err


# -- a real process ----------------------------------------------------------------------------------------------


def _default_signals() -> None:
    """In the child before exec: a suite run as a background job inherits SIGINT ignored (and under nohup SIGHUP),
    and the verifier keeps an ignored signal ignored, as it should."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _start(*argv: str, cwd: Path = REPO, command: tuple[str, ...] = ("-m", "verify")) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, *command, *argv],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )


def _end(proc: subprocess.Popen) -> None:
    """The process gone and its pipes closed, whatever the test saw (a pipe left open warns in a later test)."""
    proc.kill()
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _wait_for(proc: subprocess.Popen, marker: str) -> str:
    """The stderr lines up to the first that starts with `marker`; the test fails if the process ends first."""
    deadline, seen = time.monotonic() + 60, ""
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen += line
        if line.startswith(marker):
            return seen
        if not line:
            raise AssertionError(f"the process ended (status {proc.wait()}) before {marker!r}:\n{seen}")
    raise AssertionError(f"no {marker!r} on stderr within a minute:\n{seen}")


def test_sighup_in_a_real_process_writes_the_json_and_exits_129(tmp_path):
    proc = _start(
        "--arch",
        "3,4,4,1",
        "--iterations",
        "1000000",
        "--no-tensorboard",
        "--no-gradcheck",
        "--json",
        str(tmp_path / "r.json"),
    )
    try:
        before = _wait_for(proc, "iteration ")
        proc.send_signal(signal.SIGHUP)
        out, err = proc.communicate(timeout=60)
        err = before + err
    finally:
        _end(proc)
    assert proc.returncode == 129 and "Traceback" not in err, err
    assert out.startswith("VERDICT: INTERRUPTED by SIGHUP after "), (out, err)
    assert _report(tmp_path / "r.json")["interrupted"]["signal"] == "SIGHUP"


FROM_PYTHON = """
import sys
import verify
report = verify.run(verify.Config(arch=(3, 4, 4, 1), iterations=1_000_000, gradcheck=False, logdir=sys.argv[1]))
print("returned", report.verdict, flush=True)
"""


@pytest.mark.parametrize("signum, returned", [(signal.SIGTERM, False), (signal.SIGHUP, False), (signal.SIGINT, True)])
def test_verify_run_from_python_ends_its_process_on_sigterm_once_its_report_is_logged(tmp_path, signum, returned):
    """A script looping over verify.run, stopped with kill (a CI job's timeout): the run writes what agreed, then the
    process ends as SIGTERM asks, rather than going on to its next run. A Ctrl-C returns the report."""
    proc = _start(str(tmp_path / "runs"), command=("-c", FROM_PYTHON))
    try:
        before = _wait_for(proc, "iteration ")
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        _end(proc)
    assert "Traceback" not in before + err, before + err
    logged = b"".join(path.read_bytes() for path in (tmp_path / "runs").rglob("events.out.tfevents.*"))
    assert f"INTERRUPTED by {signals.NAMES[signum]} after ".encode() in logged  # the run's report, in TensorBoard
    if returned:
        assert proc.returncode == 0 and out == "returned interrupted\n", (out, err)
    else:
        assert proc.returncode == -signum and out == "", (proc.returncode, out, err)


def test_a_second_ctrl_c_ends_at_once_with_one_line(tmp_path):
    stubborn = _learner(
        tmp_path,
        """
_course_backward = L_model_backward
def L_model_backward(AL, Y, caches):
    while True:  # swallows every interrupt (the marker inside the try: no interrupt escapes before it)
        try:
            print("in L_model_backward", file=sys.stderr, flush=True)
            time.sleep(0.05)
        except BaseException:
            pass
""",
    )
    proc = _start("--arch", "3,4,4,1", "--impl", str(stubborn), "--no-tensorboard")
    try:
        _wait_for(proc, "in L_model_backward")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        _end(proc)
    assert proc.returncode == 130
    assert "Traceback" not in err, err
    assert err.splitlines()[-1:] == ["verify: Ctrl-C again: stopped at once, without a report"], err


@pytest.mark.parametrize("delay", [0.1, 0.3, 0.6, 1.2])
def test_ctrl_c_at_start_up_is_never_a_traceback(delay, tmp_path):
    proc = _start("--arch", "3,4,4,1", "--iterations", "1000000", "--no-tensorboard")
    try:
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        _end(proc)
    assert proc.returncode in (130, -signal.SIGINT)  # before Python's own handler: killed by it (a shell says 130)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "INTERRUPTED by Ctrl-C" in out or "Ctrl-C while starting" in err or proc.returncode < 0


def test_an_iterations_logs_are_written_whole_and_the_interrupt_comes_after_them():
    from verify import signals

    written = []
    with signals.caught(), pytest.raises(signals.Interrupted) as stop:
        with signals.deferred(raise_after=True):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now: it recorded the signal, raised nothing
            written.append("the rest of the iteration's logs")
    assert written == ["the rest of the iteration's logs"]
    assert stop.value.signum == signal.SIGTERM


# -- the learner's prints on stderr ------------------------------------------------------------------------------


def test_a_call_prints_on_stderr_and_stdout_is_put_back_however_it_ends(capsys):
    def loud():
        print("the learner's cost")
        raise KeyboardInterrupt

    before = sys.stdout
    with pytest.raises(KeyboardInterrupt):
        signals.printing_to_stderr(loud)
    assert sys.stdout is before
    assert capsys.readouterr() == ("", "the learner's cost\n")


def test_a_signal_right_after_the_switch_to_stderr_still_puts_stdout_back():
    """contextlib.redirect_stdout switches in __enter__, before its with block: an interrupt there left stdout on
    stderr and the run's report went there. Here the interrupt lands on the first line after the switch."""
    code = signals.printing_to_stderr.__code__
    lines, first = inspect.getsourcelines(signals.printing_to_stderr)
    after_switch = first + next(i for i, line in enumerate(lines) if "sys.stdout = sys.stderr" in line) + 1

    def tracer(frame, event, arg):
        if frame.f_code is code:
            if event == "line" and frame.f_lineno == after_switch:
                raise KeyboardInterrupt
            return tracer
        return None

    before = sys.stdout
    sys.settrace(tracer)
    try:
        with pytest.raises(KeyboardInterrupt):
            signals.printing_to_stderr(print, "never printed")
    finally:
        sys.settrace(None)
    assert sys.stdout is before
