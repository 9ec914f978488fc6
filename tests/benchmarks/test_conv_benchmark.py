"""The conv entry of the benchmark: it checks that both sides agree before timing, and reports what it timed.

No timing is asserted: a busy machine may make any figure large, never negative or undefined.
"""

import math
import re

import numpy as np
import pytest

import scratch.conv as scratch_conv
from benchmarks import __main__ as bench
from benchmarks import conv, convnet, report, steps

TINY = (
    conv.Case(m=2, n_H_prev=6, n_C_prev=3, n_C=4, f=3, stride=1, pad=1, pool_f=2, pool_stride=2),
    conv.Case(m=2, n_H_prev=7, n_C_prev=2, n_C=3, f=3, stride=2, pad=1, pool_f=3, pool_stride=2),
)
PLAN = steps.Plan(rounds=2, batch_s=0.001, settle_s=0.0, matmul_n=32)


def positive(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_quick_conv_entry_runs_and_writes_its_section(monkeypatch, tmp_path):
    monkeypatch.setattr(conv, "CASES", TINY)
    monkeypatch.setattr(convnet, "NETWORKS", ())  # the network steps' rows: test_conv_network_benchmark.py
    monkeypatch.setattr(steps, "QUICK", PLAN)
    out = tmp_path / "RESULTS.md"
    assert bench.main(["--quick", "--only", "conv", "--out", str(out)]) == 0
    text = out.read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| \d+x\d+x\d+,", line)]
    assert len(rows) == 2 * 2 * 3  # two cases, two dtypes, conv and two pools
    assert "Step time" not in text and "Targets" not in text  # --only conv measured nothing else


@pytest.mark.parametrize("op", conv.OPS)
def test_a_cell_agrees_then_times_both_sides(op):
    row = conv.time_op(TINY[1], op, "float32", PLAN)
    for key in ("scratch_s", "torch_s", "ratio", *(("scratch_gflops", "torch_gflops", "efficiency") * (op == "conv"))):
        assert positive(row[key]), key
    if op == "conv":  # 2 FLOPs a multiply-add: 2 x 4 outputs, 3 filters of 3 x 3 x 2, forward, dA_prev and dW
        assert row["flops"] == 2 * 3 * (2 * 4 * 4 * 3) * (3 * 3 * 2)


@pytest.mark.parametrize("dtype", steps.DTYPES)
def test_the_two_sides_compute_the_same_thing(dtype):
    x = conv.inputs(TINY[0], dtype)
    for op in conv.OPS:
        scratch_step, torch_step, torch_forward = conv.sides(op, x)
        out, ref = scratch_step(), torch_step()
        assert set(ref) <= set(out)
        for name, expected in ref.items():
            assert out[name].dtype == expected.dtype == np.dtype(dtype)
            np.testing.assert_allclose(out[name], expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(out["Z" if op == "conv" else "A"], torch_forward(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(("op", "name"), [("conv", "dW"), ("conv", "Z"), ("max pool", "dA_prev")])
def test_a_side_that_computes_something_else_is_not_timed(monkeypatch, op, name):
    forward, backward = scratch_conv.conv_forward, scratch_conv.conv_backward
    pool_backward = scratch_conv.pool_backward
    slip = {  # each a small real slip: a dW 0.1% too large, a bias forgotten, a max-pool gradient halved
        "dW": ("conv_backward", lambda dZ, cache: (lambda g: (g[0], g[1] * 1.001, g[2]))(backward(dZ, cache))),
        "Z": ("conv_forward", lambda A, W, b, hp: forward(A, W, 0 * b, hp)),
        "dA_prev": ("pool_backward", lambda dA, cache, mode: pool_backward(dA / 2, cache, mode)),
    }[name]
    monkeypatch.setattr(scratch_conv, *slip)
    with pytest.raises(AssertionError, match=f"scratch's {name} differs"):
        conv.time_op(TINY[0], op, "float64", PLAN)


def test_the_conv_summary_counts_where_scratch_is_slower():
    rows = [
        {"op": "conv", "ratio": 2.0, "efficiency": 0.1, "torch_efficiency": 0.3},
        {"op": "conv", "ratio": 0.5, "efficiency": 0.2, "torch_efficiency": 0.1},
        {"op": "max pool", "ratio": 1.5},
    ]
    s = conv.summary(rows)
    assert (s["conv"]["low"], s["conv"]["high"], s["conv"]["slower"]) == (0.5, 2.0, 1)
    assert (s["pool"]["slower"], s["conv_cells"], s["pool_cells"]) == (1, 2, 1)
    assert "0.500 to 2.000 times" in conv.summary_lines(s)[0]


def test_the_conv_section_states_no_number_the_run_did_not_give():
    from test_benchmarks import FAKE, NUMBER, comes_from, data_numbers

    row = {"case": TINY[0].name(), **vars(TINY[0]), "dtype": "float64", "rounds": 7, "ratio": 1.25}
    row.update(scratch_s=0.0123, torch_s=0.00984, flops=3.5e8, scratch_gflops=28.5, torch_gflops=35.6)
    row.update(matmul_gflops=98.7, efficiency=0.289, torch_efficiency=0.361)
    pool = {**row, "op": "max pool", "ratio": 0.81, "scratch_s": 0.00161, "torch_s": 0.00199}
    results = report.summarise({**FAKE, "conv": [{**row, "op": "conv"}, pool]})
    text = report.render(results)
    assert "scratch takes 1.250 times torch_ref's (slower on 1 of 1 cells)" in text
    assert "| 12.300 | 9.840 | **1.250** | 28.5 | 35.6 | 98.7 | 28.9% | 36.1% |" in text
    numbers = data_numbers(results)
    assert [t for t in NUMBER.findall(text) if not comes_from(t, numbers)] == []
