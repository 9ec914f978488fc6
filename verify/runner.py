"""verify.run(config) -> Report: build both sides from the same start, run every check, log."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field, replace

import numpy as np

import scratch
import torch_ref

from . import signals
from .arch import spelling
from .checking.checks import check_gradients, compare_at_point, kink_probe
from .checking.initialisers_trained import runs_experiment, train_from_initialisers
from .checking.loop_driven import loop_driver
from .checking.loops import LoopRun, loop_functions
from .checking.loops_whole import check_loops
from .checking.training import TrainingRun, train_and_compare
from .checking.units import UnitResult, each_function_checked
from .config import (
    Config,
    check_data_range,
    check_flags,
    check_lambd,
    check_mini_batch_size,
    resolve_network,
)
from .data import load_data
from .errors import ImplementationError, UsageError
from .impl import Adapter, detect, load_module
from .impl.layered import LayeredAPI
from .judging.compare import CheckResult
from .judging.consequences import mark_consequences
from .judging.prediction import prediction_accuracy
from .layers import torch_model, torch_net
from .machine import check_memory, torch_threads_for
from .network import Network, Point
from .optimization import Optimization, Training
from .remote.client import RemoteModule, open_module
from .results import Final, Sides
from .run_inputs import RunInputs
from .signals import Interruption
from .telling.progress import Progress
from .telling.report import Report, function_sources

BIAS_SCALE = 0.1  # the shared start's biases: small and non-zero, because zero biases hide bias bugs


def run(config: Config, implementation=None) -> Report:
    """Verify `implementation` (a module with the course API; else config.impl, else scratch) against torch_ref.

    The implementation may seed NumPy's global generator (the course's functions do): the caller's
    generator is left as it was. Ctrl-C, SIGTERM or SIGHUP (signals.py) stop the run with a report of what
    agreed so far, its verdict "interrupted"; before the first check there is nothing to report, and the
    Interrupted exception is raised, its phase named. After either, a SIGTERM or SIGHUP ends the process.
    """
    rng_state = np.random.get_state()
    try:
        with signals.caught(terminating=True), Progress(config) as progress:  # signs of life on stderr
            return _run(config, implementation, progress)
    finally:
        np.random.set_state(rng_state)


def _run(config: Config, implementation, progress: Progress) -> Report:
    try:
        config, impl, X, Y, plan, device = _prepare(config, implementation, progress)
    except KeyboardInterrupt as stop:  # before any check: nothing to report but where it stopped
        signals.reporting()
        raise _stopped(stop, progress.current) from None
    found = _Findings()
    log = None
    try:
        try:
            params = _start(config, impl, found, progress)
            if params is not None:
                check_lambd(config, X.shape[1], params)
                # TensorBoard's first import: native code a signal must not cut
                with signals.deferred(raise_after=True):
                    log = _open_log(config, plan, X, Y, impl.label)
                found.run_dir = log.run_dir if log else None
                with torch_threads_for(config, X.shape[1]):
                    found.predict = _run_checks(
                        RunInputs(config, plan, impl, X, Y, params), device, found, log, progress
                    )
        except KeyboardInterrupt as stop:  # Ctrl-C or a signal, in any phase: what agreed so far is the report
            signals.reporting()
            if found.interruption is None:  # (training names the iterations it finished)
                found.interruption = Interruption.of(stop, progress.current)
        report = _assemble(found, impl, config, plan, progress.started)
        return report if log is None else _finish_log(log, report, found.predict, progress)
    finally:
        if log is not None:
            log.close()
        if isinstance(impl.module, RemoteModule):
            impl.module.close()


@dataclass
class _Findings:
    """What the run found so far, each check's result added once it is filled (or as far as an interrupt let it
    be): the Report is assembled from it once, at the end."""

    functions: list[UnitResult] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    training: TrainingRun | None = None
    final: Sides[Final] | None = None
    interruption: Interruption | None = None
    run_dir: str | None = None
    predict: Sides | None = None  # each side's A[L] of any inputs, from its final parameters (the logs' pictures)


def _start(config: Config, impl: Adapter, found: _Findings, progress: Progress) -> dict | None:
    """The course functions checked one by one, then the shared start: its parameters in the run's dtype, or None
    (with a failed forward check) where the implementation's own initialiser raised, or where its API has no
    network to check."""
    assert config.arch is not None, "the network is resolved before any check"
    progress.stage("checking the course functions one by one")
    for result in each_function_checked(impl, config):  # one by one: an interrupt keeps those checked
        found.functions.append(result)
    if not impl.NETWORK:  # no network to check (impl/gradcheck.py): the functions are the run, and the API's own checks
        found.checks, found.run_dir = impl.own_checks(config, progress.stage)  # (impl/charlm.py: optimize over names)
        return None
    try:
        params = impl.initialize(config.arch) if config.init == "impl" else initial_parameters(config)
    except ImplementationError as error:  # no start, no network check: a failed forward check
        found.checks.append(CheckResult("forward", "forward", config.relative_tolerance, error=error))
        return None
    return {k: np.asarray(v, dtype=config.dtype) for k, v in params.items()}


def _finish_log(log, report: Report, predict: Sides | None, progress: Progress) -> Report:
    """The finished report into the TensorBoard log: its final metrics, pictures and text; or, for a run a signal
    stopped (also while these are written), its text alone, which says where it stopped. Returns the report,
    interrupted where a signal came now."""
    try:
        if report.interruption is None:
            assert predict is not None, "a run that was not interrupted checked its training"
            progress.stage("writing the TensorBoard logs")
            log.finish(report, predict)
            return report
    except KeyboardInterrupt as stop:
        signals.reporting()
        report = replace(report, interruption=Interruption.of(stop, progress.current))
    log.interrupted(report)  # the run's text report says where it stopped: an incomplete run
    return report


def _stopped(stop: KeyboardInterrupt, phase: str) -> signals.Interrupted:
    """The interrupt, with the phase it stopped (a plain KeyboardInterrupt: Ctrl-C without the handler)."""
    interrupted = stop if isinstance(stop, signals.Interrupted) else signals.Interrupted(signal.SIGINT)
    interrupted.phase = phase
    return interrupted


def _prepare(config: Config, implementation, progress: Progress):
    """Everything before the first check: the implementation loaded and adapted, the options checked against
    it, the memory and the device, the data and the training plan."""
    check_flags(config, implementation is not None)  # the flags, before importing anything
    if config.isolate and implementation is not None:
        raise UsageError("--isolate loads --impl in a process of its own: give its path, not a loaded module")
    if implementation is None and config.impl is not None:
        progress.stage(f"loading {config.impl}")
        implementation = open_module(config.impl) if config.isolate else load_module(config.impl)
    label = "scratch" if implementation is None else os.path.basename(config.impl or implementation.__name__)
    label = "your code" if label == "__main__" else label  # a notebook's (or a script's) own namespace
    api = detect(implementation or scratch, f"--impl {config.impl}" if config.impl else label, config.api)
    if api.NETWORK:
        config = api.network_config(config, implementation, label)  # --arch, or the size the module's code fixes
    else:  # no network to train (impl/gradcheck.py): the sizes its helper fixes; no training, no logs
        _refuse_training(config, label, api)
        _refuse_other_network(config, api)
        config = replace(config, arch=config.arch or api.SIZES, iterations=0, epochs=None)
        config = replace(config, tensorboard=config.tensorboard and bool(api.SCOPE))  # an API's own checks may log
    config = resolve_network(replace(config, api=api.API), api.default_activations)
    network = Network.of(config)
    if not network.dense and not issubclass(api, LayeredAPI):  # layers the course's L-layer functions do not
        api = LayeredAPI  # compute: each kind's own (layers.py)
        config = replace(config, api=api.API)
    assert config.arch is not None and config.activations is not None and config.loss is not None, (
        "resolve_network resolves the network once arch is known"
    )
    api.check_network(config.arch, config.activations, config.loss)
    check_memory(config)
    device = _prepare_device(config)
    impl = api(implementation or scratch, network, label, Training.of(config))
    if config.tensorboard:
        from .telling.tblog_names import check_logdir

        check_logdir(config.logdir, config, impl.label)  # before any work: the folder, and the run name it will hold
    progress.stage(f"loading the data ({config.data})")
    X, Y = load_data(config)
    check_mini_batch_size(config, X.shape[1])
    check_data_range(config, X, Y, config.data)
    return config, impl, X, Y, Optimization.from_config(config, X.shape[1]), device


TRAINING_OPTIONS = {  # Config's field: its flag; the optimiser's settings and the decay's need their option
    "iterations": "--iterations",
    "epochs": "--epochs",
    "learning_rate": "--lr",
    "mini_batch_size": "--mini-batch-size",
    "optimizer": "--optimizer",
    "decay": "--decay",
}
DATA_OPTIONS = {"examples": "--examples", "data": "--data", "init": "--init"}  # the shared data and start


def _refuse_training(config: Config, label: str, api) -> None:
    """UsageError for a training option, or one of the shared data and start, given to an API with no network to
    train, which would ignore it."""
    defaults = Config()
    for options, why in (
        (TRAINING_OPTIONS, f": {api.UNTRAINED}; give no training option"),
        (DATA_OPTIONS, f", whose checks make their own inputs; give no {', '.join(DATA_OPTIONS.values())}"),
    ):
        given = [flag for field, flag in options.items() if getattr(config, field) != getattr(defaults, field)]
        if given:
            raise UsageError(f"{', '.join(given)}: {label} is the {api.WEEK} API{why}")


def _refuse_other_network(config: Config, api) -> None:
    """UsageError, --arch as it was spelled, for another network than the one an API with no network to train
    computes (api.FIXED): said before the sizes are resolved, whose own refusals (a softmax of one unit) miss it."""
    if config.arch is None:
        return
    words = config.layers or ("dense",) * (len(config.arch) - 1)
    if tuple(config.arch) != api.SIZES or any(word != "dense" for word in words):
        raise UsageError(
            f"--arch {spelling(tuple(config.arch), words)}: the {api.WEEK} API {api.FIXED}; give no --arch"
        )


def _assemble(found: _Findings, impl: Adapter, config: Config, plan: Optimization, started: float) -> Report:
    """The Report, once every check is in: the consequences marked, the implementation's notes, where each function
    a fix line may name is defined, the seconds since the run `started` (the TensorBoard log's last writes, which
    need the report, come after)."""
    mark_consequences(found.checks, config.L)
    # every function a fix line may name: the course functions, the loops, a function whose result was rejected
    named = [f.function for f in found.functions] + [
        c.name.split(" ", 1)[1] for c in found.checks if c.name.startswith("loop ")
    ]
    named += [c.error.function for c in found.checks if c.error is not None]
    named += [function for function, _ in impl.COMPOSING.values()]
    training = found.training
    return Report(
        config,
        plan,
        checks=found.checks,
        final=found.final,
        costs=None if training is None else training.costs,
        nonfinite=None if training is None else training.nonfinite,
        drift=[] if training is None else training.drift,
        run_dir=found.run_dir,
        interruption=found.interruption,
        seconds=time.perf_counter() - started,
        implementation=impl.label,
        notes=impl.loading_notes + list(impl.notes.values()),
        functions=found.functions,
        sources=function_sources(impl.module, list(dict.fromkeys(named))),
        scope=impl.SCOPE,
        composing=impl.COMPOSING,
    )


def _run_checks(inputs: RunInputs, device, found: _Findings, log, progress: Progress) -> Sides:
    """Every network check in order, each result added to `found` once filled; returns each side's prediction
    from its final parameters (for the logs' pictures)."""
    impl, plan = inputs.impl, inputs.plan
    model = torch_model(impl.network, inputs.params, device)
    _check_at_points(inputs, model, found, progress)
    progress.training(plan, impl.label)

    def on_iteration(record) -> None:
        if log is not None:
            log.iteration(record)
        progress.show(record)

    model_free = torch_model(impl.network, inputs.params, device)
    loops = {} if impl.label == "scratch" else loop_functions(impl, plan)  # scratch's are tested with scratch
    driver = loop_driver(impl, LoopRun(inputs.X, inputs.Y, inputs.params, plan), loops)  # its steps taken once
    training = train_and_compare(inputs, model, model_free, on_iteration, driver)
    _training_results(inputs, model_free, training, found, progress)
    check_loops(inputs, loops, training, found.checks, progress.stage, driver)
    if impl.label != "scratch" and runs_experiment(impl):  # the initialization notebook: its three initialisers,
        on_cost = None if log is None else log.initialiser_cost  # each trained on both sides
        found.checks += train_from_initialisers(inputs, device, on_cost, progress.stage)
    final_params = training.impl_params
    assert final_params is not None, "training starts from params and keeps the last finite ones"
    return Sides(lambda grid: impl.forward(grid, final_params)[0], lambda grid: torch_ref.output(model_free, grid))


def _check_at_points(inputs: RunInputs, model, found: _Findings, progress: Progress) -> None:
    """Forward and backward at the initial weights and at a kink probe, then the gradient check."""
    config, impl, X, Y, params = inputs.config, inputs.impl, inputs.X, inputs.Y, inputs.params
    forward = CheckResult("forward", "forward", inputs.rtol)
    backward = CheckResult("backward", "backward", inputs.rtol)
    masks = inputs.plan.masks(-1, X.shape[1])  # dropout: one mask for the checks at one point, the same on both sides
    progress.stage("forward and backward at the initial weights and at a kink probe")
    try:
        start, results = Point(X, Y, params, masks), (forward, backward)
        compare_at_point(impl, model, start, "initial weights", results)
        compare_at_point(impl, model, kink_probe(start, impl.network), "kink probe", results)
    finally:  # filled, or as far as an interrupt let them be: what agreed so far is reported
        found.checks += [forward, backward]
    if config.gradcheck:
        progress.stage("gradient check: centred differences of the cost")
        found.checks.append(check_gradients(impl, X, Y, params, config.seed, masks))
    else:
        found.checks.append(CheckResult("gradcheck", "gradcheck", 0.0, skipped="--no-gradcheck"))


def _training_results(
    inputs: RunInputs, model_free, training: TrainingRun, found: _Findings, progress: Progress
) -> None:
    """Training's checks, costs and divergences into the findings, and both sides' final cost and accuracy; an
    interrupt that stopped training is raised again once what it reached is in the findings."""
    found.checks += [training.lockstep, training.free]
    found.training = training
    if training.interrupted is not None:  # the iterations before it are reported; nothing after them runs
        found.interruption = Interruption.of(training.interrupted, progress.current, training.completed)
        raise training.interrupted
    if training.lockstep.error is None and not training.saturated:  # else nothing to compare (the cost: log(0))
        assert training.impl_params is not None, "training starts from params and keeps the last finite ones"
        final = _final(inputs, training.impl_params, model_free)
        # a side that diverged has no final cost (its last finite parameters are not where its run ended)
        found.final = Sides(
            Final() if training.nonfinite.impl is not None else final.impl,
            Final() if training.nonfinite.torch is not None else final.torch,
        )


def initial_parameters(config: Config) -> dict:
    """The shared start: each layer's kind's initialiser (a dense layer's draws are those of scratch's
    initialize_parameters_deep) plus small random offsets (a dense layer's biases), or torch's own init. The
    config's sizes and layers are read (its activations, where not resolved yet, as the course's)."""
    activations = config.activations or tuple(scratch.default_activations(config.L))
    network = Network.of(replace(config, activations=activations, loss=config.loss or "bce"))
    if config.init == "torch":
        import torch

        torch.manual_seed(config.seed)
        model = torch_net(network, torch.float64)
        return {k: v.astype(config.dtype) for k, v in torch_ref.to_params(model).items()}
    rng = np.random.default_rng(config.seed)
    params = {}
    for l in range(1, network.L + 1):
        drawn = network.kind(l).initialize(network.sizes[l - 1], network.sizes[l], config.init, rng)
        params.update({f"{name}{l}": value for name, value in drawn.items()})
    if config.init != "zeros":
        rng = np.random.default_rng([config.seed, 3])
        for l in range(1, network.L + 1):
            for name in network.kind(l).offsets:
                key = f"{name}{l}"
                params[key] = rng.standard_normal(params[key].shape) * BIAS_SCALE
    return {k: v.astype(config.dtype) for k, v in params.items()}


def _final(inputs: RunInputs, impl_params: dict, model_free) -> Sides[Final]:
    """Cost and accuracy of both sides at their final parameters."""
    config, impl, X, Y = inputs.config, inputs.impl, inputs.X, inputs.Y
    assert config.activations is not None and config.loss is not None, "a validated config"
    try:
        AL, caches = impl.forward(X, impl_params)
        mine = Final(impl.cost(AL, Y, caches), prediction_accuracy(AL, Y, config.activations[-1]))
    except ImplementationError:
        mine = Final()
    cost, A_L = torch_ref.evaluate(model_free, X, Y, config.loss, impl.lambd)
    return Sides(mine, Final(cost, prediction_accuracy(A_L, Y, config.activations[-1])))


def _prepare_device(config: Config):
    try:
        device = torch_ref.check_device(config.device)
    except ValueError as error:
        raise UsageError(f"--device: {error}") from None
    if device.type == "cuda":
        import torch

        # TF32 rounds float32 matmuls to 10 mantissa bits: off, or float32 agreement is lost.
        torch.backends.cuda.matmul.allow_tf32 = config.allow_tf32
        torch.backends.cudnn.allow_tf32 = config.allow_tf32
    return device


def _open_log(config: Config, plan: Optimization, X, Y, implementation: str):
    if not config.tensorboard:
        return None
    from .telling.tblog import TensorBoardLog
    from .telling.tblog_names import experiment_name, make_run_dir

    run_dir = make_run_dir(
        config.logdir, experiment_name(config.arch, config.activations, config.name, implementation, config.impl)
    )
    return TensorBoardLog(run_dir, config, plan, X, Y, implementation)
