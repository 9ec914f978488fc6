"""The suite's other measurements: cold start, verifier overhead, vectorisation, verifier memory growth."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace

import numpy as np

from .entries import backward_options
from .subproc import ChildRun, run_child
from .timing import calibrate, interleaved, median, paired_ratio


# ---------------------------------------------------------------- (a) cold start


@dataclass
class ColdStart:
    """Launch-to-exit seconds of each verify run and each `import torch`, in launch pairs."""

    verify_s: list[float]
    import_s: list[float]
    verify_rss_mib: list[float]
    failures: int

    @property
    def ratio(self) -> float:
        """Median over pairs of verify / import torch (each pair launched back to back)."""
        return paired_ratio(self.verify_s, self.import_s)


def cold_start(repeats: int) -> ColdStart:
    """`python -m verify --arch 3,4,4,1 --logdir <tmp>` (TensorBoard on) vs `python -c "import torch"`,
    launched alternately (the order swapped every pair), each timed from launch to exit."""
    logdir = tempfile.mkdtemp(prefix="bench-verify-tb-")
    verify_cmd = [sys.executable, "-m", "verify", "--arch", "3,4,4,1", "--logdir", logdir]
    import_cmd = [sys.executable, "-c", "import torch"]
    result = ColdStart([], [], [], 0)
    try:
        run_child(import_cmd)  # warm-up: page cache for torch's shared libraries
        for i in range(repeats):
            pair: dict[str, ChildRun] = {}
            for name in (("verify", "import") if i % 2 == 0 else ("import", "verify")):
                pair[name] = run_child(verify_cmd if name == "verify" else import_cmd)
            result.verify_s.append(pair["verify"].seconds)
            result.import_s.append(pair["import"].seconds)
            result.verify_rss_mib.append(pair["verify"].maxrss_mib)
            result.failures += sum(r.returncode != 0 for r in pair.values())
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    return result


# ---------------------------------------------------------------- (b) verifier overhead


OVERHEAD_ARCH = (784, 256, 128, 10)
OVERHEAD_ACTIVATIONS = ("relu", "relu", "softmax")
OVERHEAD_M = 2048


@dataclass
class Overhead:
    """verify.run's seconds and the bare work's, one pair per repeat."""

    iterations: int
    verify_s: list[float]
    bare_s: list[float]
    verdicts: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return paired_ratio(self.verify_s, self.bare_s)

    @property
    def overhead_pct(self) -> float:
        return 100.0 * (self.ratio - 1.0)


def _overhead_data(seed: int = 0):
    import scratch

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((OVERHEAD_ARCH[0], OVERHEAD_M))
    Y = np.eye(OVERHEAD_ARCH[-1])[:, rng.integers(0, OVERHEAD_ARCH[-1], OVERHEAD_M)]
    params = scratch.initialize_parameters_deep(OVERHEAD_ARCH, init="he", seed=seed)
    for l in range(1, len(OVERHEAD_ARCH)):
        params[f"b{l}"] = rng.standard_normal((OVERHEAD_ARCH[l], 1)) * 0.1
    return X, Y, params


def bare_work(X, Y, params, iterations: int, learning_rate: float = 0.1) -> None:
    """What verify.run must do at the least: per iteration one scratch step (without dA0 where
    scratch allows, as the verifier's loop), one free-running torch Trainer.step, and one lockstep
    torch evaluation (load_params + Trainer.step + gradients + to_params); plus building the two
    models and trainers."""
    import scratch
    import torch_ref

    acts, loss = list(OVERHEAD_ACTIVATIONS), "ce"
    options = backward_options()  # the verifier's loop also skips dA0 when scratch allows it
    lock = torch_ref.from_params(params, acts)
    free = torch_ref.from_params(params, acts)
    lock_trainer = torch_ref.Trainer(lock, X, Y, loss, learning_rate)
    free_trainer = torch_ref.Trainer(free, X, Y, loss, learning_rate)
    P = params
    for _ in range(iterations):
        torch_ref.load_params(lock, P)
        lock_trainer.step()
        torch_ref.gradients(lock)
        torch_ref.to_params(lock)
        AL, caches = scratch.L_model_forward(X, P, acts)
        scratch.compute_cost(AL, Y, loss, ZL=caches[-1][1])
        grads = scratch.L_model_backward(AL, Y, caches, acts, loss, **options)
        P = scratch.update_parameters(P, grads, learning_rate)
        free_trainer.step()


def verifier_overhead(iterations: int, repeats: int, budget_s: float = 120.0) -> Overhead:
    """verify.run (TensorBoard on, gradcheck on) against bare_work, alternated in this process
    (the first of each pair swapped every repeat); past `budget_s`, no more than two repeats."""
    import verify

    logdir = tempfile.mkdtemp(prefix="bench-overhead-tb-")
    X, Y, params = _overhead_data()
    config = verify.Config(arch=OVERHEAD_ARCH, activations=OVERHEAD_ACTIVATIONS, examples=OVERHEAD_M,
                           iterations=iterations, tensorboard=True, logdir=logdir, gradcheck=True,
                           progress=False)
    result = Overhead(iterations, [], [])

    def run_verify() -> None:
        result.verdicts.append(verify.run(config).verdict)

    try:
        verify.run(replace(config, iterations=1))  # warm-up: TensorBoard's import, first-use costs on both sides
        bare_work(X, Y, params, 1)
        fns = {"verify": run_verify, "bare": lambda: bare_work(X, Y, params, iterations)}
        start = time.perf_counter()
        for r in range(repeats):
            if r >= min(2, repeats) and time.perf_counter() - start > budget_s:
                break  # a loaded machine: keep the run inside its time budget
            t = interleaved(dict(list(fns.items())[r % 2:] + list(fns.items())[: r % 2]), 1)
            result.verify_s += t["verify"]
            result.bare_s += t["bare"]
    finally:
        shutil.rmtree(logdir, ignore_errors=True)
    return result


# ---------------------------------------------------------------- (c) vectorisation


@dataclass
class Vectorisation:
    """A loop and its vectorised form, per-call medians and the paired speed-up."""

    label: str
    loop_s: float
    vector_s: float
    speedup: float  # median over rounds of loop / vectorised
    vector_1t_s: float = float("nan")  # diagnostic: the vectorised call with OpenBLAS at one thread
    speedup_1t: float = float("nan")


def _compare_loop(label: str, loop, vec, rounds: int, loop_calls: int) -> Vectorisation:
    """loop, vec and vec at one OpenBLAS thread (a diagnostic), alternated in the same rounds."""
    from .machine import openblas_threads

    default = openblas_threads()
    k = calibrate(vec, 0.05)[0]

    def vec_1t() -> None:
        openblas_threads(1)
        try:
            for _ in range(k):
                vec()
        finally:
            openblas_threads(default)

    def vec_batch() -> None:
        for _ in range(k):
            vec()

    fns = {"loop": loop, "vector": vec_batch}
    if default is not None:
        fns["vector 1T"] = vec_1t
    for fn in fns.values():
        fn()
    t = interleaved(fns, rounds, {"loop": loop_calls})
    per = {name: [x / (k if name != "loop" else 1) for x in v] for name, v in t.items()}
    out = Vectorisation(label, median(per["loop"]), median(per["vector"]), paired_ratio(per["loop"], per["vector"]))
    if "vector 1T" in per:
        out.vector_1t_s, out.speedup_1t = median(per["vector 1T"]), paired_ratio(per["loop"], per["vector 1T"])
    return out


def dot_loop_vs_np_dot(rounds: int, n: int = 1_000_000) -> Vectorisation:
    """The course notes' demo: c += a[i] * b[i] in a Python loop vs np.dot(a, b), n float64 each."""
    rng = np.random.default_rng(0)
    a, b = rng.random(n), rng.random(n)

    def loop() -> float:
        c = 0.0
        for i in range(n):
            c += a[i] * b[i]
        return c

    return _compare_loop(f"dot of {n:,} elements: Python loop vs np.dot (float64)", loop,
                         lambda: np.dot(a, b), rounds, 1)


def layer_loop_vs_matmul(rounds: int, dtype: str, n: int = 256, n_prev: int = 784, m: int = 2048) -> Vectorisation:
    """One layer's Z = W X + b: a loop over the m example columns (W @ x + b) vs W @ X + b."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((n, n_prev)).astype(dtype)
    b = rng.standard_normal((n, 1)).astype(dtype)
    X = rng.standard_normal((n_prev, m)).astype(dtype)
    Z = np.empty((n, m), dtype=dtype)

    def loop() -> None:
        b0 = b[:, 0]
        for i in range(m):
            Z[:, i] = W @ X[:, i] + b0

    vec = lambda: W @ X + b  # noqa: E731
    loop()
    assert np.allclose(Z, vec(), rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-3)
    return _compare_loop(f"one layer, W ({n},{n_prev}) on m={m}: loop over examples (W @ x + b) vs W @ X + b ({dtype})",
                         loop, vec, rounds, 1)


# ---------------------------------------------------------------- memory growth of the verifier


@dataclass
class Growth:
    """Peak RSS (MiB) and seconds of the verifier CLI at a short and a long --iterations."""

    short_n: int
    long_n: int
    short_mib: list[float]
    long_mib: list[float]
    short_s: list[float]
    long_s: list[float]
    failures: int

    @property
    def growth_mib(self) -> float:
        return median(self.long_mib) - median(self.short_mib)

    @property
    def noise_mib(self) -> float:
        """The largest spread between repeats of the same command (0 with one repeat each)."""
        spreads = [max(v) - min(v) for v in (self.short_mib, self.long_mib) if len(v) > 1]
        return max(spreads, default=0.0)


GROWTH_TOLERANCE_MIB = 1.0


def rss_growth(short_n: int = 100, long_n: int = 2000, long_repeats: int = 1) -> Growth:
    """Peak RSS of `python -m verify --arch 3,4,4,1 --no-tensorboard --iterations N` for a short and a
    long N, alternated: short, long, short[, long, short ...]; the short run (cheap) is repeated once
    more than the long one, which also gives the run-to-run noise of the peak."""
    def cmd(n: int) -> list[str]:
        return [sys.executable, "-m", "verify", "--arch", "3,4,4,1", "--no-tensorboard", "--iterations", str(n)]

    g = Growth(short_n, long_n, [], [], [], [], 0)
    order = [short_n] + [long_n, short_n] * long_repeats
    for n in order:
        r = run_child(cmd(n))
        (g.short_mib if n == short_n else g.long_mib).append(r.maxrss_mib)
        (g.short_s if n == short_n else g.long_s).append(r.seconds)
        g.failures += r.returncode != 0
    return g
