"""verify/judging/hints.py, rule by rule, on hand-built arrays: each hint is given exactly when the numbers fit its slip."""

import numpy as np
import pytest

from verify.impl.deep import _layer_holding
from verify.judging.hints import (
    L2,
    activation_backward_slip,
    bce_slip,
    cache_order_slip,
    db_slip,
    diagnose,
    divergence_cure,
    l2_slip,
    loop_slip,
    skipped_layer_slip,
)

B = np.array([[0.5, -1.0, 2.0], [0.25, 3.0, -0.75], [1.5, -2.5, 0.125]])  # a torch value: square, not symmetric
M = 5


# ---------------------------------------------------------------- diagnose: a value against torch's, in ratios


def test_m_times_the_expected_value_is_a_missing_1_over_m():
    assert diagnose(M * B, B, M) == "it is m = 5 times the expected value: a missing 1/m"


def test_1_over_m_of_the_expected_value_is_an_extra_1_over_m():
    assert diagnose(B / M, B, M) == "it is 1/m = 1/5 of the expected value: an extra 1/m"


def test_the_transposed_value_is_a_missing_transpose():
    assert diagnose(B.T, B, M) == "it equals the transpose of the expected value: a missing or extra transpose"


def test_the_transposed_shape_is_said_as_such_and_any_other_shape_as_both_shapes():
    assert diagnose(np.ones((3, 2)), np.ones((2, 3)), M) == "the shape is transposed"
    assert diagnose(np.ones((3, 1)), np.ones((2, 3)), M) == "shape (3, 1) vs torch (2, 3)"


def test_the_opposite_value_is_a_sign_slip_even_near_overflow():
    assert diagnose(-B, B, M) == "it has the opposite sign: a sign slip"
    assert diagnose(-1e307 * B, 1e307 * B, M) == "it has the opposite sign: a sign slip"  # ratios, not products


def test_zero_where_torch_is_not_is_a_missing_term():
    assert (
        diagnose(np.zeros_like(B), B, M)
        == "it is 0 where the expected value is not: a term or a whole update is missing"
    )


@pytest.mark.parametrize(
    ("factor", "text", "k"), [(2, "2 times", 2), (0.5, "1/2 of", 2), (-3, "-3 times", 3), (0.1, "1/10 of", 10)]
)
def test_a_lost_or_extra_small_factor_is_named(factor, text, k):
    assert diagnose(factor * B, B, M) == f"it is {text} the expected value: a lost or extra factor {k}"


def test_m_is_not_taken_for_1_over_m_where_m_is_1():
    assert diagnose(2 * B, B, 1) == "it is 2 times the expected value: a lost or extra factor 2"
    assert diagnose(B, B, 1) == ""


def test_no_hint_where_no_hypothesis_explains_the_difference():
    noise = np.array([[0.0, 0.1, 0.0], [0.0, 0.0, -0.2], [0.3, 0.0, 0.0]])
    assert diagnose(B + noise, B, M) == ""  # not a multiple of B, not its transpose
    assert diagnose(M * B + noise, B, M) == ""  # m times, but the rest is not rounding
    assert diagnose(B * (1 + 1e-9), B, M) == ""  # rounding: no slip
    assert diagnose(np.full_like(B, np.nan), B, M) == ""  # a nan fits nothing (a function's check names it)
    assert diagnose(B, np.zeros_like(B), M) == ""  # against 0 every ratio is meaningless


# ---------------------------------------------------------------- the slips of one course function


DZ = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, -0.5, 1.5, -1.5], [2.0, 0.0, -2.0, 1.0]])  # (n[l], m) = (3, 4)


def test_db_slip_names_a_db_without_keepdims():
    value = np.sum(DZ, axis=1) / 4  # (3,): the right numbers, the rank-1 shape
    assert db_slip(value, DZ) == "db has shape (3,): np.sum(dZ, axis=1, keepdims=True) keeps it (n[l], 1)"


@pytest.mark.parametrize("k", [4, 1])
def test_db_slip_names_a_db_summed_over_the_units(k):
    value = np.sum(DZ, axis=0, keepdims=True) / k  # (1, m): over the wrong axis, with or without its 1/m
    assert db_slip(value, DZ) == (
        "db is summed over axis 0 (the units) instead of axis 1 (the examples): np.sum(dZ, axis=1, keepdims=True)"
    )


