"""The data-only encoding of what crosses between the judge and the process that runs the learner's code.

A value crosses as a JSON tree (None, booleans, numbers, strings, and tagged lists) and one blob of bytes that
holds its arrays' contents; nothing is ever unpickled. Tags:

    {"l": [...]} a list, {"t": [...]} a tuple, {"e": [...]} a set, {"f": [...]} a frozenset,
    {"d": [[key, value], ...]} a dict, {"g": [start, stop, step]} a range,
    {"a": [dtype, shape, offset]} an ndarray of numbers, booleans or fixed-width strings, its bytes in the blob,
    {"s": [dtype, offset]} a NumPy scalar, {"o": [shape, [items]]} an ndarray of objects (its items each encoded),
    {"c": [real, imag]} a complex, {"b": [offset, length]} bytes,
    {"h": [id, type name]} an object of the sender's, which the receiver may only call (a function, a stand-in),
    {"r": id} an object of the receiver's own, handed back,
    {"a": [dtype, shape, offset, token]} an ndarray as "a" that the receiver keeps as `token` (kept.py),
    {"k": token} a copy of the ndarray the receiver keeps as `token`, {"y": token} of the one it sent as `token`,
    {"p": index} in a reply, the receiver's own ndarray: the index-th array of the call replied to, as the callee
    left it.

Anything else the sender has (a function, a module, a class instance) crosses as a handle ("h"): the receiver
gets a proxy (peer.Remote) whose calls go back to the sender. Decoding checks every tag, dtype, shape and offset
and raises WireError on anything else: a hostile sender can describe only data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .kept import Kept

KINDS = frozenset("biufcUS")  # the dtype kinds that cross: booleans, integers, floats, complex, strings
ALIGN = 64  # each array's offset in the blob: aligned for any dtype (and a cache line)
DEPTH = 64  # nesting deeper than this is refused (a list that contains itself)
MAX_BYTES = 2**31  # the largest message either side accepts
KEEP_FROM = 1 << 16  # the smallest array kept (kept.py): below this, sending it again costs less than comparing


CONTAINERS: dict[type, str] = {list: "l", tuple: "t", set: "e", frozenset: "f"}


class WireError(Exception):
    """A message that is not the data-only encoding (malformed, too deep, too large)."""


class Encoder:
    """One message's encoding: `tree(value)` gives its JSON tree and adds its arrays' bytes to `chunks` (views of
    the arrays themselves where they are contiguous, each at an offset aligned for any dtype).

    `handle(value)` names an object that does not cross as data: [id, type name], or {"r": id} for a proxy of
    the receiver's own (peer.Peer provides it). With `kept`, a large array the receiver has crosses as its
    token, and one it has not is kept; `replying` maps the id of each array of the call a reply answers, which
    the callee left as it was handed, to its index in that call. `arrays` lists the arrays encoded, in order;
    `owners` the array whose bytes each chunk is, by the chunk's index."""

    def __init__(self, handle: Callable[[Any], Any], kept: Kept | None = None, replying: dict[int, int] | None = None):
        self.handle = handle
        self.chunks: list[memoryview] = []
        self.size = 0
        self.arrays: list[np.ndarray] = []
        self.owners: dict[int, np.ndarray] = {}
        self._kept = kept
        self._replying = replying or {}

    def tree(self, value: Any, depth: int = 0) -> Any:
        if depth > DEPTH:
            raise WireError(f"a value nested more than {DEPTH} deep")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and type(value) in (int, float):
            return value
        if isinstance(value, np.ndarray):
            return self._array(value, depth)
        if isinstance(value, np.generic) and value.dtype.kind in KINDS:
            return {"s": [value.dtype.str, self._bytes(np.asarray(value).tobytes())]}
        if isinstance(value, complex) and type(value) is complex:
            return {"c": [value.real, value.imag]}
        if isinstance(value, bytes) and type(value) is bytes:
            return {"b": [self._bytes(value), len(value)]}
        if type(value) is range:
            return {"g": [value.start, value.stop, value.step]}
        kind = CONTAINERS.get(type(value))
        if kind is not None:
            return {kind: [self.tree(item, depth + 1) for item in value]}
        if isinstance(value, dict) and type(value).__repr__ is dict.__repr__:  # dict, OrderedDict, defaultdict
            return {"d": [[self.tree(k, depth + 1), self.tree(v, depth + 1)] for k, v in value.items()]}
        named = self.handle(value)
        return named if isinstance(named, dict) else {"h": named}

    def _array(self, value: np.ndarray, depth: int) -> Any:
        if value.dtype.kind in KINDS:
            self.arrays.append(value)
            if id(value) in self._replying:
                return {"p": self._replying[id(value)]}
            token = None
            if self._kept is not None and value.nbytes >= KEEP_FROM:
                found = self._kept.find(value)
                if found is not None:
                    return found
                token = self._kept.sent.keep(value)
            data = np.ascontiguousarray(value).reshape(-1).view(np.uint8)  # a view, unless it was not contiguous
            described = [value.dtype.str, list(value.shape), self._bytes(data)]
            self.owners[len(self.chunks) - 1] = value
            return {"a": described if token is None else [*described, token]}
        if value.dtype == object:
            return {"o": [list(value.shape), [self.tree(item, depth + 1) for item in value.ravel()]]}
        named = self.handle(value)  # a structured or datetime array: the receiver may only call it, as any object
        return named if isinstance(named, dict) else {"h": named}

    def _bytes(self, data: Any) -> int:  # bytes, or an ndarray of uint8
        padding = -self.size % ALIGN
        if padding:
            self.chunks.append(memoryview(bytes(padding)))
            self.size += padding
        offset = self.size
        view = memoryview(data)
        self.chunks.append(view)
        self.size += view.nbytes
        return offset

    def blob(self) -> bytes:
        """The chunks as one bytes object (a copy)."""
        return b"".join(self.chunks)


