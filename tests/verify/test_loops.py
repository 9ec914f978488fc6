"""The course's training loops, whole: right ones pass, and a slip that lives only in the loop fails on the loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import COURSE, EXAMPLES, edited, optimisers_text, slipped

from verify.cli import main

pytestmark = pytest.mark.end_to_end

WEEK4 = COURSE
WEEK3 = EXAMPLES / "planar_network.py"
WEEK2 = EXAMPLES / "logreg_network.py"
ARCH = {WEEK4: "3,4,1", WEEK3: "2,4,1", WEEK2: "2,1"}
RUN = ["--no-tensorboard", "--iterations", "250", "--examples", "40", "--no-gradcheck", "-q", "--json", "-"]


def verify(capsys, path: Path, arch: str, *extra: str) -> tuple[int, dict]:
    code = main(["--arch", arch, "--impl", str(path), *RUN, *extra])
    return code, json.loads(capsys.readouterr().out)


def loops(report: dict) -> dict:
    return {c["name"]: c for c in report["checks"] if c["name"].startswith("loop")}


@pytest.mark.parametrize(
    "source, names",
    [
        (WEEK4, ["loop two_layer_model", "loop L_layer_model"]),
        (WEEK3, ["loop nn_model"]),
        (WEEK2, ["loop optimize", "loop model"]),
    ],
    ids=["week4", "week3", "week2"],
)
def test_each_course_loop_is_checked_and_passes(capsys, source, names):
    code, report = verify(capsys, source, ARCH[source])
    assert code == 0, report["first_divergence"]
    checks = loops(report)
    assert list(checks) == names
    for check in checks.values():
        assert check["status"] == "ok"
        cost = next(r for r in check["rows"] if r["quantity"] == "cost")
        assert cost["compared"] == 1 and cost["tolerance"] > 0


def test_a_deep_network_runs_L_layer_model_only_and_says_why_not_two_layer_model(capsys):
    code, report = verify(capsys, WEEK4, "3,4,4,1")
    assert code == 0
    checked = loops(report)
    assert list(checked) == ["loop two_layer_model", "loop L_layer_model"]
    assert checked["loop L_layer_model"]["status"] == "ok"
    assert checked["loop two_layer_model"]["status"] == "not run"
    assert checked["loop two_layer_model"]["skipped"].startswith("it trains a network of 2 layers and this run's has 3")


LOOP_SLIPS = [
    # (file, old, new, the loop that fails, its first wrong quantity)
    (WEEK2, "if i % 100 == 0:", "if i % 100 == 1:", "loop optimize", "cost"),  # the cost kept one step late
    (
        WEEK2,
        "grads, cost = propagate(w, b, X, Y)",
        "grads, cost = propagate(w, b, X, Y)\n        w0 = w",
        None,
        None,
    ),  # harmless: a control, the loop stays right
    (
        WEEK3,
        "    for i in range(num_iterations):\n",
        "    for i in range(num_iterations):\n"
        "        parameters = initialize_parameters(n_x, n_h, n_y) if i % 2 else parameters\n",
        "loop nn_model",
        "cost",
    ),
    (
        WEEK4,
        "parameters = update_parameters(parameters, grads, learning_rate)\n        if i % 100 == 0 or i == num_iterations - 1:\n"
        '            costs.append(cost)\n            if print_cost:\n                print(f"Cost after iteration {i}: {np.squeeze(cost)}")\n'
        "    return parameters, costs\n\n\ndef L_layer_model",
        "parameters = update_parameters(parameters, grads, 0.0075)\n        if i % 100 == 0 or i == num_iterations - 1:\n"
        '            costs.append(cost)\n            if print_cost:\n                print(f"Cost after iteration {i}: {np.squeeze(cost)}")\n'
        "    return parameters, costs\n\n\ndef L_layer_model",
        "loop two_layer_model",
        "cost",
    ),  # a hard-coded learning rate
    (
        WEEK4,
        'dA0, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")\n        grads = {"dW1": dW1, "db1": db1,',
        'dA0, dW1, db1 = linear_activation_backward(dA1, cache1, "relu")\n        grads = {"dW1": dW1, "db1": 0 * db1,',
        "loop two_layer_model",
        "cost",
    ),  # b1 never moves
]


@pytest.mark.parametrize(
    "source, old, new, failing, quantity",
    LOOP_SLIPS,
    ids=["cost-kept-late", "control", "re-initialised", "hard-coded-lr", "b1-not-updated"],
)
def test_a_slip_in_the_loop_alone_fails_the_loop_alone(capsys, tmp_path, source, old, new, failing, quantity):
    code, report = verify(capsys, slipped(tmp_path, source, old, new), ARCH[source])
    failed = [c["name"] for c in report["checks"] if not c["ok"]] + [
        f["function"] for f in report["functions"] if f["status"] != "ok"
    ]
    if failing is None:
        assert code == 0 and failed == []
        return
    calling = ["loop model"] if failing == "loop optimize" else []  # week 2's model() runs optimize: it follows
    assert code == 1 and failed == [failing, *calling]
    first = report["first_divergence"]
    assert first["name"] == failing and first["quantity"] == quantity


def test_a_costs_list_of_the_wrong_length_is_named(capsys, tmp_path):
    path = slipped(tmp_path, WEEK2, "if i % 100 == 0:", "if i % 7 == 0:")
    code, report = verify(capsys, path, ARCH[WEEK2])
    assert code == 1
    check = loops(report)["loop optimize"]
    assert "its costs list has 36 entries" in check["error"] and "one every 100 from iteration 0 (3)" in check["error"]


def test_a_loop_returning_no_costs_that_computes_none_is_judged_on_its_parameters(capsys, tmp_path):
    """nn_model returns its parameters alone: one that computes its cost only when it prints it (print_cost False
    here) kept no cost, and has none to be judged on (was: 'its costs list has 0 entries')."""
    path = slipped(
        tmp_path,
        WEEK3,
        "        cost = compute_cost(A2, Y)\n",
        "",
    )
    path.write_text(
        path.read_text().replace('print(f"Cost after', 'cost = compute_cost(A2, Y)\n            print(f"Cost after')
    )
    code, report = verify(capsys, path, ARCH[WEEK3])
    check = loops(report)["loop nn_model"]
    assert code == 0 and check["status"] == "ok", check
    assert [row["quantity"] for row in check["rows"]] == ["W", "b", "W", "b"]


@pytest.mark.parametrize("source", [WEEK2, WEEK3, WEEK4], ids=["week2", "week3", "week4"])
def test_no_loop_runs_without_iterations(capsys, source):
    """--iterations 0: training is not run, nor are the loops (the course's week-2 optimize raised
    UnboundLocalError: it reads the grads of a loop that ran no iteration)."""
    code, report = verify(capsys, source, ARCH[source], "--iterations", "0")
    assert code == 0, report["first_divergence"]
    assert loops(report) and all(check["skipped"] == "no iterations" for check in loops(report).values())


def test_a_loop_is_not_run_after_training_raised(capsys, tmp_path):
    path = slipped(
        tmp_path,
        WEEK3,
        'return {key: parameters[key] - learning_rate * grads["d" + key] for key in parameters}',
        "raise RuntimeError('no update')",
    )
    code, report = verify(capsys, path, ARCH[WEEK3])
    assert code == 1
    assert loops(report)["loop nn_model"]["skipped"] == "planar_network.py raised during training (see lockstep)"


def test_a_loop_is_called_positionally_whatever_it_names_its_arguments(capsys, tmp_path):
    path = slipped(
        tmp_path,
        WEEK2,
        "def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009,",
        "def optimize(w, b, X, Y, steps=100, alpha=0.009,",
    )
    path.write_text(
        path.read_text().replace("range(num_iterations)", "range(steps)").replace("learning_rate *", "alpha *")
    )
    code, report = verify(capsys, path, ARCH[WEEK2])
    assert code == 0, report["first_divergence"]
    assert loops(report)["loop optimize"]["status"] == "ok"


LOOP_VARIANTS = [  # correct loops in the forms learners write them
    (
        WEEK4,
        '            costs.append(cost)\n            if print_cost:\n                print(f"Cost after iteration {i}: {np.squeeze(cost)}")\n    return parameters, costs\n\n\ndef L_layer_model',
        '            if print_cost:\n                print(f"Cost after iteration {i}: {np.squeeze(cost)}")\n        costs.append(cost)\n    return parameters, costs\n\n\ndef L_layer_model',
    ),  # every cost kept
    (
        WEEK3,
        "    return parameters\n\n\ndef predict",
        "    return parameters, []\n\n\ndef predict",
    ),  # (parameters, costs), none kept
    (
        WEEK3,
        "def update_parameters(parameters, grads, learning_rate=1.2):\n    return {key: parameters[key] - learning_rate",
        "def update_parameters(parameters, grads, lr=1.2):\n    return {key: parameters[key] - lr",
    ),
    (
        WEEK3,
        "def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):",
        "def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False, learning_rate=1.2):",
    ),
]


@pytest.mark.parametrize(
    "source, old, new", LOOP_VARIANTS, ids=["every-cost", "nn-model-tuple", "lr-named-lr", "nn-model-lr"]
)
def test_correct_loops_in_other_forms_pass(capsys, tmp_path, source, old, new):
    path = slipped(tmp_path, source, old, new)
    if "learning_rate=1.2):" in new:  # nn_model passes its own rate on
        path.write_text(
            path.read_text().replace(
                "update_parameters(parameters, backward_propagation(parameters, cache, X, Y))",
                "update_parameters(parameters, backward_propagation(parameters, cache, X, Y), learning_rate)",
            )
        )
    code, report = verify(capsys, path, ARCH[source])
    assert code == 0, report["first_divergence"]
    assert all(c["status"] == "ok" for c in loops(report).values())


def test_week2s_model_handing_optimize_a_rate_of_its_own_is_named(capsys, tmp_path):
    """model(..., learning_rate) calling optimize(..., 0.005, ...): the rate it hands optimize is the slip named
    (was: only 'its W1 differs from its own functions' steps')."""
    old = "optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)"
    path = slipped(tmp_path, WEEK2, old, old.replace("learning_rate", "0.005"))
    code, report = verify(capsys, path, ARCH[WEEK2])
    assert code == 1 and report["first_divergence"]["fix"] == (
        "fix `model`: its steps are those of learning rate 0.005, not the --lr 0.1 it was given"
    )


NN_MODEL_UPDATE = "update_parameters(parameters, backward_propagation(parameters, cache, X, Y))"


@pytest.mark.parametrize("rate, message", [("1.2", ""), ("0.5", "0.5")])
def test_nn_models_rate_written_out_is_its_default_and_another_names_the_lr_to_run(capsys, tmp_path, rate, message):
    """Week 3's nn_model takes no rate: update_parameters(..., learning_rate=1.2), its update's own default written
    out, is that default (the run's --lr stands in, as for the default left out; was: FAIL, 'not the --lr 0.1 it
    was given'); another rate is the loop's own, and the line says which --lr verifies it."""
    path = slipped(tmp_path, WEEK3, NN_MODEL_UPDATE, NN_MODEL_UPDATE[:-1] + f", learning_rate={rate})")
    code, report = verify(capsys, path, ARCH[WEEK3])
    if not message:
        assert code == 0, report["first_divergence"]
        return
    assert code == 1 and report["first_divergence"]["hint"] == (
        "its steps are those of learning rate 0.5, not this run's --lr 0.1: it takes no rate, so run again with --lr "
        "0.5 to verify it at its own"
    )


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            '    return {"w": w, "b": b}, grads, costs',
            '    return {"w": w, "b": b}, grads, cost',
            "its costs should be a list of numbers",
        ),
        (
            "            costs.append(cost)\n            if print_cost:",
            "            costs.append((i, cost))\n            if print_cost:",
            "its costs should be a list of numbers",
        ),
    ],
)
def test_a_loop_returning_odd_costs_fails_with_a_line_not_a_traceback(capsys, tmp_path, old, new, message):
    code, report = verify(capsys, slipped(tmp_path, WEEK2, old, new), ARCH[WEEK2])
    assert code == 1
    assert message in loops(report)["loop optimize"]["error"]


