"""python -m benchmarks [--quick] [--only PART] [--out PATH]: scratch against torch_ref, and the verifier's own cost."""

from __future__ import annotations

import os

from verify._startup import thread_pools_wait_briefly

# The thread pools wait as under `python -m verify`, set before NumPy and torch load, so the figures measure
# what the command runs; a user's own setting wins.
thread_pools_wait_briefly()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, replace  # noqa: E402

from verify import Config  # noqa: E402

from . import conv, convnet, grading, learner, machine, memory, report, rnn, steps, verifier  # noqa: E402

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
PARTS = ("steps", "conv", "rnn", "memory", "cold_start", "overhead", "learner", "growth", "grading")
GROWTH = Config(arch=(3, 4, 4, 1), tensorboard=False, progress=False)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: fewer rounds, repeats and iterations, no 1024,1024,1024,1, memory on one cell",
    )
    parser.add_argument("--only", choices=PARTS, help="measure only this part (default: all of them, in this order)")
    parser.add_argument(
        "--out",
        help="the file to write (default: benchmarks/RESULTS.md for the full suite; a --quick or --only run only "
        "prints its results, and the committed full run stays)",
    )
    args = parser.parse_args(argv)
    if args.out is None and not args.quick and args.only is None:
        args.out = DEFAULT_OUT
    quick, started = args.quick, time.perf_counter()
    plan = steps.QUICK if quick else steps.FULL
    entries = steps.ENTRIES[:-1] if quick else steps.ENTRIES  # --quick leaves out the slowest network
    r = {
        "command": " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)]),
        "quick": quick,
        "machine": machine.machine(steps.same_threads()),
        "plan": {**asdict(plan), "learning_rate": steps.LEARNING_RATE},
    }

    def measure(title: str, part: str, work, key: str | None = None) -> None:
        """r[key] (the part's name unless given) = work(), unless --only names another part."""
        if args.only not in (None, part):
            return
        log(f"{title} ...")
        r[key or part] = work()
        if part not in ("steps", "conv", "rnn"):  # the step, conv and rnn suites log each cell as it goes
            log(f"  {r[key or part]}")

    measure("step time, scratch against torch_ref", "steps", lambda: steps.run_steps(plan, entries, log))
    measure("conv layer step, scratch against torch_ref", "conv", lambda: conv.run_conv(plan, conv.CASES, log))
    measure(
        "conv network step, scratch against torch_ref",
        "conv",
        lambda: convnet.run_networks(plan, convnet.NETWORKS, log),
        key="conv_network",
    )
    measure("recurrent layer step, scratch against torch_ref", "rnn", lambda: rnn.run_rnn(plan, rnn.CASES, log))
    cells = [replace(c, dtype=d) for d in steps.DTYPES for c in entries]
    cells = [c for c in cells if c.arch == (784, 256, 128, 10)][:1] if quick else cells
    measure("peak memory of a step", "memory", lambda: [memory.step_memory(cell) for cell in cells])
    measure("cold start", "cold_start", lambda: verifier.cold_start(1 if quick else 5))
    measure(
        "verifier overhead",
        "overhead",
        lambda: verifier.overhead(replace(verifier.OVERHEAD, iterations=5 if quick else 50), 1 if quick else 3),
    )
    measure(
        "a learner's run: the course's image classifier verified, against its own training",
        "learner",
        lambda: learner.run_learner(*((50, 5) if quick else (learner.CLASSIFIER.iterations, learner.ISOLATED))),
    )
    measure(
        "verifier memory against --iterations",
        "growth",
        lambda: memory.growth(GROWTH, *((10, 50) if quick else (100, 2000))),
    )

    measure(
        "grading throughput: local workers and a Dask LocalCluster",
        "grading",
        lambda: grading.run_grading(*((2, 1) if quick else (8, 3)), log=log),
    )

    r["seconds"], r["machine"]["load_end"] = time.perf_counter() - started, os.getloadavg()[0]
    r["machine"]["others"] = machine.others(r["machine"].pop("cpu_times_start"), machine.cpu_times())
    text = report.render(report.summarise(r))
    print(text)
    if args.out is not None:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
