"""--arch's spelling: layer sizes (3,4,4,1), a registered layer kind's word among them (3,4,diag,1), a conv
network from its input's size to its dense layers (8x8x3,conv4f3p1,max2,flatten,8,1), or a recurrent one
(seq6x3,lstm5,1), parsed into the network's sizes n[0..L] and each layer's kind word (layers.py, spatial.py,
recurrent.py); and back (spelling)."""

from __future__ import annotations

import math

from . import recurrent, spatial
from .errors import UsageError
from .layers import DENSE, KINDS


def parse_network(text: str) -> tuple[tuple[int, ...], tuple[str, ...] | None]:
    """'3,4,4,1' -> ((3, 4, 4, 1), None); a registered layer kind's word (layers.py) stands for a layer of that
    kind, its size the kind's: '3,4,diag,1' -> ((3, 4, 4, 1), ("dense", "diag", "dense")); a conv network starts
    with its input's size (spatial.py): '8x8x3,conv4f3p1,max2,flatten,8,1' -> ((192, 256, 64, 8, 1),
    ("conv4f3s1p1@8x8x3", "max2s2@8x8x4", "dense", "dense"))."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip():
        raise UsageError("--arch is empty; give layer sizes like 3,4,4,1")
    if any(item == "" for item in items):
        raise UsageError(f"--arch {text!r} has an empty item; give layer sizes like 3,4,4,1")
    shape = spatial.image(items[0])  # the input's (n_H, n_W, n_C) while layers are images; None once flat
    steps = recurrent.sequence(items[0])  # the input's (T_x, n_x) while layers are recurrent
    sizes: list[int] = [math.prod(shape)] if shape else [math.prod(steps)] if steps else []
    kinds: list[str] = []
    for item in items[1:] if shape or steps else items:
        if shape is not None:
            shape = _spatial_item(text, item, shape, sizes, kinds)
            continue
        if steps is not None:
            steps = _recurrent_item(text, item, steps, sizes, kinds)
            if steps is not None:
                continue
        if recurrent.CELL.fullmatch(item):
            raise UsageError(f"--arch {text!r}: {item!r} needs a sequence before it; {recurrent.SPELLINGS}")
        if sizes and item in KINDS and item != DENSE.word:
            sizes.append(KINDS[item].output_size(sizes[-1]))
            kinds.append(item)
            continue
        if spatial.CONV.fullmatch(item) or spatial.POOL.fullmatch(item) or item == spatial.FLATTEN:
            raise UsageError(f"--arch {text!r}: {item!r} needs an image before it; {spatial.SPELLINGS}")
        if not (item.isascii() and item.lstrip("+-").isdigit()):
            raise UsageError(
                f"--arch {text!r}: {item!r} is not a whole number{_words(sizes)}; give layer sizes like 3,4,4,1"
            )
        if sizes:  # the first size is the input's, no layer
            kinds.append(DENSE.word)
        sizes.append(int(item))
    if shape is not None and kinds:
        raise UsageError(f"--arch {text!r} ends on an image: add flatten and the dense layers ({spatial.SPELLINGS})")
    if len(sizes) < 2:
        raise UsageError(f"--arch needs at least two sizes (inputs and outputs), got {text!r}")
    if any(n < 1 for n in sizes):
        raise UsageError(f"--arch {text!r}: every size must be at least 1")
    return tuple(sizes), None if all(word == DENSE.word for word in kinds) else tuple(kinds)


def _recurrent_item(text: str, item: str, steps: recurrent.Sequence, sizes: list[int], kinds: list[str]):
    """One item of a recurrent network's --arch while its layers are sequences: a recurrent layer appended (its
    output's (T_x, n_a) returned), or None once the dense sizes begin (the item is read as one of them)."""
    layer = recurrent.layer(item, steps)
    if layer is not None:
        sizes.append(layer.n_out)
        kinds.append(layer.word)
        return layer.out_shape
    if not kinds:
        raise UsageError(f"--arch {text!r}: {item!r} after a sequence input; {recurrent.SPELLINGS}")
    return None


def spelling(sizes: tuple[int, ...], words: tuple[str, ...]) -> str:
    """--arch's spelling of a network whose layers include conv, pool or recurrent ones:
    8x8x3,conv4f3s1p1,max2s2,flatten,8,1 or seq6x3,lstm5,1."""
    first = _shaped(words[0])
    if isinstance(first, recurrent.Recurrent):
        items = [f"seq{first.T_x}x{first.n_x}"]
    else:
        items = [str(sizes[0]) if first is None else "x".join(map(str, first.in_shape))]
    flat = not isinstance(first, spatial.Spatial)
    for l, word in enumerate(words, start=1):
        layer = _shaped(word)
        if layer is not None:
            items.append(layer.item)
            flat = not isinstance(layer, spatial.Spatial)
            continue
        if not flat:
            items.append(spatial.FLATTEN)
            flat = True
        items.append(str(sizes[l]) if word == "dense" else word)
    return ",".join(items)


def _shaped(word: str) -> spatial.Spatial | recurrent.Recurrent | None:
    return spatial.kind(word) or recurrent.kind(word)


def _words(sizes: list[int]) -> str:
    words = [word for word in KINDS if word != DENSE.word]
    return f" or a layer kind ({', '.join(words)}) after the input size" if words and sizes else ""


def _spatial_item(text: str, item: str, shape: spatial.Shape, sizes: list[int], kinds: list[str]):
    """One item of a conv network's --arch while its layers are images: a conv or pool layer appended (its output's
    shape returned), or flatten (None: dense sizes follow)."""
    if item == spatial.FLATTEN:
        if not kinds:
            raise UsageError(f"--arch {text!r}: flatten comes after a conv or pool layer ({spatial.SPELLINGS})")
        return None
    layer = spatial.layer(item, shape)
    if layer is None:
        hint = "put flatten before the dense layers" if item.isdigit() else spatial.SPELLINGS
        raise UsageError(f"--arch {text!r}: {item!r} is not a conv or pool layer here; {hint}")
    _check_ties(text, layer, kinds)
    sizes.append(layer.n_out)
    kinds.append(layer.word)
    return layer.out_shape


def _check_ties(text: str, layer: spatial.Spatial, kinds: list[str]) -> None:
    """UsageError for a max pool after a conv layer that pads by its filter size or more: that layer's outputs near
    the edge see the padding alone, Z = b in each, a constant region that later conv layers keep, so the pool's
    windows there tie on positive values by construction, and the course's mask (every tied maximum) and torch's
    pooling (one of them) send the training gradients themselves apart, not only dA."""
    if not (isinstance(layer, spatial.Pool) and layer.mode == "max"):
        return
    for before in map(spatial.kind, kinds):
        if isinstance(before, spatial.Conv) and before.window.pad >= before.window.f:
            f, pad = before.window.f, before.window.pad
            raise UsageError(
                f"--arch {text!r}: {before.item} pads by {pad} with {f} x {f} filters, so its outputs at the edge see "
                f"only padding (Z = b, all equal) and the max pool after it ties there by construction, where the "
                "course's mask and torch's pooling train differently; give a padding smaller than the filter size"
            )
