"""What the numbers were measured on, and how much of the machine the run had: the load, and the share of the
CPU time that other processes took while it ran."""

from __future__ import annotations

import os
import platform
import time

import numpy as np
import torch

from verify.machine import physical_memory

PROC_STAT = "/proc/stat"


def machine(threads: int) -> dict:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    memory = physical_memory()
    blas = getattr(np.__config__, "CONFIG", {}).get("Build Dependencies", {}).get("blas", {})
    env = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(("OMP_", "GOMP_", "OPENBLAS_", "MKL_"))]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory / 2**30 if memory else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "blas": f"{blas.get('name', 'unknown BLAS')} {blas.get('version', '')}".strip(),
        "threads": threads,
        "thread_env": ", ".join(env) or "none",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "load_start": os.getloadavg()[0],
        "cpu_times_start": cpu_times(),
    }


def cpu_times(path: str = PROC_STAT) -> tuple[float, float, float] | None:
    """(all the machine's CPU time, its busy part, this process's and its waited-for children's) in seconds since
    boot, from /proc/stat's first line (every core, every process, the time a hypervisor took included) and
    os.times(); None where there is no such file (not Linux)."""
    try:
        with open(path, encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if fields[:1] != ["cpu"] or len(fields) < 9:
        return None
    ticks = [int(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal (guest: within user)
    tick = os.sysconf("SC_CLK_TCK")
    own = os.times()
    return sum(ticks) / tick, (sum(ticks) - ticks[3] - ticks[4]) / tick, own[0] + own[1] + own[2] + own[3]


def others(start: tuple[float, float, float] | None, end: tuple[float, float, float] | None) -> float | None:
    """The share of the machine's CPU time between two cpu_times() readings that went to other processes (and to
    a hypervisor's other guests): the busy time less this run's own."""
    if start is None or end is None or end[0] <= start[0]:
        return None
    return max(0.0, (end[1] - start[1]) - (end[2] - start[2])) / (end[0] - start[0])
