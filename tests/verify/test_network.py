"""The network, described once, and the adapter built from it: every refusal at construction, in order."""

from types import ModuleType

import pytest

import scratch
from verify.config import Config
from verify.errors import UsageError
from verify.impl import DeepAPI, LogRegAPI
from verify.network import Network

DEEP = Network(sizes=(3, 4, 4, 1), activations=("relu", "relu", "sigmoid"), loss="bce")


def week2_module() -> ModuleType:
    """The week 2 API's three functions (bodies never called here)."""
    module = ModuleType("week2")
    module.sigmoid = lambda z: z  # type: ignore[attr-defined]
    module.propagate = lambda w, b, X, Y: None  # type: ignore[attr-defined]
    module.optimize = lambda w, b, X, Y, num_iterations, learning_rate, print_cost=False: None  # type: ignore[attr-defined]
    return module


def test_the_network_of_a_resolved_config_holds_its_sizes_activations_loss_and_regularisation():
    config = Config(
        arch=(3, 4, 4, 1), activations=("tanh", "relu", "linear"), loss="mse", lambd=0.5, keep_prob=(0.8, 0.9)
    )
    network = Network.of(config)
    assert network == Network((3, 4, 4, 1), ("tanh", "relu", "linear"), "mse", 0.5, (0.8, 0.9))
    assert network.L == 3


def test_the_deep_adapter_takes_its_l2_and_dropout_from_the_network():
    impl = DeepAPI(scratch, Network((3, 4, 4, 1), ("relu", "relu", "sigmoid"), "bce", 0.7, (0.8, 0.9)))
    assert (impl.lambd, impl.keep_probs, impl.draws_masks) == (0.7, (0.8, 0.9), False)
    plain = DeepAPI(scratch, DEEP)
    assert (plain.lambd, plain.keep_probs) == (0.0, None)


def test_an_api_without_l2_or_dropout_refuses_them_when_built():
    for flag, network in (
        ("--lambd", Network((2, 1), ("sigmoid",), "bce", lambd=0.1)),
        ("--keep-prob", Network((2, 1), ("sigmoid",), "bce", keep_probs=(0.5,))),
    ):
        with pytest.raises(UsageError, match=rf"^{flag}: week2 is the week 2 \(logistic regression\) API"):
            LogRegAPI(week2_module(), network, "week2")


def test_the_week2_api_refuses_other_training_before_looking_for_the_optimiser_functions():
    one_unit = Network((2, 1), ("sigmoid",), "bce")
    for training in ({"optimizer": "momentum"}, {"mini_batch_size": 4}, {"decay": "inverse"}):
        with pytest.raises(UsageError, match=r"week2's week 2 optimize\(w, b, \.\.\.\) trains by gradient descent"):
            LogRegAPI(week2_module(), one_unit, "week2", **training)
    assert LogRegAPI(week2_module(), one_unit, "week2").lambd == 0.0


def test_a_module_without_the_optimiser_functions_is_refused_before_its_l2_is_looked_at():
    module = ModuleType("bare")
    for name in DeepAPI.REQUIRED:
        setattr(module, name, getattr(scratch, name))
    regularized = Network((3, 4, 4, 1), ("relu", "relu", "sigmoid"), "bce", lambd=0.1)
    with pytest.raises(UsageError, match=r"^--optimizer adam: bare has no function initialize_adam"):
        DeepAPI(module, regularized, "bare", optimizer="adam")
    with pytest.raises(UsageError, match=r"^--lambd: bare has no function compute_cost_with_regularization"):
        DeepAPI(module, regularized, "bare")
