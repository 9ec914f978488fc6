"""TensorBoard logs, read back with TensorBoard's own readers (and once through a real server).

verify.run writes one experiment per run, <logdir>/<name>/{numpy,torch,diff}. numpy (the
implementation under test) and torch log the same tags, so every chart overlays both; diff logs
the gaps between them, the report as markdown and a custom-scalars layout. Everything here checks what a user would
see in TensorBoard against the numbers in the Report.
"""

import hashlib
import json
import math
import os
import queue
import re
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing import plugin_event_multiplexer as pem
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import plugin_data_pb2

import scratch
import torch_ref
import verify
import verify.cli
from verify import Config
from verify.checking import units
from verify.telling.tblog import DETAIL_POINTS, HISTOGRAM_POINTS

SIDES = ("numpy", "torch")  # the run folders of the implementation under test (scratch here) and torch
RUNS = {"numpy", "torch", "diff"}
KEY = {"numpy": "impl", "torch": "torch"}  # a run folder -> its side in the report


def of(sides, folder: str):
    """A report's value (a Sides) for the side whose run folder is `folder`."""
    return dict(sides.items())[KEY[folder]]


CUSTOM = "~custom_scalars/"  # diff's copies of its curves for the custom-scalars charts
N = 130  # detail points and histograms on grids of ceil(130/points) iterations; the last (129) is on neither grid
ARCH = (3, 4, 4, 1)
L = len(ARCH) - 1
HPARAM_KEYS = {"side", "arch", "activations", "loss", "init", "lr", "iterations", "dtype", "seed", "examples"}


def config(logdir, **fields) -> Config:
    """A silent run writing TensorBoard logs under logdir."""
    return replace(Config(arch=ARCH, iterations=N, logdir=str(logdir), progress=False), **fields)


def quick(logdir, **fields) -> Config:
    """A cheap run for behaviour that does not need many iterations."""
    return config(logdir, **{"iterations": 2, "examples": 32, "gradcheck": False, **fields})


def writer_threads() -> set:
    """TensorBoard's event-writer threads still alive; a closed writer has joined its own."""
    return {t for t in threading.enumerate() if type(t).__name__ == "_AsyncWriterThread" and t.is_alive()}


def run_and_close(cfg: Config):
    """verify.run, then: every writer it opened is closed."""
    before = writer_threads()
    report = verify.run(cfg)
    assert writer_threads() <= before
    return report


def accumulator(path) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(str(path), size_guidance=ea.STORE_EVERYTHING_SIZE_GUIDANCE)
    acc.Reload()
    return acc


def read_experiment(run_dir) -> dict:
    return {side: accumulator(os.path.join(run_dir, side)) for side in RUNS}


def steps(acc, tag) -> list:
    return [e.step for e in acc.Scalars(tag)]


def values(acc, tag) -> np.ndarray:
    return np.array([e.value for e in acc.Scalars(tag)], dtype=np.float64)


def expected_detail_steps(n: int) -> list:
    every = math.ceil(n / DETAIL_POINTS)
    return sorted({i for i in range(n) if i % every == 0} | {n - 1})


def expected_histogram_steps(n: int) -> list:
    every = math.ceil(n / HISTOGRAM_POINTS)
    return sorted({i for i in range(n) if i % every == 0} | {n - 1})


def side_scalar_tags(L: int, classification: bool = True) -> set:
    tags = {"cost", "final/cost", "final/verdict"}
    tags |= {"prediction/accuracy", "final/accuracy"} if classification else {"prediction/squared_error"}
    tags |= {f"norm/{q}{l}" for q in ("W", "dW", "update") for l in range(1, L + 1)}
    return tags


def side_histogram_tags(L: int) -> set:
    return {
        f"{kind}/{q}{l}"
        for kind, q in (("weights", "W"), ("weights", "b"), ("gradients", "dW"))
        for l in range(1, L + 1)
    }


def report_text(acc) -> str:
    (event,) = acc.Tensors("report/text_summary")
    return event.tensor_proto.string_val[0].decode()


def custom_layout(diff_acc) -> layout_pb2.Layout:
    """The custom-scalars layout an experiment's diff run wrote."""
    assert diff_acc.SummaryMetadata("custom_scalars__config__").plugin_data.plugin_name == "custom_scalars"
    (event,) = diff_acc.Tensors("custom_scalars__config__")
    return layout_pb2.Layout.FromString(event.tensor_proto.string_val[0])


def chart_patterns(chart) -> list:
    """The regexes TensorBoard matches (re.match, from the tag's start) against every run's tags for one chart:
    a multiline chart's own, a margin chart's series names escaped (as its dashboard card does)."""
    if chart.WhichOneof("content") == "multiline":
        return list(chart.multiline.tag)
    return [re.escape(name) for s in chart.margin.series for name in (s.value, s.lower, s.upper)]


