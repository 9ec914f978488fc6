"""Layer kinds are the unit of extension: a kind defined here, in this file alone, gets every check of the verifier
(forward, backward, gradient check, lockstep and free-running training, TensorBoard) without a line of verify/
changed, and a slip in its hand-derived backward pass is caught and named.

The toy kind is a per-unit affine map, Z = s * A_prev + t with s and t of shape (n, 1): the kind of layer a
batch-norm's scale and shift are.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import QUIET, check, failing_checks, run_cli
from jsonschema import Draft202012Validator
from torch import nn

import torch_ref
import verify
from verify import Config
from verify.layers import DENSE, Gains, LayerKind, register, unregister


class Scale(torch_ref.CourseMap):
    """The twin: rows (m, n) times s plus t, s and t held as (n,) parameters."""

    course_names = ("s", "t")

    def __init__(self, n: int) -> None:
        super().__init__()
        self.s = nn.Parameter(torch.ones(n))
        self.t = nn.Parameter(torch.zeros(n))

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        return a * self.s + self.t

    def load_course(self, params) -> None:
        with torch.no_grad():
            self.s.copy_(torch.from_numpy(params["s"][:, 0]))
            self.t.copy_(torch.from_numpy(params["t"][:, 0]))

    def course_values(self, value_of) -> dict:
        return {name: value_of(getattr(self, name)).detach().cpu().numpy().reshape(-1, 1).copy() for name in "st"}

    def decayed(self) -> list:
        return [self.s]


class Diag(LayerKind):
    """Z = s * A_prev + t, unit by unit; L2 penalises s, the kink probe zeroes t."""

    word = "diag"
    names = ("s", "t")
    decayed = ("s",)
    offsets = ("t",)
    slip = 1.0  # a fault a test plants: ds scaled by it (1: right)

    def shapes(self, n_in, n_out):
        return {"s": (n_out, 1), "t": (n_out, 1)}

    def initialize(self, n_in, n_out, init, rng):
        return {"s": 1 + 0.5 * rng.standard_normal((n_out, 1)), "t": np.zeros((n_out, 1))}

    def forward(self, A_prev, P):
        return P["s"] * A_prev + P["t"], (A_prev, P["s"])

    def backward(self, dZ, cache):
        A_prev, s = cache
        m = A_prev.shape[1]
        ds = self.slip * np.sum(dZ * A_prev, axis=1, keepdims=True) / m
        return s * dZ, {"s": ds, "t": np.sum(dZ, axis=1, keepdims=True) / m}

    def twin(self, n_in, n_out):
        return Scale(n_out)

    def gains(self, P):
        s = float(np.max(np.abs(P["s"])))
        return Gains(forward=s, backward=s, offset=float(np.max(np.abs(P["t"]))))

    def gradient_scales(self, E_dZ, dZ_mean, A_size, A_carried):
        return {"s": E_dZ * A_size + dZ_mean * A_carried, "t": E_dZ}

    def reach(self, P):
        return float(np.max(np.abs(P["s"])))

    def hints(self, quantity, impl, ref, context):
        return "ds = (1/m) sum over the examples of dZ * A_prev" if quantity == "ds" else ""


SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "report.schema.json"


@pytest.fixture
def diag():
    kind = register(Diag())
    yield kind
    unregister("diag")


def toy(**fields) -> Config:
    """3 inputs, a dense relu layer of 4, a diag layer (relu), a sigmoid output."""
    config = Config(arch=(3, 4, 4, 1), layers=("dense", "diag", "dense"), examples=32, iterations=5, **QUIET)
    return replace(config, **fields)


def rows_of(report, name: str) -> set:
    return set(check(report, name).rows)


def test_a_kind_defined_in_a_test_gets_every_check(diag, tmp_path: Path):
    report = verify.run(toy(tensorboard=True, logdir=str(tmp_path)))
    assert report.ok, report.verdict_lines()
    assert {c.name for c in report.checks} >= {"forward", "backward", "gradcheck", "lockstep", "free-running"}
    assert {("ds", 2), ("dt", 2), ("dW", 1), ("dW", 3)} <= rows_of(report, "backward")
    assert {("ds", 2), ("dt", 2)} <= rows_of(report, "gradcheck")
    assert {("ds", 2), ("s", 2), ("t", 2)} <= rows_of(report, "lockstep")
    assert {("s", 2), ("t", 2)} <= rows_of(report, "free-running")
    assert any(check(report, name).rows[("ds", 2)].ok for name in ("backward", "gradcheck"))
    events = list(tmp_path.rglob("events.out.tfevents.*"))
    assert events, "TensorBoard logs written"
    as_json = report.as_dict()
    assert as_json["config"]["layers"] == ["dense", "diag", "dense"]
    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(json.loads(json.dumps(as_json)))


def test_the_arch_spells_a_kind_by_its_word(diag, capsys):
    code, out, err = run_cli(
        capsys, "--arch", "3,4,diag,1", "--no-tensorboard", "--iterations", "3", "--examples", "24"
    )
    assert code == 0, err
    assert "3-4-diag(4)-1" in out
    assert "ds" in out and "dt" in out


def test_an_unknown_word_is_one_line_and_exit_2(diag, capsys):
    code, out, err = run_cli(capsys, "--arch", "3,4,diagonal,1", "--no-tensorboard")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert "'diagonal' is not a whole number or a layer kind (diag)" in err


@pytest.mark.parametrize("slip", [0.5, 2.0])  # a missing 1/2, a doubled sum: at the course's smallest weights too
@pytest.mark.parametrize("init", ["he", "random"])
def test_a_slip_in_the_kinds_backward_is_caught_and_named(diag, slip, init):
    diag.slip = slip
    report = verify.run(toy(init=init))
    assert {"backward", "gradcheck", "lockstep"} <= failing_checks(report)
    row = check(report, "backward").rows[("ds", 2)]
    assert not row.ok
    assert "ds = (1/m) sum over the examples of dZ * A_prev" in row.hint
    assert check(report, "backward").rows[("dt", 2)].ok  # only the slip's own gradient


def test_a_slip_in_the_kinds_forward_is_caught(diag, monkeypatch):
    monkeypatch.setattr(Diag, "forward", lambda self, A_prev, P: (P["s"] * A_prev + 2 * P["t"], (A_prev, P["s"])))
    report = verify.run(toy())
    assert not check(report, "forward").rows[("Z", 2)].ok
    assert check(report, "forward").rows[("Z", 1)].ok


@pytest.mark.parametrize(
    "fields",
    [
        {"optimizer": "adam", "mini_batch_size": 8, "epochs": 2, "learning_rate": 0.01},
        {"optimizer": "momentum"},
        {"lambd": 0.7, "keep_prob": (0.8, 0.9)},
        {"dtype": "float32"},
        {"init": "torch"},
    ],
)
def test_the_kind_trains_with_every_optimiser_and_regulariser(diag, fields):
    report = verify.run(toy(**fields))
    assert report.ok, report.verdict_lines()


def test_l2_penalises_the_parameters_the_kind_names(diag):
    # s is decayed: without its penalty on the NumPy side the gradient of s disagrees, the dense W's stay right
    report = verify.run(toy(lambd=0.7))
    assert report.ok
    Diag.decayed, before = (), Diag.decayed
    try:
        report = verify.run(toy(lambd=0.7))
    finally:
        Diag.decayed = before
    assert not check(report, "backward").rows[("ds", 2)].ok
    assert check(report, "backward").rows[("dW", 1)].ok


def test_a_learners_module_is_not_run_on_a_network_of_other_kinds(diag, capsys):
    course = Path(__file__).resolve().parents[2] / "examples" / "course_network.py"
    code, out, err = run_cli(capsys, "--arch", "3,4,diag,1", "--impl", str(course), "--no-tensorboard")
    assert code == 2
    assert "verified on dense networks" in err


def test_the_dense_kind_draws_scratchs_initial_weights():
    import scratch
    from verify.runner import initial_parameters

    config = Config(arch=(5, 4, 3, 1), activations=("relu", "relu", "sigmoid"), loss="bce", init="zeros", seed=3)
    start = initial_parameters(replace(config, init="xavier"))
    course = scratch.initialize_parameters_deep((5, 4, 3, 1), init="xavier", seed=3)
    for l in (1, 2, 3):
        np.testing.assert_array_equal(start[f"W{l}"], course[f"W{l}"])
    assert DENSE.names == ("W", "b")


def test_the_layered_composition_computes_the_course_functions_on_dense_layers():
    # LayeredAPI composes each kind's forward and backward: on a dense network it must give what the course's
    # L_model_forward and L_model_backward give, to the last bit
    import scratch
    from verify.impl import DeepAPI
    from verify.impl.layered import LayeredAPI
    from verify.network import Network

    network = Network(sizes=(5, 4, 3, 2), activations=("tanh", "relu", "sigmoid"), loss="bce")
    rng = np.random.default_rng(1)
    params = scratch.initialize_parameters_deep(network.sizes, seed=1)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X, Y = rng.standard_normal((5, 7)), (rng.random((2, 7)) > 0.5).astype(float)
    sides = [api(scratch, network) for api in (LayeredAPI, DeepAPI)]
    (AL, caches), (AL_deep, caches_deep) = (side.forward(X, params) for side in sides)
    np.testing.assert_array_equal(AL, AL_deep)
    assert sides[0].cost(AL, Y, caches) == sides[1].cost(AL_deep, Y, caches_deep)
    grads, course = sides[0].backward(AL, Y, caches, params), sides[1].backward(AL_deep, Y, caches_deep, params)
    for key in ("dW1", "db1", "dW3", "db3", "dA0", "dA2"):
        np.testing.assert_array_equal(grads[key], course[key], err_msg=key)


def test_a_kinds_twin_maps_its_parameters_both_ways(diag):
    from verify.layers import torch_model
    from verify.network import Network

    network = Network(sizes=(3, 4, 4, 1), activations=("relu", "relu", "sigmoid"), loss="bce", kinds=toy().layers)
    rng = np.random.default_rng(0)
    params = {key: rng.standard_normal(shape) for key, shape in network.shapes().items()}
    model = torch_model(network, params)
    back = torch_ref.to_params(model)
    assert list(back) == ["W1", "b1", "s2", "t2", "W3", "b3"]
    for key, value in params.items():
        np.testing.assert_array_equal(back[key], value)
    X, Y = rng.standard_normal((3, 5)), (rng.random((1, 5)) > 0.5).astype(float)
    ref = torch_ref.forward_backward(model, X, Y)
    A1 = np.maximum(params["W1"] @ X + params["b1"], 0)
    np.testing.assert_allclose(ref["Z2"], params["s2"] * A1 + params["t2"], rtol=1e-12)
    assert ref["ds2"].shape == ref["dt2"].shape == (4, 1)
