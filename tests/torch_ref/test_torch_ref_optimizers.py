"""torch's optimisers and schedules against the course's formulas, evaluated here in NumPy, step by step."""

import math

import numpy as np
import pytest
from torch_ref_cases import random_data, random_params

from torch_ref import forward_backward, from_params, gradients, to_params, train
from torch_ref.optimizers import course_state, lr_factor, make_optimizer, train_epochs

DIMS = [3, 4, 1]
STEPS = 3


def stepped(optimizer: str, **hyper):
    """torch's optimiser stepped STEPS times on fixed random gradients; returns (model, opt, start, gradients)."""
    start = random_params(DIMS)
    model = from_params(start, ["tanh", "sigmoid"])
    opt = make_optimizer(model, optimizer, **hyper)
    rng = np.random.default_rng(5)
    grads = [
        {k.replace("W", "dW").replace("b", "db"): rng.standard_normal(v.shape) for k, v in start.items()}
        for _ in range(STEPS)
    ]
    for g in grads:
        for l, linear in enumerate(model.linears, 1):
            linear.weight.grad = linear.weight.new_tensor(g[f"dW{l}"])
            linear.bias.grad = linear.bias.new_tensor(g[f"db{l}"].ravel())
        opt.step()
    return model, opt, start, grads


@pytest.mark.parametrize("beta", [0.8, 0.0])  # beta = 0: torch keeps no buffer, and v is the gradient
def test_momentum_maps_onto_the_course_formula(beta):
    lr = 0.1
    model, opt, start, grads = stepped("momentum", learning_rate=lr, beta=beta)
    P, v = dict(start), {f"d{k}": np.zeros_like(p) for k, p in start.items()}
    for g in grads:  # the course: v = beta v + (1 - beta) dP, P := P - lr v
        v = {k: beta * v[k] + (1 - beta) * g[k] for k in v}
        P = {k: p - lr * v[f"d{k}"] for k, p in P.items()}
    state = course_state(model, opt, "momentum", beta)
    for k in P:
        np.testing.assert_allclose(to_params(model)[k], P[k], rtol=1e-13)
        np.testing.assert_allclose(state["v"][f"d{k}"], v[f"d{k}"], rtol=1e-13)
    assert state["learning_rate"] == pytest.approx(lr, rel=1e-15)


def test_momentum_with_dampening_alone_would_be_off_by_beta_to_the_t_of_the_first_gradient():
    import torch

    start = random_params(DIMS)
    model = from_params(start, ["tanh", "sigmoid"])
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.8, dampening=0.8)
    g = np.ones((4, 3))
    for _ in range(2):
        model.linears[0].weight.grad = torch.tensor(g)
        for p in list(model.parameters())[1:]:
            p.grad = torch.zeros_like(p)
        opt.step()
    v_course = 0.8 * 0.2 * g + 0.2 * g  # (1 - beta) g, then beta v + (1 - beta) g
    buffer = opt.state[model.linears[0].weight]["momentum_buffer"].numpy()  # g, then beta g + (1 - beta) g
    np.testing.assert_allclose(buffer - v_course, 0.8**2 * g, rtol=1e-13)


def test_adam_maps_onto_the_course_formula_with_epsilon_outside_the_root():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-2  # a large epsilon, so its place shows
    model, opt, start, grads = stepped("adam", learning_rate=lr, beta1=b1, beta2=b2, epsilon=eps)
    P = dict(start)
    v = {f"d{k}": np.zeros_like(p) for k, p in start.items()}
    s = {k: np.zeros_like(x) for k, x in v.items()}
    inside = dict(start)  # the learner's slip: sqrt(s_corrected + epsilon)
    for t, g in enumerate(grads, 1):
        v = {k: b1 * v[k] + (1 - b1) * g[k] for k in v}
        s = {k: b2 * s[k] + (1 - b2) * g[k] ** 2 for k in s}
        v_hat = {k: x / (1 - b1**t) for k, x in v.items()}
        s_hat = {k: x / (1 - b2**t) for k, x in s.items()}
        P = {k: p - lr * v_hat[f"d{k}"] / (np.sqrt(s_hat[f"d{k}"]) + eps) for k, p in P.items()}
        inside = {k: p - lr * v_hat[f"d{k}"] / np.sqrt(s_hat[f"d{k}"] + eps) for k, p in inside.items()}
    state = course_state(model, opt, "adam")
    assert state["t"] == STEPS
    for k in P:
        np.testing.assert_allclose(to_params(model)[k], P[k], rtol=1e-12)
        assert np.max(np.abs(to_params(model)[k] - inside[k])) > 1e-6  # a real difference, far above rounding
        for name, expected in (("v", v), ("s", s), ("v_corrected", v_hat), ("s_corrected", s_hat)):
            np.testing.assert_allclose(state[name][f"d{k}"], expected[f"d{k}"], rtol=1e-12)


