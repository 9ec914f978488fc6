"""The second course's 3-layer network (weeks 1 and 2: initialization, regularization, optimization).

Its helper files (init_utils, reg_utils, opt_utils) give forward_propagation(X, parameters) -> (a3, cache) with a
flat 12-tuple cache (z1, a1, W1, b1, z2, a2, W2, b2, z3, a3, W3, b3), backward_propagation(X, Y, cache) ->
gradients and a cost, compute_loss or compute_cost; the learner's notebook adds the graded functions, which this
adapter calls where the run asks for them: forward_propagation_with_dropout (a 14-tuple cache with D1 and D2 after
Z1 and Z2; it seeds and draws its own masks, which torch is then handed), backward_propagation_with_dropout,
compute_cost_with_regularization and backward_propagation_with_regularization, and update_parameters_with_gd where
the module has no update_parameters.

Two conventions of the helpers differ from week 4's, and are handled, each said once in the report's notes:
opt_utils' compute_cost returns the sum over the batch, not the mean (compared as the mean, divided by m), and the
helpers' backward_propagation puts the 1/m into dz3, so that their dz and da are gradients of the mean cost, not
of the summed loss (compared times m). The dW and db are means in every helper.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..errors import UsageError
from .base import Adapter, _binds, _describe, _require

ACTIVATIONS = ("relu", "relu", "sigmoid")
NAMES = ("Z1", "A1", "W1", "b1", "Z2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
DROPOUT_NAMES = ("Z1", "D1", "A1", "W1", "b1", "Z2", "D2", "A2", "W2", "b2", "Z3", "A3", "W3", "b3")
COSTS = ("compute_cost", "compute_loss")  # reg_utils' and opt_utils' name, init_utils'
UPDATES = ("update_parameters", "update_parameters_with_gd")  # the helpers', the optimisation notebook's


class Caches(tuple):
    """The forward pass's cache as it returned it, with what the cost and backward pass need besides."""

    X: np.ndarray
    parameters: dict


def _drawn_with_randn(masks: list[np.ndarray], keep_prob: float) -> float | None:
    """The share a normal draw keeps (P(randn < keep_prob)) where the last of `masks` is the course's seeded draw
    (np.random.seed(1), then each layer's mask in turn, those before it drawn with rand as the course does) made with
    randn instead of rand, exactly, and not also the course's own draw; else None. Drawn from a generator of its own:
    the learner's NumPy state is left as it is."""
    course, normal = np.random.RandomState(1), np.random.RandomState(1)
    for earlier in masks[:-1]:
        course.rand(*earlier.shape)
        normal.rand(*earlier.shape)
    mask = masks[-1] != 0
    if np.array_equal(mask, course.rand(*mask.shape) < keep_prob):
        return None
    if not np.array_equal(mask, normal.randn(*mask.shape) < keep_prob):
        return None
    return 0.5 * (1 + math.erf(keep_prob / math.sqrt(2)))


