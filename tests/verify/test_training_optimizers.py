"""Training with the course's optimisers: each classic slip caught over a whole run and named, no false alarms.

Slips go into the implementation under test only (scratch's functions, looked up on the package
at call time, or a learner's file); verify/ and torch_ref/ are never touched. Expectations are
worked out from the course's formulas, not copied from a notebook.
"""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import COURSE, EXAMPLES, check, edited, optimisers_text, run_cli, slipped, tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scratch
from verify import run
from verify.optimization import Optimization

WEEK4 = COURSE

# The two scales users meet: a comfortable network, and a deep one with the course's randn * 0.01
# weights, whose gradients are around 1e-10 (below Adam's epsilon).
SCALES = {
    "comfortable": dict(arch=(5, 8, 4, 1), examples=70, epochs=3, mini_batch_size=32),
    "deep-small": dict(arch=(10, 16, 16, 16, 16, 16, 1), init="random", examples=70, epochs=3, mini_batch_size=32),
}


def adam_with(moment=None, correction=None, step=None):
    """scratch's Adam with one line replaced: moment(v, g, beta1), correction(x, beta, t), step(p, vc, sc, lr, eps)."""
    moment = moment or (lambda v, g, beta: beta * v + (1 - beta) * g)
    correction = correction or (lambda x, beta, t: x / (1 - beta**t))
    step = step or (lambda p, vc, sc, lr, eps: p - lr * vc / (np.sqrt(sc) + eps))

    def update_parameters_with_adam(
        parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8
    ):
        v = {k: moment(v[k], grads[k], beta1) for k in v}
        s = {k: beta2 * s[k] + (1 - beta2) * grads[k] ** 2 for k in s}
        vc = {k: correction(x, beta1, t) for k, x in v.items()}
        sc = {k: correction(x, beta2, t) for k, x in s.items()}
        parameters = {k: step(p, vc[f"d{k}"], sc[f"d{k}"], learning_rate, epsilon) for k, p in parameters.items()}
        return parameters, v, s, vc, sc

    return update_parameters_with_adam


def momentum_with(moment):
    def update_parameters_with_momentum(parameters, grads, v, beta, learning_rate):
        v = {k: moment(v[k], grads[k], beta) for k in v}
        return {k: p - learning_rate * v[f"d{k}"] for k, p in parameters.items()}, v

    return update_parameters_with_momentum


SLIPS = {
    # name: (optimizer, decay, scratch function, slipped function, the first lockstep row that fails, its iteration)
    "epsilon inside the square root": (
        "adam",
        None,
        "update_parameters_with_adam",
        adam_with(step=lambda p, vc, sc, lr, eps: p - lr * vc / np.sqrt(sc + eps)),
        ("W", "b"),
        0,
    ),
    "no bias correction": (
        "adam",
        None,
        "update_parameters_with_adam",
        adam_with(correction=lambda x, beta, t: x),
        ("v_corrected_dW", "v_corrected_db"),
        0,
    ),
    "bias correction with t from 0": (
        "adam",
        None,
        "update_parameters_with_adam",
        adam_with(correction=lambda x, beta, t: x / (1 - beta ** (t - 1))),
        ("v_corrected_dW", "v_corrected_db"),
        0,
    ),
    "beta1 and 1 - beta1 swapped": (
        "adam",
        None,
        "update_parameters_with_adam",
        adam_with(moment=lambda v, g, beta: (1 - beta) * v + beta * g),
        ("v_dW", "v_db"),
        0,
    ),
    "momentum without (1 - beta)": (
        "momentum",
        None,
        "update_parameters_with_momentum",
        momentum_with(lambda v, g, beta: beta * v + g),
        ("v_dW", "v_db"),
        0,
    ),
    "v not carried over": (
        "momentum",
        None,
        "update_parameters_with_momentum",
        momentum_with(lambda v, g, beta: (1 - beta) * g),
        ("v_dW", "v_db"),
        1,
    ),
    "decay one epoch early": (
        "gd",
        "inverse",
        "update_lr",
        lambda lr0, epoch, rate: lr0 / (1 + rate * (epoch + 1)),
        ("lr",),
        None,
    ),
}


