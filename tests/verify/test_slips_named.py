"""Each function-level slip is named on its function with its kind, and a correct habit is not a slip.

Every case is the learner's code as the course writes it (examples/course_network.py, copied to
tmp_path with the one slip planted), run through the Python API on a small network; each hint rule
also has a short test on hand-built arrays, so a change to it shows what breaks without a run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import COURSE, edited, optimisers_text

from verify import Config, run
from verify.impl.base import _other_layers
from verify.judging.compare import CheckResult
from verify.judging.hints import (
    L2,
    activation_backward_slip,
    cache_order_slip,
    db_slip,
    decay_slips,
    diagnose,
    l2_slip,
    matches,
    skipped_layer_slip,
)

KEEPS_ITS_MASK = Path(__file__).resolve().parent / "impl_cases" / "keeps_its_mask.py"
REVERSED = "caches are in reverse order: append, not insert(0, ...)"


def learner(tmp_path: Path, *slips: tuple[str, str], extra: str = "") -> Path:
    """course_network.py (and `extra` after it) in tmp_path, each `old` text (found once) replaced by `new`."""
    return edited(tmp_path, COURSE, *slips, tail=extra)


def verified(path: Path, arch=(3, 4, 4, 1), **options):
    settings = dict(iterations=3, examples=40, gradcheck=False, tensorboard=False, progress=False)
    return run(Config(arch=arch, impl=str(path), **{**settings, **options}))


def function_result(report, name: str):
    return next(f for f in report.functions if f.function == name)


# ---------------------------------------------------------------- L_model_forward's caches


@pytest.mark.parametrize(
    "arch, slips, held",
    [
        (
            (5, 8, 4, 1),
            [("        caches.append(cache)\n    AL", "        caches.insert(0, cache)\n    AL")],
            "layer 2's",
        ),
        (
            (3, 4, 4, 1),
            [
                ("        caches.append(cache)\n    AL", "        caches.insert(0, cache)\n    AL"),
                ("    caches.append(cache)\n    return AL", "    caches.insert(0, cache)\n    return AL"),
            ],
            "layer 3's",
        ),
    ],
    ids=["hidden-layers-inserted", "every-layer-inserted"],
)
@pytest.mark.end_to_end
def test_caches_in_reverse_order_are_named_on_L_model_forward_with_no_inf(tmp_path, arch, slips, held):
    report = verified(learner(tmp_path, *slips), arch)
    first = report.first_divergence
    assert report.verdict == "fail"
    assert (first.stage, first.quantity) == ("forward", "L_model_forward")
    assert (
        first.error == f"L_model_forward: cache 1 holds {held} (A_prev, W{held[6]}, b{held[6]}): caches[l-1] must be "
        f"layer l's; {REVERSED}"
    )
    assert " inf " not in report.to_text()  # was an `A 1 inf inf` row for what is a shape mismatch


@pytest.mark.end_to_end
def test_a_shape_mismatch_is_shown_as_shapes_not_as_an_infinite_difference(tmp_path):
    # the linear cache keeps Z where A_prev belongs: layer 3's cache says A2 is Z3, of shape (1, m), not (4, m)
    report = verified(learner(tmp_path, ("return Z, (A, W, b)", "return Z, (Z, W, b)")))
    row = next(c for c in report.checks if c.name == "forward").rows[("A", 2)]
    assert not row.ok and row.max_abs is None and row.max_rel is None
    assert row.shape == "shape (1, 40) vs torch (4, 40)"
    assert "inf" not in report.to_text(verbose=True)


def test_a_shape_mismatch_row_keeps_no_number_and_says_the_shapes():
    check = CheckResult("forward", "forward", 1e-7)
    check.compare([("A", 1, np.zeros((3, 200)), np.zeros((4, 200)))], 200, {("A", 1): 1.0})
    row = check.rows[("A", 1)]
    assert (row.ok, row.max_abs, row.max_rel, row.run_max_abs) == (False, None, None, 0.0)
    assert row.shape == row.hint == "shape (3, 200) vs torch (4, 200)"
    assert diagnose(np.zeros((200, 4)), np.zeros((4, 200)), 200) == "the shape is transposed"


def test_cache_order_rule():
    assert cache_order_slip([2, 1, 3]) == REVERSED  # the hidden layers inserted at 0, the output appended
    assert cache_order_slip([3, 2, 1]) == REVERSED
    assert cache_order_slip([1, 3, 2]) == ""  # another order: the cache is named, no reason guessed
    assert cache_order_slip([None, 1, 3]) == ""


# ---------------------------------------------------------------- a mask kept in the caches


@pytest.mark.parametrize(
    "options",
    [dict(lambd=0.7), dict(), dict(keep_prob=0.8), dict(lambd=0.7, keep_prob=0.86)],
    ids=["lambd-alone", "plain", "dropout", "both"],
)
@pytest.mark.end_to_end
def test_a_mask_kept_in_the_caches_passes_with_or_without_dropout(tmp_path, options):
    path = learner(tmp_path, extra="\n\n" + KEEPS_ITS_MASK.read_text(encoding="utf-8"))
    report = verified(path, (2, 20, 3, 1), gradcheck=True, **options)
    assert report.verdict == "pass", report.first_divergence  # was: cache 1 should be ((A_prev, W, b), Z) ...


@pytest.mark.end_to_end
def test_what_is_kept_beside_Z_without_dropout_must_be_a_mask_shaped_like_it(tmp_path):
    path = learner(
        tmp_path,
        ("caches.append((linear_cache, Z, D))", "caches.append((linear_cache, Z, D[:, :1]))"),
        extra="\n\n" + KEEPS_ITS_MASK.read_text(encoding="utf-8"),
    )
    first = verified(path, (2, 20, 3, 1), lambd=0.7).first_divergence
    assert first.error == (
        "L_model_forward: cache 1 should be ((A_prev, W, b), Z) with Z of shape (20, 40), and a mask "
        "D kept beside Z of that shape too"
    )


# ---------------------------------------------------------------- function by function, with the kind of slip


def assert_fix(report, function: str, output: str, hint: str) -> None:
    """The report's first divergence names `function`, its wrong output and exactly this hint."""
    first = report.first_divergence
    result = function_result(report, function)
    assert (first.function, result.output, result.hint) == (function, output, hint), result.detail
    assert first.fix == f"fix `{function}`: its {output} differs ({hint})"


