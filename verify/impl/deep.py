"""Week 4, "Deep Neural Network for Image Classification": the L-layer API, scratch's own."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import catalogue
from ..errors import UsageError
from ..signatures import signature_of
from .base import Adapter, _accepts, _binds, _describe, _require

COURSE_ACTIVATIONS = "relu hidden layers and a sigmoid output"
REGULARIZATION_NAMES = ("lambd", "keep_prob", "masks")  # parameters that are not the extended signatures' activations
REGULARIZED_COST = catalogue.by_name("compute_cost_with_regularization").signature()


class DeepCaches(list):
    """L_model_forward's caches as it returned them, and the parameters it was handed (the regularised cost's)."""

    def __init__(self, caches, parameters: dict | None = None):
        super().__init__(caches)
        self.original = type(caches) if isinstance(caches, tuple) else list  # what L_model_backward is handed back
        self.parameters = parameters


class DeepAPI(Adapter):
    """L_model_forward, compute_cost, L_model_backward, update_parameters, with the course's caches
    [((A_prev, W, b), Z), ...] and, where given, the extended signatures (activations, loss)."""

    API = "deep"
    WEEK = "week 4 (L layers)"
    COMPOSING = {
        "forward": ("L_model_forward", "the activation each layer gets, the A_prev, W and b it hands each layer"),
        "backward": ("L_model_backward", "the dAL it starts from, the activation and the cache each layer gets"),
    }

    def _check_contract(self) -> None:
        """Which calling convention each function takes; UsageError when one cannot do what was asked."""
        course = tuple(self.activations) == self.default_activations(self.L)
        self.forward_takes_activations = _binds(self.module.L_model_forward, 3) and not _named(
            self.module.L_model_forward, 2, REGULARIZATION_NAMES
        )
        if not self.forward_takes_activations:
            _require(_binds(self.module.L_model_forward, 2), "L_model_forward", self.REQUIRED["L_model_forward"])
            _require(
                course,
                "L_model_forward",
                f"its signature L_model_forward(X, parameters) computes {COURSE_ACTIVATIONS}; "
                f"--activations {','.join(self.activations)} needs L_model_forward(X, parameters, activations)",
            )
        self.backward_takes_activations = _binds(self.module.L_model_backward, 5) and not _named(
            self.module.L_model_backward, 3, REGULARIZATION_NAMES
        )
        if not self.backward_takes_activations:
            _require(_binds(self.module.L_model_backward, 3), "L_model_backward", self.REQUIRED["L_model_backward"])
            _require(
                course,
                "L_model_backward",
                f"its signature L_model_backward(AL, Y, caches) backpropagates {COURSE_ACTIVATIONS}; "
                f"--activations {','.join(self.activations)} needs L_model_backward(AL, Y, caches, activations, loss)",
            )
        self.cost_takes_loss = _binds(self.module.compute_cost, 3) and not _number_option(self.module.compute_cost, 2)
        if not self.cost_takes_loss:
            _require(_binds(self.module.compute_cost, 2), "compute_cost", self.REQUIRED["compute_cost"])
            _require(
                self.loss == "bce",
                "compute_cost",
                f"compute_cost(AL, Y) computes the cross-entropy of a sigmoid output; "
                f"--loss {self.loss} needs compute_cost(AL, Y, loss)",
            )
        self.cost_takes_ZL = _accepts(self.module.compute_cost, "ZL")  # scratch's does: exact at saturation

    def _check_regularization(self, lambd: float) -> None:
        """L2 with lambd > 0: the cost from compute_cost_with_regularization, the gradients from L_model_backward(...,
        lambd=lambd); UsageError naming what is missing."""
        if not lambd:
            return
        if not callable(getattr(self.module, "compute_cost_with_regularization", None)):
            raise UsageError(f"--lambd: {self.label} has no function {REGULARIZED_COST}")
        _require(
            _accepts(self.module.L_model_backward, "lambd"),
            "L_model_backward",
            "--lambd needs L_model_backward(AL, Y, caches[, activations, loss], lambd) with a parameter named lambd",
        )
        regularized = self.module.compute_cost_with_regularization
        self.regularized_cost_takes_loss = _binds(regularized, 5) and not _number_option(regularized, 4)
        _require(
            self.regularized_cost_takes_loss or self.loss == "bce",
            "compute_cost_with_regularization",
            f"--loss {self.loss} needs {REGULARIZED_COST} with a loss parameter",
        )
        self.regularized_cost_takes_ZL = _accepts(self.module.compute_cost_with_regularization, "ZL")
        self.lambd = lambd

    def _check_dropout(self, keep_probs) -> None:
        """Dropout: L_model_forward(..., keep_prob=..., masks=...) with the verifier's masks, L_model_backward(...,
        keep_prob=...); UsageError naming what is missing."""
        if keep_probs is None:
            return
        _require(
            _accepts(self.module.L_model_forward, "keep_prob"),
            "L_model_forward",
            "--keep-prob needs L_model_forward(X, parameters[, activations], keep_prob[, masks]), its caches "
            "((A_prev, W, b), Z, D) holding each hidden layer's mask D",
        )
        _require(
            _accepts(self.module.L_model_backward, "keep_prob"),
            "L_model_backward",
            "--keep-prob needs L_model_backward(AL, Y, caches[, activations, loss], keep_prob)",
        )
        # Without a masks parameter it draws its own masks: torch is then handed those, read from its caches.
        self.draws_masks = not _accepts(self.module.L_model_forward, "masks")
        default = signature_of(self.module.L_model_forward).parameters["keep_prob"].default
        if self.draws_masks and len(set(keep_probs)) > 1 and isinstance(default, (int, float)):
            raise UsageError(
                f"--keep-prob {','.join(f'{p:g}' for p in keep_probs)}: {self.label}'s L_model_forward takes one "
                f"keep_prob (its default is {default}) for every hidden layer; give one value"
            )
        self.keep_probs = tuple(keep_probs)

    @property
    def _keep_prob(self) -> float | tuple[float, ...]:
        """keep_prob as the course passes it: one number when every hidden layer keeps the same share."""
        assert self.keep_probs is not None, "read only with dropout on (_check_dropout)"
        return self.keep_probs[0] if len(set(self.keep_probs)) == 1 else self.keep_probs

    def masks_of(self, caches) -> list | None:
        """The masks D[l] in a forward pass's caches (it drew them), checked: 0 and 1, shaped like A[l]."""
        if not self.draws_masks:
            return None
        assert self.keep_probs is not None, "_check_dropout sets keep_probs with draws_masks"
        masks: list[np.ndarray | None] = []
        for l, cache in enumerate(caches[:-1], start=1):
            D = cache[2] if len(cache) == 3 else None
            if self.keep_probs[l - 1] == 1 and D is None:
                masks.append(None)
                continue
            shape = cache[1].shape
            ok = isinstance(D, np.ndarray) and D.shape == shape and bool(np.all((D == 0) | (D == 1)))
            self.expect(
                ok,
                "L_model_forward",
                f"cache {l} should hold its dropout mask D{l}, 0 and 1 of shape {shape}, as "
                f"((A_prev, W, b), Z, D{l}); got {_describe(D)}",
            )
            assert D is not None, "expect raised for anything but an array"
            self.expect_kept_share(D, l, "L_model_forward")
            masks.append(D.astype(cache[0][1].dtype))  # in the run's dtype (the W it was handed)
        return masks

    def initialize(self, layer_dims: Sequence[int]) -> dict:
        """--init impl: the implementation's own initialize_parameters_deep(layer_dims), shapes checked."""
        function = self._initialiser()
        params = self.call(function, list(layer_dims))
        return self.checked_params(function, params, layer_dims)

    def forward(self, X: np.ndarray, parameters: dict, masks=None):
        """(AL, caches) from L_model_forward, with the caches' course structure checked; with dropout masks (one
        per hidden layer, or None), a hidden layer's cache is ((A_prev, W, b), Z, D)."""
        self._hand_once(X)
        args = (X, parameters, self.activations) if self.forward_takes_activations else (X, parameters)
        if self.draws_masks:
            dropout = {"keep_prob": self._keep_prob} if masks is not None else {}
        else:
            dropout = {"keep_prob": self._keep_prob, "masks": masks} if masks is not None else {}
        result = self.call("L_model_forward", *args, **dropout)
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == 2,
            "L_model_forward",
            f"expected (AL, caches), got {_describe(result)}",
        )
        AL, caches = result
        m = X.shape[1]
        n_L = parameters[f"W{self.L}"].shape[0]
        self.expect(
            isinstance(AL, np.ndarray) and AL.shape == (n_L, m),
            "L_model_forward",
            f"AL should be an array of shape {(n_L, m)}, got {_describe(AL)}",
        )
        self.expect(
            isinstance(caches, (list, tuple)) and len(caches) == self.L,
            "L_model_forward",
            f"expected {self.L} caches, one per layer, got {_describe(caches)}",
        )
        self._check_caches(caches, parameters, masks, m)
        return AL, DeepCaches(caches, parameters)

    def _check_caches(self, caches, parameters: dict, masks, m: int) -> None:
        """Each cache l is ((A_prev, W, b), Z[, D]) of layer l, Z (n[l], m); an ImplementationError names the first
        that is not (one holding another layer's W first: its shapes are that layer's)."""
        formed = [
            _course_cache(cache, self._cache_sizes(l, self._dropped(l, masks))) for l, cache in enumerate(caches, 1)
        ]
        if all(formed):
            self._expect_own_layer(caches, parameters)
        for l, cache in enumerate(caches, start=1):
            shape = (parameters[f"W{l}"].shape[0], m)
            # with dropout, masks_of says what is wrong with a mask; without, a kept mask is shaped like Z
            ok = formed[l - 1] and cache[1].shape == shape and (self.keep_probs is not None or _mask_like(cache, shape))
            kept = formed[l - 1] and len(cache) == 3 and self.keep_probs is None  # a mask without dropout
            self.expect(
                ok,
                "L_model_forward",
                f"cache {l} should be ((A_prev, W, b), Z{', D' if self._dropped(l, masks) else ''}) "
                f"with Z of shape {shape}" + (", and a mask D kept beside Z of that shape too" if kept else ""),
            )

    def _dropped(self, l: int, masks) -> bool:
        """Whether layer l's cache must hold a dropout mask D."""
        return masks is not None and l < self.L and (masks[l - 1] is not None or self.draws_masks)

    def _cache_sizes(self, l: int, dropped: bool) -> tuple:
        """The lengths cache l may have: 2, or 3 with its mask D. A forward pass that draws its own masks may keep
        one in every cache (masks_of checks them); so may one that keeps its mask, all ones, in a run without
        dropout (the course-2 habit: keep_prob=1.0 by default, D in the caches)."""
        if dropped and self.draws_masks or self.keep_probs is None and l < self.L:
            return (2, 3)
        return (2 + dropped,)

    def _expect_own_layer(self, caches, parameters: dict) -> None:
        """Each cache l holds layer l's (A_prev, W[l], b[l]): one that holds another layer's W fails by name."""
        held = [_layer_holding(cache, parameters, l) for l, cache in enumerate(caches, start=1)]
        wrong = next(((l, k) for l, k in enumerate(held, start=1) if k is not None and k != l), None)
        if wrong is not None:
            l, k = wrong
            from ..judging.hints import cache_order_slip  # hints load torch: only when a cache is out of order

            hint = cache_order_slip(held)
            self.expect(
                False,
                "L_model_forward",
                f"cache {l} holds layer {k}'s (A_prev, W{k}, b{k}): caches[l-1] must "
                f"be layer l's" + (f"; {hint}" if hint else ""),
            )

    def layer_values(self, AL: np.ndarray, caches) -> dict:
        """Z{l} and A{l} for l = 1..L, read from the course caches ((A_prev, W, b), Z)."""
        values = {f"A{self.L}": AL}
        for l, cache in enumerate(caches, start=1):
            (A_prev, _, _), Z = cache[0], cache[1]
            values[f"Z{l}"] = Z
            if l > 1:
                values[f"A{l - 1}"] = A_prev
        return values

    def cost(self, AL: np.ndarray, Y: np.ndarray, caches) -> float:
        self._hand_once(Y)
        if self.lambd:
            function = "compute_cost_with_regularization"
            args = (AL, Y, caches.parameters, self.lambd) + ((self.loss,) if self.regularized_cost_takes_loss else ())
            kwargs = {"ZL": caches[-1][1]} if self.regularized_cost_takes_ZL else {}
            return self.number(function, self.call(function, *args, **kwargs))
        args = (AL, Y, self.loss) if self.cost_takes_loss else (AL, Y)
        kwargs = {"ZL": caches[-1][1]} if self.cost_takes_ZL else {}
        return self.number("compute_cost", self.call("compute_cost", *args, **kwargs))

    def backward(self, AL: np.ndarray, Y: np.ndarray, caches, parameters: dict) -> dict:
        """dW{l}, db{l} (l = 1..L), dA{l} (l = 0..L-1) and dZ{l} where given, shapes checked."""
        self._hand_once(Y)
        caches = caches.original(caches) if isinstance(caches, DeepCaches) else caches  # as it returned them
        args = (AL, Y, caches, self.activations, self.loss) if self.backward_takes_activations else (AL, Y, caches)
        options = {
            **({"lambd": self.lambd} if self.lambd else {}),
            **({"keep_prob": self._keep_prob} if self.keep_probs is not None else {}),
        }
        grads = self.call("L_model_backward", *args, **options)
        m, expected = Y.shape[1], {}
        for l in range(1, self.L + 1):
            expected[f"dW{l}"], expected[f"db{l}"] = parameters[f"W{l}"].shape, parameters[f"b{l}"].shape
            expected[f"dA{l - 1}"] = (parameters[f"W{l}"].shape[1], m)
        return self._checked_grads("L_model_backward", grads, expected)


