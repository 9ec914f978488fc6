"""What the machine gives a run: torch's threads for the network's size, and whether the run fits in memory.

The memory a run needs is its peak resident size, estimated by a model fitted to what runs really
allocate. Measured 2026-12-07 (Python 3.11, NumPy and torch on CPU, a 2-core 24 GiB machine) as
the peak RSS of `python -m verify --no-tensorboard --iterations 2 ARGS` (the launching process's
wait4 maximum resident size of the run), the highest of three runs or more: a mid-sized run's peak moves by
up to a fifth from one run to the next (3,20000,1: 0.55 to 0.83 GiB), 3,60000,1's by 8%, the largest
ones' by under 1%:

    ARGS                                                    peak GiB  estimate
    --arch 3,4,4,1                                             0.237    0.275  +16%
    --arch 3,20000,1                                           0.808    0.644  -20%
    --arch 3,20000,1 --dtype float32                           0.544    0.460  -16%
    --arch 3,60000,1                                           1.325    1.382   +4%
    --arch 3,200000,1                                          3.380    3.964  +17%
    --arch 3,200000,1 --dtype float32 --optimizer adam         2.710    2.732   +1%
    --arch 3,100000,1 --examples 400 --optimizer momentum      3.425    3.928  +15%
    --arch 12288,20,7,5,1 --examples 2000                      1.219    1.224   +0%
    --arch 784,4096,4096,10 --examples 2000 --dtype float32
           --activations relu,relu,softmax                     2.324    2.202   -5%
    --arch 4096,4096,1 --examples 50                           2.190    2.196   +0%
    --arch 4096,4096,1 --examples 50 --dtype float32           1.242    1.263   +2%
    --arch 4096,4096,1 --examples 50 --optimizer adam          5.027    5.202   +3%
    --arch 4096,4096,1 --examples 50 --dtype float32 --optimizer adam
                                                               3.264    2.767  -15%
    --arch 4096,4096,1 --examples 50 --optimizer momentum      2.876    2.883   +0%
    --arch 2000,2000,1 --examples 20                           0.729    0.732   +0%
    --arch 2000,20,1 --examples 2000                           0.425    0.432   +2%
    --arch 200,4,1 --data wide.csv (46 MB: 25,000 rows of 201)   0.805    0.838   +4%
    ... the same with --examples 1000                          0.805    0.838   +4%
    --arch 20,64,1 --data tall.csv (44 MB: 240,000 rows of 21)   1.620    1.849  +14%

Until 2026-12-06 a run's final cost was computed with a whole forward and backward pass
(torch_ref.forward_backward); one forward pass (torch_ref.evaluate) lowered the peaks of the runs
large in activations or inputs by a quarter to a third (3,200000,1: 4.856 GiB then), and the model
with them.

The model, in bytes, with s the dtype's size (8 or 4), P = sum (n[l-1] + 1) n[l] the parameters,
H = n[1] + ... + n[L] the units, m the examples:

    BASELINE                                  NumPy, torch and the verifier, imported
  + max(parsing the data file,                a CSV's cells as Python strings and floats, then the table
        PER_INPUT s m n[0]                    X on both sides, torch's transposed copies
      + P (PER_PARAMETER s + PER_PARAMETER_F64 8 + OPTIMIZER_STATE[optimizer] s)
      + m H (PER_ACTIVATION + OPTIMIZER_ACTIVATIONS[optimizer]) s)

The parameter term counts the parameters, gradients and updates of three models (the
implementation's and torch's lockstep and free-running), the copies each side is handed, and the
float64 scales the tolerances are computed in whatever the dtype; the optimiser's state (momentum's
v, Adam's v and s) comes on top. The activation term counts Z, A, dZ and dA per example on both
sides and torch's autograd buffers; Adam's lockstep check holds more arrays of that size, the
tolerances it judges each entry of a step by. Since training compares each parameter array on its own (no
longer one concatenated copy of them all) the parameter term's peak is lower, and a network large in
both (784,4096,4096,10) peaks near their sum, so both count. A CSV's parsing is freed before the
run allocates (wide.csv peaks the same with 1000 of its examples used or all 25,000): the larger
counts.

The estimate is compared with the smallest of what this process may still allocate: the
system's available memory (MemAvailable), its cgroup's limit less its usage (v2 memory.max,
v1 memory.limit_in_bytes) and its address-space limit (RLIMIT_AS, `ulimit -v`).
"""

