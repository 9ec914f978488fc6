"""A run's loop checks: each course loop the implementation defines, whole, against training's run of its steps
(loops.py judges one); the loop that took training's steps (loop_driven.py) is judged on the run it made then."""

from __future__ import annotations

from collections.abc import Callable

from ..judging.compare import CheckResult
from ..run_inputs import RunInputs
from ..signals import Interruption
from .loop_driven import LoopDriver
from .loops import LoopRun, Replay, check_loop, loop_check_name
from .training import TrainingRun


def check_loops(
    inputs: RunInputs,
    loops: dict[str, str],
    training: TrainingRun,
    checks: list[CheckResult],
    stage: Callable[[str], None],
    driver: LoopDriver | None = None,
) -> None:
    """Each loop of `loops` (loops.loop_functions' answer: name -> why it cannot run, or ""), whole, its result
    added to `checks` once filled; an interrupt while one runs is added as such, then raised again."""
    for function, cannot in loops.items():
        if cannot:  # its own loop (not one it imports) left out by this run's sizes or options: the verdict says so
            own = not inputs.impl.origin_of(function)
            checks.append(CheckResult(loop_check_name(function), "training", inputs.rtol, skipped=cannot, left_out=own))
            continue
        ran = driver.outcome if driver is not None and driver.function == function else None
        try:
            stage(f"the course's loop {function}, whole")
            checks.append(_loop_check(function, inputs, training, ran))
        except KeyboardInterrupt as stop:  # Ctrl-C while a loop runs: report what was checked so far
            checks.append(
                CheckResult(
                    loop_check_name(function),
                    "training",
                    inputs.rtol,
                    skipped=f"interrupted ({Interruption.of(stop, '').signal})",
                )
            )
            raise


def _loop_check(function: str, inputs: RunInputs, training: TrainingRun, ran: tuple | None) -> CheckResult:
    """A course loop function, whole, against the run training just made of the implementation's own steps."""
    impl = inputs.impl
    stopped = (
        "no iterations"  # the course's week-2 optimize reads its grads after a loop that ran none
        if inputs.plan.steps_total == 0
        else f"{impl.label} {training.lockstep.error.what} during training (see lockstep)"
        if training.lockstep.error is not None
        else f"{impl.label} diverged during training"
        if training.nonfinite.impl is not None
        else f"{training.saturated}, and its final parameters come after it"
        if training.saturated
        else ""
    )
    if stopped:
        return CheckResult(loop_check_name(function), "training", inputs.rtol, skipped=stopped)
    assert training.impl_params is not None, "training starts from params and keeps the last finite ones"
    replay = Replay(training.costs.impl, training.impl_params, training.costs.torch, training.impl_state_start)
    run = LoopRun(inputs.X, inputs.Y, inputs.params, inputs.plan)
    return check_loop(inputs.impl, function, run, replay, inputs.rtol, ran)
