"""The verifier: the hand-derived network and its torch twin, compared quantity by quantity.

    from verify import Config, run
    report = run(Config(arch=(3, 4, 4, 1)))
    report.verdict            # "pass" or "fail"
    report.first_divergence() # None, or where and by how much the two sides first differ
    print(report)             # the text report, verdict first; report.summary() is its first lines

A learner's own test: verify.testing.assert_agrees("my_network.py", arch=(3, 4, 4, 1)).
"""

from .config import Config
from .errors import ImplementationError, UsageError


def run(config: Config, implementation=None):
    """Run every check for `config`; returns a Report (see verify.report)."""
    from .runner import run as _run  # torch loads here, not on `import verify`

    return _run(config, implementation)


__all__ = ["Config", "ImplementationError", "UsageError", "run"]
