"""The course functions, one entry each: what the verifier knows about a function of the course by its name.

An entry says which course API (family) the function belongs to, its course signature (the text error messages
show), the role it plays, the torch computation it is checked against, the course functions it calls, its slips
(the hints that name them) and which unit module holds its check. API detection and the adapters' required
functions (impl/), the function-by-function checks and their order (units.py, hence the report's function table),
`--init impl`, the loops (loops.py, loop_watch.py, impl/sizes.py) and the optimiser and decay functions an option
needs all read this list, so a new course function is one entry here plus its check.

The entries are in the course's order, a function before those that call it: the order of the function table.
"""

from __future__ import annotations

from dataclasses import dataclass

APIS = ("deep", "shallow", "logreg")  # the course APIs an adapter sees a module through (impl/__init__.APIS)
OPTIONAL = ("regularisation", "optimisation")  # families run only when an option asks (--lambd, --optimizer, --decay)


@dataclass(frozen=True)
class Loop:
    """How a course loop is run whole (loops.py)."""

    plain: bool = True  # run against full-batch gradient descent at one rate
    optimizer: bool = False  # run with --optimizer, --mini-batch-size or --decay when it takes an optimizer
    layers: int | None = None  # only for a network of this many layers (two_layer_model: 2)
    layers_dims: bool = False  # called (X, Y, layers_dims, ...): a call of it gives the network's sizes (sizes.py)


@dataclass(frozen=True)
class CourseFunction:
    """One course function. `signatures`: (API, signature) pairs, "" for any API, the first the default."""

    name: str
    family: tuple[str, ...]  # the course APIs it belongs to (deep, shallow, logreg), or regularisation, optimisation
    role: str  # initialiser, activation, forward step, forward, cost, backward step, backward, update, ... loop
    signatures: tuple[tuple[str, str], ...]
    torch: str = ""  # what it is checked against: a torch_ref function, or the rule it is checked by
    calls: tuple[str, ...] = ()  # the course functions it calls: it fails with them, marked, not blamed
    slips: tuple[str, ...] = ()  # the hints (functions of hints.py, optimizer_hints.py) that name its slips
    check: str = ""  # the unit module whose checks hold its check: unit_steps, unit_initialisers, unit_optimisers
    required_by: tuple[str, ...] = ()  # the APIs whose adapters need it (detection looks for it)
    optimizer: str = ""  # the --optimizer that steps with it
    decay: str = ""  # the --decay that it computes
    watch: str = ""  # what a loop's calls of it do while the loop is watched (loop_watch.py): start, cost, ...
    state: tuple[str, ...] = ()  # an optimiser state initialiser's state, in the order it returns it
    loop: Loop | None = None  # a course loop: how it is run whole

    def signature(self, api: str = "") -> str:
        """Its course signature in `api` (the first one given when it has none of its own there)."""
        return next((text for where, text in self.signatures if where == api), self.signatures[0][1])


def _one(name: str, family: tuple[str, ...], role: str, signature: str, **more) -> CourseFunction:
    return CourseFunction(name, family, role, (("", signature),), **more)


LOOP_TORCH = "its own steps of the same run, which lockstep and free-running checked against torch"

