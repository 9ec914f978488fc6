"""Each layer's pictures in TensorBoard, logged now and then during training (tblog.HISTOGRAM_POINTS times): the
histograms of its parameters and gradients on each side, and the first conv layer's filters as images, each side's
and their difference (tb_filters.py), in diff/ under `filters/conv<l>/`."""

from __future__ import annotations

import numpy as np

from ..network import Network
from ..spatial import Conv
from .tb_filters import log_filters

HISTOGRAM_BINS = 30  # over the values' own range


def layer_pictures(writers: dict, network: Network, record) -> None:
    """The histograms and filters of one training record (a training.Iteration), into each side's writer."""
    sides = {"impl": (record.impl_after, record.impl_grads), "torch": (record.torch_after, record.torch_grads)}
    for side, (params, grads) in sides.items():
        for l in range(1, network.L + 1):
            kind = network.kind(l)
            tags = [(f"weights/{name}{l}", params[f"{name}{l}"]) for name in kind.names]
            tags += [(f"gradients/d{name}{l}", grads[f"d{name}{l}"]) for name in kind.names if name not in kind.offsets]
            for tag, values in tags:
                histogram(writers[side], tag, values, record.index)
    conv = next((l for l in range(1, network.L + 1) if isinstance(network.kind(l), Conv)), None)
    if conv is not None:
        W = f"W{conv}"
        with np.errstate(all="ignore"):  # a diverged side's weights: drawn as what clipping makes of them
            log_filters(writers["diff"], "filters", conv, record.impl_after[W], record.torch_after[W], record.index)


def histogram(writer, tag: str, values: np.ndarray, step: int) -> None:
    """A histogram of the finite values, with bins from their own range: torch's default
    bins stop at about 1e20, and a diverging run's weights go past that."""
    finite = values if np.isfinite(values).all() else values[np.isfinite(values)]
    if finite.size:
        with np.errstate(all="ignore"):
            writer.add_histogram(tag, finite, step, bins=HISTOGRAM_BINS)
