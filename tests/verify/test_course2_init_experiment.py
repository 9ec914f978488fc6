"""The initialization notebook's experiment: its three initialisers, each trained on both sides in one run, the
course's lesson checked on the numbers (zeros keep every hidden unit identical, random x10 starts far above He,
He ends below zeros), the six cost curves in TensorBoard, and slips in an initialiser or in the network caught."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pytest
from conftest import QUIET, check, edited, failing_checks, notebook_edited
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.plugins.custom_scalar import layout_pb2

from verify import Config, run
from verify.checking.initialisers_trained import KINDS

COURSE2 = Path(__file__).resolve().parents[2] / "examples" / "course2"
NOTEBOOK = COURSE2 / "Initialization.ipynb"
HELPER = COURSE2 / "init_utils.py"
N = 30  # iterations: enough for He to fall below zeros' log 2


def verified(path: Path = NOTEBOOK, **options):
    settings = dict(iterations=N, examples=40, gradcheck=False, **QUIET)
    return run(Config(impl=str(path), **{**settings, **options}))


def note(report, kind: str, start: str) -> str:
    (found,) = [n for n in check(report, f"init {kind}").notes if n.startswith(start)]
    return found


def costs(report, kind: str) -> dict:
    """{side: (initial, final)} read from the initialiser's note, inf where the course's cost is log(0)."""
    text = note(report, kind, f"initialize_parameters_{kind}: cost")
    number = r"(inf \(log\(0\)\)|[-+0-9.e]+)"
    found = re.findall(rf"(\S+) {number} -> {number}", text.split(": ", 2)[2])

    def value(x: str) -> float:
        return math.inf if x.startswith("inf") else float(x)

    return {side: (value(a), value(b)) for side, a, b in found}


@pytest.fixture(scope="module")
def correct():
    return verified()


def test_the_correct_notebook_trains_from_each_initialiser_and_passes(correct):
    assert correct.ok
    names = [c.name for c in correct.checks]
    assert names[-3:] == ["init zeros", "init random", "init he"]  # after the run's own checks, the notebook's order
    he = check(correct, "init he")
    assert he.status == "ok" and {q for q, _ in he.rows} == {"cost", "W", "b"}
    assert all(row.compared == N for row in he.rows.values())  # every iteration, within free-running's allowance
    # zeros: nothing but rounding moves (labels half and half), too small for free-running; lockstep agreed throughout
    assert (
        f"each step from the same parameters (lockstep): agreed at iterations 0 to {N - 1}"
        in check(correct, "init zeros").notes
    )
    # random x10: A[L] is exactly 1.0 at once, the course's cost log(0); its gradients (dz3 = a3 - Y) and steps
    # stay finite, so every step is compared without the cost while it is log(0), and free-running throughout
    random = check(correct, "init random")
    assert random.status == "ok" and random.comparable_until is None
    assert all(row.compared == N for (q, _), row in random.rows.items() if q != "cost")
    assert f"each step from the same parameters (lockstep): agreed at iterations 0 to {N - 1}" in random.notes


def test_the_three_lessons_hold_on_both_sides(correct):
    zeros, random, he = (costs(correct, kind) for kind in KINDS)
    label = "Initialization.ipynb"
    assert set(zeros) == set(random) == set(he) == {label, "torch"}
    # zeros: the cost stays at log 2 and the hidden units stay one unit copied
    assert all(abs(c - math.log(2)) < 1e-6 for side in zeros.values() for c in side)  # as printed: 0.693147
    assert note(correct, "zeros", "lesson").startswith("lesson: zeros never break the symmetry")
    assert "(W1, W2: rows equal, the biases equal)" in note(correct, "zeros", "lesson")
    # random x10: the course's cost is inf (as the notebook prints it), torch's (from the logits) in the thousands
    assert random[label][0] == math.inf and 1e3 < random["torch"][0] < 1e4
    assert random["torch"][0] > 1000 * he["torch"][0]
    assert note(correct, "random", "lesson").startswith("lesson: random x10 starts badly")
    # He: from about 1.0 to below zeros' log 2, the same on both sides
    assert he[label][0] == pytest.approx(he["torch"][0], rel=1e-6) and he[label][0] > math.log(2)
    assert he[label][1] == pytest.approx(he["torch"][1], rel=1e-6) and he[label][1] < math.log(2)
    assert note(correct, "he", "lesson").startswith("lesson: He trains: its final cost")


def test_the_report_shows_each_initialisers_block(correct):
    text = correct.to_text()
    for kind in KINDS:
        assert f"trained from initialize_parameters_{kind}: each side on its own (free-running tolerance)" in text
    assert "lesson: random x10 starts badly" in text


def test_tensorboard_overlays_each_initialisers_two_cost_curves(tmp_path):
    report = verified(tensorboard=True, logdir=str(tmp_path), iterations=5)
    assert report.ok and report.run_dir is not None
    sides = {}
    for folder in ("numpy", "torch", "diff"):
        acc = ea.EventAccumulator(os.path.join(report.run_dir, folder), size_guidance=ea.STORE_EVERYTHING_SIZE_GUIDANCE)
        acc.Reload()
        sides[folder] = acc
    for kind in KINDS:
        tag = f"init/{kind}/cost"
        numpy, torch = ([e.value for e in sides[s].Scalars(tag)] for s in ("numpy", "torch"))
        assert [e.step for e in sides["torch"].Scalars(tag)] == list(range(5))
        if kind == "random":  # the course's inf at the start is not drawn; torch's curve starts in the thousands
            assert 0 < len(numpy) < 5 and torch[0] > 1e3
        else:
            assert len(numpy) == 5 and numpy == pytest.approx(torch, rel=1e-6)
        assert tag not in sides["diff"].Tags()["scalars"]
    (event,) = sides["diff"].Tensors("custom_scalars__config__")
    layout = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])
    (category,) = layout.category
    (chart,) = [c for c in category.chart if c.title.startswith("cost from each initialiser")]
    assert chart.multiline.tag[0].endswith("/init_cost/")
    diff_tags = set(sides["diff"].Tags()["scalars"])
    copies = {tuple(t.rsplit("/", 2)[-2:]) for t in diff_tags if "/init_cost/" in t}
    assert copies == {(kind, side) for kind in KINDS for side in ("numpy", "torch")}


def test_random_times_0_01_is_caught_and_turns_the_lesson(tmp_path):
    """A copy whose initialize_parameters_random draws randn x 0.01: its own check fails, the experiment still agrees
    with torch (the network is right) and its lesson note says random no longer starts badly."""
    copy = edited(tmp_path, NOTEBOOK, ("* 10", "* 0.01"), beside=(HELPER,))
    report = verified(copy)
    assert not report.ok
    (wrong,) = [f for f in report.functions if not f.ok]
    assert wrong.function == "initialize_parameters_random"
    assert failing_checks(report) == set()  # only the function by function check
    assert check(report, "init random").status == "ok"  # no saturation now: compared at every iteration
    random, he = costs(report, "random"), costs(report, "he")
    assert random["torch"][0] < he["torch"][0]
    assert note(report, "random", "lesson").startswith("lesson: random x10 starts no worse than He")


def test_an_initialiser_that_raises_is_the_one_to_fix(tmp_path):
    """initialize_parameters_zeros left unfinished (`parameters = None`): its own check and its experiment fail, and
    the verdict names it to fix, with the placeholder the error shows (was: no fix line, the network not running
    it; then the TypeError's words alone)."""
    copy = notebook_edited(
        tmp_path,
        NOTEBOOK,
        "initialize_parameters_zeros",
        ("    parameters = {}\n", "    parameters = None\n"),
        name=NOTEBOOK.name,
        beside=(HELPER,),
    )
    first = verified(copy, init="impl").first_divergence
    assert first.name == "init zeros" and first.function == "initialize_parameters_zeros"
    assert first.fix == (
        "fix `initialize_parameters_zeros`: a value is None where an array is read: an exercise's `= None` "
        "placeholder left, or a call of a function that returns nothing"
    )


def test_a_slip_in_the_helpers_update_fails_the_experiments_rows(tmp_path):
    """update_parameters adding the step: every run that moves fails, from its first step, random x10's too (its
    cost is log(0) there, its step is compared). Zeros move only b3, whose gradient is the labels' imbalance."""
    helper = edited(tmp_path, HELPER, ('] - learning_rate * grads["dW"', '] + learning_rate * grads["dW"'))
    copy = edited(tmp_path, NOTEBOOK, ("", ""))
    assert helper.parent == copy.parent
    report = verified(copy)
    assert not report.ok
    assert {"init he", "lockstep", "free-running"} <= failing_checks(report)
    he = check(report, "init he")
    failed = {key for key, row in he.rows.items() if not row.ok}
    assert ("W", 1) in failed and ("step W", 1) in failed
    assert he.rows[("step W", 1)].iteration == 0
    random = check(report, "init random")
    assert not random.ok and not random.rows[("step W", 1)].ok and random.rows[("step W", 1)].iteration == 0


def test_no_experiment_without_the_three_initialisers(tmp_path):
    """A copy without initialize_parameters_zeros defined: the run has no init checks (the notebook's model() would
    raise on it)."""
    copy = edited(
        tmp_path, NOTEBOOK, ("def initialize_parameters_zeros(", "def initialize_zeros_renamed("), beside=(HELPER,)
    )
    report = verified(copy, iterations=2)
    assert not any(c.name.startswith("init ") for c in report.checks)


def test_the_readme_shows_what_the_default_run_prints():
    """The README's excerpt of the experiment's notes: the default run (200 iterations on 200 examples) prints
    each line."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme[readme.index("```text\n  lesson: zeros") + len("```text\n") :]
    shown = block[: block.index("```")].splitlines()
    assert len(shown) == 4
    text = run(Config(impl=str(NOTEBOOK), **QUIET)).to_text()
    for line in shown:
        assert line in text.splitlines()
