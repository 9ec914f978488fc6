"""Adam's bias correction, written once (verify/judging/adam.py)."""

import pytest

from verify.judging.adam import bias_correction


@pytest.mark.parametrize(("beta", "t", "expected"), [(0.9, 1, 0.1), (0.9, 2, 0.19), (0.999, 3, 1 - 0.999**3)])
def test_the_correction_is_one_minus_beta_to_the_t(beta, t, expected):
    assert bias_correction(beta, t) == pytest.approx(expected, rel=1e-15)


def test_at_the_first_step_it_is_one_minus_beta_exactly():
    assert bias_correction(0.9, 1) == 1 - 0.9  # config's first-step bound reads it at t = 1
