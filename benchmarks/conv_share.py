"""How much of a conv network's step each side spends in the convolution and in pooling (see convnet.py).

scratch: the verifier's conv and pool layers (verify/spatial.py) call the course's functions through their `call`
argument; WatchedLayers hands them a Stopwatch there, which times each call of `conv_forward`, `conv_backward`,
`pool_forward` and `pool_backward` inside the step. Without a stopwatch it is the verifier's LayeredAPI unchanged.

torch: the step runs under torch.profiler, and the convolution's time is the profiler's CPU time (each op's
duration on the thread that ran it, the ops it calls included) of the first conv ops F.conv2d and autograd's backward
node dispatch; pooling's likewise. Each is divided by the batch's own wall time under the same measurement, so the
measurement's cost counts in both the part and the whole.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from verify.impl.layered import LayeredAPI
from verify.layers import LayerKind, scratch_call
from verify.spatial import Spatial

from . import steps

SCRATCH_CONV = ("conv_forward", "conv_backward")
SCRATCH_POOL = ("pool_forward", "pool_backward")
# the profiler's names of the ops F.conv2d, F.max_pool2d, F.avg_pool2d and autograd's backward nodes dispatch first;
# each op's CPU time includes the ops it calls, so the kernels below them are counted once
TORCH_CONV = ("aten::conv2d", "aten::convolution_backward")
TORCH_POOL = (
    "aten::max_pool2d",
    "aten::max_pool2d_with_indices_backward",
    "aten::avg_pool2d",
    "aten::avg_pool2d_backward",
)
# conv ops that only dispatch; the others with "conv" in their names are the kernels that ran (oneDNN's or not)
DISPATCH = {*TORCH_CONV, "aten::convolution", "aten::_convolution", "ConvolutionBackward0"}


class Stopwatch:
    """scratch's course functions as spatial.scratch_call runs them, each call's seconds added to its name's."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def __call__(self, name: str, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return scratch_call(name, *args)
        finally:
            self.seconds[name] += time.perf_counter() - start

    def total(self, names: tuple[str, ...]) -> float:
        return sum(self.seconds[name] for name in names)


class WatchedLayers(LayeredAPI):
    """The verifier's LayeredAPI; while `stopwatch` is set, its conv and pool layers call scratch through it."""

    stopwatch: Stopwatch | None = None

    def _forward_of(self, kind: LayerKind):
        forward = super()._forward_of(kind)
        return (
            forward
            if self.stopwatch is None or not isinstance(kind, Spatial)
            else partial(forward, call=self.stopwatch)
        )

    def _backward_of(self, kind: LayerKind):
        backward = super()._backward_of(kind)
        return (
            backward
            if self.stopwatch is None or not isinstance(kind, Spatial)
            else partial(backward, call=self.stopwatch)
        )


@dataclass(frozen=True)
class Split:
    """One batch with the stopwatch on, per step: its seconds, those in the convolution and in pooling, and (torch)
    the conv kernels that ran."""

    step_s: float
    conv_s: float
    pool_s: float
    kernels: tuple[str, ...] = ()


def _batch(step: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return time.perf_counter() - start


def scratch_split(step: Callable[[], object], api: WatchedLayers, calls: int) -> Split:
    """`calls` steps of scratch with api's stopwatch on."""
    api.stopwatch = watch = Stopwatch()
    try:
        seconds = _batch(step, calls)
    finally:
        api.stopwatch = None
    return Split(seconds / calls, watch.total(SCRATCH_CONV) / calls, watch.total(SCRATCH_POOL) / calls)


@contextlib.contextmanager
def _fd2_silenced() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null: the profiler's library writes a line there at every start and stop, which
    would bury the benchmark's own log."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def profiled(step: Callable[[], object], calls: int) -> tuple[float, dict[str, float]]:
    """`calls` steps under torch.profiler (imported here: it is slow to import and only this needs it): their wall
    seconds, and each op's CPU seconds by the profiler's name for it."""
    from torch.profiler import ProfilerActivity, profile

    prof = profile(activities=[ProfilerActivity.CPU])
    with _fd2_silenced():
        prof.start()
    try:
        seconds = _batch(step, calls)
    finally:
        with _fd2_silenced():
            prof.stop()
    return seconds, {event.key: event.cpu_time_total / 1e6 for event in prof.key_averages()}  # the profiler's us


def torch_split(step: Callable[[], object], calls: int) -> Split:
    """`calls` steps of torch, profiled."""
    seconds, cpu_s = profiled(step, calls)

    def total(names: tuple[str, ...]) -> float:
        return sum(cpu_s.get(name, 0.0) for name in names) / calls

    kernels = sorted(k for k in cpu_s if "conv" in k and k not in DISPATCH and not k.startswith("autograd::"))
    return Split(seconds / calls, total(TORCH_CONV), total(TORCH_POOL), tuple(kernels))


def split_batches(
    api: WatchedLayers, scratch_step: Callable[[], object], torch_step: Callable[[], object], calls: dict
) -> tuple[dict[str, Callable[[], None]], dict[str, list[Split]]]:
    """Two more entries for steps.interleaved's rounds, "scratch split" and "torch split": each a batch of `calls`
    steps of its side with the stopwatch on, appending its Split to found[side], so that round r's split is
    found[side][r], taken in the same round as the timed batches (interleaved's own timing of them is not used).
    The profiler is started once first: its first start is slower."""
    found: dict[str, list[Split]] = {"scratch": [], "torch": []}
    torch_split(torch_step, 1)
    fns = {
        "scratch split": lambda: found["scratch"].append(scratch_split(scratch_step, api, calls["scratch"])),
        "torch split": lambda: found["torch"].append(torch_split(torch_step, calls["torch"])),
    }
    return fns, found


def split_figures(found: dict[str, list[Split]], timed: dict[str, list[float]]) -> dict:
    """The row's figures of the split: per side the medians of its conv and pool seconds per step and of their
    shares of the step, and the step's time with the stopwatch on over its time in the timed batch of the same
    round (`*_watch`, timed[side][r]: seconds per step); scratch's conv seconds over torch's in the same round
    (`conv_ratio`); all medians over the rounds."""
    row: dict[str, Any] = {}
    for side in ("scratch", "torch"):
        runs = found[side]
        assert len(runs) == len(timed[side]), "one split of each side per round"
        row[f"{side}_conv_s"] = statistics.median(s.conv_s for s in runs)
        row[f"{side}_pool_s"] = statistics.median(s.pool_s for s in runs)
        row[f"{side}_conv_share"] = statistics.median(s.conv_s / s.step_s for s in runs)
        row[f"{side}_pool_share"] = statistics.median(s.pool_s / s.step_s for s in runs)
        row[f"{side}_watch"] = steps.paired([s.step_s for s in runs], timed[side])
    row["conv_ratio"] = steps.paired([s.conv_s for s in found["scratch"]], [s.conv_s for s in found["torch"]])
    row["torch_kernels"] = sorted({k for s in found["torch"] for k in s.kernels})
    return row


__all__ = ["Split", "Stopwatch", "WatchedLayers", "profiled", "scratch_split", "split_batches", "split_figures"]
__all__ += ["torch_split"]
