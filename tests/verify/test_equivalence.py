"""The CI equivalence matrix: the correct scratch agrees with torch_ref on every check, and the
report carries real numbers from both sides (not a verdict over nothing).
"""

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import CHECK_NAMES, DTYPES, HIDDEN, INITS, QUIET, check, expected_rows

import scratch
import torch_ref
from verify import Config, run
from verify.config import validate
from verify.data import load_data
from verify.results import Sides
from verify.runner import initial_parameters

pytestmark = pytest.mark.end_to_end

ITERATIONS = 30


def case(id, arch, activations=None, learns=True, **fields):
    """A config, and whether 30 small steps of gradient descent lower its cost."""
    config = Config(arch=arch, activations=activations, examples=64, iterations=ITERATIONS, **QUIET)
    return pytest.param(replace(config, **fields), learns, id=id)


MATRIX = [
    *(case(f"hidden {h}", (3, 5, 4, 1), (h, h, "sigmoid")) for h in HIDDEN),
    case("sigmoid/bce", (3, 5, 1), ("tanh", "sigmoid"), loss="bce"),
    case("linear/mse", (3, 5, 2), ("tanh", "linear"), loss="mse"),
    case("softmax/ce", (3, 5, 3), ("tanh", "softmax"), loss="ce"),
    case("logistic regression", (4, 1), ("sigmoid",)),
    case("deep and narrow", (2, 3, 3, 3, 3, 3, 3, 1)),
    case("wide", (20, 64, 64, 3), ("relu", "relu", "softmax")),
    *(case(f"init {init}", (3, 5, 4, 1), init=init) for init in INITS if init != "zeros"),
    # Zero weights and biases with balanced labels: A = 1/2 everywhere, every gradient is 0, and
    # the cost stays at log 2 (the symmetry lesson): both sides must agree on not moving.
    case("init zeros", (3, 5, 4, 1), ("tanh", "tanh", "sigmoid"), learns=False, init="zeros"),
    # The named datasets, at their own sizes (400 examples; 200 for house).
    case("flower", (2, 4, 1), ("tanh", "sigmoid"), data="flower", examples=None, learning_rate=1.2),
    case("moons", (2, 8, 1), ("relu", "sigmoid"), data="moons", examples=None, learning_rate=0.5),
    case("xor", (2, 8, 1), ("tanh", "sigmoid"), data="xor", examples=None, learning_rate=0.5),
    case("house", (1, 8, 1), ("relu", "linear"), data="house", examples=None),
]


@pytest.fixture(params=DTYPES)
def dtype(request):
    return request.param


def checkpoints(iterations):
    """0, 1, 2, 5, 10, 20, 50, ... below `iterations`, and the last one."""
    marks = {k * 10**e for e in range(6) for k in (1, 2, 5)} | {0}
    return sorted({i for i in marks if i < iterations} | {iterations - 1})


@pytest.mark.parametrize("config, learns", MATRIX)
def test_scratch_and_torch_agree(config, learns, dtype):
    config = replace(config, dtype=dtype)
    report = run(config)
    text = report.to_text(verbose=True)
    assert report.ok and report.verdict == "pass", text
    assert report.first_divergence is None

    # Every check ran and compared every quantity of every layer, in the derivation's order.
    L = len(config.arch) - 1
    assert [c.name for c in report.checks] == list(CHECK_NAMES)
    for name in CHECK_NAMES:
        result = check(report, name)
        assert result.skipped is None and result.error is None and result.notes == []
        assert list(result.rows) == expected_rows(name, L), name
    assert sum(len(c.rows) for c in report.checks) == (2 * L + 1) + 4 * L + 2 * L + (4 * L + 1) + (2 * L + 1)

    # Both sides trained for every iteration, and their costs agree along the way.
    scratch_costs, torch_costs = report.costs.impl, report.costs.torch
    assert len(scratch_costs) == len(torch_costs) == config.iterations
    assert report.nonfinite == Sides(None, None)
    rtol = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(scratch_costs, torch_costs, rtol=rtol)
    assert [i for i, _, _, _ in report.drift] == checkpoints(config.iterations)
    # The free-running tolerance stays tight: two correct runs differ by rounding, and so may the tolerance.
    limit = 1e-6 if dtype == "float64" else 1e-2
    free = check(report, "free-running")
    assert free.comparable_until is None
    largest_parameter = max(row.scale for row in free.rows.values() if row.quantity != "cost")
    for row in free.rows.values():
        if row.quantity == "cost" or largest_parameter > 0:  # zero weights that never move: nothing to be relative to
            assert row.tolerance <= limit * (row.scale if row.quantity == "cost" else largest_parameter), row

    # Gradient descent lowers the cost on both sides, to the same final cost.
    final_s, final_t = report.final.impl.cost, report.final.torch.cost
    assert final_s == pytest.approx(final_t, rel=rtol)
    if learns:
        assert final_s < scratch_costs[0] and final_t < torch_costs[0]
    else:
        np.testing.assert_allclose(scratch_costs + torch_costs + [final_s, final_t], np.log(2), rtol=1e-6)
    if report.config.activations[-1] == "linear":
        assert report.final.impl.accuracy is None
    else:
        assert report.final.impl.accuracy == pytest.approx(report.final.torch.accuracy, abs=2 / report.examples)

    # Backprop's gradients match centred differences to within their rounding (eps |J| / 1e-7).
    assert all(row.max_abs < 1e-8 for row in check(report, "gradcheck").rows.values())

    assert json.loads(json.dumps(report.as_dict()))["verdict"] == "pass"


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_report_holds_each_sides_own_training(dtype):
    # Rerun both sides by hand from the verifier's start: the report's costs are exactly theirs.
    config = validate(
        Config(
            arch=(2, 4, 1),
            activations=("tanh", "sigmoid"),
            data="flower",
            examples=120,
            iterations=25,
            learning_rate=1.2,
            dtype=dtype,
            **QUIET,
        )
    )
    report = run(config)
    assert report.ok, report.to_text(verbose=True)

    X, Y = load_data(config)
    start = initial_parameters(config)
    acts = list(config.activations)
    P, costs = start, []
    for _ in range(config.iterations):
        AL, caches = scratch.L_model_forward(X, P, acts)
        costs.append(scratch.compute_cost(AL, Y, config.loss, ZL=caches[-1][1]))
        P = scratch.update_parameters(
            P, scratch.L_model_backward(AL, Y, caches, acts, config.loss), config.learning_rate
        )
    torch_costs = torch_ref.train(
        torch_ref.from_params(start, acts, "cpu"), X, Y, config.loss, config.learning_rate, config.iterations
    )

    assert report.costs.impl == costs
    assert report.costs.torch == torch_costs
    assert costs[-1] < 0.8 * costs[0]  # flower is learnable: 25 steps at lr 1.2 cut the cost by a fifth
    AL, caches = scratch.L_model_forward(X, P, acts)
    assert report.final.impl.cost == scratch.compute_cost(AL, Y, config.loss, ZL=caches[-1][1])
    assert report.final.impl.accuracy == float(np.mean((AL > 0.5) == (Y > 0.5)))
    assert report.examples == X.shape[1] == 120


def test_zero_iterations_still_compares_forward_backward_and_gradients():
    report = run(Config(arch=(3, 4, 1), examples=16, iterations=0, **QUIET))
    assert report.ok
    assert report.costs == Sides([], [])
    assert [len(c.rows) for c in report.checks] == [5, 8, 4, 0, 0]
