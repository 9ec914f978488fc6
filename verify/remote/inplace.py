"""What a call changed in the arguments it was handed: told in the callee's process (held before, still after),
written into the caller's own arguments in the caller's (write_back), as a call in one process changes them."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import wire
from .kept import KEEP_FROM, same_bytes

IMMUTABLE = (bool, int, float, complex, str, bytes)


class Held(NamedTuple):
    """What a value held before a call, as the wire would send it."""

    structure: bytes  # its JSON tree: containers, keys, dtypes, shapes and offsets, handles by the object's id
    small: bytes  # a copy of its chunks of bytes under KEEP_FROM, one after the other
    large: dict[int, np.ndarray]  # each larger chunk by its index: a copy, or the kept array it is a copy of


def held(value: Any, pristine: dict[int, np.ndarray]) -> Held | None:
    """What `value` holds before a call (an array handed as a copy of a kept one, by its id in `pristine`, as that
    kept array, not copied again); None for a value nothing can change in place, or one the wire cannot send."""
    if value is None or isinstance(value, IMMUTABLE):
        return None
    encoder = wire.Encoder(_by_id)
    try:
        structure = wire.dumps(encoder.tree(value))
    except wire.WireError:
        return None
    if encoder.size < KEEP_FROM:  # no chunk as large (the usual argument)
        return Held(structure, encoder.blob(), {})
    large = {}
    for i, chunk in enumerate(encoder.chunks):
        if chunk.nbytes >= KEEP_FROM:
            kept = pristine.get(id(encoder.owners.get(i)))
            large[i] = np.frombuffer(bytes(chunk), dtype=np.uint8) if kept is None else kept.reshape(-1).view(np.uint8)
    return Held(structure, _small(encoder.chunks), large)


def still(value: Any, before: Held | None) -> list[np.ndarray] | None:
    """The arrays `value` holds, where it holds what it held before the call (`before`, from held), else None."""
    if before is None:
        return []
    encoder = wire.Encoder(_by_id)
    try:
        structure = wire.dumps(encoder.tree(value))
    except wire.WireError:
        return None
    if structure != before.structure or _small(encoder.chunks) != before.small:
        return None
    for i, old in before.large.items():
        if not same_bytes(old, np.frombuffer(encoder.chunks[i], dtype=np.uint8)):
            return None
    return encoder.arrays


def _small(chunks: list[memoryview]) -> bytes:
    return b"".join(chunk for chunk in chunks if chunk.nbytes < KEEP_FROM)


def _by_id(value: Any) -> list:
    return [id(value), ""]


def write_back(args: tuple, kwargs: dict, back: Any) -> None:
    """The callee's changes to the arguments it was handed, written into the caller's own (in place, as a call
    in one process changes them)."""
    if not isinstance(back, list):
        return
    for original, changed in zip((*args, *kwargs.values()), back):
        if changed is not None:
            _sync(original, changed)


def _sync(original: Any, new: Any) -> None:
    if isinstance(original, np.ndarray):
        if isinstance(new, np.ndarray) and new.shape == original.shape and original.flags.writeable:
            np.copyto(original, new, casting="unsafe")
    elif isinstance(original, dict) and isinstance(new, dict):
        for key in [k for k in original if k not in new]:
            del original[key]
        for key, value in new.items():
            if key in original and _same_kind(original[key], value):
                _sync(original[key], value)
            else:
                original[key] = value
    elif isinstance(original, list) and isinstance(new, list):
        for i, value in enumerate(new[: len(original)]):
            if _same_kind(original[i], value):
                _sync(original[i], value)
            else:
                original[i] = value
        del original[len(new) :]
        original.extend(new[len(original) :])
    elif isinstance(original, tuple) and isinstance(new, tuple):
        for old, value in zip(original, new):
            _sync(old, value)


def _same_kind(old: Any, new: Any) -> bool:
    if isinstance(old, np.ndarray):
        return isinstance(new, np.ndarray) and old.shape == new.shape and old.dtype == new.dtype
    return (isinstance(old, dict) and isinstance(new, dict)) or (isinstance(old, list) and isinstance(new, list))


__all__ = ["held", "still", "write_back"]
