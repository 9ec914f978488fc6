"""The second course's notebooks as the course ships them, each beside its helper file (examples/course2/): detected
as the course2 API, sized from their own layers_dims, the helpers' conventions handled (opt_utils' summed cost, the
1/m in dz3), verified with L2 and dropout, and a slip in a graded function caught and named in the network checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import QUIET, assert_usage_error, edited, failing_checks, run_cli

from verify import Config, run
from verify.impl import Course2API, detect, load_module

COURSE2 = Path(__file__).resolve().parents[2] / "examples" / "course2"
NOTEBOOKS = {
    "Initialization.ipynb": "init_utils.py",
    "Regularization.ipynb": "reg_utils.py",
    "Optimization_methods.ipynb": "opt_utils_v1a.py",
}
REGULARIZATION = COURSE2 / "Regularization.ipynb"


def verified(path: Path, **options):
    settings = dict(iterations=3, examples=40, gradcheck=False, **QUIET)
    return run(Config(impl=str(path), **{**settings, **options}))


def regularization_with(tmp_path: Path, old: str, new: str) -> Path:
    return edited(tmp_path, REGULARIZATION, (old, new), beside=(COURSE2 / "reg_utils.py",))


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_each_notebook_is_the_course2_api_sized_by_its_own_layers_dims(notebook):
    module = load_module(str(COURSE2 / notebook))
    assert detect(module, notebook) is Course2API
    sizes = {"Initialization.ipynb": (2, 10, 5, 1), "Regularization.ipynb": (2, 20, 3, 1)}
    report = verified(COURSE2 / notebook)
    assert report.config.arch == sizes.get(notebook, (2, 5, 2, 1))
    assert report.verdict == "pass", report.to_text()


@pytest.mark.end_to_end
@pytest.mark.parametrize("notebook", [*NOTEBOOKS, "Gradient_Checking.ipynb"])
def test_each_notebook_passes_every_check_in_float32(notebook):
    defaults = Config()  # no training or data option
    untrained = {"iterations": defaults.iterations, "examples": defaults.examples} if "Gradient" in notebook else {}
    report = verified(COURSE2 / notebook, dtype="float32", gradcheck=True, **untrained)
    assert report.verdict == "pass", report.to_text()


@pytest.mark.end_to_end
@pytest.mark.parametrize("options", [dict(lambd=0.7), dict(keep_prob=(0.86,))], ids=["L2", "dropout"])
def test_the_regularization_notebooks_graded_functions_pass_with_their_option(options):
    report = verified(REGULARIZATION, **options)
    assert report.verdict == "pass", report.to_text()


@pytest.mark.end_to_end
def test_the_regularization_notebooks_model_trains_in_float32_with_dropout():
    # Its int masks promote the gradients, so update_parameters returns float64 parameters. The run's own steps cast
    # them back to float32; the loop must too, or 200 iterations of model() drift from those steps by 1e-5 and
    # model(), the course's own, is blamed.
    report = verified(REGULARIZATION, keep_prob=(0.86,), dtype="float32", iterations=200, examples=211)
    loop = next(c for c in report.checks if c.name == "loop model")
    assert loop.ok and report.verdict == "pass", report.to_text()


def test_the_helpers_conventions_are_handled_and_said():
    notes = " ".join(verified(COURSE2 / "Optimization_methods.ipynb").notes)
    assert "compute_cost returns the sum of the losses over the batch" in notes
    assert "puts the 1/m into dz3" in notes


@pytest.mark.end_to_end
@pytest.mark.parametrize(
    "options, old, new, row, hint",
    [
        (
            dict(lambd=0.7),
            "+ lambd/m * W2",
            "+ lambd * W2",
            ("dW", 2),
            "dW's L2 term is lambd W: the course's is (lambd / m) W",
        ),
        (
            dict(keep_prob=(0.86,)),
            "    dA2 = dA2 / keep_prob\\n",
            "",
            ("dZ", 2),
            "dA2 is not divided by keep_prob in backward: dA = dA * D / keep_prob, as in forward",
        ),
        (
            dict(keep_prob=(0.86,)),
            "    A1 = A1 / keep_prob\\n",
            "",
            ("A", 1),
            "A1 is not divided by keep_prob: inverted dropout is A = A * D / keep_prob",
        ),
    ],
    ids=["L2-term-without-1/m", "dropout-backward-not-divided", "dropout-forward-not-divided"],
)
def test_a_slip_in_a_graded_function_is_caught_and_named(tmp_path, options, old, new, row, hint):
    report = verified(regularization_with(tmp_path, old, new), **options)
    failed = next(c for c in report.checks if not c.ok)
    assert failed.rows[row].hint == hint
    assert not failed.rows[row].ok


def test_a_mask_drawn_the_wrong_way_is_refused_on_its_function(tmp_path):
    report = verified(regularization_with(tmp_path, "(D1 < keep_prob)", "(D1 > keep_prob)"), keep_prob=(0.86,))
    assert "forward" in failing_checks(report)
    assert "its dropout mask D1 keeps" in str(report.checks[0].error)


@pytest.mark.parametrize("examples", [40, 211])  # 211: the notebook's own m, where D2 keeps 83% (was: PASS)
def test_a_mask_drawn_with_randn_is_refused_whatever_share_it_keeps(tmp_path, examples):
    """randn < keep_prob keeps P(N(0, 1) < 0.86) = 81% on average, within the kept-share check's reach of 86% on a
    layer of a few hundred units: the course's seeded draw, made with randn, is recognised exactly."""
    draw = "D2 = np.random.rand(A2.shape[0], A2.shape[1])"
    path = regularization_with(tmp_path, draw, draw.replace("rand(", "randn("))
    report = verified(path, keep_prob=(0.86,), examples=examples)
    assert "forward" in failing_checks(report)
    assert str(report.checks[0].error).endswith(
        "its dropout mask D2 is the course's seeded draw made with np.random.randn(...) < keep_prob, which keeps 81% "
        "of the units, not keep_prob: the course keeps a unit where np.random.rand(...) < keep_prob (a uniform draw)"
    )


