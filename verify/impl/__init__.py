"""The implementation under test: loading it (loading.py) and seeing it through its course API.

Each API the course teaches gets an adapter onto one interface (base.py), so every check runs
the same way for each: week 4's L layers (deep.py, scratch's own) and week 3's one hidden
layer (shallow.py), and week 2's logistic regression (logreg.py); apis.py says which one a module is.

The names below are imported when first asked for: loading a learner's module needs loading.py alone, and the
process that runs a learner's code apart from the judge (verify/remote) never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .apis import APIS, detect
    from .base import Adapter
    from .charlm import CharLMAPI
    from .convstep import ConvStepAPI
    from .course2 import Course2API
    from .deep import DeepAPI
    from .gradcheck import GradCheckAPI
    from .loading import NOTES, load_module
    from .logreg import LogRegAPI
    from .rnnstep import RnnStepAPI
    from .shallow import ShallowAPI
    from .sizes import network_size

_WHERE = {
    "APIS": "apis",
    "detect": "apis",
    "Adapter": "base",
    "CharLMAPI": "charlm",
    "ConvStepAPI": "convstep",
    "Course2API": "course2",
    "DeepAPI": "deep",
    "GradCheckAPI": "gradcheck",
    "NOTES": "loading",
    "load_module": "loading",
    "LogRegAPI": "logreg",
    "RnnStepAPI": "rnnstep",
    "ShallowAPI": "shallow",
    "network_size": "sizes",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)


__all__ = [
    "APIS",
    "Adapter",
    "CharLMAPI",
    "ConvStepAPI",
    "Course2API",
    "DeepAPI",
    "GradCheckAPI",
    "LogRegAPI",
    "NOTES",
    "RnnStepAPI",
    "ShallowAPI",
    "detect",
    "load_module",
    "network_size",
]
