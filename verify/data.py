"""The data both sides train on: a seeded teacher dataset that fits any --arch, a named one, or a file.

Everything comes out in the course layout, X (n[0], m) and Y (n[L], m), checked against
the architecture and the loss before any work starts.
"""

from __future__ import annotations

import csv
import math
import os
import stat
import zipfile
from typing import NamedTuple

import numpy as np

import scratch

from . import recurrent, spatial
from .config import Config, arch_words
from .errors import UsageError
from .image_data import image_dataset

DEFAULT_EXAMPLES = 200


def load_data(config: Config):
    """(X, Y) for the run: config.data (auto, a named data set or a file) with config.examples, seed and dtype, sized
    for config.arch and its loss; UsageError for anything that does not fit, naming the sizes as arch_words does
    (--arch, or the module's layers_dims)."""
    data, arch, loss, examples, seed, dtype = (
        config.data,
        config.sizes,
        config.loss or "bce",
        config.examples,
        config.seed,
        config.dtype,
    )
    named = arch_words(config)
    image = _input_image(config)
    if data == "auto" and image is not None:
        X, Y = image_dataset(image, arch[-1], loss, examples or DEFAULT_EXAMPLES, seed)
    elif data == "auto":
        X, Y = teacher_dataset(arch, loss, examples or DEFAULT_EXAMPLES, seed)
    elif data in scratch.DATASETS:
        X, Y = scratch.DATASETS[data](m=examples or (200 if data == "house" else 400), seed=seed)
    else:
        X, Y = read_file(data, arch, named)
        has = X.shape[1]
        if examples is not None:
            X, Y = X[:, :examples], Y[:, :examples]
        check_data(X, Y, arch, loss, source=data, named=named)
        if examples is not None and examples > has:  # (after what is wrong with the file itself)
            raise UsageError(
                f"--examples {examples}: --data {data} has {has} examples; give at most {has}, "
                "or leave --examples out to use them all"
            )
    check_data(X, Y, arch, loss, source=data, named=named)
    return X.astype(dtype), Y.astype(dtype)


def _input_image(config: Config):
    """The input's (n_H, n_W, n_C) when the first layer is a conv or pool layer, else None; a recurrent layer's
    sequence of T_x steps of n_x as a (T_x, 1, n_x) image, whose channels-last flatten is the time-major columns
    (recurrent.py), its patterns smooth over time."""
    if not config.layers:
        return None
    first = spatial.kind(config.layers[0])
    if first is not None:
        return first.in_shape
    steps = recurrent.kind(config.layers[0])
    return None if steps is None else (steps.T_x, 1, steps.n_x)


def teacher_dataset(arch: tuple[int, ...], loss: str, m: int, seed: int):
    """X ~ N(0, 1) and labels from a random tanh teacher of the same shape: learnable by the student.

    bce: each output thresholded at its median (balanced 0/1); ce: one-hot argmax; mse: standardised values.
    """
    rng = np.random.default_rng([seed, 1])  # a stream of its own, apart from the initial weights
    X = rng.standard_normal((arch[0], m))  # (n[0], m)
    A = X
    for n_prev, n in zip(arch[:-1], arch[1:]):
        Z = rng.standard_normal((n, n_prev)) * np.sqrt(1 / n_prev) @ A + rng.standard_normal((n, 1)) * 0.1
        A = np.tanh(Z)
    if loss == "bce":
        Y = (Z > np.median(Z, axis=1, keepdims=True)).astype(np.float64)
    elif loss == "ce":
        Y = np.eye(arch[-1])[:, np.argmax(Z, axis=0)]
    else:
        Y = (Z - Z.mean(axis=1, keepdims=True)) / (Z.std(axis=1, keepdims=True) + 1e-12)
    return X, Y


def read_file(path: str, arch: tuple[int, ...], named: str = "--arch"):
    """X and Y from a .npz (arrays named X and Y, course layout) or a .csv (one example per row: features, then labels)."""
    check_file(path)
    if path.lower().endswith(".npz"):
        return _read_npz(path)
    return _read_csv(path, arch, named)