HINTS = {  # what the lockstep row's hint says (the same hypotheses as the function table's)
    "epsilon inside the square root": "epsilon is inside the square root",
    "no bias correction": "no bias correction",
    "bias correction with t from 0": "",  # 1 - beta^0 = 0: a non-finite v_corrected, no slip to fit
    "beta1 and 1 - beta1 swapped": "beta1 and 1 - beta1 are swapped",
    "momentum without (1 - beta)": "the (1 - beta) factor on the gradient is missing",
    "v not carried over": "v was not carried over",
    "decay one epoch early": "the decay runs one epoch ahead of the course's",
}


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("slip", SLIPS)
@pytest.mark.end_to_end
def test_each_optimiser_slip_is_caught_over_a_run_and_named(monkeypatch, slip, scale):
    optimizer, decay, function, slipped_function, quantities, iteration = SLIPS[slip]
    monkeypatch.setattr(scratch, function, slipped_function)
    config = tiny(optimizer=optimizer, decay=decay, **SCALES[scale])
    report = run(config)
    lockstep = check(report, "lockstep")
    assert not lockstep.ok
    first = report.first_divergence
    assert first.name == "lockstep" and first.quantity in quantities, first
    if iteration is None:  # the decay: the first step of epoch 1, the first whose rate the course decays
        iteration = Optimization.from_config(config, config.examples).batches_per_epoch
    assert first.iteration == iteration
    assert first.function == function  # the function table names it, and the network runs it
    assert first.fix
    assert HINTS[slip] in first.hint, first.hint  # the lockstep row names the slip too, where it fits one


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(
    "optimizer, decay", [("gd", None), ("momentum", "scheduled"), ("adam", "inverse"), ("adam", None)]
)
@pytest.mark.end_to_end
def test_correct_optimisers_pass_at_both_scales(optimizer, decay, scale):
    report = run(tiny(optimizer=optimizer, decay=decay, decay_interval=2, **SCALES[scale]))
    assert report.ok, report.to_text()
    free = check(report, "free-running")
    assert free.rows and free.comparable_until is None, free.notes  # the two runs were compared to the end
    assert len(report.costs.impl) == len(report.costs.torch) == 3  # one cost per epoch


@pytest.mark.end_to_end
def test_adam_at_small_gradients_compares_every_entry_tightly():
    """The deep network's gradients (~1e-10) sit below epsilon: the step is about lr v / epsilon, and a
    relative error of 1e-6 in it (far below what the slips above make) is caught within the first epoch
    (the first step's tolerance, relative to the gradients' conservative scale, is about 1e-5 of it)."""

    def off_by_a_little(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999, epsilon=1e-8):
        p, v, s, vc, sc = scratch.optimizers.update_parameters_with_adam(
            parameters, grads, v, s, t, learning_rate, beta1, beta2, epsilon
        )
        return {k: x + 1e-6 * (x - parameters[k]) for k, x in p.items()}, v, s, vc, sc

    config = tiny(optimizer="adam", **SCALES["deep-small"])
    assert run(config).ok
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scratch, "update_parameters_with_adam", off_by_a_little)
        first = run(config).first_divergence
    assert first.name == "lockstep" and first.quantity in ("W", "b") and first.iteration < 3


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "optimizer, betas",
    [
        ("adam", {"beta1": 5.097333102676482e-22, "beta2": 0.5}),
        ("adam", {"beta1": 5e-22, "beta2": 1e-20}),
        ("momentum", {"beta": 5e-22}),
    ],
)
@pytest.mark.end_to_end
def test_a_beta_below_eps_is_no_false_alarm(optimizer, betas, dtype):
    """1 - beta rounds to 1: torch's v + (1 - beta)(g - v) is exactly 0 where the gradient is, the course's
    beta v is not (-1.6e-23 against an allowance of 1.6e-30 before the moments' rounding was counted)."""
    config = tiny(
        arch=(3, 5, 4, 1),
        examples=20,
        mini_batch_size=1,
        epochs=2,
        optimizer=optimizer,
        dtype=dtype,
        gradcheck=False,
        learning_rate=0.05,
        **betas,
    )
    assert run(config).ok


