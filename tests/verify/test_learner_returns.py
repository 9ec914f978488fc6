"""What the learner's functions return is checked before NumPy computes with it: an array of dtype object
(np.array of a list of arrays, dtype=object) is the function's failed check, named, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

pytestmark = [pytest.mark.end_to_end, pytest.mark.usefixtures("forget_loaded_modules")]

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course_network.py"

OBJECT_RETURNS = {  # function -> its course version wrapped to return an object array, and where that array is
    "L_model_forward": (
        "X, parameters",
        "AL, caches = _course(X, parameters)\n    return AL.astype(object), caches",
        "[0]",
    ),
    "linear_backward": ("dZ, cache", "dA, dW, db = _course(dZ, cache)\n    return dA, dW.astype(object), db", "[1]"),
    "update_parameters": (
        "parameters, grads, learning_rate",
        "return {k: v.astype(object) for k, v in _course(parameters, grads, learning_rate).items()}",
        "['W1']",
    ),
}


@pytest.mark.parametrize("function", OBJECT_RETURNS)
def test_an_object_array_from_the_learner_is_named_on_its_function(function, capsys, tmp_path):
    arguments, body, where = OBJECT_RETURNS[function]
    learner = tmp_path / "learner.py"
    learner.write_text(COURSE.read_text() + f"\n\n_course = {function}\ndef {function}({arguments}):\n    {body}\n")
    code, out, err = run_cli(
        capsys, "--arch", "3,4,4,1", "--impl", str(learner), "--iterations", "3", "--examples", "20", "--no-tensorboard"
    )
    assert code == 1 and "Traceback" not in err
    assert out.startswith("VERDICT: FAIL")
    assert f"fix `{function}`: it returned an array of dtype object (as {where})" in out.splitlines()[1]


def test_a_cost_left_none_is_named_as_a_placeholder_not_an_array_of_objects(capsys, tmp_path):
    """The exercise's `cost = None` placeholder before the course's `np.squeeze(cost)`: array(None, dtype=object)."""
    course = COURSE.read_text()
    computed = "    cost = -(1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))\n"
    assert course.count(computed) == 1
    learner = tmp_path / "learner.py"
    learner.write_text(course.replace(computed, "    cost = None\n"))
    code, out, err = run_cli(
        capsys, "--arch", "3,4,4,1", "--impl", str(learner), "--iterations", "3", "--examples", "20", "--no-tensorboard"
    )
    assert code == 1 and "Traceback" not in err
    assert out.splitlines()[1].startswith(
        "fix `compute_cost`: it returned None inside an array (np.squeeze(None) is array(None, dtype=object)): a "
        "value still None, as an exercise's `= None` placeholder leaves it; defined in learner.py"
    )


NONE_HINT = (
    "a value is None where an array is read: an exercise's `= None` placeholder left, or a call of a function that "
    "returns nothing"
)
UNFINISHED = {  # the course's line, as an exercise left undone has it, and what the fix line says
    "shape of None": (
        "    dA_prev = np.dot(W.T, dZ)\n",
        "    dA_prev = None\n    assert dA_prev.shape == A_prev.shape\n",
        f"fix `linear_backward`: {NONE_HINT}; defined in",
    ),
    "arithmetic with None": (
        "    m = A_prev.shape[1]\n",
        "    m = None\n",
        f"fix `linear_backward`: {NONE_HINT}; defined in",
    ),
    "an emptied block": (
        "    cost = -(1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))\n",
        "    cost = np.squeeze(cost)\n",
        "fix `compute_cost`: `cost` is read before any line assigns it: an exercise's block left empty; defined in",
    ),
    "a loop unpacking None": (
        '        dA_prev, dW, db = linear_activation_backward(grads["dA" + str(l + 1)], caches[l], "relu")\n',
        "        dA_prev, dW, db = None\n",
        f"fix `L_model_backward`: it raised TypeError at line 93 ({NONE_HINT}); defined in",
    ),
}


@pytest.mark.parametrize("case", UNFINISHED)
def test_an_exercise_left_undone_is_said_so_not_a_shape_slip(case, capsys, tmp_path):
    """A value left None read as an array (None.shape, None - 1, a, b = None), or a local an emptied block never
    assigns: the fix line says which, where the words of Python's message would pick a shape hint (was: "a shape
    error: check the order the cache is unpacked in ...") or say only the exception's name."""
    course, (original, undone, fix) = COURSE.read_text(), UNFINISHED[case]
    assert course.count(original) == 1
    learner = tmp_path / "learner.py"
    learner.write_text(course.replace(original, undone))
    code, out, err = run_cli(
        capsys, "--arch", "3,4,4,1", "--impl", str(learner), "--iterations", "3", "--examples", "20", "--no-tensorboard"
    )
    assert code == 1 and "Traceback" not in err
    assert out.splitlines()[1].startswith(fix)
