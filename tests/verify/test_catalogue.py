"""The catalogue of course functions is the one list: detection, the adapters, the unit checks and their table,
--init impl, the optimiser and decay functions and the loops read it, so an entry added there shows up in each."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import ModuleType

import pytest
from conftest import QUIET, edited

import scratch
import torch_ref.steps
import verify
from verify import catalogue
from verify.catalogue import CATALOGUE, CourseFunction, Loop
from verify.checking import (
    unit_charlm,
    unit_conv,
    unit_course2,
    unit_gradcheck,
    unit_initialisers,
    unit_lstm,
    unit_optimisers,
    unit_pool,
    unit_rnn,
    unit_steps,
    units,
)
from verify.checking.loops import loop_functions
from verify.config import Config
from verify.errors import UsageError
from verify.impl import APIS, DeepAPI, LogRegAPI, detect, load_module
from verify.impl.optimizers import DECAY_FUNCTIONS, OPTIMIZER_FUNCTIONS
from verify.impl.sizes import LOOPS
from verify.judging import (
    charlm_hints,
    conv_hints,
    course2_hints,
    dropout_hints,
    gradcheck_hints,
    hints,
    optimizer_hints,
    rnn_hints,
    slips,
)
from verify.network import Network
from verify.optimization import Optimization, Training
from verify.telling.report_tables import _function_lines

REPO = Path(__file__).resolve().parents[2]
WEEK4 = REPO / "examples" / "course_network.py"
NAMES = [f.name for f in CATALOGUE]
DEEP = Network((3, 4, 1), ("relu", "sigmoid"), "bce")


def with_entry(monkeypatch, entry: CourseFunction, replacing: str = "") -> None:
    """The catalogue with `entry` added at its end, or in place of the entry named `replacing`."""
    entries = [entry if f.name == replacing else f for f in CATALOGUE]
    monkeypatch.setattr(catalogue, "CATALOGUE", tuple(entries) + (() if replacing else (entry,)))


def module_with(*names: str) -> ModuleType:
    module = ModuleType("learner")
    for name in names:
        setattr(module, name, getattr(scratch, name))
    return module


def test_each_name_is_one_entry_with_its_signature_and_a_known_role_and_family():
    # a name is one entry per API: the second course's forward_propagation is not week 3's; one of them is checked
    for name in set(NAMES):
        entries = [f for f in CATALOGUE if f.name == name]
        families = [set(f.family) for f in entries]
        assert all(not a & b for i, a in enumerate(families) for b in families[i + 1 :]), name
        checked_by = [f.check for f in entries if f.check]  # one check per API, each in its own unit module
        assert len(set(checked_by)) == len(checked_by), name
    roles = {"initialiser", "activation", "forward step", "forward", "forward and backward", "cost"}
    roles |= {"backward step", "backward", "update", "mini-batches", "optimiser state", "optimiser", "decay", "loop"}
    roles |= {"gradient check"}
    for f in CATALOGUE:
        assert f.role in roles, f.name
        assert set(f.family) <= {*catalogue.APIS, catalogue.LAYERED, *catalogue.OPTIONAL}, f.name
        assert set(f.required_by) <= set(f.family), f.name
        assert all(text.startswith(f"{f.name}(") and " -> " in text for _, text in f.signatures), f.name


def test_what_an_entry_names_exists_its_callees_its_hints_and_its_torch_computation():
    for f in CATALOGUE:
        assert set(f.calls) <= set(NAMES), f.name
        for slip in f.slips:
            found = [
                getattr(module, slip, None)
                for module in (
                    hints,
                    dropout_hints,
                    optimizer_hints,
                    course2_hints,
                    gradcheck_hints,
                    conv_hints,
                    rnn_hints,
                    charlm_hints,
                )
            ]
            assert any(callable(hint) for hint in found), (f.name, slip)
        for ref in f.torch.split():
            if ref.startswith("torch_ref.steps."):
                assert callable(getattr(torch_ref.steps, ref.removeprefix("torch_ref.steps.").rstrip(";,"))), ref
        assert f.torch, f.name


def test_a_function_is_checked_after_the_functions_it_calls():
    for f in catalogue.checked():
        alone = set(f.family) & set(units.ALONE)  # an API checked alone runs its own checks and their callees'
        checked = [g.name for g in catalogue.checked() if not alone or alone & set(g.family) or g.name in f.calls]
        assert all(checked.index(callee) < checked.index(f.name) for callee in f.calls if callee in checked), f.name


@pytest.mark.parametrize("api", catalogue.APIS)
def test_every_apis_required_functions_come_from_the_catalogue(api):
    adapter = APIS[api]
    assert adapter.REQUIRED == {f.name: f.signature(api) for f in CATALOGUE if api in f.required_by}
    assert list(adapter.REQUIRED) == [f.name for f in CATALOGUE if api in f.required_by]  # in the course's order


def test_the_required_functions_and_signatures_are_the_courses():
    assert list(DeepAPI.REQUIRED) == ["L_model_forward", "compute_cost", "L_model_backward", "update_parameters"]
    assert list(APIS["shallow"].REQUIRED) == [
        "forward_propagation",
        "compute_cost",
        "backward_propagation",
        "update_parameters",
    ]
    assert list(LogRegAPI.REQUIRED) == ["sigmoid", "propagate", "optimize"]
    assert DeepAPI.REQUIRED["compute_cost"] == "compute_cost(AL, Y[, loss]) -> cost"
    assert APIS["shallow"].REQUIRED["compute_cost"] == "compute_cost(A2, Y) -> cost"
    assert LogRegAPI.REQUIRED["sigmoid"] == "sigmoid(z) -> s"


def test_every_entry_with_a_check_is_in_the_unit_checks_and_in_its_modules_and_no_other():
    assert list(units.CHECKS) == list(dict.fromkeys(f.name for f in CATALOGUE if f.check))
    for module, own in (
        ("unit_steps", unit_steps.STEP_CHECKS),
        ("unit_initialisers", unit_initialisers.INITIALISER_CHECKS),
        ("unit_optimisers", unit_optimisers.OPTIMISER_CHECKS),
        ("unit_course2", unit_course2.COURSE2_CHECKS),
        ("unit_gradcheck", unit_gradcheck.GRADCHECK_CHECKS),
        ("unit_conv", unit_conv.CONV_CHECKS),
        ("unit_pool", unit_pool.POOL_CHECKS),
        ("unit_rnn", unit_rnn.RNN_CHECKS),
        ("unit_lstm", unit_lstm.LSTM_CHECKS),
        ("unit_charlm", unit_charlm.CHARLM_CHECKS),
    ):
        assert set(own) == {f.name for f in catalogue.checked(module)}, module
    assert units.CHECKS == units.checks()


def test_the_function_table_follows_the_catalogues_order():
    module = load_module(str(WEEK4))
    impl = DeepAPI(module, DEEP, "learner")
    functions = units.check_functions(impl, Config(arch=(3, 4, 1), seed=0))
    checked = [f.function for f in functions]
    assert checked == [f.name for f in catalogue.checked() if f.name in checked]
    assert set(checked) == {n for n in units.CHECKS if callable(getattr(module, n, None))}
    table = _function_lines(functions, set())[1:]
    assert [line.split()[0] for line in table[: len(checked)]] == checked


def test_an_entry_added_to_the_catalogue_is_required_by_detection(monkeypatch):
    extra = CourseFunction(
        "L_model_check", ("deep",), "forward", (("", "L_model_check(X) -> y"),), torch="a test", required_by=("deep",)
    )
    with_entry(monkeypatch, extra)
    module = module_with(*DeepAPI.REQUIRED.keys() - {"L_model_check"})
    with pytest.raises(UsageError) as raised:
        detect(module, "learner", "deep")
    assert str(raised.value) == (
        "learner is not the week 4 (L layers) API (--api deep): found L_model_forward, compute_cost, "
        "L_model_backward, update_parameters; missing L_model_check"
    )
    with pytest.raises(UsageError, match=r"week 4 \(L layers\): found .*; missing L_model_check \| week 3"):
        detect(module, "learner")
    with pytest.raises(UsageError, match=r"^learner has no function L_model_check; expected L_model_check\(X\) -> y$"):
        DeepAPI(module, DEEP, "learner")
    module.L_model_check = lambda X: X
    assert detect(module, "learner") is DeepAPI


def test_init_impl_calls_the_initialiser_the_catalogue_names(monkeypatch):
    entry = catalogue.by_name("initialize_parameters_deep")
    renamed = dataclasses.replace(entry, name="init_deep", signatures=(("", "init_deep(layer_dims) -> parameters"),))
    with_entry(monkeypatch, renamed, replacing="initialize_parameters_deep")
    module = module_with(*DeepAPI.REQUIRED, "initialize_parameters_deep")
    impl = DeepAPI(module, DEEP, "learner")
    with pytest.raises(UsageError, match=r"^--init impl: learner has no function init_deep\(layer_dims\) -> "):
        impl.initialize([3, 4, 1])
    handed = []
    module.init_deep = lambda dims: handed.append(dims) or scratch.initialize_parameters_deep(dims, seed=1)
    params = impl.initialize([3, 4, 1])
    assert handed == [[3, 4, 1]] and params["W1"].shape == (4, 3)


def test_the_optimiser_and_decay_functions_come_from_the_catalogue():
    assert OPTIMIZER_FUNCTIONS == {
        "momentum": ("initialize_velocity", "update_parameters_with_momentum"),
        "adam": ("initialize_adam", "update_parameters_with_adam"),
    }
    assert DECAY_FUNCTIONS == {"inverse": "update_lr", "scheduled": "schedule_lr_decay"}
    assert LOOPS == ("two_layer_model", "L_layer_model")


def test_an_option_needs_the_signatures_the_catalogue_gives(monkeypatch):
    entry = catalogue.by_name("initialize_adam")
    with_entry(monkeypatch, dataclasses.replace(entry, signatures=(("", "initialize_adam(p) -> (v, s)"),)), entry.name)
    with pytest.raises(
        UsageError, match=r"^--optimizer adam: learner has no function initialize_adam\(p\) -> \(v, s\)"
    ):
        DeepAPI(module_with(*DeepAPI.REQUIRED), DEEP, "learner", Training(optimizer="adam"))


def test_a_loop_added_to_the_catalogue_is_run_when_the_module_defines_it(monkeypatch):
    with_entry(monkeypatch, CourseFunction("my_model", ("deep",), "loop", (("", "my_model(X, Y) -> p"),), loop=Loop()))
    module = module_with(*DeepAPI.REQUIRED)
    impl = DeepAPI(module, DEEP, "learner")
    plan = Optimization.from_config(Config(arch=(3, 4, 1)), 8)
    assert loop_functions(impl, plan) == {}
    module.my_model = lambda X, Y: None
    assert loop_functions(impl, plan) == {"my_model": ""}


@pytest.mark.parametrize(
    "config, used",
    [
        (Config(), set()),
        (Config(init="impl"), {"initialize_parameters_deep"}),
        (Config(optimizer="adam"), {"initialize_adam", "update_parameters_with_adam"}),
        (Config(decay="scheduled"), {"schedule_lr_decay"}),
        (Config(lambd=0.1), {"compute_cost_with_regularization"}),
    ],
)
def test_an_optional_function_is_in_the_network_only_when_its_option_asks(config, used):
    optional = {f.name for f in catalogue.checked() if f.role == "initialiser" or set(f.family) & {"optimisation"}}
    optional |= {"compute_cost_with_regularization"}
    impl = DeepAPI(scratch, DEEP)
    in_network = {f.name for f in catalogue.checked() if units._in_network(f, config, impl)}
    assert in_network & optional == used
    needs = {f.name for f in catalogue.checked() if f.needs}  # L2's and dropout's: only with their option
    assert set(units.CHECKS) - optional - needs <= in_network
    assert {f.name for f in catalogue.checked() if f.needs and units._in_network(f, config, impl)} == (
        {f.name for f in catalogue.checked() if f.needs == "lambd"} if config.lambd else set()
    )


def test_the_network_checks_slips_are_entries_slips_and_every_hint_of_a_row_is_one():
    named = {slip for f in CATALOGUE for slip in f.slips}
    assert set(slips.ROW_SLIPS) <= named
    row_hints = {name for name in dir(hints) if name.startswith("hint_") and callable(getattr(hints, name))}
    assert row_hints <= set(slips.ROW_SLIPS)
    assert [f.name for f in catalogue.in_play("deep", ("backward",))] == ["L_model_backward"]
    assert [f.name for f in catalogue.in_play("deep", ("cost",), ("lambd",))] == [
        "compute_cost",
        "compute_cost_with_regularization",
    ]


@pytest.mark.end_to_end
@pytest.mark.parametrize("listed", [True, False], ids=["named-by-its-entry", "left-out-of-its-entry"])
def test_the_backward_check_names_the_slips_its_functions_entries_list(tmp_path, monkeypatch, listed):
    # layers 1 and 2 swap caches in backward (both 4x4): the hint that names it is L_model_backward's, through its entry
    learner = edited(tmp_path, WEEK4, ('caches[l], "relu")', 'caches[L - 2 - l], "relu")'))
    if not listed:
        entry = catalogue.by_name("L_model_backward")
        with_entry(monkeypatch, dataclasses.replace(entry, slips=()), replacing=entry.name)
    config = Config(arch=(4, 4, 4, 1), impl=str(learner), iterations=2, examples=40, gradcheck=False, **QUIET)
    row = verify.run(config).checks[1].rows[("dW", 2)]
    assert not row.ok
    assert ("layer 2's backward matches layer 1's cache (Z1, A0)" in row.hint) is listed
