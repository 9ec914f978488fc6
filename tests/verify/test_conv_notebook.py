"""The convolution course's step-by-step notebook: the solved, nested-loop notebook passes through the CLI with no
option, function by function and then in the conv network built from its functions; each classic slip, planted in a
copy, fails on the function that has it, named; an absent optional function is said not checked (scratch's stands
in for it in the network); what cannot be compared is reported cleanly."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, QUIET, REPO, notebook_edited, run_cli, run_json
from jsonschema import Draft202012Validator

import verify
from verify import Config
from verify.impl import APIS, ConvStepAPI, detect, load_module

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

SHORT = ("--iterations", "3")  # the network checks' training, short: the slips are named by the functions' checks
QUICK = {**QUIET, "iterations": 3}
NETWORK_CHECKS = ("forward", "backward", "gradient check", "training, lockstep", "training, free-running")

NOTEBOOK = EXAMPLES / "conv" / "Convolution_model_Step_by_Step.ipynb"
HELPER = EXAMPLES / "conv" / "public_tests.py"
EIGHT = [
    "zero_pad",
    "conv_single_step",
    "conv_forward",
    "pool_forward",
    "conv_backward",
    "create_mask_from_window",
    "distribute_value",
    "pool_backward",
]


def notebook_with(tmp_path, function: str, *edits: tuple[str, str], drop: bool = False):
    """The notebook, beside its public_tests.py, with `function`'s cell edited or dropped (notebook_edited)."""
    return notebook_edited(tmp_path, NOTEBOOK, function, *edits, name="my_conv.ipynb", beside=(HELPER,), drop=drop)


def test_the_nested_loop_notebook_passes_with_no_option_and_says_its_time(capsys):
    code, out, err = run_cli(capsys, "--impl", str(NOTEBOOK), "--no-tensorboard")
    assert code == 0 and out.startswith(
        "VERDICT: PASS  Convolution_model_Step_by_Step.ipynb and torch agree on every check"
    )
    assert all(f"  {name:<25}ok" in out for name in EIGHT)
    assert "note: the notebook's functions ran in " in out and "Traceback" not in err
    assert "tied maximum" in out and "ties, not a slip" in out  # the relu-like case's all-zero windows
    assert "not checked:" not in out
    assert all(
        f"\n{check}: " in out and out.split(f"\n{check}: ")[1].split("\n")[0].endswith("[ok]")
        for check in NETWORK_CHECKS
    )
    assert (
        "note: the network checks ran on 7x7x2,conv3f3s2p1,max2s2,flatten,1: its conv and pool layers computed by the notebook's functions"
        in out
    )


def test_its_json_report_follows_the_schema_and_names_every_api(capsys):
    code, report = run_json(capsys, "--impl", str(NOTEBOOK), *SHORT)
    assert code == 0 and report["config"]["api"] == "conv" and report["config"]["examples"] == 32
    assert report["checks"] and all(check["ok"] for check in report["checks"])
    schema = json.loads((REPO / "docs" / "report.schema.json").read_text())
    assert Draft202012Validator(schema).is_valid(report)
    assert set(APIS) | {"layers"} == set(schema["$defs"]["report"]["properties"]["config"]["properties"]["api"]["enum"])


def test_detected_as_the_conv_api_by_its_four_graded_functions():
    module = load_module(str(NOTEBOOK))
    apis = list(APIS)
    assert detect(module, "nb") is ConvStepAPI and apis.index("conv") == apis.index("logreg") + 1  # after the first
    # course's APIs, so that it changes none of their detections
    assert list(ConvStepAPI.REQUIRED) == ["zero_pad", "conv_single_step", "conv_forward", "pool_forward"]


