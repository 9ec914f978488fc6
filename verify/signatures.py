"""A function's signature as its callers see it, through a learner's decorator written without functools.wraps.

Its own module, importing only inspect: the process that runs a learner's code (remote/server.py) reports the
signatures its functions have, and it imports nothing of the checks.
"""

from __future__ import annotations

import inspect


def signature_of(function) -> inspect.Signature:
    """inspect.signature, seen through a wrapper that only hands *args and **kwargs on (a decorator of the learner's
    written without functools.wraps: @timed def compute_cost(AL, Y)): the signature of the one function its closure
    holds, through up to 4 such wrappers. TypeError or ValueError as inspect.signature raises them."""
    signature = inspect.signature(function)
    for _ in range(4):
        kinds = {p.kind for p in signature.parameters.values()}
        if not kinds or not kinds <= {inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD}:
            break
        wrapped = [f for f in _closure(function) if inspect.isfunction(f) and f is not function]
        if len(wrapped) != 1:
            break
        function = wrapped[0]
        signature = inspect.signature(function)
    return signature


def _closure(function) -> list:
    """The values a function's closure holds (a cell not yet filled is skipped)."""
    held = []
    for cell in getattr(function, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:
            continue
    return held
