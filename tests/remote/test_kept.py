"""The large arrays each side keeps (verify/remote/kept.py): equal bytes found, a different byte anywhere told
apart, and a sender that asks the receiver to keep more than its budget refused."""

from __future__ import annotations

import numpy as np
import pytest

from verify.remote import kept
from verify.remote.wire import WireError


@pytest.mark.parametrize("where", [0, 1000, 200_000, -1])  # in the first bytes, the first piece, a later one, the last
def test_one_different_element_anywhere_makes_two_arrays_different(where):
    a = np.random.default_rng(0).standard_normal(300_000)  # 2.4 MB: three pieces
    b = a.copy()
    assert kept.same_bytes(a, b)
    b[where] = np.nextafter(b[where], np.inf)
    assert not kept.same_bytes(a, b)


def test_bytes_are_compared_not_values():
    a = np.array([np.nan, 0.0, 1.0, 2.0, 3.0])
    assert kept.same_bytes(a, a.copy())  # a NaN is its own bits
    assert not kept.same_bytes(a, np.array([np.nan, -0.0, 1.0, 2.0, 3.0]))  # -0.0 == 0.0, but not its bytes
    odd = np.arange(9, dtype=np.uint8)
    assert kept.same_bytes(odd, odd.copy()) and not kept.same_bytes(odd, odd[::-1].copy())


def test_the_sender_finds_equal_bytes_in_another_array_and_keeps_only_what_it_sent():
    sent = kept.Sent()
    X = np.random.default_rng(1).standard_normal((100, 200))
    assert sent.find(X) is None and sent.keep(np.ones(10)) is None  # too small to keep
    token = sent.keep(X)
    assert sent.find(X) is None  # not kept until its message is sent
    assert sent.commit() == [] and sent.find(X.copy()) == token and sent.find(X.T.copy()) is None
    X[0, 0] += 1  # the sender's copy is its own
    assert sent.find(X) is None
    sent.keep(X)
    sent.abandon()
    assert sent.commit() == [] and sent.find(X) is None


def test_the_receiver_keeps_its_own_copy_and_refuses_a_token_or_a_size_it_was_not_given(monkeypatch):
    received = kept.Received()
    array = np.arange(20_000.0)
    received.keep(3, array)
    array[0] = -1.0  # the message's bytes, handed to the callee
    assert np.array_equal(received.get(3), np.arange(20_000.0))
    with pytest.raises(WireError, match="nothing kept"):
        received.get(4)
    with pytest.raises(WireError, match="malformed token"):
        received.keep(3, array)  # a token already kept
    monkeypatch.setattr(kept, "KEPT_BYTES", 200_000)
    received.keep(5, array)
    with pytest.raises(WireError, match="more than"):
        received.forget([])  # 320 kB kept, nothing forgotten
    received.forget([3])
    assert np.array_equal(received.get(5)[1:], array[1:])
