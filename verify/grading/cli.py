"""`python -m verify grade PATH... [options]`: every submission verified in a process of its own, the results in
one gradebook, then the exports staff hand on (a CSV, a feedback file per submission, a class summary).

Every option of a single run (--arch, --iterations, --api, ...) applies to each submission; --impl and --json are
the grader's to set. Submissions whose content is already in the gradebook are skipped (--regrade grades them
again), so a run stopped midway resumes where it stopped: each result is committed as it arrives, by this process
alone. Exit status: 0 when every submission graded passes, 1 when any fails or has no verdict, 2 for bad usage,
128 + the signal's number when interrupted (130 for Ctrl-C; what was graded is kept, the running children stopped).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from .. import signals
from ..cli import config_from_args
from ..cli_options import OneLineParser, build_parser
from ..config import check_flags
from ..errors import UsageError
from ..telling.output_paths import check_output
from . import exports, isolate, summary, warm
from .gradebook import Gradebook
from .records import Graded
from .submissions import Submission, find

GRADER_OWN = ("--impl", "--json", "--logdir", "--name")  # set per submission by the grader, or not used
MAX_TIMEOUT_S = 7 * 24 * 3600.0  # a week: a limit the child's CPU rlimit (an integer) can hold


def build_grade_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m verify grade",
        description=__doc__.split("\n\n")[0],
        epilog="Any option of a single run (python -m verify --help) is passed on to every submission's run.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="submissions: notebooks, .py files, folders, globs")
    parser.add_argument(
        "--out",
        default="grades",
        help="the folder of what the run writes: the gradebook, the CSV, feedback/ with a file per submission, "
        "summary.md and summary.svg (default: %(default)s)",
    )
    parser.add_argument("--db", help="the gradebook (SQLite) (default: OUT/gradebook.sqlite)")
    parser.add_argument("--csv", help="the CSV export (default: OUT/grades.csv)")
    parser.add_argument("--timeout", type=float, default=60.0, help="wall seconds per submission (default: 60)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    parser.add_argument("--regrade", action="store_true", help="grade again what the gradebook already holds")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT) instead of local workers",
    )
    return parser


def main(argv: Sequence[str]) -> int:
    with signals.caught():  # Ctrl-C, SIGTERM, SIGHUP: raised here, so that the children are stopped (below)
        return _main(argv)


def _main(argv: Sequence[str]) -> int:
    try:
        grade_argv, options = split_options(argv)
        args = build_grade_parser().parse_args(grade_argv)
        graded_with = _check(args, options)
        # a submission's digest names the options it is graded with too: a rerun with other options grades it again
        submissions = [replace(s, digest=_with(s.digest, graded_with)) for s in find(args.paths)]
        out = Path(args.out)
        _make_folder(out)
        args.db, args.csv = args.db or str(out / "gradebook.sqlite"), args.csv or str(out / "grades.csv")
        _check_csv(args.csv, args.db, submissions)  # before any grading: a mistyped path costs a line, not the run
        with Gradebook(args.db) as book:
            todo = [s for s in submissions if args.regrade or not book.graded(s.name, s.digest)]
            _say(
                f"grading {len(todo)} of {len(submissions)} submissions ({len(submissions) - len(todo)} already graded)"
            )
            limits = isolate.Limits(wall=args.timeout)
            # tqdm draws the bar only on a terminal (disable=None): in a log the lines alone say the progress
            with tqdm(
                total=len(todo), unit="submission", file=sys.stderr, disable=None, leave=False, mininterval=0
            ) as bar:  # redrawn at every result: results are seconds apart
                recorded = _recorder(book, len(todo), bar)
                if args.scheduler:
                    from .cluster import grade_on

                    grade_on(args.scheduler, todo, options, limits, recorded)
                else:
                    _grade_all(todo, options, limits, args.workers, recorded)
            rows = [row for row in book.rows() if row.path in {s.name for s in submissions}]
        _export(rows, args)
    except UsageError as error:
        print(f"verify grade: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        isolate.stop_all()
        _say("interrupted: what was graded is in the gradebook; run the same command again to go on")
        return stop.status if isinstance(stop, signals.Interrupted) else 130
    return 0 if all(row.verdict == "pass" for row in rows) else 1


def split_options(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """argv as (the grader's: its options and the PATHs, the single run's options with their values), in any
    order: each option of a single run takes its value with it (`--arch 3,4,4,1`), so that no value is taken for a
    PATH and no PATH for a value."""
    single = build_parser()._option_string_actions
    grader = build_grade_parser()._option_string_actions
    own: list[str] = []
    passed: list[str] = []
    items = list(argv)
    while items:
        item = items.pop(0)
        name = item.split("=", 1)[0]
        if name in single and name not in grader:
            passed.append(item)
            if "=" not in item and single[name].nargs != 0 and items:
                passed.append(items.pop(0))
        else:
            own.append(item)
    return own, passed


def _check(args: argparse.Namespace, options: list[str]) -> str:
    """UsageError for a grader's own option among the single run's, for a bad one (as a single run checks its
    options before it loads the implementation), or a bad limit; else the options' settings, in a canonical form
    (their order, and how each is spelt, left out)."""
    own = [o for o in options if o.split("=")[0] in GRADER_OWN]
    if own:
        raise UsageError(f"{own[0].split('=')[0]} is set by the grader for each submission; leave it out")
    if not (0 < args.timeout < MAX_TIMEOUT_S) or args.workers < 1:
        raise UsageError(f"--timeout must be above 0 and below {MAX_TIMEOUT_S:g} s, and --workers at least 1")
    try:
        config = config_from_args(build_parser().parse_args([*options, "--impl", "submission.py"]))
        check_flags(config)
    except UsageError as error:
        raise UsageError(f"a single run's option is wrong: {error}") from None
    return repr(sorted(vars(replace(config, impl=None, progress=False)).items()))


def _make_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: it is a file; give the folder the grades go to (it is made if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"--out {out}: cannot make the folder ({error.strerror or error})") from None


def _check_csv(path: str, db: str, submissions: list[Submission]) -> None:
    """UsageError where the CSV would replace a submission, a helper file or the gradebook, or cannot be written."""
    reads = [(str(s.path), "a submission") for s in submissions]
    reads += [(str(helper), "a submission's helper file") for s in submissions for helper in s.helpers]
    check_output("--csv", path, [*reads, (db, "the gradebook")], "the CSV", "grades.csv")


def _with(digest: str, settings: str) -> str:
    return hashlib.sha256(f"{digest}\0{settings}".encode()).hexdigest()


def _recorder(book: Gradebook, total: int, bar) -> Callable[[Graded], None]:
    """What happens to each result, in this process: recorded in the gradebook, a line said above the progress
    bar, the bar moved on (its counts of pass, fail and error beside it)."""
    started, done = time.perf_counter(), 0
    counts = dict.fromkeys(("pass", "fail", "error"), 0)

    def recorded(graded: Graded) -> None:
        nonlocal done
        book.record(graded)
        done += 1
        counts[graded.verdict] += 1
        bar.write(_progress(graded, done, total, time.perf_counter() - started), file=sys.stderr)
        bar.set_postfix(counts, refresh=False)
        bar.update()

    return recorded


def _grade_all(todo: list[Submission], options: list[str], limits, workers: int, recorded) -> None:
    """Each submission graded by a local worker; each result handed to `recorded` as it arrives, by this thread."""
    if todo and warm.available():
        warm.start_server()  # by this thread: the server lives as long as this process (preload.py)
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        running: set[Future] = {pool.submit(isolate.grade, s, options, limits) for s in todo}
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                recorded(future.result())
    except BaseException:  # Ctrl-C: the running children killed, their threads return at once; nothing recorded
        isolate.stop_all()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()


def _progress(graded: Graded, done: int, total: int, elapsed: float) -> str:
    left = elapsed / done * (total - done)
    what = graded.verdict.upper() + (f" ({graded.error})" if graded.error else "")
    failed = [name for name, status in graded.functions.items() if status == "FAIL"]
    return (
        f"[{done}/{total}] {graded.path}: {what}"
        + (f" {', '.join(failed)}" if failed else "")
        + f"  {graded.seconds:.1f} s; about {left:.0f} s left"
    )


def _export(rows: list[Graded], args: argparse.Namespace) -> None:
    out = Path(args.out)
    exports.write_csv(rows, args.csv)
    exports.write_feedback(rows, out / "feedback")
    tally = summary.summary(rows)
    summary.write_summary_markdown(tally, out / "summary.md")
    summary.write_summary_chart(tally, out / "summary.svg")
    counts = {v: sum(row.verdict == v for row in rows) for v in ("pass", "fail", "error")}
    _say(
        f"{len(rows)} submissions: {counts['pass']} pass, {counts['fail']} fail, {counts['error']} error; "
        f"gradebook {args.db}, CSV {args.csv}, feedback, summary.md and summary.svg in {out}/"
    )


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


__all__ = ["build_grade_parser", "main", "split_options"]
