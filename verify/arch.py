"""--arch's spelling: layer sizes (3,4,4,1), a registered layer kind's word among them (3,4,diag,1), or a conv
network from its input's size to its dense layers (8x8x3,conv4f3p1,max2,flatten,8,1), parsed into the network's
sizes n[0..L] and each layer's kind word (layers.py, spatial.py)."""

from __future__ import annotations

import math

from . import spatial
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
    sizes: list[int] = [math.prod(shape)] if shape else []
    kinds: list[str] = []
    for item in items[1:] if shape else items:
        if shape is not None:
            shape = _spatial_item(text, item, shape, sizes, kinds)
            continue
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
