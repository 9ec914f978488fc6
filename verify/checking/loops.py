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

The second course's notebooks' model() runs the same way on the course2 API: the initialization notebook's
(initialization="he": its initialize_parameters_he hands it the start), the regularization notebook's with the
run's lambd and keep_prob (its forward_propagation_with_dropout seeds its own masks, the same at every call, so the
loop draws the masks the run drew; one that does not seed is not compared), their costs read from the calls of the
run's cost function (compute_loss, compute_cost, or compute_cost_with_regularization with --lambd; opt_utils'
summed compute_cost divided by m), and the optimisation notebook's like the deep API's, its update
update_parameters_with_gd.

Only a loop the module defines itself is run (loop_origin): one it imports calls its own module's
initialiser, never the shared start. While a loop runs, its calls of update_parameters and Adam's update are
watched, so the slip a failed loop fits is named (hints.loop_slip): t handed as 0, the same parameters
handed at every call (the result never assigned), a first step at a rate other than the run's.

This module chooses the loops and judges their runs; loop_calls.py calls a loop, loop_watch.py watches it run. What
they learn of the module (the functions it defines, their parameters, where a loop comes from) they ask the
adapter, which alone reads or changes it (impl/module_access.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from .. import catalogue
from ..errors import ImplementationError
from ..impl import Adapter
from ..impl.module_access import loop_origin
from ..impl.sizes import size_of_depth
from ..judging.compare import CheckResult
from ..judging.hint_fits import matches
from ..judging.optimizer_hints import loop_slip
from ..judging.tolerance import largest
from ..optimization import Optimization
from .loop_calls import LoopRun, run_loop, run_optimizer_loop
from .loop_watch import Serve, check_batch_calls, instrumented

COST_EVERY = 100  # the course records the cost every 100 iterations
OPTIMISER_LOOP_APIS = ("deep", "course2")  # the APIs whose adapters run a loop that takes an optimizer

__all__ = ["LoopRun", "Replay", "check_loop", "loop_check_name", "loop_functions", "loop_origin"]


@dataclass(frozen=True)
class Replay:
    """The run training made of the implementation's own steps, which a loop's run is compared with: its costs
    and final parameters, torch's costs from the same start, and the optimiser state its initialiser began with."""

    costs: list
    params: dict
    torch_costs: list
    state_start: dict | None = None


def _other_depth(name: str, impl: Adapter) -> str:
    """Why a loop of a fixed depth other than the run's does not run (two_layer_model beside the application
    notebook's deeper layers_dims), or ""."""
    loop = catalogue.by_name(name, impl.API).loop
    if loop is None or loop.layers in (None, impl.L):
        return ""
    sizes = size_of_depth(impl.module, impl.API, loop.layers) if isinstance(impl.module, ModuleType) else None
    arch = ",".join(map(str, sizes)) + " (its n_x, n_h, n_y)" if sizes else "n_x,n_h,n_y (its own sizes)"
    return f"it trains a network of {loop.layers} layers and this run's has {impl.L}: run again with --arch {arch} to verify it"


def loop_functions(impl: Adapter, plan: Optimization) -> dict[str, str]:
    """The course loops this implementation defines: name -> "" when it can run this training, else why not."""
    course = tuple(impl.activations) == Adapter.default_activations(impl.L) and impl.loss == "bce"
    plain, takes = _course_loops(impl)
    reason = (
        ""
        if course or impl.API != "deep"
        else (
            f"it computes the course's network (relu hidden layers, a sigmoid output, bce), not --activations "
            f"{','.join(impl.activations)} --loss {impl.loss}"
        )
    )
    if plan.plain:
        found = {f: _other_depth(f, impl) or reason for f in plain if impl.defines(f)}
        found.update(  # the optimisation course's model(X, Y, layers_dims, optimizer, ...): its own options run it
            {
                f: "it takes an optimizer and mini-batches: run again with --optimizer gd, momentum or adam and "
                "--mini-batch-size 64 to verify it"
                for f in takes
                if f not in found
            }
        )
    else:
        found = {
            f: "it takes no optimizer: it is checked against full-batch gradient descent at one rate (no "
            "--optimizer, --mini-batch-size or --decay)"
            for f in plain
            if impl.defines(f)
        }
        found.update({f: reason for f in takes})
    for f in found:  # a loop imported from elsewhere calls that module's initialiser, not the run's shared start
        origin = impl.origin_of(f)
        if origin:
            found[f] = f"it comes from {origin} and starts from its own initialiser"
    if impl.keep_probs is not None:  # dropout: a loop draws its own masks, never the run's
        return {f: why or _dropout(impl, f) for f, why in found.items()}
    if impl.lambd:  # an L2-regularised run: only a loop that takes lambd runs it
        found = {
            f: why
            or (
                ""
                if "lambd" in impl.parameters_of(f)
                else "it takes no lambd, so it cannot run the run's L2 regularisation"
            )
            for f, why in found.items()
        }
    return found


def _course_loops(impl: Adapter) -> tuple[list[str], list[str]]:
    """(the plain loops, those that take an optimizer) of impl's API, by name: a plain loop is not one of the same
    name that takes an optimizer (the optimisation notebook's model()); one that takes it is the optimisation
    course's model() or an L_layer_model like scratch's."""
    loops = catalogue.loops()
    plain = [
        f.name
        for f in loops
        if f.loop is not None
        and f.loop.plain
        and impl.API in f.family
        and (f.loop.optimizer or "optimizer" not in impl.parameters_of(f.name))
    ]
    takes = [
        f.name
        for f in loops
        if f.loop is not None
        and f.loop.optimizer
        and impl.API in OPTIMISER_LOOP_APIS
        and "optimizer" in impl.parameters_of(f.name)
    ]
    return plain, takes


def _dropout(impl: Adapter, function: str) -> str:
    """ "" where the loop can run the run's dropout, else why not: only a loop that takes keep_prob, on the second
    course's API, whose forward_propagation_with_dropout seeds and draws its own masks (check_loop makes sure
    they are the same at every call), draws the masks the run drew."""
    if impl.API == "course2" and impl.draws_masks:
        return "" if "keep_prob" in impl.parameters_of(function) else "it takes no keep_prob, so it cannot run dropout"
    return "with dropout it draws its own masks, which cannot be the ones the run handed both sides"


def _masks_vary(impl: Adapter, run: LoopRun) -> str:
    """With dropout drawn by the implementation: why a loop cannot draw the masks the run drew (its forward pass
    draws new ones at every call: it does not seed NumPy's generator), else ""."""
    if impl.keep_probs is None or not impl.draws_masks:
        return ""
    drawn = [impl.masks_of(impl.forward(run.X, run.start, [])[1]) or [] for _ in range(2)]
    if all(np.array_equal(a, b) for a, b in zip(*drawn)):
        return ""
    return (
        f"{impl.label}'s forward pass draws new dropout masks at every call (it does not seed NumPy's generator), "
        "so the loop cannot draw the masks the run drew (its run was not compared)"
    )


def _own_start(impl: Adapter) -> str:
    """Why a loop that never called the course's initialiser is not compared: it did not take the shared start."""
    starts = [f.name for f in catalogue.watched().values() if f.watch == "start"]  # what hands a loop the start
    names = " or ".join(n for n in starts if impl.defines(n))
    return (
        f"it never called {names or catalogue.initialisers('deep')[0].name}, so it started from parameters of its own, not "
        "the shared start (its run was not compared)"
    )


def _other_sizes(initialiser: str, sizes: list[int | None], dims: list[int]) -> str:
    """What a loop that asked its initialiser for other sizes than the run's is told."""
    why = (
        "a size left None, as an exercise's `= None` placeholder leaves it"
        if None in sizes
        else "a size hard-coded, or an argument overwritten before the call"
    )
    return (
        f"it called {initialiser} for layer sizes {', '.join(map(str, sizes))}, not the sizes it was given, "
        f"{', '.join(map(str, dims))}: it builds a network of its own sizes ({why})"
    )


def check_loop(
    impl: Adapter, function: str, run: LoopRun, replay: Replay, rtol: float, ran: tuple | None = None
) -> CheckResult:
    """The loop `function`, run from the shared start with the run's data and plan, against the implementation's
    own steps of that run (replay: training's); `ran`, run_watched's answer where the loop already ran whole
    (it took training's steps: loop_driven.py)."""
    result = CheckResult(loop_check_name(function), "training", rtol)
    plan = run.plan
    L, learning_rate, iterations = impl.L, plan.learning_rate, plan.epochs
    try:
        unheld = _masks_vary(impl, run)
        if unheld:
            result.skipped = unheld
            return result
        seen, params, costs = ran or run_watched(impl, function, run, replay.state_start)
        if function != "optimize" and not seen["started"]:  # (optimize is handed the start as w and b)
            result.skipped = _own_start(impl)
            return result
        if seen["sized"] is not None:  # it was handed the shared start all the same: only its call shows the slip
            initialiser, sizes = seen["sized"]
            message = ValueError(_other_sizes(initialiser, sizes, run.dims(L)))
            raise ImplementationError(function, message, what=f"called {initialiser} for other layer sizes")
        if _none_kept(costs) and not _none_kept(seen["plotted"]):  # a model() returning none plots the costs it kept
            costs = seen["plotted"]
            result.notes.append(f"{function}: its costs are those it plotted (plt.plot(costs)), one per kept epoch")
        if plan.plain or not _none_kept(costs):
            costs, at = _kept_costs(impl, function, costs, seen["costs"], plan, replay.costs)
        else:  # a model() that returns its parameters alone: they are what is compared
            costs, at = [], []
            result.notes.append(
                f"{function}: it returned no costs (its parameters alone), so its final parameters alone are compared"
            )
        check_batch_calls(impl, function, seen["batch_calls"], plan)
    except ImplementationError as error:
        result.error = error
        return result
    if seen["lr_forced"]:
        result.notes.append(
            f"{function} gives update_parameters no learning rate: its calls were given --lr "
            f"{learning_rate:g} in place of their default"
        )
    _compare_with_replay(result, L, run.X.shape[1], (costs, at, params), replay.costs, replay.params)
    cost_row = result.rows.get(("cost", L))
    if cost_row is not None and not cost_row.ok and _one_late(costs, at, replay.costs):
        cost_row.hint = LATE_COSTS
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
        result.notes.append(_costs_note(function, unit, at, costs, replay.torch_costs))
    return result


def run_watched(impl: Adapter, function: str, run: LoopRun, state_start: dict | None, serve: Serve | None = None):
    """(what its calls showed, its final parameters, the costs it returned): the loop run from the shared start
    (with serve, its calls of the step's functions served by training's steps: loop_driven.py)."""
    takes_rate = "learning_rate" in impl.parameters_of(function) or function != "nn_model"
    with instrumented(impl, run, force_rate=not takes_rate, state_start=state_start, serve=serve) as seen:
        if run.plan.plain:
            params, costs = run_loop(impl, function, run)
        else:
            params, costs = run_optimizer_loop(impl, function, run)
    return seen, params, costs


def _compare_with_replay(
    result: CheckResult, L: int, m: int, ran: tuple, replay_costs: list, replay_params: dict
) -> None:
    """The loop's kept costs and final parameters (ran: costs, their iterations, parameters) against the
    implementation's own steps, each on the scale of its own values."""
    costs, at, params = ran
    reference = [replay_costs[i] for i in at if i < len(replay_costs)]
    # no costs returned: no cost row (an empty one would read "unresolved", as if a cost had been compared)
    items = [("cost", L, np.array(costs[: len(reference)]), np.array(reference))] if reference else []
    items += [(k[0], int(k[1:]), params[k], replay_params[k]) for k in replay_params]
    scales = {
        ("cost", L): largest(reference),  # the course's loop returns values, not their terms: their own size
        **{(k[0], int(k[1:])): largest(v) for k, v in replay_params.items()},
    }
    result.compare(items, m, scales)


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


def _none_kept(costs) -> bool:
    """No costs: None, or an empty list, tuple or array (np.array(costs) of a loop that kept none)."""
    if isinstance(costs, np.ndarray):
        return costs.size == 0
    return costs is None or (isinstance(costs, (list, tuple)) and not costs)


def _kept_costs(
    impl: Adapter, function: str, costs, recorded: list, plan: Optimization, replay_costs: list
) -> tuple[list, list]:
    """The loop's costs as numbers and the iterations they belong to: the list it returned (every iteration,
    or every 10th, 100th or 1000th from iteration 0, with or without the last), else its compute_cost calls;
    none where it returns no list and calls compute_cost never (its parameters are judged alone).
    Where two spacings give as many costs, the one that fits the implementation's own steps is taken."""
    iterations, unit = plan.epochs, "iteration" if plan.plain else "epoch"
    if costs is None and not recorded:  # nn_model returns no costs, and computed none (only where it prints one)
        return [], []
    if _none_kept(costs):  # returned none, or kept none
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


LATE_COSTS = (
    "its costs are those of the iteration after each one kept: a cost computed after the update (the course's comes "
    "from the iteration's own forward pass, before it), or kept at i % 100 == 1"
)


def _one_late(costs: list, at: list, replay_costs: list) -> bool:
    """Whether the costs kept at `at` are, at least twice and each, the implementation's own costs one iteration
    later (the last kept may have none to compare)."""
    pairs = [(c, replay_costs[i + 1]) for c, i in zip(costs, at) if i + 1 < len(replay_costs)]
    return len(pairs) >= 2 and all(matches(c, later) for c, later in pairs)


def _kind(value) -> str:
    return "nothing (None)" if value is None else f"a {type(value).__name__}"


def loop_check_name(function: str) -> str:
    return f"loop {function}"


def _span(at: list) -> str:
    return ", ".join(map(str, at)) if len(at) <= 5 else f"{', '.join(map(str, at[:5]))}, ..., {at[-1]}"
