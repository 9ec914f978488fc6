"""The convolution notebook's unit checks on their own: scratch.conv's vectorised functions, as a learner's, never
raise a false alarm over a bounded sweep of shapes, strides, pads, modes, seeds and dtypes; max-pool ties pass
either way and are said; each slip's recomputation is the course's loop with that slip (its no-slip form is torch's)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratch.conv
import torch_ref.conv as ref
from verify.checking import unit_conv, unit_pool
from verify.checking.unit_harness import Unit, Wrong
from verify.checking.units import _hint_for_raise
from verify.errors import ImplementationError
from verify.judging import conv_hints
from verify.judging.hints import NAN_WHERE_FINITE
from verify.judging.tolerance import DEFAULT_RTOL


class Learner:
    """What a Unit calls: a module's functions by name, with notes (the adapter's interface, without its copies)."""

    def __init__(self, module, **replaced):
        self.module, self.replaced, self.notes = module, replaced, {}

    def call(self, function: str, *args):
        return self.replaced.get(function, getattr(self.module, function))(*args)


def unit(function: str, dtype: str = "float64", seed: int = 0, **replaced) -> Unit:
    return Unit(Learner(scratch.conv, **replaced), function, dtype, DEFAULT_RTOL[dtype], seed)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("function", [*unit_conv.CONV_CHECKS, *unit_pool.POOL_CHECKS])
def test_scratch_passes_every_check_in_both_dtypes(function, dtype):
    check = {**unit_conv.CONV_CHECKS, **unit_pool.POOL_CHECKS}[function]
    for seed in range(3):
        check(unit(function, dtype, seed))


shapes = st.tuples(
    st.integers(1, 3),  # m
    st.integers(3, 7),  # n_H_prev
    st.integers(3, 7),  # n_W_prev
    st.integers(1, 4),  # n_C_prev
    st.integers(1, 4),  # n_C
    st.integers(1, 3),  # f
    st.integers(1, 3),  # stride
    st.integers(0, 2),  # pad
)


@settings(max_examples=40, deadline=None)
@given(case=shapes, seed=st.integers(0, 2**16), dtype=st.sampled_from(["float64", "float32"]))
def test_no_false_alarm_on_scratch_over_a_sweep(case, seed, dtype):
    u = unit("conv_forward", dtype, seed)
    inputs = unit_conv.conv_inputs(u, case)
    unit_conv._conv_forward_case(u, *inputs)
    unit_conv._conv_backward_case(unit("conv_backward", dtype, seed), *inputs)
    m, n_H, n_W, n_C, _, f, stride, _ = case
    A_prev, hp = unit_pool.pool_inputs(u, (m, n_H, n_W, n_C, min(f, n_H, n_W), stride, seed % 2 == 0))
    for mode in unit_pool.MODES:
        unit_pool._pool_forward_case(unit("pool_forward", dtype, seed), A_prev, hp, mode)
        unit_pool._pool_backward_case(unit("pool_backward", dtype, seed), A_prev, hp, mode)


def torch_pool_backward(dA, cache, mode="max"):
    """A learner's pool_backward that routes each window's gradient as torch does: to one maximum."""
    A_prev, hparameters = cache
    return ref.pool_backward(dA, A_prev, hparameters, mode)


def test_the_relu_like_case_has_tied_windows_and_ties_pass_either_way_and_are_said():
    A_prev, hp = unit_pool.pool_inputs(unit("pool_backward"), unit_pool.POOL_CASES[-1])
    assert ref.tied_windows(A_prev, hp)[0, 0, 0].all()  # its first window is all zeros, in every channel
    course = unit("pool_backward")
    note = unit_pool._check_pool_backward(course)
    assert note is not None and "tied maximum" in note and course.impl.notes["ties"] == note
    as_torch = unit("pool_backward", pool_backward=torch_pool_backward)
    assert unit_pool._check_pool_backward(as_torch) is None and "ties" not in as_torch.impl.notes


def test_a_slip_at_a_tie_still_fails():
    def nothing_at_ties(dA, cache, mode="max"):
        dA_prev = scratch.conv.pool_backward(dA, cache, mode)
        if mode == "max":
            A_prev, hp = cache
            tied = ref.tied_windows(A_prev, hp)
            for i, h, w, c in zip(*np.nonzero(tied)):
                dA_prev[
                    i, h * hp["stride"] : h * hp["stride"] + hp["f"], w * hp["stride"] : w * hp["stride"] + hp["f"], c
                ] = 0
        return dA_prev

    with pytest.raises(Wrong, match="entries differ"):
        unit_pool._check_pool_backward(unit("pool_backward", pool_backward=nothing_at_ties))


def test_the_recomputations_without_a_slip_are_torchs():
    u = unit("conv_forward")
    for case in unit_conv.CONV_CASES:
        A_prev, W, b, hp = unit_conv.conv_inputs(u, case)
        np.testing.assert_allclose(conv_hints.conv_z(A_prev, W, b, hp), ref.conv_forward(A_prev, W, b, hp), atol=1e-12)
        dZ = u.randn(*ref.conv_forward(A_prev, W, b, hp).shape)
        dA_pad, dW, db = conv_hints.conv_grads(dZ, A_prev, W, hp)
        for mine, theirs in zip((conv_hints.strip(dA_pad, hp["pad"]), dW, db), ref.conv_backward(dZ, A_prev, W, b, hp)):
            np.testing.assert_allclose(mine, theirs, atol=1e-12)
    for case in unit_pool.POOL_CASES[:-1]:  # no ties: the course's routing is torch's
        A_prev, hp = unit_pool.pool_inputs(u, case)
        for mode in unit_pool.MODES:
            np.testing.assert_allclose(
                conv_hints.pool_a(A_prev, hp, mode), ref.pool_forward(A_prev, hp, mode), atol=1e-12
            )
            dA = u.randn(*ref.pool_forward(A_prev, hp, mode).shape)
            np.testing.assert_allclose(
                conv_hints.pool_grad(dA, A_prev, hp, mode), ref.pool_backward(dA, A_prev, hp, mode), atol=1e-12
            )


@pytest.mark.parametrize(
    "got, words",
    [
        ((2, 1, 3, 2), "(n_H), without the + 1"),
        ((2, 1, 2, 2), "(n_H and n_W), without the + 1"),
        ((2, 3, 4, 2), "rounded up"),
        ((2, 2, 3, 2), ""),  # the right size
    ],
)
def test_the_output_size_slips(got, words):
    hint = conv_hints.size_slip((2, 5, 8, 3), 2, 3, 1, got)  # n_H = (5 - 2 + 2) // 3 + 1 = 2, n_W = 3
    assert (words in hint) if words else hint == ""


def test_pad_for_2_pad_is_named_and_both_rules_are_said_where_they_give_one_size():
    only = conv_hints.size_slip((2, 7, 7, 3), 3, 1, 2, (2, 7, 9, 3))  # right 9; pad for 2 pad gives 7, no + 1 gives 8
    assert only == (
        "an off-by-one in the output size (n_H), with pad where the course has 2 * pad: n_H = int((n_H_prev - f + "
        "2 * pad) / stride) + 1"
    )
    both = conv_hints.size_slip((2, 7, 7, 3), 3, 1, 1, (2, 6, 6, 3))  # right 7: at pad 1, stride 1 both give 6
    assert "without the + 1: " in both and "; or with pad where the course has 2 * pad: " in both


def test_a_pooling_size_slip_is_told_the_pooling_rule():
    """pool_forward's n_H = n_H_prev - f + 1 at stride 2 lacks the stride (was: "only 2 * pad divided by stride", a
    pad the pooling rule does not have)."""
    hint = conv_hints.size_slip((2, 7, 9, 3), 3, 2, 0, (2, 5, 7, 3), pooling=True)  # right: (2, 3, 4, 3)
    assert hint == (
        "an off-by-one in the output size (n_H and n_W), without the stride: n_H = int((n_H_prev - f) / stride) + 1"
    )
    assert "+ 1: n_H = int((n_H_prev - f) / stride)" in conv_hints.size_slip((2, 7, 9, 3), 3, 2, 0, (2, 2, 3, 3), True)


def test_a_tolerance_is_the_rounding_of_the_terms_and_a_one_ulp_change_of_a_big_entry_is_caught():
    """Z within rtol times its terms' sum: scratch's Z passes; moving one entry by 1e3 times the tolerance fails."""
    u = unit("conv_forward")
    A_prev, W, b, hp = unit_conv.conv_inputs(u, unit_conv.CONV_CASES[1])
    scale = unit_conv.terms_scale(lambda a, w, c: conv_hints.conv_z(a, w, c, hp), A_prev, W, b)
    assert 1 < scale < 50  # f f n_C_prev = 27 products of unit-size entries

    def off(A_prev, W, b, hparameters):
        Z, cache = scratch.conv.conv_forward(A_prev, W, b, hparameters)
        Z[0, 0, 0, 0] += 1e3 * DEFAULT_RTOL["float64"] * scale
        return Z, cache

    with pytest.raises(Wrong, match="1 of"):
        unit_conv._conv_forward_case(unit("conv_forward", conv_forward=off), A_prev, W, b, hp)


def _dW_over_m(dZ, cache):
    dA_prev, dW, db = scratch.conv.conv_backward(dZ, cache)
    return dA_prev, dW / dZ.shape[0], db


def _modes_swapped(A_prev, hparameters, mode="max"):
    return scratch.conv.pool_forward(A_prev, hparameters, "average" if mode == "max" else "max")


SMALLER_SLIPS = {  # function: (the learner's version, the words of its hint)
    "zero_pad": (lambda X, pad: np.pad(X, pad), "every axis is padded"),
    "conv_single_step": (lambda a, W, b: np.sum(a * W) + 0 * b.item(), "b is not added"),
    "create_mask_from_window": (lambda x: x == np.max(x, axis=0), "the maximum of each column"),
    "conv_backward": (_dW_over_m, "divided by m: the course's conv_backward has no 1/m; dW sums over the examples"),
    "pool_forward": (_modes_swapped, 'the modes are swapped: mode "max" computes the average'),
    "distribute_value": (lambda dz, shape: np.full(shape, dz / (shape[0] + shape[1])), "divided by n_H + n_W"),
}


@pytest.mark.parametrize("function", SMALLER_SLIPS)
def test_the_smaller_slips_are_named(function):
    learner, words = SMALLER_SLIPS[function]
    check = {**unit_conv.CONV_CHECKS, **unit_pool.POOL_CHECKS}[function]
    with pytest.raises(Wrong) as wrong:
        check(unit(function, **{function: learner}))
    assert words in wrong.value.hint, wrong.value.hint


def test_a_single_step_that_returns_bs_shape_or_floats_b_is_told_b_item():
    """The two older course forms: Z + b, a (1, 1, 1) array NumPy 2 cannot store in one entry of conv_forward's Z,
    and float(b), which NumPy 2 refuses for an array with dimensions."""
    check = unit_conv.CONV_CHECKS["conv_single_step"]
    with pytest.raises(Wrong) as wrong:
        check(unit("conv_single_step", conv_single_step=lambda a, W, b: np.sum(a * W) + b))
    assert wrong.value.detail == "expected a number, got an array of shape (1, 1, 1)"
    assert wrong.value.hint.endswith("Z = np.sum(a_slice_prev * W) + b.item()")
    with pytest.raises(TypeError) as raised:  # (the adapter makes it an ImplementationError; this test double does not)
        check(unit("conv_single_step", conv_single_step=lambda a, W, b: np.sum(a * W) + float(b)))
    error = ImplementationError("conv_single_step", raised.value)
    assert _hint_for_raise("conv_single_step", error).startswith("float() of a (1, 1, 1) array, b or a sum with b")


@pytest.mark.parametrize(
    "slip",
    [
        lambda dW, W, a: dW.__iadd__(a * 2.0),  # dW += a_slice * dZ[i, h, w, c], dW[:, :, :, c] meant
        lambda dW, W, a: np.sum(a * W),  # conv_single_step(a_slice, W, b), W[:, :, :, c] meant
        lambda dW, W, a: np.zeros_like(a).__iadd__(W * 2.0),  # da_prev_pad[...] += W * dZ[i, h, w, c]
    ],
)
def test_all_the_filters_where_one_is_meant_is_told_to_index_the_channel(slip):
    """(f, f, n_C_prev, n_C) against (f, f, n_C_prev): the channel index c left out, not a slice smaller than its
    window (was the hint for every broadcast error)."""
    dW, W, a = np.zeros((3, 3, 2, 3)), np.ones((3, 3, 2, 3)), np.ones((3, 3, 2))
    with pytest.raises(ValueError) as raised:
        slip(dW, W, a)
    hint = _hint_for_raise("conv_backward", ImplementationError("conv_backward", raised.value))
    assert hint.endswith("index its last axis with the channel c (W[:, :, :, c], b[:, :, :, c], dW[:, :, :, c])")
    with pytest.raises(ValueError) as smaller:  # a window cut short: the slice hint still
        np.ones((2, 3, 2)) * a
    assert _hint_for_raise("conv_backward", ImplementationError("conv_backward", smaller.value)).startswith(
        "a slice is smaller than its window"
    )


def _cache_in_another_order(A_prev, W, b, hparameters):
    Z, (A, W, b, hp) = scratch.conv.conv_forward(A_prev, W, b, hparameters)
    return Z, (A, b, W, hp)


def _cache_without_hparameters(A_prev, hparameters, mode="max"):
    A, cache = scratch.conv.pool_forward(A_prev, hparameters, mode)
    return A, cache[:1]


@pytest.mark.parametrize(
    "function, learner, output, detail",
    [
        ("conv_forward", _cache_in_another_order, "cache[1] (W)", "should hold the array it was given or computed"),
        ("pool_forward", _cache_without_hparameters, "cache", "expected (A_prev, hparameters), got a tuple"),
    ],
)
def test_a_cache_not_the_courses_fails(function, learner, output, detail):
    check = {**unit_conv.CONV_CHECKS, **unit_pool.POOL_CHECKS}[function]
    with pytest.raises(Wrong) as wrong:
        check(unit(function, **{function: learner}))
    assert (
        wrong.value.output == output and detail in wrong.value.detail and "the course's cache is (" in wrong.value.hint
    )


def _none_into_the_output(A_prev, W, b, hparameters):
    """The exercise's `Z[i, h, w, c] = None` for the first window: NumPy stores nan."""
    Z, cache = scratch.conv.conv_forward(A_prev, W, b, hparameters)
    Z[0, 0, 0, 0] = None
    return Z, cache