SPECIAL_FILES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_file(path: str) -> None:
    """A --data path must be a regular file: reading a named pipe with no writer, or a device, would wait for ever
    (or never end), so anything else is refused from its stat, before it is opened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise UsageError(f"--data {path}: no such file") from None
    except OSError as error:
        raise UsageError(f"--data {path}: cannot read it ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        kind = next((what for test, what in SPECIAL_FILES if test(mode)), "not a regular file")
        raise UsageError(f"--data {path} is {kind}, not a file; give a .npz or .csv file")


class NpyHeader(NamedTuple):
    """What a .npz member's .npy header declares, and how many bytes of values the member really holds."""

    shape: tuple
    dtype: np.dtype
    stored: int  # the member's size (as the zip records it) less its header

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


def npz_headers(archive: zipfile.ZipFile, names=("X", "Y")) -> dict:
    """name -> NpyHeader for each of `names` the archive holds, read from the headers alone (nothing allocated)."""
    headers = {}
    members = set(archive.namelist())
    for name in names:
        member = f"{name}.npy" if f"{name}.npy" in members else name
        if member not in members:
            continue
        with archive.open(member) as f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(f)
            headers[name] = NpyHeader(tuple(shape), dtype, archive.getinfo(member).file_size - f.tell())
    return headers


def _check_npz_headers(path: str) -> None:
    """Refuse a member whose header declares more values than it holds (a 21.8 TiB shape over 64 bytes): numpy
    would allocate the declared array before reading a byte of it."""
    with zipfile.ZipFile(path) as archive:
        headers = npz_headers(archive)
    for name, header in headers.items():
        if not header.dtype.hasobject and header.nbytes > header.stored:
            raise UsageError(
                f"--data {path}: {name}.npy declares shape {header.shape} of {header.dtype} "
                f"({_bytes(header.nbytes)}) but holds {_bytes(header.stored)} of values; the file is "
                "damaged or not what it says"
            )


def _bytes(n: int) -> str:
    """64 bytes, 1.5 KiB, 21.8 TiB."""
    if n < 1024:
        return f"{n} byte{'s' * (n != 1)}"
    size = n / 1024
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        if size < 1024:
            return f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} PiB"


