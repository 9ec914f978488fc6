"""The course's training loops, whole: optimize (week 2), nn_model (week 3), two_layer_model and
L_layer_model (week 4), and, with --optimizer, --mini-batch-size or --decay, the optimisation
course's model() (and an L_layer_model that takes an optimizer) on the week-4 functions.

A loop is run for the run's iterations from the run's shared start (its initialiser, while it
runs, returns that start; optimize takes it as w and b) at the run's learning rate. It must
then be exactly the implementation's own functions stepped one iteration at a time from that
start, which is what lockstep and free-running checked against torch: its recorded costs (the
course keeps every 100th; nn_model's are read from its compute_cost calls) and its final
parameters are compared with that run, to rounding. So a slip that lives only in the loop (a
bias never updated, the cost kept after the update, a hard-coded learning rate, the initial
parameters returned) is named on the loop, and the loop inherits the rest of the verdict.

With an optimiser the loop runs for the run's epochs with its settings, and its
random_mini_batches, while it runs, returns the verifier's batches of each epoch in turn
(whatever seed it is given), so it steps through the batches the run stepped through; its
decay is given as the module's own update_lr or schedule_lr_decay (with the run's interval).
Then Adam's t counting epochs, a decay applied before its epoch, or a state reset per epoch
is named on the loop.

Only a loop the module defines itself is run (loop_origin): one it imports calls its own module's
initialiser, never the shared start. While a loop runs, its calls of update_parameters and Adam's update are
watched, so the slip a failed loop fits is named (hints.loop_slip): t handed as 0, the same parameters
handed at every call (the result never assigned), a first step at a rate other than the run's.
"""

from __future__ import annotations

import inspect
import os
from contextlib import contextmanager

import numpy as np

from .compare import CheckResult
from .errors import ImplementationError
from .impl import Adapter, LogRegAPI
from .impl.base import DECAY_FUNCTIONS
from .optimization import Optimization
from .optimizer_hints import loop_slip
from .tolerance import largest

COST_EVERY = 100  # the course records the cost every 100 iterations


def loop_functions(impl: Adapter, plan: Optimization) -> dict[str, str]:
    """The course loops this implementation defines: name -> "" when it can run this training, else why not."""
    module = impl.module
    course = tuple(impl.activations) == Adapter.default_activations(impl.L) and impl.loss == "bce"
    plain = {
        "logreg": ["optimize"],
        "shallow": ["nn_model"],
        "deep": (["two_layer_model"] if impl.L == 2 else []) + ["L_layer_model"],
    }.get(impl.API, [])
    # with an optimiser: loops that take one, the optimisation course's model() or an L_layer_model like scratch's
    takes = [f for f in ("L_layer_model", "model") if impl.API == "deep" and _takes_optimizer(module, f)]
    reason = (
        ""
        if course or impl.API != "deep"
        else (
            f"it computes the course's network (relu hidden layers, a sigmoid output, bce), not --activations "
            f"{','.join(impl.activations)} --loss {impl.loss}"
        )
    )
    if plan.plain:
        found = {f: reason for f in plain if callable(getattr(module, f, None))}
    else:
        found = {
            f: "it takes no optimizer: it is checked against full-batch gradient descent at one rate (no "
            "--optimizer, --mini-batch-size or --decay)"
            for f in plain
            if callable(getattr(module, f, None))
        }
        found.update({f: reason for f in takes})
    for f in found:  # a loop imported from elsewhere calls that module's initialiser, not the run's shared start
        origin = loop_origin(module, f)
        if origin:
            found[f] = f"it comes from {origin} and starts from its own initialiser"
    if impl.keep_probs is not None:  # dropout: a loop draws its own masks, never the run's
        return {
            f: why or "with dropout it draws its own masks, which cannot be the ones the run handed both sides"
            for f, why in found.items()
        }
    if impl.lambd:  # an L2-regularised run: only a loop that takes lambd runs it
        found = {
            f: why
            or ("" if _takes(module, f, "lambd") else "it takes no lambd, so it cannot run the run's L2 regularisation")
            for f, why in found.items()
        }
    return found


