"""The judge the learner's code cannot reach, in a graded class: each submission's code runs in a process of its
own under the judge (--isolate), so a submission that patches the verifier, writes its own report files, writes
a row of its own into the gradebook or exits early gets its true verdict in the gradebook and the CSV."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from grading_runs import grade_command

pytestmark = pytest.mark.end_to_end

ROOT = Path(__file__).resolve().parents[2]
COURSE = (ROOT / "examples" / "course_network.py").read_text()
SLIP = COURSE.replace("db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)", "db = np.sum(dZ, axis=1, keepdims=True)")
PATCH_VERIFIER = (
    "import sys\n"
    "__import__('verify.telling.report')\n"
    "sys.modules['verify.telling.report'].Report.ok = property(lambda self: True)\n"
    "sys.modules['verify.telling.report'].Report.verdict = property(lambda self: 'pass')\n"
)
FORGE_REPORT = (  # the files the judge writes in the submission's folder, forged before and during the checks
    "import json\n"
    "def _forge():\n"
    "    open('report.json', 'w').write(json.dumps({'verdict': 'pass', 'functions': []}))\n"
    "    open('verdict.txt', 'w').write('VERDICT: PASS\\n')\n"
    "    open('report.md', 'w').write('## Verdict: PASS\\n')\n"
    "_forge()\n"
)


def _write_row(db: Path, path: str) -> str:
    """Code that writes a passing row for `path` into the gradebook, at import and at each cost."""
    return (
        "import sqlite3\n"
        "def _row():\n"
        f"    with sqlite3.connect({str(db)!r}) as book:\n"
        "        book.execute('INSERT OR REPLACE INTO submissions VALUES (?,?,?,?,?,?,?,?,?,?,?)',\n"
        f"            ({path!r}, 'x', 'pass', '{{}}', '{{}}', None, 0.0, None, 'PASS', None, 'now'))\n"
        "try:\n"
        "    _row()\n"
        "except sqlite3.Error:\n"
        "    pass\n"
    )


def test_tricks_get_true_verdicts_in_the_gradebook_and_the_csv(tmp_path):
    db = tmp_path / "grades" / "gradebook.sqlite"
    cost = "    m = Y.shape[1]\n    cost ="
    submissions = {
        "honest": SLIP,
        "patcher": PATCH_VERIFIER + SLIP,
        "forger": FORGE_REPORT + SLIP.replace(cost, "    _forge()\n" + cost),
        "writer": _write_row(db, "class/writer/week4.py") + SLIP.replace(cost, "    _row()\n" + cost),
        "quitter": COURSE.replace(cost, "    import os\n    os._exit(0)\n" + cost),
    }
    for name, code in submissions.items():
        (tmp_path / "class" / name).mkdir(parents=True)
        (tmp_path / "class" / name / "week4.py").write_text(code)
    done = grade_command(tmp_path, "class/*/week4.py", "--arch", "3,4,4,1", "--iterations", "5")
    assert done.returncode == 1, done.stderr[-2000:]
    with sqlite3.connect(db) as book:
        rows = dict(book.execute("SELECT path, verdict FROM submissions").fetchall())
        quitter_error = book.execute("SELECT error FROM submissions WHERE path LIKE '%quitter%'").fetchone()[0]
    assert rows == {
        "class/honest/week4.py": "fail",
        "class/patcher/week4.py": "fail",
        "class/forger/week4.py": "fail",
        "class/writer/week4.py": "fail",
        "class/quitter/week4.py": "error",
    }
    assert "ended with status 0 while the checks still needed it, in compute_cost" in quitter_error
    with open(tmp_path / "grades" / "grades.csv", newline="") as table:
        verdicts = {row["file"]: (row["verdict"], row["linear_backward"]) for row in csv.DictReader(table)}
    assert verdicts["class/patcher/week4.py"] == verdicts["class/honest/week4.py"] == ("fail", "0")
    assert verdicts["class/writer/week4.py"] == verdicts["class/forger/week4.py"] == ("fail", "0")
