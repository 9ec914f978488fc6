"""The convolution notebook's classic slips, each recognised from the numbers: the course's loops computed again
with the slip (a window started at h instead of h * stride, dW from the unpadded slice, a mask from the wrong
window, ...) and the learner's output compared with what the slip gives. A slip is named only where it fits; where
none does, there is no hint. Shapes name their own slips (an output size off by one, padding left on dA_prev, a db
of the wrong shape). The loops here run over the output positions (h, w) only, every example and channel at once:
the course's sums in its own order of windows, small enough for the unit checks' shapes."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

Candidates = Sequence[tuple[str, np.ndarray | None]]  # (hint, what the slip computes; None where it cannot run)

STRIDE = (
    "`vert_start = h` instead of `h * stride`: window (h, w) starts at vert_start = h * stride, horiz_start = "
    "w * stride"
)
STRIDE_V = "`vert_start = h` instead of `h * stride` (horiz_start is right)"
STRIDE_H = "`horiz_start = w` instead of `w * stride` (vert_start is right)"
STRIP = "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :] (pad:-pad is empty at pad 0)"


def fitting(value, candidates: Candidates, allowed: float) -> str:
    """The first candidate's hint whose array `value` equals within `allowed`; "" when none fits."""
    try:
        value = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    for hint, slipped in candidates:
        if slipped is not None and slipped.shape == value.shape and np.all(np.abs(value - slipped) <= allowed):
            return hint
    return ""


SIZE = "int((n_H_prev - f + 2 * pad) / stride) + 1"  # the course's output size of a convolution
POOL_SIZE = "int((n_H_prev - f) / stride) + 1"  # and of a pooling layer, which pads nothing


def _size(n_prev: int, f: int, stride: int, pad: int) -> int:
    return (n_prev - f + 2 * pad) // stride + 1


