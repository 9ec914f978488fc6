"""The entries of the convolution course's step-by-step notebook (impl/convstep.py), in the notebook's order: each
function checked on its own against torch_ref.conv (checking/unit_conv.py, unit_pool.py), its slips named by
judging/conv_hints.py. The four backward functions are optional in the course: none is required to detect it.
entries.py places them in the catalogue."""

from __future__ import annotations

from .types import CourseFunction, one

CONV = ("conv",)

CONV_ENTRIES: tuple[CourseFunction, ...] = (
    one(
        "zero_pad",
        CONV,
        "forward step",
        "zero_pad(X, pad) -> X_pad",
        torch="np.pad of height and width only, on several shapes and pads",
        slips=("pad_slip",),
        check="unit_conv",
        required_by=CONV,
    ),
    one(
        "conv_single_step",
        CONV,
        "forward step",
        "conv_single_step(a_slice_prev, W, b) -> Z",
        torch="the rule Z = sum(a_slice_prev * W) + b, a number, b (1, 1, 1)",
        slips=("single_step_slip",),
        check="unit_conv",
        required_by=CONV,
    ),
    one(
        "conv_forward",
        CONV,
        "forward",
        "conv_forward(A_prev, W, b, hparameters) -> (Z, cache)",
        torch="torch_ref.conv.conv_forward (conv2d), strides 1 to 3, pads 0 to 2, f 1 to 3; the cache (A_prev, W, b, "
        "hparameters)",
        calls=("zero_pad", "conv_single_step"),
        slips=("size_slip", "conv_forward_slip"),
        check="unit_conv",
        required_by=CONV,
    ),
    one(
        "pool_forward",
        CONV,
        "forward",
        "pool_forward(A_prev, hparameters, mode='max') -> (A, cache)",
        torch="torch_ref.conv.pool_forward (max_pool2d, avg_pool2d), both modes; the cache (A_prev, hparameters)",
        slips=("size_slip", "pool_forward_slip"),
        check="unit_pool",
        required_by=CONV,
    ),
    one(
        "conv_backward",
        CONV,
        "backward",
        "conv_backward(dZ, cache) -> (dA_prev, dW, db)",
        torch="torch_ref.conv.conv_backward (autograd of conv2d) with a random dZ",
        calls=("zero_pad",),
        slips=("conv_backward_slip", "strip_slip", "db_shape_slip"),
        check="unit_conv",
    ),
    one(
        "create_mask_from_window",
        CONV,
        "backward step",
        "create_mask_from_window(x) -> mask",
        torch="the rule mask = (x == max(x)), on windows without ties",
        slips=("mask_slip",),
        check="unit_pool",
    ),
    one(
        "distribute_value",
        CONV,
        "backward step",
        "distribute_value(dz, shape) -> a",
        torch="the rule a = dz / (n_H n_W) everywhere, shape (n_H, n_W)",
        slips=("distribute_slip",),
        check="unit_pool",
    ),
    one(
        "pool_backward",
        CONV,
        "backward",
        "pool_backward(dA, cache, mode='max') -> dA_prev",
        torch="torch_ref.conv.pool_backward (autograd of the pools) with a random dA, both modes; at tied maxima "
        "(torch_ref.conv.tied_windows) the course's rule, never a slip",
        calls=("create_mask_from_window", "distribute_value"),
        slips=("pool_backward_slip",),
        check="unit_pool",
    ),
)
