"""torch_ref is an independent oracle: it never imports scratch or verify, and vice versa for
scratch; and only layout.py (dense layers), conv.py (channels-last images, NCHW) and rnn.py (sequences, time last)
convert between the course and torch layouts (dense.py multiplies a dense layer in the course's orientation)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "code",
    [
        "import sys, torch_ref; bad = {'scratch', 'verify'} & set(sys.modules); assert not bad",
        "import sys, scratch; bad = {'torch_ref', 'torch'} & set(sys.modules); assert not bad",
    ],
)
@pytest.mark.end_to_end
def test_import_isolation(code):
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr  # the assertion error names what leaked


def test_only_layout_transposes():
    pattern = re.compile(r"\.mT\b|\.T\b|\.t\(\)|transpose|permute|swapaxes|movedim")
    offenders = [
        f"{path.name}:{n}: {line.strip()}"
        for path in sorted((ROOT / "torch_ref").glob("*.py"))
        if path.name not in ("layout.py", "conv.py", "rnn.py", "dense.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
