"""Week 2, "Logistic Regression with a Neural Network mindset": one sigmoid unit.

    A = sigmoid(w^T X + b), J = -(1/m) sum [Y log A + (1-Y) log(1-A)],
    dw = (1/m) X (A - Y)^T (n_x, 1), db = (1/m) sum (A - Y) (a number)

The course's w is a column (n_x, 1): the transpose of W1 (1, n_x); b is a number, not a
(1, 1) array. propagate(w, b, X, Y) returns the gradients and the cost but not A, so A comes
from the learner's own sigmoid applied to w^T X + b (what propagate computes inside), and
the update is one iteration of the learner's optimize.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..errors import UsageError
from .base import Adapter, _binds, _describe, _require


class Caches(NamedTuple):
    """What propagate(w, b, X, Y) takes, kept from the forward pass, and what it returned."""

    w: np.ndarray  # (n_x, 1)
    b: float
    X: np.ndarray
    propagated: dict  # id(Y) -> (grads, cost): one propagate call serves the cost and the gradients


class LogRegAPI(Adapter):
    """sigmoid, propagate, optimize (one iteration of it is the update)."""

    API = "logreg"
    WEEK = "week 2 (logistic regression)"

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return ("sigmoid",) if L == 1 else Adapter.default_activations(L)

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        # A size the module's own code fixes is always (n_x, 1) (impl/sizes.py takes no other): only --arch can be wrong.
        if len(arch) != 2 or arch[1] != 1:
            raise UsageError(
                f"the {cls.WEEK} API computes one sigmoid unit: give --arch n_x,1 (got --arch "
                f"{','.join(map(str, arch))})"
            )
        if tuple(activations) != ("sigmoid",) or loss != "bce":
            raise UsageError(
                f"the {cls.WEEK} API computes one sigmoid unit with the cross-entropy cost: give no other "
                f"--activations or --loss (got activations {','.join(activations)}, loss {loss})"
            )

    def _check_contract(self) -> None:
        _require(_binds(self.module.sigmoid, 1), "sigmoid", self.REQUIRED["sigmoid"])
        _require(_binds(self.module.propagate, 4), "propagate", self.REQUIRED["propagate"])
        _require(_binds(self.module.optimize, 6), "optimize", self.REQUIRED["optimize"])

    def _check_training(self, optimizer: str, decay: str | None, mini_batch_size: int | None) -> None:
        if optimizer != "gd" or mini_batch_size is not None or decay:
            raise UsageError(
                "--optimizer, --mini-batch-size and --decay need the course's parameter dicts (week 3 or 4); "
                f"{self.label}'s week 2 optimize(w, b, ...) trains by gradient descent on the whole batch"
            )

    def initialize(self, layer_dims: Sequence[int]) -> dict:
        """--init impl: the implementation's own initialize_with_zeros(n_x), as W1 = w^T and b1 = [[b]]."""
        function = self._initialiser()
        result = self.call(function, layer_dims[0])
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == 2,
            function,
            f"expected (w, b), got {_describe(result)}",
        )
        w, b = result
        return self.as_params(function, w, b, n_x=layer_dims[0])

    def forward(self, X: np.ndarray, parameters: dict, masks=None):
        """(A, Caches): A = sigmoid(w^T X + b) with the implementation's sigmoid."""
        self._hand_once(X)
        w, b = parameters["W1"].T, parameters["b1"].item()  # the course's shapes: a column and a number
        A = self.call("sigmoid", np.dot(w.T, X) + b)
        self.expect(
            isinstance(A, np.ndarray) and A.shape == (1, X.shape[1]),
            "sigmoid",
            f"sigmoid(z) of an array of shape {(1, X.shape[1])} should have that shape, got {_describe(A)}",
        )
        return A, Caches(w, b, X, {})

    def layer_values(self, AL: np.ndarray, caches: Caches) -> dict:
        return {"A1": AL}  # propagate keeps its Z and A to itself

    def _propagate(self, Y: np.ndarray, caches: Caches) -> tuple:
        if id(Y) not in caches.propagated:
            self._hand_once(Y)
            result = self.call("propagate", caches.w, caches.b, caches.X, Y)
            self.expect(
                isinstance(result, (tuple, list)) and len(result) == 2,
                "propagate",
                f"expected (grads, cost), got {_describe(result)}",
            )
            caches.propagated.clear()
            caches.propagated[id(Y)] = result
        return caches.propagated[id(Y)]

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Caches) -> float:
        return self.number("propagate", self._propagate(Y, caches)[1])

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Caches, parameters: dict) -> dict:
        """dW1 = dw^T and db1 = [[db]] from propagate's grads {"dw", "db"}."""
        grads = self._propagate(Y, caches)[0]
        self.expect(isinstance(grads, dict), "propagate", f"expected a dict of gradients, got {_describe(grads)}")
        self._data = (caches.X, Y)  # optimize, the update, takes them too
        n_x = caches.w.shape[0]
        dw = grads.get("dw")
        self.expect(
            isinstance(dw, np.ndarray) and dw.shape == (n_x, 1),
            "propagate",
            f'grads["dw"] should be an array of shape {(n_x, 1)} like w, got {_describe(dw)}'
            + (" (transposed)" if isinstance(dw, np.ndarray) and dw.shape == (1, n_x) else ""),
        )
        db = self.number("propagate", grads.get("db"))
        return {"dW1": dw.T, "db1": np.full((1, 1), db, dtype=parameters["b1"].dtype)}

    def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict:
        """One iteration of optimize(w, b, X, Y, 1, learning_rate): the learner's own update step."""
        X, Y = self._data
        w, b = parameters["W1"].T, parameters["b1"].item()
        result = self.call("optimize", w, b, X, Y, 1, learning_rate)
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == 3 and isinstance(result[0], dict),
            "optimize",
            f"expected (params, grads, costs) with params a dict, got {_describe(result)}",
        )
        params = result[0]
        updated = self.as_params("optimize", params.get("w"), params.get("b"), n_x=w.shape[0])
        return self._in_run_dtype("optimize", updated, parameters)

    def as_params(self, function: str, w, b, n_x: int) -> dict:
        """The course's (w, b) as {"W1": w^T, "b1": [[b]]}, shapes checked."""
        self.expect(
            isinstance(w, np.ndarray) and w.shape == (n_x, 1),
            function,
            f"w should be an array of shape {(n_x, 1)}, got {_describe(w)}",
        )
        b = self.number(function, b)
        return {"W1": w.T.copy(), "b1": np.full((1, 1), b, dtype=w.dtype)}
