"""The function-by-function checks of the second course's graded functions (its weeks 1 and 2), on its 3-layer
network (relu, relu, sigmoid): the initialisers, by the course's rules; forward_propagation_with_dropout,
backward_propagation_with_regularization and backward_propagation_with_dropout, against torch_ref's network.

Each runs on seeded inputs of two shapes, no two sizes alike (so a transpose cannot pass), with the course's flat
caches: (Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3), and with dropout (Z1, D1, A1, W1, b1, Z2, D2, A2, ...).
The backward functions may return dZ and dA as the learner's notebook does (dZ3 = A3 - Y, upper-case keys) or as
the helper files do (dz3 = (1/m)(a3 - Y), lower-case keys): the second are compared times m, as the adapter does
(impl/course2.py); dW and db are compared always. A dropout forward pass draws its own masks: they are read from
its cache, checked (0 and 1, shaped like A, a kept share near keep_prob) and handed to torch.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np

from ..impl.base import _describe
from ..impl.course2 import ACTIVATIONS, DROPOUT_NAMES, NAMES
from ..judging import course2_hints
from ..judging.dropout_hints import Dropout
from ..judging.hint_fits import matches
from ..judging.hints import L2, diagnose, l2_slip
from ..judging.tolerance import term_scales
from ..network import Network, Point
from .unit_harness import Unit, Wrong
from .unit_initialisers import missing_layer, wrong_shape

# (n0, n1, n2, n3), m and keep_prob: no two sizes alike; masks of 200 entries or more, so that a kept share near
# keep_prob is told from one near 1 - keep_prob
SHAPES = (((3, 7, 5, 1), 40, 0.8), ((6, 4, 9, 1), 60, 0.7))
LAMBD = 0.7
# wide, unequal layers: their weights' spread tells the scale rules apart (He by n[l-1] or by n[l], Xavier, ...)
INIT_DIMS = (40, 160, 20, 1)


def _initialised(u: Unit) -> list[np.ndarray]:
    """The initialiser's W1..W3 for INIT_DIMS, each W[l] (n[l], n[l-1]) and b[l] (n[l], 1) of floats, b zeros."""
    params = u.call(list(INIT_DIMS))
    if not isinstance(params, dict):
        raise Wrong("parameters", f"expected a dict, got {_describe(params)}")
    weights = []
    for l in range(1, len(INIT_DIMS)):
        for key, shape in ((f"W{l}", (INIT_DIMS[l], INIT_DIMS[l - 1])), (f"b{l}", (INIT_DIMS[l], 1))):
            value = params.get(key)
            if (absent := missing_layer(key, params, INIT_DIMS)) is not None:
                raise absent
            if not isinstance(value, np.ndarray) or value.shape != shape:
                raise wrong_shape(key, value, shape, INIT_DIMS, "layers_dims")
            if not np.issubdtype(value.dtype, np.floating):
                raise Wrong(key, f"its dtype is {value.dtype}, expected a floating-point array")
        if np.any(params[f"b{l}"] != 0):
            raise Wrong(f"b{l}", "the course initialises the biases to zeros", "b = np.zeros((layers_dims[l], 1))")
        weights.append(params[f"W{l}"])
    return weights


def _check_initialize_parameters_zeros(u: Unit) -> None:
    """The course's rule: every W zeros too (its lesson: zeros never break the symmetry)."""
    for l, W in enumerate(_initialised(u), start=1):
        if np.any(W != 0):
            raise Wrong(
                f"W{l}",
                f"{np.count_nonzero(W)} of its {W.size} entries are not 0 (the largest {np.max(np.abs(W)):.3g})",
                "initialize_parameters_zeros sets W[l] = np.zeros((layers_dims[l], layers_dims[l-1]))",
            )


def _check_spread(u: Unit) -> None:
    """The course's rule for random and He initial weights: randn(n[l], n[l-1]) times its factor, each layer its
    own draws, the spread of each layer's weights within SPREAD_SDS standard deviations of the rule's."""
    weights = _initialised(u)
    for l, W in enumerate(weights, start=1):
        for k, other in enumerate(weights[: l - 1], start=1):
            n = min(other.size, W.size)  # a generator re-seeded per layer repeats its first draws
            if np.any(W) and np.array_equal(other.ravel()[:n], W.ravel()[:n]):
                raise Wrong(f"W{l}", f"its first {n} entries repeat W{k}'s", "seed once, before the loop")
    rule, _ = course2_hints.SPREAD_RULES[u.function]
    for l, W in enumerate(weights, start=1):
        if not course2_hints.spread_fits(W, rule):
            expected = course2_hints.SCALES[rule](W.shape[1], W.shape[0])
            allowed = course2_hints.spread_allowed(W.size)
            raise Wrong(
                f"W{l}",
                f"its entries' spread (root mean square) is {course2_hints.spread(W):.3g}, where {rule} gives "
                f"{expected:.3g} (within {allowed:.0%} for its {W.size} entries)",
                course2_hints.spread_slip(u.function, weights),
            )


