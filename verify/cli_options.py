"""The command line's options: the parser (every error one line, a value starting with '-' taken as a value),
the options by group (the network, the data, training, its schedule, regularisation, the checks, the output),
and the converters that name the option a bad number was given to."""

from __future__ import annotations

import argparse
import sys

from .config import ACTIVATIONS, DTYPES, LOSS_FOR_OUTPUT, LOSSES, NAMED_DATA, OUTPUT_ONLY, Config
from .errors import UsageError
from .judging.tolerance import DEFAULT_RTOL

EXAMPLES = """examples:
  python -m verify --arch 3,4,4,1
  python -m verify --arch 2,4,1 --activations tanh,sigmoid --data flower --iterations 2000 --lr 1.2
  python -m verify --arch 4,8,3 --activations relu,softmax --dtype float32 --json report.json
  python -m verify --arch 1,8,1 --activations relu,linear --data house --no-tensorboard
  python -m verify --arch 3,4,4,1 --impl examples/broken_network.py
  python -m verify --arch 3,4,4,1 --impl examples/course_network.ipynb
  python -m verify --arch 2,4,1 --impl examples/planar_network.py --data flower --lr 1.2
  python -m verify --arch 5,8,4,1 --optimizer adam --mini-batch-size 64 --epochs 20
"""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit 2 (a UsageError), for `verify` and `verify grade`."""

    def error(self, message: str):  # one line, exit 2, no usage dump
        # "argument --seed: --seed needs a whole number": our own converters name the option already
        prefix, _, rest = message.partition(": ")
        if prefix.startswith("argument ") and rest.startswith(prefix.removeprefix("argument ").split("/")[-1] + " "):
            message = rest
        raise UsageError(message)

    def parse_known_args(self, args=None, namespace=None):
        return super().parse_known_args(self.values_joined(sys.argv[1:] if args is None else list(args)), namespace)

    def values_joined(self, argv: list[str]) -> list[str]:
        """`--arch -1,4` as `--arch=-1,4`: an option that takes a value takes the next item, also one starting
        with '-' (argparse reads `-1,4` or `-inf` as an option and says "expected one argument"), so the value
        reaches its own check. An item that is one of ours (`--lr`, `-q`, `--it` for --iterations) stays an option."""
        joined, items = [], iter(argv)
        for item in items:
            if item == "--":
                joined += [item, *items]
                break
            action = self._value_option(item)
            following = next(items, None) if action is not None else None
            if following is None:
                joined.append(item)
            elif following.startswith("-") and following != "-" and not self._is_option(following):
                joined.append(f"{item}={following}")
            else:
                joined += [item, following]
        return joined

    def _value_option(self, item: str) -> argparse.Action | None:
        """The option `item` names (exactly, or a long option's unique prefix) when it takes one value."""
        if not item.startswith("-") or "=" in item:
            return None
        actions = {
            a
            for s, a in self._option_string_actions.items()
            if s == item or (item.startswith("--") and self.allow_abbrev and s.startswith(item))
        }
        action = actions.pop() if len(actions) == 1 else None
        return action if action is not None and action.nargs is None and action.option_strings else None

    def _is_option(self, item: str) -> bool:
        """Whether argparse would read `item` as one of this parser's options (a long one, or a short flag like -q)."""
        if item.startswith("--"):
            return True  # a misspelt long option is argparse's to name
        return item[:2] in self._option_string_actions


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="python -m verify",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Verify the hand-derived NumPy network (scratch/) against its torch.nn twin: forward, "
        "backward, finite differences and training.",
    )
    _add_network_options(p)
    _add_data_options(p)
    _add_training_options(p)
    _add_schedule_options(p)
    _add_regularization_options(p)
    _add_check_options(p)
    _add_output_options(p)
    return p


