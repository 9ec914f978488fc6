"""The gradebook: one SQLite file, one row per submission path, written by the grading process only.

Only the grading process writes it: the learners' code runs in child processes that hand their results back, and
never sees this file. Each record is its own transaction, committed (WAL journal, synchronous FULL) before
`record` returns, so a grading run killed at any moment, even with SIGKILL, keeps every submission it recorded and a
rerun skips them (`graded`). WAL also lets a teacher read the file (sqlite3, a spreadsheet's import) while the
grading writes it.

The file says what it is: SQLite's application_id marks it as a gradebook and its user_version is the schema's
version, so a file of anything else, or of another version, is refused with one line before anything is written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from types import TracebackType

from ..errors import UsageError
from .records import VERDICTS, Graded

APPLICATION_ID = 0x6E6E7667  # "nnvg" in ASCII: nn-verify's gradebook
SCHEMA_VERSION = 1

SCHEMA = f"""
CREATE TABLE submissions (
    path TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ({", ".join(f"'{v}'" for v in VERDICTS)})),
    functions TEXT NOT NULL,
    slips TEXT NOT NULL,
    first_divergence TEXT,
    seconds REAL NOT NULL,
    error TEXT,
    feedback TEXT NOT NULL,
    report TEXT,
    graded_at TEXT NOT NULL
)
"""

COLUMNS = (
    "path",
    "digest",
    "verdict",
    "functions",
    "slips",
    "first_divergence",
    "seconds",
    "error",
    "feedback",
    "report",
    "graded_at",
)

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "Gradebook"]


class Gradebook:
    """The grading run's record of every submission: `graded` to skip one a rerun has seen, `record` to keep one,
    `rows` to export them all.

    One connection, guarded by a lock: the worker pool may hand results back on its own threads (a future's
    callback), and each call is then still one whole transaction."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            # the absolute path: SQLite would read a file named ':memory:' as a database in memory, kept nowhere
            db = sqlite3.connect(os.path.abspath(self.path), isolation_level=None, check_same_thread=False)
        except sqlite3.Error as error:
            raise UsageError(f"cannot open the gradebook '{self.path}': {error}") from None
        try:
            _open(db, self.path)
        except BaseException:
            db.close()
            raise
        self._db = db

    def graded(self, path: str, digest: str) -> bool:
        """Whether `path` is recorded with this `digest`: the same content already graded, which a rerun skips
        (any verdict, error included); a changed file, or helper file, has another digest and is graded again."""
        with self._lock:
            found = self._connection().execute(
                "SELECT 1 FROM submissions WHERE path = ? AND digest = ?", (_storable(path), _storable(digest))
            )
            return found.fetchone() is not None

    def record(self, graded: Graded) -> None:
        """Keep `graded`, replacing any earlier row for its path, in one transaction committed before returning."""
        if graded.verdict not in VERDICTS:
            raise ValueError(f"verdict {graded.verdict!r} is none of {VERDICTS}")
        graded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        values = (
            _storable(graded.path),
            _storable(graded.digest),
            graded.verdict,
            json.dumps(graded.functions),
            json.dumps(graded.slips),
            _storable(graded.first_divergence),
            float(graded.seconds),
            _storable(graded.error),
            _storable(graded.feedback),
            None if graded.report is None else json.dumps(graded.report),
            graded_at,
        )
        placeholders = ", ".join("?" for _ in COLUMNS)
        with self._lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(f"INSERT OR REPLACE INTO submissions ({', '.join(COLUMNS)}) VALUES ({placeholders})", values)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def rows(self) -> list[Graded]:
        """Every recorded submission, in path order (the order of their paths' characters)."""
        with self._lock:
            found = self._connection().execute(f"SELECT {', '.join(COLUMNS)} FROM submissions ORDER BY path")
            return [_graded(row) for row in found.fetchall()]

    def close(self) -> None:
        """Close the file (SQLite folds the WAL journal back into it); closing twice is harmless."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise ValueError(f"the gradebook '{self.path}' is closed")
        return self._db


def _open(db: sqlite3.Connection, path: str) -> None:
    """Check that `db` is a gradebook of this version, or a new file to make one of; then turn WAL on.

    The check comes first and writes nothing, so a file that is not a gradebook is left exactly as it was."""
    try:
        db.execute("BEGIN IMMEDIATE")  # no other writer between the check and the schema
        try:
            _check_or_create(db, path)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        db.execute("PRAGMA synchronous = FULL")  # a commit is on disk when record() returns, not only in the OS
    except sqlite3.DatabaseError as error:
        what = "not a SQLite file" if "not a database" in str(error) else str(error)
        raise UsageError(f"cannot open the gradebook '{path}': {what}") from None
    if mode != "wal":
        raise UsageError(f"cannot open the gradebook '{path}': its file system does not allow SQLite's WAL journal")


def _check_or_create(db: sqlite3.Connection, path: str) -> None:
    """Create the schema in a new (empty) file; accept a gradebook of SCHEMA_VERSION; refuse anything else."""
    application = db.execute("PRAGMA application_id").fetchone()[0]
    version = db.execute("PRAGMA user_version").fetchone()[0]
    tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if application == APPLICATION_ID and version == SCHEMA_VERSION:
        return
    if application == APPLICATION_ID:
        raise UsageError(f"'{path}' is a gradebook of version {version}; this verifier reads version {SCHEMA_VERSION}")
    if application or version or tables:
        raise UsageError(f"'{path}' is not a gradebook: a SQLite file of something else; name a new file")
    db.execute(SCHEMA)
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _storable(text: str | None) -> str | None:
    """`text` as SQLite can store it: a lone surrogate (a file name that is not UTF-8, as Python decodes it) is
    kept as its escape ('\\udcff') instead of failing the whole record; every other text is unchanged."""
    if text is None:
        return None
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _graded(row: tuple) -> Graded:
    """The Graded a row of COLUMNS holds (graded_at, the row's own, is not part of it)."""
    path, digest, verdict, functions, slips, first, seconds, error, feedback, report, _ = row
    return Graded(
        path=path,
        digest=digest,
        verdict=verdict,
        functions=json.loads(functions),
        slips=json.loads(slips),
        first_divergence=first,
        seconds=seconds,
        error=error,
        feedback=feedback,
        report=None if report is None else json.loads(report),
    )
