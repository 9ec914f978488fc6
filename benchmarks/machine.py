"""What the numbers were measured on: CPU, cores, load, NumPy's BLAS and its threads, torch's threads."""

from __future__ import annotations

import ctypes
import os
import platform
import re
from typing import Optional

import numpy as np


def cpu_model() -> str:
    """The CPU's "model name" from /proc/cpuinfo (platform.processor() as a fallback)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    """The vector extensions the CPU reports (avx2, avx512f, fma), which set the BLAS ceiling."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    found = [f for f in ("fma", "avx2", "avx512f", "avx512_bf16") if f in flags] or ["no fma/avx2/avx512"]
                    if "hypervisor" in flags:
                        found.append("virtual machine: hypervisor flag set")
                    return ", ".join(found)
    except OSError:
        pass
    return "unknown"


def memory_gib() -> Optional[float]:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def numpy_blas() -> dict:
    """NumPy's BLAS as its build config names it (np.__config__.CONFIG), plus OpenBLAS's own threads/core."""
    info: dict = {"name": "unknown", "version": "", "config": ""}
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        info.update(name=blas.get("name", "unknown"), version=blas.get("version", ""),
                    config=blas.get("openblas configuration", ""))
    except (AttributeError, KeyError, TypeError):
        pass
    info.update(_openblas_runtime())
    return info


def _openblas_function(name: str):
    """A function of the OpenBLAS NumPy loaded (`get_num_threads`, `set_num_threads`, `get_corename`), or None.

    Found through /proc/self/maps and ctypes, whatever symbol prefix the wheel's build uses.
    """
    path = None
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            for line in f:
                if "openblas" in line.lower() and ".so" in line:
                    path = line.split()[-1]
                    break
        lib = ctypes.CDLL(path) if path else None
    except OSError:
        return None
    if lib is None:
        return None
    for prefix in ("scipy_openblas_", "openblas_"):
        for suffix in ("64_", "_64_", ""):
            fn = getattr(lib, f"{prefix}{name}{suffix}", None)
            if fn is not None:
                fn.__dict__["library"] = os.path.basename(path)
                return fn
    return None


def openblas_threads(set_to: Optional[int] = None) -> Optional[int]:
    """NumPy's OpenBLAS thread count (None if unknown); with `set_to`, set it first (diagnostics only)."""
    if set_to is not None:
        setter = _openblas_function("set_num_threads")
        if setter is None:
            return None
        setter.argtypes, setter.restype = [ctypes.c_int], None
        setter(set_to)
    getter = _openblas_function("get_num_threads")
    if getter is None:
        return None
    getter.restype = ctypes.c_int
    return getter()


def _openblas_runtime() -> dict:
    """Threads and core type straight from the loaded OpenBLAS (threadpoolctl-free: ctypes on its symbols)."""
    getter = _openblas_function("get_num_threads")
    if getter is None:
        return {}
    out: dict = {"library": getter.__dict__.get("library"), "threads": openblas_threads()}
    core = _openblas_function("get_corename")
    if core is not None:
        core.restype = ctypes.c_char_p
        out["core"] = core().decode(errors="replace")
    return out


def torch_info() -> dict:
    """torch's version, intra/inter-op threads, parallel backend and math libraries (parallel_info, show)."""
    import torch

    parallel = torch.__config__.parallel_info()
    show = torch.__config__.show()
    libs = [line.strip() for line in parallel.splitlines() if re.search(r"Math Kernel|MKL-DNN|oneDNN|OpenBLAS", line)]
    backend = re.search(r"ATen parallel backend: (.*)", parallel)
    blas = re.search(r"BLAS_INFO=([^,\s]+)", show)
    capability = re.search(r"CPU capability usage: (\S+)", show)
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "backend": backend.group(1).strip() if backend else "unknown",
        "blas": blas.group(1) if blas else "unknown",
        "libraries": libs,
        "capability": capability.group(1) if capability else "unknown",
    }


def describe() -> dict:
    """Everything the RESULTS header reports about this machine and its libraries."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    env = {k: os.environ[k] for k in sorted(os.environ) if re.match(r"(OMP|OPENBLAS|MKL|GOTO|BLIS)_", k)}
    return {
        "cpu": cpu_model(),
        "flags": cpu_flags(),
        "cores": os.cpu_count(),
        "usable_cores": affinity,
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": numpy_blas(),
        "torch": torch_info(),
        "thread_env": env,
        "load_start": os.getloadavg(),
    }
