"""One verification, described by a frozen dataclass, and its validation."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

import scratch

from .errors import UsageError
from .judging.adam import bias_correction
from .judging.tolerance import DEFAULT_RTOL
from .layers import KINDS, check_layers, kinds_activations

DTYPES = ("float64", "float32")
MIN_KEEP_PROB = 1e-3  # dropout: below this, A / keep_prob leaves float32's range within a few layers
INITS = ("he", "xavier", "random", "zeros", "torch", "impl")
NAMED_DATA = ("auto", "flower", "moons", "xor", "house")
MAX_STEPS = 10_000_000  # training steps: the report keeps each one's cost, and a step takes at least ~0.1 ms
SHUFFLE_SEEDS = 2**32  # np.random.seed, which random_mini_batches shuffles with, takes seeds below this
TORCH_SEEDS = 2**64  # torch.manual_seed (--init torch) takes seeds below this

# The names a run can choose, once for the CLI's help, the validation, the adapters and the hints.
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax")
OUTPUT_ONLY = ("softmax",)  # its Jacobian is not elementwise: only as the output, with ce
LOSS_FOR_OUTPUT = {"sigmoid": "bce", "linear": "mse", "softmax": "ce"}  # each loss and its natural output
LOSSES = tuple(LOSS_FOR_OUTPUT.values())
OPTIMIZERS = ("gd", "momentum", "adam")
DECAYS = ("inverse", "scheduled")


@dataclass(frozen=True)
class Config:
    """Everything one verifier run needs; `verify.run(Config(arch=(3, 4, 4, 1)))` is the main job."""

    arch: tuple[int, ...] | None = None  # None: the size impl's own code fixes (layers_dims, n_x, n_h, n_y)
    activations: tuple[str, ...] | None = None  # None: the course API's network (scratch.default_activations)
    loss: str | None = None  # None: the output activation's natural loss
    init: str = "he"
    seed: int = 0
    data: str = "auto"  # a NAMED_DATA name or a path to .npz / .csv
    examples: int | None = None  # None: 200 (400 for flower/moons/xor); a file: all of it
    iterations: int = 200
    learning_rate: float = 0.1
    dtype: str = "float64"
    device: str = "cpu"
    rtol: float | None = None  # None: DEFAULT_RTOL[dtype]
    gradcheck: bool = True
    tensorboard: bool = True
    logdir: str = "runs"
    name: str | None = None  # None: the implementation's short name and its code's hash (tblog.experiment_name)
    allow_tf32: bool = False
    progress: bool = True  # progress lines on stderr for runs longer than a couple of seconds
    impl: str | None = None  # a learner's module (a .py or .ipynb path, or a module name); None: scratch
    isolate: bool = False  # impl's code runs in a process of its own, reached only through data (verify/remote)
    api: str | None = (
        None  # the course API of impl: deep (week 4), course2, shallow (week 3), logreg (week 2); None: detected
    )
    # Optimisation (the course's second course): one epoch is a pass over the data, one step per mini-batch.
    optimizer: str = "gd"  # gd, momentum (beta), adam (beta1, beta2, epsilon)
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    mini_batch_size: int | None = None  # None: the whole batch, one step per epoch, in the data's order
    epochs: int | None = None  # None: `iterations` (with the whole batch an epoch is an iteration)
    decay: str | None = None  # None, inverse (update_lr), scheduled (schedule_lr_decay), applied after each epoch
    decay_rate: float = 1.0
    decay_interval: int = 1000  # scheduled: the rate drops every decay_interval epochs
    lambd: float = 0.0  # L2 regularisation: the cost gains (lambd / (2 m)) sum ||W[l]||^2
    keep_prob: tuple | None = None  # dropout: keep_prob per hidden layer (one number: all of them); None: none
    arch_from: str | None = None  # where impl's own code fixed arch ("layers_dims in x.ipynb"); None: --arch gave it
    layers: tuple[str, ...] | None = None  # each layer's kind (layers.py), L words; None: every layer dense

    @property
    def L(self) -> int:
        return len(self.sizes) - 1

    @property
    def sizes(self) -> tuple[int, ...]:
        """arch, once check_flags (--arch) or resolve_network (the module's own code) has fixed it."""
        assert self.arch is not None, "arch is read before --arch or the module fixed it"
        return self.arch

    @property
    def epoch_count(self) -> int:
        return self.iterations if self.epochs is None else self.epochs

    @property
    def relative_tolerance(self) -> float:
        return DEFAULT_RTOL[self.dtype] if self.rtol is None else self.rtol

    @property
    def arch_text(self) -> str:
        """The sizes as the report's header shows them, with where they came from when the module fixed them."""
        words = self.layers or ("dense",) * self.L
        if not all(word in KINDS for word in words):
            from .arch import spelling  # a conv or recurrent network: as --arch spells it, then n[0..L]

            return f"{spelling(self.sizes, words)} ({'-'.join(map(str, self.sizes))})"
        sizes = "-".join(
            [str(self.sizes[0])]
            + [str(n) if word == "dense" else f"{word}({n})" for n, word in zip(self.sizes[1:], words)]
        )
        return sizes if self.arch_from is None else f"{sizes} ({self.arch_from})"


def arch_words(config: Config) -> str:
    """How a message names the network's size: `--arch 3,4,4,1`, or `layers_dims in x.ipynb (12288,20,7,5,1)`
    when the module's own code fixed it (the user typed no --arch to change)."""
    sizes = ",".join(map(str, config.sizes))
    if config.layers is not None and not all(word in KINDS for word in config.layers):
        from .arch import spelling  # a conv or recurrent network: its input and its layers' spellings

        sizes = spelling(config.sizes, config.layers)
    return f"--arch {sizes}" if config.arch_from is None else f"{config.arch_from} ({sizes})"


def validate(
    config: Config, default_activations: Callable[[int], Sequence[str]] = scratch.default_activations
) -> Config:
    """check_flags, then resolve_network: a whole config (its arch given) checked and resolved in one call, for a
    caller that loads no module (the runner calls the two itself, on either side of loading it)."""
    check_flags(config)
    return resolve_network(config, default_activations)


def check_flags(config: Config, module_given: bool = False) -> None:
    """Before the implementation's module loads: every option a user can get wrong on its own.

    Where --arch gives the sizes, the network they make is checked too (its activations, or the course's
    relu..., sigmoid, whose sigmoid output every course API shares; the loss; keep_prob per hidden layer), so a
    mistyped network is named before anything is imported. Without --arch, --impl's module (or the module
    run() is handed, module_given) must fix the sizes (resolve_network checks them once it is loaded)."""
    if config.arch is None:
        if config.impl is None and not module_given:
            raise UsageError(
                "--arch is needed: give layer sizes like 3,4,4,1 (or --impl with a module that fixes them "
                "in layers_dims, or n_x, n_h, n_y)"
            )
        _validate_flags(config)
        return
    arch, _, _ = _check_network(config, scratch.default_activations)
    _validate_flags(config)
    _keep_probs(config.keep_prob, len(arch) - 1)


def resolve_network(config: Config, default_activations: Callable[[int], Sequence[str]]) -> Config:
    """Once the module is loaded and its arch known (--arch, or the size its code fixes): the network checked
    with its API's default activations, and the config returned with arch, activations, loss and keep_prob (one
    per hidden layer) resolved. The flags are check_flags' (called first)."""
    arch, activations, loss = _check_network(config, default_activations)
    return replace(
        config,
        arch=arch,
        activations=activations,
        loss=loss,
        keep_prob=_keep_probs(config.keep_prob, len(arch) - 1),
        lambd=config.lambd + 0.0,
    )  # -0.0 is 0


def _check_network(
    config: Config, default_activations: Callable[[int], Sequence[str]]
) -> tuple[tuple[int, ...], tuple[str, ...], str]:
    """(arch, activations, loss): the sizes, each layer's activation and the loss, checked against each other."""
    assert config.arch is not None, "the network is checked once its arch is known"
    loss_for_output = LOSS_FOR_OUTPUT
    arch = tuple(config.arch)
    named = "--arch" if config.arch_from is None else config.arch_from
    if len(arch) < 2:
        raise UsageError(
            f"{named} needs at least two sizes (inputs and outputs), got {','.join(map(str, arch)) or 'nothing'}"
        )
    for n in arch:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise UsageError(f"{named} sizes must be positive integers, got {n!r} in {arch}")

    L = len(arch) - 1
    if config.activations is not None:
        activations = tuple(config.activations)
    else:
        activations = kinds_activations(config.layers, tuple(default_activations(L)))
    if len(activations) != L:
        raise UsageError(
            f"--activations needs {L} names (one per layer of {arch_words(replace(config, arch=arch))}), got {len(activations)}"
        )
    for a in activations:
        if a not in ACTIVATIONS:
            raise UsageError(f"unknown activation {a!r}; choose from {', '.join(ACTIVATIONS)}")
    for a in activations[:-1]:
        if a in OUTPUT_ONLY:
            raise UsageError(f"{a} can only be the output activation, not a hidden one")
    check_layers(config.layers, arch)
    output = activations[-1]
    if output not in loss_for_output:
        fits = ", ".join(f"{o} (--loss {l})" for o, l in loss_for_output.items())
        raise UsageError(f"the output activation {output!r} has no loss here; use one of {fits}")
    loss = config.loss if config.loss is not None else loss_for_output[output]
    if loss not in LOSSES:
        raise UsageError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
    if loss != loss_for_output[output]:
        fits = next(o for o, l in loss_for_output.items() if l == loss)
        raise UsageError(
            f"--loss {loss} needs a {fits} output, but the output activation is {output} (which goes with --loss {loss_for_output[output]})"
        )
    if output == "softmax" and arch[-1] < 2:
        raise UsageError("a softmax output needs at least 2 units; use a sigmoid output for one unit")
    return arch, activations, loss


def _validate_flags(config: Config) -> None:
    """Every field that does not depend on the network's size."""
    if config.init not in INITS:
        raise UsageError(f"unknown --init {config.init!r}; choose from {', '.join(INITS)}")
    if config.init == "impl" and config.impl is None:
        raise UsageError("--init impl takes the initial weights from --impl's own initializer; give --impl too")
    if config.isolate and config.impl is None:
        raise UsageError("--isolate runs --impl's code in a process of its own; give --impl too")
    if config.dtype not in DTYPES:
        raise UsageError(f"unknown --dtype {config.dtype!r}; choose from {', '.join(DTYPES)}")
    if not _is_finite_number(config.learning_rate) or config.learning_rate <= 0:
        raise UsageError(f"--lr must be a positive finite number, got {config.learning_rate}")
    _within_dtype("--lr", config.learning_rate, config.dtype)
    if isinstance(config.iterations, bool) or not isinstance(config.iterations, int) or config.iterations < 0:
        raise UsageError(f"--iterations must be a whole number >= 0, got {config.iterations}")
    if config.iterations > MAX_STEPS:
        raise UsageError(
            f"--iterations {config.iterations} is more than the {MAX_STEPS:,} steps a run can take (the "
            "report keeps every step's cost)"
        )
    if config.examples is not None and (not isinstance(config.examples, int) or config.examples < 1):
        raise UsageError(f"--examples must be a whole number >= 1, got {config.examples}")
    if config.data == "house" and config.examples == 1:
        raise UsageError(
            "--data house standardises its columns by their standard deviation over the examples, which "
            "one example does not have: give --examples 2 or more"
        )
    if not isinstance(config.seed, int) or config.seed < 0:
        raise UsageError(f"--seed must be a whole number >= 0, got {config.seed}")
    if config.init == "torch" and config.seed >= TORCH_SEEDS:
        raise UsageError(
            f"--seed {config.seed} is too large for --init torch: torch.manual_seed takes seeds below "
            f"2**64 ({TORCH_SEEDS:,})"
        )
    if config.rtol is not None and (not _is_finite_number(config.rtol) or not 0 <= config.rtol < 1):
        raise UsageError(
            f"--rtol must be a finite number >= 0 and below 1 (0: exact agreement; from 1 on it "
            f"accepts any value of the right size), got {config.rtol}"
        )
    if config.data not in NAMED_DATA and os.path.splitext(config.data)[1].lower() not in (".npz", ".csv"):
        raise UsageError(
            f"--data must be one of {', '.join(NAMED_DATA)} or a path to a .npz or .csv file, got {config.data!r}"
        )

    _validate_optimization(config)


def _keep_probs(keep_prob, L: int):
    """keep_prob per hidden layer, or None where no layer drops anything."""
    if keep_prob is None:
        return None
    probs = tuple(keep_prob) if isinstance(keep_prob, (list, tuple)) else (keep_prob,)
    for p in probs:
        if not _is_finite_number(p) or not 0 < p <= 1:
            raise UsageError(f"--keep-prob values must be in (0, 1], got {p}")
        if p < MIN_KEEP_PROB:  # A / keep_prob beyond any dtype's range: nothing left to compare
            raise UsageError(
                f"--keep-prob {p:g} keeps almost no unit and scales the rest by {1 / p:.3g}; give at least "
                f"{MIN_KEEP_PROB:g}"
            )
    if L < 2:
        raise UsageError("--keep-prob needs a hidden layer: dropout never touches the input or the output")
    if len(probs) == 1:
        probs = probs * (L - 1)
    if len(probs) != L - 1:
        raise UsageError(f"--keep-prob needs one value, or {L - 1} (one per hidden layer), got {len(probs)}")
    return None if all(p == 1 for p in probs) else tuple(float(p) for p in probs)


def _validate_optimization(config: Config) -> None:
    if config.optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown --optimizer {config.optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    for flag, beta in (("--beta", config.beta), ("--beta1", config.beta1), ("--beta2", config.beta2)):
        if not _is_finite_number(beta) or not 0 <= beta < 1:
            raise UsageError(f"{flag} must be in [0, 1), got {beta}")
    if not _is_finite_number(config.epsilon) or config.epsilon <= 0:
        raise UsageError(f"--epsilon must be a positive finite number, got {config.epsilon}")
    _within_dtype("--epsilon", config.epsilon, config.dtype)
    if config.optimizer == "adam" and _is_finite_number(config.learning_rate) and config.beta1 < 1:
        step = config.learning_rate / bias_correction(config.beta1, 1)  # torch's step size at t = 1: lr / (1 - beta1^t)
        top = float(np.finfo(config.dtype).max) if config.dtype in DTYPES else math.inf
        if step > top:
            raise UsageError(
                f"--lr {config.learning_rate:g} with --beta1 {config.beta1:g}: Adam's first step size, "
                f"lr / (1 - beta1) = {step:.3g}, is beyond {config.dtype}'s largest number ({top:.3g}); "
                f"give --lr at most {top * bias_correction(config.beta1, 1):.3g}"
            )
    if config.mini_batch_size is not None and (not _is_whole(config.mini_batch_size) or config.mini_batch_size < 1):
        raise UsageError(f"--mini-batch-size must be a whole number >= 1, got {config.mini_batch_size}")
    if config.epochs is not None and (not _is_whole(config.epochs) or config.epochs < 0):
        raise UsageError(f"--epochs must be a whole number >= 0, got {config.epochs}")
    if config.epochs is not None and config.epochs > MAX_STEPS:
        raise UsageError(
            f"--epochs {config.epochs} is more than the {MAX_STEPS:,} steps a run can take (the report "
            "keeps every step's cost)"
        )
    if (
        config.mini_batch_size is not None
        and _is_whole(config.seed)
        and config.seed + config.epoch_count >= SHUFFLE_SEEDS
    ):
        # epoch e shuffles with np.random.seed(seed + e + 1), as the course's model() does
        raise UsageError(
            f"--seed {config.seed} is too large for {config.epoch_count} epochs of mini-batches: epoch e "
            f"shuffles with np.random.seed(seed + e + 1), which takes seeds below 2**32; give a --seed of "
            f"at most {max(SHUFFLE_SEEDS - 1 - config.epoch_count, 0)}"
        )
    if config.decay is not None and config.decay not in DECAYS:
        raise UsageError(f"unknown --decay {config.decay!r}; choose from none, {', '.join(DECAYS)}")
    if not _is_finite_number(config.decay_rate) or config.decay_rate < 0:
        raise UsageError(f"--decay-rate must be a finite number >= 0, got {config.decay_rate}")
    if not _is_finite_number(config.lambd) or config.lambd < 0:
        raise UsageError(f"--lambd must be a finite number >= 0, got {config.lambd}")
    _within_dtype("--lambd", config.lambd, config.dtype)
    if not _is_whole(config.decay_interval) or config.decay_interval < 1:
        raise UsageError(f"--decay-interval must be a whole number >= 1, got {config.decay_interval}")


def check_mini_batch_size(config: Config, m: int) -> None:
    """A mini-batch cannot hold more examples than the data has, nor the run take more than MAX_STEPS steps (known
    once the data is loaded)."""
    if config.mini_batch_size is not None and config.mini_batch_size > m:
        raise UsageError(
            f"--mini-batch-size {config.mini_batch_size} is larger than the {m} examples; "
            f"give at most {m} (or leave it out for the whole batch)"
        )
    steps = config.epoch_count * (1 if config.mini_batch_size is None else -(-m // config.mini_batch_size))
    if steps > MAX_STEPS:
        raise UsageError(
            f"{config.epoch_count} epochs of mini-batches of {config.mini_batch_size} from {m} examples are "
            f"{steps:,} steps, more than the {MAX_STEPS:,} a run can take (the report keeps every step's cost)"
        )


def check_data_range(config: Config, X, Y, source: str) -> None:
    """Data whose squares overflow the dtype cannot give a finite run (the cost and dW multiply data by data): refused
    once it is loaded."""
    top = float(np.finfo(config.dtype).max)
    for name, array in (("X", X), ("Y", Y)):
        size = float(np.max(np.abs(array), initial=0.0))
        if size > math.sqrt(top):
            raise UsageError(
                f"--data {source}: {name} holds values up to {size:.3g}, whose squares overflow "
                f"{config.dtype} (largest {top:.3g}); rescale it below {math.sqrt(top):.3g}"
            )


def check_lambd(config: Config, m: int, params: dict) -> None:
    """An L2 penalty (lambd / (2m)) sum ||W[l]||^2, or dW's term (lambd / m) W, already beyond the dtype's range at
    the initial weights cannot give a finite run: refused before it starts."""
    if not config.lambd:
        return
    top = float(np.finfo(config.dtype).max)
    size = config.mini_batch_size or m
    m = min(size, m % size or size)  # the smallest batch the penalty is computed over (the last, when m % size)
    weights = [np.asarray(v, dtype=np.float64) for k, v in params.items() if k.startswith("W")]
    squares = sum(float(np.sum(W * W)) for W in weights)
    largest = max(float(np.max(np.abs(W), initial=0.0)) for W in weights)
    if config.lambd / (2 * m) * squares > top or config.lambd / m * largest > top:
        bound = top * min(2 * m / squares if squares else math.inf, m / largest if largest else math.inf)
        raise UsageError(
            f"--lambd {config.lambd:g}: the L2 penalty (lambd / (2m)) sum ||W[l]||^2 of the initial "
            f"weights is beyond {config.dtype}'s range ({top:.3g}) with m = {m}; give at most {bound:.3g}"
        )


def _within_dtype(flag: str, value: float, dtype: str) -> None:
    """An option that enters the run's arrays must be a number of the run's dtype, not its inf."""
    top = float(np.finfo(dtype).max) if dtype in DTYPES else math.inf
    if abs(value) > top:
        raise UsageError(f"{flag} {value:g} is beyond {dtype}'s largest number ({top:.3g}); give at most {top:.3g}")


def _is_whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_finite_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
