"""The benchmark's pieces on a tiny network, and a RESULTS.md that states only what a run measured.

No timing is asserted: a busy machine may make any figure large, never negative or undefined.
"""

import json
import math
import re
from dataclasses import asdict

import pytest

from benchmarks import machine, memory, report, steps, verifier
from verify import Config

TINY = Config(
    arch=(3, 4, 1),
    examples=20,
    activations=("relu", "sigmoid"),
    loss="bce",
    learning_rate=0.01,
    iterations=2,
    tensorboard=False,
    progress=False,
)


def positive(x) -> bool:
    return isinstance(x, float) and math.isfinite(x) and x > 0


def test_a_step_cell_times_both_sides_and_the_matmul():
    row = steps.time_step(TINY, steps.Plan(rounds=2, batch_s=0.001, settle_s=0.0, matmul_n=32))
    for key in ("scratch_s", "torch_s", "ratio", "scratch_gflops", "matmul_gflops", "efficiency"):
        assert positive(row[key]), key
    assert row["flops"] == 2 * 20 * (3 * (3 * 4 + 4 * 1) - 3 * 4)


def test_scratch_step_trains_from_the_shared_start():
    X, Y, params = steps.data(TINY)
    step = steps.ScratchStep(TINY, X, Y, params)
    costs = [step() for _ in range(50)]
    assert costs[-1] < costs[0]
    assert step.params is not params


@pytest.mark.end_to_end
def test_peak_memory_comes_from_fresh_processes():
    row = memory.step_memory(TINY)
    assert positive(row["baseline_mib"])
    assert math.isfinite(row["scratch_mib"]) and math.isfinite(row["torch_mib"])


@pytest.mark.end_to_end
def test_a_child_runs_verify_and_prints_its_peak(capsys):
    assert memory.main(["verify", json.dumps(asdict(TINY))]) == 0
    assert positive(float(capsys.readouterr().out))


def test_memory_growth_is_the_long_run_less_the_short_ones(monkeypatch):
    runs = []
    monkeypatch.setattr(memory, "in_fresh_processes", lambda jobs: runs.extend(jobs) or [300.0, 301.5, 301.0])
    row = memory.growth(TINY, 10, 50)
    assert [json.loads(job[1])["iterations"] for job in runs] == [10, 50, 10]
    assert (row["growth_mib"], row["noise_mib"]) == (1.0, 1.0)  # 301.5 - median(300, 301); |300 - 301|


@pytest.mark.end_to_end
def test_cold_start_times_both_commands_and_counts_failures():
    c = verifier.cold_start(2, ("-c", "raise SystemExit(3)"), ("-c", "pass"))
    assert positive(c["command_s"]) and positive(c["reference_s"]) and positive(c["ratio"])
    assert c["failures"] == 2
    assert c["reference"] == "python -c pass"


@pytest.mark.end_to_end
def test_overhead_runs_verify_and_the_bare_work():
    o = verifier.overhead(TINY, 1)
    assert positive(o["verify_s"]) and positive(o["bare_s"]) and positive(o["ratio"])
    assert o["verdicts"] == "pass"


def test_a_run_a_ctrl_c_stopped_stops_the_benchmark(monkeypatch):
    """verify.run returns a report after Ctrl-C, its verdict "interrupted": the benchmark stops rather than time a
    run cut short and go on."""
    interrupted = type("Report", (), {"verdict": "interrupted", "ok": False})()
    monkeypatch.setattr(verifier.verify, "run", lambda config: interrupted)
    with pytest.raises(KeyboardInterrupt):
        verifier.overhead(TINY, 1)


def step_row(arch, dtype, flops, ratio, efficiency):
    return {
        "arch": arch,
        "m": 200,
        "activations": "relu, sigmoid",
        "loss": "bce",
        "dtype": dtype,
        "flops": flops,
        "rounds": 7,
        "scratch_calls": 310,
        "torch_calls": 97,
        "scratch_s": 0.000213 * ratio,
        "torch_s": 0.000213,
        "ratio": ratio,
        "scratch_gflops": 0.187,
        "matmul_gflops": 88.41,
        "efficiency": efficiency,
    }


