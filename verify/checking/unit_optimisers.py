"""The function-by-function checks of the course's optimisation week, against torch.

Mini-batches (sizes, one shared permutation, the course's order for a seed), momentum's and Adam's moments,
bias corrections and steps, and the learning-rate decays at several epochs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import catalogue
from ..impl.base import _binds, _describe
from ..judging.adam import bias_correction
from ..judging.hint_fits import matches
from ..judging.optimizer_hints import decay_slips, fitting_slip, optimizer_slips
from ..judging.tolerance import unit_step_scale
from ..optimization import OptimizerStep, course_permutation
from .unit_harness import LEARNING_RATE, N_PREV, Unit, Wrong, parameters

BETA, ADAM_T, BETA1, BETA2, EPSILON = 0.9, 3, 0.9, 0.999, 1e-2  # a large epsilon, so where it is added shows


def _optimizer_inputs(u: Unit) -> tuple[dict, dict, dict, dict]:
    """Parameters, gradients, and mid-training moments v and s (non-zero, as after a few steps), keyed like the course."""
    params = parameters(u)
    grads = {f"d{k}": u.randn(*p.shape) for k, p in params.items()}
    v = {k: u.randn(*g.shape) * 0.1 for k, g in grads.items()}
    s = {k: np.abs(u.randn(*g.shape)) * 0.01 for k, g in grads.items()}
    return params, grads, v, s


def _check_zeros_like(u: Unit, output: str, value, params: dict) -> None:
    if not isinstance(value, dict):
        raise Wrong(output, f"expected a dict keyed dW1, db1, ..., got {_describe(value)}")
    for key, p in params.items():
        got = value.get(f"d{key}")
        if not (isinstance(got, np.ndarray) and got.shape == p.shape):
            raise Wrong(output, f'its "d{key}" should be an array of shape {p.shape}, got {_describe(got)}')
        if np.any(got != 0):
            raise Wrong(output, f'its "d{key}" should start at zeros')


def _check_initialize_velocity(u: Unit) -> None:
    params = _optimizer_inputs(u)[0]
    _check_zeros_like(u, "v", u.call(params), params)


def _check_initialize_adam(u: Unit) -> None:
    params = _optimizer_inputs(u)[0]
    v, s = u.parts(u.call(params), ("v", "s"))
    _check_zeros_like(u, "v", v, params)
    _check_zeros_like(u, "s", s, params)


def _close_moments(u: Unit, output: str, got, expected: dict, terms: dict, slips: dict) -> None:
    """Each entry of a dict of moments against torch's; `slips`: hint -> what a classic slip would have given."""
    if not isinstance(got, dict):
        raise Wrong(output, f"expected a dict keyed dW1, db1, ..., got {_describe(got)}")
    for key, value in expected.items():
        try:
            u.close(
                f"step of {key[1:]}" if output == "step of" else f'{output}["{key}"]', got.get(key), value, terms[key]
            )
        except Wrong as wrong:
            wrong.hint = fitting_slip(got.get(key), key, slips) or wrong.hint
            raise


def _close_steps(u: Unit, got, params: dict, expected: dict, slips: dict) -> None:
    """The step each parameter took, got[key] - params[key], against torch's; `slips` keyed like the gradients."""
    if not isinstance(got, dict):
        raise Wrong("parameters", f"expected a dict, got {_describe(got)}")
    steps_got = {}
    for key, p in params.items():
        new = got.get(key)
        if not (isinstance(new, np.ndarray) and new.shape == p.shape):
            raise Wrong(key, f"should be an array of shape {p.shape}, got {_describe(new)}")
        u.in_run_dtype(key, new)
        steps_got[f"d{key}"] = new.astype(np.float64) - p
    _close_moments(
        u,
        "step of",
        steps_got,
        {f"d{k}": expected[k] - params[k] for k in params},
        {f"d{k}": unit_step_scale(float(np.max(np.abs(expected[k] - params[k]))), params[k]) for k in params},
        slips,
    )


