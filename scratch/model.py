"""The course's forward and backward step functions, vectorised over the m examples.

Shapes (course convention, examples as columns):
  A[l-1] (n[l-1], m), W[l] (n[l], n[l-1]), b[l] (n[l], 1), Z[l] and A[l] (n[l], m).
Caches are the course's: linear_cache = (A_prev, W, b), cache = (linear_cache, Z).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .activations import get_activation
from .arrays import Array, Cache, LinearCache
from .losses import get_loss
from .regularization import KeepProb, keep_probs


def default_activations(L: int) -> list[str]:
    """The course's network: relu in the L-1 hidden layers, sigmoid at the output."""
    return ["relu"] * (L - 1) + ["sigmoid"]


def _resolve_activations(activations: Sequence[str] | None, L: int) -> list[str]:
    if activations is None:
        return default_activations(L)
    activations = list(activations)
    if len(activations) != L:
        raise ValueError(f"{L} layers need {L} activations, got {len(activations)}: {activations}")
    for name in activations[:-1]:
        if get_activation(name).output_only:
            raise ValueError(f"{name} can only be the output activation, not a hidden one")
    get_activation(activations[-1])
    return activations


def linear_forward(A_prev: Array, W: Array, b: Array) -> tuple[Array, LinearCache]:
    """Z = W A_prev + b: (n[l], n[l-1]) @ (n[l-1], m) + (n[l], 1) -> (n[l], m)."""
    assert W.ndim == 2 and A_prev.ndim == 2 and W.shape[1] == A_prev.shape[0], (
        f"W is {W.shape} but A_prev is {A_prev.shape}: W must be (n[l], n[l-1]) and A_prev (n[l-1], m)"
    )
    assert b.shape == (W.shape[0], 1), f"b is {b.shape}, expected {(W.shape[0], 1)} = (n[l], 1)"
    Z = W @ A_prev  # (n[l], m)
    Z += b  # broadcast over the m columns, in place: no second (n[l], m) array
    return Z, (A_prev, W, b)


def linear_activation_forward(
    A_prev: Array, W: Array, b: Array, activation: str
) -> tuple[Array, tuple[LinearCache, Array]]:
    """A = g(Z), Z = W A_prev + b; returns (A, ((A_prev, W, b), Z))."""
    Z, linear_cache = linear_forward(A_prev, W, b)
    A = get_activation(activation).function(Z)  # (n[l], m)
    return A, (linear_cache, Z)


def L_model_forward(
    X: Array,
    parameters: dict[str, Array],
    activations: Sequence[str] | None = None,
    keep_prob: KeepProb = 1.0,
    masks: Sequence[Array | None] | None = None,
) -> tuple[Array, list[Cache]]:
    """A[0] = X; for l = 1..L: A[l] = g[l](W[l] A[l-1] + b[l]). Returns (AL, caches), one cache per layer.

    Dropout (regularization.py): masks, one (n[l], m) array of 0 and 1 per hidden layer (or None), with
    keep_prob (one number, or one per hidden layer): A[l] := A[l] * D[l] / keep_prob[l]; that layer's cache
    is then ((A_prev, W, b), Z, D[l]) and backward needs the same keep_prob."""
    L = len(parameters) // 2
    activations = _resolve_activations(activations, L)
    probs = keep_probs(keep_prob, L) if masks is not None else ()
    A = X
    caches: list[Cache] = []
    cache: Cache
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        assert W.ndim == 2 and W.shape[1] == A.shape[0], (
            f"layer {l}: W{l} is {W.shape}, expected (n[{l}], {A.shape[0]})"
        )
        assert b.shape == (W.shape[0], 1), f"layer {l}: b{l} is {b.shape}, expected ({W.shape[0]}, 1)"
        A, cache = linear_activation_forward(A, W, b, activations[l - 1])
        D = masks[l - 1] if masks is not None and l < L else None
        if D is not None:
            assert D.shape == A.shape, f"layer {l}: the mask is {D.shape}, A{l} is {A.shape}"
            A = A * D / probs[l - 1]
            cache = (*cache, D)
        caches.append(cache)
    return A, caches


def linear_backward(dZ: Array, cache: LinearCache) -> tuple[Array, Array, Array]:
    """dW = (1/m) dZ A_prev^T (n[l], n[l-1]), db = (1/m) sum of dZ over the examples (n[l], 1),
    dA_prev = W^T dZ (n[l-1], m); returns (dA_prev, dW, db)."""
    A_prev, W, b = cache
    dW, db = _parameter_gradients(dZ, A_prev)
    dA_prev = W.T @ dZ  # (n[l-1], m)
    assert dW.shape == W.shape and db.shape == b.shape and dA_prev.shape == A_prev.shape
    return dA_prev, dW, db


def _parameter_gradients(dZ: Array, A_prev: Array) -> tuple[Array, Array]:
    """dW = (1/m) dZ A_prev^T and db = (1/m) sum of dZ over the examples: linear_backward's two, alone."""
    m = A_prev.shape[1]
    dW = dZ @ A_prev.T  # (n[l], n[l-1])
    dW *= 1 / m  # in place: no second (n[l], n[l-1]) array
    db = np.sum(dZ, axis=1, keepdims=True)  # (n[l], 1)
    db *= 1 / m
    return dW, db


