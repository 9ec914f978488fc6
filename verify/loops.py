"""The course's training loops, whole: optimize (week 2), nn_model (week 3), two_layer_model and
L_layer_model (week 4).

A loop is run for the run's iterations from the run's shared start (its initialiser, while it
runs, returns that start; optimize takes it as w and b) at the run's learning rate. It must
then be exactly the implementation's own functions stepped one iteration at a time from that
start, which is what lockstep and free-running checked against torch: its recorded costs (the
course keeps every 100th; nn_model's are read from its compute_cost calls) and its final
parameters are compared with that run, to rounding. So a slip that lives only in the loop (a
bias never updated, the cost kept after the update, a hard-coded learning rate, the initial
parameters returned) is named on the loop, and the loop inherits the rest of the verdict.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager

import numpy as np

from .compare import CheckResult
from .errors import ImplementationError
from .impl import Adapter

COST_EVERY = 100  # the course records the cost every 100 iterations


def loop_functions(impl: Adapter) -> dict[str, str]:
    """The course loops this implementation defines: name -> "" when it can run this network, else why not."""
    module = impl.module
    course = tuple(impl.activations) == Adapter.default_activations(impl.L) and impl.loss == "bce"
    candidates = {"logreg": ["optimize"], "shallow": ["nn_model"],
                  "deep": (["two_layer_model"] if impl.L == 2 else []) + ["L_layer_model"]}
    reason = "" if course or impl.API != "deep" else (
        f"it computes the course's network (relu hidden layers, a sigmoid output, bce), not --activations "
        f"{','.join(impl.activations)} --loss {impl.loss}")
    return {f: reason for f in candidates.get(impl.API, []) if callable(getattr(module, f, None))}


def check_loop(impl: Adapter, function: str, X: np.ndarray, Y: np.ndarray, start: dict, learning_rate: float,
               iterations: int, replay_costs: list, replay_params: dict, torch_costs: list, rtol: float) -> CheckResult:
    """The loop `function` against the implementation's own steps (replay_costs, replay_params: training's run)."""
    result = CheckResult(loop_check_name(function), "training", rtol)
    L = impl.L
    takes_rate = "learning_rate" in inspect.signature(getattr(impl.module, function)).parameters or function != "nn_model"
    try:
        with _instrumented(impl, start, learning_rate, force_rate=not takes_rate) as seen:
            params, costs = _run(impl, function, X, Y, start, learning_rate, iterations)
        costs, at = _kept_costs(impl, function, costs, seen["costs"], iterations, replay_costs)
    except ImplementationError as error:
        result.error = error
        return result
    if seen["lr_forced"]:
        result.notes.append(f"{function} gives update_parameters no learning rate: its calls were given --lr "
                            f"{learning_rate:g} in place of their default")
    reference = [replay_costs[i] for i in at if i < len(replay_costs)]
    items = [("cost", L, np.array(costs[:len(reference)]), np.array(reference))]
    items += [(k[0], int(k[1:]), params[k], replay_params[k]) for k in replay_params]
    scales = {("cost", L): float(np.max(np.abs(reference))) if reference else 0.0,
              **{(k[0], int(k[1:])): float(np.max(np.abs(v))) for k, v in replay_params.items()}}
    result.compare(items, X.shape[1], scales)
    result.notes.insert(0, f"run for {iterations} iterations from the shared start, against {impl.label}'s own steps of the "
                        "same run (which lockstep and free-running checked against torch)")
    shown = min(len(at), 5)
    if at:
        result.notes.append(f"costs at iterations {_span(at)}: {function} " + ", ".join(f"{c:.6g}" for c in costs[:shown])
                            + "; torch from the same start "
                            + ", ".join(f"{torch_costs[i]:.6g}" for i in at[:shown] if i < len(torch_costs))
                            + (", ..." if len(at) > shown else ""))
    return result


def _kept_costs(impl: Adapter, function: str, costs, recorded: list, iterations: int,
                replay_costs: list) -> tuple[list, list]:
    """The loop's costs as numbers and the iterations they belong to: the list it returned (every iteration,
    or every 10th, 100th or 1000th from iteration 0, with or without the last), else its compute_cost calls.
    Where two spacings give as many costs, the one that fits the implementation's own steps is taken."""
    if costs is None or (isinstance(costs, (list, tuple)) and not costs):  # returned none, or kept none
        costs = recorded
    if not isinstance(costs, (list, tuple, np.ndarray)) or not all(np.size(c) == 1 for c in costs):
        raise ImplementationError(function, ValueError(f"its costs should be a list of numbers, one per kept "
                                                       f"iteration, got {_kind(costs)}"))
    costs = [impl.number(function, c) for c in costs]
    spacings = []
    for every in (COST_EVERY, 1, 10, 1000):
        for last in (False, True):
            at = list(range(0, iterations, every)) + ([iterations - 1] if last and (iterations - 1) % every else [])
            if len(at) == len(costs) and at not in spacings:
                spacings.append(at)
    if not spacings:
        raise ImplementationError(function, ValueError(
            f"its costs list has {len(costs)} entries; over {iterations} iterations the course keeps one every "
            f"{COST_EVERY} from iteration 0 ({len(range(0, iterations, COST_EVERY))})"))
    def misfit(at: list) -> float:
        return max((abs(c - replay_costs[i]) for c, i in zip(costs, at) if i < len(replay_costs)), default=0.0)
    return costs, min(spacings, key=misfit)  # min keeps the first (the course's) among equal fits