@pytest.mark.end_to_end
def test_sigmoid_backward_returning_g_for_g_prime_is_named(tmp_path):
    report = verified(learner(tmp_path, ("return dA * s * (1 - s)", "return dA * s")))
    assert_fix(report, "sigmoid_backward", "dZ", "it returns dA * g(Z), not dA * g'(Z) = dA * s (1 - s)")


@pytest.mark.end_to_end
def test_an_l2_penalty_that_leaves_out_the_last_W_is_named_with_the_networks_layer(tmp_path):
    path = learner(
        tmp_path,
        ("for l in range(1, L + 1))", "for l in range(1, L))"),
        extra="\n\n" + KEEPS_ITS_MASK.read_text(encoding="utf-8"),
    )
    report = verified(path, lambd=0.7)
    hint = "the penalty leaves out W3: the course's sums ||W[l]||^2 over every layer, l = 1..3"
    assert_fix(report, "compute_cost_with_regularization", "cost", hint)
    forward = next(c for c in report.checks if c.name == "forward")
    assert forward.rows[("cost", 3)].hint == hint  # the network's cost row names the same layer


@pytest.mark.parametrize(
    "new, hint",
    [
        ("np.sum(dZ, axis=1)", "db has shape (3,): np.sum(dZ, axis=1, keepdims=True) keeps it (n[l], 1)"),
        (
            "np.sum(dZ, axis=0, keepdims=True)",
            "db is summed over axis 0 (the units) instead of axis 1 (the examples): np.sum(dZ, axis=1, keepdims=True)",
        ),
    ],
    ids=["no-keepdims", "axis-0"],
)
@pytest.mark.end_to_end
def test_a_db_without_keepdims_or_over_the_wrong_axis_is_named(tmp_path, new, hint):
    report = verified(learner(tmp_path, ("np.sum(dZ, axis=1, keepdims=True)", new)))
    assert_fix(report, "linear_backward", "db", hint)


