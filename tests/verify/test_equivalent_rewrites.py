"""Right code written another way than the course's passes: each case here is a rewrite a learner may make that
computes the same values (a list where the course builds a tuple, ...), and once failed."""

from __future__ import annotations

import json

import pytest
from conftest import COURSE, FAST, edited, run_cli
from test_course2_units import failures, results_of

pytestmark = pytest.mark.end_to_end


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
