"""No false alarm over conv networks spelled in --arch: input shapes, conv filter counts, sizes, strides and
paddings, max and average pools, float64 and float32, He's and the course's small random weights, seeds. Every
network check runs on each (a few iterations on a few examples) and must pass: what differs between scratch and
torch here is rounding alone, which the tolerance model must cover."""

from __future__ import annotations

from conftest import QUIET
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import verify
from verify import Config
from verify.arch import parse_network


@st.composite
def conv_networks(draw) -> str:
    """A spelling whose every window fits its input: a conv layer, maybe a pool, maybe a second conv, then dense."""
    n_H, n_W, n_C = draw(st.integers(3, 7)), draw(st.integers(3, 7)), draw(st.integers(1, 3))
    items, shape, padded = [f"{n_H}x{n_W}x{n_C}"], (n_H, n_W), False
    for _ in range(draw(st.integers(1, 2))):
        f, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 2))
        f = min(f, min(shape) + 2 * p)
        padded = padded or p >= f
        items.append(f"conv{draw(st.integers(1, 3))}f{f}s{s}p{p}")
        shape = tuple((n + 2 * p - f) // s + 1 for n in shape)
        if draw(st.booleans()) and min(shape) >= 2:
            mode, w, ws = draw(st.sampled_from(["max", "avg"])), draw(st.integers(1, 2)), draw(st.integers(1, 2))
            mode = "avg" if padded else mode  # a max pool after outputs of padding alone is refused (arch.py)
            items.append(f"{mode}{w}s{ws}")
            shape = tuple((n - w) // ws + 1 for n in shape)
    return ",".join([*items, "flatten", *map(str, draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))])


@settings(max_examples=50, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=conv_networks(),
    dtype=st.sampled_from(["float64", "float32"]),
    init=st.sampled_from(["he", "random"]),
    seed=st.integers(0, 2**16),
)
def test_no_false_alarm_over_conv_networks(text, dtype, init, seed):
    sizes, layers = parse_network(text)
    config = Config(arch=sizes, layers=layers, examples=6, iterations=3, dtype=dtype, init=init, seed=seed, **QUIET)
    report = verify.run(config)
    assert report.ok, (text, report.verdict_lines())
    assert len(report.checks) == 5 and len(report.functions) > 8  # every network check ran, and the functions'
