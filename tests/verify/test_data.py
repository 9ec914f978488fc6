"""verify.data.load_data: the seeded teacher data, the named datasets, .npz and .csv files.

Bad files are checked through verify.cli.main too: exit 2 and one `verify: error:` line, no traceback.
"""

from __future__ import annotations

import gc
import json
import re
import warnings

import numpy as np
import pytest
from conftest import assert_usage_error, run_cli

from verify.config import Config
from verify.data import load_data
from verify.errors import UsageError

M = 40  # examples in the files written below


# ---------------------------------------------------------------- helpers


def cli_on(capsys, path, arch="3,4,1", *extra: str):
    return run_cli(capsys, "--arch", arch, "--data", str(path), "--no-tensorboard", "--iterations", "5", *extra)


def names_both(message: str, first: int, second: int) -> bool:
    """`first` and then `second` appear in the message as whole numbers."""
    return re.search(rf"(?<![\d.]){first}(?![\d.]).*(?<![\d.]){second}(?![\d.])", message) is not None


@pytest.fixture
def xy():
    """A small binary-classification set for --arch 3,...,1, course layout."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, M))
    Y = (np.arange(M) % 2).reshape(1, M).astype(np.float64)
    return X, Y


@pytest.fixture
def xy_ce():
    """Three classes, one-hot columns, for --arch 3,...,3 with a softmax output."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, M))
    Y = np.eye(3)[:, np.arange(M) % 3]
    return X, Y


def save_csv(path, X, Y, header: bool = False):
    table = np.hstack([X.T, Y.T])  # one example per row: features, then labels
    lines = [",".join(f"{v!r}" for v in row) for row in table.tolist()]
    if header:
        lines.insert(0, ",".join([f"x{i}" for i in range(X.shape[0])] + [f"y{i}" for i in range(Y.shape[0])]))
    path.write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------- auto: the teacher dataset


@pytest.mark.parametrize(
    "arch, loss", [((3, 4, 4, 1), "bce"), ((5, 2), "bce"), ((3, 6, 3), "ce"), ((2, 4, 2), "mse"), ((4, 3, 3, 2), "bce")]
)
def test_auto_shapes(arch, loss):
    X, Y = load_data(Config(data="auto", arch=arch, loss=loss, examples=None, seed=0, dtype="float64"))
    assert X.shape == (arch[0], 200)
    assert Y.shape == (arch[-1], 200)
    X, Y = load_data(Config(data="auto", arch=arch, loss=loss, examples=37, seed=0, dtype="float64"))
    assert X.shape == (arch[0], 37)
    assert Y.shape == (arch[-1], 37)
    assert X.dtype == Y.dtype == np.float64


