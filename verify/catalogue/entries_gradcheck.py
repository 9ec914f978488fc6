"""The entries of the second course's Gradient Checking notebook (impl/gradcheck.py), in the notebook's order: its
learner's checker is what is verified (checking/unit_gradcheck.py), its slips named by judging/gradcheck_hints.py.
entries.py places them in the catalogue."""

from __future__ import annotations

from .types import CourseFunction, one

TORCH_N = "torch's autograd of the same network: relu, relu, sigmoid, the mean cross-entropy"
CHECKER = "the verifier's own centred differences of the module's cost, the same formula and epsilon"

GRADCHECK: tuple[CourseFunction, ...] = (
    one(
        "forward_propagation",
        ("gradcheck",),
        "forward",
        "forward_propagation(x, theta) -> J",
        torch="the rule J = theta x, on several (x, theta)",
        check="unit_gradcheck",
    ),
    one(
        "backward_propagation",
        ("gradcheck",),
        "backward",
        "backward_propagation(x, theta) -> dtheta",
        torch="the rule dtheta = x, on several (x, theta)",
        check="unit_gradcheck",
    ),
    one(
        "gradient_check",
        ("gradcheck",),
        "gradient check",
        "gradient_check(x, theta, epsilon=1e-7, print_msg=False) -> difference",
        torch=CHECKER + ", with its forward_propagation and backward_propagation",
        calls=("forward_propagation", "backward_propagation"),
        slips=("epsilon_slip", "norm_slip", "denominator_slip"),
        check="unit_gradcheck",
    ),
    one(
        "forward_propagation_n",
        ("gradcheck",),
        "forward",
        "forward_propagation_n(X, Y, parameters) -> (cost, cache)",
        torch=TORCH_N,
        check="unit_gradcheck",
        required_by=("gradcheck",),
    ),
    one(
        "backward_propagation_n",
        ("gradcheck",),
        "backward",
        "backward_propagation_n(X, Y, cache) -> gradients",
        torch=TORCH_N + "; the course's planted bugs (dW2 doubled, db1 four times) said, not failed",
        calls=("forward_propagation_n",),
        check="unit_gradcheck",
    ),
    one(
        "gradient_check_n",
        ("gradcheck",),
        "gradient check",
        "gradient_check_n(parameters, gradients, X, Y, epsilon=1e-7, print_msg=False) -> difference",
        torch=CHECKER + ", on torch's exact gradients and on wrong ones; its verdict against the threshold 2e-7",
        calls=("forward_propagation_n",),
        slips=(
            "minus_from_plus_slip",
            "no_copy_slip",
            "epsilon_slip",
            "norm_slip",
            "denominator_slip",
            "one_sided_slip",
        ),
        check="unit_gradcheck",
        required_by=("gradcheck",),
    ),
)