def _add_network_options(p: argparse.ArgumentParser) -> None:
    """The network and the implementation verified: --arch, --impl, --api, --activations, --loss, --init."""
    p.add_argument(
        "--arch",
        default=None,
        help="layer sizes n0,n1,...,nL, e.g. 3,4,4,1 (required, unless --impl's own code fixes them: "
        "layers_dims, or n_x, n_h, n_y; given too, it must agree); a registered layer kind's word in place of a "
        "size is a layer of that kind",
    )
    p.add_argument(
        "--impl",
        metavar="PATH_OR_MODULE",
        default=None,
        help="verify your own implementation instead of scratch/: a .py file, a Jupyter notebook "
        "(.ipynb) or an importable module with the course's functions (week 2, 3 or 4) "
        "(default: scratch)",
    )
    p.add_argument(
        "--isolate",
        action="store_true",
        help="run --impl's code in a process of its own, which the checks reach only through data (arrays, "
        "numbers, strings): nothing it does to NumPy, torch or the verifier in its own process changes the "
        "verdict (default: in this process; grading a class always isolates)",
    )
    p.add_argument(
        "--api",
        default=None,
        help="the course API of --impl: deep (week 4: L_model_forward, ...), course2 (the second course's 3-layer helper network: "
        "backward_propagation(X, Y, cache), ...), gradcheck (its gradient-checking notebook: gradient_check_n), "
        "shallow (week 3: "
        "forward_propagation, ...), logreg (week 2: propagate, optimize), conv (the convolution course's "
        "step-by-step notebook: conv_forward, pool_forward, ...), rnn (the recurrent step-by-step notebook: "
        "rnn_forward, lstm_forward, ...) or charlm (the character-level language model notebook: clip, sample, "
        "optimize) (default: detected from what it defines)",
    )
    p.add_argument(
        "--activations",
        default=None,
        help=f"L comma-separated names from {', '.join(a + (' (output only)' if a in OUTPUT_ONLY else '') for a in ACTIVATIONS)} "
        "(default: relu for hidden layers, sigmoid for the output)",
    )
    p.add_argument(
        "--loss",
        default=None,
        help=f"{', '.join(LOSSES[:-1])} or {LOSSES[-1]} (default: from the output activation: "
        f"{', '.join(f'{o}->{l}' for o, l in LOSS_FOR_OUTPUT.items())})",
    )
    p.add_argument(
        "--init",
        default="he",
        help="initial weights: he, xavier, random, zeros, torch (torch's own nn.Linear init, exported to "
        "both), impl (--impl's own initializer: initialize_parameters_deep, initialize_parameters or "
        "initialize_with_zeros by its API) (default: he)",
    )


def _add_data_options(p: argparse.ArgumentParser) -> None:
    """The data: --seed, --data, --examples."""
    p.add_argument("--seed", type=_int("--seed"), default=0, help="one seed reproduces the whole run (default: 0)")
    p.add_argument(
        "--data",
        default="auto",
        help=f"{', '.join(NAMED_DATA)}, or a .npz file with X (n0, m) and Y (nL, m), or a .csv file with "
        "one example per row, features then labels (default: auto, labels from a random teacher "
        "network that fits --arch)",
    )
    p.add_argument(
        "--examples",
        type=_int("--examples"),
        default=None,
        help="number of examples m (default: 200; 400 for flower, moons, xor; a whole file)",
    )


def _add_training_options(p: argparse.ArgumentParser) -> None:
    """Training's steps and optimiser: --iterations, --lr, --optimizer and its settings."""
    p.add_argument(
        "--iterations",
        type=_int("--iterations"),
        default=None,
        help=f"gradient-descent iterations on the whole batch; with --mini-batch-size and no --epochs, "
        f"the epochs (default: {Config.iterations})",
    )
    p.add_argument(
        "--lr",
        type=_float("--lr"),
        default=Config.learning_rate,
        help=f"learning rate (default: {Config.learning_rate})",
    )
    p.add_argument(
        "--optimizer",
        default=Config.optimizer,
        help="gd (gradient descent), momentum (update_parameters_with_momentum, --beta) or adam "
        "(update_parameters_with_adam, --beta1, --beta2, --epsilon), checked against torch.optim's "
        "SGD and Adam (default: gd)",
    )
    p.add_argument(
        "--beta", type=_float("--beta"), default=None, help=f"momentum's beta, in [0, 1) (default: {Config.beta})"
    )
    p.add_argument(
        "--beta1",
        type=_float("--beta1"),
        default=None,
        help=f"Adam's first-moment beta1, in [0, 1) (default: {Config.beta1})",
    )
    p.add_argument(
        "--beta2",
        type=_float("--beta2"),
        default=None,
        help=f"Adam's second-moment beta2, in [0, 1) (default: {Config.beta2})",
    )
    p.add_argument(
        "--epsilon", type=_float("--epsilon"), default=None, help=f"Adam's epsilon, > 0 (default: {Config.epsilon:g})"
    )


