"""No false alarm over recurrent networks spelled in --arch: sequence lengths (1 included, up to 30), input and
state sizes, basic and LSTM cells, stacked, float64 and float32, He's and the course's small random weights,
seeds. Every network check runs on each (a few iterations on a few examples) and must pass: what differs between
scratch and torch here is rounding alone, which the tolerance model must cover."""

from __future__ import annotations

from conftest import QUIET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verify
from verify import Config
from verify.arch import parse_network


@st.composite
def recurrent_networks(draw) -> str:
    T_x, n_x = draw(st.sampled_from([1, 2, 3, 5, 8, 13, 30])), draw(st.integers(1, 4))
    cells = draw(st.lists(st.sampled_from(["rnn", "lstm"]), min_size=1, max_size=2))
    layers = [f"{cell}{draw(st.integers(1, 5))}" for cell in cells]
    dense = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    return ",".join([f"seq{T_x}x{n_x}", *layers, *map(str, dense)])


@settings(max_examples=40, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=recurrent_networks(),
    dtype=st.sampled_from(["float64", "float32"]),
    init=st.sampled_from(["he", "random"]),
    seed=st.integers(0, 2**16),
)
def test_no_false_alarm_over_recurrent_networks(text, dtype, init, seed):
    sizes, layers = parse_network(text)
    config = Config(arch=sizes, layers=layers, examples=6, iterations=3, dtype=dtype, init=init, seed=seed, **QUIET)
    report = verify.run(config)
    assert report.ok, (text, report.verdict_lines())
    assert len(report.checks) == 5
