"""The initialization notebook's experiment, verified: the network trained from each of its three initialisers.

The course's initialization notebook trains its 3-layer network from initialize_parameters_zeros, _random (randn x
10) and _he, and draws the lesson: zeros never break the symmetry, random x10 starts badly, He trains. For a module
that defines the three and a model() taking `initialization`, the run does the same on both sides: each
initialiser is called through the adapter (its copies, its shape checks, its errors), and from its parameters the
learner's own forward, cost, backward and update and torch_ref each train for the run's iterations at the run's
rate on the whole batch, by training.train_and_compare, the machinery of the run's own training. Each initialiser
gets one check, `init <kind>`: the free-running rows (both sides on their own, every iteration's cost and
parameters within the allowance the dynamics give), and any lockstep row that broke (`step <quantity>`), so the
table reads like the run's free-running one.

Where the course's own cost is log(0) (random x10: A[L] reaches exactly 1.0 at once, and the course prints inf),
training stops comparing, as the run's training does; each side then goes on uncompared to the run's last
iteration, so that both cost curves and final costs exist, and the check says from which iteration nothing was
compared.

The lesson is checked on the numbers and said in each check's notes: a note per initialiser with its initial and
final cost on each side; zeros: every hidden layer's W[l] rows still equal on both sides; random: its initial cost
above He's on both sides; He: its final cost below zeros' on both sides. Each note says so, or says that it does
not hold.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

import torch_ref

from ..errors import ImplementationError
from ..impl import Adapter
from ..judging.compare import CheckResult
from ..layers import torch_model
from ..results import Sides
from ..run_inputs import RunInputs
from .training import train_and_compare

KINDS = ("zeros", "random", "he")  # the notebook's order
LOOP = "model"  # the notebook's model(X, Y, ..., initialization="he")
CHECK = "init "  # each initialiser's check: "init zeros", "init random", "init he"

# (kind, iteration, the implementation's cost, torch's): a cost curve's point, None where a side has none
OnCost = Callable[[str, int, float | None, float | None], None]


def initialiser(kind: str) -> str:
    return f"initialize_parameters_{kind}"


def check_name(kind: str) -> str:
    return CHECK + kind


def runs_experiment(impl: Adapter) -> bool:
    """Whether the module is the initialization notebook's: the second course's API, its three initialisers and a
    model() that takes `initialization`."""
    return (
        impl.API == "course2"
        and all(impl.defines(initialiser(kind)) for kind in KINDS)
        and "initialization" in impl.parameters_of(LOOP)
    )


@dataclass
class Trained:
    """One initialiser's run: its check, each side's cost before every update, its start and each side's final
    parameters and cost (None where the implementation raised)."""

    kind: str
    check: CheckResult
    costs: Sides[list] = field(default_factory=lambda: Sides([], []))
    start: dict | None = None
    final: Sides[dict] | None = None
    final_cost: Sides[float | None] = field(default_factory=lambda: Sides(None, None))

    @property
    def initial_cost(self) -> Sides[float | None]:
        return Sides(*(values[0] if values else None for _, values in self.costs.items()))


def train_from_initialisers(
    inputs: RunInputs, device, on_cost: OnCost | None = None, stage: Callable[[str], None] | None = None
) -> list[CheckResult]:
    """The experiment: one check per initialiser (zeros, random, he), the lesson in their notes. `on_cost` hears
    each cost curve's points (the TensorBoard log), `stage` each training as it starts (the progress line)."""
    plan = inputs.plan
    if not plan.plain:  # the notebook trains full-batch gradient descent at one rate
        why = "the notebook trains full-batch gradient descent (no --optimizer, --mini-batch-size or --decay)"
        return [CheckResult(check_name(kind), "training", inputs.rtol, skipped=why) for kind in KINDS]
    if plan.steps_total == 0:
        return [CheckResult(check_name(kind), "training", inputs.rtol, skipped="no iterations") for kind in KINDS]
    runs = []
    for kind in KINDS:
        if stage is not None:
            stage(f"training from {initialiser(kind)} on both sides")
        runs.append(_train(kind, inputs, device, on_cost))
    _lessons(runs, inputs.impl.label, plan.steps_total)
    return [run.check for run in runs]