def hparams_data(run_path) -> dict:
    """tag -> HParamsPluginData of one run folder (EventAccumulator never lists hparams summaries)."""
    mux = pem.EventMultiplexer()
    mux.AddRun(str(run_path))
    mux.Reload()
    runs = mux.PluginRunToTagToContent("hparams")
    assert set(runs) <= {str(run_path)}
    content = runs.get(str(run_path), {})
    return {tag: plugin_data_pb2.HParamsPluginData.FromString(raw) for tag, raw in content.items()}


def hparam_values(start_info) -> dict:
    out = {}
    for key, value in start_info.hparams.items():
        kind = value.WhichOneof("kind")
        out[key] = getattr(value, kind)
    return out


def png_size(data: bytes) -> tuple:
    """(width, height, colour type) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, chunk = struct.unpack(">I4s", data[8:16])
    assert (length, chunk) == (13, b"IHDR")
    width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
    return width, height, colour


def tfrecords(path) -> list:
    """Every Event of a tfevents file, with each record's framing and both CRCs checked up to the very last byte."""
    with open(path, "rb") as f:
        data = f.read()
    events, pos = [], 0
    while pos < len(data):
        assert pos + 12 <= len(data), "truncated record header"
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[pos + 8 : pos + 12])[0] == masked_crc32c(header)
        body = data[pos + 12 : pos + 12 + length]
        assert len(body) == length, "truncated record"
        assert struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])[0] == masked_crc32c(body)
        events.append(Event.FromString(body))
        pos += 16 + length
    assert pos == len(data)
    return events


