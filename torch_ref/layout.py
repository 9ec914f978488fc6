"""The one place where the course layout meets torch's.

Course: examples are columns, W[l] is (n[l], n[l-1]), b[l] is (n[l], 1), and dZ, dA are
gradients of the summed loss. Torch: examples are rows, nn.Linear.bias is (n[l],), and
autograd differentiates the mean cost J. Every transpose, bias reshape and factor m of
torch_ref lives here.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from .arrays import Array
from .device import check_device
from .model import CourseMap, TorchNet

FloatDType = np.dtype[np.floating[Any]]
_TORCH_DTYPES: dict[FloatDType, torch.dtype] = {
    np.dtype(np.float32): torch.float32,
    np.dtype(np.float64): torch.float64,
}
_NUMPY_DTYPES = {t: n for n, t in _TORCH_DTYPES.items()}


def param_dims(params: Mapping[str, Array], n_layers: int) -> tuple[tuple[int, ...], FloatDType]:
    """Check a course dict W1, b1, ..., WL, bL; return (n0, ..., nL) and its one dtype."""
    if n_layers < 1:
        raise ValueError("a network needs at least one layer (one activation)")
    expected = [f"{p}{l}" for l in range(1, n_layers + 1) for p in "Wb"]
    missing = [k for k in expected if k not in params]
    extra = sorted(str(k) for k in params if k not in expected)
    if missing or extra:
        raise ValueError(f"params for {n_layers} layer(s) need keys {expected}: missing {missing}, extra {extra}")
    for key in expected:
        if not isinstance(params[key], np.ndarray):
            kind = type(params[key]).__name__
            raise ValueError(f"params[{key!r}] must be a NumPy array, got {kind}")
    dtypes = {params[k].dtype for k in expected}
    if len(dtypes) > 1:
        raise ValueError(f"params mix dtypes {sorted(map(str, dtypes))}: use one float dtype")
    dtype = dtypes.pop()
    if dtype not in _TORCH_DTYPES:
        raise ValueError(f"params have dtype {dtype}: expected float32 or float64")

    if params["W1"].ndim != 2:
        raise ValueError(f"W1 has shape {params['W1'].shape}, expected (n[1], n[0])")
    dims = [params["W1"].shape[1]]
    for l in range(1, n_layers + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if W.ndim != 2 or W.shape[1] != dims[-1]:
            raise ValueError(f"W{l} has shape {W.shape}, expected (n[{l}], {dims[-1]})")
        if b.shape != (W.shape[0], 1):
            raise ValueError(f"b{l} has shape {b.shape}, expected {(W.shape[0], 1)}")
        dims.append(W.shape[0])
    return tuple(dims), dtype


def from_params(params: Mapping[str, Array], activations: Sequence[str], device: str = "cpu") -> TorchNet:
    """A TorchNet holding exactly these course-layout weights, in their dtype, on `device`."""
    if isinstance(activations, str):
        raise ValueError("activations must be a sequence of names, one per layer")
    dims, dtype = param_dims(params, len(activations))
    # nn.Linear draws its default init here, overwritten at once. (Building on the "meta"
    # device instead would skip the draw but costs about 0.3 s of imports on first use.)
    model = TorchNet(dims, activations, dtype=_TORCH_DTYPES[dtype], device=check_device(device))
    load_params(model, params)
    return model


def load_params(model: TorchNet, params: Mapping[str, Array]) -> None:
    """Copy a course-layout dict into `model` in place: weight = W[l], bias = b[l][:, 0] for nn.Linear, a layer
    kind's own mapping (CourseMap.load_course) for another map."""
    if not _dense(model):
        _load_course_maps(model, params)
        return
    dims, dtype = param_dims(params, len(model.linears))
    if dims != model.layer_dims or _TORCH_DTYPES[dtype] != model.dtype:
        raise ValueError(f"params are {dims} {dtype}, the model is {model.layer_dims} {_numpy_dtype(model)}")
    with torch.no_grad():
        for l, linear in enumerate(model.linear_layers, 1):
            linear.weight.copy_(_tensor(params[f"W{l}"]))
            linear.bias.copy_(_tensor(params[f"b{l}"][:, 0]))


