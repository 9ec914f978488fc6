"""The learner entry of the benchmark: its sentences and its target come from its numbers, and a small real run
(a few iterations) times both sides of the course's image classifier. No timing is asserted."""

import math

import numpy as np
import pytest

from benchmarks import learner, report

RUN = {
    "arch": "12288,20,7,5,1",
    "m": 209,
    "iterations": 2500,
    "train_before_s": 29.0,
    "train_after_s": 31.0,
    "train_s": 30.0,
    "verify_s": 90.0,
    "ratio": 3.0,
    "torch_step_ms": 9.0,
    "floor": 2.5,
    "together_s": 75.0,
    "together": 2.5,
    "isolated_iterations": 100,
    "isolated_s": 12.0,
    "in_process_s": 4.0,
}


@pytest.mark.parametrize("verdict, ratio, met", [("pass", 3.0, False), ("pass", 2.4, True), ("fail", 2.4, False)])
def test_the_target_is_met_by_a_passing_run_within_the_limit(verdict, ratio, met):
    r = report.summarise({"learner": {**RUN, "ratio": ratio, "verdict": verdict}})
    (target,) = [t for t in r["targets"] if t["name"].startswith("a learner's run")]
    assert (target["value"], target["limit"], target["met"]) == (ratio, learner.LIMIT, met)


def test_the_section_is_computed_from_the_numbers():
    text = "\n".join(learner.lines({**RUN, "verdict": "pass"}))
    assert (
        "its own `L_layer_model` 30.00 s (the mean of 29.00 s before the verification and 31.00 s after it)" in text
        and "(default checks: TensorBoard, the gradient check) 90.00 s" in text
    )
    assert "3.00 times the training it checks (verdict: pass)" in text
    assert "takes 9.00 ms here" in text and "against 12.00 ms of the implementation's own iteration" in text
    assert "the floor is 2.50x on this machine, the steps timed apart" in text
    assert "they take 75.00 s, 2.50x; the verifier's own work takes the rest, 6.00 ms per iteration" in text
    assert "for 100 iterations, the verification takes 12.00 s against 4.00 s in this process, 3.00x" in text


@pytest.mark.end_to_end
def test_a_small_real_run_times_the_training_and_its_verification():
    r = learner.run_learner(iterations=3, isolated=2)
    assert r["verdict"] == "pass" and r["iterations"] == 3
    assert math.isfinite(r["ratio"]) and r["ratio"] == r["verify_s"] / r["train_s"] > 0
    assert (
        r["train_s"] == (r["train_before_s"] + r["train_after_s"]) / 2
        and min(r["train_before_s"], r["train_after_s"]) > 0
    )
    # the floor: the implementation's own training plus two torch steps per iteration
    assert r["floor"] == pytest.approx((r["train_s"] + 2 * 3 * r["torch_step_ms"] / 1e3) / r["train_s"])
    assert r["torch_step_ms"] > 0
    assert r["together"] == r["together_s"] / r["train_s"] > 0  # the three steps run together, no checks
    assert r["isolated_iterations"] == 2 and min(r["isolated_s"], r["in_process_s"]) > 0


def test_the_course_step_trains_as_the_implementations_own_loop():
    from verify.impl import load_module

    module = load_module(str(learner.IMPLEMENTATION))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 30)), (rng.random((1, 30)) > 0.5).astype(float)
    start = module.initialize_parameters_deep([5, 4, 1])
    step = learner.CourseStep(module, X, Y, start, 0.1)
    for _ in range(3):
        step()
    trained, _ = module.L_layer_model(X, Y, [5, 4, 1], 0.1, 3)
    for key, value in trained.items():
        np.testing.assert_array_equal(step.params[key], value, err_msg=key)
