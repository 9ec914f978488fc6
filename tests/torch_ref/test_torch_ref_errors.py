"""Unknown names, misplaced softmax, mismatched losses and bad devices fail with ValueError."""

import numpy as np
import pytest
import torch
from torch_ref_cases import random_data, random_params

from torch_ref import (
    ACTIVATIONS,
    LOSSES,
    TorchNet,
    Trainer,
    check_device,
    forward_backward,
    from_params,
    to_params,
)


def test_registries_hold_the_course_choices():
    assert sorted(ACTIVATIONS) == ["leaky_relu", "linear", "relu", "sigmoid", "softmax", "tanh"]
    assert sorted(LOSSES) == ["bce", "ce", "mse"]
    assert ACTIVATIONS["leaky_relu"]().negative_slope == 0.01


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown activation 'swish'.*'leaky_relu'.*'tanh'"):
        TorchNet([2, 3, 1], ["swish", "sigmoid"])
    with pytest.raises(ValueError, match="unknown activation 'Sigmoid'"):
        from_params(random_params([2, 3, 1]), ["relu", "Sigmoid"])


def test_softmax_only_as_output():
    with pytest.raises(ValueError, match="'softmax' may only be the output activation"):
        TorchNet([2, 3, 2], ["softmax", "softmax"])


@pytest.mark.parametrize("acts", [["relu"], ["relu", "relu", "sigmoid"], "relu"])
def test_one_activation_per_layer(acts):
    with pytest.raises(ValueError, match="activation"):
        TorchNet([2, 3, 1], acts)


def test_unknown_loss_names_the_choices():
    model = from_params(random_params([2, 3, 1]), ["relu", "sigmoid"])
    X, Y = random_data(2, 1, 4, "sigmoid")
    choices = r"unknown loss 'hinge': choose from \['bce', 'ce', 'mse'\]"
    with pytest.raises(ValueError, match=choices):
        forward_backward(model, X, Y, "hinge")
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        Trainer(model, X, Y, "hinge")


@pytest.mark.parametrize(
    "output, loss, message",
    [
        ("linear", "bce", "loss 'bce' needs a 'sigmoid' output layer"),
        ("sigmoid", "ce", "loss 'ce' needs a 'softmax' output layer"),
        ("softmax", "mse", "'softmax' output layer goes with loss 'ce'"),
    ],
)
def test_loss_must_fit_the_output_layer(output, loss, message):
    model = from_params(random_params([2, 3, 2]), ["relu", output])
    X, Y = random_data(2, 2, 4, output)
    with pytest.raises(ValueError, match=message):
        forward_backward(model, X, Y, loss)


@pytest.mark.parametrize("device", ["garbage", "", "cuda:x", "cuda:-1", "CUDA", "mps", "meta"])
def test_bad_device_strings(device):
    with pytest.raises(ValueError, match="device"):
        check_device(device)


def test_cpu_devices():
    assert check_device("cpu") == torch.device("cpu")
    model = from_params(random_params([2, 3, 1]), ["relu", "sigmoid"], device="cpu")
    assert model.device.type == "cpu"


def test_cuda_unavailable_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    message = r"CUDA was requested \(--device cuda\) but torch\.cuda\.is_available\(\) is False"
    with pytest.raises(ValueError, match=message):
        check_device("cuda")
    with pytest.raises(ValueError, match=r"--device cuda:0"):
        from_params(random_params([2, 3, 1]), ["relu", "sigmoid"], device="cuda:0")


def test_cuda_as_this_machine_has_it():
    params = random_params([2, 3, 1])
    if torch.cuda.is_available():
        assert check_device("cuda").type == "cuda"
        model = from_params(params, ["relu", "sigmoid"], device="cuda")
        assert model.device.type == "cuda"
        assert all(np.array_equal(v, params[k]) for k, v in to_params(model).items())
        with pytest.raises(ValueError, match="only .* device"):
            check_device(f"cuda:{torch.cuda.device_count()}")
    else:
        with pytest.raises(ValueError, match="is_available"):
            check_device("cuda")