def _dense(model: TorchNet) -> bool:
    return all(isinstance(layer, nn.Linear) for layer in model.linears)


def _names(layer: nn.Module) -> tuple[str, ...]:
    return ("W", "b") if isinstance(layer, nn.Linear) else cast(CourseMap, layer).course_names


def _load_course_maps(model: TorchNet, params: Mapping[str, Array]) -> None:
    """load_params for a model with maps other than nn.Linear: keys, dtype and shapes checked per layer."""
    expected = [f"{name}{l}" for l, layer in enumerate(model.linears, 1) for name in _names(layer)]
    if sorted(params) != sorted(expected):
        raise ValueError(f"params need keys {expected}, got {sorted(map(str, params))}")
    dtype = _numpy_dtype(model)
    for key in expected:
        if not isinstance(params[key], np.ndarray) or params[key].dtype != dtype:
            raise ValueError(f"params[{key!r}] must be a {dtype} NumPy array, the model's dtype")
    with torch.no_grad():
        for l, layer in enumerate(model.linears, 1):
            if isinstance(layer, nn.Linear):
                W, b = params[f"W{l}"], params[f"b{l}"]
                if W.shape != tuple(layer.weight.shape) or b.shape != (layer.weight.shape[0], 1):
                    raise ValueError(f"W{l} {W.shape} and b{l} {b.shape} do not fit layer {l}, {layer}")
                layer.weight.copy_(_tensor(W))
                layer.bias.copy_(_tensor(b[:, 0]))
            else:
                cast(CourseMap, layer).load_course({name: params[f"{name}{l}"] for name in _names(layer)})


def to_params(model: TorchNet) -> dict[str, Array]:
    """The weights as fresh course-layout arrays W{l} (n[l], n[l-1]) and b{l} (n[l], 1) (a layer kind's own)."""
    return {key[1:]: value for key, value in per_parameter(model, lambda t: t).items()}


def gradients(model: TorchNet, copy: bool = True) -> dict[str, Array]:
    """The parameters' current .grad as course-layout dW{l} (n[l], n[l-1]) and db{l} (n[l], 1). With copy=False a
    dense layer's are read-only views of the .grad tensors: a step sets .grad to new tensors (Trainer.backward), so
    a view keeps the values it was taken with, unless an optimiser writes into .grad in place."""
    if any(p.grad is None for p in model.parameters() if p.requires_grad):
        raise ValueError("the model holds no gradients: run forward_backward or Trainer.step first")
    return per_parameter(model, grad_of, copy)


def per_parameter(
    model: TorchNet, value_of: Callable[[torch.Tensor], torch.Tensor], copy: bool = True
) -> dict[str, Array]:
    """value_of(parameter) for each nn.Linear weight and bias, as course-layout arrays keyed like the
    gradients, dW{l} (n[l], n[l-1]) and db{l} (n[l], 1): gradients, or an optimiser's state per parameter
    (a layer kind's parameters by its CourseMap's course_values, keyed d<name>{l}). copy=False: a dense layer's
    as read-only views of the tensors value_of gives."""
    values = {}
    for l, layer in enumerate(model.linears, 1):
        if isinstance(layer, nn.Linear):
            values[f"dW{l}"] = _numpy(value_of(layer.weight), copy)
            values[f"db{l}"] = _numpy(value_of(layer.bias), copy).reshape(-1, 1)
        else:
            for name, value in cast(CourseMap, layer).course_values(value_of).items():
                values[f"d{name}{l}"] = value
    return values


def grad_of(t: torch.Tensor) -> torch.Tensor:
    """t.grad, which a backward pass through t sets (autograd leaves it None until then)."""
    if t.grad is None:
        raise ValueError("no gradient to read: run a backward pass first")
    return t.grad