def _inputs(u: Unit, dims: tuple, m: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """X (n0, m), 0/1 labels Y (1, m) of both classes, W[l] randn / sqrt(n[l-1]) and non-zero b[l]."""
    X = u.randn(dims[0], m)
    Y = (u.rng.random((1, m)) < 0.5).astype(u.dtype)
    Y[0, :2] = (0, 1)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = u.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1]).astype(u.dtype)
        params[f"b{l}"] = u.randn(dims[l], 1) * u.dtype.type(0.5)
    return X, Y, params


def _reference(point: Point, lambd: float = 0.0, keep_prob: float | None = None) -> tuple[dict, dict]:
    """torch_ref's network at point (with its masks): (Z, A, dZ, dA, dW, db, cost; their scales)."""
    import torch_ref

    keep_probs = None if keep_prob is None else (keep_prob, keep_prob)
    W1, W2, W3 = (point.params[f"W{l}"] for l in (1, 2, 3))
    network = Network((W1.shape[1], W1.shape[0], W2.shape[0], W3.shape[0]), ACTIVATIONS, "bce", lambd, keep_probs)
    model = torch_ref.from_params(point.params, ACTIVATIONS)
    ref = torch_ref.forward_backward(model, point.X, point.Y, "bce", lambd, point.masks, keep_probs)
    return ref, term_scales(network, point, ref)


def _close(u: Unit, output: str, value, expected, scale: float, hint: Callable[[], str] | None = None) -> None:
    """u.close, the hint the numbers fit: `hint`'s, else diagnose's with this shape's m (unit_harness's is 5)."""
    try:
        u.close(output, value, expected, scale)
    except Wrong as wrong:
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise wrong from None
        if array.shape == np.shape(expected) and np.all(np.isfinite(array)):
            wrong.hint = (hint() if hint else "") or diagnose(array, expected, np.shape(expected)[-1])
        raise


def _masks(u: Unit, named: dict, keep_prob: float) -> list[np.ndarray]:
    """D1 and D2 from a dropout forward pass's cache: 0 and 1 shaped like A1, A2, a kept share near keep_prob (the
    deep adapter's rule: 6 binomial standard deviations), in the run's dtype."""
    masks = []
    for l in (1, 2):
        D, shape = named[f"D{l}"], named[f"Z{l}"].shape
        if not (isinstance(D, np.ndarray) and D.shape == shape and np.all((D == 0) | (D == 1))):
            raise Wrong(
                f"cache[{DROPOUT_NAMES.index(f'D{l}')}] (D{l})",
                f"expected 0 and 1 of shape {shape}, got {_describe(D)}",
                "D = (np.random.rand(A.shape[0], A.shape[1]) < keep_prob).astype(int)",
            )
        p, kept = keep_prob, float(np.mean(D))
        if abs(kept - p) > course2_hints.SPREAD_SDS * np.sqrt(p * (1 - p) / D.size) + 1 / D.size:
            raise Wrong(
                f"cache[{DROPOUT_NAMES.index(f'D{l}')}] (D{l})",
                f"it keeps {kept:.1%} of the units where keep_prob is {p:g}",
                course2_hints.mask_slip(l, D, p),
            )
        masks.append(D.astype(u.dtype))
    return masks


def _check_forward_propagation_with_dropout(u: Unit) -> None:
    for dims, m, keep_prob in SHAPES:
        X, Y, params = _inputs(u, dims, m)
        A3, cache = u.parts(u.call(X, params, keep_prob), ("A3", "cache"))
        if not (isinstance(cache, (tuple, list)) and len(cache) == len(DROPOUT_NAMES)):
            raise Wrong("cache", f"expected the 14-tuple ({', '.join(DROPOUT_NAMES)}), got {_describe(cache)}")
        named = dict(zip(DROPOUT_NAMES, cache))
        if not all(isinstance(named[f"Z{l}"], np.ndarray) for l in (1, 2)):
            raise Wrong("cache", f"Z1 and Z2 should be arrays, got {_describe(named['Z1'])}, {_describe(named['Z2'])}")
        masks = _masks(u, named, keep_prob)
        ref, scales = _reference(Point(X, Y, params, masks), keep_prob=keep_prob)
        for i, name in enumerate(DROPOUT_NAMES):
            q, l = name[0], int(name[1])
            if q in "Wb":
                u.same(f"cache[{i}] ({name})", named[name], params[name], "the cache holds the parameters as given")
            elif q in "ZA":
                _close(
                    u,
                    f"cache[{i}] ({name})",
                    named[name],
                    ref[name],
                    scales[(q, l)],
                    _forward_hint(named[name], ref[name], q, l, keep_prob),
                )
        _close(u, "A3", A3, ref["A3"], scales[("A", 3)], _forward_hint(A3, ref["A3"], "A", 3, keep_prob))