FAKE = {
    "command": "python -m benchmarks",
    "quick": False,
    "seconds": 311.7,
    "machine": {
        "cpu": "Example CPU 9000",
        "cores": 2,
        "memory_gib": 23.47,
        "python": "3.11.7",
        "numpy": "2.4.6",
        "blas": "scipy-openblas 0.3.31",
        "torch": "2.13.0+cpu",
        "threads": 2,
        "thread_env": "GOMP_SPINCOUNT=10000, OPENBLAS_THREAD_TIMEOUT=4",
        "date": "2026-12-02 01:15 UTC",
        "load_start": 0.83,
        "load_end": 1.21,
        "others": 0.123,
    },
    "plan": {"rounds": 7, "batch_s": 0.1, "settle_s": 0.15, "matmul_n": 2048, "learning_rate": 0.01},
    "steps": [
        step_row("3,4,4,1", "float64", 38400.0, 0.246, 0.0022),
        step_row("784,256,128,10", "float64", 2.88e9, 1.226, 0.874),
        step_row("1024,1024,1024,1", "float32", 5.2e10, 0.947, 0.948),
    ],
    "memory": [
        {
            "arch": "784,256,128,10",
            "m": 2048,
            "dtype": "float64",
            "data_mib": 14.2,
            "baseline_mib": 236.01,
            "scratch_mib": 45.02,
            "torch_mib": 50.14,
            "ratio": 0.898,
        },
        {
            "arch": "3,4,4,1",
            "m": 200,
            "dtype": "float64",
            "data_mib": 0.0061,
            "baseline_mib": 230.4,
            "scratch_mib": None,
            "torch_mib": None,
            "ratio": None,
        },
    ],
    "cold_start": {
        "command": "python -m verify --arch 3,4,4,1 --no-tensorboard -q",
        "reference": "python -c 'import torch'",
        "repeats": 5,
        "command_s": 2.981,
        "reference_s": 2.034,
        "ratio": 1.467,
        "failures": 0,
    },
    "overhead": {
        "arch": "784,256,128,10",
        "m": 2048,
        "dtype": "float64",
        "iterations": 50,
        "repeats": 3,
        "tensorboard": True,
        "gradcheck": True,
        "verify_s": 7.77,
        "bare_s": 5.37,
        "ratio": 1.36,
        "overhead": 0.36,
        "verdicts": "pass",
    },
    "growth": {
        "arch": "3,4,4,1",
        "short": 100,
        "long": 2000,
        "peaks_mib": [237.5, 238.1, 237.6],
        "growth_mib": 0.55,
        "noise_mib": 0.1,
        "tolerance_mib": 1.0,
    },
}

NUMBER = re.compile(r"\d+(?:\.\d+)?")