def loop_origin(module, function: str) -> str:
    """ "" when the loop `function` is the module's own (defined in its file, or in one of its notebook's cells),
    else the module it was imported from (`from my_week4 import *` brings my_week4's L_layer_model along).

    A loop looks its helpers up in the globals of the module that defined it: only the module's own loop calls
    the initialiser the check replaces with the shared start."""
    loop = getattr(module, function, None)
    try:  # a decorated loop (functools.wraps): the function it wraps is the one that calls the initialiser
        loop = inspect.unwrap(loop) if callable(loop) else loop
    except ValueError:  # a __wrapped__ cycle: the loop as it is
        pass
    if getattr(loop, "__globals__", None) is vars(module):
        return ""
    file = os.path.abspath(getattr(module, "__file__", None) or "")
    code = getattr(loop, "__code__", None)
    filename = os.path.abspath(code.co_filename) if code is not None else ""
    if file and (filename == file or filename.startswith(file + os.sep)):  # a notebook's cells lie under its path
        return ""
    return getattr(loop, "__module__", None) or "another module"


def _own_start(module) -> str:
    """Why a loop that never called the course's initialiser is not compared: it did not take the shared start."""
    names = " or ".join(
        n for n in ("initialize_parameters", "initialize_parameters_deep") if callable(getattr(module, n, None))
    )
    return (
        f"it never called {names or 'initialize_parameters_deep'}, so it started from parameters of its own, not "
        "the shared start (its run was not compared)"
    )


def _takes_optimizer(module, function: str) -> bool:
    return _takes(module, function, "optimizer")


def _takes(module, function: str, parameter: str) -> bool:
    loop = getattr(module, function, None)
    try:
        return callable(loop) and parameter in inspect.signature(loop).parameters
    except (TypeError, ValueError):
        return False


def check_loop(
    impl: Adapter,
    function: str,
    X: np.ndarray,
    Y: np.ndarray,
    start: dict,
    plan: Optimization,
    replay_costs: list,
    replay_params: dict,
    torch_costs: list,
    rtol: float,
    state_start: dict | None = None,
) -> CheckResult:
    """The loop `function` against the implementation's own steps (replay_costs, replay_params: training's run)."""
    result = CheckResult(loop_check_name(function), "training", rtol)
    L, learning_rate, iterations = impl.L, plan.learning_rate, plan.epochs
    takes_rate = (
        "learning_rate" in inspect.signature(getattr(impl.module, function)).parameters or function != "nn_model"
    )
    try:
        with _instrumented(
            impl, start, learning_rate, force_rate=not takes_rate, plan=plan, state_start=state_start
        ) as seen:
            if plan.plain:
                params, costs = _run(impl, function, X, Y, start, learning_rate, iterations)
            else:
                params, costs = _run_optimizer(impl, function, X, Y, start, plan)
        if function != "optimize" and not seen["started"]:  # (optimize is handed the start as w and b)
            result.skipped = _own_start(impl.module)
            return result
        if plan.plain or costs:
            costs, at = _kept_costs(
                impl, function, costs, seen["costs"], iterations, replay_costs, "iteration" if plan.plain else "epoch"
            )
        else:  # a model() that returns its parameters alone: they are what is compared
            costs, at = [], []
            result.notes.append(
                f"{function}: it returned no costs (its parameters alone), so its final parameters alone are compared"
            )
        _check_batch_calls(impl, function, seen["batch_calls"], plan)
    except ImplementationError as error:
        result.error = error
        return result
    if seen["lr_forced"]:
        result.notes.append(
            f"{function} gives update_parameters no learning rate: its calls were given --lr "
            f"{learning_rate:g} in place of their default"
        )
    reference = [replay_costs[i] for i in at if i < len(replay_costs)]
    # no costs returned: no cost row (an empty one would read "unresolved", as if a cost had been compared)
    items = [("cost", L, np.array(costs[: len(reference)]), np.array(reference))] if reference else []
    items += [(k[0], int(k[1:]), params[k], replay_params[k]) for k in replay_params]
    scales = {
        ("cost", L): largest(reference),  # the course's loop returns values, not their terms: their own size
        **{(k[0], int(k[1:])): largest(v) for k, v in replay_params.items()},
    }
    result.compare(items, X.shape[1], scales)
    failed = next((row for row in result.rows.values() if not row.ok), None)
    if failed is not None:  # one hint, on the loop's first wrong row, where its calls fit a loop slip
        failed.hint = loop_slip(seen["calls"], learning_rate) or failed.hint
    unit = "iterations" if plan.plain else "epochs"
    result.notes.insert(
        0,
        f"run for {iterations} {unit} from the shared start, against {impl.label}'s own steps of the "
        "same run (which lockstep and free-running checked against torch)",
    )
    if at:
        result.notes.append(_costs_note(function, unit, at, costs, torch_costs))
    return result


