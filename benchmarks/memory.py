"""Peak memory of one training step, measured in a fresh subprocess per (entry, dtype, side).

    python -m benchmarks.memory 784,256,128,10 float64 scratch   # prints one JSON line

What is measured (both sides the same way):
  rss_mib  the step's resident-set high-water mark above the resident set just before it.
           After a warm-up step, gc.collect() and malloc_trim(0) return freed heap pages to
           the kernel, the kernel's peak counter (VmHWM) is reset through /proc/self/clear_refs,
           one step runs, and VmHWM - VmRSS(before) is its peak; median of three steps.
  traced_mib (scratch only) the tracemalloc peak of one step: every NumPy buffer and Python
           object allocated during it and alive at the same moment (torch's allocator is not
           traced, hence no such figure for torch).
A fresh process per cell keeps one measurement from reusing pages another freed.
"""

from __future__ import annotations

import ctypes
import gc
import json
import statistics
import sys
import tempfile
import tracemalloc
from typing import Callable, Optional

from .entries import ScratchStep, find_entry, make_data, torch_step
from .subproc import run_child

WARMUP_STEPS = 1
MEASURED_STEPS = 3


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


def _trim() -> None:
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def rss_peak_mib(step: Callable[[], object]) -> Optional[float]:
    """Peak resident memory one call of `step` adds (MiB); None where VmHWM cannot be reset."""
    _trim()
    before = _status_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w", encoding="utf-8") as f:
            f.write("5")  # reset VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        return None
    step()
    return (_status_kib("VmHWM") - before) / 1024.0


def traced_peak_mib(step: Callable[[], object]) -> float:
    """tracemalloc's peak over one call of `step` (MiB)."""
    gc.collect()
    tracemalloc.start()
    try:
        step()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def measure(entry_name: str, dtype: str, side: str) -> dict:
    """Memory of one step of `side` ("scratch" or "torch") on one entry, in this process."""
    entry = find_entry(entry_name)
    X, Y, params = make_data(entry, dtype)
    resident = sum(a.nbytes for a in (X, Y, *params.values())) / 2**20
    step = ScratchStep(entry, X, Y, params) if side == "scratch" else torch_step(entry, X, Y, params)
    del params
    for _ in range(WARMUP_STEPS):
        step()
    peaks = [rss_peak_mib(step) for _ in range(MEASURED_STEPS)]
    result = {"entry": entry_name, "dtype": dtype, "side": side, "data_params_mib": resident,
              "rss_mib": None if None in peaks else statistics.median(peaks)}
    if side == "scratch":
        result["traced_mib"] = traced_peak_mib(step)
    return result


def measure_in_subprocess(entry_name: str, dtype: str, side: str) -> dict:
    """measure() in a fresh interpreter; {"error": ...} if the child fails."""
    with tempfile.NamedTemporaryFile("r", suffix=".json") as out:
        child = run_child([sys.executable, "-m", "benchmarks.memory", entry_name, dtype, side], out.name)
        text = open(out.name, encoding="utf-8").read().strip()
    if child.returncode != 0 or not text:
        return {"error": f"exit status {child.returncode}"}
    return json.loads(text.splitlines()[-1])


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[2] not in ("scratch", "torch"):
        print("usage: python -m benchmarks.memory ENTRY DTYPE scratch|torch", file=sys.stderr)
        return 2
    print(json.dumps(measure(*argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
