"""One submission's run, in the child process the grader starts for it (isolate.py): `python -m
verify.grading.child CPU MEMORY PROCESSES OUTPUT ARGS...`, ARGS the single run's options with --impl, run in the
submission's private folder.

It is the judge: its ARGS carry --isolate, so the submission's code runs in a process of its own that it starts
(verify/remote) and reaches only through data. It first sets its resource limits (seconds of CPU, bytes of address
space, processes of this user, bytes of any file written; no core dumps), soft and hard alike so that nothing run
later can raise them, and the learner's process inherits them. Then it writes report.json (the JSON report), report.md (the markdown
report, for the learner) and verdict.txt (the report's opening lines, the verdict first) in its folder and exits 0
(agrees), 1 (disagrees) or 2 with one line on stderr (a usage error: a notebook the verifier cannot use).
"""

from __future__ import annotations

import ctypes
import json
import resource
import sys
from collections.abc import Sequence

from ..signals import die_with_parent

REPORT, FEEDBACK, VERDICT = "report.json", "report.md", "verdict.txt"
PR_SET_DUMPABLE = 4  # prctl(2)
LIMITS = (resource.RLIMIT_CPU, resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE)


def limit(values: Sequence[int]) -> None:
    """Each of LIMITS at its value (CPU, address space, processes, file size), soft and hard; core dumps off; and
    this process killed when the grader's thread that started it ends (a grader killed with SIGKILL leaves no
    submission running: Linux's PR_SET_PDEATHSIG); and (PR_SET_DUMPABLE 0) its memory, descriptors and environment
    closed to other processes of the same user: the learner's process (--isolate) cannot read or write the judge's.
    The limits pass to the learner's process, which this one starts."""
    for kind, value in zip(LIMITS, values):
        resource.setrlimit(kind, (value, value))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    die_with_parent()
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0)


def main(argv: Sequence[str]) -> int:
    limit([int(value) for value in argv[: len(LIMITS)]])
    from ..cli import config_from_args
    from ..cli_options import build_parser
    from ..errors import UsageError

    try:
        config = config_from_args(build_parser().parse_args(argv[len(LIMITS) :]))
        from ..runner import run

        report = run(config)
    except UsageError as error:
        print(f"verify: error: {error}", file=sys.stderr)
        return 2
    for name, text in (
        (FEEDBACK, report.to_markdown()),
        (VERDICT, "\n".join(report.verdict_lines())),
        (REPORT, json.dumps(report.as_dict())),  # last: its presence says the others are whole
    ):
        with open(name, "w", encoding="utf-8") as out:
            out.write(text)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