class Decoder:
    """One message's decoding: `value(tree)` rebuilds what the tree and `blob` describe; `handle(tag, content)`
    turns "h" and "r" into a proxy or the receiver's own object (peer.Peer provides it). `kept` holds the arrays
    the sender asked this side to keep; `replying`, set on a reply, the arrays of the call it answers. `arrays`
    lists the arrays decoded, in order; `pristine` the kept array each one decoded from a token is a copy of."""

    def __init__(self, blob: bytes | bytearray, handle: Callable[[str, Any], Any], kept: Kept | None = None):
        self.blob = memoryview(blob)
        self.handle = handle
        self.kept = kept
        self.replying: list[np.ndarray] | None = None
        self.arrays: list[np.ndarray] = []
        self.pristine: dict[int, np.ndarray] = {}

    def value(self, tree: Any, depth: int = 0) -> Any:
        if depth > DEPTH:
            raise WireError(f"a value nested more than {DEPTH} deep")
        if tree is None or isinstance(tree, (bool, int, float, str)):
            return tree
        if not isinstance(tree, dict) or len(tree) != 1:
            raise WireError(f"not an encoded value: {type(tree).__name__}")
        ((tag, content),) = tree.items()
        if tag in ("l", "t", "e", "f"):
            items = [self.value(item, depth + 1) for item in _list(content)]
            return {"l": list, "t": tuple, "e": set, "f": frozenset}[tag](map(_key, items) if tag in "ef" else items)
        if tag == "g":
            start, stop, step = (_integer(part) for part in _list(content, 3))
            if step == 0:
                raise WireError("a range of step 0")
            return range(start, stop, step)
        if tag == "d":
            pairs = [_list(pair, 2) for pair in _list(content)]
            return {_key(self.value(k, depth + 1)): self.value(v, depth + 1) for k, v in pairs}
        if tag in ("a", "k", "y", "p"):
            array = self._kept_array(content) if tag == "a" else self._known(tag, content)
            self.arrays.append(array)
            return array
        if tag == "s":
            dtype, offset = _list(content, 2)
            return self._array(_dtype(dtype), (), offset)[()]
        if tag == "o":
            shape, items = _list(content, 2)
            out = np.empty(_shape(shape), dtype=object)
            cells = out.reshape(-1)  # a view: out is new and contiguous
            for i, item in enumerate(_list(items, out.size)):
                cells[i] = self.value(item, depth + 1)
            return out
        if tag == "c":
            real, imag = (_number(part) for part in _list(content, 2))
            return complex(real, imag)
        if tag == "b":
            offset, length = _list(content, 2)
            return bytes(self._slice(offset, _count(length)))
        if tag in ("h", "r"):
            return self.handle(tag, content)
        raise WireError(f"unknown tag {tag!r}")

    def _kept_array(self, content: Any) -> np.ndarray:
        """An "a": kept too, where it carries a token."""
        if isinstance(content, list) and len(content) == 4 and self.kept is not None:
            *content, token = content
            array = self._array(_dtype(content[0]), _shape(content[1]), content[2])
            self.kept.received.keep(token, array)
            return array
        dtype, shape, offset = _list(content, 3)
        return self._array(_dtype(dtype), _shape(shape), offset)

    def _known(self, tag: str, content: Any) -> np.ndarray:
        """A "k" or "y" (a copy of a kept array) or a "p" (an array of the call replied to)."""
        if tag in ("k", "y"):
            if self.kept is None:
                raise WireError("a token where nothing is kept")
            kept = self.kept.received.get(content) if tag == "k" else self.kept.sent.get(content)
            array = kept.copy()  # the callee's own to change
            self.pristine[id(array)] = kept
            return array
        if self.replying is None or type(content) is not int or not 0 <= content < len(self.replying):
            raise WireError("an array of a call that is not the one replied to")
        return self.replying[content]

    def _array(self, dtype: np.dtype, shape: tuple[int, ...], offset: Any) -> np.ndarray:
        """A view into the message's blob: writable where the blob is (a bytearray), each array its own bytes."""
        count = math.prod(shape)
        data = self._slice(offset, count * dtype.itemsize)
        return np.frombuffer(data, dtype=dtype, count=count).reshape(shape)

    def _slice(self, offset: Any, length: int) -> memoryview:
        start = _count(offset)
        if start + length > len(self.blob):
            raise WireError("an array reaches past the message's bytes")
        return self.blob[start : start + length]


