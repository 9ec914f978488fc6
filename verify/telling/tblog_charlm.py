"""The language model's TensorBoard log (checking/charlm_names.py): one experiment per run, as tblog.py lays it
out, runs/<experiment>/{numpy,torch,diff}: numpy/ (the implementation under test) and torch/ log each name's loss
under the same tag, so one chart draws both curves, and, at the end, the names each side samples from its trained
parameters (text); diff/ logs the gap between the two losses. Kept small: a few dozen scalars and two texts."""

from __future__ import annotations

import contextlib
import math
import os

from ..errors import UsageError
from .tblog import FOLDERS, SIDES, _utf8
from .tblog_names import experiment_name, make_run_dir

GAP_FLOOR = 1e-20  # log10 of an exact zero gap is drawn as -20


class NamesLog:
    """The writers of one experiment and what the names' loop puts into them."""

    def __init__(self, config, implementation: str):
        from torch.utils.tensorboard import SummaryWriter

        self.config = config
        name = experiment_name(config.arch, config.activations, config.name, implementation, config.impl)
        self.run_dir = make_run_dir(config.logdir, name)
        self.writers = {}
        try:
            for side in SIDES:
                self.writers[side] = SummaryWriter(os.path.join(self.run_dir, FOLDERS[side]))
        except OSError as error:
            self.close()
            raise UsageError(f"--logdir {config.logdir}: cannot write the TensorBoard logs ({error})") from None

    def losses(self, step: int, impl: float, torch: float) -> None:
        """Each side's loss on name `step` (its own run), and their gap."""
        self.writers["impl"].add_scalar("loss", impl, step)
        self.writers["torch"].add_scalar("loss", torch, step)
        gap = abs(impl - torch)
        self.writers["diff"].add_scalar("gap/loss_log10", math.log10(max(gap, GAP_FLOOR)), step)

    def samples(self, impl: list[str], torch: list[str]) -> None:
        """The names each side samples at the end, seeds 0, 1, ..., one a line."""
        for side, names in (("impl", impl), ("torch", torch)):
            self.writers[side].add_text("sampled names", _utf8("  \n".join(names)), 0)

    def close(self) -> None:
        for writer in self.writers.values():
            with contextlib.suppress(OSError):
                writer.close()