UPDATE_LR = "return learning_rate0 / (1 + decay_rate * epoch_num)"
SCHEDULE = "return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))"


@pytest.mark.parametrize(
    "function, old, new, hint",
    [
        (
            "update_lr",
            UPDATE_LR,
            "return learning_rate0 / (1 + decay_rate)",
            "the epoch is left out: it computes learning_rate0 / (1 + decay_rate), the course learning_rate0 / "
            "(1 + decay_rate * epoch_num)",
        ),
        (
            "update_lr",
            UPDATE_LR,
            "return learning_rate0 * decay_rate * epoch_num",
            "it computes learning_rate0 * decay_rate * epoch_num: the course divides, learning_rate0 / (1 + decay_rate * epoch_num)",
        ),
        (
            "update_lr",
            UPDATE_LR,
            "return learning_rate0 / decay_rate * epoch_num",
            "it computes learning_rate0 / decay_rate * epoch_num: the course's is learning_rate0 / (1 + decay_rate * epoch_num)",
        ),
        (
            "update_lr",
            UPDATE_LR,
            "return learning_rate0 / (1 + decay_rate) * epoch_num",
            "it computes learning_rate0 / (1 + decay_rate) * epoch_num: the parentheses close too early in learning_rate0 / "
            "(1 + decay_rate * epoch_num)",
        ),
        (
            "schedule_lr_decay",
            SCHEDULE,
            "return learning_rate0 / (1 + decay_rate * epoch_num / time_interval)",
            "epoch_num / time_interval is not floored: the course's rate drops in steps, learning_rate0 / "
            "(1 + decay_rate * np.floor(epoch_num / time_interval))",
        ),
    ],
    ids=["epoch-left-out", "times-rate-times-epoch", "over-rate-times-epoch", "parentheses-early", "not-floored"],
)
@pytest.mark.end_to_end
def test_a_wrong_learning_rate_decay_is_named_with_what_it_computes(tmp_path, function, old, new, hint):
    report = verified(
        learner(tmp_path, (old, new), extra=optimisers_text()),
        decay="inverse" if function == "update_lr" else "scheduled",
        decay_interval=2,
    )
    result = function_result(report, function)
    assert report.first_divergence.function == function
    assert result.hint == hint, (result.output, result.detail)  # was: "a term or a whole update is missing"
    lockstep = next(c for c in report.checks if c.name == "lockstep")
    assert lockstep.rows[("lr", 3)].hint == hint  # the network's rate row names it too, not "a term ... is missing"


@pytest.mark.end_to_end
def test_an_update_that_leaves_out_the_last_layer_names_the_same_layer_as_the_network(tmp_path):
    report = verified(
        learner(
            tmp_path, ("    for l in range(L):\n        parameters", "    for l in range(L - 1):\n        parameters")
        )
    )
    assert_fix(
        report,
        "update_parameters",
        "W3 (its step)",  # was W2: a two-layer unit check
        "layer 3 is not updated: the loop over the layers stops one short (the course's for l in range(L) "
        "updates W[l + 1] and b[l + 1], layers 1..L)",
    )
    lockstep = next(c for c in report.checks if c.name == "lockstep")
    assert [key for key, row in lockstep.rows.items() if not row.ok and not row.follows] == [("W", 3), ("b", 3)]


@pytest.mark.end_to_end
def test_an_update_that_returns_what_it_was_handed_is_told_so_not_a_loop_one_late(tmp_path):
    update = (
        "    parameters = {key: value.copy() for key, value in parameters.items()}\n",
        "    handed = parameters\n    parameters = {key: value.copy() for key, value in parameters.items()}\n",
    )
    returned = (
        "    return parameters\n\n\ndef initialize_parameters(",
        "    return handed\n\n\ndef initialize_parameters(",
    )
    assert_fix(
        verified(learner(tmp_path, update, returned)),
        "update_parameters",
        "W1 (its step)",
        "no parameter changed: it returns the parameters as it was handed them (it updates a copy it does not "
        "return, or a name it rebinds): return what it updated",  # was: "layer 1 is not updated: ... starts one late"
    )