@pytest.mark.end_to_end
def test_the_moments_rounding_does_not_hide_a_slip_at_a_tiny_beta(monkeypatch):
    monkeypatch.setattr(scratch, "update_parameters_with_adam", SLIPS["epsilon inside the square root"][3])
    config = tiny(
        arch=(3, 5, 4, 1),
        examples=20,
        mini_batch_size=4,
        epochs=2,
        optimizer="adam",
        beta1=5e-22,
        beta2=0.5,
        gradcheck=False,
        learning_rate=0.05,
    )
    first = run(config).first_divergence
    assert first.name == "lockstep" and first.quantity in ("W", "b") and first.iteration == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    optimizer=st.sampled_from(["gd", "momentum", "adam"]),
    m=st.integers(20, 45),
    size=st.integers(1, 45),
    beta=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
    epsilon=st.sampled_from([1e-8, 1e-4, 1e-2]),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 1000),
    decay=st.sampled_from([None, "inverse", "scheduled"]),
)
@pytest.mark.end_to_end
def test_no_false_alarms_over_optimisers_batches_and_settings(
    optimizer, m, size, beta, beta2, epsilon, dtype, seed, decay
):
    config = tiny(
        arch=(3, 5, 4, 1),
        examples=m,
        mini_batch_size=min(size, m),
        epochs=2,
        optimizer=optimizer,
        beta=beta,
        beta1=beta,
        beta2=beta2,
        epsilon=epsilon,
        dtype=dtype,
        seed=seed,
        decay=decay,
        decay_rate=0.5,
        decay_interval=1,
        gradcheck=False,
        learning_rate=0.05,
    )
    report = run(config)
    assert report.ok, report.to_text()


def test_mini_batches_are_the_course_permutation_with_the_remainder_kept():
    plan = Optimization("gd", 0.1, epochs=2, m=10, mini_batch_size=4, seed=3)
    for epoch in range(2):
        rows = plan.epoch_rows(epoch)
        assert [len(r) for r in rows] == [4, 4, 2]
        X = np.arange(10, dtype=float)[None, :]
        course = [b[0][0].tolist() for b in scratch.random_mini_batches(X, X, 4, seed=3 + epoch + 1)]
        assert [r.tolist() for r in rows] == course
    assert [s.t for s in plan.steps()] == list(range(1, 7))


def learner(tmp_path, text_change=None) -> Path:
    return edited(tmp_path, WEEK4, *([text_change] if text_change else []), tail=optimisers_text(), name="learner.py")


ARGS = [
    "--arch",
    "4,5,1",
    "--examples",
    "50",
    "--mini-batch-size",
    "16",
    "--epochs",
    "3",
    "--no-tensorboard",
    "--no-gradcheck",
    "-q",
]


@pytest.mark.parametrize("returns", ["parameters, v, s, v_corrected, s_corrected", "parameters, v, s"])
@pytest.mark.end_to_end
def test_a_learners_adam_passes_in_either_course_form(capsys, tmp_path, returns):
    path = learner(tmp_path, ("return parameters, v, s, v_corrected, s_corrected", f"return {returns}"))
    if returns == "parameters, v, s":  # and its model() unpacks three
        path.write_text(
            path.read_text().replace(
                "parameters, v, s, _, _ = update_parameters_with_adam", "parameters, v, s = update_parameters_with_adam"
            )
        )
    code, out, _ = run_cli(capsys, "--impl", str(path), "--optimizer", "adam", "--decay", "scheduled", *ARGS)
    assert code == 0, out


@pytest.mark.end_to_end
def test_a_learners_adam_slip_is_named_on_its_function(capsys, tmp_path):
    path = slipped(
        tmp_path, learner(tmp_path), "/ (np.sqrt(s_corrected[key]) + epsilon)", "/ np.sqrt(s_corrected[key] + epsilon)"
    )
    code, out, _ = run_cli(capsys, "--impl", str(path), "--optimizer", "adam", *ARGS)
    assert code == 1
    assert "fix `update_parameters_with_adam`" in out and "epsilon is inside the square root" in out


@pytest.mark.end_to_end
def test_a_module_without_the_optimisers_functions_is_told_which(capsys):
    code, _, err = run_cli(capsys, "--impl", str(WEEK4), "--optimizer", "momentum", *ARGS)
    assert code == 2 and "update_parameters_with_momentum(parameters, grads, v, beta, learning_rate)" in err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--optimizer", "rmsprop"], "unknown --optimizer 'rmsprop'"),
        (["--beta", "1", "--optimizer", "momentum"], "--beta must be in [0, 1)"),
        (["--beta1", "-0.1", "--optimizer", "adam"], "--beta1 must be in [0, 1)"),
        (["--beta2", "nan", "--optimizer", "adam"], "--beta2 must be in [0, 1)"),
        (["--epsilon", "0", "--optimizer", "adam"], "--epsilon must be a positive"),
        (["--beta", "0.5", "--optimizer", "adam"], "--beta is used only with --optimizer momentum (Adam's betas are"),
        (["--epsilon", "1e-6"], "--epsilon is used only with --optimizer adam"),
        (["--decay-rate", "0.5"], "--decay-rate is used only with --decay inverse or scheduled"),
        (["--decay-interval", "2", "--decay", "inverse"], "--decay-interval is used only with --decay scheduled"),
        (["--mini-batch-size", "0"], "--mini-batch-size must be a whole number >= 1"),
        (["--mini-batch-size", "201"], "--mini-batch-size 201 is larger than the 200 examples"),
        (["--epochs", "-1"], "--epochs must be a whole number >= 0"),
        (["--epochs", "3", "--iterations", "3"], "give --epochs or --iterations, not both"),
        (["--decay", "cosine"], "unknown --decay 'cosine'"),
        (["--decay-rate", "-1", "--decay", "inverse"], "--decay-rate must be"),
        (["--decay-interval", "0", "--decay", "scheduled"], "--decay-interval must be"),
    ],
)
@pytest.mark.end_to_end
def test_bad_optimiser_options_get_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--no-tensorboard", *argv)
    assert code == 2 and out == ""
    assert words in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.end_to_end
