"""A loop is watched through the adapter: while the loop checks run, only verify/impl (the adapter) reads or changes
the learner's module, its stand-ins for the course functions included."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import COURSE, EXAMPLES, edited

import verify.runner
from verify.checking.loop_driven import LoopDriver
from verify.cli import main

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

IMPL = str(Path(verify.runner.__file__).parent / "impl")
RUN = ["--no-tensorboard", "--examples", "40", "--no-gradcheck", "-q", "--json", "-"]


class Guarded(ModuleType):
    """A module that records, while `watched` is on, the file of the code that reads, sets or deletes one of its
    attributes (the learner's own code reads its globals without it: only the verifier is seen)."""

    watched = False
    seen: list[tuple[str, str, str]] = []  # (how, name, the file of the code that did it)

    def _record(self, how: str, name: str) -> None:
        if type(self).watched:
            type(self).seen.append((how, name, sys._getframe(2).f_code.co_filename))

    def __getattribute__(self, name: str):
        Guarded._record(self, "read", name)
        return super().__getattribute__(name)

    def __setattr__(self, name: str, value) -> None:
        Guarded._record(self, "set", name)
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        Guarded._record(self, "delete", name)
        super().__delattr__(name)


@pytest.fixture
def guarded(monkeypatch):
    """Every module --impl loads is Guarded, watched while the loop checks choose and run the loops."""
    monkeypatch.setattr(Guarded, "seen", [])
    load = verify.runner.load_module

    def load_guarded(spec):
        module = load(spec)
        module.__class__ = Guarded
        return module

    def watched(function):
        def run(*args, **kwargs):
            Guarded.watched = True
            try:
                return function(*args, **kwargs)
            finally:
                Guarded.watched = False

        return run

    monkeypatch.setattr(verify.runner, "load_module", load_guarded)
    monkeypatch.setattr(verify.runner, "loop_functions", watched(verify.runner.loop_functions))
    monkeypatch.setattr(verify.runner, "check_loops", watched(verify.runner.check_loops))
    # (and the loop that takes training's steps, run from training: loop_driven.py)
    monkeypatch.setattr(LoopDriver, "__call__", watched(LoopDriver.__call__))
    return Guarded.seen


def test_the_guard_sees_who_touches_the_module(guarded):
    module = ModuleType("learner")
    module.__class__ = Guarded
    Guarded.watched = True
    try:
        module.compute_cost = len
        assert module.compute_cost is len
        del module.compute_cost
    finally:
        Guarded.watched = False
    assert [(how, file) for how, name, file in guarded if name == "compute_cost"] == [
        ("set", __file__),
        ("read", __file__),
        ("delete", __file__),
    ]


@pytest.mark.parametrize(
    "optimisers, argv, ran, replaced",
    [
        (False, ["--iterations", "120"], "loop L_layer_model", "compute_cost"),
        (
            True,
            ["--optimizer", "adam", "--mini-batch-size", "16", "--epochs", "3"],
            "loop model",
            "random_mini_batches",
        ),
    ],
    ids=["week4", "adam with mini-batches"],
)
def test_the_loop_checks_touch_the_module_only_through_the_adapter(
    capsys, tmp_path, guarded, optimisers, argv, ran, replaced
):
    impl = (
        edited(tmp_path, EXAMPLES / "course_optimizers.py", ("", ""), name="my_optimisers.py", beside=(COURSE,))
        if optimisers
        else COURSE
    )
    code = main(["--impl", str(impl), "--arch", "3,4,1", *RUN, *argv])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["first_divergence"]
    loop = next(c for c in report["checks"] if c["name"] == ran)
    assert loop["status"] == "ok" and loop["rows"]
    # the loop's course functions were replaced while it ran, and put back after: by the adapter alone
    assert ("set", replaced) in {(how, name) for how, name, _ in guarded}
    outside = {(how, name, file) for how, name, file in guarded if not file.startswith(IMPL)}
    assert outside == set()
