"""L2 regularisation verified: each classic slip caught and named, at both scales users meet; no false alarms."""

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import COURSE, EXAMPLES, edited, run_cli, tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scratch
from verify import run

pytestmark = pytest.mark.end_to_end

WEEK4 = COURSE
SCALES = {"comfortable": dict(arch=(5, 8, 4, 1)), "deep-small": dict(arch=(10, 16, 16, 16, 16, 16, 1), init="random")}

backward = scratch.L_model_backward


def cost_over_m(AL, Y, parameters, lambd, loss="bce", ZL=None):
    return scratch.compute_cost(AL, Y, loss, ZL) + scratch.l2_penalty(parameters, 2 * lambd, Y.shape[1])


def backward_with(dW_factor=1.0, db_term=False):
    def L_model_backward(AL, Y, caches, activations=None, loss="bce", lambd=0.0):
        grads = backward(AL, Y, caches, activations, loss)
        for l, ((A_prev, W, b), _) in enumerate(caches, start=1):
            m = A_prev.shape[1]
            grads[f"dW{l}"] = grads[f"dW{l}"] + dW_factor * lambd / m * W
            if db_term:
                grads[f"db{l}"] = grads[f"db{l}"] + lambd / m * b
        return grads

    return L_model_backward


SLIPS = {  # name: (function patched, the slip, the first row that fails, words of its hint)
    "penalty lambd/m": (
        "compute_cost_with_regularization",
        cost_over_m,
        ("forward", "cost"),
        "(lambd / m) sum ||W||^2",
    ),
    "dW term lambd/(2m)": ("L_model_backward", backward_with(0.5), ("backward", "dW"), "(lambd / (2m)) W"),
    "dW term missing": ("L_model_backward", backward_with(0.0), ("backward", "dW"), "lacks its L2 term"),
    "biases regularised": (
        "L_model_backward",
        backward_with(1.0, db_term=True),
        ("backward", "db"),
        "the course regularises W only",
    ),
}


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("slip", SLIPS)
def test_each_l2_slip_is_caught_and_named(monkeypatch, slip, scale):
    function, slipped, (stage, quantity), words = SLIPS[slip]
    monkeypatch.setattr(scratch, function, slipped)
    report = run(tiny(lambd=0.7, **SCALES[scale]))
    first = report.first_divergence
    assert (first.stage, first.quantity) == (stage, quantity), first
    assert words in first.hint, first.hint
    assert "lockstep" in {c.name for c in report.checks if not c.ok}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lambd=st.floats(0.0, 5.0),
    depth=st.integers(1, 5),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 1000),
    optimizer=st.sampled_from(["gd", "adam"]),
    init=st.sampled_from(["he", "random"]),
)
def test_no_false_alarms_over_lambd_depths_dtypes(lambd, depth, dtype, seed, optimizer, init):
    arch = (4,) + (6,) * depth + (1,)
    report = run(
        tiny(
            arch=arch,
            lambd=lambd,
            dtype=dtype,
            seed=seed,
            optimizer=optimizer,
            init=init,
            mini_batch_size=16 if optimizer == "adam" else None,
            learning_rate=0.05,
        )
    )
    assert report.ok, report.to_text()


def test_the_report_says_lambd_and_the_json_carries_it():
    report = run(tiny(lambd=0.7))
    assert report.ok and ", L2 lambd 0.7" in report.header()
    assert report.as_dict()["config"]["lambd"] == 0.7


LEARNER_L2 = """

def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    L = len(parameters) // 2
    L2 = sum(np.sum(np.square(parameters["W" + str(l)])) for l in range(1, L + 1))
    return compute_cost(AL, Y) + lambd / (2 * m) * L2
"""


def learner(tmp_path, backward_lambd=True, cost=LEARNER_L2) -> Path:
    text = WEEK4.read_text() + cost
    if backward_lambd:  # L_model_backward(AL, Y, caches, lambd=0): dW[l] += lambd / m W[l]
        text = text.replace("def L_model_backward(AL, Y, caches):", "def L_model_backward(AL, Y, caches, lambd=0):")
        text = text.replace(
            "    return grads\n",
            "    for l in range(1, len(caches) + 1):\n"
            "        W = caches[l - 1][0][1]\n"
            '        grads["dW" + str(l)] = grads["dW" + str(l)] + lambd / AL.shape[1] * W\n'
            "    return grads\n",
            1,
        )
    path = tmp_path / "learner_l2.py"
    path.write_text(text)
    return path


