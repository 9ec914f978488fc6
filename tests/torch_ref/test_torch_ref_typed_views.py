"""The typed views torch_ref reads its modules and gradients through: the very objects, never copies."""

import pytest
import torch

from torch_ref import TorchNet
from torch_ref.layout import grad_of


def test_layer_views_are_the_registered_modules():
    model = TorchNet((3, 4, 4, 1), ("relu", "tanh", "sigmoid"))
    assert all(a is b for a, b in zip(model.linear_layers, model.linears, strict=True))
    assert all(a is b for a, b in zip(model.dropout_layers, model.dropouts, strict=True))
    assert [type(m).__name__ for m in model.dropout_layers] == ["MaskedDropout", "MaskedDropout"]
    assert model.dtype == model.linears[0].weight.dtype


def test_grad_of_reads_the_gradient_a_backward_pass_left():
    w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(ValueError, match="run a backward pass first"):
        grad_of(w)
    (w * w).sum().backward()
    assert grad_of(w) is w.grad
    assert grad_of(w).tolist() == [2.0, -4.0]
