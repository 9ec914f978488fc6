"""The memory guard: an estimate that matches what a run really allocates, the data file counted, and
a comparison with what this process may still allocate (MemAvailable, its cgroup, RLIMIT_AS)."""

import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_usage_error, run_cli

from verify import Config, machine
from verify.data import file_size
from verify.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
GiB = 2**30
MEASURED = ["--no-tensorboard", "--iterations", "2", "-q"]  # as the module docstring's table was measured


# A fresh process's own peak, as the small process that started it reads it (wait4): on Linux a process's peak
# resident size outlives exec, so `python -m verify` started straight from this test process would report this
# process's own peak (a large run earlier in the suite) wherever that is the higher.
LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "child.returncode = os.waitstatus_to_exitcode(status)\n"
    "print(usage.ru_maxrss * 1024, child.returncode)\n"
)


def peak_of_run(*argv: str, preexec_fn=None) -> tuple[int, int, str]:
    """(exit status, peak resident bytes, stderr) of `python -m verify argv` in a fresh process (started by a
    small one, LAUNCHER, which gets preexec_fn's limits and passes them on)."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-m", "verify", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=preexec_fn,
    )
    peak, code = (int(word) for word in done.stdout.split())
    return code, peak, done.stderr


def write_csv(path: Path, rows: int, features: int) -> None:
    rng = np.random.default_rng(0)
    table = np.hstack([rng.standard_normal((rows, features)), rng.integers(0, 2, (rows, 1))])
    np.savetxt(path, table, fmt="%.6g", delimiter=",")


@pytest.mark.parametrize(
    "argv, config",
    [
        # activations, m H entries: 3,20000,1's peak moves by a fifth from run to run, this one's by a few %
        (["--arch", "3,60000,1"], Config(arch=(3, 60000, 1))),
        (["--arch", "2000,2000,1", "--examples", "20"], Config(arch=(2000, 2000, 1), examples=20)),  # parameters
    ],
    ids=["activations", "parameters"],
)
@pytest.mark.end_to_end
def test_estimate_is_within_25_percent_of_the_measured_peak(argv, config):
    code, peak, err = peak_of_run(*argv, *MEASURED)
    assert code == 0, err
    estimate = machine.estimate_memory(config, machine.examples_of(config, None))
    assert abs(estimate / peak - 1) < 0.25, (estimate / GiB, peak / GiB)


@pytest.mark.end_to_end
def test_estimate_counts_a_csv_as_parsed(tmp_path):
    data = tmp_path / "wide.csv"
    write_csv(data, 8000, 200)  # 1.6 M cells, 15 MB: parsing peaks above what the run keeps
    config = Config(arch=(200, 4, 1), data=str(data), examples=500)
    size = file_size(str(data))
    code, peak, err = peak_of_run("--arch", "200,4,1", "--data", str(data), "--examples", "500", *MEASURED)
    assert code == 0, err
    estimate = machine.estimate_memory(config, machine.examples_of(config, size), size)
    assert estimate - machine.estimate_memory(config, 500) > 100 * 2**20  # the file is what counts here
    assert abs(estimate / peak - 1) < 0.25, (estimate / GiB, peak / GiB)


def test_file_size_counts_a_csv_without_parsing_it(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("x1,x2,y\n1,2,0\n3,4,1")  # a header, and no line break after the last line
    assert file_size(str(data)) == ("csv", 3, 9, len("x1,x2,y\n1,2,0\n3,4,1"))


def test_file_size_reads_a_npz_header_not_its_arrays(tmp_path):
    data = tmp_path / "d.npz"
    np.savez(data, X=np.zeros((5, 30), dtype=np.float32), Y=np.zeros((1, 30)))
    assert file_size(str(data)) == ("npz", 30, 180, 150 * 4 + 30 * 8)


def test_file_size_never_opens_a_fifo(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert file_size(str(fifo)) is None  # reading it would block until a writer came


def fake_files(monkeypatch, files: dict, rlimit=(resource.RLIM_INFINITY, resource.RLIM_INFINITY)):
    """machine's system files and RLIMIT_AS, as given; every other file is absent."""
    monkeypatch.setattr(machine, "_read_text", files.get)
    monkeypatch.setattr(machine.resource, "getrlimit", lambda which: rlimit)


def test_available_ram_is_memavailable(monkeypatch):
    fake_files(monkeypatch, {"/proc/meminfo": "MemTotal:  24000000 kB\nMemFree: 1000 kB\nMemAvailable:   2000000 kB\n"})
    assert machine.memory_limits() == [(2000000 * 1024, "MemAvailable")]


def test_cgroup_v2_limit_less_usage_counts_the_tightest_level(monkeypatch):
    fake_files(
        monkeypatch,
        {
            "/proc/self/cgroup": "0::/user.slice/job\n",
            "/sys/fs/cgroup/user.slice/job/memory.max": "max\n",  # no limit of its own
            "/sys/fs/cgroup/user.slice/memory.max": "1073741824\n",
            "/sys/fs/cgroup/user.slice/memory.current": "536870912\n",
            "/sys/fs/cgroup/user.slice/memory.stat": "anon 1\ninactive_file 134217728\n",  # cache it can drop
        },
    )
    assert machine.memory_limits() == [(1073741824 - (536870912 - 134217728), "cgroup memory.max")]


