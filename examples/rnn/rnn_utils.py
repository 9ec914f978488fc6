"""The helper functions the recurrent-network notebook imports (`from rnn_utils import *`)."""

import numpy as np


def softmax(x):
    """Softmax over axis 0 (the units), each column (example) on its own."""
    e_x = np.exp(x - np.max(x, axis=0, keepdims=True))
    return e_x / e_x.sum(axis=0, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
