"""Adapters whose course functions are Python loops (the convolution and recurrent step-by-step notebooks): every
call is timed, and the report says how long the module's functions took, all the calls the checks made together."""

from __future__ import annotations

import time


class TimedCalls:
    """A mixin before an Adapter: its call, timed; the seconds add up in the note "time" the report shows."""

    seconds = 0.0  # the time the module's functions took, all calls together
    label: str
    notes: dict[str, str]

    def call(self, function: str, *args, **kwargs):
        start = time.perf_counter()
        try:
            return super().call(function, *args, **kwargs)  # type: ignore[misc]
        finally:
            self.seconds += time.perf_counter() - start
            self.notes["time"] = (
                f"{self._whose()} functions ran in {self.seconds:.2g} s in all (every call the checks made)"
            )

    def _whose(self) -> str:
        if self.label.endswith(".ipynb"):
            return "the notebook's"
        return "scratch's" if self.label == "scratch" else f"{self.label}'s"


__all__ = ["TimedCalls"]
