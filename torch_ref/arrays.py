"""The type of the course-layout NumPy arrays that torch_ref takes and returns.

`Array` is a float array of either dtype a network runs in (float64, or float32), in the course's
layout: examples as columns, (n[l], m), W[l] (n[l], n[l-1]), b[l] (n[l], 1).
"""

from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating[Any]]