def test_week2_cannot_take_an_optimiser(capsys):
    code, _, err = run_cli(
        capsys,
        "--arch",
        "2,1",
        "--impl",
        str(EXAMPLES / "logreg_network.py"),
        "--optimizer",
        "adam",
        "--no-tensorboard",
    )
    assert code == 2 and "week 2" in err


@pytest.mark.end_to_end
def test_a_mini_batch_remainder_dropped_is_named_though_the_run_steps_through_the_verifiers_batches(capsys, tmp_path):
    path = slipped(tmp_path, learner(tmp_path), "    if m % mini_batch_size != 0:\n", "    if False:\n")
    code, out, _ = run_cli(capsys, "--impl", str(path), "--optimizer", "adam", *ARGS)  # m = 50 in batches of 16
    assert code == 1
    assert "fix `random_mini_batches`" in out and "the course keeps a last, smaller batch" in out


@pytest.mark.parametrize("dtype, epochs", [("float64", 5), ("float32", 20)])
@pytest.mark.end_to_end
def test_adam_in_a_deep_network_passes_where_an_entry_with_a_tiny_gradient_steps_far_from_rounding(dtype, epochs):
    """An entry whose gradient cancels to near 0 takes an Adam step far more sensitive to rounding than the
    rest: free-running's allowance must take the largest step gap of lockstep, not the entry that decides it."""
    report = run(
        tiny(
            arch=(5, 16, 16, 16, 16, 16, 1),
            examples=200,
            optimizer="adam",
            mini_batch_size=64,
            epochs=epochs,
            dtype=dtype,
        )
    )
    assert report.ok, report.to_text()
    lockstep = check(report, "lockstep")
    assert lockstep.rows[("W", 1)].run_max_abs >= lockstep.rows[("W", 1)].max_abs  # the largest gap is kept too


@pytest.mark.end_to_end
def test_a_schedule_without_time_interval_cannot_take_decay_interval(capsys, tmp_path):
    path = learner(
        tmp_path,
        (
            "def schedule_lr_decay(learning_rate0, epoch_num, decay_rate, time_interval=1000):\n"
            "    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / time_interval))",
            "def schedule_lr_decay(learning_rate0, epoch_num, decay_rate):\n"
            "    return learning_rate0 / (1 + decay_rate * np.floor(epoch_num / 1000))",
        ),
    )
    assert "time_interval" not in path.read_text().split("def schedule_lr_decay")[1].split(":")[0]
    code, _, err = run_cli(capsys, "--impl", str(path), "--decay", "scheduled", "--decay-interval", "1", *ARGS)
    assert code == 2 and "takes no time_interval" in err
    code, _, _ = run_cli(capsys, "--impl", str(path), "--decay", "scheduled", *ARGS)  # the course's 1000: runs
    assert code == 0


@pytest.mark.end_to_end
def test_a_wrong_rate_is_named_as_the_rate_not_a_layer(monkeypatch):
    monkeypatch.setattr(scratch, "update_lr", lambda lr0, epoch, rate: lr0 / (1 + rate * (epoch + 1)))
    report = run(tiny(decay="inverse", epochs=3, mini_batch_size=16))
    assert "lockstep, iteration 2 (epoch 1, mini-batch 0): lr differs" in report.to_text()
    assert "the decay runs one epoch ahead of the course's" in report.first_divergence.hint
    assert report.as_dict()["config"]["iterations"] == 3 * 2  # steps: 32 examples in batches of 16