def data_rows(model: TorchNet, X: Array, Y: Array) -> tuple[torch.Tensor, torch.Tensor]:
    """Check X (n0, m) and Y (nL, m) course columns; return torch rows (m, n0), (m, nL)."""
    if isinstance(X, np.ndarray) and isinstance(Y, np.ndarray) and X.ndim == Y.ndim == 2 and X.shape[1] != Y.shape[1]:
        raise ValueError(f"X has {X.shape[1]} examples (columns) but Y has {Y.shape[1]}")
    return rows(model, X, "X", model.layer_dims[0]), rows(model, Y, "Y", model.layer_dims[-1])


def rows(model: TorchNet, array: Array, name: str = "X", n: int | None = None) -> torch.Tensor:
    """Check a course (n, m) array against the model; return it as torch rows (m, n) on its device."""
    n = model.layer_dims[0] if n is None else n
    dtype = _numpy_dtype(model)
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array, got {type(array).__name__}")
    if array.ndim != 2 or array.shape[0] != n or array.shape[1] < 1:
        raise ValueError(f"{name} must have shape ({n}, m) with m >= 1, got {array.shape}")
    if array.dtype != dtype:
        raise ValueError(f"{name} has dtype {array.dtype}, the model is {dtype}")
    # One copy, never an alias of the caller's array, in rows order: torch.tensor(array.T) would keep the
    # transposed strides, and torch's linear then copies its input into rows order on every forward
    # (about 20% of a step on 12288,20,7,5,1).
    return torch.from_numpy(array.T.copy(order="C")).to(model.device)


def columns(rows: torch.Tensor, copy: bool = True) -> Array:
    """A (m, n) rows tensor in the course layout (n, m): a fresh NumPy copy, or with copy=False
    a read-only view of the tensor's memory (on the CPU), valid while the tensor is unchanged."""
    if copy:
        fresh: Array = _transposed_copy(rows).cpu().numpy()  # C-ordered
        return fresh
    array: Array = rows.detach().cpu().numpy().T
    array.flags.writeable = False
    return array


def summed_gradient(grad_rows: torch.Tensor, copy: bool = True) -> Array:
    """Course dZ (or dA) from autograd's dJ/dZ rows: m * dJ/dZ = d(sum of losses)/dZ, columns."""
    m = grad_rows.shape[0]
    if not copy:
        return columns(grad_rows * m, copy=False)
    summed: Array = _transposed_copy(grad_rows).mul_(m).cpu().numpy()
    return summed


def _transposed_copy(rows: torch.Tensor) -> torch.Tensor:
    """rows.T in a fresh contiguous tensor (never a view, even of a vector): torch's transposing copy of a
    (2048, 256) float64 tensor takes 0.75 ms, NumPy's of the same array 2 ms."""
    return rows.detach().T.clone(memory_format=torch.contiguous_format)


def _numpy_dtype(model: TorchNet) -> FloatDType:
    if model.dtype not in _NUMPY_DTYPES:
        raise ValueError(f"the model is {model.dtype}: expected torch.float32 or torch.float64")
    return _NUMPY_DTYPES[model.dtype]


def _tensor(array: Array) -> torch.Tensor:
    # from_numpy shares memory but warns on read-only arrays; copy those instead.
    return torch.from_numpy(array) if array.flags.writeable else torch.tensor(array)


def _numpy(t: torch.Tensor, copy: bool = True) -> Array:
    array: Array = t.detach().cpu().numpy()
    if copy:
        fresh: Array = array.copy()
        return fresh
    array.flags.writeable = False
    return array


def load_masks(model: TorchNet, masks: Sequence[Array | None] | None, keep_probs: Sequence[float] | None) -> None:
    """Dropout masks in the course layout, one (n[l], m) array of 0 and 1 per hidden layer (or None), onto the
    model's MaskedDropout layers as rows; masks None turns dropout off."""
    if masks is None:
        model.set_masks(None)
        return
    dims = model.layer_dims[1:-1]
    model.set_masks(
        [None if D is None else rows(model, D, f"D{l}", n) for l, (D, n) in enumerate(zip(masks, dims), 1)], keep_probs
    )