def test_a_notebook_without_its_helper_file_is_one_line_naming_it(tmp_path, capsys):
    alone = edited(tmp_path, REGULARIZATION, ("", ""))
    line = assert_usage_error(*run_cli(capsys, "--impl", str(alone), "--iterations", "2", "--no-tensorboard"))
    assert "from reg_utils, which is not in its folder" in line
    assert "put the course's helper file reg_utils.py beside it" in line


def test_l2_and_dropout_together_are_refused_as_the_notebook_runs_one_at_a_time(capsys):
    """Its backward_propagation_with_regularization reads the 12-tuple cache, not dropout's 14: correct code would
    fail, so the pair is a usage error; each alone passes (the README's runs)."""
    argv = ("--impl", str(REGULARIZATION), "--lambd", "0.7", "--keep-prob", "0.86", "--no-tensorboard")
    line = assert_usage_error(*run_cli(capsys, *argv))
    assert line.startswith("verify: error: --lambd with --keep-prob: Regularization.ipynb's functions take one at a")


def test_an_arch_other_than_the_notebooks_is_refused(capsys):
    argv = ("--impl", str(REGULARIZATION), "--arch", "2,5,5,1", "--no-tensorboard")
    line = assert_usage_error(*run_cli(capsys, *argv))
    assert "differs from layers_dims = [X.shape[0], 20, 3, 1] = [2, 20, 3, 1]" in line


def test_a_mask_of_another_layer_in_backward_gets_an_element_wise_hint(tmp_path):
    report = verified(
        regularization_with(tmp_path, "    dA2 = dA2 * D2\\n", "    dA2 = dA2 * D1\\n"), keep_prob=(0.86,)
    )
    first = report.first_divergence
    assert "could not be broadcast together" in str(first.error)
    assert first.fix == (  # was: "check each product's order and transposes, dW = dZ A_prev^T / m, ..."
        "fix `backward_propagation_with_dropout`: a shape error in an element-wise product: each layer's A and dA are "
        "masked with D of that layer"
    )