def test_a_nan_where_torch_is_finite_is_named_with_none_among_its_causes():
    with pytest.raises(Wrong) as wrong:
        unit_conv.CONV_CHECKS["conv_forward"](unit("conv_forward", conv_forward=_none_into_the_output))
    assert wrong.value.output == "Z" and wrong.value.hint == NAN_WHERE_FINITE  # was: no hint, "nan vs torch ..."
    assert NAN_WHERE_FINITE.startswith("it holds nan where the expected value is finite: a None stored into a float")


def _cache_of_the_padded_input(A_prev, W, b, hparameters):
    """A_prev = zero_pad(A_prev, pad) over the input, then cached: Z is right, the cache is not."""
    Z, (_, W, b, hp) = scratch.conv.conv_forward(A_prev, W, b, hparameters)
    return Z, (scratch.conv.zero_pad(A_prev, hp["pad"]), W, b, hp)


def test_a_cache_of_the_padded_input_is_told_so_not_its_order():
    with pytest.raises(Wrong) as wrong:
        unit_conv.CONV_CHECKS["conv_forward"](unit("conv_forward", conv_forward=_cache_of_the_padded_input))
    assert wrong.value.output == "cache[0] (A_prev)" and wrong.value.hint.startswith("it holds A_prev padded, shape (")
    assert wrong.value.hint.endswith(
        ": the course's cache keeps the A_prev it was handed (pad into A_prev_pad, not over A_prev)"
    )  # was: the course's cache is (A_prev, W, b, hparameters), its order already


