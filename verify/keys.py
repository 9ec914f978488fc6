"""The course's keys: a quantity's or parameter's name and its layer, as in "W1", "dW12", "db3"."""

from __future__ import annotations


def split_key(key: str) -> tuple[str, int]:
    """ "dW12" -> ("dW", 12): the name, and the layer its trailing digits number."""
    name = key.rstrip("0123456789")
    if name == key or not name:
        raise ValueError(f"{key!r} is not a name followed by its layer's number")
    return name, int(key[len(name) :])
