"""`python -m verify grade` run as a user runs it: a process of its own, in a folder, this checkout importable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def grade_command(folder: Path, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m verify grade ARGV` in `folder`, its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "verify", "grade", *argv],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
