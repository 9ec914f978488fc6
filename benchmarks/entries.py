"""The suite's networks and the one-step workloads timed on them (a full gradient-descent step).

Only NumPy and scratch are imported at module level, so a memory-measuring subprocess for
the scratch side does not load torch.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np

import scratch

LEARNING_RATE = 0.01  # small, so hundreds of timed steps stay finite


@dataclass(frozen=True)
class Entry:
    """One network of the suite: layer sizes, m examples, activations, loss and data source."""

    dims: tuple[int, ...]
    m: int
    activations: tuple[str, ...]
    loss: str
    data: str  # "normal": X ~ N(0, 1); "flower": the course's planar data; "pixels": X ~ U(0, 1)

    @property
    def name(self) -> str:
        return ",".join(map(str, self.dims))

    @property
    def weights(self) -> int:
        """Number of weights (no biases): sum of n[l] n[l-1]."""
        return sum(a * b for a, b in zip(self.dims[:-1], self.dims[1:]))

    @property
    def flops(self) -> float:
        """FLOPs of one step, 6 x weights x m: forward W A (2), backward dW and dA_prev (2 each)."""
        return 6.0 * self.weights * self.m

    def flops_done(self, skips_dA0: bool) -> float:
        """FLOPs a step really does: 6Wm, less dA0's 2 n1 n0 m when the input gradient is skipped."""
        return self.flops - (2.0 * self.dims[1] * self.dims[0] * self.m if skips_dA0 else 0.0)

    @property
    def label(self) -> str:
        hidden = sorted(set(self.activations[:-1]))
        acts = f"{hidden[0]} hidden, {self.activations[-1]}" if len(hidden) == 1 else "/".join(self.activations)
        return f"{self.name} m={self.m} ({acts}, {self.loss})"


def _course(dims: tuple[int, ...], m: int, data: str = "normal") -> Entry:
    """relu hidden layers, sigmoid output, binary cross-entropy."""
    return Entry(dims, m, ("relu",) * (len(dims) - 2) + ("sigmoid",), "bce", data)


ENTRIES: tuple[Entry, ...] = (
    _course((3, 4, 4, 1), 200),
    _course((2, 4, 1), 400, "flower"),
    _course((12288, 20, 7, 5, 1), 209, "pixels"),
    Entry((784, 256, 128, 10), 2048, ("relu", "relu", "softmax"), "ce", "normal"),
    _course((1024, 1024, 1024, 1), 4096),
)

DTYPES = ("float64", "float32")


def find_entry(name: str) -> Entry:
    """The entry whose layer sizes read `name` (e.g. "3,4,4,1")."""
    for entry in ENTRIES:
        if entry.name == name:
            return entry
    raise ValueError(f"no suite entry {name!r}; choose from {', '.join(e.name for e in ENTRIES)}")


def make_data(entry: Entry, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, dict]:
    """X (n0, m), labels Y (nL, m) fitting the loss, and He-initialised parameters, all in `dtype`."""
    rng = np.random.default_rng(seed)
    n0, nL, m = entry.dims[0], entry.dims[-1], entry.m
    if entry.data == "flower":
        X, Y = scratch.DATASETS["flower"](m=m, seed=seed)
    else:
        X = rng.random((n0, m)) if entry.data == "pixels" else rng.standard_normal((n0, m))
        if entry.loss == "ce":
            Y = np.eye(nL)[:, rng.integers(0, nL, m)]  # one-hot columns
        else:
            Y = (rng.random((nL, m)) > 0.5).astype(np.float64)
    params = scratch.initialize_parameters_deep(entry.dims, init="he", seed=seed, dtype=dtype)
    return np.ascontiguousarray(X, dtype=dtype), np.ascontiguousarray(Y, dtype=dtype), params


def backward_options() -> dict:
    """{"input_gradient": False} when scratch's L_model_backward can skip dA0 = W1^T dZ1, as its own
    training loop (L_layer_model) does; {} for a version without the option (dA0 then computed)."""
    try:
        accepted = inspect.signature(scratch.L_model_backward).parameters
    except (TypeError, ValueError):
        return {}
    return {"input_gradient": False} if "input_gradient" in accepted else {}


class ScratchStep:
    """Calling it runs one full step of scratch as its training loop does: forward, cost, backward
    (without dA0 where scratch offers that), update (parameters rebound)."""

    def __init__(self, entry: Entry, X: np.ndarray, Y: np.ndarray, params: dict):
        self.X, self.Y, self.params = X, Y, params
        self.activations, self.loss = list(entry.activations), entry.loss
        self.backward_options = backward_options()

    def __call__(self) -> float:
        AL, caches = scratch.L_model_forward(self.X, self.params, self.activations)
        cost = scratch.compute_cost(AL, self.Y, self.loss, ZL=caches[-1][1])
        grads = scratch.L_model_backward(AL, self.Y, caches, self.activations, self.loss, **self.backward_options)
        self.params = scratch.update_parameters(self.params, grads, LEARNING_RATE)
        return cost


def torch_step(entry: Entry, X: np.ndarray, Y: np.ndarray, params: dict) -> Callable[[], float]:
    """torch_ref.Trainer(...).step for the same data and starting weights (torch imported here)."""
    import torch_ref

    model = torch_ref.from_params(params, entry.activations)
    return torch_ref.Trainer(model, X, Y, entry.loss, LEARNING_RATE).step


def matmul_reference(dtype: str, n: int = 2048, seed: int = 0) -> tuple[Callable[[], object], float]:
    """(call, flops): np.matmul of two n x n matrices in `dtype`, the machine's own BLAS ceiling."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    C = np.empty((n, n), dtype=dtype)
    return (lambda: np.matmul(A, B, out=C)), 2.0 * n**3
