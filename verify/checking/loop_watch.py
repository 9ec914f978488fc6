"""A course loop, watched while it runs: its initialisers hand it the run's shared start, and its calls of the
course functions are kept, so that its run can be compared with the run's and the slip it fits named.

`instrumented` asks the adapter to put a `_Watch`'s stand-ins in place of the module's course functions (those the
catalogue marks as watched) for the time the loop runs (Adapter.watching: only the adapter touches the module);
`check_batch_calls` judges the random_mini_batches calls it kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from contextlib import contextmanager

import numpy as np

from .. import catalogue
from ..impl import Adapter
from ..optimization import Optimization
from ..signatures import signature_of
from .loop_calls import LoopRun

Serve = Mapping[str, Callable[[Callable], Callable]]  # name -> (the module's function -> the function the loop calls)


def _new_seen() -> dict:
    """What a loop's calls showed: its costs, whether its rate was forced, its epochs and batch calls, whether it
    took the shared start, and the calls hints.loop_slip reads."""
    return {
        "costs": [],
        "lr_forced": False,
        "epochs": 0,
        "batch_calls": [],
        "started": 0,
        "sized": None,  # (initialiser, the sizes its first call asked for) where they are not the run's
        "plotted": None,  # the last sequence its plt.plot drew (the second course's model() keeps its costs so)
        "calls": {
            "updates": 0,
            "initialised": 0,
            "fixed": True,
            "first": None,
            "adam_t": None,
            "rate": None,  # hints.loop_slip's
            "adam_updates": 0,
            "adam_last_t": None,
            "activations": (),  # the run's network's, layer by layer
            "activation_calls": {},  # linear_activation_forward, _backward -> the activation each call named
        },
    }


class _Watch:
    """The stand-ins for the module's course functions while a loop runs, and what their calls showed (seen)."""

    def __init__(
        self, run: LoopRun, force_rate: bool, state_start: dict | None, costs: tuple[str, int], serve: Serve | None
    ):
        self.originals: dict = {}  # name -> the module's own function (or what serves it), a stand-in calls on to
        self.serve = serve
        self.start, self.plan, self.state_start = run.start, run.plan, state_start
        layers = sum(f"W{l}" in run.start for l in range(1, len(run.start) + 1))  # dense W1..WL (none: no sizes)
        self.dims = run.dims(layers) if layers else None  # the sizes an initialiser is to be asked for
        self.learning_rate, self.force_rate = run.plan.learning_rate, force_rate
        self.seen = _new_seen()
        self.seen["calls"]["takes_rate"] = not force_rate  # (hints.loop_slip: whose rate a rate slip is)
        # the cost function whose values are the run's costs, and what divides them (m where it sums the batch)
        self.cost_name, self.cost_divisor = costs
        self.costs: dict[str, list] = {}  # each watched cost function's values, in the order it was called

    def start_params(self, name: str):
        """An initialiser's stand-in: the shared start, whatever it is asked for; sizes it asks for other than the
        run's are kept (seen["sized"]), as a loop that ignores its size argument would train another network."""

        def start(*args, **kwargs):
            self.seen["started"] += 1
            self.seen["calls"]["initialised"] = self.seen["started"]  # (hints.loop_slip: once per iteration)
            sizes = _sizes(list(args) + list(kwargs.values()))
            week2 = name == "initialize_with_zeros"  # (dim) -> (w, b): logistic regression's one layer
            dims = self.dims[:1] if week2 and self.dims else self.dims
            if self.seen["sized"] is None and None not in (sizes, dims) and sizes != dims:
                self.seen["sized"] = (name, sizes)
            if week2:
                return self.start["W1"].T.copy(), self.start["b1"].item()
            return {k: v.copy() for k, v in self.start.items()}

        return start

    def cost(self, name: str):
        """A cost function's stand-in: its values kept (those of the run's cost function, else of another the
        loop called in its place: kept_costs)."""

        def compute(*args, **kwargs):
            cost = self.originals[name](*args, **kwargs)
            self.costs.setdefault(name, []).append(cost)
            return cost

        return compute

    def kept_costs(self) -> list:
        """The loop's costs as its cost function's calls give them: the run's cost function's (a course-2
        compute_cost_with_regularization's, not the compute_cost it calls inside), else the first other one's."""
        costs = self.costs.get(self.cost_name) or next(iter(self.costs.values()), [])
        divisor = self.cost_divisor if self.cost_name in self.costs else 1
        return [c / divisor if divisor != 1 and isinstance(c, (float, np.floating, np.ndarray)) else c for c in costs]

    def layer(self, name: str):
        """linear_activation_forward's or _backward's stand-in: the activation each of the loop's first calls names
        is kept, one per layer (hints.loop_slip: two_layer_model handing layer 1 "sigmoid")."""
        position = 3 if name.endswith("forward") else 2  # (A_prev, W, b, activation), (dA, cache, activation)

        def call(*args, **kwargs):
            calls = self.seen["calls"]
            named = calls["activation_calls"].setdefault(name, [])
            if len(named) < len(calls["activations"]):
                named.append(kwargs.get("activation", args[position] if len(args) > position else None))
            return self.originals[name](*args, **kwargs)

        return call

    def update(self, name: str):
        def update(parameters, grads, *args, **kwargs):
            return self.update_parameters(name, parameters, grads, *args, **kwargs)

        return update

    def update_parameters(self, name: str, parameters, grads, *args, **kwargs):
        if self.force_rate and _default_rate(self.originals[name], args, kwargs):  # the learner's default rate, or
            self.seen["lr_forced"] = True  # that default written out (learning_rate=1.2 in week 3): the run's instead
            args, kwargs = (self.learning_rate,), {}
        calls = self.seen["calls"]
        # before the call: the course's own update_parameters writes into the dict it is handed
        handed = _copied(parameters) if calls["first"] is None else None
        if handed is None and calls["fixed"]:  # (compared only while no call has moved them: a cost of one call)
            calls["fixed"] = _same(parameters, calls["first"][0])
        result = self._in_run_dtype(self.originals[name](parameters, grads, *args, **kwargs))
        calls["updates"] += 1
        if handed is not None:
            calls["first"] = (handed, _copied(grads), _copied(result))
        return result

    def optimizer_update(self, name: str):
        def update(*args, **kwargs):
            calls = self.seen["calls"]
            if calls["rate"] is None:  # the first call: the rate it was handed (or its default), and Adam's t
                given = _arguments(self.originals[name], args, kwargs)
                calls["rate"] = given.get("learning_rate", np.nan)
                calls["adam_t"] = given.get("t")
            if name == "update_parameters_with_adam":  # how t counted: the last t against the calls made
                calls["adam_updates"] += 1
                calls["adam_last_t"] = kwargs["t"] if "t" in kwargs else args[4] if len(args) > 4 else None
            result = self.originals[name](*args, **kwargs)
            for values in result if isinstance(result, (tuple, list)) else ():  # (parameters, v[, s, ...])
                self._in_run_dtype(values)
            return result

        return update

    def _in_run_dtype(self, values):
        """An update's dict of arrays with any other float dtype cast back to the run's, in place, as the run's own
        steps cast what the update returns (Adapter._in_run_dtype): a float32 run whose int dropout masks promote
        its gradients to float64 trains in float32 in the loop too, as in the steps it is compared with."""
        if isinstance(values, dict):
            dtype = next(iter(self.start.values())).dtype
            for key, value in values.items():
                if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.dtype != dtype:
                    values[key] = value.astype(dtype)
        return values

    def random_mini_batches(self, X, Y, mini_batch_size=64, seed=0):
        seen = self.seen
        epoch, seen["epochs"] = seen["epochs"], seen["epochs"] + 1
        seen["batch_calls"].append((mini_batch_size, seed))
        return [
            (X, Y) if rows is None else (np.take(X, rows, axis=1), np.take(Y, rows, axis=1))
            for rows in self.plan.epoch_rows(epoch)
        ]

    def state(self, names: tuple[str, ...]):
        """An optimiser state's initialiser: the state the run began with (one value, or a tuple of them)."""

        def initialise(*args, **kwargs):
            state = tuple({k: v.copy() for k, v in self.state_start[n].items()} for n in names)
            return state[0] if len(state) == 1 else state

        return initialise

    def stand_in(self, entry: catalogue.CourseFunction):
        """The maker of a watched course function's stand-in (Adapter.watching hands it the module's own): by what
        its calls do in a loop (its catalogue entry's watch). None leaves the module's own in place: a function
        the module lacks, random_mini_batches in a full-batch run (else the run's batches, defined or not), an
        optimiser state's initialiser that is not the run's optimiser's."""

        def make(original):
            if entry.watch == "batches":
                return None if self.plan.plain else self.random_mini_batches
            if original is None or entry.watch == "state" and set(entry.state) != set(self.state_start or ()):
                return None
            served = self.serve.get(entry.name) if self.serve is not None else None
            self.originals[entry.name] = original if served is None else served(original)
            return {
                "start": lambda: self.start_params(entry.name),
                "cost": lambda: self.cost(entry.name),
                "update": lambda: self.update(entry.name),
                "layer": lambda: self.layer(entry.name),
                "state": lambda: self.state(entry.state),
                "step": lambda: self.optimizer_update(entry.name),
            }[entry.watch]()

        return make


