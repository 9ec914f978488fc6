"""Large arrays that cross once: what one side sent of KEEP_FROM bytes or more, both sides keep, so that the same
bytes sent again, either way, cross as a token.

The checks hand the learner's functions the same data call after call (the week-4 application's 12288 x 209
images, a network's weights through each layer's checks), and hand back what those functions returned (the
gradients a watched loop's step gets); without this each call carried them through the pipe again. The sender
keeps a copy of what it sent (Sent), the receiver its own copy (Received), and before sending an array a side
compares its bytes with both: where one is equal, only its token crosses ("k": one the receiver keeps; "y": one
the receiver sent). A token gives a fresh copy, so that nothing the code a side calls does to an array it was
handed changes what is kept. The sender decides what is forgotten, oldest use first, and says so in its
message; the receiver refuses to keep more than KEPT_BYTES once it forgets it.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

from .wire import KEEP_FROM, WireError

KEPT_BYTES = 64 << 20  # what each side keeps of what it sent (the other side the same)
COMPARED = 8  # the most kept arrays of an array's dtype and shape its bytes are compared with
FIRST = 1 << 10  # bytes compared first: two different arrays usually differ in them
PIECE = 1 << 20  # bytes compared at a time after those


class Kept:
    """One side's arrays kept: those it sent and those it received."""

    def __init__(self) -> None:
        self.sent, self.received = Sent(), Received()

    def find(self, array: np.ndarray) -> dict | None:
        """`array` as a token the other side has ({"k": token} or {"y": token}), where its bytes are kept."""
        token = self.sent.find(array)
        if token is not None:
            return {"k": token}
        token = _found(self.received.copies, array)
        return None if token is None else {"y": token}


class Sent:
    """The sender's copies of what the receiver keeps, by token, least recently used first."""

    def __init__(self) -> None:
        self._copies: OrderedDict[int, np.ndarray] = OrderedDict()
        self._size = 0
        self._pending: list[tuple[int, np.ndarray]] = []  # kept by the message being encoded
        self._last = 0

    def find(self, array: np.ndarray) -> int | None:
        """The token of a kept array with `array`'s dtype, shape and bytes, or None. Only of those kept by messages
        already sent, never by the one being encoded: a message refers to nothing it carries itself, so its
        values decode in any order (a reply's "back" before its "value")."""
        token = _found(self._copies, array)
        if token is not None:
            self._copies.move_to_end(token)
        return token

    def get(self, token: Any) -> np.ndarray:
        """The array sent as `token` (the receiver sends it back): never changed, so handed out only as a copy."""
        copy = self._copies.get(token) if type(token) is int else None
        if copy is None:
            raise WireError("a token of nothing sent")
        self._copies.move_to_end(token)
        return copy

    def keep(self, array: np.ndarray) -> int | None:
        """A token for `array`, kept once the message that sends it is sent (commit), or None where it is too
        small or too large to keep."""
        if not KEEP_FROM <= array.nbytes <= KEPT_BYTES:
            return None
        self._last += 1
        self._pending.append((self._last, np.array(array, order="C", copy=True)))
        return self._last

    def commit(self) -> list[int]:
        """The message being encoded is sent: what it asked the receiver to keep is kept, and the tokens to
        forget (the oldest used, past KEPT_BYTES) returned, for the receiver to forget after it."""
        for token, copy in self._pending:
            self._copies[token] = copy
            self._size += copy.nbytes
        self._pending.clear()
        forgotten = []
        while self._size > KEPT_BYTES:
            token, copy = self._copies.popitem(last=False)
            self._size -= copy.nbytes
            forgotten.append(token)
        return forgotten

    def abandon(self) -> None:
        """The message being encoded is not sent (a value it cannot carry): what it would have kept is not."""
        self._pending.clear()


class Received:
    """The receiver's copies of what the sender asked it to keep."""

    def __init__(self) -> None:
        self.copies: dict[int, np.ndarray] = {}
        self._size = 0

    def keep(self, token: Any, array: np.ndarray) -> None:
        if type(token) is not int or token in self.copies:
            raise WireError("a malformed token to keep")
        self.copies[token] = copy = array.copy()
        self._size += copy.nbytes

    def get(self, token: Any) -> np.ndarray:
        """The array kept as `token`: never changed, so handed out only as a copy."""
        copy = self.copies.get(token) if type(token) is int else None
        if copy is None:
            raise WireError("a token of nothing kept")
        return copy

    def forget(self, tokens: Any) -> None:
        if not isinstance(tokens, list) or not all(type(token) is int for token in tokens):
            raise WireError("a malformed list of tokens to forget")
        for token in tokens:
            copy = self.copies.pop(token, None)
            if copy is not None:
                self._size -= copy.nbytes
        if self._size > KEPT_BYTES:
            raise WireError(f"it asked to keep more than {KEPT_BYTES >> 20} MiB")


def _found(copies: dict[int, np.ndarray], array: np.ndarray) -> int | None:
    """The token of the newest of `copies` with `array`'s dtype, shape and bytes (of the newest COMPARED of its
    dtype and shape), or None."""
    if array.nbytes < KEEP_FROM:
        return None
    tried = 0
    for token in reversed(copies):
        copy = copies[token]
        if copy.dtype != array.dtype or copy.shape != array.shape:
            continue
        if same_bytes(copy, array):
            return token
        tried += 1
        if tried == COMPARED:
            break
    return None


def same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays of one dtype and shape hold the same bytes (NaNs of the same bits are equal), a piece at
    a time, so that two different arrays are told apart quickly."""
    x, y = _words(a), _words(b)
    first, step = FIRST // x.itemsize, PIECE // x.itemsize
    starts = range(first, x.size, step)
    return np.array_equal(x[:first], y[:first]) and all(
        np.array_equal(x[i : i + step], y[i : i + step]) for i in starts
    )


def _words(array: np.ndarray) -> np.ndarray:
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return data.view(np.uint64) if data.size % 8 == 0 else data


__all__ = ["KEEP_FROM", "KEPT_BYTES", "Kept", "Received", "Sent", "same_bytes"]
