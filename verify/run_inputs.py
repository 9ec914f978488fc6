"""RunInputs: what every check of one run works from, built once by the runner and passed whole."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import Config
from .impl import Adapter
from .optimization import Optimization


@dataclass(frozen=True)
class RunInputs:
    """The resolved Config, the training plan, the adapted implementation, the data (X (n0, m), Y (nL, m)) and the
    shared start both sides begin from (the course's parameters dict, W1 ... bL)."""

    config: Config
    plan: Optimization
    impl: Adapter
    X: np.ndarray
    Y: np.ndarray
    params: dict

    @property
    def rtol(self) -> float:
        return self.config.relative_tolerance