class _Plot:
    """matplotlib.pyplot while a loop runs: what plot() draws is kept (seen["plotted"]); every other call does
    nothing (a notebook's model() plots its costs, then labels and shows the figure)."""

    def __init__(self, seen: dict):
        self.seen = seen

    def plot(self, *args, **kwargs):
        self.seen["plotted"] = [float(c) for c in np.ravel(args[-1])] if args else None

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


@contextmanager
def instrumented(
    impl: Adapter, run: LoopRun, force_rate: bool, state_start: dict | None = None, serve: Serve | None = None
):
    """While the loop runs: its initialisers return the shared start (and the optimiser state the run began
    with, in the run's dtype), compute_cost's values are kept, (force_rate: a loop that takes no learning
    rate, nn_model) an update_parameters called without one gets the run's, and (with an optimiser)
    random_mini_batches returns the run's batches, epoch by epoch, its arguments kept. With `serve`
    (loop_driven.py), each function it names is, for the loop, what its maker makes of the module's own. The adapter puts
    the stand-ins in place and the module's own back."""
    cost = _run_cost(impl)
    divisor = run.X.shape[1] if getattr(impl, "cost_sums", False) else 1
    watch = _Watch(run, force_rate, state_start, (cost, divisor), serve)
    watch.seen["calls"]["activations"] = tuple(impl.activations)
    watched = catalogue.watched()
    if cost not in watched:  # the second course's: compute_loss, compute_cost_with_regularization
        watched[cost] = dataclasses.replace(catalogue.by_name(cost, impl.API), watch="cost")
    stand_ins: dict = {name: watch.stand_in(entry) for name, entry in watched.items()}
    for name, served in (serve or {}).items():  # the functions no watch stands in for, served
        stand_ins.setdefault(name, lambda original, served=served: None if original is None else served(original))
    if impl.PLOTTED_COSTS:  # its model() returns its parameters alone and plots the costs it kept
        stand_ins["plt"] = lambda original: _Plot(watch.seen)
    try:
        with impl.watching(stand_ins):
            yield watch.seen
    finally:
        watch.seen["costs"] = watch.kept_costs()