ARGS = ["--arch", "4,5,3,1", "--examples", "40", "--iterations", "20", "--lambd", "0.7", "--no-tensorboard", "-q"]


def test_a_learners_l2_passes_and_its_slip_is_named_on_the_function(capsys, tmp_path):
    path = learner(tmp_path)
    assert "def L_model_backward(AL, Y, caches, lambd=0):" in path.read_text()
    code, out, _ = run_cli(capsys, "--impl", str(path), *ARGS)
    assert code == 0, out
    slipped = learner(tmp_path, cost=LEARNER_L2.replace("lambd / (2 * m)", "lambd / m"))
    code, out, _ = run_cli(capsys, "--impl", str(slipped), *ARGS)
    assert code == 1
    assert "fix `compute_cost_with_regularization`" in out and "(lambd / m) sum ||W||^2" in out


def test_a_module_without_the_l2_functions_is_told_which(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--impl", str(WEEK4), *ARGS)
    assert code == 2 and "compute_cost_with_regularization(AL, Y, parameters, lambd" in err
    code, _, err = run_cli(capsys, "--impl", str(learner(tmp_path, backward_lambd=False)), *ARGS)
    assert code == 2 and "L_model_backward" in err and "lambd" in err


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_bad_lambd_gets_one_line_and_exit_2(capsys, value):
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--lambd", value, "--no-tensorboard")
    assert code == 2 and out == "" and "--lambd must be a finite number >= 0" in err


# --- dropout ---------------------------------------------------------------------------------------------

forward = scratch.L_model_forward


def forward_with(scale=True, output_too=False):
    """scratch's forward with inverted dropout written by hand, one slip at a time."""

    def L_model_forward(X, parameters, activations=None, keep_prob=1.0, masks=None):
        if masks is None:
            return forward(X, parameters, activations)
        probs = scratch.keep_probs(keep_prob, len(parameters) // 2)
        L = len(parameters) // 2
        A, caches = X, []
        for l in range(1, L + 1):
            A, cache = scratch.linear_activation_forward(
                A, parameters[f"W{l}"], parameters[f"b{l}"], (activations or scratch.default_activations(L))[l - 1]
            )
            if l < L and masks[l - 1] is not None:
                A = A * masks[l - 1] / (probs[l - 1] if scale else 1.0)
                cache = (*cache, masks[l - 1])
            elif l == L and output_too:
                A = A * (np.arange(A.size).reshape(A.shape) % 7 != 0) / probs[-1]  # the output dropped too
            caches.append(cache)
        return A, caches

    return L_model_forward


def backward_dropout_with(scale=True, shifted=False):
    def L_model_backward(AL, Y, caches, activations=None, loss="bce", lambd=0.0, keep_prob=1.0):
        probs = scratch.keep_probs(keep_prob, len(caches))
        plain = [cache[:2] for cache in caches]
        masks = [cache[2] if len(cache) == 3 else None for cache in caches]
        if shifted:  # the mask of layer l applied to layer l + 1's dA
            masks = [None] + masks[:-1]
        L, grads = len(caches), {}
        dZ = AL - Y
        for l in range(L, 0, -1):
            linear_cache, Z = plain[l - 1]
            if l < L:
                dA = grads[f"dA{l}"]
                if masks[l - 1] is not None:
                    dA = dA * masks[l - 1] / (probs[l - 1] if scale else 1.0)
                dZ = scratch.activation_backward(dA, Z, (activations or scratch.default_activations(L))[l - 1])
            grads[f"dZ{l}"] = dZ
            grads[f"dA{l - 1}"], grads[f"dW{l}"], grads[f"db{l}"] = scratch.linear_backward(dZ, linear_cache)
        return grads

    return L_model_backward


DROPOUT_SLIPS = {  # name: (function, slip, the first row that fails, words of its hint ("" when none fits))
    "no /keep_prob in forward": (
        "L_model_forward",
        forward_with(scale=False),
        ("forward", "A", 1),
        "not divided by keep_prob",
    ),
    "no /keep_prob in backward": (
        "L_model_backward",
        backward_dropout_with(scale=False),
        ("backward", "dZ", 2),
        "not divided by keep_prob in backward",
    ),
    "mask of layer l at layer l+1": (
        "L_model_backward",
        backward_dropout_with(shifted=True),
        ("backward", "dZ", 2),
        "",
    ),
    "output layer dropped": ("L_model_forward", forward_with(output_too=True), ("forward", "A", 3), ""),
}


@pytest.mark.parametrize("scale", ["comfortable", "deep-small"])
@pytest.mark.parametrize("slip", DROPOUT_SLIPS)
def test_each_dropout_slip_is_caught_and_named(monkeypatch, slip, scale):
    function, slipped, (stage, quantity, layer), words = DROPOUT_SLIPS[slip]
    monkeypatch.setattr(scratch, function, slipped)
    arch = (5, 8, 8, 1) if scale == "comfortable" else (10, 16, 16, 16, 16, 16, 1)
    L = len(arch) - 1
    layer = L if layer == 3 else (L - 1 if (stage, layer) == ("backward", 2) else layer)
    report = run(tiny(arch=arch, init="random" if scale == "deep-small" else "he", keep_prob=(0.8,)))
    first = report.first_divergence
    assert (first.stage, first.quantity, first.layer) == (stage, quantity, layer), first
    assert words in first.hint, first.hint


def test_correct_dropout_passes_and_the_masks_matter():
    """Correct dropout passes; the same run with the masks ignored by the implementation fails (the check sees them)."""
    config = tiny(arch=(5, 8, 8, 1), keep_prob=(0.7, 0.9), lambd=0.3)
    assert run(config).ok
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scratch, "L_model_forward", lambda X, p, a=None, keep_prob=1.0, masks=None: forward(X, p, a))
        assert not run(config).ok


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    keep_prob=st.floats(0.3, 1.0),
    depth=st.integers(1, 4),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 1000),
    lambd=st.sampled_from([0.0, 0.7]),
    optimizer=st.sampled_from(["gd", "momentum", "adam"]),
    hidden=st.sampled_from(["relu", "tanh", "leaky_relu", "sigmoid"]),
)
def test_no_false_alarms_with_dropout(keep_prob, depth, dtype, seed, lambd, optimizer, hidden):
    arch = (4,) + (6,) * depth + (1,)
    report = run(
        tiny(
            arch=arch,
            activations=(hidden,) * depth + ("sigmoid",),
            keep_prob=(keep_prob,),
            lambd=lambd,
            dtype=dtype,
            seed=seed,
            optimizer=optimizer,
            mini_batch_size=16 if optimizer != "gd" else None,
            learning_rate=0.05,
        )
    )
    assert report.ok, report.to_text()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--arch", "3,1", "--keep-prob", "0.5"], "--keep-prob needs a hidden layer"),
        (["--arch", "3,4,1", "--keep-prob", "1.2"], "--keep-prob values must be in (0, 1]"),
        (["--arch", "3,4,4,1", "--keep-prob", "0.5,0.5,0.5"], "one per hidden layer"),
        (["--arch", "3,4,1", "--keep-prob", "0.5", "--impl", str(WEEK4)], "L_model_forward"),
    ],
)
def test_bad_dropout_options_get_one_line_and_exit_2(capsys, argv, words):
    code, out, err = run_cli(capsys, *argv, "--no-tensorboard")
    assert code == 2 and out == "" and words in err, err