def activation_backward(dA: Array, Z: Array, activation: str) -> Array:
    """dZ = dA * g'(Z), elementwise, (n[l], m)."""
    derivative = get_activation(activation).derivative
    if derivative is None:
        raise ValueError(f"{activation}'s derivative is taken with its loss: dZ[L] = A[L] - Y")
    return dA * derivative(Z)


def linear_activation_backward(
    dA: Array, cache: tuple[LinearCache, Array], activation: str
) -> tuple[Array, Array, Array]:
    """dZ = dA * g'(Z), then linear_backward; returns (dA_prev, dW, db)."""
    linear_cache, Z = cache
    return linear_backward(activation_backward(dA, Z, activation), linear_cache)


def L_model_backward(
    AL: Array,
    Y: Array,
    caches: list[Cache],
    activations: Sequence[str] | None = None,
    loss: str = "bce",
    lambd: float = 0.0,
    keep_prob: KeepProb = 1.0,
    parameters_only: bool = False,
) -> dict[str, Array]:
    """Backward from dZ[L] = A[L] - Y (the loss with its natural output) down to layer 1.

    Returns dW{l}, db{l} and dZ{l} for l = 1..L, and dA{l} for l = 0..L-1. With lambd > 0 the cost is
    L2-regularised (regularization.py): each dW[l] gains (lambd / m) W[l]; db[l] and dA do not change.
    A cache with a dropout mask D[l] (L_model_forward's masks) gives dA[l] * D[l] / keep_prob[l] to dZ[l]; dA{l}
    is kept as the gradient of the dropped A[l], the one layer l + 1 read.

    parameters_only: a training step's gradients, dW{l} and db{l} alone (train.py's steps). No step reads dA0 =
    W[1]^T dZ[1], the gradient of the inputs X, so it is not computed: (n[0], m), with n[0] = 12288 on the
    course's image classifier, a third of the first layer's work. Each layer's dA and dZ are let go once the
    layer below has them, and g'(Z) multiplies dA in place: the step's peak memory is the caches and two layers'.
    """
    L = len(caches)
    activations = _resolve_activations(activations, L)
    expected_output = get_loss(loss).output_activation
    if activations[-1] != expected_output:
        raise ValueError(f"loss {loss!r} goes with a {expected_output} output, not {activations[-1]}")
    assert AL.shape == Y.shape, f"AL is {AL.shape} but Y is {Y.shape}"

    grads: dict[str, Array] = {}
    dZ: Array = AL - Y  # (n[L], m): dJ/dZ[L] per example for every natural loss/output pair
    probs = keep_probs(keep_prob, L) if any(len(cache) == 3 for cache in caches) else ()
    dA: Array | None = None  # the gradient of this layer's A, from the layer above
    for l in range(L, 0, -1):
        cache = caches[l - 1]
        linear_cache, Z = cache[:2]
        if l < L:
            assert dA is not None, "the layer above gave its dA"
            if len(cache) == 3 and parameters_only:  # dropout, into the step's own dA: the same two operations
                dA *= cache[2]
                dA /= probs[l - 1]
            elif len(cache) == 3:  # dropout: the mask of this layer's A, and its scaling
                dA = dA * cache[2] / probs[l - 1]
            dZ = (
                _times_derivative(dA, Z, activations[l - 1])
                if parameters_only
                else activation_backward(dA, Z, activations[l - 1])
            )
        if parameters_only:
            grads[f"dW{l}"], grads[f"db{l}"] = _parameter_gradients(dZ, linear_cache[0])
            dA = linear_cache[1].T @ dZ if l > 1 else None  # (n[l-1], m): the layer below's, then let go
        else:
            grads[f"dZ{l}"] = dZ
            dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, linear_cache)
            grads[f"dA{l - 1}"] = dA
        if lambd:
            A_prev, W, _ = linear_cache
            grads[f"dW{l}"] = grads[f"dW{l}"] + (lambd / A_prev.shape[1]) * W
    return grads


def _times_derivative(dA: Array, Z: Array, activation: str) -> Array:
    """activation_backward's dZ = dA * g'(Z), written into dA (a step's own array, which nothing else holds)."""
    g = get_activation(activation)
    if g.derivative is None:
        raise ValueError(f"{activation}'s derivative is taken with its loss: dZ[L] = A[L] - Y")
    if g.gate is not None:
        np.multiply(dA, g.gate(Z), out=dA)
    else:
        dA *= g.derivative(Z)
    return dA


def update_parameters(parameters: dict[str, Array], grads: dict[str, Array], learning_rate: float) -> dict[str, Array]:
    """W[l] := W[l] - lr dW[l], b[l] := b[l] - lr db[l]; returns new arrays, the inputs stay unchanged."""
    L = len(parameters) // 2
    updated: dict[str, Array] = {}
    for l in range(1, L + 1):
        for name in (f"W{l}", f"b{l}"):
            new = grads[f"d{name}"] * -learning_rate  # -lr dW, then + W in place: W - lr dW to the bit, one array
            new += parameters[name]
            updated[name] = new
    return updated
