"""Function by function: each course function the module defines, on its own, against torch.

Before the network checks, every course function the implementation defines gets seeded
random inputs of the course's shapes (n[l-1] = 4, n[l] = 3, m = 5: no two alike, so a
transposed matrix cannot pass; Z with exact zeros, so relu'(0) is checked; a random upstream
gradient, so a backward function is not judged only where the cost's gradient happens to be
small) and its outputs are compared, one by one, with torch's (torch_ref/steps.py). The first
wrong output names the slip where it lives: `linear_backward`'s db, not the network's db1.
Initialisers have no torch counterpart: their shapes, dtypes, zero biases, scale and
symmetry breaking are checked against the course's rules.

This module runs the checks and records their results; the checks live by kind in unit_steps.py (forward,
backward, costs, updates), unit_initialisers.py and unit_optimisers.py, on unit_harness.py's inputs and comparisons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .. import catalogue
from ..config import Config
from ..errors import ImplementationError
from ..judging import conv_hints, rnn_hints
from .unit_charlm import CHARLM_CHECKS
from .unit_conv import CONV_CHECKS
from .unit_course2 import COURSE2_CHECKS
from .unit_gradcheck import GRADCHECK_CHECKS
from .unit_harness import CACHE_ORDER, N_PREV, NOTHING, M, N, Unit, Wrong
from .unit_initialisers import INITIALISER_CHECKS
from .unit_lstm import LSTM_CHECKS
from .unit_optimisers import OPTIMISER_CHECKS
from .unit_pool import POOL_CHECKS
from .unit_rnn import RNN_CHECKS
from .unit_steps import STEP_CHECKS

# APIs whose functions are checked in their own modules alone: their names mean other functions elsewhere
OWN_ONLY = ("gradcheck", "conv", "rnn", "charlm")
# APIs of which only their own functions are checked, with the course functions those call and an option's that the
# network runs: their helper files define other APIs' names, course code as given (the language model's utils.py:
# initialize_parameters(n_a, n_x, n_y), update_parameters of its own keys; the recurrent notebook's rnn_utils.py: an
# update_parameters_with_adam keyed W1, b1, ..., which never runs: that network's updates are scratch's)
ALONE = ("charlm", "rnn")

__all__ = ["CHECKS", "M", "N", "N_PREV", "UnitResult", "check_functions", "each_function_checked", "unfinished"]


@dataclass
class UnitResult:
    """One course function's check: ok, or its first wrong output and what the numbers suggest."""

    function: str
    status: str = "ok"  # ok or FAIL
    output: str = ""  # the first wrong output: "db", "cache", "dw", ...
    detail: str = ""  # how it differs
    hint: str = ""
    follows: str = ""  # a course function it calls that failed first
    in_network: bool = True  # whether the network checks run it (not an unused initialiser or optimiser)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def fix(self) -> str:
        """'fix `linear_backward`: its db differs (it is m = 5 times the expected value: a missing 1/m)'."""
        why = self.hint or self.detail
        return f"fix `{self.function}`: " + (f"its {self.output} differs ({why})" if self.output else why)

    def as_dict(self) -> dict:
        return {
            "function": self.function,
            "status": self.status,
            "output": self.output,
            "detail": self.detail,
            "hint": self.hint,
            "follows": self.follows,
            "in_network": self.in_network,
        }


def check_functions(impl, config: Config) -> list[UnitResult]:
    """Every course function `impl.module` defines, checked on its own, in the course's order, in config's dtype
    and relative tolerance, its inputs drawn from config's seed.

    config's init impl: the network starts from the implementation's initialiser (its API's own), which is then in
    the network. Its optimizer and decay: their functions are in the network (its mini-batches are the verifier's
    own); its lambd: the regularised cost is.
    """
    return list(each_function_checked(impl, config))