def size_slip(
    shape_prev: tuple[int, ...], f: int, stride: int, pad: int, shape: tuple[int, ...], pooling: bool = False
) -> str:
    """The output size rule behind an output of `shape` (m, n_H, n_W, n_C) for an input of `shape_prev`: the
    course's is n = int((n_prev - f + 2 pad) / stride) + 1 (pooling: no pad); an off-by-one, a misplaced division
    or a rule without a term is named."""
    if len(shape) != 4 or len(shape_prev) != 4:
        return ""
    got, n_prev = shape[1:3], shape_prev[1:3]
    size = f"n_H = {POOL_SIZE if pooling else SIZE}"
    padded = (
        ()
        if pooling
        else (  # where nothing is padded, these three are the right size, or the stride's slip
            ("the division misplaced: only 2 * pad divided by stride", lambda n: int(n - f + 2 * pad / stride) + 1),
            (f"without 2 * pad: {size}", lambda n: (n - f) // stride + 1),
            (f"with pad where the course has 2 * pad: {size}", lambda n: (n - f + pad) // stride + 1),
        )
    )
    rules = (
        (f"without the + 1: {size}", lambda n: (n - f + 2 * pad) // stride),
        (f"rounded up: {size} rounds down", lambda n: -(-(n - f + 2 * pad) // stride) + 1),
        *padded,
        (f"without the stride: {size}", lambda n: n - f + 2 * pad + 1),
    )
    right = tuple(_size(n, f, stride, pad) for n in n_prev)
    wrong = [name for name, g, r in zip(("n_H", "n_W"), got, right) if g != r]
    fits = [hint for hint, rule in rules if wrong and all(g in (r, rule(n)) for g, r, n in zip(got, right, n_prev))]
    if not fits:  # (at pad 1 and stride 1, the + 1 left out and pad for 2 * pad give one size: both are said)
        return ""
    return f"an off-by-one in the output size ({' and '.join(wrong)}), {'; or '.join(fits)}"


def _starts(n: int, stride: int, ignored: bool) -> list[int]:
    return [h * (1 if ignored else stride) for h in range(n)]


def _steps() -> tuple[tuple[str, bool, bool], ...]:
    """(hint, vertical stride ignored, horizontal stride ignored): the window-start slips."""
    return ((STRIDE, True, True), (STRIDE_V, True, False), (STRIDE_H, False, True))


def conv_z(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hp: dict, ignore: tuple[bool, bool] = (False, False)):
    """The course's conv_forward, windows started as `ignore` says (h instead of h * stride), float64."""
    stride, pad, f = hp["stride"], hp["pad"], W.shape[0]
    A = np.pad(A_prev.astype(np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    m, n_H_prev, n_W_prev, _ = A_prev.shape
    n_H, n_W = _size(n_H_prev, f, stride, pad), _size(n_W_prev, f, stride, pad)
    Z = np.zeros((m, n_H, n_W, W.shape[3]))
    for h, vs in enumerate(_starts(n_H, stride, ignore[0])):
        for w, hs in enumerate(_starts(n_W, stride, ignore[1])):
            Z[:, h, w, :] = np.tensordot(A[:, vs : vs + f, hs : hs + f, :], W, axes=3) + b.reshape(-1)
    return Z


def conv_forward_slip(Z, A_prev: np.ndarray, W: np.ndarray, b: np.ndarray, hp: dict, allowed: float) -> str:
    """conv_forward's slips that give Z of the right shape: a window start without the stride, b left out."""
    candidates = [(hint, conv_z(A_prev, W, b, hp, (v, h))) for hint, v, h in _steps() if hp["stride"] > 1]
    candidates.append(
        (
            "b is not added: Z = conv_single_step(a_slice_prev, weights, biases) adds b[..., c]",
            conv_z(A_prev, W, 0 * b, hp),
        )
    )
    return fitting(Z, candidates, allowed)


def conv_grads(dZ: np.ndarray, A_prev: np.ndarray, W: np.ndarray, hp: dict, ignore=(False, False), unpadded=False):
    """The course's conv_backward in float64: (dA_prev_pad, dW, db); windows started as `ignore` says; with
    `unpadded`, dW's slices from A_prev itself (None where one would run past it)."""
    stride, pad, f = hp["stride"], hp["pad"], W.shape[0]
    A_pad = np.pad(A_prev.astype(np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    source = A_prev.astype(np.float64) if unpadded else A_pad
    dA_pad, dW = np.zeros(A_pad.shape), np.zeros(W.shape)
    _, n_H, n_W, _ = dZ.shape
    for h, vs in enumerate(_starts(n_H, stride, ignore[0])):
        for w, hs in enumerate(_starts(n_W, stride, ignore[1])):
            g = dZ[:, h, w, :].astype(np.float64)  # (m, n_C)
            dA_pad[:, vs : vs + f, hs : hs + f, :] += np.einsum("abcd,md->mabc", W, g)
            window = source[:, vs : vs + f, hs : hs + f, :]
            if window.shape[1:3] != (f, f):
                return dA_pad, None, None
            dW += np.einsum("mabc,md->abcd", window, g)
    return dA_pad, dW, np.sum(dZ, axis=(0, 1, 2), keepdims=True, dtype=np.float64)


def strip(dA_pad: np.ndarray, pad: int) -> np.ndarray:
    return dA_pad[:, pad : dA_pad.shape[1] - pad, pad : dA_pad.shape[2] - pad, :]


def conv_backward_slip(output: str, value, inputs: tuple, allowed: float) -> str:
    """conv_backward's slips behind one wrong output (dA_prev, dW or db) of the right shape; inputs: (dZ, A_prev, W,
    hparameters)."""
    dZ, A_prev, W, hp = inputs
    stride, pad, m = hp["stride"], hp["pad"], dZ.shape[0]
    index = {"dA_prev": 0, "dW": 1, "db": 2}[output]
    candidates: list[tuple[str, np.ndarray | None]] = []
    if output == "dW" and pad:
        unpadded = conv_grads(dZ, A_prev, W, hp, unpadded=True)[1]
        candidates.append(
            (
                "accumulated from the unpadded slice: a_slice comes from a_prev_pad = A_prev_pad[i], not A_prev[i]",
                unpadded,
            )
        )
    for hint, v, h in _steps() if stride > 1 else ():
        slipped = conv_grads(dZ, A_prev, W, hp, ignore=(v, h))[index]
        candidates.append(
            ("stride ignored in the backward slice: " + hint, strip(slipped, pad) if index == 0 else slipped)
        )
    if index:
        right = conv_grads(dZ, A_prev, W, hp)[index]
        assert right is not None, "the right slices are inside the padded input"
        candidates.append(
            (f"divided by m: the course's conv_backward has no 1/m; {output} sums over the examples", right / m)
        )
    else:
        shifted = conv_grads(dZ, A_prev, W, hp)[0][:, : A_prev.shape[1], : A_prev.shape[2], :]
        candidates.append(("the padding is stripped from one side only: " + STRIP, shifted))
    return fitting(value, candidates, allowed)


def strip_slip(A_prev_shape: tuple[int, ...], pad: int, shape: tuple[int, ...]) -> str:
    """dA_prev's shape when its padding is left on, or taken off twice."""
    m, n_H, n_W, n_C = A_prev_shape
    if pad and tuple(shape) == (m, n_H + 2 * pad, n_W + 2 * pad, n_C):
        return "the padding is not stripped from dA_prev: " + STRIP
    if pad and tuple(shape) == (m, n_H - 2 * pad, n_W - 2 * pad, n_C):
        return "the padding is stripped twice: strip it once, " + STRIP
    return ""


def db_shape_slip(n_C: int, shape: tuple[int, ...]) -> str:
    if int(np.prod(shape)) == n_C and tuple(shape) != (1, 1, 1, n_C):
        return f"db is {tuple(shape)}: it should be (1, 1, 1, n_C), like b (db[:, :, :, c] += dZ[i, h, w, c])"
    return ""


def pad_slip(X_shape: tuple[int, ...], pad: int, shape: tuple[int, ...]) -> str:
    m, n_H, n_W, n_C = X_shape
    if tuple(shape) == (m + 2 * pad, n_H + 2 * pad, n_W + 2 * pad, n_C + 2 * pad):
        return "every axis is padded: pad height and width only, ((0, 0), (pad, pad), (pad, pad), (0, 0))"
    if tuple(shape) == (m, n_H + pad, n_W + pad, n_C):
        return "one side only is padded: (pad, pad) pads both sides of height and width"
    return ""


def padded_cache_slip(name: str, value, given: np.ndarray) -> str:
    """A cache that keeps `name` padded (A_prev = zero_pad(A_prev, pad), then cached), or ""."""
    if not (isinstance(value, np.ndarray) and value.ndim == 4 == given.ndim):
        return ""
    grown = np.subtract(value.shape, given.shape)
    pad = int(grown[1]) // 2
    if grown[0] or grown[3] or grown[1] != grown[2] or pad < 1 or grown[1] != 2 * pad:
        return ""
    if not np.array_equal(value[:, pad:-pad, pad:-pad, :], given):
        return ""
    return (
        f"it holds {name} padded, shape {value.shape} for {given.shape}: the course's cache keeps the {name} it was "
        f"handed (pad into A_prev_pad, not over {name})"
    )


def single_step_slip(Z, a_slice: np.ndarray, W: np.ndarray, b: np.ndarray, allowed: float) -> str:
    products = np.sum(a_slice.astype(np.float64) * W)
    return fitting(Z, [("b is not added: Z = np.sum(a_slice_prev * W) + b.item()", np.asarray(products))], allowed)


def pool_a(A_prev: np.ndarray, hp: dict, mode: str, ignore=(False, False)) -> np.ndarray:
    """The course's pool_forward in float64, windows started as `ignore` says."""
    f, stride = hp["f"], hp["stride"]
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    n_H, n_W = _size(n_H_prev, f, stride, 0), _size(n_W_prev, f, stride, 0)
    A, reduce = np.zeros((m, n_H, n_W, n_C)), np.max if mode == "max" else np.mean
    for h, vs in enumerate(_starts(n_H, stride, ignore[0])):
        for w, hs in enumerate(_starts(n_W, stride, ignore[1])):
            A[:, h, w, :] = reduce(A_prev[:, vs : vs + f, hs : hs + f, :].astype(np.float64), axis=(1, 2))
    return A


def pool_forward_slip(A, A_prev: np.ndarray, hp: dict, mode: str, allowed: float) -> str:
    other = "average" if mode == "max" else "max"
    candidates = [(hint, pool_a(A_prev, hp, mode, (v, h))) for hint, v, h in _steps() if hp["stride"] > 1]
    candidates.append((f'the modes are swapped: mode "{mode}" computes the {other}', pool_a(A_prev, hp, other)))
    return fitting(A, candidates, allowed)


def pool_grad(dA, A_prev, hp: dict, mode: str, ignore=(False, False), slip: str = ""):
    """The course's pool_backward in float64 (max: every tied maximum gets the gradient, mask x == max(x)); the
    slips: windows started as `ignore` says (without the stride), and `slip` "undivided" (the average not divided by
    f f), "no mask" (the whole window gets the gradient), "output mask" (the mask taken from the window of dA_prev,
    the output being accumulated, not A_prev's) or "split" (the gradient shared among a window's tied maxima)."""
    f, stride = hp["f"], hp["stride"]
    A64, dA_prev = A_prev.astype(np.float64), np.zeros(A_prev.shape)
    _, n_H, n_W, _ = dA.shape
    for h, vs in enumerate(_starts(n_H, stride, ignore[0])):
        for w, hs in enumerate(_starts(n_W, stride, ignore[1])):
            g = dA[:, h, w, :].astype(np.float64)[:, None, None, :]
            where = (slice(None), slice(vs, vs + f), slice(hs, hs + f), slice(None))
            if mode == "max" and slip == "no mask":
                dA_prev[where] += g
            elif mode == "max":
                window = dA_prev[where] if slip == "output mask" else A64[where]
                mask = window == window.max(axis=(1, 2), keepdims=True)
                dA_prev[where] += mask * (g / mask.sum(axis=(1, 2), keepdims=True) if slip == "split" else g)
            else:
                dA_prev[where] += g / (1 if slip == "undivided" else f * f)
    return dA_prev


NO_MASK = "the mask is not applied: dA_prev[i, vert_start:vert_end, horiz_start:horiz_end, c] += mask * dA[i, h, w, c]"
OUTPUT_MASK = (
    "the max mask is taken from the output window (dA_prev's) instead of the input window: mask = "
    "create_mask_from_window(a_prev_slice), a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]"
)


SPLIT = (
    "the gradient is split among a window's tied maxima: the course's mask x == max(x) gives each of them the whole "
    "dA[i, h, w, c] (torch gives it to one; either is taken)"
)


def pool_backward_slip(dA_prev, dA, A_prev, hp: dict, mode: str, allowed: float) -> str:
    candidates: list[tuple[str, np.ndarray | None]] = []
    no_mask = pool_grad(dA, A_prev, hp, mode, slip="no mask") if mode == "max" else None
    if mode == "average":
        candidates.append(
            (
                "the average-pool gradient is not divided by f * f: distribute_value(dz, (f, f)) shares dz / (f * f)",
                pool_grad(dA, A_prev, hp, mode, slip="undivided"),
            )
        )
    elif hp["stride"] >= hp["f"]:  # no windows overlap: dA_prev's window is all 0 when read, its mask all True
        candidates.append((f"every entry of the window gets the gradient: {NO_MASK}, or {OUTPUT_MASK}", no_mask))
    else:
        candidates += [(NO_MASK, no_mask), (OUTPUT_MASK, pool_grad(dA, A_prev, hp, mode, slip="output mask"))]
    if mode == "max":
        candidates.append((SPLIT, pool_grad(dA, A_prev, hp, mode, slip="split")))
    candidates += [
        ("stride ignored in the backward slice: " + hint, pool_grad(dA, A_prev, hp, mode, (v, h)))
        for hint, v, h in _steps()
        if hp["stride"] > 1
    ]
    return fitting(dA_prev, candidates, allowed)


def mask_slip(mask, x: np.ndarray, allowed: float = 0.0) -> str:
    candidates = [
        ("the maximum of each column: np.max(x) with no axis is the window's", x == np.max(x, axis=0)),
        ("the maximum of each row: np.max(x) with no axis is the window's", x == np.max(x, axis=1, keepdims=True)),
        ("the minimum's mask: mask = (x == np.max(x))", x == np.min(x)),
    ]
    return fitting(mask, [(hint, a.astype(np.float64)) for hint, a in candidates], allowed)


def distribute_slip(a, dz: float, shape: tuple[int, int], allowed: float) -> str:
    n_H, n_W = shape
    candidates = [
        ("not divided: each entry gets dz / (n_H * n_W)", np.full(shape, dz)),
        ("divided by n_H + n_W: each entry gets dz / (n_H * n_W)", np.full(shape, dz / (n_H + n_W))),
    ]
    return fitting(a, candidates, allowed)


def _padded_into_unpadded(shapes: list[tuple[int, ...]]) -> bool:
    """Whether a broadcast error's two shapes are a padded (n_H + 2 pad, n_W + 2 pad, n_C) window put into an
    unpadded (n_H, n_W, n_C) one: "could not broadcast input array from shape (9,9,2) into shape (7,7,2)"."""
    if len(shapes) != 2 or any(len(shape) != 3 for shape in shapes):
        return False
    (h, w, c), (h0, w0, c0) = shapes
    return c == c0 and h - h0 == w - w0 > 0 and (h - h0) % 2 == 0


def raise_hint(function: str, text: str) -> str:
    """What a convolution function's exception suggests: float(b) of the (1, 1, 1) b, a size left None or an output
    size that is a float, the course's da_prev_pad[pad:-pad] (empty at pad 0), da_prev_pad put into dA_prev with its
    padding, a slice smaller than its window."""
    if "only 0-dimensional arrays can be converted to Python scalars" in text:
        return (
            "float() of a (1, 1, 1) array, b or a sum with b (float(np.sum(...) + b)): NumPy 2 converts only "
            "0-dimensional arrays; b.item() is b's number"
        )
    if "cannot be interpreted as an integer" in text:
        size = POOL_SIZE if function.startswith("pool") else SIZE
        if "'NoneType'" in text:  # range(None): whichever size an exercise's `= None` left, m as well as n_H
            return (
                f"a size a loop's range() reads is left None (m, n_H, n_W or n_C: an exercise's `= None`): n_H = {size}"
            )
        return f"n_H or n_W is a float: n_H = {size}"
    if function == "conv_backward" and "from shape (0,0," in text:
        return (
            "da_prev_pad[pad:-pad, pad:-pad, :] is empty when pad is 0: take "
            "da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]"
        )
    shapes = [tuple(int(n) for n in found.split(",") if n) for found in re.findall(r"\(([\d,]+)\)", text)]
    if function == "conv_backward" and _padded_into_unpadded(shapes):
        return (
            "dA_prev takes da_prev_pad whole, its padding with it: strip it, "
            "dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]"
        )
    if "broadcast" in text and any(len(a) == 4 and a[:3] == b for a in shapes for b in shapes):
        return (
            "an (f, f, n_C_prev, n_C) array, all the filters, where one filter's (f, f, n_C_prev) is meant: index "
            "its last axis with the channel c (W[:, :, :, c], b[:, :, :, c], dW[:, :, :, c])"
        )
    if "broadcast" in text:
        return (
            "a slice is smaller than its window: vert_end = vert_start + f, vert_start = h * stride, slices of the "
            f"padded input, and the output size n_H = {SIZE} (a larger one runs past the input)"
        )
    return ""