def _read_npz(path: str):
    try:
        with open(path, "rb") as f:
            if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # a .npz is a zip archive
                raise UsageError(f"--data {path} is not a readable .npz file (it is not a zip archive of arrays)")
            _check_npz_headers(path)
            f.seek(0)
            with np.load(f, allow_pickle=False) as archive:
                missing = [k for k in ("X", "Y") if k not in archive.files]
                if missing:
                    raise UsageError(
                        f"--data {path} has no array named {' or '.join(missing)} (it has: {', '.join(archive.files) or 'nothing'})"
                    )
                X, Y = archive["X"], archive["Y"]
    except UsageError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise UsageError(
                f"--data {path} holds object arrays, which are not loaded (allow_pickle=False); save plain numeric arrays"
            ) from None
        raise UsageError(f"--data {path} is not a readable .npz file ({error})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as error:
        raise UsageError(f"--data {path} is not a readable .npz file ({type(error).__name__}: {error})") from None
    except MemoryError:  # a compressed member that really is that large
        raise UsageError(f"--data {path}: its arrays do not fit in memory") from None
    for name, array in (("X", X), ("Y", Y)):
        if array.dtype.kind not in "biuf":
            raise UsageError(f"--data {path}: {name} holds {array.dtype} values, expected numbers")
        if array.ndim != 2:
            raise UsageError(
                f"--data {path}: {name} has shape {array.shape}, expected a 2-D array (features, examples)"
            )
    return X.astype(np.float64), Y.astype(np.float64)


def _read_csv(path: str, arch: tuple[int, ...], named: str):
    n_x, n_y = arch[0], arch[-1]
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: Excel's "CSV UTF-8" starts with a BOM
            lines = [
                (number, row)
                for number, row in enumerate(csv.reader(f), start=1)
                if row and any(cell.strip() for cell in row)
            ]
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UsageError(f"--data {path} is not a readable CSV file ({type(error).__name__}: {error})") from None
    if lines and not any(_is_number(cell) for cell in lines[0][1]):
        lines = lines[1:]  # a header line: names, no numbers
    if not lines:
        raise UsageError(f"--data {path} has no data rows")
    values = []
    for number, row in lines:
        if len(row) != n_x + n_y:
            raise UsageError(
                f"--data {path}: line {number} has {len(row)} columns, expected {n_x + n_y} ({n_x} features + {n_y} labels for {named})"
            )
        try:
            values.append([float(cell) for cell in row])
        except ValueError:
            raise UsageError(
                f"--data {path}: line {number} has a value that is not a number: {','.join(row)}"
            ) from None
    table = np.array(values).T  # (n_x + n_y, m): examples become columns
    return table[:n_x], table[n_x:]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def check_data(
    X: np.ndarray, Y: np.ndarray, arch: tuple[int, ...], loss: str, source: str, named: str = "--arch"
) -> None:
    """Shapes against the architecture, finiteness, and labels that fit the loss."""
    if X.shape[0] != arch[0]:
        hint = (
            " (are examples rows? the course layout has them as columns)"
            if X.ndim == 2 and X.shape[1] == arch[0]
            else ""
        )
        raise UsageError(
            f"--data {source}: X has {X.shape[0]} features per example but {named} starts with {arch[0]}{hint}"
        )
    if Y.shape[0] != arch[-1]:
        raise UsageError(f"--data {source}: Y has {Y.shape[0]} outputs per example but {named} ends with {arch[-1]}")
    if X.shape[1] != Y.shape[1]:
        raise UsageError(f"--data {source}: X has {X.shape[1]} examples but Y has {Y.shape[1]}")
    if X.shape[1] == 0:
        raise UsageError(f"--data {source} has no examples")
    for name, array in (("X", X), ("Y", Y)):
        if not np.all(np.isfinite(array)):
            raise UsageError(f"--data {source}: {name} holds NaN or infinite values")
    if loss == "bce" and not np.all((Y == 0) | (Y == 1)):
        raise UsageError(f"--data {source}: --loss bce needs labels 0 or 1, found {_odd_value(Y, (Y != 0) & (Y != 1))}")
    if loss == "ce" and not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=0) == 1)):
        raise UsageError(f"--data {source}: --loss ce needs one-hot label columns (a single 1 per example)")


def _odd_value(Y: np.ndarray, mask: np.ndarray) -> str:
    return repr(float(Y[mask][0]))


class FileSize(NamedTuple):
    """What parsing a --data file will hold in memory, counted without parsing it (machine.check_memory's input)."""

    kind: str  # "csv" or "npz"
    examples: int  # rows of a CSV (a header line included), columns of X in a .npz
    values: int  # numbers parsed: a CSV's cells, the entries of X and Y in a .npz
    nbytes: int  # a CSV's text, a .npz's arrays as stored (their own dtype)


def file_size(path: str) -> FileSize | None:
    """The size of a --data file as read_file will see it; None for what it cannot count (read_file then says why).

    A CSV is scanned for its line breaks and commas (about 1 s per GB), never parsed; a .npz's X and Y
    are counted from their headers, never loaded. Only a regular file is read: a FIFO would block here.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        if path.lower().endswith(".npz"):
            return _npz_size(path)
        rows = cells = 0
        last = b"\n"
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                rows += chunk.count(b"\n")
                cells += chunk.count(b",")
                last = chunk[-1:]
        rows += last != b"\n"  # a last line without its line break
        return FileSize("csv", rows, cells + rows, os.path.getsize(path))
    except (OSError, ValueError):
        return None


def _npz_size(path: str) -> FileSize | None:
    try:
        with zipfile.ZipFile(path) as archive:
            headers = npz_headers(archive)
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile, EOFError):
        return None
    if set(headers) != {"X", "Y"} or any(h.nbytes > h.stored and not h.dtype.hasobject for h in headers.values()):
        return None  # read_file says what is missing, or that a header declares more than the file holds
    examples = headers["X"].shape[1] if len(headers["X"].shape) == 2 else 0
    return FileSize(
        "npz", examples, sum(math.prod(h.shape) for h in headers.values()), sum(h.nbytes for h in headers.values())
    )