UNPADDED = ("accumulated from the unpadded slice", "conv_backward", "dW")
SLIPS = {
    "dW from the unpadded slice": (
        "conv_backward",
        [("a_slice = a_prev_pad[vert_start", "a_slice = A_prev[i, vert_start")],
        UNPADDED,
    ),
    "padding not stripped": (
        "conv_backward",
        [("return dA_prev, dW, db", "return dA_prev_pad, dW, db")],
        ("the padding is not stripped from dA_prev", "conv_backward", "dA_prev"),
    ),
    "padding stripped twice": (
        "conv_backward",
        [("return dA_prev, dW, db", "return dA_prev[:, pad:-pad, pad:-pad, :], dW, db")],
        ("the padding is stripped twice", "conv_backward", "dA_prev"),
    ),
    "stride ignored in the backward slice": (
        "conv_backward",
        [("vert_start = h * stride", "vert_start = h"), ("horiz_start = w * stride", "horiz_start = w")],
        ("stride ignored in the backward slice: `vert_start = h` instead of `h * stride`", "conv_backward", "dA_prev"),
    ),
    "vert_start = h in conv_forward": (
        "conv_forward",
        [("vert_start = h * stride", "vert_start = h")],
        ("`vert_start = h` instead of `h * stride` (horiz_start is right)", "conv_forward", "Z"),
    ),
    "horiz_start = w in pool_backward": (
        "pool_backward",
        [("horiz_start = w * stride", "horiz_start = w")],
        (
            "stride ignored in the backward slice: `horiz_start = w` instead of `w * stride`",
            "pool_backward",
            "dA_prev (max)",
        ),
    ),
    "average-pool gradient not divided": (
        "pool_backward",
        [("+= distribute_value(da, shape)", "+= np.ones(shape) * da")],
        ("the average-pool gradient is not divided by f * f", "pool_backward", "dA_prev (average)"),
    ),
    "distribute_value not divided": (
        "distribute_value",
        [("average = dz / (n_H * n_W)", "average = dz")],
        ("not divided: each entry gets dz / (n_H * n_W)", "distribute_value", "a"),
    ),
    "mask from the output window": (
        "pool_backward",
        [("a_prev_slice = a_prev[vert_start", "a_prev_slice = dA_prev[i, vert_start")],
        ("the max mask is taken from the output window", "pool_backward", "dA_prev (max)"),
    ),
    "mask not applied": (
        "pool_backward",
        [
            (
                "horiz_start:horiz_end, c] += mask * dA[i, h, w, c]",
                "horiz_start:horiz_end, c] += dA[i, h, w, c]",
            )
        ],
        ("the mask is not applied: dA_prev[i, vert_start:vert_end", "pool_backward", "dA_prev (max)"),
    ),
    "db of the wrong shape": (
        "conv_backward",
        [("db = np.zeros((1, 1, 1, n_C))", "db = np.zeros(n_C)"), ("db[:,:,:,c] += dZ", "db[c] += dZ")],
        ("db is (2,): it should be (1, 1, 1, n_C)", "conv_backward", "db"),
    ),
    "n_H without the + 1": (
        "conv_forward",
        [("n_H = int((n_H_prev - f + 2 * pad) / stride) + 1", "n_H = int((n_H_prev - f + 2 * pad) / stride)")],
        ("an off-by-one in the output size (n_H), without the + 1", "conv_forward", "Z"),
    ),
    "pool n_W without the + 1": (
        "pool_forward",
        [("n_W = int(1 + (n_W_prev - f) / stride)", "n_W = int((n_W_prev - f) / stride)")],
        ("an off-by-one in the output size (n_W), without the + 1", "pool_forward", "A (max)"),
    ),
    "the division misplaced": (
        "conv_forward",
        [("n_W = int((n_W_prev - f + 2 * pad) / stride) + 1", "n_W = (n_W_prev - f + 2 * pad) / stride + 1")],
        ("n_H or n_W is a float: n_H = int((n_H_prev - f + 2 * pad) / stride) + 1", "conv_forward", ""),
    ),
    "the pool size left None": (  # was: "is a float", and a convolution's size with its pad
        "pool_forward",
        [("n_H = int(1 + (n_H_prev - f) / stride)", "n_H = None")],
        (
            "a size a loop's range() reads is left None (m, n_H, n_W or n_C: an exercise's `= None`): n_H = int((n_H_prev"
            " - f) / stride) + 1",
            "pool_forward",
            "",
        ),
    ),
    "m left None": (  # was: "n_H or n_W is left None", though n_H was right
        "conv_forward",
        [("for i in range(m):", "for i in range(None):")],
        ("a size a loop's range() reads is left None (m, n_H, n_W or n_C", "conv_forward", ""),
    ),
    "the padding not stripped": (  # was: "a slice is smaller than its window"
        "conv_backward",
        [
            (
                "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]",
                "dA_prev[i, :, :, :] = da_prev_pad",
            )
        ],
        ("dA_prev takes da_prev_pad whole, its padding with it: strip it", "conv_backward", ""),
    ),
    "pad for 2 * pad": (  # was: "without the + 1" alone, which at pad 1 and stride 1 gives the same size
        "conv_forward",
        [("n_H = int((n_H_prev - f + 2 * pad) / stride) + 1", "n_H = int((n_H_prev - f + pad) / stride) + 1")],
        ("with pad where the course has 2 * pad", "conv_forward", "Z"),
    ),
}


