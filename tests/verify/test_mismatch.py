"""Every failed comparison says how many entries differ and the worst one, in one wording."""

import numpy as np

from verify.judging.compare import Comparison, mismatch
from verify.telling.report import _detail


def test_the_message_names_the_count_the_worst_entry_and_both_values():
    text = mismatch(3, 16, (2, 0), 0.51, 0.026)
    assert text == "3 of 16 entries differ, worst at (2, 0): 0.51 vs torch 0.026"


def test_a_scalar_has_no_index_and_an_unknown_count_is_left_out():
    assert mismatch(None, None, (), float("-inf"), 2.0, "its own steps") == "worst: -inf vs its own steps 2"


def test_the_report_renders_a_rows_mismatch_with_the_same_builder():
    row = Comparison("backward", "dW", 1)
    row.explain(np.array([[1.0, 4.0]]), np.array([[1.0, 2.0]]), tolerance=1e-7)
    assert _detail(row) == mismatch(1, 2, (0, 1), 4.0, 2.0) == "1 of 2 entries differ, worst at (0, 1): 4 vs torch 2"
