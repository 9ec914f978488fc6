"""Right code written another way than the course's passes: each case here is a rewrite a learner may make that
computes the same values (a list where the course builds a tuple, ...), and once failed."""

from __future__ import annotations

import json

import pytest
from conftest import COURSE, EXAMPLES, FAST, edited, fast, run_cli
from test_course2_units import failures, results_of

pytestmark = pytest.mark.end_to_end

WEEK3, WEEK2 = EXAMPLES / "planar_network.py", EXAMPLES / "logreg_network.py"


def verdict(capsys, path, arch: str, *extra: str) -> tuple[int, dict]:
    code, out, err = run_cli(capsys, "--arch", arch, "--impl", str(path), *extra, "--json", "-")
    assert "Traceback" not in err, err
    return code, json.loads(out)


# Each: (file, its --arch and options, the (old, new) edits). The same values, returned in another container.
RETURNED_OTHERWISE = {
    "costs as an array": (
        COURSE,
        ["3,4,1", *fast(250)],  # two_layer_model's
        [
            (
                "    return parameters, costs\n\n\ndef L_layer_model",
                "    return parameters, np.array(costs)\n\n\ndef L_layer_model",
            )
        ],
    ),
    "relu's [A, cache]": (
        COURSE,
        ["3,4,4,1", *FAST],
        [("    return np.maximum(0, Z), Z", "    return [np.maximum(0, Z), Z]")],
    ),
    "L_model_forward's [AL, caches]": (
        COURSE,
        ["3,4,4,1", *FAST],
        [("    return AL, caches", "    return [AL, caches]")],
    ),
    "forward_propagation's [A2, cache]": (
        WEEK3,
        ["2,4,1", *FAST],
        [("    return A2, cache", "    return [A2, cache]")],
    ),
    "propagate's list": (
        WEEK2,
        ["2,1", *FAST],
        [
            ('    return {"dw": dw, "db": db}, float', '    return [{"dw": dw, "db": db}, float'),
            ("(cost))\n", "(cost))]\n"),
        ],
    ),
    "optimize's list and costs array": (
        WEEK2,
        ["2,1", *fast(250)],
        [('    return {"w": w, "b": b}, grads, costs', '    return [{"w": w, "b": b}, grads, np.array(costs)]')],
    ),
    "initialize_with_zeros' [w, b]": (
        WEEK2,
        ["2,1", *FAST, "--init", "impl"],
        [("    return w, b", "    return [w, b]")],
    ),
}


@pytest.mark.parametrize("case", RETURNED_OTHERWISE)
def test_values_returned_in_a_list_or_an_array_pass(capsys, tmp_path, case):
    source, options, edits = RETURNED_OTHERWISE[case]
    code, report = verdict(capsys, edited(tmp_path, source, *edits), *options)
    assert code == 0, report["first_divergence"]


def test_a_cost_with_an_epsilon_option_of_its_own_is_not_handed_the_loss(capsys, tmp_path):
    """compute_cost(AL, Y, epsilon=0.0): a number's default is the learner's option, not the extended signature's
    loss (it was handed 'bce', and raised adding it to AL)."""
    path = edited(
        tmp_path,
        COURSE,
        ("def compute_cost(AL, Y):", "def compute_cost(AL, Y, epsilon=0.0):"),
        ("np.log(AL)", "np.log(AL + epsilon)"),
    )
    code, report = verdict(capsys, path, "3,4,4,1", *FAST)
    assert code == 0, report["first_divergence"]


def test_caches_built_as_lists_pass(capsys, tmp_path):
    path = edited(
        tmp_path,
        COURSE,
        ("    return Z, (A, W, b)", "    return Z, [A, W, b]"),
        ("    return A, (linear_cache, activation_cache)", "    return A, [linear_cache, activation_cache]"),
    )
    code, out, err = run_cli(capsys, "--arch", "3,4,4,1", "--impl", str(path), *FAST, "--json", "-")
    report = json.loads(out)
    assert code == 0, report["first_divergence"]
    ok = {f["function"] for f in report["functions"] if f["status"] == "ok"}
    assert {"linear_forward", "linear_activation_forward"} <= ok
    assert all(check["ok"] for check in report["checks"])  # L_model_forward's caches, read by the network checks


def test_a_dropout_cache_built_as_a_list_passes(tmp_path):
    tuple_cache = "    cache = (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)\n"
    results = results_of(tmp_path, (tuple_cache, tuple_cache.replace("(", "[").replace(")", "]")))
    assert failures(results) == {}
    assert results["forward_propagation_with_dropout"].ok


DEBUG = (
    "def debug(f):\n    def wrapper(*args, **kwargs):\n        return f(*args, **kwargs)\n\n    return wrapper\n\n\n"
)


@pytest.mark.parametrize("isolate", [[], ["--isolate"]], ids=["in-process", "isolated"])
def test_functions_under_a_decorator_without_wraps_keep_their_signatures(capsys, tmp_path, isolate):
    """@debug written without functools.wraps: wrapper(*args, **kwargs) hides compute_cost(AL, Y), which was then
    handed the extended signature's loss (and L_model_forward its activations): raised TypeError."""
    path = edited(
        tmp_path,
        COURSE,
        ("import numpy as np\n", "import numpy as np\n\n\n" + DEBUG),
        ("def compute_cost(AL, Y):", "@debug\ndef compute_cost(AL, Y):"),
        ("def L_model_forward(", "@debug\ndef L_model_forward("),
        ("def L_model_backward(", "@debug\ndef L_model_backward("),
    )
    code, report = verdict(capsys, path, "3,4,4,1", *FAST, *isolate)
    assert code == 0, report["first_divergence"]


def test_a_list_cache_in_the_wrong_order_still_fails_by_name(capsys, tmp_path):
    """Taking lists is no blanket pass: [W, A, b] is the wrong order, as (W, A, b) is."""
    path = edited(tmp_path, COURSE, ("    return Z, (A, W, b)", "    return Z, [W, A, b]"))
    code, report = verdict(capsys, path, "3,4,4,1", *FAST)
    linear_forward = next(f for f in report["functions"] if f["function"] == "linear_forward")
    assert code == 1 and linear_forward["status"] == "FAIL" and "it holds (W, A_prev, b)" in linear_forward["detail"]
