"""L2 regularisation verified: each classic slip caught and named, at both scales users meet; no false alarms."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scratch
from verify import run
from verify_cases import run_cli, tiny

REPO = Path(__file__).resolve().parents[2]
WEEK4 = REPO / "examples" / "course_network.py"
SCALES = {"comfortable": dict(arch=(5, 8, 4, 1)),
          "deep-small": dict(arch=(10, 16, 16, 16, 16, 16, 1), init="random")}

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
    "penalty lambd/m": ("compute_cost_with_regularization", cost_over_m, ("forward", "cost"), "(lambd / m) sum ||W||^2"),
    "dW term lambd/(2m)": ("L_model_backward", backward_with(0.5), ("backward", "dW"), "(lambd / (2m)) W"),
    "dW term missing": ("L_model_backward", backward_with(0.0), ("backward", "dW"), "lacks its L2 term"),
    "biases regularised": ("L_model_backward", backward_with(1.0, db_term=True), ("backward", "db"),
                           "the course regularises W only"),
}


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("slip", SLIPS)
def test_each_l2_slip_is_caught_and_named(monkeypatch, slip, scale):
    function, slipped, (stage, quantity), words = SLIPS[slip]
    monkeypatch.setattr(scratch, function, slipped)
    report = run(tiny(lambd=0.7, **SCALES[scale]))
    first = report.first_divergence()
    assert (first["stage"], first["quantity"]) == (stage, quantity), first
    assert words in first["hint"], first["hint"]
    assert "lockstep" in {c.name for c in report.checks if not c.ok}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lambd=st.floats(0.0, 5.0), depth=st.integers(1, 5), dtype=st.sampled_from(["float64", "float32"]),
       seed=st.integers(0, 1000), optimizer=st.sampled_from(["gd", "adam"]), init=st.sampled_from(["he", "random"]))
def test_no_false_alarms_over_lambd_depths_dtypes(lambd, depth, dtype, seed, optimizer, init):
    arch = (4,) + (6,) * depth + (1,)
    report = run(tiny(arch=arch, lambd=lambd, dtype=dtype, seed=seed, optimizer=optimizer, init=init,
                      mini_batch_size=16 if optimizer == "adam" else None, learning_rate=0.05))
    assert report.ok, report.to_text()


def test_the_report_says_lambd_and_the_json_carries_it():
    report = run(tiny(lambd=0.7))
    assert report.ok and ", L2 lambd 0.7" in report.to_text().splitlines()[0]
    assert report.as_dict()["config"]["lambd"] == 0.7


LEARNER_L2 = '''

def compute_cost_with_regularization(AL, Y, parameters, lambd):
    m = Y.shape[1]
    L = len(parameters) // 2
    L2 = sum(np.sum(np.square(parameters["W" + str(l)])) for l in range(1, L + 1))
    return compute_cost(AL, Y) + lambd / (2 * m) * L2
'''


def learner(tmp_path, backward_lambd=True, cost=LEARNER_L2) -> Path:
    text = WEEK4.read_text() + cost
    if backward_lambd:  # L_model_backward(AL, Y, caches, lambd=0): dW[l] += lambd / m W[l]
        text = text.replace("def L_model_backward(AL, Y, caches):", "def L_model_backward(AL, Y, caches, lambd=0):")
        text = text.replace("    return grads\n", "    for l in range(1, len(caches) + 1):\n"
                            "        W = caches[l - 1][0][1]\n"
                            "        grads[\"dW\" + str(l)] = grads[\"dW\" + str(l)] + lambd / AL.shape[1] * W\n"
                            "    return grads\n", 1)
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
