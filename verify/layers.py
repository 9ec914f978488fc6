"""Layer kinds: the unit a network is extended by.

Every layer l of a network computes Z[l] = f(A[l-1]) with parameters of its own, then A[l] = g[l](Z[l]) with the
layer's activation (and, on a hidden layer, dropout's mask). The activation, the loss and dropout are the network's
and the same for every layer; what differs from one kind of layer to another is f. A `LayerKind` brings, in one
place, everything the checks need of f:

- its spelling in --arch (`word`) and the size of its output;
- its parameters in the course's layout (names, shapes, initial values), which of them L2 penalises and which are
  offsets (the kink probe sets those to 0, so that Z = 0 where A[l-1] = 0);
- its forward and backward pass in NumPy, derived by hand (`scratch`): forward(A_prev, P) -> (Z, cache) and
  backward(dZ, cache) -> (dA_prev, {name: dJ/dP}), with the course's conventions (dZ and dA are gradients of the
  summed loss, dJ/dP of the mean cost J);
- its torch twin, a module computing Z from A as rows, and how its parameters map between the two layouts
  (`twin`; None for nn.Linear, whose mapping is torch_ref.layout's);
- its scale rule for the tolerance model (tolerance.term_scales): Z's scale and its gradients' (`forward_scale`,
  `backward_scales`), by default from how much an error in A[l-1] can grow through f (`gains`) and the scales of
  its parameters' gradients (`gradient_scales`);
- its slips (`hints`): where a layer of this kind is commonly derived wrong, named in the report.

The checks (forward, backward, gradient check, lockstep and free-running training, TensorBoard) read layers only
through this interface, so a new kind is one `register(kind)` away from every check: tests/verify/test_layer_kinds.py
adds one in a test file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import scratch

from .errors import UsageError

Params = Mapping[str, np.ndarray]  # one layer's parameters, by their names without the layer's number ("W", "b")
Call = Callable[..., Any]  # call(name, *args): what the course's function of that name returns for args (a layer
# kind whose pass is the course's functions, conv_forward or rnn_forward, takes them so, scratch's or a notebook's)


def scratch_call(name: str, *args: Any) -> Any:
    """The course's function `name`, as scratch derives it."""
    return getattr(scratch, name)(*args)


@dataclass(frozen=True)
class Gains:
    """How an error in A[l-1] reaches Z[l] and an error in dZ[l] reaches dA[l-1], for the tolerance model.

    E_Z = forward (max |A[l-1]| + carried error) + offset and E_dA = backward (max |dZ| + carried error): for a
    dense layer the largest 2-norm of a row of W (of a column, backward) and max |b|."""

    forward: float
    backward: float
    offset: float


@dataclass(frozen=True)
class Inflow:
    """What reaches layer l where the tolerance model computes its scales: its parameters, A[l-1] (columns), max
    |A[l-1]| and the error A[l-1] carries (in units of rtol); `memo` keeps what a kind's forward_scale computed
    for its backward_scales at the same point."""

    P: Params
    A: np.ndarray
    size: float
    carried: float
    memo: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Backflow:
    """What reaches layer l's backward pass there: dZ[l]'s scale, its mean size over the examples (the largest
    unit's), its largest entry and the error it carries."""

    E: float
    mean: float
    largest: float
    carried: float


