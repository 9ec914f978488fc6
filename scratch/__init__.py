"""A deep network derived by hand, in NumPy, with the course's names and shapes.

X is (n_x, m) with examples as columns; W[l] is (n[l], n[l-1]), b[l] is (n[l], 1). The convolution steps
(conv.py) are channels last instead: A_prev (m, n_H, n_W, n_C), W (f, f, n_C_prev, n_C), b (1, 1, 1, n_C).
The recurrent steps (rnn.py) keep examples as columns and put time last: x (n_x, m, T_x), a (n_a, m, T_x). The
character-level language model runs one name as one column; its functions stay under scratch.charlm (clip, sample,
optimize, rnn_forward, update_parameters, ...): the verifier checks every course function this package defines by
name, and optimize is also week 2's (logistic regression), update_parameters week 4's, rnn_forward rnn.py's.
"""

from . import charlm
from .activations import ACTIVATIONS, LEAKY_SLOPE, Activation, get_activation
from .conv import (
    POOL_MODES,
    conv_backward,
    conv_forward,
    conv_single_step,
    create_mask_from_window,
    distribute_value,
    pool_backward,
    pool_forward,
    zero_pad,
)
from .datasets import DATASETS
from .gradcheck import gradient_check, numerical_gradients, relative_difference
from .initializers import INIT_SCALES, initialize_parameters_deep
from .losses import LOSS_FOR_OUTPUT, LOSSES, Loss, compute_cost, get_loss
from .model import (
    L_model_backward,
    L_model_forward,
    activation_backward,
    default_activations,
    linear_activation_backward,
    linear_activation_forward,
    linear_backward,
    linear_forward,
    update_parameters,
)
from .names import generate_names, load_names
from .optimizers import (
    DECAYS,
    OPTIMIZERS,
    initialize_adam,
    initialize_velocity,
    random_mini_batches,
    schedule_lr_decay,
    update_lr,
    update_parameters_with_adam,
    update_parameters_with_momentum,
)
from .regularization import compute_cost_with_regularization, dropout_masks, keep_probs, l2_penalty
from .rnn import (
    lstm_backward,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
    rnn_backward,
    rnn_cell_backward,
    rnn_cell_forward,
    rnn_forward,
)
from .train import L_layer_model, accuracy, predict, prediction_accuracy

__all__ = [
    "ACTIVATIONS",
    "LEAKY_SLOPE",
    "Activation",
    "get_activation",
    "charlm",
    "generate_names",
    "load_names",
    "POOL_MODES",
    "conv_backward",
    "conv_forward",
    "conv_single_step",
    "create_mask_from_window",
    "distribute_value",
    "pool_backward",
    "pool_forward",
    "zero_pad",
    "DATASETS",
    "gradient_check",
    "numerical_gradients",
    "relative_difference",
    "INIT_SCALES",
    "initialize_parameters_deep",
    "LOSS_FOR_OUTPUT",
    "LOSSES",
    "Loss",
    "compute_cost",
    "get_loss",
    "L_model_backward",
    "L_model_forward",
    "activation_backward",
    "default_activations",
    "linear_activation_backward",
    "linear_activation_forward",
    "linear_backward",
    "linear_forward",
    "update_parameters",
    "DECAYS",
    "OPTIMIZERS",
    "initialize_adam",
    "initialize_velocity",
    "random_mini_batches",
    "schedule_lr_decay",
    "update_lr",
    "update_parameters_with_adam",
    "update_parameters_with_momentum",
    "compute_cost_with_regularization",
    "dropout_masks",
    "keep_probs",
    "l2_penalty",
    "lstm_backward",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    "rnn_backward",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "rnn_forward",
    "L_layer_model",
    "accuracy",
    "predict",
    "prediction_accuracy",
]
