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

from . import _startup, signals
from .arch import parse_network
from .cli_options import build_parser
from .config import NAMED_DATA, Config
from .errors import UsageError
from .signals import Interruption
from .telling.jsonout import JsonTarget, ended_early

# The README's install line, per dependency the verifier cannot start without.
_INSTALL = {"torch": "pip install torch==2.13.0", "numpy": "pip install -e . (or pip install numpy)"}


def config_from_args(args: argparse.Namespace) -> Config:
    """The run's Config from the parsed options; UsageError for options that do not go together."""
    _check_settings_used(args)
    arch, layers = (None, None) if args.arch is None else parse_network(args.arch)
    return Config(
        arch=arch,
        layers=layers,
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
        isolate=args.isolate,
        api=args.api,
        optimizer=args.optimizer,
        mini_batch_size=args.mini_batch_size,
        epochs=args.epochs,
        decay=None if args.decay == "none" else args.decay,
        lambd=args.lambd,
        keep_prob=_keep_prob(args.keep_prob),
        **_given_settings(args),
    )


def _check_settings_used(args: argparse.Namespace) -> None:
    """UsageError for --epochs with --iterations, and for an optimiser's or decay's setting given without it."""
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


def _given_settings(args: argparse.Namespace) -> dict:
    """The optimiser's and the decay's settings given on the command line (the rest keep Config's defaults)."""
    return {
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


def _keep_prob(text: str | None):
    if text is None:
        return None
    try:
        return tuple(float(item) for item in text.split(","))
    except ValueError:
        raise UsageError(
            f"--keep-prob {text!r}: give a number in (0, 1], or one per hidden layer like 0.8,0.9"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["grade"]:  # python -m verify grade PATH...: a class, each submission in a process of its own
        _startup.resume_collection()
        from .grading.cli import main as grade

        return grade(argv[1:])
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
            _startup.resume_collection()  # the imports are done (see _startup.pause_collection)
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