def _add_schedule_options(p: argparse.ArgumentParser) -> None:
    """Mini-batches, epochs and the learning rate's decay."""
    p.add_argument(
        "--mini-batch-size",
        type=_int("--mini-batch-size"),
        default=None,
        help="examples per mini-batch, 1 to m: each epoch shuffles the examples (the permutation of "
        "random_mini_batches with seed --seed + epoch + 1, shared by both sides) and steps once per "
        "batch, the last one smaller when m is not a multiple (default: the whole batch, unshuffled)",
    )
    p.add_argument(
        "--epochs",
        type=_int("--epochs"),
        default=None,
        help="passes over the data (default: --iterations; with the whole batch an epoch is an iteration)",
    )
    p.add_argument(
        "--decay",
        default="none",
        help="learning-rate decay after each epoch: none, inverse (update_lr: lr0 / (1 + rate epoch)) or "
        "scheduled (schedule_lr_decay: lr0 / (1 + rate floor(epoch / interval))) (default: none)",
    )
    p.add_argument(
        "--decay-rate",
        type=_float("--decay-rate"),
        default=None,
        help=f"the decay's rate, >= 0 (default: {Config.decay_rate:g})",
    )
    p.add_argument(
        "--decay-interval",
        type=_int("--decay-interval"),
        default=None,
        help=f"scheduled decay: epochs between drops (default: {Config.decay_interval})",
    )


def _add_regularization_options(p: argparse.ArgumentParser) -> None:
    """L2 regularisation and dropout: --lambd, --keep-prob."""
    p.add_argument(
        "--lambd",
        type=_float("--lambd"),
        default=Config.lambd,
        help="L2 regularisation: the cost gains (lambd / (2 m)) sum ||W[l]||^2 and each dW[l] (lambd / m) "
        "W[l]; needs compute_cost_with_regularization and an L_model_backward taking lambd (week 4) "
        "(default: 0, none)",
    )
    p.add_argument(
        "--keep-prob",
        default=None,
        help="dropout on the hidden layers: the probability of keeping a unit, one value or one per hidden "
        "layer (e.g. 0.86 or 0.8,0.9); the verifier draws each step's masks and hands both sides the "
        "same (default: 1, none)",
    )


def _add_check_options(p: argparse.ArgumentParser) -> None:
    """How the two sides compute and are compared: --dtype, --device, --tf32, --rtol, --no-gradcheck."""
    p.add_argument(
        "--dtype", default="float64", help=f"{' or '.join(DTYPES)}, used on both sides end to end (default: float64)"
    )
    p.add_argument(
        "--device", default="cpu", help="torch device for the reference side: cpu, cuda, cuda:N (default: cpu)"
    )
    p.add_argument(
        "--tf32", action="store_true", help="allow TF32 matmuls on CUDA (off by default: it breaks float32 agreement)"
    )
    p.add_argument(
        "--rtol",
        type=_float("--rtol"),
        default=None,
        help="relative tolerance, applied to each quantity's own scale: the size of the terms it is "
        f"computed from (default: {DEFAULT_RTOL['float64']} for float64, {DEFAULT_RTOL['float32']} "
        "for float32)",
    )
    p.add_argument(
        "--no-gradcheck", action="store_true", help="skip the finite-difference gradient check (default: run it)"
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    """What is written and printed: the TensorBoard logs, --json, -q, -v."""
    p.add_argument("--logdir", default="runs", help="TensorBoard log folder (default: runs)")
    p.add_argument(
        "--name",
        default=None,
        help="experiment name under --logdir, made safe as one folder name "
        "(default: the file's name cut at a word and 3 hex digits of its code, e.g. Building_3fa; "
        "scratch_3x4x4x1 without --impl; _2, _3, ... when taken)",
    )
    p.add_argument("--no-tensorboard", action="store_true", help="write no TensorBoard logs (default: write them)")
    p.add_argument(
        "--json",
        metavar="PATH",
        default=None,
        help="also write the report as JSON to PATH (- for stdout) (default: none)",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print only the verdict block: the verdict, what to fix, the first divergence and its hint "
        "(progress lines still go to stderr on a long run)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print every layer's row, not one per quantity")


def _int(flag: str):
    def convert(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} needs a whole number, got {text!r}") from None

    return convert


def _float(flag: str):
    def convert(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} needs a number, got {text!r}") from None

    return convert