def only_event_file(folder) -> str:
    entries = os.listdir(folder)
    assert len(entries) == 1 and entries[0].startswith("events.out.tfevents."), entries
    return os.path.join(folder, entries[0])


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """These nets are tiny: on a busy 2-core machine torch's thread pool makes a run 5-10x slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# --- one full classification run, shared by the read-back tests and the server test ---------------


@pytest.fixture(scope="module")
def main_run(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("tb")
    report = run_and_close(config(logdir, name="main"))
    return logdir, report, read_experiment(report.run_dir)


@pytest.mark.end_to_end
def test_layout_is_three_sibling_runs_and_nothing_else(main_run):
    logdir, report, _ = main_run
    assert report.run_dir == os.path.join(str(logdir), "main")
    assert report.tensorboard_command == f"tensorboard --logdir {report.run_dir}"
    assert os.listdir(logdir) == ["main"]
    assert set(os.listdir(report.run_dir)) == RUNS
    for side in RUNS:  # one event file each: no stray timestamped add_hparams folder, no second file
        only_event_file(os.path.join(report.run_dir, side))
    # the multiplexer (what the server uses) sees exactly the three runs
    mux = pem.EventMultiplexer()
    mux.AddRunsFromDirectory(str(logdir))
    assert set(mux.Runs()) == {f"main/{side}" for side in RUNS}


@pytest.mark.end_to_end
def test_scratch_and_torch_log_the_same_tags(main_run):
    _, report, acc = main_run
    assert report.verdict == "pass"
    tags = {side: acc[side].Tags() for side in SIDES}
    assert tags["numpy"]["scalars"] and sorted(tags["numpy"]["scalars"]) == sorted(tags["torch"]["scalars"])
    for side in SIDES:
        assert set(tags[side]["scalars"]) == side_scalar_tags(L)
        assert set(tags[side]["histograms"]) == side_histogram_tags(L)
        assert tags[side]["images"] == []  # 3 features: no decision-boundary picture
        assert "prediction/squared_error" not in tags[side]["scalars"]
    diff = acc["diff"].Tags()
    gaps = {"gap/cost_log10", "gap/cost", "gap/cost_tolerance"} | {
        f"gap/params_log10/layer{l}" for l in range(1, L + 1)
    }
    own = {f"cost_gap/{k}" for k in ("signed", "lower", "upper")} | {
        f"param_gap_log10/layer{l}" for l in range(1, L + 1)
    }
    own = {CUSTOM + "main/" + tag for tag in own | {"cost/numpy", "cost/torch"}}  # for the custom-scalars charts
    assert set(diff["scalars"]) == gaps | own
    assert set(diff["tensors"]) == {"report/text_summary", "custom_scalars__config__"}
    assert diff["histograms"] == [] and diff["images"] == []


@pytest.mark.end_to_end
def test_cost_every_iteration_equals_the_report(main_run):
    _, report, acc = main_run
    for side in SIDES:
        assert steps(acc[side], "cost") == list(range(N))
        assert len(of(report.costs, side)) == N
        np.testing.assert_allclose(values(acc[side], "cost"), of(report.costs, side), rtol=1e-6, atol=0)
    # both curves are real training curves: they fall
    assert report.costs.impl[-1] < 0.5 * report.costs.impl[0]


@pytest.mark.end_to_end
def test_final_scalars_equal_the_report(main_run):
    _, report, acc = main_run
    for side in SIDES:
        for tag, key in (("final/cost", "cost"), ("final/accuracy", "accuracy")):
            (event,) = acc[side].Scalars(tag)
            assert event.step == N - 1
            assert event.value == pytest.approx(getattr(of(report.final, side), key), rel=1e-6)
        (verdict,) = acc[side].Scalars("final/verdict")
        assert (verdict.step, verdict.value) == (N - 1, 1.0)
        # accuracy at step i is taken before update i (like cost); one last step barely moves it
        assert acc[side].Scalars("prediction/accuracy")[-1].value == pytest.approx(
            of(report.final, side).accuracy, abs=0.05
        )
    # float64 agreement: both sides predict the same classes at every detail point
    assert np.array_equal(values(acc["numpy"], "prediction/accuracy"), values(acc["torch"], "prediction/accuracy"))


@pytest.mark.end_to_end
def test_detail_tags_follow_the_ceil_rule(main_run):
    _, _, acc = main_run
    detail = expected_detail_steps(N)
    assert len(detail) == 44 and detail[-3:] == [123, 126, 129]  # every ceil(130/50) = 3 iterations
    for side in SIDES:
        for tag in side_scalar_tags(L) - {"cost", "final/cost", "final/verdict", "final/accuracy"}:
            assert steps(acc[side], tag) == detail, (side, tag)
        for l in range(1, L + 1):
            assert np.all(values(acc[side], f"norm/W{l}") > 0)
            assert np.all(values(acc[side], f"norm/update{l}") >= 0)
        acc_values = values(acc[side], "prediction/accuracy")
        assert np.all((acc_values >= 0) & (acc_values <= 1))
    for tag in ("gap/cost", "gap/cost_tolerance") + tuple(
        CUSTOM + f"main/cost_gap/{k}" for k in ("signed", "lower", "upper")
    ):
        assert steps(acc["diff"], tag) == detail
    # norms agree across the two sides to float32 storage
    for l in range(1, L + 1):
        np.testing.assert_allclose(values(acc["numpy"], f"norm/W{l}"), values(acc["torch"], f"norm/W{l}"), rtol=1e-5)


@pytest.mark.end_to_end
def test_histograms_at_the_expected_steps(main_run):
    _, report, acc = main_run
    hist = expected_histogram_steps(N)
    assert hist == [0, 26, 52, 78, 104, 129]  # every ceil(130/5) = 26 iterations, and the last
    sizes = {"W": lambda l: ARCH[l] * ARCH[l - 1], "b": lambda l: ARCH[l], "dW": lambda l: ARCH[l] * ARCH[l - 1]}
    for side in SIDES:
        for tag in side_histogram_tags(L):
            events = acc[side].Histograms(tag)
            assert [e.step for e in events] == hist, (side, tag)
            q, l = re.fullmatch(r"\w+/(W|b|dW)(\d)", tag).groups()
            assert all(e.histogram_value.num == sizes[q](int(l)) for e in events)
    # scratch's and torch's weights at the same step: the same distribution
    for l in range(1, L + 1):
        s, t = acc["numpy"].Histograms(f"weights/W{l}")[-1], acc["torch"].Histograms(f"weights/W{l}")[-1]
        assert s.histogram_value.min == pytest.approx(t.histogram_value.min, abs=1e-6)
        assert s.histogram_value.max == pytest.approx(t.histogram_value.max, abs=1e-6)


@pytest.mark.end_to_end
def test_hparams_in_each_sides_own_file(main_run):
    _, report, _ = main_run
    for side in SIDES:
        data = hparams_data(os.path.join(report.run_dir, side))
        assert set(data) == {"_hparams_/session_start_info", "_hparams_/session_end_info"}  # no experiment summary
        start = data["_hparams_/session_start_info"]
        assert start.WhichOneof("data") == "session_start_info"
        assert data["_hparams_/session_end_info"].WhichOneof("data") == "session_end_info"
        assert hparam_values(start.session_start_info) == {
            "side": side,
            "implementation": "scratch",
            "arch": "3-4-4-1",
            "activations": "relu,relu,sigmoid",
            "loss": "bce",
            "init": "he",
            "lr": pytest.approx(0.1),
            "iterations": N,
            "epochs": N,
            "optimizer": "gd",
            "mini_batch_size": 0,
            "decay": "none",
            "dtype": "float64",
            "seed": 0,
            "examples": report.examples,
        }
        assert report.examples == 200
    assert hparams_data(os.path.join(report.run_dir, "diff")) == {}  # diff holds no session


@pytest.mark.end_to_end
def test_diff_run_gaps_text_and_layout(main_run):
    _, report, acc = main_run
    diff = acc["diff"]
    s, t = np.array(report.costs.impl), np.array(report.costs.torch)
    assert steps(diff, "gap/cost_log10") == list(range(N))
    np.testing.assert_allclose(values(diff, "gap/cost_log10"), np.log10(np.maximum(np.abs(s - t), 1e-20)), rtol=1e-6)
    for l in range(1, L + 1):
        assert steps(diff, f"gap/params_log10/layer{l}") == list(range(N))
        gaps = values(diff, f"gap/params_log10/layer{l}")
        assert np.all((gaps >= -20) & (gaps < -10))  # float64 agreement
    detail = expected_detail_steps(N)
    np.testing.assert_allclose(values(diff, "gap/cost"), (s - t)[detail], rtol=1e-6, atol=1e-45)
    upper = values(diff, "gap/cost_tolerance")
    assert np.all(upper > 0) and np.all(np.abs(values(diff, "gap/cost")) <= upper)
    own = CUSTOM + "main/"
    np.testing.assert_array_equal(values(diff, own + "cost_gap/upper"), upper)
    np.testing.assert_array_equal(values(diff, own + "cost_gap/lower"), -upper)
    np.testing.assert_array_equal(values(diff, own + "cost_gap/signed"), values(diff, "gap/cost"))

    text = report_text(diff)
    assert "Verdict: PASS" in text and text == report.to_markdown()
    assert diff.Tensors("report/text_summary")[0].step == N - 1
    assert diff.SummaryMetadata("report/text_summary").plugin_data.plugin_name == "text"

    # the custom-scalars charts: one category named after the experiment, over diff's copies under its name
    (category,) = custom_layout(diff).category
    assert category.title == "main"
    charts = {chart.title: chart for chart in category.chart}
    assert len(charts) == 3
    multiline = [c for c in charts.values() if c.WhichOneof("content") == "multiline"]
    margin = [c for c in charts.values() if c.WhichOneof("content") == "margin"]
    assert sorted(list(c.multiline.tag) for c in multiline) == [
        [r"^\~custom_scalars/main/cost/"],
        [r"^\~custom_scalars/main/param_gap_log10/"],
    ]
    (band,) = margin
    (series,) = band.margin.series
    assert (series.value, series.lower, series.upper) == tuple(
        own + f"cost_gap/{k}" for k in ("signed", "lower", "upper")
    )
    for side in SIDES:  # the cost chart draws both costs, every iteration
        assert steps(diff, own + f"cost/{side}") == list(range(N))
        np.testing.assert_array_equal(values(diff, own + f"cost/{side}"), values(acc[side], "cost"))
    for l in range(1, L + 1):
        np.testing.assert_array_equal(
            values(diff, own + f"param_gap_log10/layer{l}"), values(diff, f"gap/params_log10/layer{l}")
        )


@pytest.mark.end_to_end
def test_each_experiments_custom_scalars_draw_only_its_own_curves(tmp_path):
    """`tensorboard --logdir` over many experiments: TensorBoard merges every run's layout by
    category title and asks every run in the logdir for each chart's regexes, so an experiment's
    charts must match tags that only its own runs log. The names are near misses of each other:
    a regex with the "." unescaped, or stopping at the name without its "/", would match a neighbour's tags."""
    names = ("lr.1", "lr01", "lr.1")  # the second "lr.1" becomes "lr.1_2"
    run_dirs = [run_and_close(quick(tmp_path, arch=(2, 3, 1), iterations=5, name=name)).run_dir for name in names]
    experiments = [os.path.basename(run_dir) for run_dir in run_dirs]
    assert experiments == ["lr.1", "lr01", "lr.1_2"]
    tags, layouts = {}, {}
    for experiment, run_dir in zip(experiments, run_dirs):
        acc = read_experiment(run_dir)
        tags[experiment] = {tag for side in RUNS for tag in acc[side].Tags()["scalars"]}
        assert {"cost", "gap/cost", "gap/params_log10/layer1"} <= tags[experiment]  # the Scalars tab's shared tags
        (layouts[experiment],) = custom_layout(acc["diff"]).category
    for experiment, category in layouts.items():
        assert category.title == experiment  # distinct titles: the merged layout keeps one category each
        assert len(category.chart) == 3
        others = set().union(*(tags[e] for e in experiments if e != experiment))
        for chart in category.chart:
            for pattern in chart_patterns(chart):
                assert any(re.match(pattern, tag) for tag in tags[experiment]), (experiment, chart.title, pattern)
                assert not [tag for tag in others if re.match(pattern, tag)], (experiment, chart.title, pattern)