@pytest.mark.parametrize("arch", [(3, 4, 4, 1), (3, 5, 3), (2, 1)])
@pytest.mark.parametrize("m", [200, 50, 2])
def test_auto_bce_labels_are_balanced(arch, m):
    _, Y = load_data(Config(data="auto", arch=arch, loss="bce", examples=m, seed=0, dtype="float64"))
    assert set(np.unique(Y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(Y.sum(axis=1), np.full(arch[-1], m // 2))


def test_auto_bce_odd_m_is_nearly_balanced():
    _, Y = load_data(Config(data="auto", arch=(3, 4, 2), loss="bce", examples=51, seed=0, dtype="float64"))
    assert set(np.unique(Y)) <= {0.0, 1.0}
    assert np.all(np.abs(Y.sum(axis=1) - 25.5) <= 0.5)


@pytest.mark.parametrize("arch", [(3, 6, 3), (4, 2), (2, 8, 8, 5)])
def test_auto_ce_labels_are_one_hot(arch):
    _, Y = load_data(Config(data="auto", arch=arch, loss="ce", examples=300, seed=0, dtype="float64"))
    assert set(np.unique(Y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(Y.sum(axis=0), np.ones(300))
    assert len(np.unique(np.argmax(Y, axis=0))) >= 2  # more than one class in use


@pytest.mark.parametrize("arch", [(3, 4, 1), (2, 5, 3)])
def test_auto_mse_targets_are_standardised(arch):
    _, Y = load_data(Config(data="auto", arch=arch, loss="mse", examples=200, seed=0, dtype="float64"))
    np.testing.assert_allclose(Y.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(Y.std(axis=1), 1.0, rtol=1e-9)


def test_auto_inputs_are_standard_normal_ish():
    X, _ = load_data(Config(data="auto", arch=(4, 3, 1), loss="bce", examples=2000, seed=0, dtype="float64"))
    assert abs(X.mean()) < 0.1
    assert abs(X.std() - 1) < 0.1


@pytest.mark.parametrize("loss, arch", [("bce", (3, 4, 1)), ("ce", (3, 4, 3)), ("mse", (3, 4, 2))])
def test_auto_is_seeded(loss, arch):
    X1, Y1 = load_data(Config(data="auto", arch=arch, loss=loss, examples=100, seed=5, dtype="float64"))
    X2, Y2 = load_data(Config(data="auto", arch=arch, loss=loss, examples=100, seed=5, dtype="float64"))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    X3, Y3 = load_data(Config(data="auto", arch=arch, loss=loss, examples=100, seed=6, dtype="float64"))
    assert not np.array_equal(X1, X3)
    assert not np.array_equal(Y1, Y3)


def test_auto_honours_float32():
    X64, Y64 = load_data(Config(data="auto", arch=(3, 4, 1), loss="bce", examples=50, seed=0, dtype="float64"))
    X32, Y32 = load_data(Config(data="auto", arch=(3, 4, 1), loss="bce", examples=50, seed=0, dtype="float32"))
    assert X32.dtype == Y32.dtype == np.float32
    np.testing.assert_array_equal(X32, X64.astype(np.float32))
    np.testing.assert_array_equal(Y32, Y64)


# ---------------------------------------------------------------- named datasets


@pytest.mark.parametrize(
    "name, arch, loss, m",
    [
        ("flower", (2, 4, 1), "bce", 400),
        ("moons", (2, 5, 1), "bce", 400),
        ("xor", (2, 3, 3, 1), "bce", 400),
        ("house", (1, 8, 1), "mse", 200),
    ],
)
def test_named_dataset_loads(name, arch, loss, m):
    X, Y = load_data(Config(data=name, arch=arch, loss=loss, examples=None, seed=0, dtype="float64"))
    assert X.shape == (arch[0], m)
    assert Y.shape == (1, m)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(Y))
    if loss == "bce":
        assert set(np.unique(Y)) == {0.0, 1.0}
    X, Y = load_data(Config(data=name, arch=arch, loss=loss, examples=60, seed=0, dtype="float32"))
    assert X.shape == (arch[0], 60) and Y.shape == (1, 60)
    assert X.dtype == Y.dtype == np.float32


@pytest.mark.parametrize("name", ["flower", "moons", "xor"])
def test_named_dataset_with_wrong_inputs_names_both_numbers(name):
    with pytest.raises(UsageError) as info:
        load_data(Config(data=name, arch=(3, 4, 1), loss="bce", examples=None, seed=0, dtype="float64"))
    message = str(info.value)
    assert name in message
    assert names_both(message, 2, 3), message


def test_named_dataset_with_wrong_outputs_names_both_numbers():
    with pytest.raises(UsageError) as info:
        load_data(Config(data="house", arch=(1, 4, 2), loss="mse", examples=None, seed=0, dtype="float64"))
    assert names_both(str(info.value), 1, 2), str(info.value)


def test_house_does_not_fit_bce():
    with pytest.raises(UsageError, match="labels 0 or 1"):
        load_data(Config(data="house", arch=(1, 4, 1), loss="bce", examples=None, seed=0, dtype="float64"))


@pytest.mark.end_to_end
def test_named_dataset_mismatch_through_the_cli(capsys):
    code, out, err = run_cli(capsys, "--arch", "3,4,1", "--data", "flower", "--no-tensorboard")
    line = assert_usage_error(code, out, err)
    assert "flower" in line and names_both(line, 2, 3), line


@pytest.mark.end_to_end
def test_named_dataset_through_the_cli(capsys):
    code, out, _ = run_cli(
        capsys, "--arch", "2,4,1", "--data", "moons", "--examples", "40", "--no-tensorboard", "--iterations", "5"
    )
    assert code == 0
    assert "data moons (m=40)" in out
    assert "VERDICT: PASS" in out


# ---------------------------------------------------------------- .npz files


def test_npz_round_trip(tmp_path, xy):
    X, Y = xy
    path = tmp_path / "data.npz"
    np.savez(path, X=X, Y=Y)
    X2, Y2 = load_data(Config(data=str(path), arch=(3, 4, 1), loss="bce", examples=None, seed=0, dtype="float64"))
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(Y2, Y)
    X3, Y3 = load_data(Config(data=str(path), arch=(3, 4, 1), loss="bce", examples=10, seed=0, dtype="float32"))
    assert X3.shape == (3, 10) and Y3.shape == (1, 10)
    assert X3.dtype == Y3.dtype == np.float32
    np.testing.assert_array_equal(X3, X[:, :10].astype(np.float32))
    more = X.shape[1] + 1  # more examples than the file has: refused, never quietly fewer
    with pytest.raises(UsageError, match=f"--examples {more}: --data {path} has {X.shape[1]} examples; give at most"):
        load_data(Config(data=str(path), arch=(3, 4, 1), loss="bce", examples=more, seed=0, dtype="float64"))


def test_npz_integer_and_bool_arrays_are_numbers(tmp_path, xy):
    X, Y = xy
    path = tmp_path / "ints.npz"
    np.savez(path, X=np.round(X * 10).astype(np.int32), Y=Y.astype(bool))
    X2, Y2 = load_data(Config(data=str(path), arch=(3, 4, 1), loss="bce", examples=None, seed=0, dtype="float64"))
    assert X2.dtype == Y2.dtype == np.float64
    np.testing.assert_array_equal(Y2, Y)


@pytest.mark.end_to_end
def test_npz_end_to_end(capsys, tmp_path, xy):
    X, Y = xy
    path = tmp_path / "data.npz"
    np.savez(path, X=X, Y=Y)
    code, out, _ = cli_on(capsys, path, "3,4,1", "--json", "-")
    assert code == 0
    report = json.loads(out)
    assert report["verdict"] == "pass"
    assert report["config"]["examples"] == M
    assert report["config"]["data"] == str(path)


@pytest.mark.end_to_end
def test_npz_softmax_end_to_end(capsys, tmp_path, xy_ce):
    X, Y = xy_ce
    path = tmp_path / "three.npz"
    np.savez(path, X=X, Y=Y)
    code, out, _ = cli_on(capsys, path, "3,5,3", "--activations", "relu,softmax")
    assert code == 0
    assert f"(m={M})" in out and "VERDICT: PASS" in out


@pytest.mark.end_to_end
def test_npz_examples_takes_the_first_columns(capsys, tmp_path, xy):
    path = tmp_path / "data.npz"
    np.savez(path, X=xy[0], Y=xy[1])
    code, out, _ = cli_on(capsys, path, "3,4,1", "--examples", "12")
    assert code == 0
    assert "(m=12)" in out


def _bad_npz(tmp_path, xy):
    """name -> (write the file into `path`, arch, extra argv, phrase in the message)."""
    X, Y = xy

    def object_arrays(path):
        np.savez(path, X=np.array([[1.0, "a", None]] * 3, dtype=object), Y=np.zeros((1, 3)))

    def truncated(path):
        whole = tmp_path / "whole.npz"
        np.savez(whole, X=X, Y=Y)
        data = whole.read_bytes()
        whole.unlink()
        path.write_bytes(data[: len(data) // 2])

    def with_value(name, index, value):
        def write(path):
            arrays = {"X": X.copy(), "Y": Y.copy()}
            arrays[name][index] = value
            np.savez(path, **arrays)

        return write

    return {
        "no-Y": (lambda p: np.savez(p, X=X), "3,4,1", [], "no array named Y"),
        "no-X-no-Y": (lambda p: np.savez(p, A=X), "3,4,1", [], "no array named X or Y"),
        "object-arrays": (object_arrays, "3,4,1", [], "pickle"),
        "truncated": (truncated, "3,4,1", [], "not a readable .npz file"),
        "empty-file": (lambda p: p.write_bytes(b""), "3,4,1", [], "not a readable .npz file"),
        "text-file": (lambda p: p.write_text("X,Y\n1,2\n"), "3,4,1", [], ".npz"),
        "strings": (lambda p: np.savez(p, X=np.full((3, M), "a"), Y=Y), "3,4,1", [], "expected numbers"),
        "complex": (lambda p: np.savez(p, X=X.astype(complex), Y=Y), "3,4,1", [], "expected numbers"),
        "X-1d": (lambda p: np.savez(p, X=X[0], Y=Y), "3,4,1", [], "2-D"),
        "X-rows-vs-arch": (lambda p: np.savez(p, X=X, Y=Y), "4,4,1", [], None),
        "X-examples-as-rows": (lambda p: np.savez(p, X=X.T.copy(), Y=Y), "3,4,1", [], "are examples rows?"),
        "Y-rows-vs-arch": (lambda p: np.savez(p, X=X, Y=Y), "3,4,2", [], None),
        "m-mismatch": (lambda p: np.savez(p, X=X, Y=Y[:, :30]), "3,4,1", [], f"{M} examples but Y has 30"),
        "no-examples": (lambda p: np.savez(p, X=np.zeros((3, 0)), Y=np.zeros((1, 0))), "3,4,1", [], "no examples"),
        "X-nan": (with_value("X", (0, 0), np.nan), "3,4,1", [], "X holds NaN or infinite"),
        "X-inf": (with_value("X", (2, 5), np.inf), "3,4,1", [], "X holds NaN or infinite"),
        "X-minus-inf": (with_value("X", (1, 1), -np.inf), "3,4,1", [], "X holds NaN or infinite"),
        "Y-nan": (with_value("Y", (0, 3), np.nan), "3,4,1", [], "Y holds NaN or infinite"),
        "bce-half": (with_value("Y", (0, 0), 0.5), "3,4,1", [], "labels 0 or 1, found 0.5"),
        "bce-two": (with_value("Y", (0, 7), 2.0), "3,4,1", [], "labels 0 or 1, found 2.0"),
        "bce-minus-one": (with_value("Y", (0, 1), -1.0), "3,4,1", [], "labels 0 or 1, found -1.0"),
    }


BAD_NPZ = [
    "no-Y",
    "no-X-no-Y",
    "object-arrays",
    "truncated",
    "empty-file",
    "text-file",
    "strings",
    "complex",
    "X-1d",
    "X-rows-vs-arch",
    "X-examples-as-rows",
    "Y-rows-vs-arch",
    "m-mismatch",
    "no-examples",
    "X-nan",
    "X-inf",
    "X-minus-inf",
    "Y-nan",
    "bce-half",
    "bce-two",
    "bce-minus-one",
]


# numpy (np.load(path) on a broken zip) leaks its file handle; see test_truncated_npz_closes_its_file.
LEAKS_A_FILE = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning", "ignore::ResourceWarning")


@pytest.mark.parametrize("case", [pytest.param(c, marks=LEAKS_A_FILE) if c == "truncated" else c for c in BAD_NPZ])
@pytest.mark.end_to_end
def test_bad_npz_is_a_usage_error(capsys, tmp_path, xy, case):
    write, arch, extra, phrase = _bad_npz(tmp_path, xy)[case]
    path = tmp_path / f"{case}.npz"
    write(path)
    code, out, err = cli_on(capsys, path, arch, *extra)
    line = assert_usage_error(code, out, err)
    assert str(path) in line
    if phrase is not None:
        assert phrase in line, line
    if case == "X-rows-vs-arch":
        assert names_both(line, 3, 4), line
    if case == "Y-rows-vs-arch":
        assert names_both(line, 1, 2), line


def test_bad_npz_through_load_data_raises_usage_error(tmp_path, xy):
    X, Y = xy
    path = tmp_path / "rows.npz"
    np.savez(path, X=X, Y=Y)
    with pytest.raises(UsageError) as info:
        load_data(Config(data=str(path), arch=(5, 4, 1), loss="bce", examples=None, seed=0, dtype="float64"))
    assert names_both(str(info.value), 3, 5)


@pytest.mark.parametrize(
    "column",
    [
        [1.0, 1.0, 0.0],  # two ones
        [0.0, 0.0, 0.0],  # none
        [0.5, 0.5, 0.0],  # sums to one, not one-hot
        [2.0, -1.0, 0.0],  # sums to one, not one-hot
    ],
)
@pytest.mark.end_to_end
def test_ce_labels_not_one_hot(capsys, tmp_path, xy_ce, column):
    X, Y = xy_ce
    Y = Y.copy()
    Y[:, 4] = column
    path = tmp_path / "ce.npz"
    np.savez(path, X=X, Y=Y)
    code, out, err = cli_on(capsys, path, "3,4,3", "--activations", "relu,softmax")
    assert "one-hot" in assert_usage_error(code, out, err)
    with pytest.raises(UsageError, match="one-hot"):
        load_data(Config(data=str(path), arch=(3, 4, 3), loss="ce", examples=None, seed=0, dtype="float64"))


def test_mse_accepts_any_finite_targets(tmp_path, xy):
    X, _ = xy
    path = tmp_path / "reg.npz"
    Y = np.linspace(-50, 50, M).reshape(1, M)
    np.savez(path, X=X, Y=Y)
    _, Y2 = load_data(Config(data=str(path), arch=(3, 4, 1), loss="mse", examples=None, seed=0, dtype="float64"))
    np.testing.assert_array_equal(Y2, Y)


@pytest.mark.end_to_end
def test_npz_directory_is_a_usage_error(capsys, tmp_path):
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    code, out, err = cli_on(capsys, folder)
    assert "is a directory" in assert_usage_error(code, out, err)


@pytest.mark.end_to_end
def test_text_file_named_npz_is_reported_as_unreadable(capsys, tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("this is not an archive\n")
    code, out, err = cli_on(capsys, path)
    line = assert_usage_error(code, out, err)
    assert "not a readable .npz file" in line
    assert "object arrays" not in line


@pytest.mark.end_to_end
def test_npy_file_named_npz_is_a_usage_error(capsys, tmp_path, xy):
    path = tmp_path / "single.npz"
    with open(path, "wb") as f:
        np.save(f, xy[0])
    code, out, err = cli_on(capsys, path)
    assert "not a readable .npz file" in assert_usage_error(code, out, err)


@pytest.mark.end_to_end
def test_truncated_npz_closes_its_file(capsys, tmp_path, xy):
    whole = tmp_path / "whole.npz"
    np.savez(whole, X=xy[0], Y=xy[1])
    path = tmp_path / "truncated.npz"
    path.write_bytes(whole.read_bytes()[:200])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = cli_on(capsys, path)
        gc.collect()
    assert_usage_error(code, out, err)
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


# ---------------------------------------------------------------- .csv files


@pytest.mark.parametrize("header", [False, True], ids=["no-header", "header"])
def test_csv_round_trip(tmp_path, xy, header):
    X, Y = xy
    path = tmp_path / "data.csv"
    save_csv(path, X, Y, header=header)
    X2, Y2 = load_data(Config(data=str(path), arch=(3, 4, 1), loss="bce", examples=None, seed=0, dtype="float64"))
    np.testing.assert_array_equal(X2, X)  # repr() round-trips floats exactly
    np.testing.assert_array_equal(Y2, Y)


def test_csv_several_outputs_and_blank_lines(tmp_path, xy_ce):
    X, Y = xy_ce
    path = tmp_path / "three.csv"
    save_csv(path, X, Y, header=True)
    path.write_text(path.read_text().replace("\n", "\n\n", 3))
    X2, Y2 = load_data(Config(data=str(path), arch=(3, 6, 3), loss="ce", examples=None, seed=0, dtype="float32"))
    assert X2.shape == (3, M) and Y2.shape == (3, M)
    assert X2.dtype == np.float32
    np.testing.assert_array_equal(Y2, Y)


@pytest.mark.parametrize("header", [False, True], ids=["no-header", "header"])
@pytest.mark.end_to_end
def test_csv_end_to_end(capsys, tmp_path, xy, header):
    X, Y = xy
    path = tmp_path / "data.csv"
    save_csv(path, X, Y, header=header)
    code, out, _ = cli_on(capsys, path)
    assert code == 0
    assert f"data {path} (m={M})" in out
    assert "VERDICT: PASS" in out


BAD_CSV = {
    "ragged": ("1,2,3,1\n4,5,6\n7,8,9,0\n", "line 2 has 3 columns, expected 4"),
    "non-numeric": ("1,2,3,1\n4,five,6,0\n", "not a number"),
    "too-few-columns": ("1,2,1\n3,4,0\n", "expected 4"),
    "too-many-columns": ("1,2,3,4,1\n5,6,7,8,0\n", "expected 4"),
    "header-only": ("a,b,c,y\n", "no data rows"),
    "empty": ("", "no data rows"),
    "nan-cell": ("1,2,3,1\nnan,5,6,0\n", "X holds NaN or infinite"),
    "label-not-binary": ("1,2,3,1\n4,5,6,3\n", "labels 0 or 1, found 3.0"),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
@pytest.mark.end_to_end
def test_bad_csv_is_a_usage_error(capsys, tmp_path, case):
    text, phrase = BAD_CSV[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    code, out, err = cli_on(capsys, path)
    line = assert_usage_error(code, out, err)
    assert str(path) in line
    assert phrase in line, line


def test_csv_wrong_columns_names_the_expected_count(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("1,2,3,4,5,6\n")
    with pytest.raises(UsageError) as info:
        load_data(Config(data=str(path), arch=(3, 4, 2), loss="bce", examples=None, seed=0, dtype="float64"))
    message = str(info.value)
    assert "6 columns" in message and "expected 5" in message
    assert "3 features + 2 labels" in message


@pytest.mark.end_to_end
def test_csv_not_utf8_is_a_usage_error(capsys, tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x01\x02")
    code, out, err = cli_on(capsys, path)
    assert "not a readable CSV file" in assert_usage_error(code, out, err)


def test_missing_files_are_usage_errors(tmp_path):
    for name in ("gone.npz", "gone.csv"):
        with pytest.raises(UsageError, match="no such file"):
            load_data(
                Config(data=str(tmp_path / name), arch=(3, 4, 1), loss="bce", examples=None, seed=0, dtype="float64")
            )
