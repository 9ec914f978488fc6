"""TensorBoard logging: one experiment per run, runs/<name>/{scratch,torch,diff}, same tags on both sides.

TensorBoard (and its writer) is imported only when logging is on.
"""

from __future__ import annotations

import os
import re
import time
from typing import Optional

from .errors import UsageError


def experiment_name(arch, activations, name: Optional[str]) -> str:
    """`--name` made safe for one folder, or time + architecture + activations."""
    if name is None:
        return "{}_{}_{}".format(time.strftime("%Y-%m-%d_%H%M%S"), "-".join(map(str, arch)), "-".join(dict.fromkeys(activations)))
    safe = re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("._") or "run"
    return safe


def make_run_dir(logdir: str, name: str) -> str:
    """A new folder under logdir; a taken name gets a suffix (-2, -3, ...), so nothing is appended to or overwritten."""
    try:
        os.makedirs(logdir, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--logdir {logdir}: cannot create it ({error.strerror})") from None
    if not os.access(logdir, os.W_OK | os.X_OK):
        raise UsageError(f"--logdir {logdir} is not writable")
    for n in range(1, 10_000):
        path = os.path.join(logdir, name if n == 1 else f"{name}-{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
        except OSError as error:
            raise UsageError(f"--logdir {logdir}: cannot create {path} ({error.strerror})") from None
    raise UsageError(f"--logdir {logdir}: too many runs named {name}")


class TensorBoardLog:
    """Writers for the scratch, torch and diff runs of one experiment."""

    def __init__(self, run_dir: str):
        from torch.utils.tensorboard import SummaryWriter

        self.run_dir = run_dir
        self.writers = {side: SummaryWriter(log_dir=os.path.join(run_dir, side)) for side in ("scratch", "torch", "diff")}

    def iteration(self, i: int, training) -> None:
        """Both sides' cost at iteration i (a side that went non-finite stops logging)."""
        s = training.scratch_costs[i] if i < len(training.scratch_costs) else None
        t = training.torch_costs[i] if i < len(training.torch_costs) else None
        if s is not None:
            self.writers["scratch"].add_scalar("cost", s, i)
        if t is not None:
            self.writers["torch"].add_scalar("cost", t, i)
        if s is not None and t is not None:
            self.writers["diff"].add_scalar("cost_abs_diff", abs(s - t), i)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