@pytest.mark.end_to_end
@pytest.mark.parametrize(
    "slip, fix",
    [
        (  # each layer handed the next one's cache: relu_backward, right on its own, raises
            ('grads["dA" + str(l + 1)], caches[l], "relu"', 'grads["dA" + str(l + 1)], caches[l + 1], "relu"'),
            "fix `L_model_backward`: IndexError raised in relu_backward, which passes its own check: the slip is in "
            "what L_model_backward hands it (the dAL it starts from, the activation and the cache each layer gets)",
        ),
        (
            ('grads["dA" + str(l + 1)], caches[l], "relu"', 'grads["dA" + str(l)], caches[l], "relu"'),
            "fix `L_model_backward`: it raised KeyError at line 93",
        ),
        (
            ("    for l in range(1, L):\n        A, cache", "    for l in range(1, L + 1):\n        A, cache"),
            "fix `L_model_forward`: ValueError raised in linear_forward, which passes its own check: the slip is in "
            "what L_model_forward hands it (the activation each layer gets, the A_prev, W and b it hands each layer)",
        ),
        (  # a course loop is a composing function too: one that raises is the one to fix (was: no fix line)
            ("        AL, caches = L_model_forward(X, parameters)\n", "        AL, caches = None\n"),
            "fix `L_layer_model`: it raised TypeError at line 137",
        ),
        (
            ("        grads = L_model_backward(AL, Y, caches)\n", "        grads = None\n"),
            "fix `L_layer_model`: TypeError raised in update_parameters, which passes its own check: the slip is in "
            "what L_layer_model hands it (the values it passes from one step to the next)",
        ),
    ],
    ids=["next_cache", "dA_key", "forward_one_too_far", "loop_own_line", "loop_hands_none"],
)
def test_a_composing_function_that_raises_in_a_function_it_calls_is_the_one_to_fix(tmp_path, slip, fix):
    first = verified(learner(tmp_path, slip)).first_divergence
    assert first.fix is not None and first.fix.startswith(fix), first  # was: no fix line, a passing function's line
    assert first.function == fix.split("`")[1]


@pytest.mark.end_to_end
@pytest.mark.parametrize(
    "slip, fix",
    [
        (
            ('X, parameters["W1"], parameters["b1"], "relu")', 'X, parameters["W1"], parameters["b1"], "sigmoid")'),
            "it calls linear_activation_forward for layer 1 with 'sigmoid': the network's layer 1 is relu",
        ),
        (
            ('linear_activation_backward(dA1, cache1, "relu")', 'linear_activation_backward(dA1, cache1, "sigmoid")'),
            "it calls linear_activation_backward for layer 1 with 'sigmoid': the network's layer 1 is relu",
        ),
    ],
    ids=["forward", "backward"],
)
def test_a_loop_handing_a_layer_another_activation_is_told_which(tmp_path, slip, fix):
    first = verified(learner(tmp_path, slip), arch=(3, 4, 1)).first_divergence
    assert first.fix == f"fix `two_layer_model`: {fix}"  # was: its cost differs from its own functions' steps


# ---------------------------------------------------------------- the hint rules, on hand-built arrays


def test_activation_backward_rule():
    rng = np.random.default_rng(0)
    Z, dA = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    s = 1 / (1 + np.exp(-Z))
    assert (
        activation_backward_slip("sigmoid", dA * s, dA, Z, s, s * (1 - s))
        == "it returns dA * g(Z), not dA * g'(Z) = dA * s (1 - s)"
    )
    assert activation_backward_slip("sigmoid", s * (1 - s), dA, Z, s, s * (1 - s)).startswith(
        "it returns g'(Z) = s (1 - s) without dA"
    )
    assert activation_backward_slip("sigmoid", 2 * dA * s * (1 - s), dA, Z, s, s * (1 - s)) == ""  # fits neither