@pytest.mark.parametrize("decay, rate, interval", [("inverse", 0.5, 1000), ("scheduled", 1.0, 2)])
def test_the_schedule_runs_each_epoch_at_the_course_rate(decay, rate, interval):
    course = {
        "inverse": lambda lr0, e: lr0 / (1 + rate * e),
        "scheduled": lambda lr0, e: lr0 / (1 + rate * math.floor(e / interval)),
    }[decay]
    lr0, lr, course_rates = 0.2, 0.2, []
    for epoch in range(6):  # the course's loop: the rate changes after each epoch
        course_rates.append(lr)
        lr = course(lr0, epoch)
    factor = lr_factor(decay, rate, interval)
    assert [lr0 * factor(epoch) for epoch in range(6)] == pytest.approx(course_rates, rel=1e-15)
    assert course_rates[0] == course_rates[1] == lr0  # epochs 0 and 1 both run at lr0


def test_full_batch_epochs_of_gd_are_trains_steps():
    X, Y = random_data(3, 1, 20, "sigmoid")
    start = random_params(DIMS)
    by_epochs = from_params(start, ["tanh", "sigmoid"])
    costs = train_epochs(by_epochs, X, Y, "bce", [[np.arange(20)]] * 4, learning_rate=0.3)
    by_train = from_params(start, ["tanh", "sigmoid"])
    # A batch's rows are a gathered copy of X, whose alignment may select another BLAS kernel than
    # the original's: the two paths agree to a few units in the last place, not always bit for bit.
    eps = np.finfo(np.float64).eps
    assert costs == pytest.approx(train(by_train, X, Y, "bce", learning_rate=0.3, num_iterations=4), rel=8 * eps, abs=0)
    for k, v in to_params(by_train).items():
        np.testing.assert_allclose(to_params(by_epochs)[k], v, rtol=8 * eps, atol=0)


def test_an_epochs_cost_is_its_batches_summed_losses_over_m():
    X, Y = random_data(3, 1, 10, "sigmoid")
    start = random_params(DIMS)
    batches = [np.array([3, 1, 7, 0]), np.array([9, 2, 5, 8]), np.array([6, 4])]
    (cost,) = train_epochs(from_params(start, ["tanh", "sigmoid"]), X, Y, "bce", [batches], learning_rate=0.3)
    model, summed = from_params(start, ["tanh", "sigmoid"]), 0.0
    for rows in batches:  # each batch's mean cost, before its own step
        out = forward_backward(model, X[:, rows], Y[:, rows], "bce")
        summed += out["cost"] * len(rows)
        params, grads = to_params(model), gradients(model)
        model = from_params({k: p - 0.3 * grads[f"d{k}"] for k, p in params.items()}, ["tanh", "sigmoid"])
    assert cost == pytest.approx(summed / 10, rel=1e-14)


def test_l2_in_the_loss_steps_as_weight_decay_lambd_over_m_on_the_weights_alone():
    """The two exact torch forms of the course's L2: the penalty in the loss (what torch_ref uses, so the
    cost shows it) and SGD's weight_decay = lambd / m on a parameter group of the weights only."""
    import torch

    from torch_ref import Trainer

    lambd, lr = 0.7, 0.1
    X, Y = random_data(DIMS[0], DIMS[-1], 20, "sigmoid")
    start = random_params(DIMS)
    penalised = from_params(start, ["tanh", "sigmoid"])
    Trainer(penalised, X, Y, "bce", lr, lambd=lambd).step()
    decayed = from_params(start, ["tanh", "sigmoid"])
    weights = [linear.weight for linear in decayed.linears]
    biases = [linear.bias for linear in decayed.linears]
    opt = torch.optim.SGD(
        [{"params": weights, "weight_decay": lambd / 20}, {"params": biases, "weight_decay": 0.0}], lr=lr
    )
    Trainer(decayed, X, Y, "bce", lr, optimizer=opt).step()
    for k, v in to_params(penalised).items():
        np.testing.assert_allclose(to_params(decayed)[k], v, rtol=1e-13, atol=0)
    ref = forward_backward(from_params(start, ["tanh", "sigmoid"]), X, Y, "bce", lambd)
    plain = forward_backward(from_params(start, ["tanh", "sigmoid"]), X, Y, "bce")
    penalty = lambd / 40 * sum(float((start[f"W{l}"] ** 2).sum()) for l in (1, 2))
    assert ref["cost"] == pytest.approx(plain["cost"] + penalty, rel=1e-13)
    np.testing.assert_allclose(ref["dW1"], plain["dW1"] + lambd / 20 * start["W1"], rtol=1e-12)
    np.testing.assert_array_equal(ref["db1"], plain["db1"])


def test_the_masked_dropout_scales_as_nn_dropout_in_training_mode():
    """With the mask nn.Dropout(p = 1 - keep_prob) drew, the twin's A * D / keep_prob is nn.Dropout's output."""
    import torch

    from torch_ref.model import MaskedDropout

    keep_prob = 0.86
    a = torch.randn(50, 7, dtype=torch.float64)
    dropout = torch.nn.Dropout(p=1 - keep_prob).train()
    torch.manual_seed(4)
    expected = dropout(a)
    torch.manual_seed(4)
    mask = (dropout(torch.ones_like(a)) != 0).to(a.dtype)  # the same draw: nn.Dropout's mask
    masked = MaskedDropout()
    masked.mask, masked.keep_prob = mask, keep_prob
    torch.testing.assert_close(masked(a), expected, rtol=1e-15, atol=0)
    assert 0 < float(mask.mean()) < 1