REGULARISATION = EXAMPLES / "course_regularization.py"


def regularisation_learner(folder: Path, old: str = "", new: str = "") -> Path:
    """examples/course_regularization.py (with one change) beside the course_network.py it imports."""
    folder.mkdir(exist_ok=True)
    return edited(folder, REGULARISATION, (old, new), name=f"learner_{abs(hash(old)) % 10**6}.py", beside=(WEEK4,))


def test_a_learners_dropout_drawing_its_own_masks_is_verified_with_those_masks(capsys, tmp_path):
    """The course's way: forward seeds NumPy and draws D = rand < keep_prob itself, keeping D in its caches; torch is
    handed the masks it drew, every check runs."""
    argv = [
        "--arch",
        "4,8,8,1",
        "--examples",
        "40",
        "--iterations",
        "20",
        "--keep-prob",
        "0.8",
        "--lambd",
        "0.3",
        "--no-tensorboard",
        "--json",
        "-",
    ]
    code, out, _ = run_cli(capsys, "--impl", str(regularisation_learner(tmp_path)), *argv)
    report = json.loads(out)
    assert code == 0, report["first_divergence"]
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["gradcheck"]["status"] == "ok" and checks["lockstep"]["status"] == "ok"
    slipped = regularisation_learner(tmp_path, "            dA = dA / keep_prob\n", "")
    code, out, _ = run_cli(capsys, "--impl", str(slipped), *argv)
    first = json.loads(out)["first_divergence"]
    assert code == 1 and (first["stage"], first["quantity"]) == ("backward", "dW")  # it keeps no dZ
    assert "not divided by keep_prob in backward" in first["hint"]
    unseeded = regularisation_learner(tmp_path, "    np.random.seed(1)\n", "")
    code, out, _ = run_cli(capsys, "--impl", str(unseeded), *argv)
    report = json.loads(out)
    gradcheck = {c["name"]: c for c in report["checks"]}["gradcheck"]
    assert code == 0 and "draws new dropout masks at every call" in gradcheck["skipped"]


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("D = (D < keep_prob).astype(int)", "D = (D > keep_prob).astype(int)", "keeps 1"),  # 14% kept of 86%
        (
            "D = (D < keep_prob).astype(int)",
            "D = (D < 2).astype(int)",
            "keeps 100.0% of the units",
        ),  # no dropout at all
        (  # a normal draw (was: its share, with no word of randn)
            "D = np.random.rand(A.shape[0], A.shape[1])",
            "D = np.random.randn(A.shape[0], A.shape[1])",
            "as np.random.randn(...) < keep_prob does (a normal draw keeps 80.5%)",
        ),
    ],
)
def test_a_learners_own_masks_that_do_not_keep_keep_prob_are_named(capsys, tmp_path, old, new, words):
    path = regularisation_learner(tmp_path, old, new)
    code, out, _ = run_cli(
        capsys,
        "--impl",
        str(path),
        "--arch",
        "2,20,3,1",
        "--data",
        "moons",
        "--keep-prob",
        "0.86",
        "--no-tensorboard",
        "-q",
    )
    assert code == 1 and "L_model_forward" in out and words in out and "where keep_prob is 0.86" in out, out


