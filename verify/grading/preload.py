"""What the grader's fork server imports once, before it forks a child per submission (warm.py): numpy, torch
and the verifier, the bulk of a run's start-up. The server dies with the grader's thread that started it (its main
thread: warm.start_server), so a grader killed with SIGKILL leaves no server, and so no child, running: each child
dies with the server (child.limit)."""

import numpy  # noqa: F401
import torch  # noqa: F401

import verify.cli  # noqa: F401
import verify.grading.child  # noqa: F401
import verify.runner  # noqa: F401
from verify.signals import die_with_parent

die_with_parent()  # (where the grader is gone already, the server ends here)
