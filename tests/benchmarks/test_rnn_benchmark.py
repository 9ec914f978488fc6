"""The recurrent entry of the benchmark: it checks that both sides agree before timing, and reports what it timed.

No timing is asserted: a busy machine may make any figure large, never negative or undefined.
"""

import math
import re

import numpy as np
import pytest

import scratch.rnn as scratch_rnn
from benchmarks import __main__ as bench
from benchmarks import report, rnn, steps

TINY = (rnn.Case(n_x=3, n_a=5, m=4, T_x=6), rnn.Case(n_x=2, n_a=3, m=2, T_x=4))
PLAN = steps.Plan(rounds=2, batch_s=0.001, settle_s=0.0, matmul_n=32)


def positive(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_quick_rnn_entry_runs_and_writes_its_section(monkeypatch, tmp_path):
    monkeypatch.setattr(rnn, "CASES", TINY)
    monkeypatch.setattr(steps, "QUICK", PLAN)
    out = tmp_path / "RESULTS.md"
    assert bench.main(["--quick", "--only", "rnn", "--out", str(out)]) == 0
    text = out.read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ in, \d+ units, \d+ steps \|", line)]
    assert len(rows) == 2 * 2 * 2  # two cases, two dtypes, two cells
    assert "## Recurrent layers" in text
    assert "Step time" not in text and "Targets" not in text and "Convolution" not in text  # --only rnn


def test_a_run_of_one_part_prints_its_results_and_leaves_the_full_runs_file(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(rnn, "CASES", TINY[:1])
    monkeypatch.setattr(steps, "QUICK", PLAN)
    committed = tmp_path / "RESULTS.md"
    committed.write_text("the last full run\n")
    monkeypatch.setattr(bench, "DEFAULT_OUT", str(committed))
    assert bench.main(["--quick", "--only", "rnn"]) == 0
    assert "## Recurrent layers" in capsys.readouterr().out
    assert committed.read_text() == "the last full run\n"


@pytest.mark.parametrize("cell", rnn.CELLS)
def test_a_cell_agrees_then_times_both_sides(cell):
    row = rnn.time_cell(TINY[1], cell, "float32", PLAN)
    for key in ("scratch_s", "torch_s", "ratio", "scratch_gflops", "torch_gflops", "matmul_gflops", "efficiency"):
        assert positive(row[key]), key
    # 2 FLOPs a multiply-add, 3 units by 3 + 2 inputs by 2 examples a gate, 4 steps, forward and twice backward
    assert row["flops"] == 2 * 3 * {"lstm": 4, "rnn": 1}[cell] * (3 * 5 * 2) * 4


@pytest.mark.parametrize("dtype", steps.DTYPES)
@pytest.mark.parametrize("cell", rnn.CELLS)
def test_the_two_sides_compute_the_same_thing(cell, dtype):
    scratch_step, torch_step, torch_forward = rnn.sides(cell, rnn.inputs(TINY[0], cell, dtype))
    out, ref = scratch_step(), {**torch_forward(), **torch_step()}
    grads = {"lstm": [f"d{p}{g}" for g in "fico" for p in "Wb"], "rnn": ["dWax", "dWaa", "dba"]}[cell]
    assert set(ref) == {"a", "dx", "da0", *grads, *(["c"] * (cell == "lstm"))}
    for name, expected in ref.items():
        assert out[name].dtype == expected.dtype == np.dtype(dtype)
        np.testing.assert_allclose(out[name], expected, rtol=1e-4, atol=1e-5)


def _without_dc_carry(cell_backward):
    """lstm_cell_backward as if lstm_backward dropped the dc_prev it carries back from step t + 1."""
    return lambda da_next, dc_next, cache: cell_backward(da_next, 0 * dc_next, cache)


@pytest.mark.parametrize(
    ("cell", "function", "name"),
    [("lstm", "lstm_cell_backward", "dx"), ("rnn", "rnn_cell_forward", "a"), ("rnn", "rnn_backward", "dWaa")],
)
def test_a_side_that_computes_something_else_is_not_timed(monkeypatch, cell, function, name):
    original = getattr(scratch_rnn, function)
    slip = {  # each a real slip: the LSTM's dc carry dropped, a bias forgotten, a dWaa 0.1% too large
        "lstm_cell_backward": _without_dc_carry(original),
        "rnn_cell_forward": lambda xt, a_prev, P: original(xt, a_prev, {**P, "ba": 0 * P["ba"]}),
        "rnn_backward": lambda da, caches: (lambda g: {**g, "dWaa": g["dWaa"] * 1.001})(original(da, caches)),
    }[function]
    monkeypatch.setattr(scratch_rnn, function, slip)
    with pytest.raises(AssertionError, match=f"scratch's {name} differs"):
        rnn.time_cell(TINY[0], cell, "float64", PLAN)


def test_without_its_dc_carry_only_the_lstm_backward_is_wrong(monkeypatch):
    """The dc slip above is caught by the check, not by anything else: the forward still agrees, and the last step
    (which has no dc to carry) still gives the same dx."""
    x = rnn.inputs(TINY[0], "lstm", "float64")
    monkeypatch.setattr(scratch_rnn, "lstm_cell_backward", _without_dc_carry(scratch_rnn.lstm_cell_backward))
    scratch_step, torch_step, torch_forward = rnn.sides("lstm", x)
    out, forward, ref = scratch_step(), torch_forward(), torch_step()
    rnn.assert_same("lstm", out, forward, "float64")
    np.testing.assert_allclose(out["dx"][:, :, -1], ref["dx"][:, :, -1], rtol=1e-12, atol=1e-14)
    assert not np.allclose(out["dx"][:, :, 0], ref["dx"][:, :, 0], rtol=1e-3)


def test_a_float32_step_that_returns_float64_is_caught():
    x = rnn.inputs(TINY[1], "rnn", "float32")
    scratch_step, torch_step, _ = rnn.sides("rnn", x)
    out = {k: v.astype(np.float64) for k, v in scratch_step().items()}
    with pytest.raises(AssertionError, match="scratch's dx is"):
        rnn.assert_same("rnn", out, torch_step(), "float32")


def test_the_rnn_summary_counts_where_scratch_is_slower():
    rows = [
        {"cell": "lstm", "ratio": 2.0, "efficiency": 0.1, "torch_efficiency": 0.3},
        {"cell": "lstm", "ratio": 0.5, "efficiency": 0.2, "torch_efficiency": 0.1},
        {"cell": "lstm", "ratio": 1.0, "efficiency": 0.15, "torch_efficiency": 0.2},  # as fast: not slower
        {"cell": "rnn", "ratio": 1.5, "efficiency": 0.05, "torch_efficiency": 0.02},
    ]
    s = rnn.summary(rows)
    assert (s["lstm"]["ratio"]["low"], s["lstm"]["ratio"]["high"], s["lstm"]["ratio"]["slower"]) == (0.5, 2.0, 1)
    assert (s["rnn"]["ratio"]["slower"], s["lstm"]["cells"], s["rnn"]["cells"]) == (1, 3, 1)
    assert (s["lstm"]["torch_efficiency"]["low"], s["lstm"]["torch_efficiency"]["high"]) == (0.1, 0.3)
    lines = rnn.summary_lines(s)
    assert lines[0].startswith("- An LSTM layer's step") and "0.500 to 2.000 times" in lines[0]
    assert lines[0].endswith("; a basic RNN layer's 1.500 times (slower on 1 of 1).")
    assert "LSTM runs at 10% to 20% of the GFLOP/s" in lines[1] and "torch_ref's at 10% to 30%;" in lines[1]
    assert lines[1].endswith("; scratch's basic RNN at 5%, torch_ref's at 2%.")
    assert rnn.summary([]) == {} and rnn.summary_lines({}) == []
    alone = rnn.summary_lines(rnn.summary(rows[-1:]))  # a basic RNN alone leads its sentence
    assert alone[0].startswith("- A basic RNN layer's step over a sequence") and ";" not in alone[0]


def test_the_rnn_section_states_no_number_the_run_did_not_give():
    from test_benchmarks import FAKE, NUMBER, comes_from, data_numbers

    row = {"case": TINY[0].name(), **vars(TINY[0]), "dtype": "float64", "rounds": 7, "ratio": 1.25}
    row.update(scratch_s=0.0123, torch_s=0.00984, flops=3.5e8, scratch_gflops=28.5, torch_gflops=35.6)
    row.update(matmul_gflops=98.7, efficiency=0.289, torch_efficiency=0.361)
    basic = {**row, "cell": "rnn", "ratio": 0.81, "scratch_s": 0.00161, "torch_s": 0.00199, "efficiency": 0.05}
    results = report.summarise({**FAKE, "rnn": [{**row, "cell": "lstm"}, basic]})
    text = report.render(results)
    assert "of scratch takes 1.250 times torch_ref's (slower on 1 of 1 cells); a basic RNN layer's 0.810 times" in text
    assert "| 3 in, 5 units, 6 steps | 4 | LSTM | float64 | 12.300 | 9.840 | **1.250** | 28.5 | 35.6 | 98.7 |" in text
    assert "| 28.9% | 36.1% |" in text and "| 5.0% | 36.1% |" in text
    numbers = data_numbers(results)
    assert [t for t in NUMBER.findall(text) if not comes_from(t, numbers)] == []