def _kind(value) -> str:
    return "nothing (None)" if value is None else f"a {type(value).__name__}"


def loop_check_name(function: str) -> str:
    return f"loop {function}"


@contextmanager
def _instrumented(impl: Adapter, start: dict, learning_rate: float, force_rate: bool):
    """While the loop runs: its initialiser returns the shared start, compute_cost's values are kept, and
    (force_rate: a loop that takes no learning rate, nn_model) an update_parameters called without one gets the run's."""
    module, seen = impl.module, {"costs": [], "lr_forced": False}
    originals = {name: getattr(module, name) for name in ("initialize_parameters", "initialize_parameters_deep",
                                                          "compute_cost", "update_parameters")
                 if callable(getattr(module, name, None))}

    def start_params(*args, **kwargs):
        return {k: v.copy() for k, v in start.items()}

    def compute_cost(*args, **kwargs):
        cost = originals["compute_cost"](*args, **kwargs)
        seen["costs"].append(cost)
        return cost

    def update_parameters(parameters, grads, *args, **kwargs):
        if force_rate and not args and not kwargs:  # the learner's default rate: the run's instead
            seen["lr_forced"] = True
            args = (learning_rate,)
        return originals["update_parameters"](parameters, grads, *args, **kwargs)

    wrappers = {"initialize_parameters": start_params, "initialize_parameters_deep": start_params,
                "compute_cost": compute_cost, "update_parameters": update_parameters}
    try:
        for name in originals:
            setattr(module, name, wrappers[name])
        yield seen
    finally:
        for name, original in originals.items():
            setattr(module, name, original)


# The course's signatures, in order: a loop is called positionally, whatever it names its arguments.
def _run(impl: Adapter, function: str, X, Y, start: dict, learning_rate: float, iterations: int):
    """(final parameters as {W1, b1, ...}, the costs it returned, or None)."""
    loop = getattr(impl.module, function)
    quiet = {"print_cost": False} if "print_cost" in inspect.signature(loop).parameters else {}
    dims = [start["W1"].shape[1]] + [start[f"W{l}"].shape[0] for l in range(1, impl.L + 1)]
    if function == "optimize":  # optimize(w, b, X, Y, num_iterations, learning_rate, print_cost)
        w, b = start["W1"].T, start["b1"].item()
        result = impl.call(function, w, b, X, Y, iterations, learning_rate, **quiet)
        impl.expect(isinstance(result, (tuple, list)) and len(result) == 3 and isinstance(result[0], dict), function,
                    "expected (params, grads, costs)")
        params, _, costs = result
        return impl.as_params(function, params.get("w"), params.get("b"), n_x=dims[0]), costs
    names = inspect.signature(loop).parameters
    # the counts by name where the loop names them (learners order them differently), else in the course's order
    counts = {k: v for k, v in (("num_iterations", iterations), ("learning_rate", learning_rate)) if k in names}
    if function == "nn_model":  # nn_model(X, Y, n_h, num_iterations, print_cost), some with a learning_rate too
        result = impl.call(function, X, Y, dims[1], **counts, **quiet) if "num_iterations" in counts else \
            impl.call(function, X, Y, dims[1], iterations, **quiet)
    else:  # two_layer_model / L_layer_model(X, Y, layers_dims, learning_rate, num_iterations, print_cost)
        layers_dims = tuple(dims) if function == "two_layer_model" else dims
        result = impl.call(function, X, Y, layers_dims, **counts, **quiet) if len(counts) == 2 else \
            impl.call(function, X, Y, layers_dims, learning_rate, iterations, **quiet)
    params, costs = result if isinstance(result, (tuple, list)) and len(result) == 2 else (result, None)
    return impl.checked_params(function, params, dims), costs


def _span(at: list) -> str:
    return ", ".join(map(str, at)) if len(at) <= 5 else f"{', '.join(map(str, at[:5]))}, ..., {at[-1]}"