# --- other data: a decision boundary for 2-D classification, squared error for regression ---------


@pytest.mark.end_to_end
def test_flower_has_a_decision_boundary_per_side(tmp_path):
    n = 7
    report = run_and_close(
        quick(
            tmp_path,
            arch=(2, 4, 1),
            activations=("tanh", "sigmoid"),
            data="flower",
            examples=60,
            iterations=n,
            learning_rate=1.2,
            name="flower",
        )
    )
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        assert acc[side].Tags()["images"] == ["decision_boundary"]
        (image,) = acc[side].Images("decision_boundary")
        assert image.step == n - 1 and (image.width, image.height) == (240, 240)
        assert png_size(image.encoded_image_string) == (240, 240, 2)  # RGB
        assert set(acc[side].Tags()["scalars"]) == side_scalar_tags(2)
        np.testing.assert_allclose(values(acc[side], "cost"), of(report.costs, side), rtol=1e-6)
    assert acc["diff"].Tags()["images"] == []
    start = hparams_data(os.path.join(report.run_dir, "torch"))["_hparams_/session_start_info"].session_start_info
    assert hparam_values(start)["activations"] == "tanh,sigmoid" and hparam_values(start)["examples"] == 60


@pytest.mark.end_to_end
def test_regression_logs_squared_error_and_no_picture(tmp_path):
    n = 5
    report = run_and_close(
        quick(
            tmp_path,
            arch=(1, 8, 1),
            activations=("relu", "linear"),
            data="house",
            examples=40,
            iterations=n,
            name="house",
        )
    )
    assert report.verdict == "pass"
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        tags = acc[side].Tags()
        assert set(tags["scalars"]) == side_scalar_tags(2, classification=False)
        assert "prediction/accuracy" not in tags["scalars"] and "final/accuracy" not in tags["scalars"]
        assert tags["images"] == []
        assert steps(acc[side], "prediction/squared_error") == list(
            range(n)
        )  # ceil(5/DETAIL_POINTS) = 1: every iteration
        # the mse cost's own definition, (1/2m) sum (A - Y)^2: the cost at the same parameters, not twice it
        np.testing.assert_allclose(
            values(acc[side], "prediction/squared_error"), np.array(of(report.costs, side)), rtol=1e-6
        )
        assert values(acc[side], "cost") == pytest.approx(of(report.costs, side), rel=1e-6)
        (final,) = acc[side].Scalars("final/cost")
        assert final.value == pytest.approx(of(report.final, side).cost, rel=1e-6)
        start = hparams_data(os.path.join(report.run_dir, side))["_hparams_/session_start_info"].session_start_info
        assert {k: hparam_values(start)[k] for k in ("loss", "activations", "arch")} == {
            "loss": "mse",
            "activations": "relu,linear",
            "arch": "1-8-1",
        }


