"""The gradebook keeps what it is given, across reopening and across a killed grading process, and refuses files
that are not gradebooks without touching them."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from verify.errors import UsageError
from verify.grading.gradebook import APPLICATION_ID, SCHEMA_VERSION, Gradebook
from verify.grading.records import Graded

REPO = Path(__file__).resolve().parents[2]

FIX = "fix `linear_backward`: its db differs (it is m = 5 times the expected value: a missing 1/m); defined in x.py"
PASSED = Graded(
    "week4/alice/Building.ipynb",
    "a1" * 32,
    "pass",
    {"linear_forward": "ok", "linear_backward": "ok"},
    seconds=3.25,
    feedback="VERDICT: PASS\n",
    report={"schema_version": 3, "verdict": "pass", "checks": [{"name": "forward", "max_rel": 1.5e-16}]},
)
FAILED = Graded(
    "week4/bob/Building.ipynb",
    "b2" * 32,
    "fail",
    {"linear_forward": "ok", "linear_backward": "FAIL"},
    {"linear_backward": FIX},
    first_divergence="functions: linear_backward's db, max rel 0.8",
    seconds=4.5,
    feedback="VERDICT: FAIL\n" + FIX,
    report={"verdict": "fail", "functions": [{"function": "linear_backward", "status": "FAIL"}]},
)
ERRED = Graded("week4/carol/Building.ipynb", "c3" * 32, "error", seconds=60.0, error="timed out after 60 s")


@pytest.fixture
def book(tmp_path):
    with Gradebook(tmp_path / "class.db") as gradebook:
        yield gradebook


def test_rows_come_back_as_recorded_in_path_order_after_reopening(tmp_path):
    with Gradebook(tmp_path / "class.db") as book:
        for graded in (ERRED, PASSED, FAILED):
            book.record(graded)
    with Gradebook(tmp_path / "class.db") as book:
        assert book.rows() == [PASSED, FAILED, ERRED]


def test_recording_a_path_again_replaces_its_row(book):
    book.record(FAILED)
    fixed = Graded(FAILED.path, "d4" * 32, "pass", {"linear_backward": "ok"}, feedback="VERDICT: PASS\n")
    book.record(fixed)
    assert book.rows() == [fixed]


@pytest.mark.parametrize(
    ("path", "digest", "expected"),
    [
        (PASSED.path, PASSED.digest, True),
        (ERRED.path, ERRED.digest, True),  # an error is graded too: a rerun does not retry it
        (PASSED.path, FAILED.digest, False),  # the file, or a helper file, changed
        (FAILED.path, PASSED.digest, False),  # another learner's copy of the same content
        ("week4/dan/Building.ipynb", PASSED.digest, False),
    ],
)
def test_graded_only_for_the_same_path_and_digest(book, path, digest, expected):
    book.record(PASSED)
    book.record(ERRED)
    assert book.graded(path, digest) is expected


def test_a_row_recorded_survives_the_process_killed_right_after(tmp_path):
    child = textwrap.dedent(
        f"""
        import os
        from verify.grading.gradebook import Gradebook
        from verify.grading.records import Graded
        book = Gradebook({str(tmp_path / "class.db")!r})
        book.record(Graded("week4/alice/Building.ipynb", "a1", "fail", {{"relu": "FAIL"}}, seconds=1.5))
        os.kill(os.getpid(), 9)
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", child], cwd=tmp_path, env=environment, capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert (tmp_path / "class.db-wal").exists()  # killed before closing: the row is in the journal only
    with Gradebook(tmp_path / "class.db") as book:
        assert book.rows() == [Graded("week4/alice/Building.ipynb", "a1", "fail", {"relu": "FAIL"}, seconds=1.5)]


def test_the_file_is_a_wal_gradebook_of_this_version(tmp_path, book):
    book.record(PASSED)
    reader = sqlite3.connect(tmp_path / "class.db")  # a teacher's look while grading goes on
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert reader.execute("PRAGMA application_id").fetchone() == (APPLICATION_ID,)
        assert reader.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        path, verdict, graded_at = reader.execute("SELECT path, verdict, graded_at FROM submissions").fetchone()
    finally:
        reader.close()
    assert (path, verdict) == (PASSED.path, "pass") and graded_at.endswith("+00:00")


def _other_database(path):
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE marks (name TEXT, mark REAL)")
    other.close()


def _newer_gradebook(path):
    Gradebook(path).close()
    with sqlite3.connect(path) as newer:
        newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: path.write_text("name,mark\nalice,1\n" * 20), "not a SQLite file"),
        (_other_database, "is not a gradebook"),
        (_newer_gradebook, f"is a gradebook of version {SCHEMA_VERSION + 1}; this verifier reads version"),
    ],
    ids=["csv", "other-sqlite", "newer-gradebook"],
)
def test_a_file_that_is_not_a_gradebook_is_refused_untouched(tmp_path, make, words):
    path = tmp_path / "marks.db"
    make(path)
    before = path.read_bytes()
    with pytest.raises(UsageError) as refused:
        Gradebook(path)
    message = str(refused.value)
    assert words in message and str(path) in message and "\n" not in message
    assert path.read_bytes() == before and not (tmp_path / "marks.db-wal").exists()


def test_a_folder_is_refused_in_one_line(tmp_path):
    with pytest.raises(UsageError, match=r"^cannot open the gradebook '.*': unable to open database file$"):
        Gradebook(tmp_path)


class _NoWal(sqlite3.Connection):
    """A connection on a file system without the shared memory WAL needs: SQLite keeps the journal it had."""

    def execute(self, sql, *parameters):
        return super().execute("PRAGMA journal_mode" if sql == "PRAGMA journal_mode = WAL" else sql, *parameters)


def test_a_file_system_without_wal_is_refused_in_one_line(tmp_path, monkeypatch):
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda *args, **options: connect(*args, **options, factory=_NoWal))
    with pytest.raises(UsageError, match=r"^cannot open the gradebook '.*': its file system does not allow SQLite's"):
        Gradebook(tmp_path / "class.db")


def test_a_gradebook_named_memory_is_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Gradebook(":memory:") as book:
        book.record(PASSED)
    with Gradebook(":memory:") as book:
        assert book.rows() == [PASSED]
    assert (tmp_path / ":memory:").is_file()


def test_an_unknown_verdict_is_a_programming_error(book):
    with pytest.raises(ValueError, match="'passed'"):
        book.record(Graded("a.py", "d", "passed"))
    assert book.rows() == []


def test_a_result_handed_back_on_another_thread_is_recorded(book):
    with ThreadPoolExecutor(max_workers=1) as pool:  # a worker pool's callback thread
        pool.submit(book.record, FAILED).result()
        assert pool.submit(book.graded, FAILED.path, FAILED.digest).result()
    assert book.rows() == [FAILED]


def test_a_file_name_that_is_not_utf8_is_recorded_as_its_escape(book):
    name = os.fsdecode(b"week4/\xe9l\xe8ve.py")  # Latin-1 bytes: lone surrogates once decoded
    book.record(Graded(name, "e5", "error", error="timed out"))
    assert book.graded(name, "e5")
    assert [row.path for row in book.rows()] == ["week4/\\udce9l\\udce8ve.py"]


def test_a_closed_gradebook_says_so(tmp_path):
    book = Gradebook(tmp_path / "class.db")
    book.close()
    book.close()
    with pytest.raises(ValueError, match="is closed"):
        book.rows()
