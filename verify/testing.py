"""The verifier as a test assertion, for a learner's own CI.

    from verify.testing import assert_agrees

    def test_my_network_agrees_with_torch():
        assert_agrees("my_network.py", arch=(3, 4, 4, 1), iterations=50)

A disagreement raises AssertionError whose message is the report's short form (report.summary():
the verdict, the function to fix, the first divergence, its hint); agreement returns the Report.
With pytest, the `verify_impl` fixture (verify.pytest_plugin, registered when this package is
installed) is this same function.
"""

from __future__ import annotations

import dataclasses
import os
from types import ModuleType

from .config import Config

# What a test run should not do unless asked: write TensorBoard logs into the learner's folder.
TEST_DEFAULTS = {"tensorboard": False}
_SEQUENCES = ("arch", "activations", "keep_prob")  # Config holds these as tuples; a test may write lists


def assert_agrees(impl: str | os.PathLike | ModuleType, **options):
    """Verify `impl` (a .py or .ipynb path, a module name, or a module object) against torch.

    `options` are Config's fields (arch=(3, 4, 4, 1), iterations=50, optimizer="adam", ...); TensorBoard
    logs are off unless tensorboard=True. Returns the Report when every check agrees; raises
    AssertionError with report.summary() when anything disagrees, KeyboardInterrupt when a Ctrl-C
    interrupted the run (a SIGTERM ends the process), and verify.UsageError for options or a module the verifier cannot use.
    """
    __tracebackhide__ = True  # pytest: the failure points at the test's line, not at this function
    from . import run  # torch loads here, not when pytest loads the plugin

    config = config_for(impl, **options)
    report = run(config, impl if isinstance(impl, ModuleType) else None)
    if report.verdict == "interrupted":
        raise KeyboardInterrupt
    if not report.ok:
        raise AssertionError(report.summary())
    return report


def config_for(impl: str | os.PathLike | ModuleType, **options) -> Config:
    """The Config assert_agrees runs: the test defaults, then `options`; a path or a module name as impl."""
    fields = {f.name for f in dataclasses.fields(Config)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise TypeError(
            f"assert_agrees: unknown option {', '.join(map(repr, unknown))}; the options are "
            f"Config's fields: {', '.join(sorted(fields - {'impl'}))}"
        )
    if "impl" in options:
        raise TypeError("assert_agrees: give the implementation as the first argument, not as impl=")
    options = {k: tuple(v) if k in _SEQUENCES and isinstance(v, list) else v for k, v in options.items()}
    spec = None if isinstance(impl, ModuleType) else os.fspath(impl)
    return Config(**{**TEST_DEFAULTS, **options, "impl": spec})