from __future__ import annotations

import contextlib
import os
import resource

import numpy as np

from .config import NAMED_DATA, Config, arch_words
from .data import DEFAULT_EXAMPLES, FileSize, file_size
from .errors import UsageError

SMALL_NETWORK_FLOPS = 5e7  # below this per training step, torch runs on one thread

# The memory model (the module docstring says what each counts and how it was measured).
BASELINE = 0.275 * 2**30
PER_PARAMETER = 14.7  # times the dtype's size
PER_PARAMETER_F64 = 0.45  # float64 whatever the dtype
OPTIMIZER_STATE = {"gd": 0.0, "momentum": 5.5, "adam": 24.0}  # times the dtype's size, per parameter
PER_ACTIVATION = 12.0
OPTIMIZER_ACTIVATIONS = {"gd": 0.0, "momentum": 0.0, "adam": 3.5}  # Adam's tolerances per entry: more (n[l], m) arrays
PER_INPUT = 5.0
CSV_PER_CELL = (
    110  # a cell's str (49 bytes + its text, counted apart) and float (24) objects, their list slots, the table
)
CSV_PER_ROW = 250  # each line's two lists and its (number, row) tuple
NPZ_PER_VALUE = 8  # each entry converted to float64, beside the array as stored
# Address space a run maps beyond its resident growth (thread stacks, the allocator's arenas):
# a 3,4,4,1 run maps about 70 MiB more than the import left. RLIMIT_AS counts it; RSS does not.
ADDRESS_SPACE_SLACK = 100 * 2**20
UNLIMITED_CGROUP = 2**60  # cgroup v1 writes "no limit" as a huge number (9223372036854771712)


@contextlib.contextmanager
def torch_threads_for(config: Config, m: int):
    """One torch thread for a small network: its operations are too small to split, and torch's
    threads then only wait on each other (12 times slower per step on a busy 2-core machine)."""
    import torch

    flops_per_step = 6 * m * sum(a * b for a, b in zip(config.sizes[:-1], config.sizes[1:]))
    threads = torch.get_num_threads()
    if flops_per_step < SMALL_NETWORK_FLOPS:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def check_memory(config: Config) -> None:
    """Refuse, before allocating anything, a run whose estimated peak would not fit in the memory this
    process may still allocate: UsageError naming the estimate, what is available and which limit that is."""
    size = data_file_size(config)
    m = examples_of(config, size)
    need = estimate_memory(config, m, size)
    limits = memory_limits()
    if not limits:
        return
    room, source = min(limits)
    in_use = resident_memory()
    more = max(need - in_use, 0)  # the baseline is counted in `need` and already resident
    if more > room:
        raise UsageError(
            f"{arch_words(config)} with {m:,} examples would need about {_gib(need)} "
            f"({_gib(more)} more than now); {_gib(room)} is available ({source})"
        )


def data_file_size(config: Config) -> FileSize | None:
    """The --data file's size as counted before parsing it; None for generated or named data."""
    return None if config.data in NAMED_DATA else file_size(config.data)


def examples_of(config: Config, size: FileSize | None) -> int:
    """m as load_data will make it: --examples (at most the file's), else the file's, else the data's default."""
    if size is not None:
        return min(config.examples, size.examples) if config.examples else size.examples
    if config.examples:
        return config.examples
    if config.data in ("flower", "moons", "xor"):
        return 400
    return DEFAULT_EXAMPLES


def estimate_memory(config: Config, m: int, size: FileSize | None = None) -> int:
    """The run's peak resident size in bytes, by the model the module docstring states and measures."""
    s = np.dtype(config.dtype).itemsize
    arch = config.sizes
    parameters = sum((a + 1) * b for a, b in zip(arch[:-1], arch[1:]))
    units = sum(arch[1:])
    per_parameter = PER_PARAMETER * s + PER_PARAMETER_F64 * 8 + OPTIMIZER_STATE.get(config.optimizer, 0.0) * s
    per_activation = PER_ACTIVATION + OPTIMIZER_ACTIVATIONS.get(config.optimizer, 0.0)
    run = PER_INPUT * s * m * arch[0] + parameters * per_parameter + m * units * per_activation * s
    return int(BASELINE + max(run, parsing_memory(size)))