def dumps(tree: Any) -> bytes:
    return json.dumps(tree, separators=(",", ":")).encode()


def loads(data: bytes | bytearray) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as error:
        raise WireError(f"not JSON ({error.__class__.__name__})") from None


def _list(value: Any, length: int | None = None) -> list:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        raise WireError("a malformed list")
    return value


def _count(value: Any) -> int:
    if type(value) is not int or value < 0 or value > MAX_BYTES:
        raise WireError("a malformed count")
    return value


def _integer(value: Any) -> int:
    if type(value) is not int:
        raise WireError("a malformed integer")
    return value


def _number(value: Any) -> float:
    if type(value) not in (int, float):
        raise WireError("a malformed number")
    return float(value)


def _shape(value: Any) -> tuple[int, ...]:
    shape = tuple(_count(n) for n in _list(value))
    if len(shape) > 32:
        raise WireError("an array of more than 32 dimensions")
    return shape


def _dtype(value: Any) -> np.dtype:
    if not isinstance(value, str) or len(value) > 8:
        raise WireError("a malformed dtype")
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise WireError(f"an unknown dtype {value!r}") from None
    if dtype.kind not in KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise WireError(f"a dtype that is not data: {value!r}")
    return dtype


def _key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        raise WireError(f"a dict key that cannot be one: {type(value).__name__}") from None
    return value


__all__ = ["MAX_BYTES", "Decoder", "Encoder", "WireError", "dumps", "loads"]