def test_cgroup_v1_limit_less_usage(monkeypatch):
    fake_files(
        monkeypatch,
        {
            "/proc/self/cgroup": "9:name=systemd:/\n4:memory:/process_api/abc\n0::/\n",
            "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes": "2147483648\n",
            "/sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes": "1073741824\n",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",  # v1's "no limit"
        },
    )
    assert machine.memory_limits() == [(2147483648 - 1073741824, "cgroup memory.limit_in_bytes")]


def test_address_space_limit_less_what_is_mapped(monkeypatch):
    fake_files(
        monkeypatch, {"/proc/self/status": "VmPeak:  700000 kB\nVmSize:\t  600000 kB\n"}, rlimit=(2 * GiB, 2 * GiB)
    )
    room = 2 * GiB - 600000 * 1024 - machine.ADDRESS_SPACE_SLACK
    assert machine.memory_limits() == [(room, "RLIMIT_AS, ulimit -v")]


def test_no_limit_known_refuses_nothing(monkeypatch):
    fake_files(monkeypatch, {})
    assert machine.memory_limits() == []
    machine.check_memory(Config(arch=(3, 10**7, 1)))  # 120 GiB, but nothing says it does not fit


def test_the_smallest_limit_is_named(monkeypatch):
    fake_files(
        monkeypatch,
        {
            "/proc/meminfo": "MemAvailable: 8000000 kB\n",
            "/proc/self/status": "VmRSS: 100000 kB\nVmSize: 600000 kB\n",
        },
        rlimit=(4 * GiB, 4 * GiB),
    )
    config = Config(arch=(3, 200000, 1))
    need = machine.estimate_memory(config, 200)
    room = 4 * GiB - 600000 * 1024 - machine.ADDRESS_SPACE_SLACK
    with pytest.raises(UsageError) as refused:
        machine.check_memory(config)
    assert str(refused.value) == (
        f"--arch 3,200000,1 with 200 examples would need about {need / GiB:.1f} GiB "
        f"({(need - 100000 * 1024) / GiB:.1f} GiB more than now); "
        f"{room / GiB:.1f} GiB is available (RLIMIT_AS, ulimit -v)"
    )


def test_what_fits_in_the_room_left_passes(monkeypatch):
    config = Config(arch=(3, 200000, 1))
    need = machine.estimate_memory(config, 200)
    monkeypatch.setattr(machine, "resident_memory", lambda: GiB)
    monkeypatch.setattr(machine, "memory_limits", lambda: [(need - GiB + 1, "MemAvailable")])
    machine.check_memory(config)  # the GiB already resident is part of the estimate
    monkeypatch.setattr(machine, "memory_limits", lambda: [(need - GiB - 1, "MemAvailable")])
    with pytest.raises(UsageError):
        machine.check_memory(config)


def refuse_loading(monkeypatch):
    """load_data fails the test if called: the guard must refuse before any data is made or parsed."""

    def loaded(*args, **kwargs):
        raise AssertionError("load_data ran before the memory guard refused")

    monkeypatch.setattr("verify.runner.load_data", loaded)


@pytest.mark.end_to_end
def test_cli_refuses_with_one_line_before_any_allocation(capsys, monkeypatch):
    monkeypatch.setattr(machine, "memory_limits", lambda: [(int(15.1 * GiB), "MemAvailable")])
    refuse_loading(monkeypatch)
    code, out, err = run_cli(capsys, "--arch", "3,1000000,1", "--no-tensorboard")
    line = assert_usage_error(code, out, err)
    need = machine.estimate_memory(Config(arch=(3, 1000000, 1)), 200)
    assert line.startswith(
        f"verify: error: --arch 3,1000000,1 with 200 examples would need about {need / GiB:.1f} GiB ("
    )
    assert line.endswith("; 15.1 GiB is available (MemAvailable)")
    assert 15 * GiB < need < 25 * GiB  # five times 3,200000,1's activations, which peaks at 3.4 GiB


@pytest.mark.end_to_end
def test_a_data_file_too_big_to_parse_is_refused_before_parsing(capsys, monkeypatch, tmp_path):
    data = tmp_path / "big.csv"
    write_csv(data, 2000, 200)  # 400,000 cells: about 45 MB once parsed
    monkeypatch.setattr(machine, "resident_memory", lambda: 0)
    monkeypatch.setattr(machine, "memory_limits", lambda: [(40 * 2**20, "cgroup memory.max")])
    refuse_loading(monkeypatch)
    code, out, err = run_cli(capsys, "--arch", "200,4,1", "--data", str(data), "--examples", "10", "--no-tensorboard")
    line = assert_usage_error(code, out, err)
    assert "with 10 examples would need about" in line and line.endswith("0.0 GiB is available (cgroup memory.max)")


@pytest.mark.end_to_end
def test_under_a_real_address_space_limit_one_line_not_a_traceback():
    probe = subprocess.run(
        [sys.executable, "-c", "import verify.runner; print(open('/proc/self/status').read())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    mapped = next(int(line.split()[1]) * 1024 for line in probe.stdout.splitlines() if line.startswith("VmSize:"))
    limit = mapped + 400 * 2**20  # room for starting up, far from the 1.8 GiB that 3,60000,1 needs

    def limited():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    code, _, err = peak_of_run("--arch", "3,60000,1", "--no-tensorboard", preexec_fn=limited)
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("verify: error: --arch 3,60000,1 with 200 examples would need about ")
    assert lines[0].endswith("is available (RLIMIT_AS, ulimit -v)")
