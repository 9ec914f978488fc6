"""No false alarms: the correct scratch passes the verifier on any small network hypothesis draws.

Random architectures (1 to 8 layers, 1 to 16 units), hidden activations per layer, every
output/loss pair, every init (the course's randn * 0.01 among them, where deep networks'
gradients vanish to 1e-10 and below), seeds, both dtypes, a few iterations on a few examples.
Derandomized and database-free, so CI runs the same 40 configs every time.
"""

import pytest
from conftest import DTYPES, HIDDEN, INITS, OUTPUT_PAIRS, QUIET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify import Config, run
from verify.results import Sides

pytestmark = pytest.mark.end_to_end

LEARNING_RATES = (0.01, 0.1, 0.5)


@st.composite
def configs(draw) -> Config:
    L = draw(st.integers(1, 8), label="L")
    output, loss = draw(st.sampled_from(OUTPUT_PAIRS), label="output, loss")
    hidden_widths = draw(st.lists(st.integers(1, 16), min_size=L, max_size=L), label="n[0..L-1]")
    n_L = draw(st.integers(2 if output == "softmax" else 1, 16), label="n[L]")
    hidden = draw(st.lists(st.sampled_from(HIDDEN), min_size=L - 1, max_size=L - 1), label="hidden activations")
    return Config(
        arch=(*hidden_widths, n_L),
        activations=(*hidden, output),
        loss=loss,
        init=draw(st.sampled_from(INITS), label="init"),
        seed=draw(st.integers(0, 2**31 - 1), label="seed"),
        examples=draw(st.integers(1, 64), label="examples"),
        iterations=draw(st.integers(0, 30), label="iterations"),
        learning_rate=draw(st.sampled_from(LEARNING_RATES), label="learning rate"),
        dtype=draw(st.sampled_from(DTYPES), label="dtype"),
        **QUIET,
    )


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_correct_scratch_always_passes(config):
    report = run(config)
    assert report.ok, f"{config}\n{report.to_text(verbose=True)}"
    assert report.verdict == "pass"
    assert report.first_divergence is None
    assert report.interrupted_at is None
    # Every check ran: nothing passed by being skipped.
    assert [c.name for c in report.checks] == ["forward", "backward", "gradcheck", "lockstep", "free-running"]
    for check in report.checks:
        assert check.error is None
        # zero weights put every relu unit exactly on its kink, where finite differences measure neither side
        kinked = config.init == "zeros" and any(a in ("relu", "leaky_relu") for a in config.activations[:-1])
        if check.skipped is not None and check.stage == "training":  # --iterations 0: nothing to train, not "ok"
            assert config.iterations == 0 and check.skipped == "no iterations"
        elif check.skipped is not None:
            assert check.name == "gradcheck" and "moves a relu unit across its kink" in check.skipped and kinked
    if report.nonfinite == Sides(None, None):
        assert len(report.costs.impl) == len(report.costs.torch) == config.iterations
    assert report.examples == config.examples
