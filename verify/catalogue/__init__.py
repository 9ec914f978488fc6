"""The course functions, one entry each: what the verifier knows about a function of the course by its name.

An entry says which course API (family) the function belongs to, its course signature (the text error messages
show), the role it plays, the torch computation it is checked against, the course functions it calls, its slips
(the hints that name them) and which unit module holds its check. API detection and the adapters' required
functions (impl/), the function-by-function checks and their order (units.py, hence the report's function table),
`--init impl`, the loops (loops.py, loop_watch.py, impl/sizes.py) and the optimiser and decay functions an option
needs all read this list, so a new course function is one entry here plus its check.

The entries are in the course's order, a function before those that call it: the order of the function table.
"""

from __future__ import annotations

from .entries import CATALOGUE, LOOP_TORCH
from .types import CourseFunction, Loop

APIS = (
    "deep",
    "gradcheck",
    "course2",
    "shallow",
    "logreg",
    "conv",
    "rnn",
    "charlm",
)  # the course APIs an adapter sees a module through (impl/__init__.APIS)
LAYERED = "layers"  # a network of other kinds (impl/layered.py): the course's compute_cost gives its cost
OPTIONAL = ("regularisation", "optimisation")  # families run only when an option asks (--lambd, --optimizer, --decay)


def by_name(name: str, api: str = "") -> CourseFunction:
    """The entry of the course function `name`: `api`'s own where the name means another function there (the
    second course's forward_propagation is not week 3's), else its only one (KeyError when the catalogue has none)."""
    named = [f for f in CATALOGUE if f.name == name]
    if not named:
        raise KeyError(name)
    return next((f for f in named if api in f.family), named[0])


def required(api: str) -> dict[str, str]:
    """The functions the `api` adapter needs, in the course's order: name -> its course signature in that API."""
    return {f.name: f.signature(api) for f in CATALOGUE if api in f.required_by}


def initialisers(api: str) -> tuple[CourseFunction, ...]:
    """The `api`'s initialisers that `--init impl` may call, the one preferred first: those a loop starts from."""
    own = [f for f in CATALOGUE if f.role == "initialiser" and api in f.family]
    return tuple(sorted(own, key=lambda f: f.watch != "start"))


def in_play(api: str, roles: tuple[str, ...], options: tuple[str, ...] = ()) -> tuple[CourseFunction, ...]:
    """The functions a network check of `api` covers in `roles` (forward, cost, backward, ...): the API's own and,
    for the options the run sets (`options`: "lambd", "keep_prob"), those that option needs, in the course's
    order."""

    def plays(f: CourseFunction) -> bool:
        optional = bool(set(f.family) & set(OPTIONAL))
        return (api in f.family or optional) and (f.needs in options if f.needs or optional else True)

    return tuple(f for f in CATALOGUE if f.role in roles and plays(f))


def optimizer_functions() -> dict[str, tuple[str, ...]]:
    """--optimizer -> the functions it needs (its state's initialiser, its step), in the course's order."""
    needed: dict[str, tuple[str, ...]] = {}
    for f in CATALOGUE:
        if f.optimizer:
            needed[f.optimizer] = needed.get(f.optimizer, ()) + (f.name,)
    return needed


def decay_functions() -> dict[str, str]:
    """--decay -> the function that computes it."""
    return {f.decay: f.name for f in CATALOGUE if f.decay}


def checked(module: str = "") -> tuple[CourseFunction, ...]:
    """The entries with a unit check (in `module`, one of unit_steps, unit_initialisers, unit_optimisers)."""
    return tuple(f for f in CATALOGUE if f.check and (not module or f.check == module))


def loops() -> tuple[CourseFunction, ...]:
    return tuple(f for f in CATALOGUE if f.loop is not None)


def watched() -> dict[str, CourseFunction]:
    """The course functions a loop calls that are watched, or replaced, while it runs: name -> entry."""
    return {f.name: f for f in CATALOGUE if f.watch}


__all__ = ["APIS", "CATALOGUE", "LAYERED", "LOOP_TORCH", "OPTIONAL", "CourseFunction", "Loop", "by_name", "checked"]
__all__ += ["decay_functions", "in_play", "initialisers", "loops", "optimizer_functions", "required", "watched"]
