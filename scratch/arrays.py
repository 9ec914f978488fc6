"""The types of the course's arrays, named once for every module's signatures.

`Array` is a float array of either dtype the network runs in (float64, or float32); its shape is the
one each docstring states, (n[l], m) and the like.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]

# The course's caches: linear_cache = (A_prev, W, b), cache = (linear_cache, Z), or with a dropout
# mask D[l] (model.L_model_forward's masks) (linear_cache, Z, D).
LinearCache = tuple[Array, Array, Array]
Cache = tuple[LinearCache, Array] | tuple[LinearCache, Array, Array]

# The dtype a network runs in: np.float64 (the default), np.float32, or an array's own `.dtype`.
FloatDType = type[np.floating[Any]] | np.dtype[np.floating[Any]]
