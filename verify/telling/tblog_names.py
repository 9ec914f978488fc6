"""Where a run's TensorBoard logs go: the experiment's folder name (short enough for TensorBoard's run
selector, told apart by a hash of the code), its checks against the file system's limits, and making it."""

from __future__ import annotations

import os
import re

from ..errors import UsageError

STEM_CHARS = 14  # an implementation's name longer than this is cut at a word, to CUT_CHARS (a first word: STEM_CHARS)
CUT_CHARS = 12
HASH_CHARS = 3  # hex digits of the code's hash: two versions of one file get different experiment names
ARCH_CHARS = 9  # scratch's experiment shows an architecture this long (3x4x4x1), else the number of layers


def experiment_name(
    arch, activations, name: str | None, implementation: str = "scratch", source: str | None = None
) -> str:
    """`--name` made safe as one folder name; else a name short enough for TensorBoard's run selector,
    which shows `<experiment>/numpy` whole up to about 24 characters (measured in chromium).

    scratch: `scratch_<arch>` (`scratch_3x4x4x1`; `scratch_4layers` for a longer one). A learner's
    file: its name without the extension, shortened (short_stem), then the first HASH_CHARS hex digits
    of a hash of its code (a notebook's code cells, not its outputs), so two versions of one notebook
    differ by more than their time: `Building_3fa`. Without a file to read, the architecture again.
    make_run_dir adds _2, _3, ... to a name already taken (the same code run again)."""
    if name is not None:
        return _safe(name) or "run"
    shape = "x".join(map(str, arch))
    shape = shape if len(shape) <= ARCH_CHARS else f"{len(arch) - 1}layers"
    if implementation == "scratch":
        return "scratch_" + shape
    return f"{short_stem(implementation)}_{source_hash(source) or shape}"


def short_stem(implementation: str) -> str:
    """The file's name without its extension, made safe; one longer than STEM_CHARS is cut before its
    last '_', '-' or '.' within CUT_CHARS + 1 characters, else after its first word when that has at
    most STEM_CHARS, else at CUT_CHARS: Building_your_Deep_Neural_Network_Step_by_Step -> Building,
    Planar_data_classification_with_one_hidden_layer -> Planar_data, Initialization_v2 -> Initialization."""
    stem = _safe(os.path.splitext(os.path.basename(implementation))[0]) or "impl"
    if len(stem) <= STEM_CHARS:
        return stem
    cut = max(stem.rfind(c, 0, CUT_CHARS + 1) for c in "_-.")
    if cut <= 0:
        word = re.split(r"[_.-]", stem)[0]
        cut = len(word) if len(word) <= STEM_CHARS else CUT_CHARS
    return stem[:cut].strip("._-") or stem[:CUT_CHARS]


def source_hash(source: str | None) -> str | None:
    """HASH_CHARS hex digits of sha256 over the implementation's code: a .py file's bytes, a notebook's
    code cells (running a notebook again changes its outputs and counts, not its code); None without a
    readable file (source may be a path, or the name of an imported module)."""
    import hashlib
    import json
    import sys

    if source is None:
        return None
    path = source if os.path.isfile(source) else getattr(sys.modules.get(source), "__file__", None)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (OSError, TypeError):
        return None
    if path.endswith(".ipynb"):
        try:
            cells = json.loads(data)["cells"]
            code = [
                "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in cells
                if c.get("cell_type") == "code"
            ]
            data = json.dumps(code).encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # not a notebook we can read: its bytes, then
    return hashlib.sha256(data).hexdigest()[:HASH_CHARS]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", name).strip("._")


def check_logdir(logdir: str, config=None, implementation: str = "scratch") -> None:
    """Create logdir if needed and make sure runs can be written into it; UsageError otherwise.

    With the run's config (and the label of the implementation under test): also the run folder's name, as
    experiment_name will make it, against the file system's limits, so a long --name is refused before any
    check runs, and blamed on --name."""
    try:
        os.makedirs(logdir, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--logdir {logdir}: cannot create it ({error.strerror or error})") from None
    if not os.access(logdir, os.W_OK | os.X_OK):
        raise UsageError(f"--logdir {logdir} is not writable")
    if config is not None:
        check_run_name(
            logdir,
            experiment_name(config.arch, config.activations, config.name, implementation, config.impl),
            "--name" if config.name is not None else f"the name made from {implementation}",
        )


def check_run_name(logdir: str, name: str, given_by: str) -> None:
    """The run folder `name` (plus room for a _9999 suffix) fits the file system's limit on one name under logdir,
    and its event files' paths fit the limit on a whole path; UsageError naming `given_by` otherwise."""
    name_max, path_max = _limit(logdir, "PC_NAME_MAX", 255), _limit(logdir, "PC_PATH_MAX", 4096)
    allowed = name_max - len(SUFFIX_ROOM)
    length = len(os.fsencode(name))
    if length > allowed:
        raise UsageError(
            f"{given_by} makes a run folder name of {length} characters ({name[:20]}...); a folder name "
            f"may have at most {allowed} here ({name_max}, the file system's limit, less room for a "
            f"{SUFFIX_ROOM} suffix): give a shorter --name"
        )
    deepest = os.path.join(os.path.abspath(logdir), name + SUFFIX_ROOM, "numpy", EVENT_FILE_ROOM)
    if len(os.fsencode(deepest)) >= path_max:
        raise UsageError(
            f"--logdir {logdir}: the run's log files would have paths of about {len(os.fsencode(deepest))} "
            f"characters, more than the {path_max} this system allows; give a shorter --logdir or --name"
        )


SUFFIX_ROOM = "_9999"  # make_run_dir's suffix for a name taken again, at its longest
EVENT_FILE_ROOM = "events.out.tfevents.0000000000." + "h" * 64 + ".4194304.0"  # SummaryWriter's file, a long host name


def _limit(path: str, name: str, default: int) -> int:
    try:
        return os.pathconf(path, name)
    except (OSError, ValueError, AttributeError):  # not known here (another OS): the common limit
        return default


def make_run_dir(logdir: str, name: str) -> str:
    """A new folder under logdir; a taken name gets a suffix (_2, _3, ...), so no run is appended to.
    Not '-': the run selector wraps a long name after a '-', and a name without one stays on one line."""
    check_logdir(logdir)
    for n in range(1, 10_000):
        path = os.path.join(logdir, name if n == 1 else f"{name}_{n}")
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            continue
        except OSError as error:
            raise UsageError(f"--logdir {logdir}: cannot create {path} ({error.strerror})") from None
    raise UsageError(f"--logdir {logdir}: too many runs named {name}")
