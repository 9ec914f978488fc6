"""Calls between two peers (verify/remote/peer.py), here over pipes between two threads: results, calls back
into the caller while a call runs, exceptions with their type and lines, arguments changed in place, and a peer
that breaks the protocol."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import pytest

from verify.remote import kept, wire
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

    def double(self, A):
        A *= 2
        return A

    def total(self, A):
        return float(A.sum())

    def made(self, seed):
        return np.random.default_rng(seed).standard_normal((200, 100))

    def unsendable(self, A, deep=True):
        nested: list = []
        for _ in range(wire.DEPTH + 5 if deep else 0):
            nested = [nested]
        return (2 * A, nested) if deep else 2 * A


@pytest.fixture
def peers():
    """The judge's peer, and a Remote of the learner's exports, served by a thread."""
    judge_in, learner_out = os.pipe()
    learner_in, judge_out = os.pipe()
    learner = Peer(learner_in, learner_out)
    learner.export(Learner())

    def serve():
        with pytest.raises(Lost):
            learner.serve()
        for fd in (learner_out, learner_in):  # as the learner's process ends: the judge's reads and writes end
            os.close(fd)

    serving = threading.Thread(target=serve, daemon=True)
    serving.start()
    judge = Peer(judge_in, judge_out)
    yield judge, Remote(judge, 1)
    os.close(judge_out)
    serving.join(5)
    assert not serving.is_alive()  # the judge's end of file ends the learner's loop
    os.close(judge_in)


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


@pytest.mark.parametrize(
    "value, says",
    [
        ({"k": 1}, "a token of nothing kept"),  # a copy the judge never kept
        ({"y": 1}, "a token of nothing sent"),  # an array the judge never sent
        ({"p": 5}, "an array of a call that is not the one replied to"),  # past the call's arrays
    ],
)
def test_a_reply_naming_an_array_the_judge_does_not_have_ends_the_run_with_one_line(value, says):
    judge_in, learner_out = os.pipe()
    learner_in, judge_out = os.pipe()
    body = json.dumps({"op": "return", "value": value, "back": {"l": []}, "rng": None}).encode()
    os.write(learner_out, peer_module.HEADER.pack(len(body), 0) + body)
    judge = Peer(judge_in, judge_out)
    with pytest.raises(Lost, match=f"it sent a malformed value \\({says}"):
        Remote(judge, 1)(np.ones(3))
    for fd in (judge_in, learner_in, judge_out, learner_out):
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


@pytest.fixture
def written(monkeypatch):
    """The bytes each pipe was written, by file descriptor."""
    counts: dict[int, int] = {}
    write = os.write

    def counting(fd, data):
        done = write(fd, data)
        counts[fd] = counts.get(fd, 0) + done
        return done

    monkeypatch.setattr(peer_module.os, "write", counting)
    return counts


def test_a_large_array_sent_again_crosses_as_a_token_and_the_callee_gets_its_own_copy(peers, written):
    judge, learner = peers
    X = np.random.default_rng(0).standard_normal((200, 100))  # 160 kB: kept by both sides once sent
    W = np.ones((2, 200))
    learner.forward(X.copy(), {"W": W})
    first = written[judge._out]
    assert first > X.nbytes
    Z, _ = learner.forward(X.copy(), {"W": W})  # equal bytes in another array: its token crosses
    assert written[judge._out] - first < 10_000 and np.array_equal(Z, W @ X)
    doubled = X.copy()
    learner.double(doubled)  # the callee changes the array it was handed, not the kept copy
    assert np.array_equal(doubled, 2 * X)
    assert np.array_equal(learner.forward(X.copy(), {"W": W})[0], W @ X)


def test_a_reply_hands_back_the_callers_own_arrays_where_the_callee_left_them_as_they_were(peers, written):
    judge, learner = peers
    X, W = np.random.default_rng(1).standard_normal((2, 200, 100))
    Z, (cached_X, cached_W) = learner.forward(X, {"W": W.T.copy()})
    assert cached_X is X and np.array_equal(Z, W.T @ X)  # the very array, as in one process
    back = sum(count for fd, count in written.items() if fd != judge._out)  # the learner's replies
    assert back < Z.nbytes + 10_000  # neither X nor W crossed back
    changed = X.copy()
    returned = learner.double(changed)  # changed in place: it crosses back, and is written into the caller's
    assert np.array_equal(returned, 2 * X) and np.array_equal(changed, 2 * X)


def test_an_array_the_callee_returned_crosses_back_as_its_token(peers, written):
    """As a watched loop's stand-in hands the learner's step the gradients the learner's function returned."""
    judge, learner = peers
    made = learner.made(3)
    start = written[judge._out]
    assert learner.total(made) == float(made.sum())  # the same bytes, summed alike
    assert written[judge._out] - start < 10_000
    assert np.array_equal(learner.double(made.copy()), 2 * made)  # the callee's copy of what it sent, its own
    assert learner.total(made) == float(made.sum())  # the same bytes, summed alike


def test_what_the_sender_forgets_past_its_budget_crosses_whole_again(peers, written, monkeypatch):
    judge, learner = peers
    monkeypatch.setattr(kept, "KEPT_BYTES", 3 * 160_000)  # three of these arrays
    arrays = [np.full((200, 100), float(i)) for i in range(5)]
    for array in arrays:
        learner.total(array)
    start = written[judge._out]
    assert learner.total(arrays[4].copy()) == 4 * 20_000  # kept: a token
    assert written[judge._out] - start < 10_000
    start = written[judge._out]
    assert learner.total(arrays[0].copy()) == 0.0  # forgotten by both: whole again
    assert written[judge._out] - start > 160_000


def test_a_reply_that_cannot_cross_keeps_nothing_it_would_have_kept(peers):
    """A value the wire refuses after an array it would keep: the reply is an exception, and the next reply
    carrying that array carries it whole (were it kept by the callee's side only, its token would be refused)."""
    _, learner = peers
    X = np.random.default_rng(2).standard_normal((200, 100))
    with pytest.raises(TypeError, match="nested more than"):
        learner.unsendable(X)
    assert np.array_equal(learner.unsendable(X, deep=False), 2 * X)
