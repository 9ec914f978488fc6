"""How a run trains: the optimiser and its settings, the mini-batches of each epoch, the learning rate in force.

One plan, handed to both sides (and, with dropout, each step's masks, drawn the same way): the verifier draws each epoch's permutation once (the course's
random_mini_batches order with seed + epoch + 1, as scratch.L_layer_model and the course's
model() reseed each epoch) and both sides step through the same batches. The learning rate
of epoch e is the course's: lr0 for epochs 0 and 1 under a decay, which the course applies
after each epoch; torch's side gets it from LambdaLR (torch_ref.optimizers.lr_factor).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from torch_ref.optimizers import lr_factor

from .config import Config


def course_permutation(seed: int, m: int) -> np.ndarray:
    """The order random_mini_batches shuffles m examples into: np.random.seed(seed); np.random.permutation(m)."""
    return np.random.RandomState(seed).permutation(m)


@dataclass(frozen=True)
class Training:
    """How the implementation is to be trained, as far as its adapter must know to accept or refuse it: the
    optimiser, the learning-rate decay (and its interval) and the mini-batch size (None: the whole batch)."""

    optimizer: str = "gd"
    decay: str | None = None
    decay_interval: int = 1000
    mini_batch_size: int | None = None

    @classmethod
    def of(cls, config: Config) -> Training:
        return cls(config.optimizer, config.decay, config.decay_interval, config.mini_batch_size)


@dataclass(frozen=True)
class OptimizerStep:
    """One optimiser step as the tolerances see it: which optimiser and its settings (beta, beta1, beta2,
    epsilon), the step t (from 1) and its learning rate, the state both sides start from, and the reference's
    state after the step (its v_corrected and s_corrected, for Adam; empty where no reference stepped)."""

    optimizer: str
    settings: dict
    t: int
    learning_rate: float
    state: dict
    torch_state: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Step:
    """One update: the t-th (counting from 1, as Adam's t), of mini-batch `batch` of `epoch`."""

    index: int  # t - 1: the iteration, as the report numbers them
    epoch: int
    batch: int
    rows: np.ndarray | None  # the batch's example indices; None: the whole batch in the data's order
    last_in_epoch: bool

    @property
    def t(self) -> int:
        return self.index + 1


@dataclass(frozen=True)
class Optimization:
    """The training a Config asks for (see Config's optimisation fields)."""

    optimizer: str
    learning_rate: float
    epochs: int
    m: int
    mini_batch_size: int | None = None
    seed: int = 0
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    decay: str | None = None
    decay_rate: float = 1.0
    decay_interval: int = 1000
    keep_probs: tuple | None = None  # dropout: keep_prob per hidden layer
    hidden: tuple = ()  # the hidden layers' sizes n[1..L-1]
    dtype: str = "float64"

    @classmethod
    def from_config(cls, config: Config, m: int) -> Optimization:
        return cls(
            optimizer=config.optimizer,
            learning_rate=config.learning_rate,
            epochs=config.epoch_count,
            m=m,
            mini_batch_size=config.mini_batch_size,
            seed=config.seed,
            beta=config.beta,
            beta1=config.beta1,
            beta2=config.beta2,
            epsilon=config.epsilon,
            decay=config.decay,
            decay_rate=config.decay_rate,
            decay_interval=config.decay_interval,
            keep_probs=config.keep_prob,
            hidden=tuple(config.sizes[1:-1]),
            dtype=config.dtype,
        )

    def masks(self, index: int, m: int) -> list | None:
        """Dropout masks, one (n[l], m) array of 0 and 1 per hidden layer (None where keep_prob is 1): those of step
        `index` (-1: the checks at one point), drawn once and handed to both sides; None without dropout."""
        if self.keep_probs is None:
            return None
        rng = np.random.default_rng([self.seed, 5, index + 1])
        return [
            None if p == 1 else (rng.random((n, m)) < p).astype(self.dtype)
            for n, p in zip(self.hidden, self.keep_probs)
        ]

    @property
    def plain(self) -> bool:
        """Full-batch gradient descent at one rate: one step per epoch, no optimiser state."""
        return self.optimizer == "gd" and self.mini_batch_size is None and self.decay is None

    @property
    def batches_per_epoch(self) -> int:
        return 1 if self.mini_batch_size is None else -(-self.m // self.mini_batch_size)

    @property
    def steps_total(self) -> int:
        return self.epochs * self.batches_per_epoch

    def settings(self) -> dict:
        """The optimiser's own settings, by the course's names."""
        return {
            "momentum": {"beta": self.beta},
            "adam": {"beta1": self.beta1, "beta2": self.beta2, "epsilon": self.epsilon},
        }.get(self.optimizer, {})

    def lr_at(self, epoch: int) -> float:
        """The rate epoch `epoch` runs at, as the course's loop sets it (torch's LambdaLR factor times lr0)."""
        return self.learning_rate * lr_factor(self.decay, self.decay_rate, self.decay_interval)(epoch)

    def epoch_rows(self, epoch: int) -> list[np.ndarray | None]:
        """The example indices of each mini-batch of `epoch`: random_mini_batches' order with seed + epoch + 1."""
        if self.mini_batch_size is None:
            return [None]
        order = course_permutation(self.seed + epoch + 1, self.m)
        return [order[k : k + self.mini_batch_size] for k in range(0, self.m, self.mini_batch_size)]

    def batch_sizes(self) -> str:
        """An epoch's mini-batches as they are: '4 mini-batches of 50', or '6 mini-batches of 64 and 1 of 16' where
        m is not a multiple of the size (random_mini_batches' last batch holds what is left)."""
        size = self.mini_batch_size or self.m
        full, last = self.m // size, self.m % size
        if full == 0:  # one batch, smaller than the size asked for: all m examples
            return f"1 mini-batch of {last}"
        return f"{full} mini-batch{'es' * (full != 1)} of {size}" + (f" and 1 of {last}" if last else "")

    def steps(self) -> Iterator[Step]:
        index = 0
        for epoch in range(self.epochs):
            rows = self.epoch_rows(epoch)
            for batch, indices in enumerate(rows):
                yield Step(index, epoch, batch, indices, batch == len(rows) - 1)
                index += 1

    def describe(self) -> str:
        """The run's training in a few words, e.g. 'adam (beta1 0.9, ...), 20 epochs of 4 mini-batches of 50 (80 steps)
        at lr 0.01', or '... 20 epochs of 6 mini-batches of 64 and 1 of 16 (140 steps) ...'."""
        if self.plain:
            return f"{self.epochs} iterations at lr {self.learning_rate:g}"
        name = {"gd": "gradient descent", "momentum": "momentum", "adam": "adam"}[self.optimizer]
        settings = ", ".join(f"{k} {v:g}" for k, v in self.settings().items())
        text = f"{name}{f' ({settings})' if settings else ''}, {self.epochs} epochs"
        if self.mini_batch_size is not None:
            text += f" of {self.batch_sizes()} ({self.steps_total} steps)"
        text += f" at lr {self.learning_rate:g}"
        if self.decay is not None:
            text += f", {self.decay} decay (rate {self.decay_rate:g}" + (
                f", every {self.decay_interval} epochs)" if self.decay == "scheduled" else ")"
            )
        return text
