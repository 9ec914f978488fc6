"""Peak memory, each figure from a fresh process that reports its own peak resident set:

    python -m benchmarks.memory baseline|scratch|torch CONFIG_JSON DATA.npz   # prints MiB
    python -m benchmarks.memory verify CONFIG_JSON                              # verify.run(config)

The peak is the kernel's VmHWM (/proc/self/status), read by the process itself. Not getrusage's
ru_maxrss: at exec Linux folds the parent's high-water mark into it, so a child of a benchmark
holding 1 GiB reports at least 1 GiB. A step's peak is a side's process less a baseline process:
both import the same modules and load the cell's data and parameters from a file (np.load fills
the arrays in place, leaving no larger transient behind); the side's process then builds its step
and runs it twice, so its figure is all its steps add: temporaries, new parameters, its own
copies, and what a library sets up on first use.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, replace

import numpy as np

import verify
from verify import Config

from . import steps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROWTH_TOLERANCE_MIB = 1.0


def own_peak_mib() -> float | None:
    """This process's peak resident set so far (VmHWM), MiB; None where /proc is not there."""
    try:
        with open("/proc/self/status", encoding="utf-8") as f:
            return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def in_fresh_processes(jobs: list[list[str]]) -> list[float | None]:
    """Each job's peak from its own process; the jobs run at the same time (memory is measured, not time)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "benchmarks.memory", *job],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for job in jobs
    ]
    peaks = []
    for proc in procs:
        out = proc.communicate()[0].strip()
        peaks.append(float(out) if proc.returncode == 0 and out not in ("", "None") else None)
    return peaks


def step_memory(config: Config) -> dict:
    """Peak memory of two steps of each side above the baseline, MiB."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "data.npz")
        X, Y, params = steps.data(config)
        np.savez(path, X=X, Y=Y, **params)
        data_mib = sum(a.nbytes for a in (X, Y, *params.values())) / 2**20
        del X, Y, params
        jobs = [[kind, json.dumps(asdict(config)), path] for kind in ("baseline", "scratch", "torch")]
        base, s, t = in_fresh_processes(jobs)
    row = {
        "arch": ",".join(map(str, config.arch)),
        "m": config.examples,
        "dtype": config.dtype,
        "data_mib": data_mib,
        "optimizer": config.optimizer,
        "mini_batch_size": config.mini_batch_size,
        "baseline_mib": base,
        "scratch_mib": None,
        "torch_mib": None,
        "ratio": None,
    }
    if base is not None and s is not None and t is not None:
        row.update(scratch_mib=s - base, torch_mib=t - base, ratio=(s - base) / (t - base) if t > base else None)
    return row


def growth(config: Config, short: int, long: int) -> dict:
    """verify.run(config)'s peak at `short` and `long` iterations (short twice, for the run-to-run noise)."""
    runs = [short, long, short]
    peaks = in_fresh_processes([["verify", json.dumps(asdict(replace(config, iterations=n)))] for n in runs])
    row = {
        "arch": ",".join(map(str, config.arch)),
        "short": short,
        "long": long,
        "peaks_mib": peaks,
        "growth_mib": None,
        "noise_mib": None,
        "tolerance_mib": GROWTH_TOLERANCE_MIB,
    }
    if None not in peaks:
        row.update(growth_mib=peaks[1] - statistics.median(peaks[::2]), noise_mib=abs(peaks[0] - peaks[2]))
    return row


def config_from_json(text: str) -> Config:
    return Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(text).items()})


def main(argv: list[str]) -> int:
    kind, config = argv[0], config_from_json(argv[1])
    if kind == "verify":
        verify.run(config)
    else:
        with np.load(argv[2]) as archive:
            X, Y = archive["X"], archive["Y"]
            params = {k: archive[k] for k in archive.files if k not in ("X", "Y")}
        if kind != "baseline":
            side = steps.ScratchStep if kind == "scratch" else steps.torch_step
            step = side(config, X, Y, params)
            del params  # the step holds what it needs of them
            step()
            step()
    print(own_peak_mib())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