# --- names and folders ---------------------------------------------------------------------------


@pytest.mark.end_to_end
def test_same_name_twice_makes_a_second_experiment(tmp_path):
    first = run_and_close(quick(tmp_path, name="dup"))
    files = {side: only_event_file(os.path.join(first.run_dir, side)) for side in RUNS}
    sizes = {side: os.path.getsize(path) for side, path in files.items()}
    second = run_and_close(quick(tmp_path, name="dup", iterations=3))
    assert first.run_dir == str(tmp_path / "dup") and second.run_dir == str(tmp_path / "dup_2")
    assert sorted(os.listdir(tmp_path)) == ["dup", "dup_2"]
    for side in RUNS:  # the first experiment is untouched
        assert os.listdir(os.path.join(first.run_dir, side)) == [os.path.basename(files[side])]
        assert os.path.getsize(files[side]) == sizes[side]
        only_event_file(os.path.join(second.run_dir, side))
    for report, n in ((first, 2), (second, 3)):
        assert steps(accumulator(os.path.join(report.run_dir, "torch")), "cost") == list(range(n))


@pytest.mark.end_to_end
def test_name_with_dotdot_stays_inside_logdir(tmp_path, capsys):
    logdir = tmp_path / "logs"
    before = writer_threads()
    code = verify.cli.main(
        [
            "--arch",
            "3,4,4,1",
            "--iterations",
            "1",
            "--examples",
            "16",
            "--no-gradcheck",
            "--logdir",
            str(logdir),
            "--name",
            "../evil/x",
            "-q",
        ]
    )
    capsys.readouterr()
    assert code == 0 and writer_threads() <= before
    assert sorted(os.listdir(tmp_path)) == ["logs"]
    (made,) = os.listdir(logdir)
    assert made == "evil_x"
    assert set(os.listdir(logdir / made)) == RUNS
    report = run_and_close(quick(logdir, name="/abs/../../path"))
    assert os.path.dirname(report.run_dir) == str(logdir)
    assert sorted(os.listdir(tmp_path)) == ["logs"]


@pytest.mark.parametrize(
    "name", ["..", ".", "../..", "a/../../b", "/etc/passwd", "..\\..\\x", "~", "x\x00y", " ", "~/.ssh", "é/ü"]
)
def test_any_name_becomes_one_safe_folder_name(name):
    from verify.telling.tblog import experiment_name

    safe = experiment_name(ARCH, ("relu", "relu", "sigmoid"), name)
    assert safe and safe not in (".", "..") and not safe.startswith((".", "~"))
    assert re.fullmatch(r"[A-Za-z0-9._=+-]+", safe), safe
    assert os.path.basename(safe) == safe


@pytest.mark.end_to_end
def test_default_name_is_scratch_and_its_shape(tmp_path):
    """Short enough for the run selector: scratch_3x4x4x1 (no '-': the selector wraps a name there)."""
    names = [
        os.path.basename(run_and_close(quick(tmp_path, **fields)).run_dir)
        for fields in (
            {},
            {},
            {"arch": (2, 3, 3, 1), "activations": ("tanh", "tanh", "sigmoid")},
            {"arch": (1000, 20, 7, 1)},
        )
    ]
    assert names == ["scratch_3x4x4x1", "scratch_3x4x4x1_2", "scratch_2x3x3x1", "scratch_3layers"]
    assert sorted(os.listdir(tmp_path)) == sorted(names)