def _check_update_parameters_with_momentum(u: Unit) -> None:
    from torch_ref import steps

    params, grads, v, _ = _optimizer_inputs(u)
    new_params, new_v = u.parts(u.call(params, grads, v, BETA, LEARNING_RATE), ("parameters", "v"))
    expected_params, expected_v = steps.momentum_step(params, grads, v, BETA, LEARNING_RATE)
    terms = {k: float(np.max(BETA * np.abs(v[k]) + (1 - BETA) * np.abs(grads[k]))) for k in v}
    step = OptimizerStep("momentum", {"beta": BETA}, 1, LEARNING_RATE, {"v": v})
    _close_moments(u, "v", new_v, expected_v, terms, optimizer_slips("v", step, grads))
    _close_steps(u, new_params, params, expected_params, optimizer_slips("step", step, grads))


def _check_update_parameters_with_adam(u: Unit) -> None:
    from torch_ref import steps

    params, grads, v, s = _optimizer_inputs(u)
    result = u.call(params, grads, v, s, ADAM_T, LEARNING_RATE, BETA1, BETA2, EPSILON)
    if isinstance(result, (tuple, list)) and len(result) == 3:  # older notebooks: (parameters, v, s)
        result = (*result, None, None)
    new_params, new_v, new_s, v_hat, s_hat = u.parts(result, ("parameters", "v", "s", "v_corrected", "s_corrected"))
    expected = steps.adam_step(params, grads, v, s, ADAM_T, LEARNING_RATE, BETA1, BETA2, EPSILON)
    settings = {"beta1": BETA1, "beta2": BETA2, "epsilon": EPSILON}
    v_terms = {k: float(np.max(BETA1 * np.abs(v[k]) + (1 - BETA1) * np.abs(grads[k]))) for k in v}
    s_terms = {k: float(np.max(BETA2 * s[k] + (1 - BETA2) * grads[k] ** 2)) for k in s}
    step = OptimizerStep("adam", settings, ADAM_T, LEARNING_RATE, {"v": v, "s": s})
    _close_moments(u, "v", new_v, expected[1], v_terms, optimizer_slips("v", step, grads))
    _close_moments(u, "s", new_s, expected[2], s_terms, optimizer_slips("s", step, grads))
    corrections = {"v_corrected": (v_hat, BETA1, v_terms), "s_corrected": (s_hat, BETA2, s_terms)}
    moments = {"v": expected[1], "s": expected[2]}
    for name, (got, beta, terms) in corrections.items():
        if got is None:
            continue
        _close_moments(
            u,
            name,
            got,
            expected[3 if name == "v_corrected" else 4],
            {k: terms[k] / bias_correction(beta, ADAM_T) for k in terms},
            optimizer_slips(name, step, grads, moments=moments),
        )
    corrected = {"v_corrected": expected[3], "s_corrected": expected[4]}
    _close_steps(
        u,
        new_params,
        params,
        expected[0],
        optimizer_slips("step", step, grads, corrected=corrected),
    )


def _check_decay(name: str) -> Callable[[Unit], None]:
    def check(u: Unit) -> None:
        from torch_ref.optimizers import lr_factor

        lr0, rate, epochs = 0.2, 0.5, (0, 1, 3, 2500)
        decay = catalogue.by_name(name).decay  # inverse or scheduled
        takes_interval = decay == "scheduled" and _binds(getattr(u.impl.module, name), 4)
        interval = 2 if takes_interval else 1000
        factor = lr_factor(decay, rate, interval)
        rates = []
        for epoch in epochs:
            got = u.call(*((lr0, epoch, rate) + ((interval,) if takes_interval else ())))
            try:
                rates.append(float(np.asarray(got).reshape(())))
            except (TypeError, ValueError):
                raise Wrong("learning rate", f"expected a number, got {_describe(got)}") from None
        for epoch, got in zip(epochs, rates):
            try:  # LambdaLR's factor for epoch e + 1 is the course's rate after epoch e (see torch_ref.optimizers)
                u.close(f"learning rate at epoch {epoch}", np.asarray(got), np.asarray(lr0 * factor(epoch + 1)), lr0)
            except Wrong as wrong:  # a slip's hint fits the rate at every epoch, not only where it first shows
                slips = decay_slips(name, lr0, rate, interval)
                wrong.hint = next(
                    (
                        hint
                        for hint, slip in slips.items()
                        if matches(np.array(rates), np.array([slip(e) for e in epochs]))
                    ),
                    wrong.hint,
                )
                raise

    return check


