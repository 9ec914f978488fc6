"""TorchNet: the course's L-layer network as nn.Linear layers and torch activation modules."""

from collections.abc import Callable, Mapping, Sequence
from typing import cast

import torch
from torch import nn

from .arrays import Array
from .dense import CourseLinear

# name -> factory, so every layer gets its own module instance (hooks stay per layer).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "linear": nn.Identity,
    # Torch holds examples as rows, so the units of one example lie along dim 1.
    "softmax": lambda: nn.Softmax(dim=1),
}

# Softmax is fused with its loss ("ce"), so it can only close the network.
OUTPUT_ONLY = frozenset({"softmax"})


def make_activation(name: str, *, hidden: bool) -> nn.Module:
    """A fresh module computing g(Z) for the activation called `name`."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}: choose from {sorted(ACTIVATIONS)}")
    if hidden and name in OUTPUT_ONLY:
        raise ValueError(f"{name!r} may only be the output activation, not a hidden one")
    return ACTIVATIONS[name]()


class MaskedDropout(nn.Module):
    """Inverted dropout with a mask given from outside: A * D / keep_prob, or A itself without a mask.

    nn.Dropout draws its own masks from torch's generator, which NumPy's side cannot reproduce; here
    the mask is the verifier's, the same on both sides, and the scaling is nn.Dropout(p = 1 - keep_prob)'s
    in training mode (tested)."""

    def __init__(self) -> None:
        super().__init__()
        self.mask: torch.Tensor | None = None  # rows (m, n[l]) of 0 and 1
        self.keep_prob = 1.0

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a if self.mask is None else a * self.mask / self.keep_prob


class CourseMap(nn.Module):
    """A layer's map Z = f(A_prev) on rows, other than nn.Linear, with its parameters in the course's layout.

    `course_names` are its parameters' course names (a dense layer's would be W, b); `load_course` copies course
    arrays in, `course_values(value_of)` gives value_of(parameter) (the parameter, its .grad, an optimiser's state)
    back as course arrays; `decayed` lists the tensors an L2 penalty sums the squares of."""

    course_names: tuple[str, ...] = ()

    def load_course(self, params: Mapping[str, Array]) -> None:
        raise NotImplementedError

    def course_values(self, value_of: Callable[[torch.Tensor], torch.Tensor]) -> dict[str, Array]:
        raise NotImplementedError

    def decayed(self) -> list[torch.Tensor]:
        return []


class TorchNet(nn.Module):
    """Z[l] = Linear_l(A[l-1]), A[l] = g[l](Z[l]) (times D[l] / keep_prob with a dropout mask, see
    set_masks) on rows (m, n[l]); forward returns Z[L].

    The output activation is kept apart (`output_activation`) because the losses read the
    logits Z[L]; A[L] = output_activation(Z[L]).
    """

    def __init__(
        self,
        layer_dims: Sequence[int],
        activations: Sequence[str],
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        maps: Sequence[CourseMap | None] | None = None,
    ) -> None:
        """maps: per layer, the module computing Z[l] from A[l-1] (built for this dtype and device), or None for
        a dense layer, CourseLinear(n[l-1], n[l]) (an nn.Linear); None: every layer dense."""
        super().__init__()
        if isinstance(activations, str):
            raise ValueError("activations must be a sequence of names, one per layer")
        dims, names = tuple(int(n) for n in layer_dims), tuple(activations)
        if len(dims) < 2 or len(names) != len(dims) - 1:
            raise ValueError(f"layer_dims {dims} needs {max(len(dims) - 1, 1)} activation(s), got {len(names)}")
        self.layer_dims = dims
        self.activation_names = names
        maps = [None] * len(names) if maps is None else list(maps)
        if len(maps) != len(names):
            raise ValueError(f"{len(names)} layers need {len(names)} maps (None for nn.Linear), got {len(maps)}")
        # each layer's map Z[l] = f(A[l-1]): nn.Linear, or a layer kind's CourseMap
        self.linears = nn.ModuleList(
            CourseLinear(n_in, n_out, dtype=dtype, device=device) if layer is None else layer
            for n_in, n_out, layer in zip(dims[:-1], dims[1:], maps)
        )
        self.hidden_activations = nn.ModuleList(make_activation(name, hidden=True) for name in names[:-1])
        self.output_activation = make_activation(names[-1], hidden=False)
        self.dropouts = nn.ModuleList(MaskedDropout() for _ in names[:-1])  # after each hidden layer; off by default

    def set_masks(self, masks: Sequence[torch.Tensor | None] | None, keep_probs: Sequence[float] | None = None) -> None:
        """Dropout masks for the next forward passes: one per hidden layer (a (m, n[l]) tensor of 0 and 1, or
        None for no dropout there) with its keep_prob; masks None turns dropout off everywhere."""
        masks = [None] * len(self.dropouts) if masks is None else list(masks)
        keep_probs = [1.0] * len(self.dropouts) if keep_probs is None else list(keep_probs)
        for dropout, mask, keep_prob in zip(self.dropout_layers, masks, keep_probs, strict=True):
            dropout.mask, dropout.keep_prob = mask, float(keep_prob)

    # nn.ModuleList hands out its items as nn.Module; these are the same modules, with their own types.
    @property
    def linear_layers(self) -> list[nn.Linear]:
        """The nn.Linear of the dense layers (self.linears, less the layers of other kinds)."""
        return [linear for linear in self.linears if isinstance(linear, nn.Linear)]

    def decayed(self) -> list[torch.Tensor]:
        """The tensors an L2 penalty sums the squares of: every dense layer's weight, and what other maps name."""
        return [
            tensor
            for layer in self.linears
            for tensor in ([layer.weight] if isinstance(layer, nn.Linear) else cast(CourseMap, layer).decayed())
        ]

    @property
    def dropout_layers(self) -> list[MaskedDropout]:
        """The MaskedDropout after hidden layers 1..L-1 (self.dropouts)."""
        return [cast(MaskedDropout, dropout) for dropout in self.dropouts]

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """(m, n0) rows -> logits Z[L] as (m, nL) rows."""
        for linear, g, dropout in zip(self.linears, self.hidden_activations, self.dropouts):
            a = dropout(g(linear(a)))
        z: torch.Tensor = self.linears[-1](a)  # (m, nL)
        return z