def test_db_rule():
    dZ = np.arange(15.0).reshape(3, 5)
    assert db_slip(dZ.sum(axis=1) / 5, dZ).startswith("db has shape (3,):")
    assert db_slip(dZ.sum(axis=0, keepdims=True) / 5, dZ).startswith("db is summed over axis 0 (the units)")
    assert db_slip(dZ.sum(axis=0), dZ).startswith("db is summed over axis 0")  # without its 1/m too
    assert db_slip(dZ.sum(axis=1) / 5 + 1, dZ) == ""


def test_decay_rule_fits_every_epoch_or_none():
    epochs = np.array([0, 1, 3, 2500])
    slips = decay_slips("update_lr", 0.2, 0.5, 1000)
    fitted = [hint for hint, rate in slips.items() if matches(0.2 * 0.5 * epochs, [rate(e) for e in epochs])]
    assert fitted == [
        "it computes learning_rate0 * decay_rate * epoch_num: the course divides, "
        "learning_rate0 / (1 + decay_rate * epoch_num)"
    ]
    course = 0.2 / (1 + 0.5 * epochs)
    assert not any(matches(course, [rate(e) for e in epochs]) for rate in slips.values())
    scheduled = decay_slips("schedule_lr_decay", 0.2, 0.5, 2)
    assert not any(
        matches(0.2 / (1 + 0.5 * np.floor(epochs / 2)), [rate(e) for e in epochs]) for rate in scheduled.values()
    )


def test_l2_rule_names_the_layer_left_out():
    rng = np.random.default_rng(1)
    params = {
        "W1": rng.standard_normal((3, 4)),
        "b1": np.zeros((3, 1)),
        "W2": rng.standard_normal((1, 3)),
        "b2": np.zeros((1, 1)),
    }
    right = 0.5 + 0.7 / 10 * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    without_W2 = 0.5 + 0.7 / 10 * np.sum(params["W1"] ** 2)
    assert (
        l2_slip("cost", 0, without_W2, right, L2(params, 0.7, 5))
        == "the penalty leaves out W2: the course's sums ||W[l]||^2 over every layer, l = 1..2"
    )


def test_skipped_layer_rule():
    zero, step = np.zeros((1, 3)), np.full((1, 3), 0.01)
    assert skipped_layer_slip("W3", zero, 3).startswith(
        "layer 3 is not updated: the loop over the layers stops one short"
    )
    assert skipped_layer_slip("b1", np.zeros((3, 1)), 3).startswith(
        "layer 1 is not updated: the loop over the layers starts one late"
    )
    assert skipped_layer_slip("W3", step, 3) == ""  # a step taken: another slip
    assert skipped_layer_slip("W2", zero, 3) == ""  # a middle layer is not what a loop's range misses


@pytest.mark.end_to_end
def test_gradients_stored_one_layer_off_are_said_with_the_layer_they_belong_to(tmp_path):
    path = learner(
        tmp_path,
        (
            'grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = dA_prev',
            'grads["dW" + str(l)], grads["db" + str(l + 1)] = dA_prev',
        ),
    )
    first = verified(path).first_divergence
    assert (first.stage, first.quantity) == ("backward", "L_model_backward")
    assert first.error == (
        "L_model_backward: dW1 should be an array of shape (4, 3), got an array of shape (4, 4): it "
        "has dW2's shape, and the gradients include dW0, which no layer has: each layer's gradient is "
        "stored under another layer's number (a layer index off by one)"
    )


def test_other_layers_rule():
    expected = {"dW1": (4, 3), "dW2": (4, 4), "dW3": (1, 4)}
    off = {"dW0": np.zeros((4, 3)), "dW1": np.zeros((4, 4)), "dW3": np.zeros((1, 4))}
    assert _other_layers("dW1", off["dW1"], off, expected).startswith(
        ": it has dW2's shape, and the gradients include dW0"
    )
    assert (
        _other_layers("dW1", off["dW1"], {k: v for k, v in off.items() if k != "dW0"}, expected) == ""
    )  # no stray key
    assert _other_layers("dW1", np.zeros((2, 2)), off, expected) == ""  # no layer's shape