def _costs_note(function: str, unit: str, at: list, costs: list, torch_costs: list) -> str:
    """'costs at iterations 0, 1, 2, 3, 4, ..., 199: nn_model a, b, c, d, e, ..., z; torch from the same start ...':
    both lists at the same iterations (the first five and the last); a list without a value at one of them says
    how many it kept."""
    shown = list(range(len(at))) if len(at) <= 5 else [0, 1, 2, 3, 4, len(at) - 1]
    sides = [(function, dict(zip(at, costs))), ("torch from the same start", dict(enumerate(torch_costs)))]
    return f"costs at {unit} {_span(at)}: " + "; ".join(
        f"{name} {_values([values.get(at[n]) for n in shown], len(at) > 5)}"
        + (f" (only {len(values)} kept)" if any(at[n] not in values for n in shown) else "")
        for name, values in sides
    )


def _values(values: list, elided: bool) -> str:
    """'a, b, c, d, e, ..., z' (elided: the last after '...'); a value not kept reads '-'."""
    text = [f"{v:.6g}" if v is not None else "-" for v in values]
    return ", ".join(text[:-1] + ["...", text[-1]] if elided else text)


def _kept_costs(
    impl: Adapter, function: str, costs, recorded: list, iterations: int, replay_costs: list, unit: str = "iteration"
) -> tuple[list, list]:
    """The loop's costs as numbers and the iterations they belong to: the list it returned (every iteration,
    or every 10th, 100th or 1000th from iteration 0, with or without the last), else its compute_cost calls.
    Where two spacings give as many costs, the one that fits the implementation's own steps is taken."""
    if costs is None or (isinstance(costs, (list, tuple)) and not costs):  # returned none, or kept none
        costs = recorded
    if not isinstance(costs, (list, tuple, np.ndarray)) or not all(np.size(c) == 1 for c in costs):
        raise ImplementationError(
            function, ValueError(f"its costs should be a list of numbers, one per kept {unit}, got {_kind(costs)}")
        )
    costs = [impl.number(function, c) for c in costs]
    spacings = []
    for every in (COST_EVERY, 1, 10, 1000):
        for last in (False, True):
            at = list(range(0, iterations, every)) + ([iterations - 1] if last and (iterations - 1) % every else [])
            if len(at) == len(costs) and at not in spacings:
                spacings.append(at)
    if not spacings:
        raise ImplementationError(
            function,
            ValueError(
                f"its costs list has {len(costs)} entries; over {iterations} {unit}s the course keeps one every "
                f"{COST_EVERY} from {unit} 0 ({len(range(0, iterations, COST_EVERY))})"
            ),
        )

    def misfit(at: list) -> float:
        return max((abs(c - replay_costs[i]) for c, i in zip(costs, at) if i < len(replay_costs)), default=0.0)

    return costs, min(spacings, key=misfit)  # min keeps the first (the course's) among equal fits


def _kind(value) -> str:
    return "nothing (None)" if value is None else f"a {type(value).__name__}"


def loop_check_name(function: str) -> str:
    return f"loop {function}"