def _check_random_mini_batches(u: Unit) -> None:
    m, size = 10, 4
    X = np.arange(N_PREV * m, dtype=u.dtype).reshape(N_PREV, m)  # each column tells where it came from
    Y = X[:1] + 0.5
    seed = 1
    batches = u.call(X, Y, size, seed)
    if not isinstance(batches, (list, tuple)) or not all(isinstance(b, (tuple, list)) and len(b) == 2 for b in batches):
        raise Wrong("mini_batches", f"expected a list of (X_batch, Y_batch), got {_describe(batches)}")
    for X_batch, Y_batch in batches:
        ok = (
            isinstance(X_batch, np.ndarray)
            and isinstance(Y_batch, np.ndarray)
            and X_batch.ndim == Y_batch.ndim == 2
            and X_batch.shape[0] == N_PREV
            and Y_batch.shape == (1, X_batch.shape[1])
        )
        if not ok:
            left = X_batch is None or Y_batch is None  # an exercise's `mini_batch_X = None` placeholder
            apart = (
                not left and np.ndim(X_batch) == np.ndim(Y_batch) == 2 and np.shape(X_batch)[1] != np.shape(Y_batch)[1]
            )
            raise Wrong(
                "mini_batches",
                f"a batch should be X ({N_PREV}, k) and Y (1, k), got {_describe(X_batch)} and {_describe(Y_batch)}",
                "a batch left None, as an exercise's `= None` placeholder leaves it"
                if left
                else "X and Y cut with different bounds: one slice of columns for both, X[:, a:b] and Y[:, a:b]"
                if apart
                else "cut the columns, X[:, a:b] and Y[:, a:b]",
            )
    sizes = [b[0].shape[1] for b in batches]
    if sizes != [4, 4, 2]:
        missing = "the course keeps a last, smaller batch of the rest" if sizes == [4, 4] else ""
        raise Wrong("mini_batches", f"m = {m} in batches of {size}: expected sizes [4, 4, 2], got {sizes}", missing)
    X_all, Y_all = np.hstack([b[0] for b in batches]), np.hstack([b[1] for b in batches])
    if sorted(X_all[0].tolist()) != X[0].tolist() or X_all.shape != X.shape:
        raise Wrong("mini_batches", "the batches' columns are not each column of X exactly once")
    if not np.array_equal(Y_all, X_all[:1] + 0.5):
        raise Wrong(
            "mini_batches",
            "X and Y were not shuffled with the same permutation",
            "take X[:, permutation] and Y[:, permutation] with one permutation",
        )
    course_order = course_permutation(seed, m)
    if not np.array_equal(X_all[0] // 1, X[0, course_order]):
        unshuffled = np.array_equal(X_all, X)
        raise Wrong(
            "mini_batches",
            "the columns are in their original order"
            if unshuffled
            else "the columns are not in the course's order for this seed",
            "the course shuffles with np.random.seed(seed), then permutation = np.random.permutation(m)",
        )


OPTIMISER_CHECKS: dict[str, Callable[[Unit], None]] = {  # the course's order
    "random_mini_batches": _check_random_mini_batches,
    "initialize_velocity": _check_initialize_velocity,
    "update_parameters_with_momentum": _check_update_parameters_with_momentum,
    "initialize_adam": _check_initialize_adam,
    "update_parameters_with_adam": _check_update_parameters_with_adam,
    "update_lr": _check_decay("update_lr"),
    "schedule_lr_decay": _check_decay("schedule_lr_decay"),
}
