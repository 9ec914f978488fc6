"""The course APIs, and which one a module is (detect)."""

from __future__ import annotations

from types import ModuleType

from ..errors import UsageError
from .base import Adapter, _describe
from .charlm import CharLMAPI
from .convstep import ConvStepAPI
from .course2 import Course2API
from .deep import DeepAPI
from .gradcheck import GradCheckAPI
from .loading import LEFT_OUT, NOTES, helper_file_missing, why_missing
from .logreg import LogRegAPI
from .rnnstep import RnnStepAPI
from .shallow import ShallowAPI
from .sizes import layers_read

APIS = {
    api.API: api
    for api in (DeepAPI, GradCheckAPI, Course2API, ShallowAPI, LogRegAPI, ConvStepAPI, RnnStepAPI, CharLMAPI)
}


def detect(module: ModuleType, label: str, api: str | None = None) -> type[Adapter]:
    """The adapter for `module`: the one --api names, else the first API (deep, gradcheck, course2, shallow, logreg, conv, rnn, charlm) whose
    required functions it defines, all of them, with the signatures it takes (`fits`). Otherwise one UsageError
    line listing, per API (those with the most found first; or for the one --api names), the functions found and
    those missing. An API of a fixed depth whose forward pass reads the
    parameters of a deeper network (a 3-layer forward_propagation) is refused by name."""
    _expect_helper_files(module, label, [APIS[api]] if api in APIS else list(APIS.values()))
    if api is not None:
        if api not in APIS:
            raise UsageError(f"unknown --api {api!r}; choose from {', '.join(APIS)}")
        chosen = APIS[api]
        if _missing(module, chosen):
            raise UsageError(
                f"{label} is not the {chosen.WEEK} API (--api {api}): {_found_and_missing(module, chosen)}"
                + _not_run(module)
            )
    else:
        matching = next((a for a in APIS.values() if not _missing(module, a) and a.fits(module)), None)
        if matching is None:
            closest = sorted(
                APIS.values(), key=lambda a: len(_missing(module, a)) - len(a.REQUIRED)
            )  # most found first
            per_api = " | ".join(f"{adapter.WEEK}: {_found_and_missing(module, adapter)}" for adapter in closest)
            raise UsageError(f"{label} matches none of the course APIs: {per_api}{_not_run(module)}")
        chosen = matching
    _check_depth(module, chosen, label)
    return chosen


def _expect_helper_files(module: ModuleType, label: str, adapters: list[type[Adapter]]) -> None:
    """UsageError when an API's missing functions all come from a helper file the module imports and that is not
    in its folder (a notebook copied without its course helper file, reg_utils.py): the line names the file."""
    left_out = getattr(module, LEFT_OUT, {})
    for adapter in adapters:
        missing = _missing(module, adapter)
        helpers = [helper_file_missing(left_out.get(name, "")) for name in missing]
        first = helpers[0] if helpers and all(helpers) else None
        if first is not None:
            helper, where = first
            raise UsageError(
                f"{label} imports {', '.join(missing)} from {helper}, which is not in its folder "
                f"({where}): put the course's helper file {helper}.py beside it"
            )


# APIs of a fixed depth: the function whose source names each layer's parameters, and the layers it has.
FIXED_DEPTH = {ShallowAPI: ("forward_propagation", 2)}


def _missing(module: ModuleType, adapter: type[Adapter]) -> list[str]:
    return [name for name in adapter.REQUIRED if not callable(getattr(module, name, None))]


def _found_and_missing(module: ModuleType, adapter: type[Adapter]) -> str:
    """'found update_parameters, compute_cost; missing L_model_forward, L_model_backward' (in the API's order)."""
    missing = _missing(module, adapter)
    found = [name for name in adapter.REQUIRED if name not in missing]
    named = [
        name + why_missing(module, name)
        if not hasattr(module, name)
        else f"{name} (not a function: {_describe(getattr(module, name))})"
        for name in missing
    ]
    return f"found {', '.join(found) or 'none of them'}; missing {', '.join(named) or 'nothing'}"


def _not_run(module: ModuleType) -> str:
    """'; cell [1], line 4: %run reg_utils.py is not run as the notebook loads, ...': where a notebook's %run line
    would have defined the functions missing."""
    return "".join(f"; {note}" for note in getattr(module, NOTES, []) if ": %run" in note)


def _check_depth(module: ModuleType, adapter: type[Adapter], label: str) -> None:
    """UsageError when the API's forward function reads W{l} beyond the API's depth: then its names match, its
    network does not, and no --arch can help."""
    if adapter not in FIXED_DEPTH:
        return
    function, depth = FIXED_DEPTH[adapter]
    layers = layers_read(getattr(module, function))
    if layers is not None and layers > depth:
        raise UsageError(
            f"{label}: its {function} computes a network of {layers} layers (it reads W{layers}); the "
            f"{adapter.WEEK} API has {depth} (n_x -> n_h -> n_y), whatever --arch says (the second course's 3-layer helper networks take "
            "backward_propagation(X, Y, cache))"
        )


__all__ = ["APIS", "FIXED_DEPTH", "detect"]