def _split_among_ties(dA, cache, mode="max"):
    """The course's loops, the gradient of a max window shared among its tied maxima (mask / np.sum(mask))."""
    A_prev, hparameters = cache
    f, stride = hparameters["f"], hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    vert, horiz = h * stride, w * stride
                    if mode == "average":
                        dA_prev[i, vert : vert + f, horiz : horiz + f, c] += dA[i, h, w, c] / (f * f)
                        continue
                    window = A_prev[i, vert : vert + f, horiz : horiz + f, c]
                    mask = window == np.max(window)
                    dA_prev[i, vert : vert + f, horiz : horiz + f, c] += mask / np.sum(mask) * dA[i, h, w, c]
    return dA_prev


def test_a_max_pool_backward_splitting_ties_is_named():
    with pytest.raises(Wrong) as wrong:
        unit_pool.POOL_CHECKS["pool_backward"](unit("pool_backward", pool_backward=_split_among_ties))
    assert wrong.value.output == "dA_prev (max)" and wrong.value.hint == conv_hints.SPLIT  # was: no hint


@pytest.mark.parametrize("stride", [1, 2], ids=["overlapping", "apart"])
def test_a_max_pool_backward_without_its_mask_or_with_the_output_windows_is_named(stride):
    """Where windows overlap (f 2, stride 1) each slip has its own numbers and hint; where they do not, the output
    window's mask is all True when read, as no mask at all: the hint names both."""
    rng = np.random.default_rng(3)
    A_prev, hp = rng.standard_normal((2, 5, 5, 3)), {"f": 2, "stride": stride}
    dA = rng.standard_normal(ref.pool_forward(A_prev, hp, "max").shape)
    for slip, words in (
        ("no mask", "the mask is not applied"),
        ("output mask", "the max mask is taken from the output"),
    ):
        slipped = conv_hints.pool_grad(dA, A_prev, hp, "max", slip=slip)
        hint = conv_hints.pool_backward_slip(slipped, dA, A_prev, hp, "max", 1e-12)
        assert words in hint, hint
        assert ("every entry of the window gets the gradient" in hint) == (stride == 2)
