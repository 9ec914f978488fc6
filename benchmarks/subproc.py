"""Child processes timed from launch to exit, with their own peak RSS.

A child's ru_maxrss (from wait4) is not its own: Linux carries the forking process's
high-water mark across fork/exec, so a child of a benchmark process holding 800 MiB
"peaks" at 800 MiB. Each command therefore runs under a small launcher interpreter
(~10 MiB), which times it from spawn to exit, reaps it with os.wait4 and prints
{"seconds", "maxrss_kib", "returncode"}. The launcher's own start-up is not in `seconds`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Optional, Sequence

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_LAUNCHER = r"""
import json, os, subprocess, sys, time
argv, out_path = json.loads(sys.argv[1]), sys.argv[2]
out = open(out_path, "wb") if out_path else subprocess.DEVNULL
start = time.perf_counter()
proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
seconds = time.perf_counter() - start
proc.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "returncode": proc.returncode}))
"""


@dataclass(frozen=True)
class ChildRun:
    """Wall time (spawn to reaped), the child's own peak resident set and its exit status."""

    seconds: float
    maxrss_mib: float
    returncode: int


def run_child(argv: Sequence[str], stdout_path: Optional[str] = None, cwd: str = REPO_ROOT) -> ChildRun:
    """Run argv to completion under the launcher; its stdout to `stdout_path` (or discarded)."""
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, json.dumps(list(argv)), stdout_path or ""],
                          cwd=cwd, capture_output=True, text=True, check=False)
    try:
        info = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return ChildRun(float("nan"), float("nan"), done.returncode or -1)
    return ChildRun(info["seconds"], info["maxrss_kib"] / 1024.0, info["returncode"])  # Linux: KiB