@pytest.mark.end_to_end
def test_an_implementation_under_test_names_its_experiment_after_the_file_and_its_code(tmp_path):
    course = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "course_network.py")
    report = run_and_close(quick(tmp_path, impl=course))
    name = os.path.basename(report.run_dir)
    with open(course, "rb") as f:
        source = f.read()
    code = hashlib.sha256(source).hexdigest()[:3]
    assert name == f"course_network_{code}"
    assert sorted(os.listdir(report.run_dir)) == ["diff", "numpy", "torch"]
    for run_name in ("numpy", "torch"):
        start = hparams_data(os.path.join(report.run_dir, run_name))["_hparams_/session_start_info"].session_start_info
        values = hparam_values(start)
        assert (values["side"], values["implementation"]) == (run_name, "course_network.py")
    diff = accumulator(os.path.join(report.run_dir, "diff"))
    (category,) = custom_layout(diff).category
    (cost_chart,) = [chart for chart in category.chart if chart.title == "cost: numpy and torch"]
    assert {tag for tag in diff.Tags()["scalars"] if re.match(cost_chart.multiline.tag[0], tag)} == {
        f"{CUSTOM}{name}/cost/numpy",
        f"{CUSTOM}{name}/cost/torch",
    }
    # the same file changed: another name; the same code again: _2
    changed = tmp_path / "src" / "course_network.py"
    changed.parent.mkdir()
    changed.write_bytes(source + b"\n# changed\n")
    again = [os.path.basename(run_and_close(quick(tmp_path, impl=path)).run_dir) for path in (str(changed), course)]
    assert again[0].startswith("course_network_") and again[0] != name and again[1] == name + "_2"


@pytest.mark.parametrize(
    "file, stem",
    [
        ("Building_your_Deep_Neural_Network_Step_by_Step.ipynb", "Building"),
        ("Planar_data_classification_with_one_hidden_layer.ipynb", "Planar_data"),
        ("Deep Neural Network - Application.ipynb", "Deep_Neural"),
        ("Initialization_v2.ipynb", "Initialization"),  # a first word of up to 14 stays whole
        ("Regularization.ipynb", "Regularization"),
        ("course_network.py", "course_network"),
        ("Supercalifragilisticexpialidocious.py", "Supercalifra"),  # no word to cut at: 12 characters
        ("path/to/my.week4.py", "my.week4"),
    ],
)
def test_a_long_file_name_is_cut_at_a_word(file, stem):
    from verify.telling.tblog import short_stem

    assert short_stem(file) == stem


def test_a_notebooks_hash_is_of_its_code_not_its_outputs(tmp_path):
    from verify.telling.tblog import source_hash

    cells = [
        {"cell_type": "markdown", "source": ["# title"]},
        {"cell_type": "code", "source": ["x = 1\n", "y = 2"], "outputs": [], "execution_count": None},
    ]
    paths = []
    for i, (code, outputs, count) in enumerate(
        ((["x = 1\n", "y = 2"], [], None), ("x = 1\ny = 2", [{"text": "2"}], 7), (["x = 1\n", "y = 3"], [], None))
    ):
        cells[1] = {**cells[1], "source": code, "outputs": outputs, "execution_count": count}
        paths.append(tmp_path / f"n{i}.ipynb")
        paths[-1].write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    hashes = [source_hash(str(path)) for path in paths]
    assert re.fullmatch(r"[0-9a-f]{3}", hashes[0])
    assert hashes[0] == hashes[1] != hashes[2]  # run again (outputs, counts): the same; one digit changed: another
    assert source_hash(str(tmp_path / "missing.py")) is None and source_hash(None) is None


def tb_order(tag: str) -> list:
    """The key Time Series sorts its cards by (tensorboard/webapp/metrics/utils.ts, compareTagNames):
    runs of digits compare as numbers, and a digit or '/' comes before any other character."""
    key = []
    for number, char in re.findall(r"(\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(.)", tag, re.S):
        key.append((0, float(number), "") if number else ((0, -1.0, "") if char == "/" else (1, 0.0, char)))
    return key


@pytest.mark.end_to_end
def test_time_series_shows_cost_first_and_the_custom_scalars_copies_last(tmp_path):
    """Time Series groups cards by the tag before its first '/', in the order of its sorted tags."""
    report = run_and_close(
        quick(
            tmp_path,
            name="2026_Building",
            lambd=0.7,
            keep_prob=(0.9, 0.9),
            epochs=2,
            iterations=Config.iterations,
            optimizer="adam",
            mini_batch_size=16,
            examples=40,
        )
    )
    acc = read_experiment(report.run_dir)
    tags = sorted(
        {tag for side in RUNS for kind in ("scalars", "histograms", "images") for tag in acc[side].Tags()[kind]},
        key=tb_order,
    )
    groups = list(dict.fromkeys(tag.split("/", 1)[0] for tag in tags))
    assert tags[0] == "cost" and groups[:3] == ["cost", "cost_data", "cost_penalty"], groups
    assert groups[-1] == "~custom_scalars" and all(
        tag.startswith("~custom_scalars/2026_Building/") for tag in tags if tag.startswith("~")
    )
    assert tb_order("2026_Building/cost") < tb_order("cost") < tb_order("cost_data") < tb_order("~custom_scalars/x")