class Course2API(Adapter):
    """forward_propagation, a cost, backward_propagation and an update, on the helper files' 3-layer network."""

    API = "course2"
    PLOTTED_COSTS = True  # the notebooks' model(): costs.append(cost) if print_cost, then plt.plot(costs)
    WEEK = "course 2 (the 3-layer network of its helper files)"

    @staticmethod
    def default_activations(L: int) -> tuple[str, ...]:
        return ACTIVATIONS if L == 3 else Adapter.default_activations(L)

    @classmethod
    def fits(cls, module) -> bool:
        """A module of this API, not week 3's of the same names: backward_propagation(X, Y, cache)."""
        function = getattr(module, "backward_propagation", None)
        return callable(function) and _binds(function, 3) and not _binds(function, 4)

    @classmethod
    def check_network(cls, arch: Sequence[int], activations: Sequence[str], loss: str) -> None:
        shape = "n_x -> n[1] (relu) -> n[2] (relu) -> 1 (sigmoid) with the cross-entropy cost"
        if len(arch) != 4 or arch[-1] != 1:
            raise UsageError(
                f"the {cls.WEEK} API computes {shape}: give --arch n_x,n1,n2,1 (got --arch {','.join(map(str, arch))})"
            )
        if tuple(activations) != ACTIVATIONS or loss != "bce":
            raise UsageError(
                f"the {cls.WEEK} API computes {shape}: give no other --activations or --loss (got activations "
                f"{','.join(activations)}, loss {loss})"
            )

    def _check_contract(self) -> None:
        _require(
            _binds(self.module.forward_propagation, 2), "forward_propagation", self.REQUIRED["forward_propagation"]
        )
        self.cost_function = next((name for name in COSTS if callable(getattr(self.module, name, None))), None)
        self.update_function = next((name for name in UPDATES if callable(getattr(self.module, name, None))), None)
        for found, names in ((self.cost_function, COSTS), (self.update_function, UPDATES)):
            if found is None:
                raise UsageError(f"{self.label} has no function {' or '.join(names)}; the helper file defines it")
        self.cost_sums = self._sums_the_batch()

    def _sums_the_batch(self) -> bool:
        """Whether the cost function returns the batch's sum (opt_utils'), found on two examples of loss log 2."""
        assert self.cost_function is not None
        a3, Y = np.full((1, 2), 0.5), np.array([[1.0, 0.0]])
        value = self.number(self.cost_function, self.call(self.cost_function, a3, Y))
        if not np.isclose(value, 2 * np.log(2), rtol=1e-9):
            return False
        self.notes["cost"] = (
            f"{self.cost_function} returns the sum of the losses over the batch (the course's opt_utils), not their "
            "mean: compared as the mean, divided by m"
        )
        return True

    def _check_regularization(self, lambd: float) -> None:
        if lambd:
            for name, parameters in (
                ("compute_cost_with_regularization", 4),
                ("backward_propagation_with_regularization", 4),
            ):
                self._require_graded(name, parameters, "--lambd")
            self.lambd = lambd

    def _check_dropout(self, keep_probs) -> None:
        if keep_probs is None:
            return
        for name, parameters in (("forward_propagation_with_dropout", 3), ("backward_propagation_with_dropout", 4)):
            self._require_graded(name, parameters, "--keep-prob")
        if self.lambd:  # (_check_regularization ran first)
            raise UsageError(
                f"--lambd with --keep-prob: {self.label}'s functions take one at a time, as its model() asserts "
                "(backward_propagation_with_regularization reads no dropout cache, backward_propagation_with_dropout "
                "no lambd); verify each on its own"
            )
        if len(set(keep_probs)) > 1:
            raise UsageError(
                f"--keep-prob {','.join(f'{p:g}' for p in keep_probs)}: forward_propagation_with_dropout takes one "
                "keep_prob for both hidden layers; give one value"
            )
        self.keep_probs, self.draws_masks = tuple(keep_probs), True  # it seeds and draws its own

    def _require_graded(self, name: str, parameters: int, option: str) -> None:
        from .. import catalogue

        signature = catalogue.by_name(name, self.API).signature(self.API)
        if not callable(getattr(self.module, name, None)):
            raise UsageError(f"{option}: {self.label} has no function {signature}")
        _require(_binds(getattr(self.module, name), parameters), name, signature)

    def initialize(self, layer_dims: Sequence[int]) -> dict:
        """--init impl: initialize_parameters_he (the initialization notebook's model's default) or the helper
        file's initialize_parameters, called with layers_dims, shapes checked."""
        function = self._initialiser()
        return self.checked_params(function, self.call(function, list(layer_dims)), layer_dims)

    def forward(self, X: np.ndarray, parameters: dict, masks=None):
        """(a3, cache) from forward_propagation, or forward_propagation_with_dropout with dropout on, the cache's
        12 (14) arrays and their shapes checked."""
        self._hand_once(X)
        dropout = self.keep_probs is not None and masks is not None
        function = "forward_propagation_with_dropout" if dropout else "forward_propagation"
        assert self.keep_probs is not None or not dropout
        args = (X, parameters, self.keep_probs[0]) if self.keep_probs is not None and dropout else (X, parameters)
        result = self.call(function, *args)
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == 2,
            function,
            f"expected (a3, cache), got {_describe(result)}",
        )
        a3, cache = result
        names = DROPOUT_NAMES if dropout else NAMES
        self.expect(
            isinstance(cache, (tuple, list)) and len(cache) == len(names),
            function,
            f"the cache should be the {len(names)}-tuple ({', '.join(names)}), got {_describe(cache)}",
        )
        m = X.shape[1]
        for name, value in zip(names, cache):
            l = int(name[1])
            shape = parameters[name].shape if name[0] in "Wb" else (parameters[f"W{l}"].shape[0], m)
            self.expect(
                isinstance(value, np.ndarray) and value.shape == shape,
                function,
                f"the cache's {name} should be an array of shape {shape}, got {_describe(value)}",
            )
        self.expect(
            isinstance(a3, np.ndarray) and a3.shape == (1, m),
            function,
            f"a3 should be an array of shape {(1, m)}, got {_describe(a3)}",
        )
        caches = Caches(cache)
        caches.X, caches.parameters = X, parameters
        return a3, caches

    def _named(self, caches: Caches) -> dict:
        return dict(zip(DROPOUT_NAMES if len(caches) == len(DROPOUT_NAMES) else NAMES, caches))

    def masks_of(self, caches) -> list | None:
        """D1 and D2 from forward_propagation_with_dropout's cache: 0 and 1 (its masks are ints), in the run's dtype."""
        if len(caches) != len(DROPOUT_NAMES):
            return None
        assert self.keep_probs is not None, "a mask is read with dropout on"
        named = self._named(caches)
        masks = []
        for l in (1, 2):
            D = named[f"D{l}"]
            self.expect(
                bool(np.all((D == 0) | (D == 1))),
                "forward_propagation_with_dropout",
                f"its mask D{l} should hold 0 and 1 (np.random.rand(...) < keep_prob), got other values",
            )
            masks.append(D.astype(named["W1"].dtype))
            normal = _drawn_with_randn(masks, self.keep_probs[l - 1])
            self.expect(
                normal is None,
                "forward_propagation_with_dropout",
                f"its dropout mask D{l} is the course's seeded draw made with np.random.randn(...) < keep_prob, which "
                f"keeps {normal or 0:.0%} of the units, not keep_prob: the course keeps a unit where "
                "np.random.rand(...) < keep_prob (a uniform draw)",
            )
            self.expect_kept_share(D, l, "forward_propagation_with_dropout")
        return masks

    def layer_values(self, AL: np.ndarray, caches: Caches) -> dict:
        named = self._named(caches)
        return {key: named[key] for key in ("Z1", "A1", "Z2", "A2", "Z3")} | {"A3": AL}

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches: Caches) -> float:
        self._hand_once(Y)
        if self.lambd:
            function = "compute_cost_with_regularization"
            return self.number(function, self.call(function, AL, Y, caches.parameters, self.lambd))
        assert self.cost_function is not None
        cost = self.number(self.cost_function, self.call(self.cost_function, AL, Y))
        return cost / Y.shape[1] if self.cost_sums else cost

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches: Caches, parameters: dict) -> dict:
        """dW1..db3, and the dZ and dA it returns (dz1 or dZ1) as gradients of the summed loss, shapes checked."""
        self._hand_once(Y)
        extra: tuple[float, ...] = ()
        if self.lambd:
            function, extra = "backward_propagation_with_regularization", (self.lambd,)
        elif self.keep_probs is not None and len(caches) == len(DROPOUT_NAMES):
            function, extra = "backward_propagation_with_dropout", (self.keep_probs[0],)
        else:
            function = "backward_propagation"
        grads = self.call(function, caches.X, Y, tuple(caches), *extra)
        self.expect(isinstance(grads, dict), function, f"expected a dict of gradients, got {_describe(grads)}")
        m = Y.shape[1]
        grads = {(f"d{key[1].upper()}{key[2:]}" if key[1:2] in ("z", "a") else key): v for key, v in grads.items()}
        expected = {f"d{k}": v.shape for k, v in parameters.items()}
        expected |= {key: (parameters[f"W{key[2]}"].shape[0], m) for key in ("dZ3", "dZ2", "dZ1") if key in grads}
        expected |= {key: (parameters[f"W{key[2]}"].shape[0], m) for key in ("dA2", "dA1") if key in grads}
        grads = self._checked_grads(function, grads, expected)
        if function == "backward_propagation_with_dropout":  # its dA[l] is kept after "* D[l] / keep_prob": the
            grads = {k: v for k, v in grads.items() if k not in ("dA1", "dA2")}  # rows compare dZ[l], which follows
        return self._per_example(function, grads, AL, Y)

    def _per_example(self, function: str, grads: dict, AL: np.ndarray, Y: np.ndarray) -> dict:
        """The helpers' dz3 = (1/m)(a3 - Y): their dz and da then are the mean cost's gradients, times m here."""
        m = Y.shape[1]
        dZ3 = grads.get("dZ3")
        if dZ3 is None or m == 1 or not np.allclose(dZ3 * m, AL - Y, rtol=1e-6, atol=0):
            return grads
        self.notes.setdefault(
            "1/m in dz3",
            f"{function} puts the 1/m into dz3, so its dz and da are gradients of the mean cost: compared times m",
        )
        return {key: value * m if key[:2] in ("dZ", "dA") else value for key, value in grads.items()}

    def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict:
        assert self.update_function is not None
        updated = self.call(
            self.update_function, parameters, self.gradients_for_update(grads, parameters), learning_rate
        )
        return self._checked_update(self.update_function, updated, parameters)


__all__ = ["Course2API"]
