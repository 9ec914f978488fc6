"""The verdict block names what to fix where the network checks find it on their own, on course-literal code with
one slip planted: a training loop that differs from its own functions (its fix line: the loop, the slip its calls
fit, where it is defined), caches in reverse order (rejected by the checks: said once, referred to after), and
Adam's t from 0 in model() (a nan reads nan, not an infinite difference)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import COURSE, EXAMPLES, edited

from verify import Config, run
from verify.testing import assert_agrees

pytestmark = pytest.mark.end_to_end

QUIET = {"tensorboard": False, "gradcheck": False, "progress": False}


def planted(tmp_path: Path, example: str, old: str, new: str, name: str) -> Path:
    """examples/<example> as the course writes it (beside course_network.py, which the optimisers import), one slip."""
    return edited(tmp_path, EXAMPLES / example, (old, new), name=name, beside=(COURSE,))


def line_of(path: Path, start: str) -> int:
    """The line (from 1) where `start` begins a line of `path`."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.startswith(start))


def test_a_flat_nn_model_is_named_with_its_slip_and_where_it_is_defined(tmp_path):
    old = "        parameters = update_parameters(parameters, backward_propagation(parameters, cache, X, Y))"
    path = planted(tmp_path, "planar_network.py", old, old.replace("parameters = ", "", 1), "flat.py")
    options = dict(arch=(2, 4, 1), data="flower", learning_rate=1.2, iterations=10, examples=40, **QUIET)
    report = run(Config(impl=str(path), **options))
    fix = (
        "fix `nn_model`: its parameters never change: update_parameters' result is not assigned (parameters = "
        f"update_parameters(...)); defined in flat.py, line {line_of(path, 'def nn_model')}"
    )
    lines = report.summary().splitlines()
    assert lines[:2] == ["VERDICT: FAIL", fix] and lines[2].startswith("first divergence: loop nn_model: cost differs")
    first = report.as_dict()["first_divergence"]
    assert first["fix"] + "; defined in " + first["source"] == fix
    with pytest.raises(AssertionError) as raised:
        assert_agrees(path, **options)
    assert fix in str(raised.value).splitlines()
    (costs,) = [n for n in report.to_text().splitlines() if n.startswith("  costs at")]
    assert costs.startswith("  costs at iterations 0, 1, 2, 3, 4, ..., 9: nn_model ")
    assert costs.count(", ..., ") == 3  # the iterations, and both lists: the same five and the last


def test_caches_in_reverse_order_get_a_fix_line_and_the_message_once(tmp_path):
    old = "        caches.append(cache)\n    AL"
    path = planted(
        tmp_path,
        "course_network.py",
        old,
        old.replace("caches.append(cache)", "caches.insert(0, cache)"),
        "reversed.py",
    )
    report = run(Config(impl=str(path), arch=(3, 4, 4, 1), examples=32, iterations=5, **QUIET))
    text = report.to_text()
    message = (
        "cache 1 holds layer 2's (A_prev, W2, b2): caches[l-1] must be layer l's; caches are in reverse order: "
        "append, not insert(0, ...)"
    )
    assert text.splitlines()[1] == (
        f"fix `L_model_forward`: {message}; defined in reversed.py, line {line_of(path, 'def L_model_forward')}"
    )
    assert text.count("cache 1 holds") == 1
    assert "  not run: reversed.py's forward pass returned what the checks cannot use (see forward)" in text
    assert "raised" not in text  # nothing was raised: the checks rejected what it returned
    assert report.as_dict()["first_divergence"]["source"] == f"reversed.py, line {line_of(path, 'def L_model_forward')}"


def test_adams_t_from_0_in_model_reads_nan_not_inf(tmp_path):
    update = "beta1, beta2, epsilon)\n"
    path = planted(tmp_path, "course_optimizers.py", "                t = t + 1\n", "", "t0.py")
    path.write_text(path.read_text().replace(update, update + "                t = t + 1\n"))  # t = 0 at the first
    report = run(
        Config(impl=str(path), arch=(4, 5, 1), examples=50, optimizer="adam", mini_batch_size=16, epochs=2, **QUIET)
    )
    lines = report.to_text().splitlines()
    assert lines[1].startswith("fix `model`: t starts at 0: the bias correction divides by 1 - beta^0 = 0")
    assert lines[2].startswith("first divergence: loop model: cost differs; max abs nan (not a number), allowed ")
    assert "worst at (0,): nan vs its own steps 0." in lines[2]
    loop = lines[lines.index("training loop model: the course's loop, whole, against the same run  [FAIL]") :]
    assert loop[2].split()[:4] == ["cost", "2", "nan", "nan"]
    assert not any(" inf " in line for line in lines)
