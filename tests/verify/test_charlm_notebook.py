"""The language-model notebook ("Dinosaur Island"): the course-literal notebook passes through the CLI with no option,
function by function and then optimize over the corpus's first names, lockstep and free-running; each classic slip,
planted in a copy, fails on the function that has it, named; week 2's optimize is told apart from it; free-running
catches a drift lockstep cannot; the logs hold both sides' losses and sampled names; bad input is one line."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, QUIET, REPO, assert_usage_error, notebook_edited, run_cli, run_json
from jsonschema import Draft202012Validator

import verify
from verify import Config
from verify.checking.charlm_names import NAMES
from verify.errors import UsageError
from verify.impl import APIS, CharLMAPI, LogRegAPI, detect, load_module

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

FOLDER = EXAMPLES / "charlm"
NOTEBOOK = FOLDER / "Dinosaurus_Island.ipynb"
BESIDE = ("utils.py", "public_tests.py", "dinos.txt")
ROWS = ["cost", "dWaa", "dWax", "dWya", "db", "dby", "a", "Wax", "Waa", "Wya", "b", "by"]


def notebook_with(tmp_path, function: str, *edits: tuple[str, str], helpers: tuple[str, ...] = BESIDE):
    """The notebook beside copies of `helpers`, with `function`'s cell edited (notebook_edited)."""
    beside = tuple(FOLDER / name for name in helpers)
    return notebook_edited(tmp_path, NOTEBOOK, function, *edits, name="my_dinos.ipynb", beside=beside)


def test_the_notebook_passes_with_no_option_and_says_its_time(capsys):
    code, out, err = run_cli(capsys, "--impl", str(NOTEBOOK), "--no-tensorboard")
    assert code == 0 and "Traceback" not in err
    assert out.startswith("VERDICT: PASS  Dinosaurus_Island.ipynb and torch agree on every check\n")
    assert (
        "vs torch_ref: its course functions, each on its own, then optimize over the first names of the corpus" in out
    )
    table = out.split("against torch  [ok]\n")[1].split("\n\n")[0].splitlines()
    assert [line.split() for line in table] == [["clip", "ok"], ["sample", "ok"], ["optimize", "ok"]]
    assert "training, lockstep: each step from the same parameters  [ok]" in out
    assert "training, free-running: each side on its own (tolerance follows the dynamics)  [ok]" in out
    assert f"optimize on the first {NAMES} names of the corpus" in out
    assert "note: the notebook's functions ran in " in out and "training not run" not in out


def test_its_json_report_follows_the_schema_with_rows_of_no_layer(capsys):
    code, report = run_json(capsys, "--impl", str(NOTEBOOK), "--no-tensorboard")
    assert code == 0 and report["verdict"] == "pass" and report["config"]["api"] == "charlm"
    schema = json.loads((REPO / "docs" / "report.schema.json").read_text())
    assert Draft202012Validator(schema).is_valid(report)
    assert set(APIS) | {"layers"} == set(schema["$defs"]["report"]["properties"]["config"]["properties"]["api"]["enum"])
    lockstep, free = report["checks"]
    assert (lockstep["name"], free["name"]) == ("lockstep", "free-running")
    assert [row["quantity"] for row in lockstep["rows"]] == ROWS and {r["layer"] for r in lockstep["rows"]} == {None}
    assert all(row["compared"] == NAMES and row["status"] == "ok" for row in lockstep["rows"])
    assert [row["quantity"] for row in free["rows"]] == ["cost", "Wax", "Waa", "Wya", "b", "by", "a"]
    assert all(row["compared"] == NAMES for row in free["rows"]) and free["comparable_until"] is None


def week2_optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    return {"w": w, "b": b}, {}, []


def test_detected_by_its_three_functions_and_week2s_optimize_is_not_it():
    assert detect(load_module(str(NOTEBOOK)), "nb") is CharLMAPI and list(CharLMAPI.REQUIRED) == [
        "clip",
        "sample",
        "optimize",
    ]
    assert detect(load_module(str(EXAMPLES / "logreg_network.py")), "logreg") is LogRegAPI
    assert list(APIS).index("charlm") > list(APIS).index("conv")  # tried last: it changes no other detection
    module = load_module(str(NOTEBOOK))
    module.optimize = week2_optimize  # clip and sample with week 2's optimize: neither API
    with pytest.raises(UsageError, match="matches none of the course APIs"):
        detect(module, "nb")