class LayerKind:
    """A kind of layer's map Z = f(A_prev): subclass it and `register` an instance (see the module's docstring)."""

    word = ""  # how --arch spells a layer of this kind
    names: tuple[str, ...] = ()  # its parameters, in the order they are compared and logged
    decayed: tuple[str, ...] = ()  # those L2 penalises (a dense layer's W)
    offsets: tuple[str, ...] = ()  # those the kink probe zeroes (a dense layer's b)
    activation: str | None = None  # the layer's default activation; None: the network's (relu on a hidden layer)

    def output_size(self, n_in: int) -> int:
        """n[l] of a layer this kind spells without a size (a word in --arch): by default, its input's."""
        return n_in

    def shapes(self, n_in: int, n_out: int) -> dict[str, tuple[int, ...]]:
        raise NotImplementedError

    def initialize(self, n_in: int, n_out: int, init: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Float64 initial values of the parameters (the offsets drawn apart, see runner.initial_parameters)."""
        raise NotImplementedError

    def forward(self, A_prev: np.ndarray, P: Params) -> tuple[np.ndarray, Any]:
        raise NotImplementedError

    def backward(self, dZ: np.ndarray, cache: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        raise NotImplementedError

    def twin(self, n_in: int, n_out: int) -> Any:
        """A torch_ref.CourseMap computing Z from A as rows (None: nn.Linear)."""
        return None

    def gains(self, P: Params) -> Gains:
        raise NotImplementedError

    def forward_scale(self, into: Inflow) -> float:
        """Z[l]'s scale: by default the gains' bound, forward (max |A[l-1]| + carried) + offset."""
        gains = into.memo["gains"] = self.gains(into.P)
        return gains.forward * (into.size + into.carried) + gains.offset

    def backward_scales(self, into: Inflow, back: Backflow) -> dict[str, float]:
        """Each parameter's gradient scale, and "dA": dA[l-1]'s; by default gradient_scales, and the gains' bound
        backward (max |dZ| + carried)."""
        gains = into.memo.get("gains") or self.gains(into.P)
        return {
            **self.gradient_scales(back.E, back.mean, into.size, into.carried),
            "dA": gains.backward * (back.largest + back.carried),
        }

    def gradient_scales(self, E_dZ: float, dZ_mean: float, A_size: float, A_carried: float) -> dict[str, float]:
        """Each parameter's gradient scale from dZ's (E_dZ; its mean size over the examples, dZ_mean) and A[l-1]'s
        (its largest entry and the error it carries): a product with A_prev for a weight, dZ itself for an offset."""
        raise NotImplementedError

    def entry_scales(
        self, bound: np.ndarray, dZ: np.ndarray, A_prev: np.ndarray, carried: float
    ) -> dict[str, np.ndarray] | None:
        """Per-entry gradient scales for Adam, from |dZ| + its error per entry (`bound`), |dZ| itself, A[l-1] and the
        error A[l-1] carries; None: the layer's scalar scale serves every entry."""
        return None

    def reach(self, P: Params) -> float:
        """How far a change of A[l-1] moves Z[l] at most, per unit (the largest row sum of |W|): for the gradient
        check's search for relu kinks a finite difference may cross."""
        raise NotImplementedError

    def hints(self, quantity: str, impl: np.ndarray, ref: np.ndarray, context: Mapping[str, Any]) -> str:
        """The slip a wrong `quantity` of a layer of this kind shows, or ""."""
        return ""


class Dense(LayerKind):
    """Z = W A_prev + b, the course's linear_forward: nn.Linear on torch's side."""

    word = "dense"
    names = ("W", "b")
    decayed = ("W",)
    offsets = ("b",)

    def shapes(self, n_in: int, n_out: int) -> dict[str, tuple[int, ...]]:
        return {"W": (n_out, n_in), "b": (n_out, 1)}

    def initialize(self, n_in: int, n_out: int, init: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
        # the draws of scratch.initialize_parameters_deep, layer by layer from one generator
        return {"W": rng.standard_normal((n_out, n_in)) * scratch.INIT_SCALES[init](n_in), "b": np.zeros((n_out, 1))}

    def forward(self, A_prev: np.ndarray, P: Params) -> tuple[np.ndarray, Any]:
        return scratch.linear_forward(A_prev, P["W"], P["b"])

    def backward(self, dZ: np.ndarray, cache: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        dA_prev, dW, db = scratch.linear_backward(dZ, cache)
        return dA_prev, {"W": dW, "b": db}

    def gains(self, P: Params) -> Gains:
        squares = P["W"] ** 2
        return Gains(
            float(np.sqrt(np.max(squares.sum(axis=1)))), float(np.sqrt(np.max(squares.sum(axis=0)))), _largest(P["b"])
        )

    def gradient_scales(self, E_dZ: float, dZ_mean: float, A_size: float, A_carried: float) -> dict[str, float]:
        return {"W": E_dZ * A_size + dZ_mean * A_carried, "b": E_dZ}

    def entry_scales(
        self, bound: np.ndarray, dZ: np.ndarray, A_prev: np.ndarray, carried: float
    ) -> dict[str, np.ndarray] | None:
        # E_dW = (1/m) (|dZ| + D) |A[l-1]|^T + mean over examples of |dZ| E_A[l-1]; E_db = mean of (|dZ| + D)
        m = A_prev.shape[1]
        return {
            "W": (bound @ np.abs(A_prev).T) / m + dZ.mean(axis=1, keepdims=True) * carried,
            "b": bound.mean(axis=1, keepdims=True),
        }

    def reach(self, P: Params) -> float:
        return float(np.max(np.sum(np.abs(P["W"]), axis=1)))


DENSE = Dense()
KINDS: dict[str, LayerKind] = {DENSE.word: DENSE}


def register(kind: LayerKind) -> LayerKind:
    """Make `kind` available to --arch (as its word) and to every check; returns it."""
    if not kind.word or not kind.word.isidentifier():
        raise ValueError(f"a layer kind's word must be a name like 'conv', got {kind.word!r}")
    KINDS[kind.word] = kind
    return kind


def unregister(word: str) -> None:
    """Forget the kind `word` (dense stays)."""
    if word != DENSE.word:
        KINDS.pop(word, None)


def kind(word: str) -> LayerKind:
    """The kind a word names: a registered one ("dense"), or a conv, pool or recurrent layer with its input's shape
    ("conv4f3s1p1@8x8x3", spatial.py; "lstm5@6x3", recurrent.py); KeyError for any other word."""
    if word in KINDS:
        return KINDS[word]
    from . import recurrent, spatial  # import this module

    found = spatial.kind(word) or recurrent.kind(word)
    if found is None:
        raise KeyError(word)
    return found


def known(word: str) -> bool:
    try:
        kind(word)
    except KeyError:
        return False
    return True


def kinds_activations(words: tuple[str, ...] | None, defaults: tuple[str, ...]) -> tuple[str, ...]:
    """The API's default activations, each layer whose kind has one of its own (a pool layer: linear) given it."""
    if words is None or len(words) != len(defaults):
        return defaults
    return tuple(
        (known(word) and kind(word).activation) or default for word, default in zip(words, defaults, strict=True)
    )


def check_layers(words: tuple[str, ...] | None, arch: tuple[int, ...]) -> None:
    """Each layer's kind known, and the size it has the one its kind gives it (UsageError otherwise)."""
    if words is None:
        return
    if len(words) != len(arch) - 1:
        raise UsageError(f"layers names {len(words)} kinds for the {len(arch) - 1} layers of {arch}")
    for l, word in enumerate(words, start=1):
        if not known(word):
            raise UsageError(f"unknown layer kind {word!r}; choose from {', '.join(KINDS)}")
        try:
            size = kind(word).output_size(arch[l - 1])
        except ValueError as error:
            raise UsageError(f"layer {l}: {error}") from None
        if word != DENSE.word and size != arch[l]:
            raise UsageError(f"layer {l} is a {word} layer of {arch[l - 1]} inputs: it has {size} units, not {arch[l]}")


def _largest(array: np.ndarray) -> float:
    return float(np.maximum(array.max(), -array.min())) if array.size else 0.0


def torch_net(network, dtype, device=None):
    """torch_ref's twin of `network`, built in `dtype` on `device` with torch's own initial weights: nn.Linear for
    a dense layer, its kind's CourseMap for another."""
    import torch_ref

    maps = [
        None
        if network.kind(l) is DENSE
        else network.kind(l).twin(network.sizes[l - 1], network.sizes[l]).to(dtype=dtype, device=device)
        for l in range(1, network.L + 1)
    ]
    return torch_ref.TorchNet(network.sizes, network.activations, dtype=dtype, device=device, maps=maps)


def torch_model(network, params: dict, device="cpu"):
    """torch_net holding `params` (course layout, one float dtype), on `device`."""
    import torch

    import torch_ref

    if network.dense:
        return torch_ref.from_params(params, list(network.activations), device)
    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
        next(iter(params.values())).dtype
    ]
    model = torch_net(network, dtype, torch_ref.check_device(device))
    torch_ref.load_params(model, params)
    return model


__all__ = ["DENSE", "KINDS", "Dense", "Gains", "LayerKind", "Params", "kind", "register", "torch_model", "torch_net"]
__all__ += ["Backflow", "Inflow", "check_layers", "kinds_activations", "known", "unregister"]