@pytest.mark.parametrize("slip", SLIPS)
def test_each_slip_fails_on_its_function_and_is_named(tmp_path, capsys, slip):
    function, edits, (words, failing, output) = SLIPS[slip]
    path = notebook_with(tmp_path, function, *edits)
    code, out, _ = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    assert code == 1 and out.startswith("VERDICT: FAIL")
    fix = out.splitlines()[1]
    assert fix.startswith(f"fix `{failing}`: ") and words in fix, fix
    if output:
        assert fix.startswith(f"fix `{failing}`: its {output} differs (")
    report = verify.run(Config(impl=str(path), **QUICK))
    failed = [f.function for f in report.functions if not f.ok and not f.follows]
    assert failed == [failing]


def test_a_function_that_calls_a_failing_one_follows_it(tmp_path):
    path = notebook_with(tmp_path, "distribute_value", ("average = dz / (n_H * n_W)", "average = dz"))
    functions = {f.function: f for f in verify.run(Config(impl=str(path), **QUICK)).functions}
    assert functions["pool_backward"].follows == "distribute_value" and not functions["pool_backward"].ok


def test_the_courses_pad_minus_pad_slice_fails_at_pad_0_with_its_hint(tmp_path):
    path = notebook_with(
        tmp_path,
        "conv_backward",
        ("da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]", "da_prev_pad[pad:-pad, pad:-pad, :]"),
    )
    (unit,) = [f for f in verify.run(Config(impl=str(path), **QUICK)).functions if not f.ok]
    assert unit.function == "conv_backward" and "empty when pad is 0" in unit.hint


@pytest.mark.parametrize("absent", ["conv_backward", "pool_backward"])
def test_an_absent_optional_function_is_said_not_checked_not_failed(tmp_path, capsys, absent):
    path = notebook_with(tmp_path, absent, drop=True)
    code, report = run_json(capsys, "--impl", str(path), *SHORT)
    assert code == 0 and report["verdict"] == "pass"
    assert any(f"(scratch's {absent} standing in)" in n for n in report["notes"])
    assert absent not in [f["function"] for f in report["functions"]]
    assert any(n.startswith(f"not checked: {absent} (optional in the course") for n in report["notes"])


def test_a_wrong_shape_is_reported_cleanly(tmp_path, capsys):
    path = notebook_with(tmp_path, "conv_forward", ("return Z, cache", "return Z[:, :, :, :1], cache"))
    code, out, err = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    assert code == 1 and "Traceback" not in err
    assert (
        "fix `conv_forward`: its Z differs (expected an array of shape (2, 2, 3, 2), got an array of shape (2, 2, 3, 1)"
        in out
    )


def test_a_function_that_raises_is_a_failure_not_a_crash(tmp_path, capsys):
    path = notebook_with(tmp_path, "zero_pad", ("X_pad = np.pad(", "X_pad = np.pad(undefined_name, "))
    code, out, err = run_cli(capsys, "--impl", str(path), "--no-tensorboard", *SHORT)
    assert code == 1 and "Traceback" not in err and "fix `zero_pad`" in out and "NameError" in out


@pytest.mark.parametrize("arch", ["3,4,1", "12,6,6,2", "seq6x3,rnn5,1"])
def test_an_arch_without_conv_layers_is_refused_in_one_line(capsys, arch):  # said as given (was: 18,5,1)
    code, out, err = run_cli(capsys, "--impl", str(NOTEBOOK), "--arch", arch)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"--arch {arch}: Convolution_model_Step_by_Step.ipynb's functions compute conv and pool layers" in err


