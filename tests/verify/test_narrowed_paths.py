"""Paths whose code was restated so that each value has one type: they give what they gave before.

The byte counts a refused .npz names, a network's sizes once known, the optimiser slips asked of a run
whose settings are not Adam's, and the sizes read from a module's code.
"""

from __future__ import annotations

import ast

import numpy as np
import pytest

from verify.config import Config, arch_words
from verify.data import _bytes
from verify.impl.sizes import _sizes
from verify.judging.hints import optimizer_slips
from verify.optimization import OptimizerStep


@pytest.mark.parametrize(
    "n, text",
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (2**20 - 1, "1,024.0 KiB"),  # rounds up in its own unit: the next unit starts at 2**20
        (2**20, "1.0 MiB"),
        (int(21.8 * 2**40), "21.8 TiB"),
        (2**50, "1.0 PiB"),
        (2**60, "1,024.0 PiB"),  # the last unit takes everything above it
    ],
)
def test_byte_counts_are_named_in_the_largest_unit_below_them(n, text):
    assert _bytes(n) == text


def test_sizes_are_the_arch_once_it_is_known():
    config = Config(arch=(5, 4, 1))
    assert config.sizes == (5, 4, 1) and config.L == 2
    assert config.arch_text == "5-4-1" and arch_words(config) == "--arch 5,4,1"
    fixed = Config(arch=(12288, 7, 1), arch_from="layers_dims in x.ipynb")
    assert arch_words(fixed) == "layers_dims in x.ipynb (12288,7,1)"


def test_momentum_settings_give_momentum_slips_and_no_adam_ones():
    """Momentum's run names v's and the step's slips; Adam's quantities (s, the corrections) have none to fit."""
    grads = {"dW1": np.array([[1.0, -2.0]])}
    v = {"dW1": np.array([[0.5, 0.5]])}
    settings = {"beta": 0.9}
    swapped = optimizer_slips("v", OptimizerStep("momentum", settings, 1, 0.0, {"v": v}), grads)[
        "beta and 1 - beta are swapped: v = beta v + (1 - beta) dW"
    ]
    np.testing.assert_allclose(swapped["dW1"], 0.1 * v["dW1"] + 0.9 * grads["dW1"])
    step = optimizer_slips("step", OptimizerStep("momentum", settings, 1, 0.5, {"v": v}), grads)
    np.testing.assert_allclose(next(iter(step.values()))["dW1"], -0.5 * grads["dW1"])
    assert optimizer_slips("s", OptimizerStep("momentum", settings, 2, 0.0, {"v": v}), grads) == {}
    assert (
        optimizer_slips("v_corrected", OptimizerStep("momentum", settings, 2, 0.0, {"v": v}), grads, moments={"v": v})
        == {}
    )


def test_adam_settings_give_the_bias_correction_slips():
    grads, v, s = {"dW1": np.array([[1.0]])}, {"dW1": np.array([[0.2]])}, {"dW1": np.array([[0.3]])}
    settings = {"beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    slips = optimizer_slips(
        "v_corrected", OptimizerStep("adam", settings, 3, 0.0, {"v": v, "s": s}), grads, moments={"v": v}
    )
    np.testing.assert_allclose(
        slips["the bias correction uses t - 1 where it needs t: v_corrected = v / (1 - beta^t)"]["dW1"],
        v["dW1"] / (1 - 0.9**2),
    )
    unpowered = "the bias correction divides by 1 - beta: beta is not raised to the power t"
    np.testing.assert_allclose(slips[f"{unpowered}: v_corrected = v / (1 - beta^t)"]["dW1"], v["dW1"] / (1 - 0.9))
    at_2 = optimizer_slips(
        "v_corrected", OptimizerStep("adam", settings, 2, 0.0, {"v": v, "s": s}), grads, moments={"v": v}
    )
    assert [hint for hint, value in at_2.items() if value] == [  # t - 1 and no power: one number, one hint
        "no bias correction: v_corrected = v / (1 - beta^t)",
        "the bias correction divides by 1 - beta (at t = 2, also 1 - beta^(t - 1)): beta is not raised to the power t, "
        "or to t - 1 where it needs t: v_corrected = v / (1 - beta^t)",
    ]


@pytest.mark.parametrize(
    "source, constants, sizes",
    [
        ("[5, 4, 1]", {}, (5, 4, 1)),
        ("(n_x, 4, 1)", {"n_x": 12288}, (12288, 4, 1)),
        ("[n_x, 4, 1]", {}, None),  # a name bound to no whole number: not readable without running the code
        ("[5, 4.0, 1]", {}, None),
        ("[]", {}, ()),
        ("layers", {}, None),
    ],
)
def test_sizes_read_from_code_are_all_whole_numbers_or_none(source, constants, sizes):
    assert _sizes(ast.parse(source, mode="eval").body, constants) == sizes
