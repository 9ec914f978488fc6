"""How a course loop is called: by the course's signatures, positionally, or by its parameters' names where it
names them, with the run's counts, rate, optimiser settings and decay; what it returns is read back as the
network's parameters and its costs.
"""

from __future__ import annotations

import inspect

from . import catalogue
from .impl import Adapter, LogRegAPI
from .optimization import Optimization


def run_optimizer_loop(impl: Adapter, function: str, X, Y, start: dict, plan: Optimization):
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
    function = getattr(impl.module, catalogue.decay_functions()[plan.decay])
    if plan.decay == "scheduled" and getattr(impl, "decay_takes_interval", False):
        return lambda learning_rate0, epoch_num, decay_rate: function(
            learning_rate0, epoch_num, decay_rate, plan.decay_interval
        )
    return function


# The course's signatures, in order: a loop is called positionally, whatever it names its arguments.
def run_loop(impl: Adapter, function: str, X, Y, start: dict, learning_rate: float, iterations: int):
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