def each_function_checked(impl, config: Config) -> Iterator[UnitResult]:
    """check_functions' results one at a time, each as soon as it is known (a run stopped midway keeps them)."""
    dtype, rtol, seed = config.dtype, config.relative_tolerance, config.seed
    results: dict[str, UnitResult] = {}
    for function, check in _checks_for(impl, config):
        if not callable(getattr(impl.module, function, None)):
            continue
        entry = catalogue.by_name(function, impl.API)
        if not entry.check:  # in this API, a function of the course's helper files: the network checks run it
            continue
        if not set(entry.family) & set(impl.families) and set(entry.family) & set(OWN_ONLY):  # scratch's gradient_check
            continue
        if entry is not next(f for f in catalogue.checked() if f.name == function):  # another API's of that name
            check = BY_MODULE[entry.check][function]
        unit = Unit(impl, function, dtype, rtol, seed)
        result = UnitResult(function)
        try:
            with np.errstate(all="ignore"):
                result.detail = check(unit) or ""  # a check may say something of a function that passed
        except Wrong as wrong:
            result.status, result.output, result.detail, result.hint = "FAIL", wrong.output, wrong.detail, wrong.hint
        except ImplementationError as error:
            result.status, result.detail = "FAIL", str(error).removeprefix(function).lstrip(": ")
            result.hint = _hint_for_raise(function, error)
        # a function that calls another course function fails with it: it is marked, not blamed
        failed_calls = [f for f in entry.calls if f in results and not results[f].ok]
        if not result.ok and failed_calls:
            result.follows = failed_calls[0]
        result.in_network = _in_network(entry, config, impl)
        results[function] = result
        if not _left_unfinished(impl, result, results):
            yield result


def _left_unfinished(impl, result: UnitResult, results: dict[str, UnitResult]) -> bool:
    """Whether `result` is of a function the course leaves optional (a step-by-step notebook's backward pass) that
    the learner left unfinished: its check met an exercise's `= None` (or a block left empty), or it failed with
    the unfinished optional function it calls. Such a function is set aside, as one the notebook does not define:
    not checked, a note says so, and scratch's stands in for it in the network."""
    if result.ok or result.function not in getattr(impl, "OPTIONAL", ()):
        return False
    if result.follows:  # failed with a function it calls: set aside only with an optional one set aside
        if result.follows in impl.unfinished:
            impl.set_aside(result.function, f"calls {result.follows}")
        return result.follows in impl.unfinished
    if not (unfinished(result.detail) or NOTHING in result.detail):
        return False
    impl.set_aside(result.function, result.detail)
    return True


def _checks_for(impl, config: Config) -> list[tuple[str, Callable[[Unit], str | None]]]:
    """(function, its check) in the catalogue's order: every course function's, or an ALONE API's own, the course
    functions those call, and those of an optional family its run's options put in its network (--optimizer's)."""
    if impl.API not in ALONE:
        return list(CHECKS.items())
    own = [f for f in catalogue.checked() if impl.API in f.family]
    called = {name for f in own for name in f.calls}
    return [
        (f.name, BY_MODULE[f.check][f.name])
        for f in catalogue.checked()
        if f in own or f.name in called or (set(f.family) & set(catalogue.OPTIONAL) and _in_network(f, config, impl))
    ]


def _in_network(entry: catalogue.CourseFunction, config: Config, impl) -> bool:
    """Whether the network checks run the function: an initialiser only as --init impl's (its API's own), an
    optional family's function only when its option asks for it (its --optimizer, its --decay, the --lambd or
    --keep-prob it needs; random_mini_batches never: the run's mini-batches are the verifier's own)."""
    if not impl.NETWORK:  # an API with no network to check (impl/gradcheck.py), or checks of its own (impl/charlm.py)
        return entry.name in impl.OWN_CHECKED
    if entry.role == "initialiser":
        return config.init == "impl" and entry.name == impl._initialiser()
    if entry.needs:  # lambd, keep_prob: L2's and dropout's functions
        return bool(getattr(config, entry.needs))
    if (entry.optimizer or entry.decay) and impl.UPDATES_BY_SCRATCH:  # a helper file's, never run: scratch's step
        return False
    if not set(entry.family) & set(catalogue.OPTIONAL):
        return True
    return bool(
        (entry.optimizer and entry.optimizer == config.optimizer) or (entry.decay and entry.decay == config.decay)
    )


