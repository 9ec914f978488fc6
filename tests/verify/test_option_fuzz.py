"""Every option's value space, fuzzed: whatever a user types, the verifier answers with exit 0, 1 or 2 (or 130,
when this test stops a long run), one `verify: error:` line on stderr for 2, never a traceback, and valid JSON
whenever it ran.

Each example runs `verify.cli.main` in-process on a tiny network, in a fresh temporary folder (relative paths
land there; an absolute path is made relative, so nothing is written elsewhere), with one option's value drawn
from edge cases (empty, signs, 0, nan, inf, 1e308, 2^64, unicode, control characters) and random text and
numbers. A run asked for more than 30 iterations is stopped by the test's Ctrl-C at iteration 30, so a huge
--iterations or --epochs ends quickly, as interrupted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verify.cli
from verify.cli import build_parser
from verify.telling.progress import Progress

pytestmark = pytest.mark.end_to_end

BASE = {"--arch": "2,3,1", "--iterations": "3", "--examples": "12"}
FLAGS = ["--no-tensorboard", "--no-gradcheck"]
# Options that only mean something with another: fuzzed with it.
NEEDS = {
    "--beta": ["--optimizer", "momentum"],
    "--beta1": ["--optimizer", "adam"],
    "--beta2": ["--optimizer", "adam"],
    "--epsilon": ["--optimizer", "adam"],
    "--decay-rate": ["--decay", "inverse"],
    "--decay-interval": ["--decay", "scheduled"],
    "--keep-prob": ["--arch", "2,3,3,1"],
}
PATHS = {"--impl", "--data", "--logdir", "--name", "--json"}  # kept inside the temporary folder
# Every option that takes a value, read from the parser: a new option is fuzzed without a change here.
OPTIONS = [
    action.option_strings[-1]
    for action in build_parser()._actions
    if action.nargs != 0 and action.option_strings and action.option_strings[-1].startswith("--")
]
EDGES = [
    "",
    " ",
    "-",
    "--",
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "0.5",
    "1e-308",
    "5e-324",
    "1e308",
    "-1e308",
    "1e309",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e20",
    str(2**31),
    str(2**32),
    str(2**32 - 1),
    str(2**63),
    str(2**64),
    str(-(2**63)),
    "0x10",
    "1_000",
    "١٢",
    "３",
    "½",
    "1,2",
    "3,4,4,1",
    ",",
    "2,,1",
    "-1,4",
    "2,0,1",
    "1e3,2",
    "relu",
    "sigmoid,sigmoid",
    "tanh,softmax",
    "bce",
    "ce",
    "mse",
    "he",
    "torch",
    "impl",
    "zeros",
    "auto",
    "flower",
    "house",
    "x.csv",
    "x.npz",
    "x.py",
    "x.ipynb",
    "x.json",
    "a\x00b",
    "a\nb",
    "\x1b[31m",
    "é",
    "日本",
    "🙂",
    "a" * 300,
    "momentum",
    "adam",
    "gd",
    "inverse",
    "scheduled",
    "float32",
    "float16",
    "cuda",
    "cpu",
    "deep",
    "shallow",
    "logreg",
    "0.8,0.9",
    "1,1",
    ".",
    "..",
    "runs/x",
]
VALUES = st.one_of(
    st.sampled_from(EDGES),
    st.text(max_size=12),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
STOP_AT = 30  # iterations: the test's Ctrl-C


def _argv(option: str, value: str) -> list[str]:
    if option in PATHS and value.startswith(("/", "~")):
        value = "." + value  # relative: inside the temporary folder
    options = {**BASE, **dict(zip(NEEDS.get(option, [])[::2], NEEDS.get(option, [])[1::2])), option: value}
    argv = [item for pair in options.items() for item in pair]
    flags = [f for f in FLAGS if not (f == "--no-tensorboard" and option in ("--logdir", "--name"))]
    if option != "--json":
        argv += ["--json", "report.json"]
    return argv + flags


@contextlib.contextmanager
def _inside(folder: str):
    """The working directory is `folder` while this lasts (contextlib.chdir, before Python 3.11)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _stop_long_runs(self, record) -> None:
    if record.index + 1 >= STOP_AT:
        raise KeyboardInterrupt


@pytest.fixture(autouse=True)
def _short_runs(monkeypatch):
    monkeypatch.setattr(Progress, "show", _stop_long_runs)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", 300)),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(option=st.sampled_from(OPTIONS), value=VALUES)
def test_any_value_of_any_option_is_an_answer_never_a_traceback(option, value):
    argv = _argv(option, value)
    with tempfile.TemporaryDirectory() as folder, _inside(folder):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = verify.cli.main(argv)
            except SystemExit as stop:  # argparse's own exits (--help is not fuzzed): a status, not a traceback
                code = stop.code
        err_text = err.getvalue()
        assert "Traceback" not in err_text, (argv, err_text)
        assert code in (0, 1, 2, 130), (argv, code, err_text)
        if code == 2:
            lines = err_text.splitlines()
            assert len(lines) == 1 and lines[0].startswith("verify: error: "), (argv, err_text)
            assert all(ch.isprintable() for ch in lines[0]), (argv, lines[0])  # control characters escaped
            return
        path = "report.json" if option != "--json" else argv[argv.index("--json") + 1]
        if path != "-":
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
        else:
            report = json.loads(out.getvalue())
        assert report["verdict"] == {0: "pass", 1: "fail", 130: "interrupted"}[code], (argv, report["verdict"])