def test_a_loop_leaves_numpys_global_generator_as_it_was(tmp_path):
    import numpy as np

    import verify as verify_package

    path = slipped(tmp_path, WEEK2, "    w, b = w.copy(), b\n", "    w, b = w.copy(), b\n    np.random.seed(1)\n")
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    verify_package.run(
        verify_package.Config(
            arch=(2, 1), impl=str(path), iterations=3, examples=20, gradcheck=False, tensorboard=False, progress=False
        )
    )
    assert np.array_equal(np.random.get_state()[1], before)


def test_a_loops_failed_row_names_its_reference_as_its_own_steps(capsys, tmp_path):
    path = slipped(tmp_path, WEEK2, "if i % 100 == 0:", "if i % 100 == 1:")
    code = main(
        [
            "--arch",
            ARCH[WEEK2],
            "--impl",
            str(path),
            "--no-tensorboard",
            "--iterations",
            "250",
            "--examples",
            "40",
            "--no-gradcheck",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "vs its own steps" in out and "first divergence: loop optimize" in out


def test_a_course_loop_that_cannot_run_the_network_asked_for_says_so(capsys, tmp_path):
    ext = Path(__file__).resolve().parent / "impl_cases" / "course_ext.py"
    path = tmp_path / "learner.py"
    path.write_text(
        ext.read_text() + "\n\ndef L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000,"
        " print_cost=False):\n    raise NotImplementedError\n"
    )
    code, report = verify(capsys, path, "3,4,4,1", "--activations", "tanh,tanh,sigmoid")
    assert code == 0, report["first_divergence"]
    skipped = loops(report)["loop L_layer_model"]["skipped"]
    assert skipped.startswith("it computes the course's network (relu hidden layers, a sigmoid output, bce)")


# --- loops that take an optimizer: the optimisation course's model() on the week-4 functions ---------------

OPTIMISERS = EXAMPLES / "course_optimizers.py"
OPT_RUN = [
    "--arch",
    "4,5,1",
    "--examples",
    "50",
    "--mini-batch-size",
    "16",
    "--epochs",
    "4",
    "--no-tensorboard",
    "--no-gradcheck",
    "-q",
    "--json",
    "-",
]


def verify_optimiser(capsys, path: Path, *extra: str) -> tuple[int, dict]:
    code = main(["--impl", str(path), *OPT_RUN, *extra])
    return code, json.loads(capsys.readouterr().out)


def optimiser_learner(tmp_path, old: str = "", new: str = "") -> Path:
    """examples/course_optimizers.py beside a copy of the course_network.py it imports, with one slip."""
    return edited(tmp_path, OPTIMISERS, (old, new), name="my_optimisers.py", beside=(WEEK4,))


@pytest.mark.parametrize(
    "argv",
    [
        ["--optimizer", "adam"],
        ["--optimizer", "momentum", "--decay", "inverse"],
        ["--optimizer", "gd", "--decay", "scheduled", "--decay-interval", "2"],
    ],
)
def test_the_course_model_loop_is_run_through_the_runs_batches_and_passes(capsys, tmp_path, argv):
    code, report = verify_optimiser(capsys, optimiser_learner(tmp_path), *argv)
    assert code == 0, report["first_divergence"]
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["loop model"]["status"] == "ok" and checks["loop model"]["rows"]
    assert "not run" in checks["loop L_layer_model"]["status"]  # the week-4 loop takes no optimizer


OPTIMISER_LOOP_SLIPS = [
    ("adam", "                t = t + 1\n", "", "t counts epochs"),  # t counted per epoch (below)
    (
        "momentum",
        "        if decay:\n            learning_rate = decay(learning_rate0, i, decay_rate)\n",
        "",
        "no decay",
    ),
    (
        "adam",
        "    for i in range(num_epochs):\n        seed = seed + 1\n",
        "    for i in range(num_epochs):\n        seed = seed + 1\n        if decay:\n            learning_rate = decay(learning_rate0, i, decay_rate)\n",
        "decay one epoch early",
    ),
]


@pytest.mark.parametrize("optimizer, old, new, slip", OPTIMISER_LOOP_SLIPS, ids=[s[3] for s in OPTIMISER_LOOP_SLIPS])
def test_a_slip_in_the_optimiser_loop_alone_fails_the_loop_alone(capsys, tmp_path, optimizer, old, new, slip):
    if slip == "t counts epochs":
        new = "        t = i + 1\n"  # moved: one t per epoch
        path = optimiser_learner(tmp_path, "                t = t + 1\n", "")
        path.write_text(path.read_text().replace("        seed = seed + 1\n", "        seed = seed + 1\n" + new))
    else:
        path = optimiser_learner(tmp_path, old, new)
    code, report = verify_optimiser(capsys, path, "--optimizer", optimizer, "--decay", "inverse")
    assert code == 1
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    assert failed == ["loop model"], failed
    assert report["first_divergence"]["name"] == "loop model"


def test_the_course_model_in_float32_passes_though_its_initialize_velocity_is_float64(capsys, tmp_path):
    path = optimiser_learner(tmp_path)
    assert "np.zeros(parameters[" in path.read_text()  # the course's np.zeros(shape): float64 in a float32 run
    code, report = verify_optimiser(
        capsys,
        path,
        "--optimizer",
        "adam",
        "--dtype",
        "float32",
        "--init",
        "random",
        "--arch",
        "5,16,16,16,16,16,16,1",
        "--lr",
        "0.01",
        "--examples",
        "200",
        "--epochs",
        "3",
    )  # (the last of a repeated option counts)
    assert code == 0, report["first_divergence"]


@pytest.mark.parametrize(
    "old, new, words",
    [
        (
            "random_mini_batches(X, Y, mini_batch_size, seed)",
            "random_mini_batches(X, Y, 64, seed)",
            "with mini_batch_size 64, not the mini_batch_size it was given (16)",
        ),
        ("        seed = seed + 1\n", "", "the seed 10 in two epochs"),
    ],
)
def test_a_model_that_draws_its_batches_wrongly_fails_the_loop(capsys, tmp_path, old, new, words):
    code, report = verify_optimiser(capsys, optimiser_learner(tmp_path, old, new), "--optimizer", "adam")
    assert code == 1
    (loop,) = [c for c in report["checks"] if c["name"] == "loop model"]
    assert not loop["ok"] and words in loop["error"]


def test_a_week3_loop_says_why_it_is_not_run_with_an_optimiser(capsys, tmp_path):
    path = tmp_path / "planar_optimisers.py"
    path.write_text(WEEK3.read_text() + optimisers_text())
    code = main(
        [
            "--impl",
            str(path),
            "--arch",
            "2,4,1",
            "--data",
            "flower",
            "--examples",
            "60",
            "--optimizer",
            "adam",
            "--mini-batch-size",
            "20",
            "--epochs",
            "2",
            "--lr",
            "0.01",
            "--no-tensorboard",
            "--no-gradcheck",
            "-q",
            "--json",
            "-",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["first_divergence"]
    assert "it takes no optimizer" in loops(report)["loop nn_model"]["skipped"]


def test_a_loop_that_initialises_again_at_every_iteration_is_told_so(capsys, tmp_path):
    """Every update then gets the shared start, as where update_parameters' result is not assigned: the initialiser's
    calls, one per iteration, tell the two apart."""
    path = slipped(
        tmp_path,
        WEEK3,
        "    for i in range(num_iterations):\n",
        "    for i in range(num_iterations):\n        parameters = initialize_parameters(n_x, n_h, n_y)\n",
    )
    code, report = verify(capsys, path, ARCH[WEEK3])
    assert code == 1
    assert report["first_divergence"]["fix"].startswith(
        "fix `nn_model`: it initialises the parameters again at every iteration: call the initialiser once, before "
        "the loop"
    )


SIZE_SLIPS = [  # each loop runs from the shared start whatever it asks its initialiser for: its call shows the slip
    (
        WEEK3,
        "2,5,1",
        "    n_x, _, n_y = layer_sizes(X, Y)\n",
        "    n_x, n_h, n_y = layer_sizes(X, Y)\n",  # layer_sizes' hard-coded 4 overwrites the n_h it is given
        "nn_model",
        "initialize_parameters for layer sizes 2, 4, 1, not the sizes it was given, 2, 5, 1",
    ),
    (
        WEEK4,
        "3,4,1",
        "    parameters = initialize_parameters(n_x, n_h, n_y)\n",
        "    parameters = initialize_parameters(n_x, 7, n_y)\n",
        "two_layer_model",
        "initialize_parameters for layer sizes 3, 7, 1, not the sizes it was given, 3, 4, 1",
    ),
    (
        WEEK4,
        "3,4,4,1",
        "    parameters = initialize_parameters_deep(layers_dims)\n",
        "    parameters = initialize_parameters_deep([12288, 20, 7, 5, 1])\n",
        "L_layer_model",
        "initialize_parameters_deep for layer sizes 12288, 20, 7, 5, 1, not the sizes it was given, 3, 4, 4, 1",
    ),
    (  # an exercise left unfinished: its sizes None (was: PASS, the shared start handed to it all the same)
        WEEK3,
        "2,4,1",
        "    n_x, _, n_y = layer_sizes(X, Y)\n",
        "    n_x, _, n_y = None, None, None\n",
        "nn_model",
        "initialize_parameters for layer sizes None, 4, None, not the sizes it was given, 2, 4, 1",
    ),
]


@pytest.mark.parametrize(
    "source, arch, old, new, loop, words", SIZE_SLIPS, ids=["nn_model", "two_layer_model", "L_layer_model", "none"]
)
def test_a_loop_that_asks_its_initialiser_for_other_sizes_fails_by_name(
    capsys, tmp_path, source, arch, old, new, loop, words
):
    code, report = verify(capsys, slipped(tmp_path, source, old, new), arch)
    assert code == 1
    assert report["first_divergence"]["fix"].startswith(f"fix `{loop}`: it called {words}: it builds a network")
    assert loops(report)[f"loop {loop}"]["status"] != "ok"
    code, report = verify(capsys, source, arch)  # the loop as the course writes it, at the same sizes
    assert code == 0 and loops(report)[f"loop {loop}"]["status"] == "ok", report["first_divergence"]


@pytest.mark.parametrize(
    "source, arch, old, new, loop",
    [
        (WEEK2, "2,1", "if i % 100 == 0:", "if i % 100 == 1:", "optimize"),
        (  # the cost of the parameters after the update
            WEEK4,
            "3,4,4,1",
            "        cost = compute_cost(AL, Y)\n        grads = L_model_backward(AL, Y, caches)\n"
            "        parameters = update_parameters(parameters, grads, learning_rate)\n",
            "        grads = L_model_backward(AL, Y, caches)\n"
            "        parameters = update_parameters(parameters, grads, learning_rate)\n"
            "        cost = compute_cost(L_model_forward(X, parameters)[0], Y)\n",
            "L_layer_model",
        ),
    ],
    ids=["kept-at-1", "after-the-update"],
)
def test_costs_one_iteration_late_are_told_so(capsys, tmp_path, source, arch, old, new, loop):
    code, report = verify(capsys, slipped(tmp_path, source, old, new), arch)
    assert code == 1  # was: "its cost differs from its own functions' steps", no more
    assert report["first_divergence"]["fix"].startswith(
        f"fix `{loop}`: its costs are those of the iteration after each one kept: a cost computed after the update"
    )


@pytest.mark.parametrize(
    "old, new",
    [
        (  # trained on the test set
            "optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)",
            "optimize(w, b, X_test, Y_test, num_iterations, learning_rate, print_cost)",
        ),
        (  # a rate of its own
            "optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)",
            "optimize(w, b, X_train, Y_train, num_iterations, 0.005, print_cost)",
        ),
        ('"w": w, "b": b,', '"w": w, "b": 0.0,'),  # the bias it trained left out
    ],
    ids=["test-set", "hard-coded-lr", "b-dropped"],
)
def test_a_slip_in_week2s_model_fails_its_loop_alone(capsys, tmp_path, old, new):
    code, report = verify(capsys, slipped(tmp_path, WEEK2, old, new), ARCH[WEEK2])  # was: a PASS, model unmentioned
    failed = [c["name"] for c in report["checks"] if not c["ok"]]
    assert code == 1 and failed == ["loop model"], report["first_divergence"]
    assert report["first_divergence"]["fix"].startswith("fix `model`:")


def test_a_final_cost_of_log_0_is_said_so_not_an_overflow(capsys):
    """Week 2 at lr 0.5 for 3,000 iterations: A[L] reaches exactly 1.0 and the course's cost is nan (0 log 0) while
    the parameters stay finite: the PASS line and the final line say so (were: 'not comparable (overflow)')."""
    code = main(["--arch", "2,1", "--impl", str(WEEK2), "--no-tensorboard", "--iterations", "3000", "--lr", "0.5"])
    out = capsys.readouterr().out.splitlines()
    final = next(line for line in out if line.startswith("final cost"))
    assert code == 0 and out[0].endswith(
        "(2 rows not comparable (the course's cost is log(0)) at some point: loop optimize cost, loop model cost)"
    )
    assert final.startswith("final cost: not comparable: logreg_network.py's is nan at its final parameters; ")
    assert final.endswith("A[L] reached exactly 1.0 where the course's cost is log(0)")