@contextmanager
def _instrumented(
    impl: Adapter,
    start: dict,
    learning_rate: float,
    force_rate: bool,
    plan: Optimization,
    state_start: dict | None = None,
):
    """While the loop runs: its initialisers return the shared start (and the optimiser state the run began
    with, in the run's dtype), compute_cost's values are kept, (force_rate: a loop that takes no learning
    rate, nn_model) an update_parameters called without one gets the run's, and (with an optimiser)
    random_mini_batches returns the run's batches, epoch by epoch, its arguments kept."""
    module = impl.module
    seen = {
        "costs": [],
        "lr_forced": False,
        "epochs": 0,
        "batch_calls": [],
        "started": 0,
        "calls": {
            "updates": 0,
            "fixed": True,
            "first": None,
            "adam_t": None,
            "rate": None,  # hints.loop_slip's
            "adam_updates": 0,
            "adam_last_t": None,
        },
    }
    names = (
        "initialize_parameters",
        "initialize_parameters_deep",
        "compute_cost",
        "update_parameters",
        "random_mini_batches",
        "initialize_velocity",
        "initialize_adam",
        "update_parameters_with_adam",
        "update_parameters_with_momentum",
    )
    originals = {name: getattr(module, name) for name in names if callable(getattr(module, name, None))}

    def start_params(*args, **kwargs):
        seen["started"] += 1
        return {k: v.copy() for k, v in start.items()}

    def compute_cost(*args, **kwargs):
        cost = originals["compute_cost"](*args, **kwargs)
        seen["costs"].append(cost)
        return cost

    def update_parameters(parameters, grads, *args, **kwargs):
        if force_rate and not args and not kwargs:  # the learner's default rate: the run's instead
            seen["lr_forced"] = True
            args = (learning_rate,)
        calls = seen["calls"]
        # before the call: the course's own update_parameters writes into the dict it is handed
        handed = _copied(parameters) if calls["first"] is None else None
        if handed is None and calls["fixed"]:  # (compared only while no call has moved them: a cost of one call)
            calls["fixed"] = _same(parameters, calls["first"][0])
        result = originals["update_parameters"](parameters, grads, *args, **kwargs)
        calls["updates"] += 1
        if handed is not None:
            calls["first"] = (handed, _copied(grads), _copied(result))
        return result

    def optimizer_update(name: str):
        def update(*args, **kwargs):
            calls = seen["calls"]
            if calls["rate"] is None:  # the first call: the rate it was handed (or its default), and Adam's t
                given = _arguments(originals[name], args, kwargs)
                calls["rate"] = given.get("learning_rate", np.nan)
                calls["adam_t"] = given.get("t")
            if name == "update_parameters_with_adam":  # how t counted: the last t against the calls made
                calls["adam_updates"] += 1
                calls["adam_last_t"] = kwargs["t"] if "t" in kwargs else args[4] if len(args) > 4 else None
            return originals[name](*args, **kwargs)

        return update

    def random_mini_batches(X, Y, mini_batch_size=64, seed=0):
        epoch, seen["epochs"] = seen["epochs"], seen["epochs"] + 1
        seen["batch_calls"].append((mini_batch_size, seed))
        return [(X, Y) if rows is None else (X[:, rows], Y[:, rows]) for rows in plan.epoch_rows(epoch)]

    def state(*names):
        return lambda *args, **kwargs: tuple({k: v.copy() for k, v in state_start[n].items()} for n in names)

    wrappers = {
        "initialize_parameters": start_params,
        "initialize_parameters_deep": start_params,
        "compute_cost": compute_cost,
        "update_parameters": update_parameters,
        "random_mini_batches": random_mini_batches,
        "initialize_velocity": lambda *args, **kwargs: state("v")(*args, **kwargs)[0],
        "initialize_adam": state("v", "s"),
        "update_parameters_with_adam": optimizer_update("update_parameters_with_adam"),
        "update_parameters_with_momentum": optimizer_update("update_parameters_with_momentum"),
    }
    if plan.plain:
        originals.pop("random_mini_batches", None)
    if not state_start:  # no optimiser state: its initialisers run as they are
        originals.pop("initialize_velocity", None)
        originals.pop("initialize_adam", None)
    else:
        originals.pop("initialize_adam" if "s" not in state_start else "initialize_velocity", None)
    try:
        for name in originals:
            setattr(module, name, wrappers[name])
        if not plan.plain and "random_mini_batches" not in originals:  # a loop that calls it gets the run's
            # (a name the learner's module may lack: not one ModuleType declares)
            module.random_mini_batches = random_mini_batches  # type: ignore[attr-defined]
        yield seen
    finally:
        for name, original in originals.items():
            setattr(module, name, original)
        if not plan.plain and "random_mini_batches" not in originals:
            delattr(module, "random_mini_batches")


def _copied(values):
    return {k: np.array(v, copy=True) for k, v in values.items()} if isinstance(values, dict) else values


def _arguments(function, args: tuple, kwargs: dict) -> dict:
    """The arguments a call binds, by the function's own parameter names, defaults included ({} if they do not
    bind: the call itself then raises, and says so)."""
    try:
        bound = inspect.signature(function).bind(*args, **kwargs)
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


def _check_batch_calls(impl: Adapter, function: str, calls: list, plan: Optimization) -> None:
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


