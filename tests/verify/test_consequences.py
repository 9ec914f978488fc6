"""verify/judging/consequences.py on hand-built results: a failed row that is computed from an earlier failure is marked as
its consequence (`follows`), an independent failure is not, and an error repeated by a later check points back."""

from verify.errors import ImplementationError
from verify.judging.compare import CheckResult, Comparison
from verify.judging.consequences import mark_consequences

L = 2


def failed(stage: str, quantity: str, layer: int, iteration=None) -> Comparison:
    return Comparison(stage, quantity, layer, ok=False, compared=1, iteration=iteration)


def check(name: str, *rows: Comparison, stage: str = "") -> CheckResult:
    """A check whose rows are `rows`, in the order given (the order the verifier computes them)."""
    result = CheckResult(name, stage or name, 1e-7)
    for row in rows:
        result.rows[(row.quantity, row.layer)] = row
    return result


def test_a_row_computed_from_an_earlier_failure_in_its_check_follows_from_it():
    dZ2, dW2 = failed("backward", "dZ", 2), failed("backward", "dW", 2)  # dW2 = (1/m) dZ2 A1^T
    mark_consequences([check("backward", dZ2, dW2)], L)
    assert dZ2.follows is None
    assert dW2.follows == "backward dZ2"


def test_a_row_not_computed_from_the_earlier_failure_is_a_cause_of_its_own():
    dW2, db2 = failed("backward", "dW", 2), failed("backward", "db", 2)  # db2 is from dZ2 alone, not from dW2
    mark_consequences([check("backward", dW2, db2)], L)
    assert (dW2.follows, db2.follows) == (None, None)


def test_a_row_computed_from_a_failure_in_an_earlier_check_follows_from_it():
    A1, dW2, dW1 = failed("forward", "A", 1), failed("backward", "dW", 2), failed("backward", "dW", 1)
    mark_consequences([check("forward", A1), check("backward", dW2, dW1)], L)
    assert dW2.follows == "forward A1"  # dW2 = (1/m) dZ2 A1^T
    assert dW1.follows == "forward A1"  # dW1 from dZ1, from dA1, from dZ2, from A2, from Z2, from A1


def test_a_failure_is_not_marked_by_one_computed_from_it():
    A2, Z1 = failed("forward", "A", 2), failed("forward", "Z", 1)  # A2 is computed from Z1, not Z1 from A2
    mark_consequences([check("forward", Z1, A2)], L)
    assert Z1.follows is None
    assert A2.follows == "forward Z1"


def test_gradient_checking_follows_from_the_same_quantity_or_the_cost_seen_wrong_before():
    dW1, grad_dW1 = failed("backward", "dW", 1), failed("gradcheck", "dW", 1)
    mark_consequences([check("backward", dW1), check("gradcheck", grad_dW1)], L)
    assert grad_dW1.follows == "backward dW1"
    cost, grad_db2 = failed("forward", "cost", L), failed("gradcheck", "db", 2)
    mark_consequences([check("forward", cost), check("gradcheck", grad_db2)], L)
    assert grad_db2.follows == "forward cost"  # finite differences are of the cost


def test_free_running_follows_from_any_earlier_failure_and_stands_alone_without_one():
    db1, W2 = failed("backward", "db", 1), failed("training", "W", 2, iteration=4)
    mark_consequences([check("backward", db1), check("free-running", W2, stage="training")], L)
    assert W2.follows == "backward db1"  # W2 is not computed from db1, but each run continues from its own steps
    alone = failed("training", "W", 2, iteration=4)
    mark_consequences([check("backward"), check("free-running", alone, stage="training")], L)
    assert alone.follows is None


def test_a_lockstep_cost_breaking_after_a_wrong_step_follows_from_that_step():
    W1 = failed("training", "W", 1, iteration=2)  # the step at iteration 2 is wrong
    cost_later = failed("training", "cost", L, iteration=5)
    mark_consequences([check("lockstep", cost_later, W1, stage="training")], L)
    assert cost_later.follows == "lockstep W1"
    cost_before = failed("training", "cost", L, iteration=1)  # broke before any wrong step: its own cause
    mark_consequences([check("lockstep", cost_before, failed("training", "W", 1, iteration=2), stage="training")], L)
    assert cost_before.follows is None


def test_an_error_repeated_by_a_later_check_points_to_the_first_check_that_saw_it():
    def raising(function: str) -> ImplementationError:
        return ImplementationError(function, ValueError("not written yet"))

    backward, gradcheck, lockstep = check("backward"), check("gradcheck"), check("lockstep", stage="training")
    backward.error, gradcheck.error = raising("L_model_backward"), raising("L_model_backward")
    lockstep.error = raising("update_parameters")
    mark_consequences([backward, gradcheck, lockstep], L)
    assert (backward.error_follows, gradcheck.error_follows, lockstep.error_follows) == (None, "backward", None)
