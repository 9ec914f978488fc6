"""train and Trainer: plain gradient descent W -= lr * dW, costs recorded before each update."""

import numpy as np
import pytest
from torch_ref_cases import OUTPUT_PAIRS, random_data, random_params

from torch_ref import Trainer, forward_backward, from_params, gradients, to_params, train

LR, STEPS = 0.5, 6


def setup(output, dtype=np.float64):
    """A 3-4-nL network ending in `output`, with 5 examples."""
    acts = ["tanh", output]
    nL = 3 if output == "softmax" else 2
    X, Y = random_data(3, nL, 5, output, dtype)
    return random_params([3, 4, nL], dtype), acts, X, Y


@pytest.mark.parametrize("output, loss", OUTPUT_PAIRS)
def test_train_is_gradient_descent_on_forward_backward(output, loss):
    params, acts, X, Y = setup(output)
    model = from_params(params, acts)
    costs = train(model, X, Y, loss, learning_rate=LR, num_iterations=STEPS)

    p, want = dict(params), []
    for _ in range(STEPS):
        out = forward_backward(from_params(p, acts), X, Y, loss)
        want.append(out["cost"])
        p = {k: v - LR * out[f"d{k}"] for k, v in p.items()}

    assert len(costs) == STEPS and all(isinstance(c, float) for c in costs)
    assert costs[-1] < costs[0]  # a step this size must make progress on these nets
    np.testing.assert_allclose(costs, want, rtol=1e-12)
    for key, value in to_params(model).items():
        np.testing.assert_allclose(value, p[key], rtol=1e-12, atol=1e-15, err_msg=key)


@pytest.mark.parametrize("output, loss", OUTPUT_PAIRS)
def test_trainer_steps_equal_train(output, loss):
    params, acts, X, Y = setup(output)
    trainer = Trainer(from_params(params, acts), X, Y, loss, learning_rate=LR)
    stepped = [trainer.step() for _ in range(STEPS)]
    trained_model = from_params(params, acts)
    assert stepped == train(trained_model, X, Y, loss, LR, STEPS)  # deterministic, same path
    for key, value in to_params(trained_model).items():
        np.testing.assert_array_equal(to_params(trainer.model)[key], value)