def _train(kind: str, inputs: RunInputs, device, on_cost: OnCost | None) -> Trained:
    """From the initialiser's parameters, both sides trained and compared (training.train_and_compare), then, where
    the comparison stopped at a saturated output, each side on its own to the last iteration."""
    impl, config = inputs.impl, inputs.config
    assert config.arch is not None, "the network is resolved before any check"
    name, dims = initialiser(kind), list(config.arch)
    check = CheckResult(check_name(kind), "training", inputs.rtol)
    try:
        start = impl.checked_params(name, impl.call(name, dims), dims)
        start = {k: np.asarray(v, dtype=config.dtype) for k, v in start.items()}
    except ImplementationError as error:
        check.error = error
        return Trained(kind, check)
    model_free = torch_model(impl.network, start, device)
    heard = (lambda record: on_cost(kind, record.index, record.impl_cost, record.torch_cost)) if on_cost else None
    run = train_and_compare(replace(inputs, params=start), torch_model(impl.network, start, device), model_free, heard)
    if run.interrupted is not None:
        raise run.interrupted
    trained = Trained(kind, check, Sides(list(run.costs.impl), list(run.costs.torch)), start)
    check.rows = dict(run.free.rows)
    for (quantity, layer), row in run.lockstep.rows.items():  # a wrong step: its lockstep row, with its hint
        if not row.ok:
            check.rows[(f"step {quantity}", layer)] = replace(row, quantity=f"step {quantity}")
    check.comparable_until, check.skipped = run.free.comparable_until, run.free.skipped
    check.notes += run.free.notes
    if run.lockstep.ok:
        stepped = run.completed if run.lockstep.comparable_until is None else run.lockstep.comparable_until
        check.notes.append(
            "each step from the same parameters (lockstep): "
            + (f"agreed at iterations 0 to {stepped - 1}" if stepped else "compared at no iteration")
        )
    if run.lockstep.error is not None:
        check.error, check.error_iteration = run.lockstep.error, run.lockstep.error_iteration
        check.skipped = None
        return trained
    impl_params = run.impl_params
    assert impl_params is not None, "training starts from the start and keeps the last finite parameters"
    if run.saturated and run.nonfinite.impl is None and run.nonfinite.torch is None:
        impl_params = _uncompared(trained, inputs, impl_params, model_free, run.completed, on_cost)
        if impl_params is None:
            return trained
    trained.final = Sides(impl_params, torch_ref.to_params(model_free))
    trained.final_cost = _final_costs(inputs, impl_params, model_free, run.nonfinite)
    return trained


def _uncompared(
    trained: Trained, inputs: RunInputs, params: dict, model_free, done: int, on_cost: OnCost | None
) -> dict | None:
    """Each side on its own from where the comparison stopped (iteration `done`) to the last: the implementation's
    forward, cost, backward and update through the adapter, torch's own steps. Returns the implementation's final
    parameters (None where it raised, recorded on the check)."""
    impl, X, Y, plan = inputs.impl, inputs.X, inputs.Y, inputs.plan
    trainer = torch_ref.Trainer(model_free, X, Y, impl.loss, plan.learning_rate)
    for i in range(done, plan.steps_total):
        try:
            AL, caches = impl.forward(X, params)
            cost = impl.cost(AL, Y, caches)
            params = impl.update(params, impl.backward(AL, Y, caches, params), plan.learning_rate)
        except ImplementationError as error:
            trained.check.error, trained.check.error_iteration = error, i
            return None
        torch_cost = trainer.step()
        trained.costs.impl.append(cost)
        trained.costs.torch.append(torch_cost)
        if on_cost is not None:
            on_cost(trained.kind, i, cost, torch_cost)
    trained.check.notes.append(
        f"from iteration {done} each side trained on its own, uncompared, to iteration {plan.steps_total - 1}: "
        "the curves and final costs below"
    )
    return params