def _course_cache(cache, sizes: tuple) -> bool:
    """Whether cache has the course's form ((A_prev, W, b), Z[, D]): of one of `sizes`, a tuple or a list (the same
    values, written [linear_cache, Z])."""
    return (
        isinstance(cache, (tuple, list))
        and len(cache) in sizes
        and isinstance(cache[0], (tuple, list))
        and len(cache[0]) == 3
        and isinstance(cache[0][0], np.ndarray)
        and isinstance(cache[1], np.ndarray)
    )


def _mask_like(cache, shape: tuple) -> bool:
    """Whether a cache of the course's form holds no mask D, or one of `shape` (Z's)."""
    return len(cache) == 2 or isinstance(cache[2], np.ndarray) and cache[2].shape == shape


def _layer_holding(cache, parameters: dict, l: int) -> int | None:
    """The layer whose W the cache holds: l when it is W[l] or the only layer of its shape, else the first k whose
    W[k] it equals, else None. Only another layer of W's shape can be mistaken for layer l: a network whose layers
    all differ in shape (the course's) compares no entries."""
    W = cache[0][1]
    if not isinstance(W, np.ndarray):
        return None
    shaped = [
        k for k in range(1, len(parameters) // 2 + 1) if getattr(parameters.get(f"W{k}"), "shape", None) == W.shape
    ]
    if shaped == [l]:
        return l
    layers = [l] + [k for k in shaped if k != l]
    return next((k for k in layers if f"W{k}" in parameters and np.array_equal(W, parameters[f"W{k}"])), None)


def _number_option(function, position: int) -> bool:
    """Whether the parameter at `position` of function defaults to a number (compute_cost(AL, Y, epsilon=1e-8)): an
    option of the learner's own, not the loss name the extended signature (AL, Y, loss) is handed there."""
    try:
        parameters = list(signature_of(function).parameters.values())
    except (TypeError, ValueError):
        return False
    default = parameters[position].default if position < len(parameters) else None
    return isinstance(default, (int, float)) and not isinstance(default, bool)


def _named(function, position: int, names) -> bool:
    """Whether the parameter at `position` of function is called one of `names`."""
    try:
        parameters = list(signature_of(function).parameters)
    except (TypeError, ValueError):
        return False
    return position < len(parameters) and parameters[position] in names
