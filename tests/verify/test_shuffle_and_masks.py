"""The mini-batch order and the dropout masks are each drawn in one place (verify/optimization.py)."""

import numpy as np

from verify.optimization import Optimization, course_permutation


def test_the_permutation_is_the_courses_random_mini_batches_order():
    np.random.seed(3)
    assert course_permutation(3, 10).tolist() == np.random.permutation(10).tolist()


def test_each_epoch_shuffles_with_seed_plus_epoch_plus_one():
    plan = Optimization("gd", 0.1, epochs=3, m=10, mini_batch_size=4, seed=7)
    rows = plan.epoch_rows(2)
    assert [r.tolist() for r in rows] == [course_permutation(10, 10)[k : k + 4].tolist() for k in (0, 4, 8)]


def test_a_steps_masks_are_drawn_once_and_keep_about_keep_prob():
    plan = Optimization("gd", 0.1, epochs=1, m=2000, keep_probs=(0.8, 1.0), hidden=(50, 3))
    first, again = plan.masks(4, 2000), plan.masks(4, 2000)
    assert again[1] is None and np.array_equal(first[0], again[0])  # the same step: the same masks, on both sides
    assert not np.array_equal(first[0], plan.masks(5, 2000)[0])  # another step: new ones
    assert abs(first[0].mean() - 0.8) < 0.01 and set(np.unique(first[0])) == {0.0, 1.0}
