"""verify/judging/compare.py on hand-built arrays: agreement within rtol x scale, overflow not comparable, shapes said as
shapes, a broken row frozen at its first break, and a check's row given the hint its numbers fit."""

import numpy as np
import pytest

from verify.judging.compare import OVERFLOW, CheckResult, Comparison, Stats, agreement, gradient_agreement

RTOL = 1e-7
B = np.array([[1.0, -2.0], [0.5, 4.0]])


def one(a, b, scale: float, rtol: float = RTOL) -> Stats:
    (stats,) = agreement([(a, b)], [scale], rtol)
    return stats


@pytest.mark.parametrize(("gap", "agrees"), [(0.9, True), (1.1, False)])
def test_a_pair_agrees_while_its_largest_gap_is_within_rtol_times_its_scale(gap, agrees):
    a = B.copy()
    a[1, 0] += gap * RTOL * 10.0  # one entry off, by a fraction of the tolerance rtol x scale
    stats = one(a, B, scale=10.0)
    assert stats.tolerance == pytest.approx(RTOL * 10.0)
    assert stats.max_abs == pytest.approx(gap * RTOL * 10.0)
    assert stats.agrees is agrees


def test_the_tolerance_is_relative_to_the_scale_never_an_absolute_floor():
    tiny = B * 1e-12  # gradients of 1e-12: judged as precisely as gradients of 1
    assert not one(tiny * (1 + 1e-5), tiny, scale=4e-12).agrees
    assert one(tiny * (1 + 1e-8), tiny, scale=4e-12).agrees


def test_a_pair_is_judged_alone_among_many():
    good, bad = (B, B), (B + 1.0, B)
    first, second = agreement([good, bad], [4.0, 4.0], RTOL)
    assert first.agrees and first.max_abs == 0.0
    assert not second.agrees and second.max_abs == 1.0


def test_infinite_on_both_sides_at_the_same_entries_is_not_comparable_not_a_failure():
    a, b = np.array([np.inf, 1.0]), np.array([np.inf, 1.0])
    stats = one(a, b, scale=1.0)
    assert stats.overflow and stats.agrees


def test_a_non_finite_value_facing_a_finite_one_is_a_difference_of_inf():
    stats = one(np.array([np.inf, 1.0]), np.array([3.0, 1.0]), scale=3.0)
    assert stats.max_abs == np.inf and not stats.overflow and not stats.agrees
    nan = one(np.array([np.nan, 1.0]), np.array([3.0, 1.0]), scale=3.0)  # a slip that divides 0 by 0 still fails
    assert not nan.agrees


def test_a_tolerance_that_overflowed_compares_nothing():
    stats = one(B + 1.0, B, scale=np.inf)
    assert stats.overflow and stats.agrees


def test_arrays_of_different_shapes_fail_with_both_shapes_and_no_difference():
    stats = one(np.ones((2, 3)), np.ones((3, 2)), scale=1.0)
    assert stats.shape == "shape (2, 3) vs torch (3, 2)"
    assert not stats.agrees


def test_a_tolerance_above_a_tenth_of_the_reference_leaves_the_row_unresolved():
    assert one(B, B, scale=4.0).resolved  # 4e-7 against a reference of size 4
    loose = one(B, B, scale=4.0, rtol=0.2)  # 0.8 against 4: a sign slip of a small entry would hide in it
    assert loose.agrees and not loose.resolved
    row = Comparison("gradcheck", "dW", 1)
    row.record(loose)
    assert row.ok and row.status == "unresolved"


def test_a_scale_per_entry_judges_each_entry_against_its_own_tolerance():
    a, b = np.array([1.0 + 1e-6, 1000.0 + 1e-6]), np.array([1.0, 1000.0])
    (stats,) = agreement([(a, b)], [np.array([1.0, 1000.0])], RTOL)
    assert not stats.agrees  # 1e-6 is over entry 0's 1e-7, though under entry 1's 1e-4
    assert stats.scale == 1.0  # the entry furthest past its tolerance


def test_a_broken_row_keeps_its_first_break_and_the_largest_gap_of_the_run():
    row = Comparison("training", "W", 1)
    row.record(one(B + 1e-3, B, 4.0), iteration=2)
    row.record(one(B + 1.0, B, 4.0), iteration=3)  # larger, but later
    assert not row.ok and row.iteration == 2 and row.max_abs == pytest.approx(1e-3)
    assert row.run_max_abs == pytest.approx(1.0)
    assert row.status == "FAIL"


def test_a_row_overflowed_at_every_point_says_so_and_shows_no_numbers():
    row = Comparison("training", "cost", 2)
    row.record(one(np.array([np.inf]), np.array([np.inf]), 1.0), iteration=0)
    assert row.ok and row.status == OVERFLOW and row.max_abs is None


def test_a_check_row_that_breaks_gets_its_entries_its_worst_entry_and_its_hint():
    backward = CheckResult("backward", "backward", RTOL)
    m = 8
    backward.compare([("dW", 1, m * B, B)], m, {("dW", 1): 4.0})  # a dW without its 1/m
    row = backward.rows[("dW", 1)]
    assert not row.ok and not backward.ok and backward.status == "FAIL"
    assert (row.mismatched, row.entries) == (4, 4)
    assert row.index == (1, 1) and (row.value, row.expected) == (32.0, 4.0)
    assert row.hint == "it is m = 8 times the expected value: a missing 1/m"


def test_gradient_checking_holds_the_relative_difference_to_rtol():
    grad = np.array([1.0, 2.0, 3.0])
    assert gradient_agreement(grad, grad * (1 + 1e-8), rtol=1e-7, floor=0.0).agrees
    assert not gradient_agreement(grad, -grad, rtol=1e-7, floor=0.0).agrees
    assert gradient_agreement(grad, np.array([np.inf, 0.0, 0.0]), 1e-7, 0.0).overflow  # no oracle: not compared