@pytest.mark.end_to_end
def test_a_decay_is_hinted_from_the_probes_epochs_not_from_one_epochs_coincidence(monkeypatch):
    """At --decay-rate 1, learning_rate0 * rate ** epoch is lr0 at every epoch: the course's rate one epoch behind at
    epoch 1, and 2 times the course's there. Neither is its slip; the probe's rates, at a rate of its own, say so."""
    monkeypatch.setattr(scratch, "update_lr", lambda lr0, epoch, rate: lr0 * rate**epoch)
    report = run(tiny(decay="inverse", decay_rate=1.0, epochs=3, mini_batch_size=16))
    first = report.first_divergence
    assert first.quantity == "lr" and first.hint == "", first.hint  # was: "... runs one epoch behind ..."
    monkeypatch.setattr(scratch, "update_lr", lambda lr0, epoch, rate: lr0 / (1 + rate * max(epoch - 1, 0)))
    assert run(tiny(decay="inverse", decay_rate=1.0, epochs=3, mini_batch_size=16)).first_divergence.hint.startswith(
        "the decay runs one epoch behind the course's: it returns for epoch_num what"
    )


def folder_with(tmp_path, name: str, network_change=("", ""), optimiser_change=("", "")) -> Path:
    """A learner's folder: course_network.py and course_optimizers.py (which imports it), each with one change."""
    folder = tmp_path / name
    folder.mkdir()
    edited(folder, WEEK4, network_change)
    return edited(folder, OPTIMISERS_PY, optimiser_change)


OPTIMISERS_PY = EXAMPLES / "course_optimizers.py"


@pytest.mark.end_to_end
def test_each_load_imports_its_own_folders_helpers_afresh(tmp_path):
    """A second verify.run in one process (a grading loop, a notebook re-run) must not reuse the first
    folder's course_network."""
    good = folder_with(tmp_path, "good")
    buggy = folder_with(
        tmp_path, "buggy", network_change=("dZ[activation_cache <= 0] = 0", "dZ[activation_cache <= 0] = 0.5")
    )
    config = tiny(arch=(4, 5, 1), optimizer="momentum", mini_batch_size=16, gradcheck=False)
    assert run(replace(config, impl=str(good))).ok
    assert not run(replace(config, impl=str(buggy))).ok


@pytest.mark.end_to_end
def test_what_a_learners_code_prints_goes_to_stderr_not_into_the_json(capsys, tmp_path):
    path = folder_with(
        tmp_path,
        "printing",
        optimiser_change=("        seed = seed + 1\n", "        seed = seed + 1\n        print('epoch', i)\n"),
    )
    code, out, err = run_cli(capsys, "--impl", str(path), "--optimizer", "adam", *ARGS[:-1], "--json", "-")
    assert code == 0 and json.loads(out)["verdict"] == "pass"
    assert "epoch 0" in err


@pytest.mark.end_to_end
def test_lists_where_the_course_returns_tuples_are_taken(capsys, tmp_path):
    path = folder_with(
        tmp_path, "lists", optimiser_change=("    return parameters, v\n", "    return [parameters, v]\n")
    )
    path.write_text(path.read_text().replace("    return v, s\n", "    return [v, s]\n"))
    assert "return [v, s]" in path.read_text()
    for optimizer in ("momentum", "adam"):
        code, out, _ = run_cli(capsys, "--impl", str(path), "--optimizer", optimizer, *ARGS)
        assert code == 0, out


@pytest.mark.end_to_end
def test_a_rate_rounded_to_float32_is_named_in_lockstep(capsys, tmp_path):
    path = folder_with(
        tmp_path,
        "lr32",
        optimiser_change=(
            "    return learning_rate0 / (1 + decay_rate * epoch_num)",
            "    return np.float32(learning_rate0 / (1 + decay_rate * epoch_num))",
        ),
    )
    code, out, _ = run_cli(capsys, "--impl", str(path), "--optimizer", "momentum", "--decay", "inverse", *ARGS)
    assert code == 1
    assert "lr differs" in out and "rounded to float32" in out


@pytest.mark.end_to_end
def test_a_float32_step_in_a_float64_run_is_named_on_its_function(capsys, tmp_path):
    path = folder_with(
        tmp_path,
        "f32",
        optimiser_change=(
            '        parameters["W" + str(l)] = parameters["W" + str(l)] - learning_rate * v["dW" + str(l)]',
            '        parameters["W" + str(l)] = (parameters["W" + str(l)] - learning_rate * v["dW" + str(l)]).astype(np.float32)',
        ),
    )
    code, out, _ = run_cli(capsys, "--impl", str(path), "--optimizer", "momentum", *ARGS)
    assert code == 1
    assert "fix `update_parameters_with_momentum`: its W1 differs (a float32 array or constant" in out
