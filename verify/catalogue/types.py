"""What an entry of the catalogue holds: a course function, and how a course loop is run whole."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Loop:
    """How a course loop is run whole (loops.py)."""

    plain: bool = True  # run against full-batch gradient descent at one rate
    optimizer: bool = False  # run with --optimizer, --mini-batch-size or --decay when it takes an optimizer
    layers: int | None = None  # only for a network of this many layers (two_layer_model: 2)
    layers_dims: bool = False  # called (X, Y, layers_dims, ...): a call of it gives the network's sizes (sizes.py)


@dataclass(frozen=True)
class CourseFunction:
    """One course function. `signatures`: (API, signature) pairs, "" for any API, the first the default."""

    name: str
    # the course APIs it belongs to (deep, course2, shallow, logreg; layers, a network of other kinds, whose cost is the
    # course's compute_cost), or regularisation, optimisation
    family: tuple[str, ...]
    role: str  # initialiser, activation, forward step, forward, cost, backward step, backward, update, ... loop
    signatures: tuple[tuple[str, str], ...]
    torch: str = ""  # what it is checked against: a torch_ref function, or the rule it is checked by
    calls: tuple[str, ...] = ()  # the course functions it calls: it fails with them, marked, not blamed
    slips: tuple[str, ...] = ()  # the hints (functions of hints.py, optimizer_hints.py) that name its slips
    check: str = ""  # the unit module whose checks hold its check: unit_steps, unit_initialisers, unit_optimisers
    required_by: tuple[str, ...] = ()  # the APIs whose adapters need it (detection looks for it)
    optimizer: str = ""  # the --optimizer that steps with it
    decay: str = ""  # the --decay that it computes
    needs: str = ""  # the option whose value puts it in a run: lambd (L2's functions), keep_prob (dropout's)
    watch: str = ""  # what a loop's calls of it do while the loop is watched (loop_watch.py): start, cost, ...
    state: tuple[str, ...] = ()  # an optimiser state initialiser's state, in the order it returns it
    loop: Loop | None = None  # a course loop: how it is run whole

    def signature(self, api: str = "") -> str:
        """Its course signature in `api` (the first one given when it has none of its own there)."""
        return next((text for where, text in self.signatures if where == api), self.signatures[0][1])


def one(name: str, family: tuple[str, ...], role: str, signature: str, **more) -> CourseFunction:
    return CourseFunction(name, family, role, (("", signature),), **more)