CATALOGUE: tuple[CourseFunction, ...] = (
    # the initialisers: checked by the course's rules (shapes, zero biases, scale, symmetry breaking)
    _one(
        "initialize_with_zeros",
        ("logreg",),
        "initialiser",
        "initialize_with_zeros(dim) -> (w, b)",
        torch="the course's rule: w zeros (dim, 1), b the number 0",
        check="unit_initialisers",
    ),
    _one(
        "initialize_parameters",
        ("shallow",),
        "initialiser",
        "initialize_parameters(n_x, n_h, n_y) -> parameters",
        torch="the course's rules: shapes, zero biases, small random weights that break symmetry",
        check="unit_initialisers",
        watch="start",
    ),
    _one(
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
    _one(
        "relu", ("deep",), "activation", "relu(Z) -> (A, cache)", torch="torch_ref.steps.activation", check="unit_steps"
    ),
    _one(
        "linear_forward",
        ("deep",),
        "forward step",
        "linear_forward(A_prev, W, b) -> (Z, cache)",
        torch="torch_ref.steps.linear_forward",
        check="unit_steps",
    ),
    _one(
        "linear_activation_forward",
        ("deep",),
        "forward step",
        "linear_activation_forward(A_prev, W, b, activation) -> (A, cache)",
        torch="torch_ref.steps.linear_forward and torch_ref.steps.activation",
        calls=("linear_forward", "sigmoid", "relu"),
        check="unit_steps",
    ),
    _one(
        "L_model_forward",
        ("deep",),
        "forward",
        "L_model_forward(X, parameters[, activations]) -> (AL, caches)",
        torch="torch_ref's network, in the forward check",
        calls=("linear_activation_forward",),
        slips=("cache_order_slip", "hint_dropout"),
        required_by=("deep",),
    ),
    _one(
        "forward_propagation",
        ("shallow",),
        "forward",
        "forward_propagation(X, parameters) -> (A2, cache)",
        torch="torch_ref.steps.two_layer",
        calls=("sigmoid",),
        check="unit_steps",
        required_by=("shallow",),
    ),
    _one(
        "propagate",
        ("logreg",),
        "forward and backward",
        "propagate(w, b, X, Y) -> (grads, cost)",
        torch="torch_ref.steps.propagate",
        calls=("sigmoid",),
        check="unit_steps",
        required_by=("logreg",),
    ),
    _one(
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
    ),
    # the costs
    CourseFunction(
        "compute_cost",
        ("shallow", "deep"),
        "cost",
        (("deep", "compute_cost(AL, Y[, loss]) -> cost"), ("shallow", "compute_cost(A2, Y) -> cost")),
        torch="torch_ref.steps.bce_cost",
        slips=("bce_slip", "diagnose_cost"),
        check="unit_steps",
        required_by=("deep", "shallow"),
        watch="cost",
    ),
    _one(
        "compute_cost_with_regularization",
        ("regularisation",),
        "cost",
        "compute_cost_with_regularization(AL, Y, parameters, lambd[, loss]) -> cost",
        torch="torch_ref.steps.bce_cost_with_regularization",
        calls=("compute_cost",),
        slips=("l2_slip", "hint_l2"),
        check="unit_steps",
    ),
    # the backward steps
    _one(
        "sigmoid_backward",
        ("deep",),
        "backward step",
        "sigmoid_backward(dA, cache) -> dZ",
        torch="torch_ref.steps.activation_backward",
        slips=("activation_backward_slip",),
        check="unit_steps",
    ),
    _one(
        "relu_backward",
        ("deep",),
        "backward step",
        "relu_backward(dA, cache) -> dZ",
        torch="torch_ref.steps.activation_backward",
        slips=("activation_backward_slip",),
        check="unit_steps",
    ),
    _one(
        "linear_backward",
        ("deep",),
        "backward step",
        "linear_backward(dZ, cache) -> (dA_prev, dW, db)",
        torch="torch_ref.steps.linear_activation_backward",
        slips=("db_slip",),
        check="unit_steps",
    ),
    _one(
        "linear_activation_backward",
        ("deep",),
        "backward step",
        "linear_activation_backward(dA, cache, activation) -> (dA_prev, dW, db)",
        torch="torch_ref.steps.activation_backward and torch_ref.steps.linear_activation_backward",
        calls=("linear_backward", "sigmoid_backward", "relu_backward"),
        slips=("db_slip",),
        check="unit_steps",
    ),
    _one(
        "L_model_backward",
        ("deep",),
        "backward",
        "L_model_backward(AL, Y, caches[, activations, loss]) -> grads",
        torch="torch's autograd on torch_ref's network, in the backward check",
        calls=("linear_activation_backward",),
        slips=("hint_layer_backward", "hint_l2", "hint_dropout"),
        required_by=("deep",),
    ),
    _one(
        "backward_propagation",
        ("shallow",),
        "backward",
        "backward_propagation(parameters, cache, X, Y) -> grads",
        torch="torch_ref.steps.two_layer",
        check="unit_steps",
        required_by=("shallow",),
    ),
    # the update
    _one(
        "update_parameters",
        ("shallow", "deep"),
        "update",
        "update_parameters(parameters, grads, learning_rate) -> parameters",
        torch="torch_ref.steps.sgd_update",
        slips=("skipped_layer_slip", "loop_slip"),
        check="unit_steps",
        required_by=("deep", "shallow"),
        watch="update",
    ),
    # the optimisation course: mini-batches, optimisers, learning-rate decay
    _one(
        "random_mini_batches",
        ("optimisation",),
        "mini-batches",
        "random_mini_batches(X, Y, mini_batch_size=64, seed=0) -> mini_batches",
        torch="the course's shuffle: np.random.seed(seed), then np.random.permutation(m)",
        check="unit_optimisers",
        watch="batches",
    ),
    _one(
        "initialize_velocity",
        ("optimisation",),
        "optimiser state",
        "initialize_velocity(parameters) -> v",
        torch="the course's rule: zeros shaped like the gradients",
        check="unit_optimisers",
        optimizer="momentum",
        watch="state",
        state=("v",),
    ),
    _one(
        "update_parameters_with_momentum",
        ("optimisation",),
        "optimiser",
        "update_parameters_with_momentum(parameters, grads, v, beta, learning_rate) -> (parameters, v)",
        torch="torch_ref.steps.momentum_step",
        slips=("optimizer_slips", "loop_slip"),
        check="unit_optimisers",
        optimizer="momentum",
        watch="step",
    ),
    _one(
        "initialize_adam",
        ("optimisation",),
        "optimiser state",
        "initialize_adam(parameters) -> (v, s)",
        torch="the course's rule: zeros shaped like the gradients",
        check="unit_optimisers",
        optimizer="adam",
        watch="state",
        state=("v", "s"),
    ),
    _one(
        "update_parameters_with_adam",
        ("optimisation",),
        "optimiser",
        "update_parameters_with_adam(parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon) -> "
        "(parameters, v, s, v_corrected, s_corrected)",
        torch="torch_ref.steps.adam_step",
        slips=("optimizer_slips", "loop_slip"),
        check="unit_optimisers",
        optimizer="adam",
        watch="step",
    ),
    _one(
        "update_lr",
        ("optimisation",),
        "decay",
        "update_lr(learning_rate0, epoch_num, decay_rate) -> learning_rate",
        torch="torch_ref.optimizers.lr_factor (inverse)",
        slips=("decay_slips",),
        check="unit_optimisers",
        decay="inverse",
    ),
    _one(
        "schedule_lr_decay",
        ("optimisation",),
        "decay",
        "schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval) -> learning_rate",
        torch="torch_ref.optimizers.lr_factor (scheduled)",
        slips=("decay_slips",),
        check="unit_optimisers",
        decay="scheduled",
    ),
    # the loops, run whole (loops.py)
    _one(
        "nn_model",
        ("shallow",),
        "loop",
        "nn_model(X, Y, n_h, num_iterations, print_cost=False) -> parameters",
        torch=LOOP_TORCH,
        calls=("initialize_parameters", "forward_propagation", "compute_cost", "backward_propagation"),
        slips=("loop_slip",),
        loop=Loop(),
    ),
    _one(
        "two_layer_model",
        ("deep",),
        "loop",
        "two_layer_model(X, Y, layers_dims, learning_rate, num_iterations, print_cost) -> (parameters, costs)",
        torch=LOOP_TORCH,
        calls=("initialize_parameters", "linear_activation_forward", "compute_cost", "linear_activation_backward"),
        slips=("loop_slip",),
        loop=Loop(layers=2, layers_dims=True),
    ),
    _one(
        "L_layer_model",
        ("deep",),
        "loop",
        "L_layer_model(X, Y, layers_dims, learning_rate, num_iterations, print_cost) -> (parameters, costs)",
        torch=LOOP_TORCH,
        calls=("initialize_parameters_deep", "L_model_forward", "compute_cost", "L_model_backward"),
        slips=("loop_slip",),
        loop=Loop(optimizer=True, layers_dims=True),
    ),
    _one(
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
)


def by_name(name: str) -> CourseFunction:
    """The entry of the course function `name` (KeyError when the catalogue has none)."""
    found = next((f for f in CATALOGUE if f.name == name), None)
    if found is None:
        raise KeyError(name)
    return found


def required(api: str) -> dict[str, str]:
    """The functions the `api` adapter needs, in the course's order: name -> its course signature in that API."""
    return {f.name: f.signature(api) for f in CATALOGUE if api in f.required_by}


def initialiser(api: str) -> CourseFunction:
    """The `api`'s own initialiser, the one `--init impl` calls."""
    return next(f for f in CATALOGUE if f.role == "initialiser" and api in f.family)


def optimizer_functions() -> dict[str, tuple[str, ...]]:
    """--optimizer -> the functions it needs (its state's initialiser, its step), in the course's order."""
    needed: dict[str, tuple[str, ...]] = {}
    for f in CATALOGUE:
        if f.optimizer:
            needed[f.optimizer] = needed.get(f.optimizer, ()) + (f.name,)
    return needed


def decay_functions() -> dict[str, str]:
    """--decay -> the function that computes it."""
    return {f.decay: f.name for f in CATALOGUE if f.decay}


def checked(module: str = "") -> tuple[CourseFunction, ...]:
    """The entries with a unit check (in `module`, one of unit_steps, unit_initialisers, unit_optimisers)."""
    return tuple(f for f in CATALOGUE if f.check and (not module or f.check == module))


def loops() -> tuple[CourseFunction, ...]:
    return tuple(f for f in CATALOGUE if f.loop is not None)


def watched() -> dict[str, CourseFunction]:
    """The course functions a loop calls that are watched, or replaced, while it runs: name -> entry."""
    return {f.name: f for f in CATALOGUE if f.watch}
