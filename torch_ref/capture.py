"""One forward and backward pass, reporting every course quantity Z, A, dZ, dA, dW, db."""

import numpy as np
import torch

from .layout import columns, data_rows, gradients, rows, summed_gradient
from .losses import get_loss
from .model import TorchNet


def forward_backward(
    model: TorchNet, X: np.ndarray, Y: np.ndarray, loss: str = "bce"
) -> dict[str, np.ndarray | float]:
    """Evaluate J(X, Y) and its gradients; return "cost" and Z{l}, A{l}, dZ{l}, dW{l}, db{l}
    (l = 1..L) and dA{l} (l = 0..L-1) as course-layout NumPy arrays.

    dZ and dA follow the course: gradients of the summed loss, m * dJ/dZ. dW and db are dJ/dW.
    After the call the model's .grad hold this evaluation's gradients.
    """
    L = len(model.linears)
    loss_fn = get_loss(loss, model.activation_names[-1])
    x, y = data_rows(model, X, Y)
    x.requires_grad_(True)  # so autograd also yields dJ/dA[0]

    # Forward hooks record each layer's output; retain_grad keeps its dJ/d(output)
    # after backward, since autograd frees gradients of non-leaf tensors by default.
    seen: dict[str, torch.Tensor] = {}

    def keep(name: str):
        def hook(module, inputs, output):
            output.retain_grad()
            seen[name] = output

        return hook

    handles = [m.register_forward_hook(keep(f"Z{l}")) for l, m in enumerate(model.linears, 1)]
    handles += [
        m.register_forward_hook(keep(f"A{l}")) for l, m in enumerate(model.hidden_activations, 1)
    ]
    try:
        model.zero_grad()
        z = model(x)
    finally:
        for handle in handles:
            handle.remove()
    a = model.output_activation(z)
    cost = loss_fn(z, a, y)
    cost.backward()

    out: dict[str, np.ndarray | float] = {"cost": cost.item()}
    seen[f"A{L}"] = a
    seen["A0"] = x
    for l in range(1, L + 1):
        out[f"Z{l}"] = columns(seen[f"Z{l}"])
        out[f"A{l}"] = columns(seen[f"A{l}"])
        out[f"dZ{l}"] = summed_gradient(seen[f"Z{l}"].grad)
    for l in range(L):
        out[f"dA{l}"] = summed_gradient(seen[f"A{l}"].grad)
    out.update(gradients(model))
    return out


def output(model: TorchNet, X: np.ndarray) -> np.ndarray:
    """A[L] for the examples X (n0, m), as course columns (nL, m); no gradients are taken."""
    with torch.no_grad():
        return columns(model.output_activation(model(rows(model, X))))