def parsing_memory(size: FileSize | None) -> int:
    """What reading the data file holds at once, beyond the arrays the run keeps."""
    if size is None:
        return 0
    if size.kind == "csv":
        return size.values * CSV_PER_CELL + size.examples * CSV_PER_ROW + size.nbytes
    return size.nbytes + size.values * NPZ_PER_VALUE


def memory_limits() -> list[tuple[int, str]]:
    """(bytes this process may still allocate, where that limit comes from), for each source that sets one."""
    return [limit for limit in (_available_ram(), _cgroup_room(), _address_space_room()) if limit is not None]


def _available_ram() -> tuple[int, str] | None:
    """MemAvailable: what the kernel can give without swapping, page cache it can drop included."""
    value = _meminfo_field("MemAvailable")
    return None if value is None else (value, "MemAvailable")


def _cgroup_room() -> tuple[int, str] | None:
    """The tightest of this process's cgroup and its ancestors: limit less usage (reclaimable file cache not counted as used).

    cgroup v2: memory.max ("max": none) and memory.current; v1: memory.limit_in_bytes and memory.usage_in_bytes."""
    text = _read_text("/proc/self/cgroup") or ""
    rooms = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2's unified hierarchy
            base, files = "/sys/fs/cgroup", ("memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):
            base, files = (
                "/sys/fs/cgroup/memory",
                ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"),
            )
        else:
            continue
        for directory in _ancestors(base, path):
            room = _cgroup_level(directory, *files)
            if room is not None:
                rooms.append((room, f"cgroup {files[0]}"))
    return min(rooms) if rooms else None


def _ancestors(base: str, path: str) -> list[str]:
    """The cgroup's directory and each one above it, up to the hierarchy's root (a container sees only its own)."""
    parts = [p for p in path.strip().split("/") if p]
    return [os.path.join(base, *parts[:i]) for i in range(len(parts), -1, -1)]


def _cgroup_level(directory: str, limit_file: str, usage_file: str, inactive_key: str) -> int | None:
    limit = _read_int(os.path.join(directory, limit_file))
    if limit is None or limit >= UNLIMITED_CGROUP:
        return None
    usage = _read_int(os.path.join(directory, usage_file)) or 0
    inactive = _stat_field(os.path.join(directory, "memory.stat"), inactive_key) or 0
    return max(limit - max(usage - inactive, 0), 0)


def _address_space_room() -> tuple[int, str] | None:
    """RLIMIT_AS (`ulimit -v`) less the address space already mapped and what threads will reserve."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    mapped = _meminfo_field("VmSize", "/proc/self/status") or 0
    return max(soft - mapped - ADDRESS_SPACE_SLACK, 0), "RLIMIT_AS, ulimit -v"


def resident_memory() -> int:
    """This process's resident size now (VmRSS), 0 where /proc is not there."""
    return _meminfo_field("VmRSS", "/proc/self/status") or 0


def _meminfo_field(name: str, path: str = "/proc/meminfo") -> int | None:
    """A "Name:   123 kB" field of /proc/meminfo or /proc/self/status, in bytes."""
    for line in (_read_text(path) or "").splitlines():
        key, _, value = line.partition(":")
        if key == name:
            words = value.split()
            try:
                return int(words[0]) * (1024 if words[1:] == ["kB"] else 1)
            except (IndexError, ValueError):
                return None
    return None


def _stat_field(path: str, name: str) -> int | None:
    """A "name 123" line of a cgroup's memory.stat."""
    for line in (_read_text(path) or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == name and words[1].isdigit():
            return int(words[1])
    return None


def _read_int(path: str) -> int | None:
    text = (_read_text(path) or "").strip()
    return int(text) if text.isdigit() else None


def _read_text(path: str) -> str | None:
    """A small system file's text; None where it does not exist or cannot be read (another OS, a container)."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def physical_memory() -> int | None:
    """This machine's RAM in bytes (what benchmarks report); None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"