def _forward_hint(value, expected, quantity: str, layer: int, keep_prob: float) -> Callable[[], str]:
    return lambda: course2_hints.dropout_forward_slip(quantity, layer, value, expected, keep_prob)


def _gradients(u: Unit, grads, A3: np.ndarray, Y: np.ndarray) -> dict:
    """The gradients with upper-case dZ and dA keys, those with the helpers' 1/m in dz3 times m."""
    if not isinstance(grads, dict):
        raise Wrong("gradients", f"expected a dict of gradients, got {_describe(grads)}")
    grads = {(f"d{k[1].upper()}{k[2:]}" if k[1:2] in ("z", "a") else k): v for k, v in grads.items()}
    dZ3, m = grads.get("dZ3"), Y.shape[1]
    try:
        per_mean = dZ3 is not None and matches(np.asarray(dZ3, dtype=np.float64) * m, A3 - Y)
    except (TypeError, ValueError):
        per_mean = False
    return {k: v * m if per_mean and k[:2] in ("dZ", "dA") else v for k, v in grads.items()}


def _compare_gradients(u: Unit, grads: dict, expected: dict, scales: dict, hint) -> None:
    """In the order backprop computes them: dZ3, dW3, db3, dA2, dZ2, ...; dZ and dA where returned.
    hint(quantity, layer, value) -> the slip a wrong one fits."""
    for l in (3, 2, 1):
        for q in ("dZ", "dW", "db") + (("dA",) if l > 1 else ()):
            k = l - 1 if q == "dA" else l
            key = f"{q}{k}"
            if q in ("dZ", "dA") and grads.get(key) is None:
                continue
            value = grads.get(key)
            _close(u, key, value, expected[key], scales[(q, k)], partial(hint, q, k, value))


def _cache(ref: dict, params: dict, names: tuple, masks: list | None = None) -> tuple:
    """The course's flat cache of `names`, from torch's Z and A, the parameters and the masks (as the course's
    ints)."""
    held = {**ref, **params, **({"D1": masks[0].astype(int), "D2": masks[1].astype(int)} if masks else {})}
    return tuple(np.array(held[name]) for name in names)


def _check_backward_propagation_with_regularization(u: Unit) -> None:
    for dims, m, _ in SHAPES:
        _backward_with_l2(u, *_inputs(u, dims, m))


def _backward_with_l2(u: Unit, X: np.ndarray, Y: np.ndarray, params: dict) -> None:
    ref, scales = _reference(Point(X, Y, params), LAMBD)
    grads = _gradients(u, u.call(X, Y, _cache(ref, params, NAMES), LAMBD), ref["A3"], Y)
    l2 = L2(params, LAMBD, X.shape[1])

    def hint(q: str, l: int, value) -> str:
        return l2_slip(q, l, value, ref[f"{q}{l}"], l2)

    _compare_gradients(u, grads, ref, scales, hint)


def _check_backward_propagation_with_dropout(u: Unit) -> None:
    for dims, m, keep_prob in SHAPES:
        X, Y, params = _inputs(u, dims, m)
        masks = [(u.rng.random((dims[l], m)) < keep_prob).astype(u.dtype) for l in (1, 2)]
        _backward_with_dropout(u, Point(X, Y, params, masks), keep_prob)


def _backward_with_dropout(u: Unit, point: Point, keep_prob: float) -> None:
    X, Y, params, masks = point.X, point.Y, point.params, point.masks
    assert masks is not None, "the verifier's own masks"
    ref, scales = _reference(point, keep_prob=keep_prob)
    grads = _gradients(u, u.call(X, Y, _cache(ref, params, DROPOUT_NAMES, masks), keep_prob), ref["A3"], Y)
    # the course's dA[l] is the gradient of the dropped A times D[l] / keep_prob: that of relu's output
    expected = dict(ref) | {f"dA{l}": ref[f"dA{l}"] * masks[l - 1] / keep_prob for l in (1, 2)}
    scales = dict(scales) | {("dA", l): scales[("dA", l)] / keep_prob for l in (1, 2)}
    dropout = Dropout((keep_prob, keep_prob), None, masks, ACTIVATIONS, X)

    def hint(q: str, l: int, value) -> str:
        if q == "dA":
            return course2_hints.dropout_backward_slip(l, value, ref[f"dA{l}"], masks[l - 1], keep_prob)
        return course2_hints.dropout_gradient_slip(q, l, value, ref, dropout)

    _compare_gradients(u, grads, expected, scales, hint)


COURSE2_CHECKS: dict[str, Callable[[Unit], None]] = {  # the course's order
    "initialize_parameters_zeros": _check_initialize_parameters_zeros,
    "initialize_parameters_random": _check_spread,
    "initialize_parameters_he": _check_spread,
    "forward_propagation_with_dropout": _check_forward_propagation_with_dropout,
    "backward_propagation_with_regularization": _check_backward_propagation_with_regularization,
    "backward_propagation_with_dropout": _check_backward_propagation_with_dropout,
}
