"""Training's steps taken from the course loop's own calls, so that a learner's steps run once, not twice.

The loop check (loops.py) runs a loop whole and compares its run with the steps training took of the
implementation's functions. Where the loop's calls are those very steps, the loop can take them from
training instead: while the loop runs (watched, as loops.py runs it), each of its calls of the step's
functions (DRIVING: L_model_forward, compute_cost, L_model_backward, update_parameters) is answered with
training's own piece of the step (training_lockstep.impl_pieces, the module's function called through the
adapter as always), provided the loop handed it the very arguments the verifier's step hands; its update
call then takes the whole step (lockstep, free-running, the logs). The loop gets what the module's own
function returned for those arguments, its arrays read-only (a loop that writes into them raises, and is run
again on its own).

The first call that differs (other arguments, another order, an extra iteration) detaches the loop: from
then on its calls reach the module's own functions, as in a loop run on its own, and training takes the
remaining steps itself once the loop has returned. A loop that returned after running driven or detached
ran from the shared start with its own functions' values throughout: its result is what the loop check
compares (loops.check_loop's `ran`). One that raised is run again on its own by the loop check, so its
error is its own. Where training stops (the implementation raised, or diverged with torch), the loop is
stopped too: the loop check is skipped then, as it always is.

Only an implementation loaded in this process (not --isolate), on gradient descent over the whole batch,
without L2 or dropout, is driven so; anything else runs the loop on its own after training.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..errors import ImplementationError
from ..impl import Adapter
from ..impl.calls import Lent
from ..remote.client import RemoteModule
from .loop_calls import LoopRun

if TYPE_CHECKING:
    from ..optimization import Step
    from .training import _Training

DRIVING = {  # API -> (the loop that may drive training, its calls of the step's pieces: function -> piece)
    "deep": (
        "L_layer_model",
        {
            "L_model_forward": "forward",
            "compute_cost": "cost",
            "L_model_backward": "backward",
            "update_parameters": "update",
        },
    ),
}


class _Stopped(BaseException):
    """Raised into the loop where training stopped: nothing is left for the loop to take."""


@dataclass(frozen=True)
class _Call:
    given: tuple  # the arguments the verifier's step gave the adapter
    handed: tuple  # the adapter's copies of them, which the module's function was handed
    kwargs: dict
    result: object


def loop_driver(impl: Adapter, run: LoopRun, loops: dict[str, str]) -> LoopDriver | None:
    """The driver of the loop that may take training's steps (`loops`: loops.loop_functions' answer), or None."""
    if impl.API not in DRIVING or isinstance(impl.module, RemoteModule) or impl.label == "scratch":
        return None
    if not run.plan.plain or impl.keep_probs is not None or impl.lambd or run.plan.steps_total == 0:
        return None
    function, pieces = DRIVING[impl.API]
    return LoopDriver(impl, function, run, pieces) if loops.get(function) == "" else None


class LoopDriver:
    """Runs the loop with training's steps (see the module's docstring); `outcome` is the loop's run for the loop
    check, (what its calls showed, its parameters, its costs), once it returned."""

    def __init__(self, impl: Adapter, function: str, run: LoopRun, pieces: dict[str, str]):
        self.impl, self.function, self.run, self.pieces_of = impl, function, run, pieces
        self.outcome: tuple | None = None
        self.own: dict[str, Callable] = {}  # what the adapter's own calls reach: the module's, their calls kept
        self.detached = False
        self._training: _Training | None = None
        self._steps: Iterator[Step] = iter(())
        self._take: Callable[[Step, dict], bool] = lambda step, pieces: False
        self._step: Step | None = None
        self._pieces: dict = {}
        self._called: dict[str, _Call] = {}

    def __call__(
        self, training: _Training, steps: Iterator[Step], take: Callable[[Step, dict], bool]
    ) -> tuple[bool, Step | None, dict]:
        """Runs the loop, `take` taking each step it drove; returns whether training goes on, and a step begun
        but not taken (the loop detached inside it) with its pieces so far."""
        from .loops import run_watched  # (loops.py imports this module)

        self._training, self._steps, self._take = training, steps, take
        try:
            with self.impl.calling(self.own):
                makers = {name: partial(self.serve, name) for name in self.pieces_of}
                self.outcome = run_watched(self.impl, self.function, self.run, None, serve=makers)
        except ImplementationError as error:
            if isinstance(error.__cause__, _Stopped):
                return False, None, {}
            self.outcome = None  # the loop raised: the loop check runs it again on its own
        return True, self._step, self._pieces

    def serve(self, name: str, original: Callable) -> Callable:
        """The function the loop calls in place of the module's `original` (a piece of training's step); the
        adapter's own calls of it reach `original`, their arguments and result kept."""
        piece = self.pieces_of[name]

        def own(given, *handed, **kwargs):
            result = original(*handed, **kwargs)
            self._called[piece] = _Call(given, handed, kwargs, result)
            return result

        def loop_calls(*args, **kwargs):
            return original(*args, **kwargs) if self.detached else self._served(piece, original, args, kwargs)

        self.own[name] = own
        return loop_calls

    def _served(self, piece: str, original: Callable, args: tuple, kwargs: dict):
        """The loop's call of one piece: training's, where the loop handed what the verifier's step hands."""
        assert self._training is not None, "set by __call__ before the loop runs"
        if self._step is None:
            self._step = next(self._steps, None)
            if self._step is None:  # the loop runs more iterations than training takes
                return self._detach(original, args, kwargs)
        if piece not in self._called:
            try:
                masks = self._training.plan.masks(self._step.index, self._training.m)
                self._training.impl_pieces(self._step, masks, self._pieces, piece)
            except ImplementationError:  # training takes this step itself, and records what raised
                return self._detach(original, args, kwargs)
        called = self._called[piece]
        if not (_same(args, called.given, called.handed) and _same(kwargs, called.kwargs, called.kwargs)):
            return self._detach(original, args, kwargs)
        if piece == "update":
            step, pieces = self._step, self._pieces
            self._step, self._pieces, self._called = None, {}, {}
            if not self._take(step, pieces):
                raise _Stopped
        return _read_only(called.result)

    def _detach(self, original: Callable, args: tuple, kwargs: dict):
        self.detached = True
        return original(*args, **kwargs)


