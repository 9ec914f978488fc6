"""The verifier's own cost: its cold start against `import torch`, and its overhead on a large network."""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch_ref
import verify
from verify import Config

from .memory import ROOT
from .steps import ScratchStep, data, paired, seconds_of

VERIFY_COMMAND = ("-m", "verify", "--arch", "3,4,4,1")  # as a user first runs it: the default logging on
IMPORT_COMMAND = ("-c", "import torch")
OVERHEAD = Config(
    arch=(784, 256, 128, 10),
    activations=("relu", "relu", "softmax"),
    loss="ce",
    examples=2048,
    iterations=50,
    progress=False,
)  # TensorBoard and gradcheck on, as by default


def verified(config: Config):
    """verify.run(config)'s report; a run a Ctrl-C stopped (verify.run returns it, verdict "interrupted") stops the
    benchmark too, as KeyboardInterrupt: its times would be those of a run cut short."""
    report = verify.run(config)
    if report.verdict == "interrupted":
        raise KeyboardInterrupt
    return report


def wall_time(args: tuple[str, ...], cwd: str | Path = ROOT) -> tuple[float, int]:
    """Seconds from launching `python ARGS` in `cwd` to its exit, and its exit status. The process may write its
    modules' bytecode, as a user's Python does (PYTHONDONTWRITEBYTECODE, where set, is left out): otherwise this
    project's modules, unlike torch's (compiled when pip installed them), would be compiled at every launch."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    status = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ).returncode
    return time.perf_counter() - start, status


def cold_start(
    repeats: int, command: tuple[str, ...] = VERIFY_COMMAND, reference: tuple[str, ...] = IMPORT_COMMAND
) -> dict:
    """`python COMMAND` against `python REFERENCE`, launched in pairs (the order swapped every pair) in an empty
    folder (the TensorBoard logs go to its runs/), after one untimed launch of each (torch's libraries into the
    page cache, this project's bytecode written)."""
    times: dict[str, list[float]] = {"command": [], "reference": []}
    failures = 0
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as folder:
        wall_time(reference, folder)
        wall_time(command, folder)
        for i in range(repeats):
            for name in ("command", "reference") if i % 2 == 0 else ("reference", "command"):
                seconds, status = wall_time(command if name == "command" else reference, folder)
                times[name].append(seconds)
                failures += status != 0
    return {
        "command": shlex.join(("python", *command)),
        "reference": shlex.join(("python", *reference)),
        "repeats": repeats,
        "command_s": statistics.median(times["command"]),
        "reference_s": statistics.median(times["reference"]),
        "ratio": paired(times["command"], times["reference"]),
        "failures": failures,
    }


def bare_work(config: Config, X, Y, params: dict, step=None) -> None:
    """What verify.run must do at the least, per iteration: the implementation's step; torch's step from its
    parameters (lockstep: copied in, stepped, gradients and parameters copied out); torch's own step
    (free-running). `step` is called once per iteration and holds the parameters it reached in .params; by
    default scratch's step with the course's calls, as verify.run makes them."""
    lockstep, free = (torch_ref.from_params(params, config.activations) for _ in range(2))
    lockstep_trainer = torch_ref.Trainer(lockstep, X, Y, config.loss, config.learning_rate)
    free_trainer = torch_ref.Trainer(free, X, Y, config.loss, config.learning_rate, data_of=lockstep_trainer)
    step = ScratchStep(config, X, Y, params, parameters_only=False) if step is None else step
    for _ in range(config.iterations):
        torch_ref.load_params(lockstep, step.params)
        lockstep_trainer.step()
        torch_ref.gradients(lockstep)
        torch_ref.to_params(lockstep)
        step()
        free_trainer.step()


def overhead(config: Config, repeats: int) -> dict:
    """verify.run(config) against bare_work on the same data and start, alternated in this process."""
    times: dict[str, list[float]] = {"verify": [], "bare": []}
    verdicts = set()
    with tempfile.TemporaryDirectory() as logdir:
        config = replace(config, logdir=logdir)
        X, Y, params = data(config)
        verified(replace(config, iterations=1))  # warm-up: first-use costs (TensorBoard's import) on both sides
        bare_work(replace(config, iterations=1), X, Y, params)
        for r in range(repeats):
            for name in ("verify", "bare") if r % 2 == 0 else ("bare", "verify"):
                if name == "verify":
                    times[name].append(seconds_of(lambda: verdicts.add(verified(config).verdict)))
                else:
                    times[name].append(seconds_of(lambda: bare_work(config, X, Y, params)))
    ratio = paired(times["verify"], times["bare"])
    return {
        "arch": ",".join(map(str, config.arch)),
        "m": config.examples,
        "dtype": config.dtype,
        "iterations": config.iterations,
        "repeats": repeats,
        "tensorboard": config.tensorboard,
        "gradcheck": config.gradcheck,
        "verify_s": statistics.median(times["verify"]),
        "bare_s": statistics.median(times["bare"]),
        "ratio": ratio,
        "overhead": ratio - 1,
        "verdicts": ", ".join(sorted(verdicts)),
    }