def _run_optimizer(impl: Adapter, function: str, X, Y, start: dict, plan: Optimization):
    """A loop that takes an optimizer, by its parameters' names: the course's model(X, Y, layers_dims,
    optimizer, learning_rate, mini_batch_size, beta, beta1, beta2, epsilon, num_epochs, print_cost, decay,
    decay_rate), or an L_layer_model(..., num_iterations, optimizer, ...). Returns (parameters, costs or None)."""
    loop = getattr(impl.module, function)
    names = inspect.signature(loop).parameters
    dims = [start["W1"].shape[1]] + [start[f"W{l}"].shape[0] for l in range(1, impl.L + 1)]
    given = {
        "optimizer": plan.optimizer,
        "learning_rate": plan.learning_rate,
        "mini_batch_size": plan.mini_batch_size or plan.m,
        "num_epochs": plan.epochs,
        "num_iterations": plan.epochs,
        "print_cost": False,
        "decay": _decay(impl, plan),
        "decay_rate": plan.decay_rate,
        "lambd": impl.lambd,
        **plan.settings(),
    }
    result = impl.call(function, X, Y, dims, **{k: v for k, v in given.items() if k in names})
    params, costs = result if isinstance(result, (tuple, list)) and len(result) == 2 else (result, None)
    return impl.checked_params(function, params, dims), costs


def _decay(impl: Adapter, plan: Optimization):
    """The loop's decay: the module's own update_lr or schedule_lr_decay, called the course's way
    decay(learning_rate0, epoch_num, decay_rate), with the run's interval; None without --decay."""
    if plan.decay is None:
        return None
    function = getattr(impl.module, DECAY_FUNCTIONS[plan.decay])
    if plan.decay == "scheduled" and getattr(impl, "decay_takes_interval", False):
        return lambda learning_rate0, epoch_num, decay_rate: function(
            learning_rate0, epoch_num, decay_rate, plan.decay_interval
        )
    return function


# The course's signatures, in order: a loop is called positionally, whatever it names its arguments.
def _run(impl: Adapter, function: str, X, Y, start: dict, learning_rate: float, iterations: int):
    """(final parameters as {W1, b1, ...}, the costs it returned, or None)."""
    loop = getattr(impl.module, function)
    quiet = {"print_cost": False} if "print_cost" in inspect.signature(loop).parameters else {}
    dims = [start["W1"].shape[1]] + [start[f"W{l}"].shape[0] for l in range(1, impl.L + 1)]
    if function == "optimize":  # optimize(w, b, X, Y, num_iterations, learning_rate, print_cost)
        w, b = start["W1"].T, start["b1"].item()
        result = impl.call(function, w, b, X, Y, iterations, learning_rate, **quiet)
        impl.expect(
            isinstance(result, (tuple, list)) and len(result) == 3 and isinstance(result[0], dict),
            function,
            "expected (params, grads, costs)",
        )
        params, _, costs = result
        assert isinstance(impl, LogRegAPI), "optimize is the week 2 API's loop"
        return impl.as_params(function, params.get("w"), params.get("b"), n_x=dims[0]), costs
    names = inspect.signature(loop).parameters
    # the counts by name where the loop names them (learners order them differently), else in the course's order
    counts = {k: v for k, v in (("num_iterations", iterations), ("learning_rate", learning_rate)) if k in names}
    regularized = {"lambd": impl.lambd} if impl.lambd else {}
    if function == "nn_model":  # nn_model(X, Y, n_h, num_iterations, print_cost), some with a learning_rate too
        result = (
            impl.call(function, X, Y, dims[1], **counts, **quiet)
            if "num_iterations" in counts
            else impl.call(function, X, Y, dims[1], iterations, **quiet)
        )
    else:  # two_layer_model / L_layer_model(X, Y, layers_dims, learning_rate, num_iterations, print_cost)
        layers_dims = tuple(dims) if function == "two_layer_model" else dims
        result = (
            impl.call(function, X, Y, layers_dims, **counts, **quiet, **regularized)
            if len(counts) == 2
            else impl.call(function, X, Y, layers_dims, learning_rate, iterations, **quiet, **regularized)
        )
    params, costs = result if isinstance(result, (tuple, list)) and len(result) == 2 else (result, None)
    return impl.checked_params(function, params, dims), costs


def _span(at: list) -> str:
    return ", ".join(map(str, at)) if len(at) <= 5 else f"{', '.join(map(str, at[:5]))}, ..., {at[-1]}"
