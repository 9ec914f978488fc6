"""The recurrent step-by-step notebook: the course-literal notebook passes through the CLI with no option, function by
function and then every network check on a recurrent network its own functions compute; each classic slip, planted
in a copy, fails on the function that has it, named, and the network checks that read its output fail too (at 50
steps with the course's small weights included); an absent optional function is said not checked; what raises or
cannot be compared is reported cleanly."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, QUIET, REPO, notebook_edited, run_cli, run_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import verify
from verify import Config
from verify.arch import parse_network
from verify.impl import APIS, RnnStepAPI, detect, load_module

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

FOLDER = EXAMPLES / "rnn"
NOTEBOOK = FOLDER / "Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb"
EIGHT = [
    "rnn_cell_forward",
    "rnn_forward",
    "lstm_cell_forward",
    "lstm_forward",
    "rnn_cell_backward",
    "rnn_backward",
    "lstm_cell_backward",
    "lstm_backward",
]
SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
SHORT = ("--iterations", "3")  # the network checks' training, short: the slips are named by the functions' checks
QUICK = {**QUIET, "iterations": 3}
NETWORK_CHECKS = ("forward", "backward", "gradient check", "training, lockstep", "training, free-running")


def notebook_with(tmp_path, function: str, *edits: tuple[str, str], drop: bool = False):
    """The notebook, beside its rnn_utils.py and public_tests.py, with `function`'s cell edited or dropped
    (notebook_edited)."""
    helpers = (FOLDER / "rnn_utils.py", FOLDER / "public_tests.py")
    return notebook_edited(tmp_path, NOTEBOOK, function, *edits, name="my_rnn.ipynb", beside=helpers, drop=drop)


def test_the_notebook_passes_with_no_option_and_says_its_time(capsys):
    code, out, err = run_cli(capsys, "--impl", str(NOTEBOOK), "--no-tensorboard")
    assert code == 0 and out.startswith(
        "VERDICT: PASS  Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb and torch agree on every check\n"
    )
    assert all(f"  {name:<20}ok" in out for name in EIGHT) and "Traceback" not in err
    assert "update_parameters_with_adam" not in out  # rnn_utils.py's, course code as given: not the learner's
    assert "note: the notebook's functions ran in " in out and "not checked:" not in out
    assert all(
        f"\n{check}: " in out and out.split(f"\n{check}: ")[1].split("\n")[0].endswith("[ok]")
        for check in NETWORK_CHECKS
    )
    assert (
        "note: the network checks ran on seq6x3,rnn5,lstm4,1: its recurrent layers computed by the notebook's "
        "functions, its dense layers, activations, cost and updates by scratch's"
    ) in out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_its_json_report_follows_the_schema(capsys, dtype):
    code, report = run_json(capsys, "--impl", str(NOTEBOOK), "--dtype", dtype, *SHORT)
    assert code == 0 and report["verdict"] == "pass" and report["config"]["api"] == "rnn"
    assert report["config"]["examples"] == 32 and report["config"]["arch"] == [18, 30, 24, 1]
    assert len(report["checks"]) == 5 and all(check["ok"] for check in report["checks"])
    assert [f["function"] for f in report["functions"] if f["function"] in EIGHT] == EIGHT
    assert all(f["status"] == "ok" for f in report["functions"])
    assert Draft202012Validator(SCHEMA).is_valid(report)
    assert set(APIS) | {"layers"} == set(SCHEMA["$defs"]["report"]["properties"]["config"]["properties"]["api"]["enum"])


def test_detected_as_the_rnn_api_by_its_four_graded_functions_after_the_earlier_courses():
    module = load_module(str(NOTEBOOK))
    assert detect(module, "nb") is RnnStepAPI and list(APIS)[-3:] == ["conv", "rnn", "charlm"]
    assert list(RnnStepAPI.REQUIRED) == ["rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward"]


@pytest.mark.parametrize("arch", ["3,4,1", "12,6,6,2", "7x7x2,conv3f3s2p1,max2s2,flatten,1"])
def test_an_arch_without_recurrent_layers_is_refused_in_one_line(capsys, arch):  # said as given (was: 98,48,12,1)
    code, out, err = run_cli(capsys, "--impl", str(NOTEBOOK), "--arch", arch)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"--arch {arch}: Building_a_Recurrent_Neural_Network_Step_by_Step.ipynb's functions compute recurrent" in err


@pytest.mark.parametrize("notebook", [NOTEBOOK, EXAMPLES / "conv" / "Convolution_model_Step_by_Step.ipynb"])
def test_init_impl_is_refused_in_one_line_on_the_step_by_step_notebooks(capsys, notebook):
    """They have no initialiser of their own (was: a FAIL whose fix line named a function `initialize`)."""
    code, out, err = run_cli(capsys, "--impl", str(notebook), "--init", "impl", "--iterations", "2")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"--init impl: {notebook.name} has no initialiser for this network's layer kinds" in err


def test_a_recurrent_arch_overrides_the_default_network(capsys):
    code, report = run_json(capsys, "--impl", str(NOTEBOOK), "--arch", "seq4x2,lstm3,2", "--examples", "8", *SHORT)
    assert code == 0 and report["config"]["examples"] == 8 and report["config"]["arch"] == [8, 12, 2]
    assert all(check["ok"] for check in report["checks"]) and len(report["checks"]) == 5
    assert any("ran on seq4x2,lstm3,2:" in note for note in report["notes"])


NO_DERIVATIVE = ("dtanh = (1 - a_next ** 2) * da_next", "dtanh = da_next")
SLIPS = {  # slip: (function, edits, (words of the fix line, function failing, output))
    "1 - a_next^2 missing": (
        "rnn_cell_backward",
        [NO_DERIVATIVE],
        ("tanh's derivative is left out", "rnn_cell_backward", "dxt"),
    ),
    "1 - a_prev^2": (
        "rnn_cell_backward",
        [("dtanh = (1 - a_next ** 2)", "dtanh = (1 - a_prev ** 2)")],
        ("tanh's derivative is taken of a_prev", "rnn_cell_backward", "dxt"),
    ),
    "Wax and Waa swapped": (
        "rnn_cell_forward",
        [("np.dot(Waa, a_prev) + np.dot(Wax, xt)", "np.dot(Wax, a_prev) + np.dot(Waa, xt)")],
        ("Wax and Waa are swapped", "rnn_cell_forward", "a_next"),
    ),
    "Wax and Waa swapped backward": (
        "rnn_cell_backward",
        [("dxt = np.dot(Wax.T, dtanh)", "dxt = np.dot(Waa.T, dtanh)")],
        ("Wax and Waa are swapped", "rnn_cell_backward", "dxt"),
    ),
    "da_prev not carried": (
        "rnn_backward",
        [("rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])", "rnn_cell_backward(da[:, :, t], caches[t])")],
        ("da_prev is not carried back through time", "rnn_backward", "dx"),
    ),
    "dx at the wrong step": (
        "rnn_backward",
        [("dx[:, :, t] = dxt", "dx[:, :, t - 1] = dxt")],
        ("the gradient of x is stored at the wrong time step", "rnn_backward", "dx"),
    ),
    "dc_prev not carried": (
        "lstm_backward",
        [("(da[:, :, t] + da_prevt, dc_prevt, caches[t])", "(da[:, :, t] + da_prevt, 0 * dc_prevt, caches[t])")],
        ("dc_prev is not carried back through time", "lstm_backward", "dx"),
    ),
    "concat [xt; a_prev]": (
        "lstm_cell_forward",
        [("np.concatenate((a_prev, xt), axis=0)", "np.concatenate((xt, a_prev), axis=0)")],
        ("the concatenation is [xt; a_prev]", "lstm_cell_forward", "a_next"),
    ),
    "f and i gates swapped": (
        "lstm_cell_forward",
        [
            ("ft = sigmoid(np.dot(Wf, concat) + bf)", "ft = sigmoid(np.dot(Wi, concat) + bi)"),
            ("it = sigmoid(np.dot(Wi, concat) + bi)", "it = sigmoid(np.dot(Wf, concat) + bf)"),
        ],
        ("the forget and update gates are swapped", "lstm_cell_forward", "a_next"),
    ),
    "the da_next path left out of dc": (
        "lstm_cell_backward",
        [
            ("(dc_next * it + ot * (1 - np.square(np.tanh(c_next))) * it * da_next)", "dc_next * it"),
            ("(dc_next * cct + ot * (1 - np.square(np.tanh(c_next))) * cct * da_next)", "dc_next * cct"),
            ("(dc_next * c_prev + ot * (1 - np.square(np.tanh(c_next))) * c_prev * da_next)", "dc_next * c_prev"),
            ("dc_next * ft + ot * (1 - np.square(np.tanh(c_next))) * ft * da_next", "dc_next * ft"),
        ],
        ("the da_next path through a_next = ot * tanh(c_next) is left out", "lstm_cell_backward", "dxt"),
    ),
    "the da_next path left out of dit alone": (
        "lstm_cell_backward",
        [("(dc_next * cct + ot * (1 - np.square(np.tanh(c_next))) * cct * da_next)", "dc_next * cct")],
        ("dit takes dc_next alone, leaving out the da_next path", "lstm_cell_backward", "dxt"),
    ),
    "the da_next path left out of dft alone": (
        "lstm_cell_backward",
        [("(dc_next * c_prev + ot * (1 - np.square(np.tanh(c_next))) * c_prev * da_next)", "dc_next * c_prev")],
        ("dft takes dc_next alone, leaving out the da_next path", "lstm_cell_backward", "dxt"),
    ),
    "the da_next path left out of dc_prev alone": (
        "lstm_cell_backward",
        [("dc_next * ft + ot * (1 - np.square(np.tanh(c_next))) * ft * da_next", "dc_next * ft")],
        ("dc_prev takes dc_next alone, leaving out the da_next path", "lstm_cell_backward", "dc_prev"),
    ),
    "dc_prev without ft": (
        "lstm_cell_backward",
        [
            (
                "dc_next * ft + ot * (1 - np.square(np.tanh(c_next))) * ft * da_next",
                "dc_next + ot * (1 - np.square(np.tanh(c_next))) * da_next",
            )
        ],
        ("dc_prev is missing ft", "lstm_cell_backward", "dc_prev"),
    ),
    "dba over axis 0": (
        "rnn_cell_backward",
        [("np.sum(dtanh, axis=1, keepdims=True)", "np.sum(dtanh, axis=0, keepdims=True)")],
        ("db is summed over the units (axis 0)", "rnn_cell_backward", "dba"),
    ),
    "dbo without keepdims": (
        "lstm_cell_backward",
        [("dbo = np.sum(dot, axis=1, keepdims=True)", "dbo = np.sum(dot, axis=1)")],
        ("db lost its second axis (no keepdims)", "lstm_cell_backward", "dbo"),
    ),
    "softmax over the examples": (
        "rnn_cell_forward",
        [("softmax(np.dot(Wya, a_next) + by)", "softmax((np.dot(Wya, a_next) + by).T).T")],
        ("the softmax is taken over the examples (axis 1)", "rnn_cell_forward", "yt_pred"),
    ),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_each_slip_fails_on_its_function_and_is_named(tmp_path, capsys, slip):
    function, edits, (words, failing, output) = SLIPS[slip]
    path = notebook_with(tmp_path, function, *edits)
    code, out, err = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    assert code == 1 and out.startswith("VERDICT: FAIL") and "Traceback" not in err
    fix = out.splitlines()[1]
    assert fix.startswith(f"fix `{failing}`: its {output} differs (") and words in fix, fix
    report = verify.run(Config(impl=str(path), **QUICK))
    assert [f.function for f in report.functions if not f.ok and not f.follows] == [failing]


def test_a_value_left_none_is_said_so_not_a_shape_slip(tmp_path, capsys):
    path = notebook_with(tmp_path, "lstm_forward", ("        xt = x[:, :, t]\n", "        xt = None\n"))
    code, out, _ = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    fix = out.splitlines()[1]
    # was: a shape error's hint, with da_prev and dxt, which lstm_forward does not compute
    assert code == 1 and fix.startswith(
        "fix `lstm_forward`: a value is None where an array is read: an exercise's `= None` placeholder left, or a "
        "call of a function that returns nothing; "
    ), fix
    assert "AttributeError: 'NoneType' object has no attribute 'shape'" in out.splitlines()[2]


def test_a_backward_function_follows_the_forward_whose_cache_it_reads(tmp_path):
    path = notebook_with(
        tmp_path, "lstm_cell_forward", ("np.concatenate((a_prev, xt), axis=0)", "np.concatenate((xt, a_prev), axis=0)")
    )
    functions = {f.function: f for f in verify.run(Config(impl=str(path), **QUICK)).functions}
    for name, follows in (("lstm_forward", "lstm_cell_forward"), ("lstm_cell_backward", "lstm_cell_forward")):
        assert not functions[name].ok and functions[name].follows == follows, name
    assert functions["rnn_backward"].ok


@pytest.mark.parametrize("absent", ["rnn_backward", "lstm_backward"])
def test_an_absent_optional_function_is_said_not_checked_not_failed(tmp_path, capsys, absent):
    path = notebook_with(tmp_path, absent, drop=True)
    code, report = run_json(capsys, "--impl", str(path), *SHORT)
    assert code == 0 and report["verdict"] == "pass"
    assert any(f"(scratch's {absent} standing in)" in n for n in report["notes"])
    assert absent not in [f["function"] for f in report["functions"]]
    assert any(
        n.startswith(f"not checked: {absent} (optional in the course, not defined in my_rnn.ipynb)")
        for n in report["notes"]
    )


CELL_BACKWARD_LEFT = [  # rnn_cell_backward as the course's template leaves it: each line an `= None` placeholder
    (line, line.split(" = ")[0] + " = None")
    for line in (
        "dtanh = (1 - a_next ** 2) * da_next",
        "dxt = np.dot(Wax.T, dtanh)",
        "dWax = np.dot(dtanh, xt.T)",
        "da_prev = np.dot(Waa.T, dtanh)",
        "dWaa = np.dot(dtanh, a_prev.T)",
        "dba = np.sum(dtanh, axis=1, keepdims=True)",
    )
]


def test_an_optional_function_left_unfinished_is_set_aside_as_if_absent(tmp_path):
    """The course grades the forward functions; its backward ones are optional: one left as the template has it
    (its `= None` placeholders), and rnn_backward, which calls it, are not checked and scratch's rnn_backward stands
    in, as for a notebook that does not define them (was: FAIL, and 0 in a gradebook for an ungraded exercise)."""
    report = verify.run(Config(impl=str(notebook_with(tmp_path, "rnn_cell_backward", *CELL_BACKWARD_LEFT)), **QUICK))
    assert report.ok and len(report.checks) == 5 and all(check.ok for check in report.checks)
    assert [f.function for f in report.functions] == [
        "sigmoid", "rnn_cell_forward", "rnn_forward", "lstm_cell_forward", "lstm_forward", "lstm_cell_backward",
        "lstm_backward",
    ]  # fmt: skip
    assert (
        "not checked: rnn_cell_backward, rnn_backward (optional in the course, left unfinished in my_rnn.ipynb: "
        "rnn_cell_backward got nothing (None)"
    ) in " ".join(report.notes)
    assert "its recurrent layers computed by the notebook's functions (scratch's rnn_backward standing in)" in " ".join(
        report.notes
    )


def test_a_graded_function_left_unfinished_still_fails_and_the_backward_reading_it_follows(tmp_path):
    path = notebook_with(tmp_path, "rnn_forward", ("a_next = a0", "a_next = None"))
    report = verify.run(Config(impl=str(path), **QUICK))
    failed = {f.function: f for f in report.functions if not f.ok}
    assert not report.ok and set(failed) == {"rnn_forward", "rnn_backward"} and not failed["rnn_forward"].follows
    assert failed["rnn_backward"].follows == "rnn_forward"
    assert not any(note.startswith("not checked:") for note in report.notes)


def test_a_missing_graded_function_is_a_usage_error(tmp_path, capsys):
    path = notebook_with(tmp_path, "lstm_forward", drop=True)
    code, out, err = run_cli(capsys, "--impl", str(path), "--api", "rnn")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "course 5 week 1 (recurrent networks step by step)" in err and "missing lstm_forward" in err


def test_copied_without_its_helper_file_a_name_it_star_imports_is_a_usage_error(tmp_path, capsys):
    """`from rnn_utils import *` found no rnn_utils.py: the softmax rnn_cell_forward reads is the setup's to fix, in
    one line (was: a FAIL blaming the learner's rnn_cell_forward for a NameError, and 0 in a gradebook)."""
    path = tmp_path / NOTEBOOK.name
    path.write_bytes(NOTEBOOK.read_bytes())  # alone in its folder
    code, out, err = run_cli(capsys, "--impl", str(path), *SHORT)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(
        f"verify: error: {NOTEBOOK.name}'s rnn_cell_forward uses softmax, which it imports from rnn_utils, which is not "
        "in its folder (code cell 1, line 2: No module named 'rnn_utils'): put the course's helper file rnn_utils.py "
        "beside it"
    )


def test_with_its_helper_file_beside_it_a_name_nothing_binds_is_the_functions_failure(tmp_path):
    path = notebook_with(tmp_path, "rnn_cell_forward", ("softmax(", "sofmax("))
    report = verify.run(Config(impl=str(path), **QUICK))
    failed = [f for f in report.functions if not f.ok and not f.follows]
    assert [f.function for f in failed] == ["rnn_cell_forward"] and "name 'sofmax' is not defined" in failed[0].detail


def test_a_function_that_raises_is_a_failure_not_a_crash(tmp_path, capsys):
    path = notebook_with(tmp_path, "rnn_forward", ("a_next = a0", "a_next = a_zero"))
    code, out, err = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    assert code == 1 and "Traceback" not in err and "fix `rnn_forward`" in out and "NameError" in out
    report = verify.run(Config(impl=str(path), **QUICK))
    functions = {f.function: f for f in report.functions}
    assert functions["rnn_backward"].follows == "rnn_forward" and functions["lstm_forward"].ok


def test_a_wrong_shape_is_reported_cleanly(tmp_path, capsys):
    path = notebook_with(tmp_path, "rnn_forward", ("return a, y_pred, caches", "return a[:, :, -1], y_pred, caches"))
    code, out, err = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    assert code == 1 and "Traceback" not in err
    assert "fix `rnn_forward`: its a differs (the shape is (4, 2), expected (4, 2, 3)" in out


def test_a_cache_in_another_order_fails_the_forward_that_made_it(tmp_path):
    path = notebook_with(
        tmp_path,
        "rnn_cell_forward",
        ("cache = (a_next, a_prev, xt, parameters)", "cache = (a_prev, a_next, xt, parameters)"),
    )
    report = verify.run(Config(impl=str(path), **QUICK))
    (unit,) = [f for f in report.functions if not f.ok and not f.follows]
    assert unit.function == "rnn_cell_forward" and unit.output == "cache[0] (a_next)"
    assert "the course's cache is (a_next, a_prev, xt, parameters)" in unit.hint


def test_l2_reaches_the_recurrent_weights_of_its_network():
    report = verify.run(Config(impl=str(NOTEBOOK), lambd=0.7, **QUICK))
    assert report.ok and len(report.checks) == 5
    lockstep = {row.label for check in report.checks if check.name == "lockstep" for row in check.rows.values()}
    assert {"dWax1", "dWaa1", "dWf2", "dWo2"} <= lockstep


@pytest.mark.parametrize("optimizer, decay", [("adam", "scheduled"), ("momentum", None)])
def test_an_optimiser_trains_the_network_with_scratchs_step_not_the_helpers(optimizer, decay):
    """The network's updates are scratch's: --optimizer and --decay take scratch's functions too. rnn_utils.py's Adam,
    keyed W1, b1, ..., never runs and is not checked (was: initialize_adam raised KeyError 'W1' in training and the
    fix line blamed the helper's update_parameters_with_adam; --optimizer momentum was refused)."""
    options = {"optimizer": optimizer, "decay": decay, "mini_batch_size": 16, "epochs": 3}
    report = verify.run(Config(impl=str(NOTEBOOK), learning_rate=0.01, **{**QUICK, **options}))
    assert report.ok and len(report.checks) == 5 and all(check.ok for check in report.checks)
    assert [f.function for f in report.functions] == ["sigmoid", *EIGHT]
    lockstep = {row.label for check in report.checks if check.name == "lockstep" for row in check.rows.values()}
    assert {"v_dWax1", "v_dWf2"} <= lockstep and ({"s_dWaa1", "lr"} <= lockstep) == (optimizer == "adam")


def test_under_adam_a_slip_still_fails_the_network_check_that_reads_its_output(tmp_path):
    function, edits, _ = SLIPS["dc_prev without ft"]
    path = notebook_with(tmp_path, function, *edits)
    options = {"optimizer": "adam", "mini_batch_size": 16, "epochs": 2}
    report = verify.run(Config(impl=str(path), learning_rate=0.01, **{**QUICK, **options}))
    assert {check.name: check.ok for check in report.checks}["backward"] is False
    assert {check.name: check.ok for check in report.checks}["lockstep"] is False


# The network checks run the notebook's own rnn_forward, rnn_backward, lstm_forward and lstm_backward: a slip in one
# (or in the cell function it calls) fails the network check that reads its output, not only its own check; over 50
# steps with the course's randn * 0.01 weights too, where what a carry brings back through time is small.
NETWORK_SLIPS = {
    "Wax and Waa swapped": "forward",
    "concat [xt; a_prev]": "forward",
    "da_prev not carried": "backward",
    "dc_prev not carried": "backward",
    "the da_next path left out of dc": "backward",
    "dc_prev without ft": "backward",
}


@pytest.mark.parametrize("arch, init", [(None, "he"), (None, "random"), ("seq50x3,rnn4,lstm3,1", "random")])
@pytest.mark.parametrize("slip", NETWORK_SLIPS)
def test_a_slip_fails_the_network_check_that_reads_its_output(tmp_path, slip, arch, init):
    function, edits, _ = SLIPS[slip]
    layers = {} if arch is None else dict(zip(("arch", "layers"), parse_network(arch)))
    report = verify.run(Config(impl=str(notebook_with(tmp_path, function, *edits)), init=init, **layers, **QUICK))
    checks = {check.name: check for check in report.checks}
    assert not checks[NETWORK_SLIPS[slip]].ok
    if NETWORK_SLIPS[slip] == "forward":  # a wrong forward pass misleads backward, or stops it where it raised
        assert not checks["backward"].ok or "forward pass raised" in (checks["backward"].skipped or "")


def test_a_wrong_state_shape_in_the_network_names_the_function(tmp_path):
    path = notebook_with(tmp_path, "rnn_forward", ("return a, y_pred, caches", "return a[:, :, -1], y_pred, caches"))
    report = verify.run(Config(impl=str(path), **QUICK))
    (forward,) = [check for check in report.checks if check.name == "forward"]
    assert forward.error is not None and forward.error.function == "rnn_forward"
    assert "a should be an array of shape (5, 32, 6), got an array of shape (5, 32)" in str(forward.error)


def test_in_float32_the_loops_float64_states_are_cast_and_said_so():
    report = verify.run(Config(impl=str(NOTEBOOK), dtype="float32", **QUICK))
    assert report.ok and all(check.ok for check in report.checks)
    assert any(note.startswith("rnn_forward returned a as float64 in a float32 run") for note in report.notes)


@settings(max_examples=8, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    T_x=st.sampled_from([1, 2, 5, 13, 30]),
    n_x=st.integers(1, 4),
    cells=st.lists(st.sampled_from(["rnn", "lstm"]), min_size=1, max_size=2),
    n_a=st.integers(1, 5),
    dtype=st.sampled_from(["float64", "float32"]),
    init=st.sampled_from(["he", "random"]),
)
def test_no_false_alarm_over_networks_the_notebooks_loops_compute(T_x, n_x, cells, n_a, dtype, init):
    """The course-literal loops against torch, as the sweep of tests/verify/test_recurrent_sweep.py holds scratch:
    lengths 1 to 30, both cells, stacked, both dtypes, He's and the course's small weights; rounding alone differs."""
    text = ",".join([f"seq{T_x}x{n_x}", *(f"{cell}{n_a}" for cell in cells), "1"])
    sizes, layers = parse_network(text)
    config = Config(impl=str(NOTEBOOK), arch=sizes, layers=layers, examples=6, dtype=dtype, init=init, **QUICK)
    report = verify.run(config)
    assert report.ok, (text, report.verdict_lines())
    assert len(report.checks) == 5
