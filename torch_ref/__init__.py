"""torch_ref: the course's L-layer network rebuilt with torch.nn and autograd.

An independent oracle for the hand-derived NumPy network: it imports nothing from the
project and contains no hand-written derivative. Inputs and outputs use the course
layout (examples as columns); see layout.py for the mapping to torch.
"""

from .capture import activation_derivative, evaluate, forward_backward, output, pre_activations
from .conv import ConvMap, PoolMap
from .device import check_device
from .layout import from_params, gradients, load_masks, load_params, to_params
from .losses import LOSSES
from .model import ACTIVATIONS, CourseMap, TorchNet
from .rnn import lstm_gradients, lstm_to_course, lstm_to_torch, rnn_gradients, rnn_to_course, rnn_to_torch
from .train import Trainer, train

__all__ = [
    "ACTIVATIONS",
    "activation_derivative",
    "LOSSES",
    "Trainer",
    "CourseMap",
    "ConvMap",
    "PoolMap",
    "TorchNet",
    "check_device",
    "evaluate",
    "forward_backward",
    "from_params",
    "gradients",
    "load_masks",
    "load_params",
    "lstm_gradients",
    "lstm_to_course",
    "lstm_to_torch",
    "output",
    "pre_activations",
    "rnn_gradients",
    "rnn_to_course",
    "rnn_to_torch",
    "to_params",
    "train",
]
