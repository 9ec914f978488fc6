"""The grading entry of the benchmark: its sentences are computed from its numbers, and a small real run (two
submissions, one repeat) measures every way of grading. No timing is asserted."""

import math

import pytest

from benchmarks import grading


def test_the_section_is_computed_from_the_numbers():
    r = {
        "submissions": 8,
        "cores": 2,
        "options": "--arch 3,4,4,1 --iterations 200",
        "rates": {"local, 1 worker": 30.0, "local, 2 workers": 50.0, "LocalCluster, 2 workers": 40.0},
        "alone_s": 2.5,
        "in_process_s": 0.5,
        "isolation_s": 2.0,
        "projections": {1_000: {"hours_here": 1000 / 50 / 60, "per_core_rate": 25.0}, 100_000: {}},
    }
    r["projections"][100_000] = {"hours_here": 100_000 / 50 / 60, "per_core_rate": 25.0}
    text = "\n".join(grading.lines(r))
    assert "| local, 2 workers | 50.0 |" in text and "2.00 s a submission" in text
    assert "- 1,000 submissions: 0.3 h on this machine" in text and "within an hour, 1 core like these" in text
    assert "- 100,000 submissions: 33.3 h on this machine" in text and "within an hour, 67 cores like these" in text


@pytest.mark.end_to_end
@pytest.mark.filterwarnings("ignore")  # distributed's own, as its LocalCluster shuts down
def test_a_small_real_run_measures_every_way_of_grading():
    r = grading.run_grading(n=2, repeats=1, log=lambda line: None)
    assert set(r["rates"]) == {"local, 1 worker", f"local, {r['cores']} workers", f"LocalCluster, {r['cores']} workers"}
    assert all(math.isfinite(rate) and rate > 0 for rate in r["rates"].values())
    assert r["alone_s"] > 0 and r["in_process_s"] > 0 and r["isolation_s"] == r["alone_s"] - r["in_process_s"]
