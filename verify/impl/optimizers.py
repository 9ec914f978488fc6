"""The optimisation course's functions as an adapter calls them: which ones --optimizer and --decay need, the
optimiser's state from its initialiser, one step of momentum or Adam, and the decayed learning rate; each result
checked (a dict of moments keyed like the gradients, in the run's dtype)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

import scratch

from .. import catalogue
from ..errors import UsageError
from .calls import _binds, _describe

if TYPE_CHECKING:
    from ..optimization import OptimizerStep

# The optimisation course's functions, by what a run uses them for (read from the catalogue).
OPTIMIZER_FUNCTIONS = catalogue.optimizer_functions()
DECAY_FUNCTIONS = catalogue.decay_functions()


class _OptimizerCalls:
    """The optimiser's and the decay's functions, called through the adapter (base.Adapter) that has this part."""

    module: ModuleType
    label: str
    notes: dict[str, str]
    decay_takes_interval: bool
    # The run's optimiser and decay are scratch's, not the module's: a step-by-step notebook has none of its own, and
    # the ones a helper file of its imports (rnn_utils.py's Adam, keyed W1, b1, ...) are another network's.
    UPDATES_BY_SCRATCH = False

    if TYPE_CHECKING:  # defined by base.Adapter

        def call(self, function: str, *args, **kwargs) -> Any: ...

        def expect(self, ok: bool, function: str, message: str) -> None: ...

        def update(self, parameters: dict, grads: dict, learning_rate: float) -> dict: ...

        def _checked_update(self, function: str, updated, parameters: dict) -> dict: ...

        @staticmethod
        def gradients_for_update(grads, parameters: dict): ...

        def number(self, function: str, value) -> float: ...

    def _check_optimization(self, optimizer: str, decay: str | None, decay_interval: int) -> None:
        """UsageError naming the functions --optimizer (or else --decay) needs that the module does not define."""
        if self.UPDATES_BY_SCRATCH:  # scratch's, each of them: its schedule_lr_decay takes time_interval
            self.decay_takes_interval = True
            return
        for flag, needed in (
            (f"--optimizer {optimizer}", catalogue.optimizer_functions().get(optimizer, ())),
            (f"--decay {decay}", (catalogue.decay_functions()[decay],) if decay else ()),
        ):
            missing = [
                catalogue.by_name(name).signature() for name in needed if not callable(getattr(self.module, name, None))
            ]
            if missing:
                raise UsageError(f"{flag}: {self.label} has no function {' and no function '.join(missing)}")
        if decay == "scheduled":
            self.decay_takes_interval = _binds(self.module.schedule_lr_decay, 4)
            if not self.decay_takes_interval and decay_interval != 1000:
                raise UsageError(
                    f"--decay-interval {decay_interval}: {self.label}'s schedule_lr_decay takes no "
                    "time_interval to pass it to; leave --decay-interval out (the course's 1000) or "
                    "give it the course's time_interval=1000 parameter"
                )

    def optimizer_state(self, optimizer: str, parameters: dict) -> dict:
        """The optimiser's state before the first step, from the implementation's own initialiser: {"v"[, "s"]}."""
        if optimizer == "momentum":
            return {
                "v": self._moments(
                    "initialize_velocity", "v", self._update_call("initialize_velocity", parameters), parameters
                )
            }
        if optimizer == "adam":
            result = self._update_call("initialize_adam", parameters)
            self.expect(
                isinstance(result, (tuple, list)) and len(result) == 2,
                "initialize_adam",
                f"expected (v, s), got {_describe(result)}",
            )
            return {
                name: self._moments("initialize_adam", name, value, parameters)
                for name, value in zip(("v", "s"), result)
            }
        return {}

    def optimizer_update(self, step: OptimizerStep, parameters: dict, grads: dict) -> tuple[dict, dict]:
        """One step of step.optimizer (gd, momentum, adam) at step.t (from 1), from step.state at step.learning_rate:
        (parameters, state after it).

        Adam's state after the step holds v_corrected and s_corrected too, unless the function returns
        only (parameters, v, s), as older notebooks do."""
        optimizer, state, learning_rate, t, settings = (
            step.optimizer,
            step.state,
            step.learning_rate,
            step.t,
            step.settings,
        )
        if optimizer == "gd":
            return self.update(parameters, grads, learning_rate), {}
        grads = self.gradients_for_update(grads, parameters)
        if optimizer == "momentum":
            function = "update_parameters_with_momentum"
            result = self._update_call(function, parameters, grads, state["v"], settings["beta"], learning_rate)
            names: tuple[str, ...] = ("v",)
        else:
            function = "update_parameters_with_adam"
            result = self._update_call(
                function,
                parameters,
                grads,
                state["v"],
                state["s"],
                t,
                learning_rate,
                settings["beta1"],
                settings["beta2"],
                settings["epsilon"],
            )
            names = (
                ("v", "s", "v_corrected", "s_corrected")
                if isinstance(result, (tuple, list)) and len(result) == 5
                else ("v", "s")
            )
        expected = (
            "(parameters, v, s, v_corrected, s_corrected) or (parameters, v, s)"
            if function.endswith("adam")
            else "(parameters, v)"
        )
        self.expect(
            isinstance(result, (tuple, list)) and len(result) == len(names) + 1,
            function,
            f"expected {expected}, got {_describe(result)}",
        )
        updated = self._checked_update(function, result[0], parameters)
        return updated, {
            name: self._moments(function, name, value, parameters) for name, value in zip(names, result[1:])
        }

    def decayed_learning_rate(self, decay: str, learning_rate0: float, epoch: int, rate: float, interval: int) -> float:
        """The rate after epoch `epoch`, from the implementation's update_lr or schedule_lr_decay."""
        function = DECAY_FUNCTIONS[decay]
        extra = (interval,) if function == "schedule_lr_decay" and self.decay_takes_interval else ()
        return self.number(function, self._update_call(function, learning_rate0, epoch, rate, *extra))

    def _update_call(self, function: str, *args):
        """The optimiser's or the decay's `function` on args: the module's, through the adapter's call; scratch's
        where UPDATES_BY_SCRATCH."""
        return getattr(scratch, function)(*args) if self.UPDATES_BY_SCRATCH else self.call(function, *args)

    def _moments(self, function: str, name: str, value, parameters: dict) -> dict:
        """A dict of moments keyed like the gradients (dW1, db1, ...), shapes checked, in the run's dtype."""
        self.expect(
            isinstance(value, dict), function, f"{name} should be a dict keyed dW1, db1, ..., got {_describe(value)}"
        )
        moments = {}
        for key, p in parameters.items():
            got = value.get(f"d{key}")
            found = "" if f"d{key}" in value else f" (its keys: {', '.join(map(str, value)) or 'none'})"
            self.expect(
                isinstance(got, np.ndarray) and got.shape == p.shape,
                function,
                f'{name}["d{key}"] should be an array of shape {p.shape}, got {_describe(got)}{found}',
            )
            if got.dtype != p.dtype:
                self.notes.setdefault(
                    f"{function} dtype",
                    f"{function} returned {name} as {got.dtype} in a {p.dtype} run; it was cast to {p.dtype}",
                )
            moments[f"d{key}"] = got.astype(p.dtype, copy=False)
        return moments
