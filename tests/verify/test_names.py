"""The names a run can choose are listed once (verify/config.py); everything keyed by them covers them."""

import pytest

import scratch
from verify import config
from verify.cli import build_parser
from verify.errors import UsageError
from verify.impl.base import DECAY_FUNCTIONS, OPTIMIZER_FUNCTIONS
from verify.judging.tolerance import SLOPES
from verify.machine import OPTIMIZER_STATE


def test_the_lists_are_the_oracles_registries():
    assert config.ACTIVATIONS == tuple(scratch.ACTIVATIONS)
    assert config.OUTPUT_ONLY == tuple(a for a in scratch.ACTIVATIONS if scratch.get_activation(a).output_only)
    assert config.LOSS_FOR_OUTPUT == scratch.LOSS_FOR_OUTPUT
    assert (config.OPTIMIZERS, config.DECAYS) == (tuple(scratch.OPTIMIZERS), tuple(scratch.DECAYS))


def test_whatever_is_keyed_by_a_name_covers_the_list():
    assert set(SLOPES) == set(config.ACTIVATIONS)
    assert set(OPTIMIZER_STATE) == set(config.OPTIMIZERS)
    assert set(OPTIMIZER_FUNCTIONS) == set(config.OPTIMIZERS) - {"gd"}
    assert set(DECAY_FUNCTIONS) == set(config.DECAYS)


def test_the_help_names_every_activation_and_loss():
    text = " ".join(build_parser().format_help().split())
    for name in config.ACTIVATIONS + config.LOSSES:
        assert name in text
    assert "softmax (output only)" in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("activations", ("relu", "swish"), "unknown activation 'swish'; choose from " + ", ".join(config.ACTIVATIONS)),
        ("optimizer", "rmsprop", "unknown --optimizer 'rmsprop'; choose from gd, momentum, adam"),
        ("decay", "cosine", "unknown --decay 'cosine'; choose from none, inverse, scheduled"),
    ],
)
def test_validation_names_the_choices_from_the_list(field, value, message):
    with pytest.raises(UsageError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        config.validate(config.Config(arch=(2, 3, 1), **{field: value}))