def test_step_leaves_its_gradients_and_updated_weights():
    params, acts, X, Y = setup("sigmoid")
    before = forward_backward(from_params(params, acts), X, Y, "bce")
    model = from_params(params, acts)
    cost = Trainer(model, X, Y, "bce", learning_rate=LR).step()
    assert cost == before["cost"]  # the cost before the update
    grads = gradients(model)
    after = to_params(model)
    for key in params:
        np.testing.assert_allclose(grads[f"d{key}"], before[f"d{key}"], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(after[key], params[key] - LR * before[f"d{key}"], rtol=1e-13)


@pytest.mark.parametrize("optimizer", [None, "adam"])
def test_gradients_seen_without_a_copy_keep_their_step_s_values_through_the_next_step(optimizer):
    """The views a step's comparisons read are those of that step's .grad tensors: the next step's backward pass
    makes new ones (with Adam too, whose step reads .grad without writing it)."""
    import torch

    params, acts, X, Y = setup("sigmoid")
    model = from_params(params, acts)
    adam = torch.optim.Adam(model.parameters(), lr=0.1) if optimizer else None
    trainer = Trainer(model, X, Y, "bce", learning_rate=LR, optimizer=adam)
    trainer.step()
    seen, copied = gradients(model, copy=False), gradients(model)
    assert all(not view.flags.writeable for view in seen.values())
    trainer.step()
    moved = gradients(model)
    for key, value in copied.items():
        np.testing.assert_array_equal(seen[key], value, err_msg=key)
        assert not np.array_equal(moved[key], value), key  # (the step's gradients did change)


def test_default_learning_rate_is_the_course_one():
    params, acts, X, Y = setup("sigmoid")
    model = from_params(params, acts)
    grads = forward_backward(from_params(params, acts), X, Y, "bce")
    train(model, X, Y, num_iterations=1)  # defaults: loss="bce", learning_rate=0.0075
    want = params["W1"] - 0.0075 * grads["dW1"]
    np.testing.assert_allclose(to_params(model)["W1"], want, rtol=1e-13)


@pytest.mark.parametrize("output, loss", OUTPUT_PAIRS)
def test_float32_in_float32_out(output, loss):
    params32, acts, X32, Y32 = setup(output, np.float32)
    model = from_params(params32, acts)
    out = forward_backward(model, X32, Y32, loss)
    assert isinstance(out.pop("cost"), float)
    assert all(v.dtype == np.float32 for v in out.values()), {k: v.dtype for k, v in out.items()}
    assert all(v.dtype == np.float32 for v in gradients(model).values())
    train(model, X32, Y32, loss, LR, 2)
    assert all(v.dtype == np.float32 for v in to_params(model).values())

    # Same network in float64 agrees to float32 precision.
    params64 = {k: v.astype(np.float64) for k, v in params32.items()}
    X64, Y64 = X32.astype(np.float64), Y32.astype(np.float64)
    out64 = forward_backward(from_params(params64, acts), X64, Y64, loss)
    for key, value in out.items():
        np.testing.assert_allclose(value, out64[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_trainer_steps_exactly_like_torch_optim_sgd(dtype):
    """Trainer calls torch.optim's SGD update function directly; it must equal the optimizer class."""
    import torch

    from torch_ref import Trainer, from_params, to_params
    from torch_ref.layout import data_rows
    from torch_ref.losses import get_loss

    params = random_params([3, 5, 2], dtype, seed=4)
    X, Y = random_data(3, 2, 6, "softmax", dtype)
    ours = from_params(params, ["tanh", "softmax"])
    theirs = from_params(params, ["tanh", "softmax"])
    trainer = Trainer(ours, X, Y, loss="ce", learning_rate=0.3)
    optimizer = torch.optim.SGD(theirs.parameters(), lr=0.3)
    x, y = data_rows(theirs, X, Y)
    loss_fn = get_loss("ce", "softmax")
    for _ in range(3):
        cost = trainer.step()
        optimizer.zero_grad()
        z = theirs(x)
        expected = loss_fn(z, theirs.output_activation(z), y)
        expected.backward()
        optimizer.step()
        assert cost == expected.item()
    for key, value in to_params(theirs).items():
        np.testing.assert_array_equal(to_params(ours)[key], value)


@pytest.mark.parametrize("output_name, loss", OUTPUT_PAIRS)
def test_output_is_forward_backwards_AL_without_gradients(output_name, loss):
    from torch_ref import output

    params, acts, X, Y = setup(output_name)
    model = from_params(params, acts)
    AL = output(model, X)
    np.testing.assert_array_equal(AL, forward_backward(model, X, Y, loss)[f"A{len(acts)}"])
    assert AL.shape == Y.shape


@pytest.mark.parametrize("output, loss", OUTPUT_PAIRS)
def test_recorded_layers_are_forward_backwards_and_no_dZ_is_kept(output, loss):
    """layers() after a recorded step: the step's Z, A and dA, forward_backward's at the parameters before it; the
    pre-activations' gradients, which it does not return, are not kept (autograd keeps each as a copy)."""
    params, acts, X, Y = setup(output)
    trainer = Trainer(from_params(params, acts), X, Y, loss, learning_rate=LR, record=True)
    want = forward_backward(from_params(params, acts), X, Y, loss)
    trainer.step()
    layers = trainer.layers()
    L = len(acts)
    assert set(layers) == {f"{q}{l}" for l in range(1, L + 1) for q in "ZA"} | {f"dA{l}" for l in range(1, L)}
    for key, value in layers.items():
        np.testing.assert_allclose(value, want[key], rtol=1e-13, atol=1e-15, err_msg=key)
    seen = trainer.recorder.seen
    assert not any(seen[f"Z{l}"].retains_grad for l in range(1, L + 1))
    assert all(seen[f"A{l}"].retains_grad for l in range(1, L))


def test_a_trainer_reading_anothers_data_shares_its_rows_and_steps_alike():
    """data_of: one copy of X's rows for two trainers (the verifier's lockstep and free-running ones), the same
    steps as a trainer with its own; refused for other arrays, or a model of another dtype."""
    params, acts, X, Y = setup("sigmoid")
    first = Trainer(from_params(params, acts), X, Y, "bce", LR)
    shared = Trainer(from_params(params, acts), X, Y, "bce", LR, data_of=first)
    own = Trainer(from_params(params, acts), X, Y, "bce", LR)
    assert shared.x is first.x and shared.y is first.y and own.x is not first.x
    for _ in range(STEPS):
        assert shared.step() == own.step()
    for (key, mine), theirs in zip(to_params(shared.model).items(), to_params(own.model).values()):
        assert np.array_equal(mine, theirs), key
    with pytest.raises(ValueError, match="data_of: a trainer over other data"):
        Trainer(from_params(params, acts), X.copy(), Y, "bce", LR, data_of=first)
    params32 = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.raises(ValueError, match="data_of: a trainer over other data"):
        Trainer(from_params(params32, acts), X, Y, "bce", LR, data_of=first)
