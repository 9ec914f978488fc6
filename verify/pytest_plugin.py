"""pytest plugin, registered by installing this package (entry point `nn_verify` in pyproject.toml).

    def test_my_network(verify_impl):
        verify_impl("my_network.py", arch=(3, 4, 4, 1), iterations=50)

`verify_impl` is verify.testing.assert_agrees: a disagreement fails the test with the report's short
form (the verdict, the function to fix, the first divergence, its hint). Turn the plugin off with
`pytest -p no:nn_verify`.
"""

from __future__ import annotations

import pytest

from .testing import assert_agrees


@pytest.fixture
def verify_impl():
    """verify_impl(impl, **options) -> Report: verify.testing.assert_agrees (TensorBoard off unless asked)."""
    return assert_agrees