def _run_cost(impl: Adapter) -> str:
    """The cost function a loop's costs are read from where it returns none: compute_cost, or on the second
    course's API the one the run's cost is (its helper file's compute_loss or compute_cost, or with --lambd
    compute_cost_with_regularization)."""
    if impl.API != "course2":
        return "compute_cost"
    return "compute_cost_with_regularization" if impl.lambd else getattr(impl, "cost_function", None) or "compute_cost"


def _sizes(arguments: list) -> list[int | None] | None:
    """The layer sizes an initialiser's arguments spell, in order: its layer_dims list, or n_x, n_h, n_y, a size
    left None kept as None (an exercise's `n_x = None` placeholder); None where they are anything else."""
    sizes: list[int | None] = []
    for value in arguments:
        values = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
        if not all(v is None or isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            return None
        sizes += [None if v is None else int(v) for v in values]
    return sizes


def _copied(values):
    return {k: np.array(v, copy=True) for k, v in values.items()} if isinstance(values, dict) else values


def _default_rate(update: Callable, args: tuple, kwargs: dict) -> bool:
    """Whether an update_parameters(parameters, grads, ...) call hands no rate, or the default of its own rate
    parameter written out: update_parameters(parameters, grads, learning_rate=1.2) where it is def
    update_parameters(parameters, grads, learning_rate=1.2)."""
    if not args and not kwargs:
        return True
    try:
        parameters = list(signature_of(update).parameters.values())
    except (TypeError, ValueError):
        return False
    if len(parameters) != 3 or not isinstance(parameters[2].default, (int, float)):
        return False
    if len(args) == 1 and not kwargs:
        handed = args[0]
    elif not args and list(kwargs) == [parameters[2].name]:
        handed = kwargs[parameters[2].name]
    else:
        return False
    return isinstance(handed, (int, float)) and not isinstance(handed, bool) and handed == parameters[2].default


def _arguments(function, args: tuple, kwargs: dict) -> dict:
    """The arguments a call binds, by the function's own parameter names, defaults included ({} if they do not
    bind: the call itself then raises, and says so)."""
    try:
        bound = signature_of(function).bind(*args, **kwargs)
    except (TypeError, ValueError):
        return {}
    bound.apply_defaults()
    return dict(bound.arguments)


def _same(handed, first) -> bool:
    """Whether update_parameters was handed the very parameters its first call was (a loop that never assigns
    its result hands the same ones every time)."""
    return (
        isinstance(handed, dict)
        and isinstance(first, dict)
        and all(k in handed and np.array_equal(handed[k], v) for k, v in first.items())
    )


def check_batch_calls(impl: Adapter, function: str, calls: list, plan: Optimization) -> None:
    """The loop's calls of random_mini_batches: the run's batch size, and a new seed every epoch (the course
    increments it), else its epochs would differ from the run's in a way the run's batches hide."""
    size = plan.mini_batch_size or plan.m
    for mini_batch_size, _ in calls:
        impl.expect(
            mini_batch_size == size,
            function,
            f"it called random_mini_batches with mini_batch_size "
            f"{mini_batch_size!r}, not the mini_batch_size it was given ({size})",
        )
    seeds = [seed for _, seed in calls]
    repeated = next((seed for k, seed in enumerate(seeds) if seed in seeds[:k]), None)
    impl.expect(
        repeated is None,
        function,
        f"it gave random_mini_batches the seed {repeated!r} in two epochs: "
        "those epochs draw the same batches (the course increments the seed every epoch)",
    )
