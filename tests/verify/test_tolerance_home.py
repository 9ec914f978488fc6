"""Every tolerance constant and scale rule lives in verify/judging/tolerance.py, and says what the code does."""

import ast
from pathlib import Path

import numpy as np
import pytest

from verify.config import Config
from verify.judging import tolerance
from verify.judging.compare import agreement

VERIFY = Path(__file__).resolve().parents[2] / "verify"
# words of a tolerance constant's name (SPREAD_LIMIT, the initialisers' bound on their draws, is not one)
TOLERANCE_WORDS = {"RTOL", "EPSILON", "ROUNDING", "HEADROOM", "FREE", "RESOLUTION", "UNDERFLOW", "SUBNORMAL"}


def _module_constants(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names |= {t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper()}
    return names


def test_no_module_but_tolerance_defines_a_tolerance_constant():
    elsewhere = {
        f"{path.relative_to(VERIFY)}: {name}"
        for path in VERIFY.rglob("*.py")
        if path.name != "tolerance.py"
        for name in _module_constants(path)
        if TOLERANCE_WORDS & set(name.strip("_").split("_"))
    }
    assert elsewhere == set()


def test_the_default_rtol_is_the_configs():
    assert Config(arch=(2, 1)).relative_tolerance == tolerance.DEFAULT_RTOL["float64"] == 1e-7
    assert Config(arch=(2, 1), dtype="float32").relative_tolerance == tolerance.DEFAULT_RTOL["float32"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_only_absolute_floor_is_the_subnormal_grid(dtype):
    tiny = np.finfo(dtype).smallest_subnormal
    a, b = np.array([0.0], dtype=dtype), np.array([tiny * tolerance.UNDERFLOW_STEPS], dtype=dtype)
    assert agreement([(a, b)], [0.0], 1e-7)[0].agrees  # within the grid's steps, though the scale is 0
    b = np.array([tiny * (tolerance.UNDERFLOW_STEPS + 1)], dtype=dtype)
    assert not agreement([(a, b)], [0.0], 1e-7)[0].agrees  # one step further: no floor hides it
    assert tolerance.underflow(a, b) == tolerance.UNDERFLOW_STEPS * tiny


def test_the_unit_checks_scales_are_sums_of_absolute_terms():
    A_prev = np.array([[1.0, -2.0], [3.0, 0.5]])  # (n[l-1], m) = (2, 2)
    W, b = np.array([[2.0, -1.0]]), np.array([[-0.5]])
    assert tolerance.unit_linear_scale(A_prev, W, b) == max(2 * 1 + 1 * 3 + 0.5, 2 * 2 + 1 * 0.5 + 0.5)
    dZ = np.array([[1.0, -3.0]])
    dW, db, dA_prev = tolerance.unit_gradient_scales(dZ, A_prev, W)
    assert dW == max(1 * 1 + 3 * 2, 1 * 3 + 3 * 0.5) / 2
    assert db == (1 + 3) / 2
    assert dA_prev == 2 * 3  # max |W|^T |dZ|
    assert tolerance.unit_step_scale(0.25, W) == 0.25 + tolerance.UPDATE_ROUNDING * 2