def test_db_slip_says_nothing_of_a_right_db_or_an_unrelated_one():
    assert db_slip(np.sum(DZ, axis=1, keepdims=True) / 4, DZ) == ""
    assert db_slip(np.ones(3), DZ) == ""  # rank 1, but not the sum over the examples


Z = np.array([[-2.0, -0.5, 0.5, 2.0]])
S = 1 / (1 + np.exp(-Z))
DA = np.array([[0.3, -1.2, 0.7, 2.0]])


def test_activation_backward_slip_names_g_used_for_g_prime():
    hint = activation_backward_slip("sigmoid", DA * S, DA, Z, S, S * (1 - S))
    assert hint == "it returns dA * g(Z), not dA * g'(Z) = dA * s (1 - s)"


def test_activation_backward_slip_names_g_prime_returned_without_da():
    hint = activation_backward_slip("tanh", S * (1 - S), DA, Z, S, S * (1 - S))  # g' alone, whatever its name
    assert hint == "it returns g'(Z) = (1 - tanh(Z)^2) without dA: dZ = dA * g'(Z)"


def test_activation_backward_slip_says_nothing_of_the_right_dz():
    assert activation_backward_slip("sigmoid", DA * S * (1 - S), DA, Z, S, S * (1 - S)) == ""
    assert activation_backward_slip("sigmoid", DA * S * (1 - S) * 1.01, DA, Z, S, S * (1 - S)) == ""


def test_bce_slip_names_the_term_left_out_of_the_cost():
    Y, A = np.array([[1.0, 0.0, 1.0, 0.0]]), np.array([[0.9, 0.2, 0.6, 0.4]])
    log_A, log_1_A = np.log(A), np.log(1 - A)
    right = -np.sum(Y * log_A + (1 - Y) * log_1_A) / 4
    assert bce_slip(-np.sum(Y * log_A) / 4, log_A, log_1_A, Y) == (
        "it equals -(1/m) sum Y log(AL): the (1-Y) log(1-AL) term is missing"
    )
    assert bce_slip(-right, log_A, log_1_A, Y).endswith("the minus sign is missing")
    assert bce_slip(4 * right, log_A, log_1_A, Y).endswith("the 1/m is missing")
    assert bce_slip(right, log_A, log_1_A, Y) == ""
    # every label 0: a cost of -0.0 (the Y log(AL) terms, all 0) is what two slips (and more) would give; none named
    zeros = np.zeros_like(Y)
    assert bce_slip(-0.0, log_A, log_1_A, zeros) == ""


def test_l2_slip_names_a_dw_without_its_l2_term_and_only_with_l2_on():
    params = {"W1": np.array([[1.0, -2.0], [0.5, 3.0]]), "b1": np.zeros((2, 1))}
    expected = np.array([[0.1, 0.2], [0.3, 0.4]])
    lacking = expected - 0.7 / 10 * params["W1"]
    assert l2_slip("dW", 1, lacking, expected, L2(params, 0.7, 10)) == "dW lacks its L2 term (lambd / m) W"
    doubled = expected + 0.7 / 10 * params["W1"]
    assert l2_slip("dW", 1, doubled, expected, L2(params, 0.7, 10)) == (
        "dW's L2 term (lambd / m) W is added twice (or its lambd is divided by 5, not by the m = 10 examples)"
    )
    assert l2_slip("dW", 1, lacking, expected, L2(params, 0.0, 10)) == ""


def test_l2_slip_names_a_dw_whose_term_divides_by_another_m():
    """lambd / 4 W where m = 10: an m set outside the function, or written in (was: no hint; at m / 2, "added
    twice" alone)."""
    params = {"W1": np.array([[1.0, -2.0], [0.5, 3.0]]), "b1": np.zeros((2, 1))}
    expected = np.array([[0.1, 0.2], [0.3, 0.4]])
    other_m = expected - 0.7 / 10 * params["W1"] + 0.7 / 4 * params["W1"]
    assert l2_slip("dW", 1, other_m, expected, L2(params, 0.7, 10)) == (
        "dW's L2 term divides lambd by 4, not by the m = 10 examples: (lambd / m) W with m = A_prev.shape[1], not an "
        "m set elsewhere"
    )


# ---------------------------------------------------------------- the network's and the loop's slips


