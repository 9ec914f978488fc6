"""What the grader's fork server imports once, before it forks a child per submission (warm.py): numpy, torch
and the verifier, the bulk of a run's start-up."""

import numpy  # noqa: F401
import torch  # noqa: F401

import verify.cli  # noqa: F401
import verify.grading.child  # noqa: F401
import verify.runner  # noqa: F401
