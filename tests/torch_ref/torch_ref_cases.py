"""Shared cases, random networks and data for the torch_ref tests (course layout: columns).

A plain module with a unique name rather than conftest.py, so that test files can import
the constants without clashing with other folders' conftest modules.
"""

import numpy as np

# The output layer and the loss that belongs to it.
OUTPUT_PAIRS = [("sigmoid", "bce"), ("linear", "mse"), ("softmax", "ce")]
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "linear"]


def random_params(dims, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = (rng.standard_normal((dims[l], dims[l - 1])) * 0.8).astype(dtype)
        params[f"b{l}"] = (rng.standard_normal((dims[l], 1)) * 0.3).astype(dtype)
    return params


def random_data(n0, nL, m, output, dtype=np.float64, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n0, m)).astype(dtype)
    if output == "sigmoid":
        Y = (rng.random((nL, m)) > 0.5).astype(dtype)
    elif output == "softmax":
        Y = np.eye(nL, dtype=dtype)[:, rng.integers(0, nL, m)]  # one-hot columns
    else:
        Y = rng.standard_normal((nL, m)).astype(dtype)
    return X, Y
