"""The verifier: the hand-derived network and its torch twin, compared quantity by quantity.

    from verify import Config, run
    report = run(Config(arch=(3, 4, 4, 1)))
    report.verdict            # "pass" or "fail"
    report.first_divergence   # None, or where and by how much the two sides first differ
    print(report)             # the text report, verdict first; report.summary() is its first lines

A learner's own test: verify.testing.assert_agrees("my_network.py", arch=(3, 4, 4, 1)).
"""

import sys

if sys.argv[:1] == ["-m"]:  # `python -m verify`, while Python finds verify/__main__.py (see verify/_startup.py)
    from ._startup import install_early, pause_collection

    install_early()
    pause_collection()  # until the start-up imports are done (cli.py)

from typing import TYPE_CHECKING

from .errors import ImplementationError, UsageError

if TYPE_CHECKING:
    from .config import Config


def __getattr__(name: str):
    """Config loads NumPy: imported when first asked for, so `python -m verify` reaches its Ctrl-C handler
    (verify/__main__.py) before anything slow is imported."""
    if name == "Config":
        from .config import Config

        return Config
    raise AttributeError(f"module 'verify' has no attribute {name!r}")


def run(config: "Config", implementation=None):
    """Run every check for `config`; returns a Report (see verify.telling.report)."""
    from .runner import run as _run  # torch loads here, not on `import verify`

    return _run(config, implementation)


__all__ = ["Config", "ImplementationError", "UsageError", "run"]
