"""The implementation under test: loading it (loading.py) and seeing it through its course API.

Each API the course teaches gets an adapter onto one interface (base.py), so every check runs
the same way for each: week 4's L layers (deep.py, scratch's own) and week 3's one hidden
layer (shallow.py), and week 2's logistic regression (logreg.py).
"""

from __future__ import annotations

from types import ModuleType
from typing import Optional

from ..errors import UsageError
from .base import Adapter
from .deep import DeepAPI
from .loading import NOTES, load_module
from .logreg import LogRegAPI
from .shallow import ShallowAPI

APIS = {api.API: api for api in (DeepAPI, ShallowAPI, LogRegAPI)}


def detect(module: ModuleType, label: str, api: Optional[str] = None) -> type[Adapter]:
    """The adapter for `module`: the one --api names, else the API whose functions it defines (the
    one it defines most of, which then names what is missing; deep on a tie)."""
    if api is not None:
        if api not in APIS:
            raise UsageError(f"unknown --api {api!r}; choose from {', '.join(APIS)}")
        return APIS[api]
    defined = {adapter: sum(callable(getattr(module, name, None)) for name in adapter.REQUIRED) for adapter in APIS.values()}
    best = max(defined, key=defined.get)
    if defined[best] == 0:
        looked_for = "; ".join(f"{adapter.WEEK}: {', '.join(adapter.REQUIRED)}" for adapter in APIS.values())
        raise UsageError(f"{label} defines none of the course APIs; looked for {looked_for}")
    return best


__all__ = ["APIS", "NOTES", "Adapter", "DeepAPI", "LogRegAPI", "ShallowAPI", "detect", "load_module"]
