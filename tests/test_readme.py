"""The README is the user's door: its commands, options and examples must stay true."""

import re
import subprocess
import sys
from pathlib import Path

from verify.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_exactly_the_quick_start_test_line():
    quick_start = [block.strip() for block in code_blocks("bash")[:2]]
    assert quick_start[0].endswith("python -m verify --arch 3,4,4,1")
    assert quick_start[1].endswith("python -m pytest")
    ci_commands = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert ci_commands[-1] == quick_start[1]


def test_every_command_line_option_is_documented():
    options = [o for action in build_parser()._actions for o in action.option_strings if o.startswith("--") and o != "--help"]
    assert len(options) > 20
    missing = [o for o in options if f"`{o}" not in README]
    assert missing == []


def test_python_examples_run_as_written(tmp_path):
    script = "\n".join(code_blocks("python"))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.split()[0])
    assert accuracy >= 0.9  # the comment beside the print says 0.94...


def test_the_walk_through_shows_what_the_broken_example_prints():
    result = subprocess.run([sys.executable, "-m", "verify", "--arch", "3,4,4,1", "--impl", "examples/broken_network.py",
                             "--no-tensorboard", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    for line in result.stdout.strip().splitlines():
        assert line in README
