"""How a course loop is called: by the course's signatures, positionally, or by its parameters' names where it
names them, with the run's counts, rate, optimiser settings and decay; what it returns is read back as the
network's parameters and its costs. The loop is called, and its parameters read, through the adapter.
"""

from __future__ import annotations

import io
from contextlib import nullcontext, redirect_stderr
from dataclasses import dataclass

import numpy as np

from .. import catalogue
from ..impl import Adapter, LogRegAPI
from ..impl.base import _describe
from ..optimization import Optimization


@dataclass(frozen=True)
class LoopRun:
    """What a loop is run with: the run's data, the shared start it began from, and the run's training plan."""

    X: np.ndarray
    Y: np.ndarray
    start: dict
    plan: Optimization

    def dims(self, L: int) -> list[int]:
        """The network's sizes, read from the start: [n_x, n[1], ..., n[L]]."""
        return [self.start["W1"].shape[1]] + [self.start[f"W{l}"].shape[0] for l in range(1, L + 1)]


def run_optimizer_loop(impl: Adapter, function: str, run: LoopRun):
    """A loop that takes an optimizer, by its parameters' names: the course's model(X, Y, layers_dims,
    optimizer, learning_rate, mini_batch_size, beta, beta1, beta2, epsilon, num_epochs, print_cost, decay,
    decay_rate), or an L_layer_model(..., num_iterations, optimizer, ...). Returns (parameters, costs or None)."""
    plan = run.plan
    names = impl.parameters_of(function)
    dims = run.dims(impl.L)
    given = {
        "optimizer": plan.optimizer,
        "learning_rate": plan.learning_rate,
        "mini_batch_size": plan.mini_batch_size or plan.m,
        "num_epochs": plan.epochs,
        "num_iterations": plan.epochs,
        "print_cost": impl.PLOTTED_COSTS,  # such a model() keeps its costs only when it prints them
        "decay": _decay(impl, plan),
        "decay_rate": plan.decay_rate,
        "lambd": impl.lambd,
        **plan.settings(),
    }
    # print_cost is the verifier's choice there: what the model prints because of it is not shown
    with redirect_stderr(io.StringIO()) if given["print_cost"] else nullcontext():
        result = impl.call(function, run.X, run.Y, dims, **{k: v for k, v in given.items() if k in names})
    params, costs = result if isinstance(result, (tuple, list)) and len(result) == 2 else (result, None)
    return impl.checked_params(function, params, dims), costs


def _decay(impl: Adapter, plan: Optimization):
    """The loop's decay: the module's own update_lr or schedule_lr_decay, called the course's way
    decay(learning_rate0, epoch_num, decay_rate), with the run's interval; None without --decay."""
    if plan.decay is None:
        return None
    function = impl.own_function(catalogue.decay_functions()[plan.decay])
    if plan.decay == "scheduled" and getattr(impl, "decay_takes_interval", False):
        return lambda learning_rate0, epoch_num, decay_rate: function(
            learning_rate0, epoch_num, decay_rate, plan.decay_interval
        )
    return function


def _course2_settings(impl: Adapter) -> dict:
    """The second course's model()'s own settings, as the run sets them: the initialization notebook's starts from
    initialize_parameters_he (its default, and the initialiser that hands it the shared start), the regularization
    notebook's takes the run's lambd and keep_prob (0 and 1: neither)."""
    keep_prob = impl.keep_probs[0] if impl.keep_probs is not None else 1
    return {"initialization": "he", "lambd": impl.lambd, "keep_prob": keep_prob}


# The course's signatures, in order: a loop is called positionally, whatever it names its arguments.
def run_loop(impl: Adapter, function: str, run: LoopRun):
    """(final parameters as {W1, b1, ...}, the costs it returned, or None), run for the plan's iterations at its
    learning rate."""
    X, Y, start, learning_rate, iterations = run.X, run.Y, run.start, run.plan.learning_rate, run.plan.epochs
    names = impl.parameters_of(function)
    quiet = {"print_cost": False} if "print_cost" in names else {}
    dims = run.dims(impl.L)
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
    if impl.API == "logreg":  # model(X_train, Y_train, X_test, Y_test, num_iterations, learning_rate, print_cost)
        half = max(1, X.shape[1] // 2)  # a test set of its own: a model() training on it trains another run
        d = impl.call(function, X, Y, X[:, :half], Y[:, :half], iterations, learning_rate, **quiet)
        impl.expect(isinstance(d, dict), function, f'expected a dict d with "costs", "w" and "b", got {_describe(d)}')
        assert isinstance(impl, LogRegAPI), "model(X_train, Y_train, X_test, Y_test, ...) is the week 2 API's"
        return impl.as_params(function, d.get("w"), d.get("b"), n_x=dims[0]), d.get("costs")
    # the counts by name where the loop names them (learners order them differently), else in the course's order
    counts = {k: v for k, v in (("num_iterations", iterations), ("learning_rate", learning_rate)) if k in names}
    regularized = {"lambd": impl.lambd} if impl.lambd else {}
    if impl.API == "course2":  # model(X, Y, learning_rate, num_iterations, print_cost, ...): its sizes are its own
        settings = {k: v for k, v in _course2_settings(impl).items() if k in names}
        result = (
            impl.call(function, X, Y, **counts, **quiet, **settings)
            if len(counts) == 2
            else impl.call(function, X, Y, learning_rate, iterations, **quiet, **settings)
        )
    elif function == "nn_model":  # nn_model(X, Y, n_h, num_iterations, print_cost), some with a learning_rate too
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
