"""The data-only encoding (verify/remote/wire.py): what the learner's code returns crosses whole (dtypes, shapes,
containers), and a message that describes anything but data is refused, never executed."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from verify.remote import wire

HANDLES: list = []


def _handle(value):
    HANDLES.append(value)
    return [len(HANDLES), type(value).__name__]


def _roundtrip(value):
    encoder = wire.Encoder(_handle)
    tree = wire.loads(wire.dumps(encoder.tree(value)))
    return wire.Decoder(bytearray(encoder.blob()), lambda tag, content: ("handle", tag, content)).value(tree)


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int64, np.int8, np.uint32, np.bool_, np.complex128, "<U3"]
)
def test_arrays_cross_with_their_dtype_shape_and_values(dtype):
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 4, 2)) * 5
    array = values.astype(str).astype(dtype) if dtype == "<U3" else values.astype(dtype)
    for sent in (array, array.T, array[:, ::2], array[0, 0, 0:0], np.asarray(array[0, 0, 0])):
        got = _roundtrip(sent)
        assert type(got) is np.ndarray and got.dtype == sent.dtype and got.shape == sent.shape
        assert np.array_equal(got, sent) and got.flags.writeable


def test_containers_and_scalars_cross_as_they_are():
    cache = ((np.ones((2, 3)), np.zeros((3, 1))), np.full((2, 1), np.nan))
    sent = {
        "W1": np.eye(2),
        3: [1, 2.5, float("inf"), None, True, "relu"],
        ("a", 1): cache,
        "scalars": (np.float64(0.25), np.float32(1.5), np.int64(7), np.bool_(False), 1 + 2j, b"\x00\xff"),
        "others": (range(2, 9, 3), {1, 2}, frozenset({"x"})),
    }
    got = _roundtrip(sent)
    assert list(got) == ["W1", 3, ("a", 1), "scalars", "others"]
    assert got[3] == [1, 2.5, float("inf"), None, True, "relu"]
    assert type(got[("a", 1)]) is tuple and type(got[("a", 1)][0]) is tuple
    assert np.isnan(got[("a", 1)][1]).all() and got[("a", 1)][0][0].shape == (2, 3)
    scalars = got["scalars"]
    assert [type(s) for s in scalars] == [np.float64, np.float32, np.int64, np.bool_, complex, bytes]
    assert scalars[0] == 0.25 and scalars[2] == 7 and scalars[4] == 1 + 2j and scalars[5] == b"\x00\xff"
    assert got["others"] == (range(2, 9, 3), {1, 2}, frozenset({"x"}))


def test_an_array_of_python_objects_crosses_as_one_so_the_checks_can_name_it():
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.ones(2), np.ones(3)
    got = _roundtrip(ragged)
    assert got.dtype == object and got.shape == (2,) and [a.shape for a in got] == [(2,), (3,)]


def test_what_is_not_data_crosses_as_a_handle():
    def sigmoid(z):
        return z

    HANDLES.clear()
    got = _roundtrip({"f": sigmoid, "module": np, "rows": [sigmoid]})
    assert got == {
        "f": ("handle", "h", [1, "function"]),
        "module": ("handle", "h", [2, "module"]),
        "rows": [("handle", "h", [3, "function"])],
    }
    assert HANDLES == [sigmoid, np, sigmoid]


@pytest.mark.parametrize(
    "tree, blob, says",
    [
        ({"a": ["|O", [1], 0]}, b"\x00" * 8, "not data"),  # an object array's bytes would be pointers
        ({"a": ["V8", [1], 0]}, b"\x00" * 8, "not data"),
        ({"a": ["<f8", [2], 0]}, b"\x00" * 8, "past the message"),
        ({"a": ["<f8", [-1], 0]}, b"", "malformed count"),
        ({"a": ["<f8", [1], 2**40]}, b"", "malformed count"),
        ({"a": ["what", [1], 0]}, b"", "unknown dtype"),
        ({"pickle": pickle.dumps(print).hex()}, b"", "unknown tag"),
        ({"p": 0}, b"", "not the one replied to"),  # an array of a call, where this is not a reply
        ({"k": 1}, b"", "nothing is kept"),
        ({"a": ["<f8", [1], 0, 7]}, b"\x00" * 8, "malformed list"),  # a token to keep, where nothing is kept
        ({"d": [[{"l": []}, 1]]}, b"", "cannot be one"),
        ({"l": [], "t": []}, b"", "not an encoded value"),
        ({"g": [0, 5, 0]}, b"", "step 0"),
        ({"o": [[2], [1]]}, b"", "malformed list"),
        (["not", "tagged"], b"", "not an encoded value"),
    ],
)
def test_a_message_that_is_not_data_is_refused(tree, blob, says):
    decoder = wire.Decoder(blob, lambda tag, content: None)
    with pytest.raises(wire.WireError, match=says):
        decoder.value(wire.loads(wire.dumps(tree)))


def test_nesting_past_the_limit_is_refused_both_ways():
    deep: list = []
    for _ in range(wire.DEPTH + 5):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested"):
        wire.Encoder(_handle).tree(deep)
    tree: object = 1
    for _ in range(wire.DEPTH + 5):
        tree = {"l": [tree]}
    with pytest.raises(wire.WireError, match="nested"):
        wire.Decoder(b"", lambda tag, content: None).value(tree)
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.loads(b"[" * 100_000)