def data_numbers(value) -> list[float]:
    """Every number in the results: the values, and the numbers written inside strings (versions, commands)."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in data_numbers(v)]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in data_numbers(v)]
    if isinstance(value, str):
        return [float(n) for n in NUMBER.findall(value)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [abs(float(value))]
    return []


def comes_from(token: str, numbers: list[float]) -> bool:
    """The token is one of the numbers as printed, in its own units, in ms (x1000) or in % (x100)."""
    decimals = len(token.split(".")[1]) if "." in token else 0
    half_unit = 0.5 * 10.0**-decimals * (1 + 1e-9)
    return any(abs(scale * x - float(token)) <= half_unit for x in numbers for scale in (1, 100, 1000))


def test_results_state_no_number_the_run_did_not_give():
    results = report.summarise(FAKE)
    text = report.render(results)
    numbers = data_numbers(results)
    tokens = NUMBER.findall(text)
    assert len(tokens) > 100  # the check below has something to check
    assert [t for t in tokens if not comes_from(t, numbers)] == []


def test_conclusions_are_computed_from_the_results():
    results = report.summarise(FAKE)
    assert results["summary"]["geomean"] == pytest.approx((0.246 * 1.226 * 0.947) ** (1 / 3))
    assert results["summary"]["small"]["archs"] == ["3,4,4,1"]
    assert (results["summary"]["efficiency"]["low"], results["summary"]["efficiency"]["high"]) == (0.874, 0.948)
    met = {t["name"].split(" (")[0]: t["met"] for t in results["targets"]}
    assert met == {
        "scratch's step no slower than torch_ref's on every cell": False,
        "geometric mean of scratch/torch": True,
        "scratch's GFLOP/s on 784,256,128,10 and 1024,1024,1024,1 as a share of the matmul's": True,
        "scratch's peak memory within the limit of torch_ref's on every cell": True,  # 0.898x, the one measured
        "cold start against import torch": False,  # 1.467x against 1.3x
        "verifier overhead over the bare work": False,
        "growth of verify's peak memory with --iterations": True,
    }
    assert "0.898x | met" in report.render(results)
    text = report.render(results)
    assert "0.246 to 1.226" not in text  # small and large networks are summarised apart
    assert "1.226x | **not met**" in text


def test_the_share_of_cpu_time_others_took_is_the_busy_time_less_the_runs_own(tmp_path, monkeypatch):
    monkeypatch.setattr(machine.os, "sysconf", lambda name: 100)  # ticks per second
    monkeypatch.setattr(machine.os, "times", lambda: (1.0, 0.5, 0.25, 0.25, 0.0))
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 5 50 800 10 0 5 30 0 0\ncpu0 50 2 25 400 5 0 2 15 0 0\nintr 1\n")
    assert machine.cpu_times(str(stat)) == (10.0, 1.9, 2.0)  # idle and iowait are not busy; steal is
    start = machine.cpu_times(str(stat))
    stat.write_text("cpu  400 5 150 900 10 0 5 130 0 0\n")
    monkeypatch.setattr(machine.os, "times", lambda: (3.0, 1.0, 0.5, 0.5, 0.0))  # this run: 3.0 s more
    assert machine.others(start, machine.cpu_times(str(stat))) == pytest.approx((5.0 - 3.0) / 6.0)
    assert machine.cpu_times(str(tmp_path / "absent")) is None  # not Linux: nothing to say
    assert machine.others(None, start) is None and machine.others(start, start) is None
    lines = "\n".join(report.machine_lines(FAKE["machine"]))
    assert "at the end; other processes took 12% of the machine's CPU time during the run, which is why" in lines
    alone = "\n".join(report.machine_lines({**FAKE["machine"], "others": None}))
    assert "took" not in alone and "other processes may have run alongside, which is why" in alone


def test_an_adam_mini_batch_cell_steps_both_sides_through_the_same_batches():
    adam = Config(
        arch=(3, 4, 1),
        examples=20,
        activations=("relu", "sigmoid"),
        loss="bce",
        learning_rate=0.01,
        optimizer="adam",
        mini_batch_size=8,
    )
    row = steps.time_step(adam, steps.Plan(rounds=2, batch_s=0.001, settle_s=0.0, matmul_n=32))
    assert positive(row["scratch_s"]) and positive(row["torch_s"])
    assert row["flops"] == 2 * 8 * (3 * (3 * 4 + 4 * 1) - 3 * 4)  # a step is one mini-batch of 8
    X, Y, params = steps.data(adam)
    scratch_step, torch_step = steps.ScratchStep(adam, X, Y, params), steps.torch_step(adam, X, Y, params)
    costs = [(scratch_step(), torch_step()) for _ in range(7)]  # batches of 8, 8, 4, then round again
    assert len({round(c, 12) for c, _ in costs[:3]}) == 3  # three different batches
    assert all(abs(a - b) <= 1e-12 * abs(b) for a, b in costs)  # the same Adam steps, so the same costs