def test_a_conv_arch_overrides_the_default_network(capsys):
    code, report = run_json(
        capsys, "--impl", str(NOTEBOOK), "--arch", "6x5x1,conv2f2s2p1,avg2s1,flatten,3", "--examples", "8", *SHORT
    )
    assert (
        code == 0 and report["config"]["examples"] == 8 and report["config"]["arch"] == [30, 24, 12, 3]
    )  # 4x3x2, then 3x2x2
    assert all(check["ok"] for check in report["checks"]) and len(report["checks"]) == 5
    assert any("ran on 6x5x1,conv2f2s2p1,avg2s1,flatten,3:" in note for note in report["notes"])


def test_an_optional_function_left_unfinished_is_set_aside_as_if_absent(tmp_path):
    """conv_backward with an `= None` placeholder of the course's template left: not checked, scratch's stands in
    for it in the network, and a note says so (was: FAIL, for an exercise the course does not grade)."""
    path = notebook_with(tmp_path, "conv_backward", ("vert_start = h * stride\n", "vert_start = None\n"))
    report = verify.run(Config(impl=str(path), **QUICK))
    assert report.ok and len(report.checks) == 5 and all(check.ok for check in report.checks)
    assert [f.function for f in report.functions] == [f for f in EIGHT if f != "conv_backward"]
    notes = " ".join(report.notes)
    assert "not checked: conv_backward (optional in the course, left unfinished in my_conv.ipynb: " in notes
    assert "(scratch's conv_backward standing in)" in notes


def test_an_optimiser_trains_the_network_with_scratchs_step(capsys):
    """The network's updates are scratch's, --optimizer's and --decay's too: the notebook defines none (was: refused,
    "has no function initialize_velocity")."""
    code, report = run_json(
        capsys, "--impl", str(NOTEBOOK), "--optimizer", "momentum", "--decay", "inverse", "--mini-batch-size", "16",
        "--epochs", "2", "--lr", "0.01",
    )  # fmt: skip
    assert code == 0 and all(check["ok"] for check in report["checks"]) and len(report["checks"]) == 5
    assert [f["function"] for f in report["functions"]] == EIGHT


# The network checks run the notebook's own functions: a slip in one the default network uses (conv stride 2, pad 1,
# a max pool) fails the network check that reads its output, not only its function-by-function check.
NETWORK_SLIPS = {
    "vert_start = h in conv_forward": "forward",
    "stride ignored in the backward slice": "backward",
    "padding not stripped": "backward",
    "mask from the output window": "backward",
    "mask not applied": "backward",
}


@pytest.mark.parametrize("init", ["he", "random"])  # random: the course's randn * 0.01, the small scale
@pytest.mark.parametrize("slip", NETWORK_SLIPS)
def test_a_slip_fails_the_network_check_that_reads_its_output(tmp_path, slip, init):
    function, edits, _ = SLIPS[slip]
    report = verify.run(Config(impl=str(notebook_with(tmp_path, function, *edits)), init=init, **QUICK))
    checks = {check.name: check for check in report.checks}
    assert not checks[NETWORK_SLIPS[slip]].ok
    assert NETWORK_SLIPS[slip] == "backward" or not checks["backward"].ok  # a wrong forward pass misleads backward


def test_a_wrong_output_size_in_the_network_names_the_function_and_the_formula(tmp_path):
    function, edits, _ = SLIPS["n_H without the + 1"]
    report = verify.run(Config(impl=str(notebook_with(tmp_path, function, *edits)), **QUICK))
    (forward,) = [check for check in report.checks if check.name == "forward"]
    assert forward.error is not None and forward.error.function == "conv_forward"
    assert "Z should be an array of shape (32, 4, 4, 3), got an array of shape (32, 3, 4, 3)" in str(forward.error)
    assert "n_H = int((n_H_prev - f + 2 * pad) / stride) + 1" in str(forward.error)


def test_in_float32_the_loops_float64_outputs_are_cast_and_said_so():
    report = verify.run(Config(impl=str(NOTEBOOK), dtype="float32", **QUICK))
    assert report.ok and all(check.ok for check in report.checks)
    assert any(note.startswith("conv_forward returned Z as float64 in a float32 run") for note in report.notes)
