"""The conv network entry of the benchmark: both sides' steps agree before timing, the split of a step into the
convolution, pooling and the rest measures what it names, and the report says only what the rows hold.

No timing is asserted beyond what holds on any machine: a time is positive, a part is less than its whole.
"""

import math
import re
import time

import numpy as np
import pytest

import scratch
from benchmarks import __main__ as bench
from benchmarks import conv, conv_share, convnet, report, steps
from verify.impl.layered import LayeredAPI

TINY = (
    convnet.Entry("6x6x2,conv3f3p1,max2,flatten,4,1", 8),
    convnet.Entry("7x7x1,conv2f3s2p1,avg2s1,flatten,3", 6, "softmax"),
)
PLAN = steps.Plan(rounds=2, batch_s=0.001, settle_s=0.0, matmul_n=32)


def positive(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def sides(entry: convnet.Entry, dtype: str):
    config = entry.config(dtype)
    X, Y, params = steps.data(config)
    return convnet.ScratchNetStep(config, X, Y, params), convnet.TorchNetStep(config, X, Y, params)


def test_the_networks_are_the_verifiers():
    config = TINY[0].config("float32")
    assert config.layers == ("conv3f3s1p1@6x6x2", "max2s2@6x6x3", "dense", "dense")
    assert (config.activations, config.loss) == (("relu", "linear", "relu", "sigmoid"), "bce")
    assert TINY[1].config("float64").loss == "ce"
    mine, _ = sides(TINY[0], "float32")
    assert isinstance(mine.api, LayeredAPI) and mine.X.dtype == np.float32
    # flops: conv 8 x (6 x 6 x 3) outputs of 3 x 3 x 2; dense 8 x 4 x 27 and 8 x 1 x 4; 2 x 3 each
    assert convnet.network_flops(convnet.Network.of(config), 8) == 6 * (8 * 108 * 18 + 8 * 4 * 27 + 8 * 4)


@pytest.mark.parametrize("entry", TINY, ids=lambda e: e.arch)
@pytest.mark.parametrize("dtype", steps.DTYPES)
def test_one_step_of_each_side_computes_the_same_thing(entry, dtype):
    mine, theirs = sides(entry, dtype)
    out, ref = mine.step(), theirs.step()
    assert set(out) == set(ref) and {"cost", "AL", "dW1", "db1", "W1 after"} <= set(ref)
    for name, expected in ref.items():
        if name != "cost":  # a Python float on both sides
            assert out[name].dtype == expected.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(out[name], expected, rtol=1e-4, atol=1e-6, err_msg=name)
    assert not np.array_equal(out["W1 after"], convnet.steps.data(entry.config(dtype))[2]["W1"])  # it stepped


@pytest.mark.parametrize(
    ("function", "slip", "name"),
    [  # each a small real slip: a filter's gradient 0.1% too large, a bias forgotten, a max pool's gradient halved
        ("conv_backward", lambda f: lambda dZ, c: (lambda g: (g[0], g[1] * 1.001, g[2]))(f(dZ, c)), "dW1"),
        ("conv_forward", lambda f: lambda A, W, b, hp: f(A, W, 0 * b, hp), "cost"),
        ("pool_backward", lambda f: lambda dA, cache, mode: f(dA / 2, cache, mode), "dW1"),
    ],
)
def test_a_network_whose_sides_disagree_is_not_timed(monkeypatch, function, slip, name):
    monkeypatch.setattr(scratch, function, slip(getattr(scratch, function)))
    timed = []
    monkeypatch.setattr(steps, "interleaved", lambda *args: timed.append(args))
    with pytest.raises(AssertionError, match=f"scratch's {name} differs from torch_ref's"):
        convnet.time_network(TINY[0], "float64", PLAN)
    assert timed == []


@pytest.mark.parametrize("dtype", steps.DTYPES)
def test_a_cell_agrees_then_times_and_splits_both_sides(dtype):
    row = convnet.time_network(TINY[0], dtype, PLAN)
    for key in ("scratch_s", "torch_s", "ratio", "scratch_gflops", "torch_gflops", "matmul_gflops", "conv_ratio"):
        assert positive(row[key]), key
    for side in ("scratch", "torch"):
        conv_share, pool_share = row[f"{side}_conv_share"], row[f"{side}_pool_share"]
        assert 0 < conv_share < 1 and 0 < pool_share < 1 and conv_share + pool_share < 1, side
        assert positive(row[f"{side}_conv_s"]) and positive(row[f"{side}_watch"]), side
    assert row["torch_kernels"]  # the conv ran through a kernel the profiler named


def test_the_stopwatch_times_scratchs_convolution_and_only_while_on(monkeypatch):
    forward = scratch.conv_forward

    def slow_conv_forward(*args):  # a convolution that takes 50 ms more than the rest of the step
        time.sleep(0.05)
        return forward(*args)

    monkeypatch.setattr(scratch, "conv_forward", slow_conv_forward)
    mine, _ = sides(TINY[0], "float64")
    split = conv_share.scratch_split(mine, mine.api, 2)
    assert split.conv_s >= 0.05 and split.conv_s / split.step_s > 0.9 and 0 < split.pool_s < split.step_s - split.conv_s
    assert mine.api.stopwatch is None  # the timed rounds run the verifier's LayeredAPI unchanged
    kind = mine.api.network.kind(1)
    assert mine.api._forward_of(kind) == kind.forward and mine.api._backward_of(kind) == kind.backward


def test_the_ops_the_split_counts_are_those_torch_runs():
    _, theirs = sides(convnet.Entry("7x7x1,conv2f3p1,max2s1,avg2,flatten,3", 4, "softmax"), "float64")
    theirs()
    _, cpu_s = conv_share.profiled(theirs, 1)
    # the first op each layer's forward and its backward node dispatch, as the profiler names them
    conv = {"aten::conv2d", "aten::convolution_backward"}
    pool = {
        "aten::max_pool2d",
        "aten::max_pool2d_with_indices_backward",
        "aten::avg_pool2d",
        "aten::avg_pool2d_backward",
    }
    assert (set(conv_share.TORCH_CONV), set(conv_share.TORCH_POOL)) == (conv, pool)
    assert {name: cpu_s.get(name, 0) > 0 for name in conv | pool} == dict.fromkeys(conv | pool, True)


def test_the_profiler_finds_torchs_convolution_and_pooling():
    _, theirs = sides(TINY[1], "float32")
    theirs()  # a warm-up, as in the timed rounds
    split = conv_share.torch_split(theirs, 3)
    assert 0 < split.conv_s and 0 < split.pool_s and split.conv_s + split.pool_s < split.step_s
    assert "aten::mkldnn_convolution" in split.kernels  # float32 runs oneDNN's kernel on this torch


def test_the_split_figures_are_medians_of_the_rounds():
    Split = conv_share.Split
    found = {  # three rounds: shares 0.6, 0.5, 0.1 for scratch's conv (median 0.5, mean 0.4)
        "scratch": [Split(0.010, 0.006, 0.002), Split(0.020, 0.010, 0.002), Split(0.050, 0.005, 0.010)],
        "torch": [Split(0.004, 0.002, 0.001, ("k2",)), Split(0.008, 0.002, 0.001, ("k1",)), Split(0.004, 0.001, 0.0)],
    }
    row = conv_share.split_figures(found, {"scratch": [0.010, 0.005, 0.010], "torch": [0.004, 0.002, 0.004]})
    assert row["scratch_conv_share"] == pytest.approx(0.5) and row["scratch_pool_share"] == pytest.approx(0.2)
    assert row["torch_conv_share"] == pytest.approx(0.25) and row["torch_pool_share"] == pytest.approx(0.125)
    assert row["scratch_conv_s"] == pytest.approx(0.006) and row["torch_pool_s"] == pytest.approx(0.001)
    # with the stopwatch on over the timed batch, round by round: 1, 4, 5 (the medians' ratio: 2) and 1, 4, 1
    assert row["scratch_watch"] == pytest.approx(4.0) and row["torch_watch"] == pytest.approx(1.0)
    # scratch's conv over torch's, round by round: 3, 5, 5
    assert row["conv_ratio"] == pytest.approx(5) and row["torch_kernels"] == ["k1", "k2"]


ROW = {
    "network": TINY[0].arch,
    "m": 8,
    "activations": "relu, linear, relu, sigmoid",
    "loss": "bce",
    "dtype": "float64",
    "rounds": 7,
    "flops": 1.25e8,
    "scratch_s": 0.0384,
    "torch_s": 0.0213,
    "ratio": 1.803,
    "matmul_gflops": 98.7,
    "scratch_gflops": 3.26,
    "torch_gflops": 5.87,
    "scratch_conv_s": 0.0221,
    "scratch_pool_s": 0.0052,
    "scratch_conv_share": 0.576,
    "scratch_pool_share": 0.135,
    "scratch_watch": 1.04,
    "torch_conv_s": 0.0131,
    "torch_pool_s": 0.0024,
    "torch_conv_share": 0.615,
    "torch_pool_share": 0.113,
    "torch_watch": 1.21,
    "conv_ratio": 1.687,
    "torch_kernels": ["aten::thnn_conv2d"],
}


def test_the_conv_network_section_states_no_number_the_run_did_not_give():
    from test_benchmarks import FAKE, NUMBER, comes_from, data_numbers

    fast = {**ROW, "dtype": "float32", "ratio": 0.62, "scratch_conv_share": 0.695, "torch_kernels": ["mkl"]}
    results = report.summarise({**FAKE, "conv_network": [ROW, fast]})
    text = report.render(results)
    assert "scratch takes 0.620 to 1.803 times torch_ref's (slower on 1 of 2 cells)" in text
    assert "takes 58% to 70% of scratch's step and 62% of torch_ref's" in text
    assert "aten::thnn_conv2d in float64; mkl in float32" in text
    assert (
        "| 38.400 | 21.300 | **1.803** | 57.6% / 13.5% | 61.5% / 11.3% | 22.100 | 13.100 | 3.26 | 5.87 | 98.7 |" in text
    )
    numbers = data_numbers(results)
    assert [t for t in NUMBER.findall(text) if not comes_from(t, numbers)] == []


def test_quick_conv_part_runs_and_writes_both_sections(monkeypatch, tmp_path):
    from test_conv_benchmark import TINY as CASES

    monkeypatch.setattr(conv, "CASES", CASES[:1])
    monkeypatch.setattr(convnet, "NETWORKS", TINY[:1])
    monkeypatch.setattr(steps, "QUICK", PLAN)
    out = tmp_path / "RESULTS.md"
    assert bench.main(["--quick", "--only", "conv", "--out", str(out)]) == 0
    text = out.read_text()
    assert len([line for line in text.splitlines() if re.match(r"\| 6x6x2,conv3f3p1", line)]) == 2  # two dtypes
    assert "## Conv network step" in text and "## Convolution layer" in text and "Step time" not in text
    assert re.search(r"The convolution takes \d+%( to \d+%)? of scratch's step", text)