def test_a_learners_dropout_runs_in_float32_and_its_scalar_keep_prob_is_told(capsys, tmp_path):
    path = regularisation_learner(tmp_path)
    argv = ["--impl", str(path), "--arch", "2,20,3,1", "--data", "moons", "--no-tensorboard", "-q"]
    code, out, _ = run_cli(capsys, *argv, "--keep-prob", "0.86", "--dtype", "float32")  # its int mask promotes A
    assert code == 0, out
    code, _, err = run_cli(capsys, *argv, "--keep-prob", "0.8,0.9")
    assert code == 2 and "takes one keep_prob" in err


@pytest.mark.parametrize(
    "left_out",
    [
        "            dA = dA * caches[l][2]\n            dA = dA / keep_prob\n",
        "            dA = dA * caches[l][2]\n",  # the mask alone, its / keep_prob kept (was: blamed relu's derivative)
    ],
    ids=["the mask and its scaling", "the mask alone"],
)
def test_a_backward_that_leaves_out_the_mask_is_named(capsys, tmp_path, left_out):
    path = regularisation_learner(tmp_path, left_out, "            pass\n" if "keep_prob" in left_out else "")
    code, out, _ = run_cli(
        capsys,
        "--impl",
        str(path),
        "--arch",
        "2,20,3,1",
        "--data",
        "moons",
        "--keep-prob",
        "0.86",
        "--no-tensorboard",
        "-q",
    )
    assert code == 1 and "is not multiplied by the mask D2 in backward" in out, out


def test_a_forward_that_multiplies_by_keep_prob_is_named(capsys, tmp_path):
    """A * keep_prob where inverted dropout divides: A is keep_prob^2 times right (was: only that the functions it
    calls agree on their own)."""
    path = regularisation_learner(tmp_path, "            A = A / keep_prob\n", "            A = A * keep_prob\n")
    argv = ["--impl", str(path), "--arch", "2,20,3,1", "--data", "moons", "--keep-prob", "0.86", "--no-tensorboard"]
    code, out, _ = run_cli(capsys, *argv, "-q")
    assert code == 1 and out.splitlines()[1].startswith(
        "fix `L_model_forward`: its A1 differs (A1 is multiplied by keep_prob, not divided by it: inverted dropout is "
        "A = A * D / keep_prob)"
    ), out


@pytest.mark.parametrize("value", ["1e-4", "1e-320"])
def test_a_keep_prob_too_small_to_compare_is_refused(capsys, value):
    code, _, err = run_cli(capsys, "--arch", "2,4,4,1", "--keep-prob", value, "--no-tensorboard")
    assert code == 2 and "keeps almost no unit" in err