SLIPS = {
    "clip by norm": (
        "clip",
        [
            (
                "        np.clip(gradient, -maxValue, maxValue, out = gradient)",
                "        if np.linalg.norm(gradient) > maxValue:\n"
                "            gradient *= maxValue / np.linalg.norm(gradient)",
            )
        ],
        "clip by norm instead of elementwise",
    ),
    "clip missing dby": (
        "clip",
        [("for gradient in [dWax, dWaa, dWya, db, dby]:", "for gradient in [dWax, dWaa, dWya, db]:")],
        "not applied to every gradient: dby is returned unclipped",
    ),
    "clip rebinding the loop's name": (
        "clip",
        [
            (
                "        np.clip(gradient, -maxValue, maxValue, out = gradient)",
                "        gradient = np.clip(gradient, -maxValue, maxValue)",
            )
        ],
        "nothing is clipped: all five come back as they were given",
    ),
    "clip dropping np.clip's result": (  # was told of a `gradient = np.clip(...)` it did not write
        "clip",
        [
            (
                "        np.clip(gradient, -maxValue, maxValue, out = gradient)",
                "        np.clip(gradient, -maxValue, maxValue)",
            )
        ],
        "nothing is clipped: all five come back as they were given; np.clip(gradient, ...) returns a new array (its "
        "result dropped, or",
    ),
    "sample without the softmax": ("sample", [("        y = softmax(z)", "        y = z")], "without the softmax"),
    "sample stopping after the newline": (
        "sample",
        [("while (idx != newline_character and counter != 50):", "while (counter != 50):")],
        "stopping late: it goes on drawing after the newline",
    ),
    "sample stopping past 50": (
        "sample",
        [
            (
                "while (idx != newline_character and counter != 50):",
                "while (idx != newline_character and counter != 60):",
            )
        ],
        "stopping late: it draws more than 50 characters",
    ),
    "sample seeded without seed += 1": (
        "sample",
        [("        seed += 1\n", "")],
        "draw k is seeded with seed + k (seed + counter with one of them not incremented, or seed alone incremented)",
    ),
    "sample seeded with seed alone, incremented": (  # the same draws: was told its seed += 1 was missing
        "sample",
        [("np.random.seed(counter + seed)", "np.random.seed(seed)")],
        "draw k is seeded with seed + k (seed + counter with one of them not incremented, or seed alone incremented)",
    ),
    "optimize at a fixed rate": (
        "optimize",
        [("update_parameters(parameters, gradients, learning_rate)", "update_parameters(parameters, gradients, 0.01)")],
        "the update uses 0.01, not learning_rate (0.05)",
    ),
    "optimize without clip": (
        "optimize",
        [("    gradients = clip(gradients, 5)\n", "")],
        "not clipped: gradients = clip(gradients, 5) comes between",
    ),
    "p of the (vocab_size, 1) y": (  # was: a dense network's shape hint, Z = W A_prev + b
        "sample",
        [("idx = np.random.choice(range(len(y)), p = y.ravel())", "idx = np.random.choice(range(len(y)), p = y)")],
        "np.random.choice takes p as a 1-D array of probabilities: p = y.ravel()",
    ),
    "optimize returning a[-1]": (
        "optimize",
        [("return loss, gradients, a[len(X)-1]", "return loss, gradients, a[-1]")],
        "it is a_prev: rnn_forward's a[-1] is the start a0",
    ),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_each_slip_fails_on_its_function_and_is_named(tmp_path, slip):
    function, edits, words = SLIPS[slip]
    report = verify.run(Config(impl=str(notebook_with(tmp_path, function, *edits)), **QUIET))
    assert report.verdict == "fail"
    failed = [f for f in report.functions if not f.ok and not f.follows]
    assert [f.function for f in failed] == [function] and words in failed[0].hint, failed[0].hint
    first = report.to_text().splitlines()[1]
    assert first.startswith(f"fix `{function}`: ") and words in first


def test_an_optimize_that_puts_new_arrays_into_the_dict_it_was_handed_passes(tmp_path):
    """parameters[k] = parameters[k] - lr * gradients['d' + k]: the dict optimize was handed ends with the updated
    parameters, as the course's in-place update_parameters leaves it (was: 'the parameters are not updated')."""
    update = (
        "    parameters = update_parameters(parameters, gradients, learning_rate)\n",
        "    for k in ('Wax', 'Waa', 'Wya', 'b', 'by'):\n"
        "        parameters[k] = parameters[k] - learning_rate * gradients['d' + k]\n",
    )
    report = verify.run(Config(impl=str(notebook_with(tmp_path, "optimize", update)), **QUIET))
    assert report.verdict == "pass", report.to_text()
    assert "optimize modified" not in report.to_text(verbose=True)  # updating the dict it is handed is the contract
    emptied = (
        "    parameters = update_parameters(parameters, gradients, learning_rate)\n",
        "    parameters['b'] = None\n",
    )
    report = verify.run(Config(impl=str(notebook_with(tmp_path, "optimize", emptied)), **QUIET))
    fix = report.to_text().splitlines()[1]
    assert report.verdict == "fail" and fix.startswith(
        "fix `optimize`: b should be an array of shape (6, 1), got nothing"
    )


def test_clip_by_norm_also_parts_the_runs_over_the_names_and_optimize_follows_it(tmp_path):
    function, edits, _ = SLIPS["clip by norm"]
    report = verify.run(Config(impl=str(notebook_with(tmp_path, function, *edits)), **QUIET))
    functions = {f.function: f for f in report.functions}
    assert functions["optimize"].follows == "clip"
    lockstep = report.checks[0]
    assert not lockstep.ok and lockstep.rows[("dby", None)].iteration == report.first_divergence.iteration
    assert lockstep.rows[("by", None)].follows == "lockstep dby"  # the step follows from its gradient


def test_free_running_catches_a_drift_lockstep_lets_through(tmp_path):
    """The rate off by one part in 1e8: each step agrees within lockstep's rtol, but no rounding makes it, and the
    two runs part by far more than the dynamics allow."""
    drift = (
        "update_parameters(parameters, gradients, learning_rate)",
        "update_parameters(parameters, gradients, learning_rate * (1 + 1e-8))",
    )
    report = verify.run(Config(impl=str(notebook_with(tmp_path, "optimize", drift)), **QUIET))
    lockstep, free = report.checks
    assert all(f.ok for f in report.functions) and lockstep.ok
    assert not free.ok and report.first_divergence.name == "free-running"
    assert max(row.ratio for row in free.rows.values()) > 100


def test_the_logs_hold_both_sides_losses_and_sampled_names(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    report = verify.run(Config(impl=str(NOTEBOOK), logdir=str(tmp_path), progress=False))
    assert (
        report.ok
        and report.run_dir is not None
        and sorted(p.name for p in tmp_path.iterdir()) == ["Dinosaurus_" + report.run_dir[-3:]]
    )
    sides = {}
    for side in ("numpy", "torch"):
        events = EventAccumulator(f"{report.run_dir}/{side}", size_guidance={"scalars": 0, "tensors": 0})
        events.Reload()
        losses = [s.value for s in events.Scalars("loss")]
        text = events.Tensors("sampled names/text_summary")[0].tensor_proto.string_val[0].decode()
        sides[side] = (losses, text.split("  \n"))
    assert len(sides["numpy"][0]) == NAMES and sides["numpy"][0] == pytest.approx(sides["torch"][0], rel=1e-12)
    assert len(sides["numpy"][1]) == 7 and sides["numpy"][1] == sides["torch"][1]  # the same seeds, the same names


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--arch", "27,40,27"], "--arch 27,40,27: the course 5 week 1 (the character-level language model) API runs"),
        (["--arch", "seq6x3,rnn5,1"], "--arch seq6x3,rnn5,1: the course 5 week 1"),  # was: a softmax of one unit
        (["--arch", "27,50,1"], "a softmax over the next character; give no --arch"),
        (["--activations", "relu,softmax"], "activations relu,softmax"),
        (["--lambd", "0.1"], "--lambd: Dinosaurus_Island.ipynb is the course 5 week 1"),
        (  # was run as if not given
            ["--iterations", "5", "--lr", "0.5"],
            "--iterations, --lr: Dinosaurus_Island.ipynb is the course 5 week 1 (the character-level language model) "
            "API: its optimize is run on the corpus's first names, one step a name, at the course's learning rate; "
            "give no training option",
        ),
        (  # was run as if not given, and the JSON's config said so
            ["--examples", "7", "--init", "impl"],
            "--examples, --init: Dinosaurus_Island.ipynb is the course 5 week 1 (the character-level language model) "
            "API, whose checks make their own inputs; give no --examples, --data, --init",
        ),
    ],
)
def test_options_it_cannot_honour_are_one_line(capsys, argv, words):
    line = assert_usage_error(*run_cli(capsys, "--impl", str(NOTEBOOK), *argv))
    assert words in line


def test_a_copy_without_its_helper_file_names_it(tmp_path, capsys):
    path = notebook_with(tmp_path, "clip", helpers=("public_tests.py",))
    line = assert_usage_error(*run_cli(capsys, "--impl", str(path)))
    assert "call softmax, rnn_forward, rnn_backward, update_parameters" in line and "utils.py beside it" in line


@pytest.mark.parametrize(
    ("function", "edit", "words"),
    [
        (
            "optimize",
            ("return loss, gradients, a[len(X)-1]", "return loss, gradients"),
            "expected (loss, gradients, a_last), got a tuple of length 2",
        ),
        ("sample", ("indices = []", "indices = undefined_name"), "NameError"),
        (
            "clip",
            ("return gradients", "return [dWaa]"),
            "expected a dict of the clipped gradients, got a list of length 1",
        ),
    ],
)
def test_what_cannot_be_compared_is_a_failure_not_a_crash(tmp_path, capsys, function, edit, words):
    code, out, err = run_cli(capsys, "--impl", str(notebook_with(tmp_path, function, edit)), "--no-tensorboard")
    assert code == 1 and "Traceback" not in err
    assert out.splitlines()[1].startswith(f"fix `{function}`") and words in out