def _hint_for_raise(function: str, error: ImplementationError) -> str:
    text = str(error)
    if NOTHING in text:  # the detail says what None can be; it has no shape to put right
        return ""
    family = catalogue.by_name(function).family
    if "conv" in family:  # the convolution notebook's: slices and sizes (n_H left None among them), no linear cache
        return conv_hints.raise_hint(function, text) or unfinished(text)
    if left := unfinished(text):  # not a shape slip, whatever the message's words (None.shape, None - 1.0)
        return left
    if "rnn" in family:  # the recurrent notebook's: its products' shapes, a db added over the steps
        return rnn_hints.raise_hint(function, text)
    if "charlm" in family and "must be 1-dimensional" in text:  # np.random.choice(vocab_size, p=y), y (27, 1)
        return "np.random.choice takes p as a 1-D array of probabilities: p = y.ravel(), not the (vocab_size, 1) y"
    if "values to unpack" in text and function == "linear_activation_forward":  # a relu returning A alone: its rows
        return (
            "an unpacking error: linear_activation_forward unpacks what linear_forward returns (Z, linear_cache) and "
            "what sigmoid and relu return (A, activation_cache), as the course's do; one returning A alone has its "
            "rows unpacked"
        )
    if any(word in text for word in ("shape", "aligned", "broadcast", "dimension")):
        if "could not be broadcast together" in text:  # an element-wise operation, not a matrix product
            if catalogue.by_name(function).needs == "keep_prob":
                return "a shape error in an element-wise product: each layer's A and dA are masked with D of that layer"
            return (
                "a shape error in an element-wise operation (*, +, -): its two arrays must be of one layer, one shape "
                "(check the order the cache is unpacked in); a matrix product is np.dot, not * (Z = np.dot(W, A_prev) + "
                "b, dA_prev = np.dot(W.T, dZ))"
            )
        if "logreg" in family:  # week 2's w is a column: its notation, not week 4's W (n[l], n[l-1])
            return (
                "a shape error: w is (n_x, 1), a column, so A = sigmoid(np.dot(w.T, X) + b) and "
                "dw = np.dot(X, (A - Y).T) / m"
            )
        if "backward" in function and "deep" in family:  # week 4's tuples; week 3's cache is a dict
            return f"a shape error: check the order the cache is unpacked in ({CACHE_ORDER}) and each transpose"
        if "backward" in function:
            return "a shape error: check each product's order and transposes, dW = dZ A_prev^T / m, dA_prev = W^T dZ"
        return "a shape error: check each product's order and transposes, Z = W A_prev + b with W (n[l], n[l-1])"
    return ""


def unfinished(text: str) -> str:
    """What an exception that reads a value left None, or a local never assigned, says of an exercise left undone."""
    if "NoneType" in text:  # None.shape, None[...], None - 1.0, a, b = None: not a shape slip
        return (
            "a value is None where an array is read: an exercise's `= None` placeholder left, or a call of a function "
            "that returns nothing"
        )
    unassigned = re.search(r"local variable '(\w+)' (?:where it is not associated|referenced before)", text)
    if unassigned:  # Python 3.11's words, then 3.10's
        return f"`{unassigned.group(1)}` is read before any line assigns it: an exercise's block left empty"
    return ""


BY_MODULE: dict[str, Mapping[str, Callable[[Unit], str | None]]] = {
    "unit_initialisers": INITIALISER_CHECKS,
    "unit_steps": STEP_CHECKS,
    "unit_optimisers": OPTIMISER_CHECKS,
    "unit_course2": COURSE2_CHECKS,
    "unit_gradcheck": GRADCHECK_CHECKS,
    "unit_conv": CONV_CHECKS,
    "unit_pool": POOL_CHECKS,
    "unit_rnn": RNN_CHECKS,
    "unit_lstm": LSTM_CHECKS,
    "unit_charlm": CHARLM_CHECKS,
}


def checks() -> dict[str, Callable[[Unit], str | None]]:
    """Every course function's check, in the catalogue's order (the course's: a function before those that call
    it), taken from its unit module's checks; a name checked in two APIs (forward_propagation: week 3's and the
    gradient checking notebook's) has its first entry's here, and each_function_checked takes the other's from
    BY_MODULE."""
    found: dict[str, Callable[[Unit], str | None]] = {}
    for f in catalogue.checked():
        found.setdefault(f.name, BY_MODULE[f.check][f.name])
    return found


CHECKS = checks()
