"""What the machine gives a run: torch's threads for the network's size, and whether its arrays fit in memory."""

from __future__ import annotations

import contextlib
import os
from typing import Optional

import numpy as np

from .config import Config, arch_words
from .data import DEFAULT_EXAMPLES
from .errors import UsageError

SMALL_NETWORK_FLOPS = 5e7  # below this per training step, torch runs on one thread


@contextlib.contextmanager
def torch_threads_for(config: Config, m: int):
    """One torch thread for a small network: its operations are too small to split, and torch's
    threads then only wait on each other (12 times slower per step on a busy 2-core machine)."""
    import torch

    flops_per_step = 6 * m * sum(a * b for a, b in zip(config.arch[:-1], config.arch[1:]))
    threads = torch.get_num_threads()
    if flops_per_step < SMALL_NETWORK_FLOPS:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def check_memory(config: Config) -> None:
    """Refuse, before allocating, a network whose arrays would not fit in this machine's memory."""
    itemsize = np.dtype(config.dtype).itemsize
    m = config.examples or DEFAULT_EXAMPLES
    weights = sum((a + 1) * b for a, b in zip(config.arch[:-1], config.arch[1:]))
    # parameters, gradients and updates on three models; activations and their gradients on both sides
    need = itemsize * (12 * weights + 10 * m * sum(config.arch))
    have = physical_memory()
    if have and need > have:
        raise UsageError(f"{arch_words(config)} with {m} examples would need about "
                         f"{_gib(need)} of memory; this machine has {_gib(have)}")


def physical_memory() -> Optional[int]:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"
