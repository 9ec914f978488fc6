"""The network, described once, and the adapter built from it: every refusal at construction, in order."""

from dataclasses import replace
from types import ModuleType

import pytest

import scratch
from verify.config import Config
from verify.errors import UsageError
from verify.impl import DeepAPI, LogRegAPI
from verify.network import Network
from verify.optimization import Training

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
            LogRegAPI(week2_module(), one_unit, "week2", Training(**training))
    assert LogRegAPI(week2_module(), one_unit, "week2").lambd == 0.0


def test_a_module_without_the_optimiser_functions_is_refused_before_its_l2_is_looked_at():
    module = ModuleType("bare")
    for name in DeepAPI.REQUIRED:
        setattr(module, name, getattr(scratch, name))
    regularized = Network((3, 4, 4, 1), ("relu", "relu", "sigmoid"), "bce", lambd=0.1)
    with pytest.raises(UsageError, match=r"^--optimizer adam: bare has no function initialize_adam"):
        DeepAPI(module, regularized, "bare", Training(optimizer="adam"))
    with pytest.raises(UsageError, match=r"^--lambd: bare has no function compute_cost_with_regularization"):
        DeepAPI(module, regularized, "bare")


def test_the_flags_are_checked_before_the_module_loads_and_the_network_once_its_size_is_known():
    from verify.config import check_flags, resolve_network

    no_arch = Config(impl="course.py", activations=("tanh", "sigmoid"))
    check_flags(no_arch)  # the module fixes the sizes: nothing about the network to check yet
    with pytest.raises(UsageError, match=r"^--lr must be a positive finite number"):
        check_flags(Config(impl="course.py", learning_rate=-1.0))
    fixed = Config(arch=(2, 3, 1), arch_from="layers_dims in course.py", keep_prob=0.5)
    resolved = resolve_network(fixed, lambda L: ("tanh",) * (L - 1) + ("sigmoid",))
    assert (resolved.activations, resolved.loss, resolved.keep_prob) == (("tanh", "sigmoid"), "bce", (0.5,))
    with pytest.raises(UsageError, match=r"^--activations needs 2 names \(one per layer of layers_dims in course\.py"):
        resolve_network(replace(fixed, activations=("relu",)), lambda L: ("sigmoid",) * L)


def test_a_mistyped_network_is_named_before_a_bad_flag_when_arch_is_given():
    from verify.config import check_flags

    with pytest.raises(UsageError, match=r"^--loss mse needs a linear output"):
        check_flags(Config(arch=(2, 3, 1), loss="mse", learning_rate=-1.0))


def test_a_run_checks_the_flags_once_resolves_the_network_once_and_plans_its_training_once(monkeypatch, tmp_path):
    import verify.runner
    import verify.telling.tblog
    from verify.optimization import Optimization

    calls: list[str] = []
    for name in ("check_flags", "resolve_network"):
        monkeypatch.setattr(verify.runner, name, counted(getattr(verify.runner, name), name, calls))
    monkeypatch.setattr(Optimization, "from_config", counted(Optimization.from_config, "from_config", calls))
    logged = []
    close = verify.telling.tblog.TensorBoardLog.close
    monkeypatch.setattr(verify.telling.tblog.TensorBoardLog, "close", lambda log: logged.append(log.plan) or close(log))
    config = Config(arch=(2, 3, 1), iterations=2, examples=8, gradcheck=False, logdir=str(tmp_path), progress=False)
    report = verify.runner.run(config)
    assert report.verdict == "pass"
    assert sorted(calls) == ["check_flags", "from_config", "resolve_network"]
    assert logged == [report.plan] and logged[0] is report.plan
    assert (report.plan.m, report.plan.steps_total, report.examples) == (8, 2, 8)


def counted(function, name: str, calls: list):
    """function, noting each call's name in calls."""

    def noted(*args, **kwargs):
        calls.append(name)
        return function(*args, **kwargs)

    return noted
