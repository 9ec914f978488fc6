"""The course's public_tests.py: the checks its test cells call (here, one of them), in colour."""

import numpy as np
from termcolor import colored

from testCases import L_model_forward_test_case_2hidden


def L_model_forward_test(target):
    X, parameters = L_model_forward_test_case_2hidden()
    AL, caches = target(X, parameters)
    assert AL.shape == (1, 4) and len(caches) == 3
    print(colored("All tests passed.", "green"))
