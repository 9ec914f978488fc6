"""What an adapter needs to call the implementation's functions and read what they return: copies of every
array handed (and which the function wrote into), its signature (what it binds, its parameters' names), and a
returned value described in a message (its type, its shape, an array of Python objects, a layer index off)."""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ..signatures import signature_of


def _first_layer(key: str) -> bool:
    """Whether a gradient's key is layer 1's backward's: dW1, db1, and dA0, the gradient it passes back."""
    name = key.rstrip("0123456789")
    return key[len(name) :] == ("0" if name == "dA" else "1")


def _other_layers(key: str, value, grads: dict, expected: dict) -> str:
    """Where a gradient has another layer's shape and its dict a key of no layer (dW0, or dW{L+1}): each layer's
    gradient stored one index off, said with the layer it belongs to. "" otherwise."""
    kind = key.rstrip("0123456789")
    layers = [int(k[len(kind) :]) for k in expected if k.rstrip("0123456789") == kind]
    stray = sorted(
        k for k in grads if isinstance(k, str) and k.rstrip("0123456789") == kind and k != kind and k not in expected
    )
    if not isinstance(value, np.ndarray) or not stray or not layers:
        return ""
    owners = [l for l in layers if expected[f"{kind}{l}"] == value.shape]
    if len(owners) != 1:
        return ""
    return (
        f": it has {kind}{owners[0]}'s shape, and the gradients include {', '.join(stray)}, which no layer has: "
        f"each layer's gradient is stored under another layer's number (a layer index off by one)"
    )


def object_array_message(value) -> str | None:
    """What is wrong where `value` (nested dicts, lists, tuples) holds an ndarray of dtype object, which NumPy
    cannot compute with; None where it holds none. One holding only None is named as such: np.squeeze(None), the
    course's last line of compute_cost on an exercise's `cost = None` placeholder, is array(None, dtype=object)."""
    found = _object_array(value)
    if found is None:
        return None
    where, array = found
    if array.size and all(item is None for item in array.flat):
        return (
            f"it returned None inside an array{where} (np.squeeze(None) is array(None, dtype=object)): a value "
            "still None, as an exercise's `= None` placeholder leaves it"
        )
    return (
        f"it returned an array of dtype object{where}: an array of Python objects, not numbers (np.array of a list "
        "of arrays, or dtype=object); return float arrays"
    )


def _object_array(value, where: str = "", depth: int = 0) -> tuple[str, np.ndarray] | None:
    """Where in `value` (nested dicts, lists, tuples) an ndarray of dtype object is, ' (as ["dW1"])' ('' for the
    value itself), and that array; None when there is none."""
    if isinstance(value, np.ndarray):
        return ((f" (as {where})" if where else ""), value) if value.dtype == object else None
    if depth > 4:
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _object_array(item, f"{where}[{key!r}]", depth + 1)
        if found is not None:
            return found
    return None


class Lent:
    """A value handed to the implementation as it is, not copied: one the verifier reads no more once the call is
    made (see Adapter.gradients_for_update)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _copy(value, private: dict):
    """A copy of every array in value (nested dicts, lists and tuples), or its copy in `private`
    (see _hand_once); a Lent value and any other values as they are."""
    if isinstance(value, Lent):
        return value.value
    if isinstance(value, np.ndarray):
        own = private.get(id(value))
        return own[1] if own is not None and own[0] is value else value.copy()
    if isinstance(value, dict):
        return {k: _copy(v, private) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v, private) for v in value)
    return value


def _changed(original, copy) -> list[str] | None:
    """None when copy still equals original; else the keys (or positions) that changed, possibly none named."""
    if isinstance(original, np.ndarray):
        same = (
            isinstance(copy, np.ndarray)
            and copy.shape == original.shape
            and copy.dtype == original.dtype
            and (np.array_equal(copy, original) or np.array_equal(copy, original, equal_nan=True))
        )
        return None if same else []
    if isinstance(original, dict):
        if not isinstance(copy, dict):
            return []
        keys = [str(k) for k in original if k not in copy or _changed(original[k], copy[k]) is not None]
        keys += [str(k) for k in copy if k not in original]
        return keys or None
    if isinstance(original, (list, tuple)):
        if not isinstance(copy, type(original)) or len(copy) != len(original):
            return []
        positions = [str(i) for i, (a, b) in enumerate(zip(original, copy)) if _changed(a, b) is not None]
        return positions or None
    return None


def _parameter_names(function, n: int) -> list[str]:
    try:
        names = [p.name for p in signature_of(function).parameters.values()]
    except (TypeError, ValueError):
        names = []
    return (names + [f"argument {i + 1}" for i in range(len(names), n)])[:n]


def _binds(function, n: int) -> bool:
    """Whether function can be called with n positional arguments."""
    try:
        signature_of(function).bind(*range(n))
        return True
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): assume it can
        return True


def _accepts(function, name: str) -> bool:
    try:
        return name in signature_of(function).parameters
    except (TypeError, ValueError):
        return False


def _require(ok: bool, function: str, message: str) -> None:
    if not ok:
        raise UsageError(f"{function}: {message}")


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if value is None:
        return "nothing (None)"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def _innermost(error: BaseException) -> str:
    """The name of the function whose frame raised `error` (the innermost of its traceback), or ""."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame.tb_frame.f_code.co_name if frame is not None else ""
