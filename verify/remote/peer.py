"""Calls either way between two processes over a pair of pipes, every value in wire.py's data-only encoding.

Each side exports objects (the learner's functions on one side, the judge's stand-ins on the other) and calls the
other's through proxies (Remote). A call made while another is waiting is answered in turn, so a learner's loop in
one process can call a stand-in in the other that calls the learner's function back. Each call carries what a
call in one process would share: NumPy's global random state (both ways) and its floating-point error settings;
and, after it, the arguments the callee changed in place are written back into the caller's. An exception crosses
as its type's name, message, arguments and traceback lines; one that crossed and comes back is the original.
"""

from __future__ import annotations

import builtins
import os
import struct
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import MissingPackageError, UsageError
from . import wire
from .inplace import held, still, write_back
from .kept import Kept

HEADER = struct.Struct("<QQ")  # the JSON's length, the blob's length
SMALL = 1 << 16  # a message up to this many bytes of arrays goes in one write, is read in 64 KiB reads
KEPT_ERRORS = 64  # exceptions sent that may still come back


class Lost(UsageError):
    """The other process is gone, or broke the protocol: the run cannot go on (one line, exit 2)."""


class Remote:
    """An object of the other process's: calling it calls it there, and a public attribute is a method of it
    called there."""

    def __init__(self, peer: Peer, ident: int) -> None:
        self.__dict__.update(_peer=peer, _ident=ident)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._peer.call(self._ident, None, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self._peer.call(self._ident, name, args, kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} in another process>"


_KINDS: dict[str, type] = {}  # the other side's type names -> their Remote subclasses
_EXCEPTIONS: dict[tuple[str, str], type[BaseException]] = {}  # (module, name) -> the exception class made for it


def _remote_kind(name: str) -> type:
    """A Remote subclass named as the other side's type, so that a message about it names that type."""
    name = name if name.isidentifier() and len(name) <= 64 else "object"
    if name not in _KINDS:
        _KINDS[name] = type(name, (Remote,), {})
    return _KINDS[name]


class Peer:
    """This side of the channel: its exported objects, its calls to the other side, its answers to the other's."""

    def __init__(self, reading: int, writing: int, lost: Callable[[str], str] = lambda why: why) -> None:
        self._in, self._out = reading, writing
        self._describe_loss = lost  # turns "it ended" into the run's line (the process's exit status, say)
        self._exports: dict[int, Any] = {}
        self._idents: dict[int, int] = {}  # id(object) -> its ident
        self._sent: dict[int, BaseException] = {}  # exceptions this side raised into the other, by token
        self.lost: str | None = None
        self._pending = bytearray()  # bytes read beyond the last message
        self._synced: tuple | None = None  # NumPy's random state as both sides last had it
        self._kept = Kept()  # the large arrays sent and received, kept (kept.py)
        self._forgetting: Any = []  # what the last message asked this side to forget, once it is decoded

    # ---------------------------------------------------------------- calling the other side

    def call(self, ident: int, attr: str | None, args: tuple, kwargs: dict) -> Any:
        """What the other side's object `ident` (its method `attr`) returns for args and kwargs."""
        try:
            arrays = self._send(
                {"op": "call", "to": ident, "attr": attr, "args": args, "kwargs": kwargs, "rng": self._rng()}
            )
            returned, raised = self._reply(args, kwargs, arrays)
        except (Lost, wire.WireError):
            raise
        except BaseException:  # an interrupt (a signal's handler) while a reply was due: the channel is out of step
            self.lost = self.lost or "it was left in the middle of a call by an interrupt"
            raise
        if raised is not None:
            raise raised
        return returned

    def _reply(self, args: tuple, kwargs: dict, arrays: list) -> tuple[Any, BaseException | None]:
        """The reply to this side's call (whose `arrays` a reply may hand back as they were): (its value, None),
        or (None, the exception raised); the other side's calls made meanwhile answered."""
        while True:
            message, decoder = self._receive()
            if message.get("op") == "call":
                self._answer(message, decoder)
                continue
            self._take_rng(message, decoder)
            if message.get("op") == "return":
                decoder.replying = arrays
                write_back(args, kwargs, self._decoded(decoder, message.get("back")))
                return self._decoded(decoder, message.get("value")), None
            if message.get("op") == "raise":
                return None, self._rebuilt(message.get("error"), decoder)
            raise self._loss(f"it sent {message.get('op')!r} where a reply was due")

    def serve(self) -> None:
        """Answer the other side's calls until it closes the channel."""
        while True:
            message, decoder = self._receive()
            if message.get("op") != "call":
                raise self._loss(f"it sent {message.get('op')!r} where a call was due")
            self._answer(message, decoder)

    # ---------------------------------------------------------------- answering it

    def export(self, value: Any) -> int:
        ident = self._idents.get(id(value))
        if ident is None or self._exports.get(ident) is not value:
            ident = len(self._exports) + 1
            self._exports[ident], self._idents[id(value)] = value, ident
        return ident

    def _answer(self, message: dict, decoder: wire.Decoder) -> None:
        try:
            function = self._target(message)
            args, kwargs = self._decoded(decoder, message.get("args")), self._decoded(decoder, message.get("kwargs"))
            if not isinstance(args, tuple) or not isinstance(kwargs, dict) or not all(map(_is_name, kwargs)):
                raise wire.WireError("a call's arguments are not a tuple and a dict of names")
            self._take_rng(message, decoder)  # after the arguments: their arrays are the first the decoder lists
            errors = message.get("errors") or {}
            before = [held(value, decoder.pristine) for value in (*args, *kwargs.values())]
            with np.errstate(**{k: v for k, v in errors.items() if k in ("divide", "over", "under", "invalid")}):
                result = function(*args, **kwargs)
        except Lost:
            raise
        except wire.WireError as error:
            raise self._loss(f"it sent a malformed call ({error})") from None
        except BaseException as error:  # the callee's exception is the caller's to handle, as in one process
            self._send({"op": "raise", "error": self._error(error), "rng": self._rng()})
            return
        after = [still(value, old) for value, old in zip((*args, *kwargs.values()), before)]
        back = [value if arrays is None else None for value, arrays in zip((*args, *kwargs.values()), after)]
        unchanged = {id(array) for arrays in after if arrays for array in arrays}
        replying = {id(array): i for i, array in enumerate(decoder.arrays) if id(array) in unchanged}
        try:
            self._send({"op": "return", "value": result, "back": back, "rng": self._rng()}, replying)
        except wire.WireError as error:
            self._send({"op": "raise", "error": self._error(TypeError(f"returned {error}")), "rng": self._rng()})

    def _target(self, message: dict) -> Callable:
        target = self._exports.get(message.get("to"))  # type: ignore[arg-type]
        attr = message.get("attr")
        if target is None or not (attr is None or (_is_name(attr) and not attr.startswith("_"))):
            raise wire.WireError("a call of nothing this side exported")
        return target if attr is None else getattr(target, attr)

    def _error(self, error: BaseException) -> dict:
        token = id(error)
        self._sent[token] = error
        while len(self._sent) > KEPT_ERRORS:
            self._sent.pop(next(iter(self._sent)))
        frames = getattr(error, "remote_frames", None) or traceback.extract_tb(error.__traceback__)
        return {
            "type": type(error).__name__,
            "module": type(error).__module__,
            "message": str(error)[:4000],
            "args": [a if a is None or isinstance(a, (str, int, float)) else str(a) for a in error.args],
            "name": getattr(error, "name", None) if isinstance(getattr(error, "name", None), str) else None,
            "frames": [[f.filename, f.lineno, f.name, f.line or ""] for f in frames],
            "token": token,
            "yours": getattr(error, "remote_token", None),
        }

    def _rebuilt(self, info: Any, decoder: wire.Decoder) -> BaseException:
        """The exception the other side sent: the original where it is one of this side's coming back."""
        if not isinstance(info, dict):
            return self._loss("it sent a malformed exception")
        original = self._sent.pop(info.get("yours"), None)  # type: ignore[arg-type]
        if original is not None:
            return original
        kind = _exception_class(str(info.get("module")), str(info.get("type")))
        try:
            error = kind.__new__(kind)
        except TypeError:  # a class whose __new__ wants its arguments
            kind = _exception_class("", str(info.get("type")))
            error = kind.__new__(kind)
        args = info.get("args")
        error.args = tuple(args) if isinstance(args, list) else (str(info.get("message")),)
        if isinstance(error, SystemExit):
            error.code = error.args[0] if len(error.args) == 1 else (error.args or None)  # type: ignore[assignment]
        if isinstance(info.get("name"), str) and isinstance(error, (NameError, AttributeError, ImportError)):
            error.name = info["name"]
        frames = info["frames"] if isinstance(info.get("frames"), list) else []
        error.remote_frames = [  # type: ignore[attr-defined]
            traceback.FrameSummary(str(f[0]), int(f[1]), str(f[2]), line=str(f[3]))
            for f in frames
            if isinstance(f, list) and len(f) == 4 and type(f[1]) is int
        ]
        error.remote_token = info.get("token")  # type: ignore[attr-defined]
        return error

    # ---------------------------------------------------------------- the messages

    def _send(self, message: dict, replying: dict[int, int] | None = None) -> list[np.ndarray]:
        """`message` sent, its values encoded (an array of the call it replies to, by id in `replying`, as its
        index there); the arrays encoded, in order."""
        self._settle()
        encoder = wire.Encoder(self._handle, self._kept, replying)
        try:
            tree = {
                k: encoder.tree(v) if k in ("args", "kwargs", "value", "back", "rng") else v for k, v in message.items()
            }
        except BaseException:
            self._kept.sent.abandon()
            raise
        forgotten = self._kept.sent.commit()
        if forgotten:
            tree["drop"] = forgotten
        if message.get("op") == "call":
            tree["errors"] = np.geterr()
        body = wire.dumps(tree)
        head = HEADER.pack(len(body), encoder.size) + body
        small = encoder.size <= SMALL
        parts = [head + b"".join(encoder.chunks)] if small else [head, *encoder.chunks]  # one write, where small
        try:
            for part in parts:
                view = memoryview(part).cast("B")  # type: ignore[arg-type]
                while view:
                    view = view[os.write(self._out, view) :]
        except OSError as error:
            raise self._loss(f"its channel closed ({error.strerror})") from None
        return encoder.arrays

    def _settle(self) -> None:
        """Before this side sends or receives: the channel is open, and the last message received is decoded,
        so what it asked this side to forget is forgotten."""
        if self.lost is not None:
            raise Lost(self.lost)
        forgetting, self._forgetting = self._forgetting, []
        try:
            self._kept.received.forget(forgetting)
        except wire.WireError as error:
            raise self._loss(f"it sent a malformed message ({error})") from None

    def _receive(self) -> tuple[dict, wire.Decoder]:
        self._settle()
        body_length, blob_length = HEADER.unpack(self._read(HEADER.size))
        if body_length + blob_length > wire.MAX_BYTES:
            raise self._loss(f"it sent a message of {(body_length + blob_length) / 2**20:.0f} MiB")
        try:
            message = wire.loads(self._read(body_length))
        except wire.WireError as error:
            raise self._loss(f"it sent a malformed message ({error})") from None
        if not isinstance(message, dict):
            raise self._loss("it sent a malformed message")
        self._forgetting = message.get("drop", [])
        return message, wire.Decoder(self._read(blob_length), self._handled, self._kept)

    def _read(self, length: int) -> bytearray:
        """`length` bytes: what a read took beyond the last message first, reads of up to 64 KiB for a small
        message (a header, its JSON and a blob often come in one), straight into place for a large one."""
        if length <= len(self._pending):
            data = self._pending[:length]
            del self._pending[:length]
            return data
        if length <= SMALL:
            while len(self._pending) < length:
                self._pending += self._chunk(SMALL)
            return self._read(length)
        data = bytearray(length)
        data[: len(self._pending)] = self._pending
        view, done = memoryview(data), len(self._pending)
        self._pending = bytearray()
        while done < length:
            try:
                count = os.readv(self._in, [view[done:]])
            except OSError as error:
                raise self._loss(f"its channel closed ({error.strerror})") from None
            if not count:
                raise self._loss("it ended")
            done += count
        return data

    def _chunk(self, most: int) -> bytes:
        try:
            chunk = os.read(self._in, most)
        except OSError as error:
            raise self._loss(f"its channel closed ({error.strerror})") from None
        if not chunk:
            raise self._loss("it ended")
        return chunk

    def _decoded(self, decoder: wire.Decoder, tree: Any) -> Any:
        try:
            return decoder.value(tree)
        except wire.WireError as error:
            raise self._loss(f"it sent a malformed value ({error})") from None

    def _rng(self) -> tuple | None:
        """NumPy's global random state, to send: None where it is the one both sides last had."""
        state: tuple = np.random.get_state(legacy=True)  # type: ignore[assignment]
        if self._synced is not None and _same_state(state, self._synced):
            return None
        self._synced = state
        return state

    def _take_rng(self, message: dict, decoder: wire.Decoder) -> None:
        state = self._decoded(decoder, message.get("rng"))
        if state is None:  # unchanged since both sides last had it
            return
        try:
            np.random.set_state(state)
        except (TypeError, ValueError):
            raise self._loss("it sent a malformed random state") from None
        self._synced = state

    def _handle(self, value: Any) -> Any:
        if isinstance(value, Remote) and value._peer is self:
            return {"r": value._ident}
        return [self.export(value), type(value).__name__]

    def _handled(self, tag: str, content: Any) -> Any:
        if tag == "r":
            if content not in self._exports:
                raise wire.WireError("a handle of nothing this side exported")
            return self._exports[content]
        if not (isinstance(content, list) and len(content) == 2 and type(content[0]) is int):
            raise wire.WireError("a malformed handle")
        return _remote_kind(str(content[1]))(self, content[0])

    def _loss(self, why: str) -> Lost:
        if self.lost is None:
            self.lost = self._describe_loss(why)
        return Lost(self.lost)


def _same_state(a: tuple, b: tuple) -> bool:
    return a[2:] == b[2:] and np.array_equal(a[1], b[1])


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value.isidentifier()


def _exception_class(module: str, name: str) -> type[BaseException]:
    """The exception class the other side raised: Python's own, the verifier's missing library, else one made
    with its name (so that a message names it as the learner's code raised it)."""
    if module == "builtins":
        found = getattr(builtins, name, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
    for own in (MissingPackageError, UsageError):  # the loader's: a library not installed, a file it cannot load
        if name == own.__name__ and module == own.__module__:
            return own
    made = _EXCEPTIONS.get((module, name))
    if made is None:
        made = type(name if name.isidentifier() else "Exception", (Exception,), {"__module__": module[:200]})
        _EXCEPTIONS[(module, name)] = made
    return made


__all__ = ["Lost", "Peer", "Remote"]