@pytest.mark.end_to_end
def test_scalars_handed_over_in_batches_keep_the_time_they_were_logged(tmp_path, monkeypatch):
    """The scalars reach the writers in batches (tblog.PUSH_EVERY_S): each event keeps the wall time of the moment
    it was logged, not of its batch's hand-over, so TensorBoard's wall-time axis stays true."""
    from verify.telling import tblog

    clock = iter(range(1_000_000, 2_000_000, 10))  # a clock that moves 10 s at every reading
    fake_time = type("FakeTime", (), {"time": staticmethod(lambda: float(next(clock))), "monotonic": time.monotonic})
    monkeypatch.setattr(tblog, "time", fake_time)
    monkeypatch.setattr(tblog, "PUSH_EVERY_S", float("inf"))  # one batch, at close
    report = run_and_close(quick(tmp_path, iterations=5, name="clock"))
    for side in SIDES:
        stamps = [e.wall_time for e in accumulator(os.path.join(report.run_dir, side)).Scalars("cost")]
        assert len(stamps) == 5 and all(1_000_000 <= t < 2_000_000 for t in stamps)
        assert all(later - earlier >= 10 for earlier, later in zip(stamps, stamps[1:]))


def test_no_tensorboard_writes_nothing(tmp_path):
    logdir = tmp_path / "nothing"
    report = run_and_close(quick(logdir, tensorboard=False, name="x"))
    assert report.verdict == "pass"
    assert not logdir.exists() and os.listdir(tmp_path) == []
    assert report.run_dir is None and report.tensorboard_command is None


# --- faults: the writers are closed and the logs complete ----------------------------------------


@pytest.mark.end_to_end
def test_scratch_raising_still_closes_complete_logs(tmp_path, monkeypatch):
    good, calls = scratch.update_parameters, []

    def update_parameters(parameters, grads, learning_rate):
        calls.append(parameters["W1"].shape != (units.N, units.N_PREV))  # not the function-by-function check's call
        if sum(calls) > 3:
            raise ZeroDivisionError("division by zero")
        return good(parameters, grads, learning_rate)

    monkeypatch.setattr(scratch, "update_parameters", update_parameters)
    report = run_and_close(quick(tmp_path, name="fault", iterations=10))
    assert report.verdict == "fail"
    for side in RUNS:  # every record intact up to the last byte
        events = tfrecords(only_event_file(os.path.join(report.run_dir, side)))
        assert events[0].file_version.startswith("brain.Event")
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        assert steps(acc[side], "cost") == [0, 1, 2]
        np.testing.assert_allclose(values(acc[side], "cost"), of(report.costs, side), rtol=1e-6)
        (final,) = acc[side].Scalars("final/verdict")
        assert final.value == 0.0
        assert "_hparams_/session_end_info" in hparams_data(os.path.join(report.run_dir, side))
    text = report_text(acc["diff"])
    assert "Verdict: FAIL" in text and "ZeroDivisionError" in text and "update_parameters" in text
    assert "PASS" not in text


@pytest.mark.end_to_end
def test_exception_out_of_run_still_closes_the_writers(tmp_path, monkeypatch):
    good, calls = torch_ref.Trainer.step, []

    def step(self, rows=None, masks=None):
        calls.append(1)
        if len(calls) > 4:  # two steps (lockstep and free) per iteration: iteration 2 fails
            raise RuntimeError("device lost")
        return good(self, rows, masks)

    monkeypatch.setattr(torch_ref.Trainer, "step", step)
    before = writer_threads()
    with pytest.raises(RuntimeError, match="device lost"):
        verify.run(quick(tmp_path, name="boom", iterations=10))
    assert writer_threads() <= before
    run_dir = tmp_path / "boom"
    for side in RUNS:
        tfrecords(only_event_file(run_dir / side))
    acc = read_experiment(run_dir)
    for side in SIDES:  # what was logged before the failure is on disk, not lost in a queue
        assert steps(acc[side], "cost") == [0, 1]
    assert steps(acc["diff"], "gap/cost_log10") == [0, 1]


@pytest.mark.end_to_end
def test_huge_but_finite_weights_do_not_crash_the_logging(tmp_path):
    cfg = quick(tmp_path, name="huge", examples=40, learning_rate=1e9)  # W1 reaches ~1e30 after two steps
    without = verify.run(replace(cfg, tensorboard=False))
    report = run_and_close(cfg)
    assert report.verdict == without.verdict
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        assert steps(acc[side], "cost") == [0, 1]
    assert report_text(acc["diff"]) == report.to_markdown()


# --- a real TensorBoard server on loopback ------------------------------------------------------


def _get(port: int, path: str, **query):
    url = f"http://127.0.0.1:{port}{path}" + ("?" + urllib.parse.urlencode(query) if query else "")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _post(port: int, path: str, body: dict):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.end_to_end
