"""The command line: parse arguments into a Config, call verify.run, print, map outcomes to exit codes.

Exit status: 0 when scratch and torch agree on every check, 1 when anything disagrees,
2 for bad usage or bad input (one line on stderr), 128 + the signal's number when a signal
stopped it (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP) with nothing failed so far.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import signals
from .config import ACTIVATIONS, DTYPES, LOSS_FOR_OUTPUT, LOSSES, NAMED_DATA, OUTPUT_ONLY, Config
from .errors import UsageError
from .jsonout import JsonTarget, ended_early
from .signals import Interruption
from .tolerance import DEFAULT_RTOL

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

# The README's install line, per dependency the verifier cannot start without.
_INSTALL = {"torch": "pip install torch==2.13.0", "numpy": "pip install -e . (or pip install numpy)"}


class _Parser(argparse.ArgumentParser):
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
    p = _Parser(
        prog="python -m verify",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Verify the hand-derived NumPy network (scratch/) against its torch.nn twin: forward, "
        "backward, finite differences and training.",
    )
    p.add_argument(
        "--arch",
        default=None,
        help="layer sizes n0,n1,...,nL, e.g. 3,4,4,1 (required, unless --impl's own code fixes them: "
        "layers_dims, or n_x, n_h, n_y; given too, it must agree)",
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
        "--api",
        default=None,
        help="the course API of --impl: deep (week 4: L_model_forward, ...), shallow (week 3: "
        "forward_propagation, ...) or logreg (week 2: propagate, optimize) (default: detected from "
        "what it defines)",
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
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    if args.iterations is not None and args.epochs is not None:
        raise UsageError("give --epochs or --iterations, not both (with the whole batch an epoch is an iteration)")
    takes = {
        "--beta": args.optimizer == "momentum",
        "--beta1": args.optimizer == "adam",
        "--beta2": args.optimizer == "adam",
        "--epsilon": args.optimizer == "adam",
        "--decay-rate": args.decay != "none",
        "--decay-interval": args.decay == "scheduled",
    }
    for flag, used in takes.items():
        if getattr(args, flag[2:].replace("-", "_")) is not None and not used:
            owner = {
                "--beta": "--optimizer momentum",
                "--decay-rate": "--decay inverse or scheduled",
                "--decay-interval": "--decay scheduled",
            }.get(flag, "--optimizer adam")
            raise UsageError(
                f"{flag} is used only with {owner}"
                + (" (Adam's betas are --beta1 and --beta2)" if flag == "--beta" and args.optimizer == "adam" else "")
            )
    given = {
        k: v
        for k, v in (
            ("beta", args.beta),
            ("beta1", args.beta1),
            ("beta2", args.beta2),
            ("epsilon", args.epsilon),
            ("decay_rate", args.decay_rate),
            ("decay_interval", args.decay_interval),
        )
        if v is not None
    }
    return Config(
        arch=None if args.arch is None else parse_arch(args.arch),
        activations=None if args.activations is None else tuple(a.strip() for a in args.activations.split(",")),
        loss=args.loss,
        init=args.init,
        seed=args.seed,
        data=args.data,
        examples=args.examples,
        iterations=Config.iterations if args.iterations is None else args.iterations,
        learning_rate=args.lr,
        dtype=args.dtype,
        device=args.device,
        rtol=args.rtol,
        gradcheck=not args.no_gradcheck,
        tensorboard=not args.no_tensorboard,
        logdir=args.logdir,
        name=args.name,
        allow_tf32=args.tf32,
        progress=True,
        impl=args.impl,
        api=args.api,
        optimizer=args.optimizer,
        mini_batch_size=args.mini_batch_size,
        epochs=args.epochs,
        decay=None if args.decay == "none" else args.decay,
        lambd=args.lambd,
        keep_prob=_keep_prob(args.keep_prob),
        **given,
    )


def _keep_prob(text: str | None):
    if text is None:
        return None
    try:
        return tuple(float(item) for item in text.split(","))
    except ValueError:
        raise UsageError(
            f"--keep-prob {text!r}: give a number in (0, 1], or one per hidden layer like 0.8,0.9"
        ) from None


def parse_arch(text: str) -> tuple[int, ...]:
    """'3,4,4,1' -> (3, 4, 4, 1), with a message a user can act on for anything else."""
    items = [item.strip() for item in text.split(",")]
    if not text.strip():
        raise UsageError("--arch is empty; give layer sizes like 3,4,4,1")
    if any(item == "" for item in items):
        raise UsageError(f"--arch {text!r} has an empty item; give layer sizes like 3,4,4,1")
    sizes = []
    for item in items:
        if not (item.isascii() and item.lstrip("+-").isdigit()):
            raise UsageError(f"--arch {text!r}: {item!r} is not a whole number; give layer sizes like 3,4,4,1")
        sizes.append(int(item))
    if len(sizes) < 2:
        raise UsageError(f"--arch needs at least two sizes (inputs and outputs), got {text!r}")
    if any(n < 1 for n in sizes):
        raise UsageError(f"--arch {text!r}: every size must be at least 1")
    return tuple(sizes)


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


def main(argv: Sequence[str] | None = None) -> int:
    with signals.caught():  # Ctrl-C, SIGTERM, SIGHUP: a report of what agreed so far (signals.py)
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    target, impl = JsonTarget(None), None  # no report to write until --json is checked
    try:
        args = build_parser().parse_args(argv)
        config, impl = config_from_args(args), args.impl
        target = JsonTarget.checked(args.json, args.impl, None if args.data in ("auto", *NAMED_DATA) else args.data)
        try:
            # torch is imported here, not for --help or a usage error; a signal raised inside its native import code
            # aborts the process, so one that comes meanwhile is raised once the import is done
            with signals.deferred(raise_after=True):
                from .runner import run
        except ImportError as error:
            # A missing or broken torch/numpy is the user's to fix: say how, in one line. Any other
            # module, or a name missing from a module that did load, is a bug and keeps its traceback.
            package = (error.name or "").split(".")[0]
            if error.name is None or package not in _INSTALL or sys.modules.get(error.name) is not None:
                raise
            reason = " ".join(str(error).split())  # one line, whatever the loader said
            raise UsageError(f"{package} is not importable ({reason}); install it first: {_INSTALL[package]}") from None
        signals.check()  # an interrupt Python swallowed before here (see signals.check)
        target.clear()  # no stale verdict: from here the path holds this run's report or nothing
        with target.stdout_for_json_only():  # --json -: whatever the run prints goes to stderr
            report = run(config)
        with signals.deferred():  # the report is whole: a signal now does not cut its printing or its JSON
            _print_report(report, args)
            status = report.interruption.status if report.interruption else 0 if report.ok else 1
            return _write_json(target, report.as_dict(), status)
    except UsageError as error:
        print(f"verify: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:  # before the first check (later ones are in the report): nothing agreed yet
        signals.reporting()
        stopped = Interruption.of(stop, getattr(stop, "phase", ""))
        verdict = f"VERDICT: INTERRUPTED by {stopped.signal} {stopped.where()}; nothing had been checked yet"
        with signals.deferred():
            _say(verdict, sys.stderr if target.path == "-" else sys.stdout)
            document = ended_early("interrupted", verdict.removeprefix("VERDICT: "), impl)
            return _write_json(target, {**document, "interrupted": stopped.as_dict()}, stopped.status)
    except BaseException as error:  # a fault of the verifier's (or a SystemExit): recorded, then raised as it was
        _write_json(target, ended_early("error", f"{type(error).__name__}: {error}", impl), 1)
        raise


def _say(line: str, stream) -> None:
    """A line on `stream`; nothing when it is gone (a closed terminal, a reader that left)."""
    try:
        print(line, file=stream, flush=True)
    except OSError:
        pass


def _write_json(target: JsonTarget, document: dict, status: int) -> int:
    """Write the JSON report (if asked) and return `status`; 2 with one line when the file cannot be written."""
    try:
        target.write(document)
    except BrokenPipeError:  # `--json - | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as error:
        print(
            f"verify: error: --json {target.path}: the report could not be written ({error.strerror or error})",
            file=sys.stderr,
        )
        return 2
    return status


def _print_report(report, args: argparse.Namespace) -> None:
    """The text report on stdout (the JSON is written after it, by main); none with --json -, whose stdout is the
    JSON's alone."""
    if args.json == "-":
        return
    text = report.summary() if args.quiet else report.to_text(verbose=args.verbose)  # -q: the verdict block
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"  # a file name no encoding can show: escaped
    try:
        print(text.encode(encoding, errors="backslashreplace").decode(encoding, errors="replace"))
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:  # a terminal that closed (SIGHUP): the JSON, if asked, is still written
        pass