def _same(a, given, handed) -> bool:
    """Whether the loop's argument `a` holds the values of the verifier's `given` one, whose copy the adapter
    `handed` the module's function: arrays entry for entry against `given`, which the function did not write into
    (an update may write into the copies it is handed; what the adapter lends uncopied, no check reads), and at
    once where `a` is the very memory of either (the verifier's own result handed back, or an array the adapter
    hands once, X and Y); dicts, lists and tuples item by item, anything else by ==."""
    if isinstance(given, Lent):  # handed as it is, not copied
        given = given.value
    if isinstance(a, np.ndarray) or isinstance(given, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(given, np.ndarray)):
            return False
        if a.shape != given.shape or a.dtype != given.dtype:
            return False
        return _seen_at_once(a, given) or _seen_at_once(a, handed) or bool(np.array_equal(a, given))
    if isinstance(a, dict) or isinstance(given, dict):
        return (
            type(a) is type(given)
            and a.keys() == given.keys()
            and isinstance(handed, dict)
            and all(_same(a[k], given[k], handed.get(k)) for k in a)
        )
    if isinstance(a, (list, tuple)) or isinstance(given, (list, tuple)):
        return (
            isinstance(a, (list, tuple))
            and isinstance(given, (list, tuple))
            and isinstance(handed, (list, tuple))
            and len(a) == len(given) == len(handed)
            and all(_same(x, y, z) for x, y, z in zip(a, given, handed))
        )
    try:
        return bool(a == given) and type(a) is type(given)
    except (TypeError, ValueError):
        return False


def _seen_at_once(a: np.ndarray, b) -> bool:
    """Whether b is an array over a's very memory, in a's layout: the same values, without reading them."""
    if not (isinstance(b, np.ndarray) and a.shape == b.shape and a.strides == b.strides):
        return False
    # a view of the array that owns b's memory, in its shape, spans all of it (a read-only view handed back)
    return a is b or a.base is b or a.__array_interface__["data"][0] == b.__array_interface__["data"][0]


def _read_only(value):
    """value with each array in it (nested dicts, lists, tuples) a read-only view: the loop reads what training
    keeps, and cannot change it."""
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    if type(value) is dict:
        return {k: _read_only(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_read_only(v) for v in value)
    return value  # (anything else as it is: a loop that changes it is caught by the next call's arguments)