def _final_costs(inputs: RunInputs, impl_params: dict, model_free, nonfinite: Sides) -> Sides[float | None]:
    """Each side's cost at its final parameters (None for a side that diverged, or whose cost raised)."""
    impl, X, Y = inputs.impl, inputs.X, inputs.Y
    mine: float | None = None
    if nonfinite.impl is None:
        try:
            AL, caches = impl.forward(X, impl_params)
            mine = impl.cost(AL, Y, caches)
        except ImplementationError:
            mine = None
    cost = torch_ref.evaluate(model_free, X, Y, impl.loss, impl.lambd)[0]
    return Sides(mine, cost if nonfinite.torch is None else None)


def _lessons(runs: list[Trained], label: str, iterations: int) -> None:
    """The course's lesson, checked on the numbers, in each initialiser's notes: its costs on each side, and what
    it shows (zeros: symmetry; random: a start above He's; He: an end below zeros')."""
    by = {run.kind: run for run in runs}
    for run in runs:
        if run.costs.impl or run.costs.torch:
            run.check.notes.append(_costs_note(run, label, iterations))
    zeros, random, he = by["zeros"], by["random"], by["he"]
    if zeros.final is not None:
        zeros.check.notes.append(_symmetry_note(zeros.final, label, iterations))
    if random.costs.impl and he.costs.impl and random.costs.torch and he.costs.torch:
        above = all(_above(r, h) for r, h in zip(_values(random.initial_cost), _values(he.initial_cost)))
        random.check.notes.append(
            f"lesson: random x10 starts {'badly' if above else 'no worse than He'}: its initial cost "
            f"({_pair(random.initial_cost, label)}) is {'above' if above else 'not above'} He's "
            f"({_pair(he.initial_cost, label)}) on {'both sides' if above else 'at least one side'}"
        )
    if he.final is not None and zeros.final is not None:
        below = all(_above(z, h) for z, h in zip(_values(zeros.final_cost), _values(he.final_cost)))
        he.check.notes.append(
            f"lesson: He {'trains' if below else 'does not train better than zeros'}: its final cost "
            f"({_pair(he.final_cost, label)}) is {'below' if below else 'not below'} zeros' "
            f"({_pair(zeros.final_cost, label)}) on {'both sides' if below else 'at least one side'}"
        )


def _values(sides: Sides) -> tuple:
    return sides.impl, sides.torch


def _above(a: float | None, b: float | None) -> bool:
    """a > b, a non-finite (log(0)) cost above any finite one; False where either is missing or nan."""
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return False
    return a > b


def _costs_note(run: Trained, label: str, iterations: int) -> str:
    sides = [
        (label, run.initial_cost.impl, run.final_cost.impl),
        ("torch", run.initial_cost.torch, run.final_cost.torch),
    ]
    shown = "; ".join(f"{name} {_cost(first)} -> {_cost(last)}" for name, first, last in sides)
    return f"{initialiser(run.kind)}: cost at iteration 0 -> after {iterations} iterations: {shown}"


def _symmetry_note(final: Sides[dict], label: str, iterations: int) -> str:
    """Whether every hidden layer's units are still one unit copied (W[l]'s rows equal, b[l]'s entries equal) on
    each side, after training from zeros."""
    hidden = sorted(int(k[1:]) for k in final.impl if k.startswith("W"))[:-1]
    broken = [
        f"{name}'s W{l}"
        for name, params in ((label, final.impl), ("torch", final.torch))
        for l in hidden
        if not (np.all(params[f"W{l}"] == params[f"W{l}"][:1]) and np.all(params[f"b{l}"] == params[f"b{l}"][:1]))
    ]
    layers = ", ".join(f"W{l}" for l in hidden)
    if not broken:
        return (
            f"lesson: zeros never break the symmetry: after {iterations} iterations every hidden unit of a layer is "
            f"still identical to the others on both sides ({layers}: rows equal, the biases equal)"
        )
    return f"lesson: the symmetry broke from zeros: rows differ in {', '.join(broken)}"


def _pair(sides: Sides, label: str) -> str:
    return f"{label} {_cost(sides.impl)}, torch {_cost(sides.torch)}"


def _cost(value: float | None) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value):
        return "inf (log(0))" if value > 0 else "nan"
    return f"{value:.6g}"


__all__ = ["KINDS", "OnCost", "check_name", "initialiser", "runs_experiment", "train_from_initialisers"]