def test_real_tensorboard_serves_both_curves(main_run, tmp_path):
    logdir, report, _ = main_run
    exe = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    assert os.path.isfile(exe)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # its .tensorboard-info file goes here
    proc = subprocess.Popen(
        [exe, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", "0", "--reload_interval", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True)
    reader.start()
    try:
        port, deadline, seen = None, time.monotonic() + 30, []
        while port is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                assert proc.poll() is None, "tensorboard exited: " + "".join(seen)
                continue
            seen.append(line)
            match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            port = int(match.group(1)) if match else None
        assert port is not None, "".join(seen)

        runs = {side: f"main/{side}" for side in RUNS}
        tags = {}
        while time.monotonic() < deadline:
            try:
                tags = _get(port, "/data/plugin/scalars/tags")
            except urllib.error.URLError:  # not answering yet
                tags = {}
            if all("cost" in tags.get(runs[side], {}) for side in SIDES):
                break
            time.sleep(0.2)
        assert all("cost" in tags.get(runs[side], {}) for side in SIDES), tags
        assert set(tags[runs["numpy"]]) == set(tags[runs["torch"]]) == side_scalar_tags(L)

        for side in SIDES:
            points = _get(port, "/data/plugin/scalars/scalars", run=runs[side], tag="cost")
            assert [p[1] for p in points] == list(range(N))
            np.testing.assert_allclose([p[2] for p in points], of(report.costs, side), rtol=1e-6)

        (text,) = _get(port, "/data/plugin/text/text", run=runs["diff"], tag="report/text_summary")
        assert "Verdict: PASS" in text["text"]

        groups = _post(
            port,
            "/data/plugin/hparams/session_groups",
            {
                "experimentName": "",
                "startIndex": 0,
                "sliceSize": 100,
                "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            },
        )
        sides = {g["name"]: g["hparams"]["side"] for g in groups["sessionGroups"]}
        assert sides == {runs["numpy"]: "numpy", runs["torch"]: "torch"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        reader.join(timeout=15)
        proc.stderr.close()
    assert not reader.is_alive()


@pytest.mark.end_to_end
def test_an_optimiser_run_logs_each_epochs_cost_rate_and_state_norms(tmp_path):
    epochs = 4
    report = run_and_close(
        quick(
            tmp_path,
            examples=40,
            iterations=Config.iterations,
            epochs=epochs,
            optimizer="adam",
            mini_batch_size=16,
            decay="inverse",
            decay_rate=0.5,
        )
    )
    assert report.ok
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        assert steps(acc[side], "epoch/cost") == list(range(epochs))
        np.testing.assert_allclose(
            values(acc[side], "epoch/cost"), of(report.costs, side), rtol=1e-6
        )  # float32 in the log
        # the course's rate: lr0 for epochs 0 and 1, then lr0 / (1 + 0.5 (e - 1))
        np.testing.assert_allclose(values(acc[side], "epoch/learning_rate"), [0.1, 0.1, 0.1 / 1.5, 0.1 / 2], rtol=1e-6)
        for name in ("v", "s"):
            for l in range(1, L + 1):
                norms = values(acc[side], f"epoch/{name}_norm/layer{l}")
                assert len(norms) == epochs and np.all(norms > 0)
        assert len(steps(acc[side], "cost")) == epochs * 3  # one cost per step: batches of 16, 16 and 8
    np.testing.assert_allclose(
        values(acc["numpy"], "epoch/v_norm/layer1"), values(acc["torch"], "epoch/v_norm/layer1"), rtol=1e-6
    )
    (category,) = custom_layout(acc["diff"]).category
    titles = [chart.title for chart in category.chart]
    assert "epoch cost: numpy and torch" in titles and "learning rate: numpy and torch" in titles


@pytest.mark.end_to_end
def test_an_l2_run_logs_the_penalty_and_the_data_cost_apart(tmp_path):
    report = run_and_close(quick(tmp_path, lambd=0.7, iterations=3))
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        cost, penalty, data = (values(acc[side], tag) for tag in ("cost", "cost_penalty", "cost_data"))
        assert len(penalty) == 3 and np.all(penalty > 0)
        np.testing.assert_allclose(penalty + data, cost, rtol=1e-6)
    np.testing.assert_allclose(values(acc["numpy"], "cost_penalty"), values(acc["torch"], "cost_penalty"), rtol=1e-6)


@pytest.mark.end_to_end
def test_a_dropout_run_logs_the_fraction_each_hidden_layer_dropped(tmp_path):
    report = run_and_close(quick(tmp_path, keep_prob=(0.5, 0.9), iterations=4, examples=200))
    acc = read_experiment(report.run_dir)
    for side in SIDES:
        layer1, layer2 = values(acc[side], "dropped/layer1"), values(acc[side], "dropped/layer2")
        assert len(layer1) == 4 and np.all(np.abs(layer1 - 0.5) < 0.15) and np.all(np.abs(layer2 - 0.1) < 0.1)
    np.testing.assert_array_equal(values(acc["numpy"], "dropped/layer1"), values(acc["torch"], "dropped/layer1"))
