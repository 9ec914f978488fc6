"""The entries: every course function the verifier knows, in the course's order (a function before those that call
it: the order of the function table)."""

from __future__ import annotations

from .entries_charlm import CHARLM_ENTRIES
from .entries_conv import CONV_ENTRIES
from .entries_course2 import COURSE2
from .entries_gradcheck import GRADCHECK
from .entries_rnn import RNN_ENTRIES
from .types import CourseFunction, Loop, one

LOOP_TORCH = "its own steps of the same run, which lockstep and free-running checked against torch"

CATALOGUE: tuple[CourseFunction, ...] = (
    # the initialisers: checked by the course's rules (shapes, zero biases, scale, symmetry breaking)
    one(
        "initialize_with_zeros",
        ("logreg",),
        "initialiser",
        "initialize_with_zeros(dim) -> (w, b)",
        torch="the course's rule: w zeros (dim, 1), b the number 0",
        check="unit_initialisers",
        watch="start",
    ),
    one(
        "initialize_parameters",
        ("shallow",),
        "initialiser",
        "initialize_parameters(n_x, n_h, n_y) -> parameters",
        torch="the course's rules: shapes, zero biases, small random weights that break symmetry",
        check="unit_initialisers",
        watch="start",
    ),
    one(
        "initialize_parameters_deep",
        ("deep",),
        "initialiser",
        "initialize_parameters_deep(layer_dims) -> parameters",
        torch="the course's rules: shapes, zero biases, weights of scale 1/sqrt(n[l-1]) or so that break symmetry",
        check="unit_initialisers",
        watch="start",
    ),
    # the forward steps
    CourseFunction(
        "sigmoid",
        ("logreg", "deep"),
        "activation",
        (("logreg", "sigmoid(z) -> s"), ("deep", "sigmoid(Z) -> (A, cache)")),
        torch="torch_ref.steps.activation",
        check="unit_steps",
        required_by=("logreg",),
    ),
    one(
        "relu", ("deep",), "activation", "relu(Z) -> (A, cache)", torch="torch_ref.steps.activation", check="unit_steps"
    ),
    one(
        "linear_forward",
        ("deep",),
        "forward step",
        "linear_forward(A_prev, W, b) -> (Z, cache)",
        torch="torch_ref.steps.linear_forward",
        check="unit_steps",
    ),
    one(
        "linear_activation_forward",
        ("deep",),
        "forward step",
        "linear_activation_forward(A_prev, W, b, activation) -> (A, cache)",
        torch="torch_ref.steps.linear_forward and torch_ref.steps.activation",
        calls=("linear_forward", "sigmoid", "relu"),
        check="unit_steps",
        watch="layer",
    ),
    one(
        "L_model_forward",
        ("deep",),
        "forward",
        "L_model_forward(X, parameters[, activations]) -> (AL, caches)",
        torch="torch_ref's network, in the forward check",
        calls=("linear_activation_forward",),
        slips=("cache_order_slip", "hint_dropout"),
        required_by=("deep",),
    ),
    one(
        "forward_propagation",
        ("shallow",),
        "forward",
        "forward_propagation(X, parameters) -> (A2, cache)",
        torch="torch_ref.steps.two_layer",
        calls=("sigmoid",),
        check="unit_steps",
        required_by=("shallow",),
    ),
    one(
        "propagate",
        ("logreg",),
        "forward and backward",
        "propagate(w, b, X, Y) -> (grads, cost)",
        torch="torch_ref.steps.propagate",
        calls=("sigmoid",),
        slips=("diagnose_cost",),
        check="unit_steps",
        required_by=("logreg",),
    ),
    one(
        "optimize",
        ("logreg",),
        "loop",
        "optimize(w, b, X, Y, num_iterations, learning_rate, print_cost=False) -> (params, grads, costs)",
        torch="torch_ref.steps.propagate and torch_ref.steps.sgd_update (one iteration); whole: " + LOOP_TORCH,
        calls=("propagate",),
        slips=("loop_slip",),
        check="unit_steps",
        required_by=("logreg",),
        loop=Loop(),
        watch="step",  # called by model: the rate it hands (a rate model hard-codes is its slip)
    ),
    # the costs
    CourseFunction(
        "compute_cost",
        ("shallow", "deep", "layers"),
        "cost",
        (("deep", "compute_cost(AL, Y[, loss]) -> cost"), ("shallow", "compute_cost(A2, Y) -> cost")),
        torch="torch_ref.steps.bce_cost",
        slips=("bce_slip", "diagnose_cost"),
        check="unit_steps",
        required_by=("deep", "shallow"),
        watch="cost",
    ),
    one(
        "compute_cost_with_regularization",
        ("regularisation",),
        "cost",
        "compute_cost_with_regularization(AL, Y, parameters, lambd[, loss]) -> cost",
        torch="torch_ref.steps.bce_cost_with_regularization",
        calls=("compute_cost",),
        slips=("l2_slip", "hint_l2"),
        check="unit_steps",
        needs="lambd",
    ),
    # the backward steps
    one(
        "sigmoid_backward",
        ("deep",),
        "backward step",
        "sigmoid_backward(dA, cache) -> dZ",
        torch="torch_ref.steps.activation_backward",
        slips=("activation_backward_slip",),
        check="unit_steps",
    ),
    one(
        "relu_backward",
        ("deep",),
        "backward step",
        "relu_backward(dA, cache) -> dZ",
        torch="torch_ref.steps.activation_backward",
        slips=("activation_backward_slip",),
        check="unit_steps",
    ),
    one(
        "linear_backward",
        ("deep",),
        "backward step",
        "linear_backward(dZ, cache) -> (dA_prev, dW, db)",
        torch="torch_ref.steps.linear_activation_backward",
        slips=("db_slip",),
        check="unit_steps",
    ),
    one(
        "linear_activation_backward",
        ("deep",),
        "backward step",
        "linear_activation_backward(dA, cache, activation) -> (dA_prev, dW, db)",
        torch="torch_ref.steps.activation_backward and torch_ref.steps.linear_activation_backward",
        calls=("linear_backward", "sigmoid_backward", "relu_backward"),
        slips=("db_slip",),
        check="unit_steps",
        watch="layer",
    ),
    one(
        "L_model_backward",
        ("deep",),
        "backward",
        "L_model_backward(AL, Y, caches[, activations, loss]) -> grads",
        torch="torch's autograd on torch_ref's network, in the backward check",
        calls=("linear_activation_backward",),
        slips=("hint_layer_backward", "hint_l2", "hint_dropout"),
        required_by=("deep",),
    ),
    one(
        "backward_propagation",
        ("shallow",),
        "backward",
        "backward_propagation(parameters, cache, X, Y) -> grads",
        torch="torch_ref.steps.two_layer",
        slips=("hint_layer_backward",),
        check="unit_steps",
        required_by=("shallow",),
    ),
    # the update
    one(
        "update_parameters",
        ("shallow", "deep", "course2"),
        "update",
        "update_parameters(parameters, grads, learning_rate) -> parameters",
        torch="torch_ref.steps.sgd_update",
        slips=("skipped_layer_slip", "loop_slip"),
        check="unit_steps",
        required_by=("deep", "shallow"),
        watch="update",
    ),
    *COURSE2,  # entries_course2.py: the second course's functions
    # the second course's gradient checking: the learner's checker verified (its entries: entries_gradcheck.py)
    *GRADCHECK,
    # the convolution course's step-by-step notebook (its entries: entries_conv.py)
    *CONV_ENTRIES,
    # the recurrent step-by-step notebook (its entries: entries_rnn.py)
    *RNN_ENTRIES,
    # the character-level language model notebook (its entries: entries_charlm.py)
    *CHARLM_ENTRIES,
    # the loops, run whole (loops.py)
    one(
        "nn_model",
        ("shallow",),
        "loop",
        "nn_model(X, Y, n_h, num_iterations, print_cost=False) -> parameters",
        torch=LOOP_TORCH,
        calls=("initialize_parameters", "forward_propagation", "compute_cost", "backward_propagation"),
        slips=("loop_slip",),
        loop=Loop(),
    ),
    one(
        "two_layer_model",
        ("deep",),
        "loop",
        "two_layer_model(X, Y, layers_dims, learning_rate, num_iterations, print_cost) -> (parameters, costs)",
        torch=LOOP_TORCH,
        calls=("initialize_parameters", "linear_activation_forward", "compute_cost", "linear_activation_backward"),
        slips=("loop_slip",),
        loop=Loop(layers=2, layers_dims=True),
    ),
    one(
        "L_layer_model",
        ("deep",),
        "loop",
        "L_layer_model(X, Y, layers_dims, learning_rate, num_iterations, print_cost) -> (parameters, costs)",
        torch=LOOP_TORCH,
        calls=("initialize_parameters_deep", "L_model_forward", "compute_cost", "L_model_backward"),
        slips=("loop_slip",),
        loop=Loop(optimizer=True, layers_dims=True),
    ),
    one(
        "model",
        ("optimisation",),
        "loop",
        "model(X, Y, layers_dims, optimizer, learning_rate, mini_batch_size, beta, beta1, beta2, epsilon, "
        "num_epochs, print_cost, decay, decay_rate) -> parameters",
        torch=LOOP_TORCH,
        calls=("initialize_parameters", "random_mini_batches", "compute_cost", "update_parameters"),
        slips=("loop_slip",),
        loop=Loop(plain=False, optimizer=True),
    ),
    # week 2's model(): optimize from initialize_with_zeros, then predict on the training and the test set
    one(
        "model",
        ("logreg",),
        "loop",
        "model(X_train, Y_train, X_test, Y_test, num_iterations, learning_rate, print_cost) -> d",
        torch=LOOP_TORCH,
        calls=("initialize_with_zeros", "optimize"),
        slips=("loop_slip",),
        loop=Loop(),
    ),
    # the second course's full-batch model()s: the initialization notebook's (initialization="he"), the
    # regularization notebook's (lambd, keep_prob); its optimisation notebook's model() is the entry above
    one(
        "model",
        ("course2",),
        "loop",
        "model(X, Y, learning_rate, num_iterations, print_cost[, initialization][, lambd, keep_prob]) -> parameters",
        torch=LOOP_TORCH,
        calls=("initialize_parameters_he", "forward_propagation", "compute_loss", "backward_propagation"),
        slips=("loop_slip",),
        loop=Loop(),
    ),
)
