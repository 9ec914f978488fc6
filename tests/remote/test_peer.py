"""Calls between two peers (verify/remote/peer.py), here over pipes between two threads: results, calls back
into the caller while a call runs, exceptions with their type and lines, arguments changed in place, and a peer
that breaks the protocol."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from verify.remote import peer as peer_module
from verify.remote.peer import Lost, Peer, Remote


class Learner:
    """What the learner's side exports: its functions, one calling back a function it is handed."""

    def forward(self, X, parameters):
        return parameters["W"] @ X, (X, parameters["W"])

    def loop(self, step, n):
        return [step(i) for i in range(n)]

    def update(self, parameters, rate):
        parameters["W"] -= rate  # the course's update_parameters writes into the dict it is handed
        parameters["new"] = np.ones(1)
        return parameters

    def broken(self, Z):
        return Z @ Z  # shapes that do not align

    def calls_back(self, function):
        return function()


@pytest.fixture
def peers():
    """The judge's peer, and a Remote of the learner's exports, served by a thread."""
    judge_in, learner_out = os.pipe()
    learner_in, judge_out = os.pipe()
    learner = Peer(learner_in, learner_out)
    learner.export(Learner())
    serving = threading.Thread(target=lambda: pytest.raises(Lost, learner.serve), daemon=True)
    serving.start()
    judge = Peer(judge_in, judge_out)
    yield judge, Remote(judge, 1)
    os.close(judge_out)
    serving.join(5)
    assert not serving.is_alive()  # the judge's end of file ends the learner's loop
    for fd in (judge_in, learner_in, learner_out):
        os.close(fd)


def test_a_call_returns_its_values_and_a_callback_runs_on_the_callers_side(peers):
    judge, learner = peers
    W = np.arange(6.0).reshape(2, 3)
    Z, cache = learner.forward(np.ones((3, 4)), {"W": W})
    assert np.array_equal(Z, W @ np.ones((3, 4))) and np.array_equal(cache[1], W)
    here = threading.get_ident()
    seen = []
    assert learner.loop(lambda i: seen.append(threading.get_ident()) or i * i, 3) == [0, 1, 4]
    assert seen == [here] * 3  # each step ran in the judge's thread, called back while the loop waited


def test_an_argument_changed_in_place_is_changed_in_the_callers_copy(peers):
    _, learner = peers
    W = np.ones((2, 2))
    parameters = {"W": W, "b": np.zeros(2)}
    returned = learner.update(parameters, 0.5)
    assert parameters["W"] is W and np.array_equal(W, np.full((2, 2), 0.5))  # the same array, written into
    assert list(parameters) == ["W", "b", "new"] and list(returned) == ["W", "b", "new"]
    untouched = {"W": np.ones(2)}
    learner.forward(np.ones(2), untouched)
    assert np.array_equal(untouched["W"], np.ones(2))


def test_an_exception_crosses_with_its_type_and_the_learners_lines(peers):
    _, learner = peers
    with pytest.raises(ValueError, match="matmul") as raised:
        learner.broken(np.ones((2, 3)))
    frames = raised.value.remote_frames
    assert frames[-1].name == "broken" and frames[-1].line == "return Z @ Z  # shapes that do not align"
    assert frames[-1].filename == __file__


def test_the_callers_own_exception_comes_back_as_itself(peers):
    """A stand-in's exception raised inside the learner's loop reaches the judge as the very object raised."""
    _, learner = peers

    class Stop(Exception):
        pass

    stop = Stop("the judge's")

    def step():
        raise stop

    with pytest.raises(Stop) as raised:
        learner.calls_back(step)
    assert raised.value is stop


def test_a_learner_that_breaks_the_protocol_ends_the_run_with_one_line():
    judge_in, learner_out = os.pipe()
    learner_in, judge_out = os.pipe()
    os.write(learner_out, peer_module.HEADER.pack(5, 0) + b"[1, 2")  # not JSON
    judge = Peer(judge_in, judge_out, lost=lambda why: f"the learner's process {why}")
    with pytest.raises(Lost, match="the learner's process it sent a malformed message"):
        Remote(judge, 1)()
    with pytest.raises(Lost, match="malformed message"):  # and every call after
        Remote(judge, 1)()
    os.close(learner_out)
    for fd in (judge_in, learner_in, judge_out):
        os.close(fd)


def test_a_learner_that_claims_a_huge_message_is_refused_before_it_is_read():
    judge_in, learner_out = os.pipe()
    learner_in, judge_out = os.pipe()
    os.write(learner_out, peer_module.HEADER.pack(10, 2**40))
    judge = Peer(judge_in, judge_out)
    with pytest.raises(Lost, match="a message of 1048576 MiB"):
        Remote(judge, 1)()
    for fd in (judge_in, learner_in, judge_out, learner_out):
        os.close(fd)
