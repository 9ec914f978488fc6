"""The typed values a run's results are made of: a pair of one value per side (Sides), each side's final cost and
accuracy (Final), and the first quantity where the two sides part (Divergence). The JSON's "impl" and "torch" keys
are made from Sides by the JSON renderer (jsonout.py), nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from .judging.compare import Comparison

T = TypeVar("T")

SIDE_NAMES = ("impl", "torch")  # the JSON's keys for the two sides: the implementation under test, torch_ref


@dataclass(frozen=True)
class Sides(Generic[T]):
    """One value per side: the implementation under test's and torch's."""

    impl: T
    torch: T

    def items(self) -> tuple[tuple[str, T], tuple[str, T]]:
        """(("impl", its value), ("torch", its value)): the sides by the names the JSON and the logs give them."""
        return (SIDE_NAMES[0], self.impl), (SIDE_NAMES[1], self.torch)


@dataclass(frozen=True)
class Final:
    """One side's cost and accuracy at its final parameters (None: not computed, or not comparable)."""

    cost: float | None = None
    accuracy: float | None = None  # None for a regression (a linear output)


@dataclass(frozen=True)
class Divergence:
    """The first quantity where the two sides part, in the order the checks compute them: a failed row (`row`), an
    error the implementation raised or a result the checks rejected (`error`), or a course function that failed
    on its own while the network agrees (stage "functions"); with the course function to fix where one is known."""

    stage: str  # functions, forward, backward, gradcheck, training
    name: str  # the check: forward, backward, gradcheck, lockstep, free-running, loop <function>, functions
    quantity: str | None  # the row's quantity (Z, dW, cost, ...), or the function that raised
    iteration: int | None = None
    layer: int | None = None
    row: Comparison | None = None  # the failed row, with its numbers
    error: str | None = None  # what the implementation raised, or why its result was rejected
    rejected: bool = False  # the error is a result the checks rejected (nothing raised)
    what: str = "raised"  # what the implementation did, in the report's words (ImplementationError.what)
    traceback: tuple[str, ...] = ()
    epoch: int | None = None  # with mini-batches: which epoch and mini-batch the iteration was
    mini_batch: int | None = None
    function: str | None = None  # the course function to fix, what is wrong with it, where it is defined
    fix: str | None = None
    source: str | None = None

    @property
    def hint(self) -> str:
        return "" if self.row is None else self.row.hint

    @property
    def point(self) -> str | None:
        return None if self.row is None else self.row.point

    @property
    def max_abs(self) -> float | None:
        return None if self.row is None else self.row.max_abs

    @property
    def max_rel(self) -> float | None:
        return None if self.row is None else self.row.max_rel

    @property
    def tolerance(self) -> float | None:
        return None if self.row is None else self.row.tolerance

    @property
    def label(self) -> str:
        """'cost' or 'W2': the quantity, with its layer where it has one."""
        return (
            str(self.quantity)
            if self.quantity in ("cost", "lr") or self.layer is None
            else f"{self.quantity}{self.layer}"
        )