@pytest.mark.parametrize("held", [[3, 2, 1], [2, 1, 3]])
def test_caches_in_reverse_order_are_named(held):
    assert cache_order_slip(held) == "caches are in reverse order: append, not insert(0, ...)"


@pytest.mark.parametrize("held", [[1, 2, 3], [2, 3, 1], [1]])
def test_caches_in_order_or_in_another_order_get_no_hint(held):
    assert cache_order_slip(held) == ""


def test_a_cache_is_told_by_its_W_entries_only_where_another_layer_has_that_shape():
    rng = np.random.default_rng(0)
    shapes = {"W1": (4, 3), "W2": (4, 4), "W3": (4, 4), "W4": (1, 4)}
    params = {k: rng.standard_normal(shape) for k, shape in shapes.items()} | {
        f"b{l}": np.zeros((4, 1)) for l in range(1, 5)
    }

    def cache(W):
        return ((None, W, None), None)

    assert _layer_holding(cache(params["W3"].copy()), params, 2) == 3  # W2 and W3 alike in shape: the entries tell
    assert _layer_holding(cache(params["W2"].copy()), params, 2) == 2
    assert _layer_holding(cache(rng.standard_normal((4, 4))), params, 2) is None  # neither layer's
    assert _layer_holding(cache(params["W4"].copy()), params, 1) == 4  # another layer's shape
    assert _layer_holding(cache(rng.standard_normal((4, 3))), params, 1) == 1  # the only layer of its shape


def test_a_zero_step_of_the_first_or_last_layer_is_a_loop_one_short():
    assert skipped_layer_slip("W3", np.zeros((1, 4)), 3).startswith(
        "layer 3 is not updated: the loop over the layers stops one short"
    )
    assert skipped_layer_slip("b1", np.zeros((4, 1)), 3).startswith(
        "layer 1 is not updated: the loop over the layers starts one late"
    )
    assert skipped_layer_slip("W2", np.zeros((4, 4)), 3) == ""  # a middle layer: not a loop's bound
    assert skipped_layer_slip("W3", np.ones((1, 4)), 3) == ""  # it moved


def test_loop_slip_names_adam_from_t_0_and_an_unassigned_update():
    assert loop_slip({"adam_t": 0}, 0.01).startswith("t starts at 0: the bias correction divides by 1 - beta^0 = 0")
    P, G = {"W1": np.ones((2, 2))}, {"dW1": np.full((2, 2), 0.5)}
    first = (P, G, {"W1": P["W1"] - 0.01 * G["dW1"]})
    assert loop_slip({"updates": 3, "fixed": True, "first": first}, 0.01).startswith("its parameters never change")
    assert loop_slip({"updates": 3, "fixed": False, "first": first}, 0.01) == ""  # assigned, at the run's rate
    assert loop_slip({"updates": 3, "fixed": False, "first": first}, 0.1) == (
        "its steps are those of learning rate 0.01, not the --lr 0.1 it was given"
    )


# ---------------------------------------------------------------- what makes a diverged torch run train


def test_divergence_cure_blames_the_learning_rate_without_l2():
    assert divergence_cure(learning_rate=5.0, lambd=0.0, m=10) == "a smaller --lr trains"


def test_divergence_cure_blames_lambd_once_its_term_alone_blows_w_up():
    # each step multiplies W by 1 - lr lambd / m = 1 - 1 * 30 / 10 = -2: |-2| > 1, at lambd >= 2 m / lr = 20
    assert divergence_cure(1.0, 30.0, 10) == (
        "a smaller --lambd trains (its L2 term alone makes each step multiply W by about -2; it needs lambd below "
        "20 at --lr 1 and m = 10)"
    )
    assert divergence_cure(1.0, 19.0, 10) == "a smaller --lr trains"  # 1 - 1.9 = -0.9: the term alone shrinks W


def test_divergence_cure_allows_momentum_its_wider_limit_and_adam_none():
    # momentum: lr lambd / m < 2 (1 + beta) / (1 - beta) = 38 at beta 0.9
    assert divergence_cure(1.0, 300.0, 10, "momentum") == "a smaller --lr trains"  # 30 < 38
    assert divergence_cure(1.0, 400.0, 10, "momentum").endswith("it needs lambd below 380 at --lr 1 and m = 10)")
    assert divergence_cure(1.0, 400.0, 10, "adam") == "a smaller --lr trains"  # Adam's step is bounded by lr
