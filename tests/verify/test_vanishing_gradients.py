"""Faults at the course's vanishing-gradient scale are caught and located.

Deep networks (5 to 8 hidden layers) with the course's randn * 0.01 weights have gradients of
1e-10 and below in their first layers: far below any absolute tolerance, and below what
centred differences can resolve. A wrong dW1, db1 or dW2 (a flipped sign, a factor 2, a
factor 1.001; 1.01 in float32) must still fail, at the layer and quantity where it was
injected; the same networks without the fault must pass (see also test_no_false_alarms.py).
"""

import dataclasses
import json
import types

import numpy as np
import pytest
from conftest import DTYPES, QUIET, check

import scratch
import torch_ref
from verify import Config, run
from verify.checking.checks import PROBE_EXAMPLES
from verify.cli import main
from verify.config import validate
from verify.data import load_data
from verify.runner import initial_parameters

pytestmark = pytest.mark.end_to_end

NETS = [(5, "tanh"), (8, "tanh"), (5, "relu"), (8, "relu")]  # (hidden layers, their activation)
# float64 resolves a factor 1.001. float32 carries about 7 digits, and a deep network's db1 is a
# mean whose terms are up to a thousand times larger than it: about 4 digits are left, so there
# the slight factor is 1.01.
SLIGHT = {"float64": 1.001, "float32": 1.01}
GRADIENTS = (("dW", 1), ("db", 1), ("dW", 2))


def deep(hidden: int, activation: str, dtype: str) -> Config:
    return Config(
        arch=(3,) + (8,) * hidden + (1,),
        activations=(activation,) * hidden + ("sigmoid",),
        init="random",
        dtype=dtype,
        examples=32,
        iterations=2,
        **QUIET,
    )


def with_fault(quantity: str, layer: int, factor: float) -> types.ModuleType:
    """A course-style module: scratch's functions, with one gradient scaled after L_model_backward."""
    module = types.ModuleType(f"{quantity}{layer}_times_{factor}")
    for name in ("L_model_forward", "compute_cost", "update_parameters"):
        setattr(module, name, getattr(scratch, name))

    def L_model_backward(AL, Y, caches, activations=None, loss="bce"):
        grads = scratch.L_model_backward(AL, Y, caches, activations, loss)
        grads[f"{quantity}{layer}"] = factor * grads[f"{quantity}{layer}"]
        return grads

    module.L_model_backward = L_model_backward
    return module


@pytest.mark.parametrize("hidden, activation", NETS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_gradients_are_as_small_as_the_course_says(hidden, activation, dtype):
    # The regime under test: dW1 is far below torch's old absolute tolerance of 1e-7, and
    # gradient checking cannot resolve it.
    config = validate(deep(hidden, activation, dtype))
    X, Y = load_data(config)
    params = initial_parameters(config)
    ref = torch_ref.forward_backward(torch_ref.from_params(params, config.activations), X, Y, config.loss)
    assert 0 < np.max(np.abs(ref["dW1"])) < 1e-7
    report = run(config)
    assert report.ok, report.to_text(verbose=True)
    # The comparison with torch resolves every gradient; gradient checking cannot resolve dW1, and says so.
    assert all(row.status == "ok" for row in check(report, "backward").rows.values())
    gradcheck = check(report, "gradcheck")
    assert gradcheck.rows[("dW", 1)].status == "unresolved"
    verdict = report.to_text().splitlines()[0]  # names the unresolved rows, true with the tables hidden too
    assert verdict.startswith("VERDICT: PASS") and "unresolved by their check: gradcheck dW" in verdict
    assert gradcheck.rows[("dW", hidden + 1)].status == "ok"  # the output layer's gradient is resolved


@pytest.mark.parametrize("slip", [-1, 2, "slight"])
@pytest.mark.parametrize("quantity, layer", GRADIENTS)
@pytest.mark.parametrize("hidden, activation", NETS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_a_wrong_gradient_of_1e_minus_10_is_caught_where_it_was_made(hidden, activation, dtype, quantity, layer, slip):
    factor = SLIGHT[dtype] if slip == "slight" else slip
    report = run(deep(hidden, activation, dtype), implementation=with_fault(quantity, layer, factor))
    text = report.to_text(verbose=True)
    assert report.verdict == "fail", text
    first = report.first_divergence
    # At the initial weights, or at the kink probe where a relu unit dead at the start comes alive.
    assert (first.stage, first.quantity, first.layer) == ("backward", quantity, layer), text
    row = check(report, "backward").rows[(quantity, layer)]
    assert row.max_abs < 1e-6  # a gradient far below the old absolute tolerance (1e-7 float64, 1e-5 float32)...
    assert row.max_abs > row.tolerance  # ...and still caught
    if factor == -1:
        assert "opposite sign" in first.hint
    elif factor == 2:
        assert "2 times" in first.hint
    else:
        assert first.hint == "" or "agrees but" in first.hint  # no factor a slip would make


@pytest.mark.parametrize("hidden", [5, 8])
@pytest.mark.parametrize("dtype", DTYPES)
def test_relu_prime_of_0_is_caught_at_the_kink_probe_of_a_deep_net_with_small_weights(hidden, dtype, monkeypatch):
    """relu'(0) = 1 shows only where Z is exactly 0: the probe's first example, taken from a batch larger than
    the probe's, at gradients of 1e-10 and below."""
    relu = scratch.activations.ACTIVATIONS["relu"]
    slipped = dataclasses.replace(relu, derivative=lambda Z: (Z >= 0).astype(Z.dtype))
    monkeypatch.setitem(scratch.activations.ACTIVATIONS, "relu", slipped)
    config = dataclasses.replace(deep(hidden, "relu", dtype), examples=2 * PROBE_EXAMPLES)
    report = run(config)
    first = report.first_divergence
    assert report.verdict == "fail" and first is not None, report.to_text(verbose=True)
    assert (first.stage, first.point, first.quantity, first.layer) == ("backward", "kink probe", "dZ", hidden)
    assert check(report, "lockstep").ok and check(report, "gradcheck").ok  # random data never reaches Z = 0


def test_the_cli_exits_1_on_a_sign_slip_in_dw1(tmp_path, capsys):
    path = tmp_path / "deep_slip.py"
    path.write_text(
        "import scratch\n"
        "from scratch import L_model_forward, compute_cost, update_parameters\n\n\n"
        "def L_model_backward(AL, Y, caches, activations=None, loss='bce'):\n"
        "    grads = scratch.L_model_backward(AL, Y, caches, activations, loss)\n"
        "    grads['dW1'] = -grads['dW1']\n"
        "    return grads\n",
        encoding="utf-8",
    )
    code = main(
        [
            "--arch",
            "3,5,5,5,5,5,1",
            "--activations",
            "tanh,tanh,tanh,tanh,tanh,sigmoid",
            "--init",
            "random",
            "--impl",
            str(path),
            "--no-tensorboard",
            "--iterations",
            "3",
            "--json",
            "-",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    first = report["first_divergence"]
    assert (first["quantity"], first["layer"], first["point"]) == ("dW", 1, "initial weights")
    assert "opposite sign" in first["hint"]
    assert first["mismatched"] == first["entries"] == 15  # every entry of dW1 (5 x 3) has the wrong sign
    assert np.isclose(first["value"], -first["expected"])
