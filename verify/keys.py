"""The course's keys: a quantity's or parameter's name and its layer, as in "W1", "dW12", "db3"."""

from __future__ import annotations

from typing import NamedTuple


def split_key(key: str) -> tuple[str, int]:
    """ "dW12" -> ("dW", 12): the name, and the layer its trailing digits number."""
    name = key.rstrip("0123456789")
    if name == key or not name:
        raise ValueError(f"{key!r} is not a name followed by its layer's number")
    return name, int(key[len(name) :])


class Key(NamedTuple):
    """A scale's key: the quantity ("Z", "dW", "v_dW", "cost", ...) and its layer. Equal to the plain tuple."""

    quantity: str
    layer: int


class EntriesKey(NamedTuple):
    """The key of a gradient's per-entry scales (an array, for Adam): ("dW", l, "entries")."""

    quantity: str
    layer: int
    per: str = "entries"
