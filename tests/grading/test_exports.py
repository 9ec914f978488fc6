"""The exports a teacher reads: the class CSV, one feedback file per learner, the summary and its chart, each
written whole."""

import csv
import os
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.grading import files
from verify.grading.exports import (
    feedback_names,
    slip_of,
    summary,
    write_csv,
    write_feedback,
    write_summary_chart,
    write_summary_markdown,
)
from verify.grading.records import Graded
from verify.grading.summary import CHART

SVG = "{http://www.w3.org/2000/svg}"


def fix(function, output, hint, where="x.ipynb, cell [7], line 3"):
    return f"fix `{function}`: its {output} differs ({hint}); defined in {where}"


CLIP = "clip by norm instead of elementwise: the norm of the gradients is {} and maxValue is 10"
NO_M = "it is m = 5 times the expected value: a missing 1/m"
PASSED = Graded(
    "week4/alice/Building.ipynb", "a1", "pass", {"rnn_forward": "ok", "clip": "ok"}, feedback="VERDICT: PASS"
)
FAILED = Graded(
    "week4/bob/Building.ipynb",
    "b2",
    "fail",
    {"rnn_forward": "ok", "clip": "FAIL", "sample": "not run"},
    {"clip": fix("clip", "dWaa", CLIP.format(31.4))},
    feedback="VERDICT: FAIL\nfix `clip`: ...",
)
ERRED = Graded("week4/carol/Building.ipynb", "c3", "error", error="timed out\nafter 60 s")


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_the_csv_has_a_column_per_function_and_a_line_per_submission(tmp_path):
    write_csv([PASSED, FAILED, ERRED], tmp_path / "class.csv")
    assert _read_csv(tmp_path / "class.csv") == [
        ["file", "verdict", "rnn_forward", "clip", "sample", "total", "error"],
        ["week4/alice/Building.ipynb", "pass", "1", "1", "", "2", ""],
        ["week4/bob/Building.ipynb", "fail", "1", "0", "0", "1", ""],
        ["week4/carol/Building.ipynb", "error", "", "", "", "0", "timed out after 60 s"],
    ]


def test_the_csv_never_hands_a_spreadsheet_a_formula(tmp_path):
    sly = Graded("=HYPERLINK(1).py", "d", "error", error="-1 + 2 raised")
    write_csv([sly], tmp_path / "class.csv")
    assert _read_csv(tmp_path / "class.csv")[1] == ["'=HYPERLINK(1).py", "error", "0", "'-1 + 2 raised"]


def test_an_export_replaces_a_longer_file_whole_and_leaves_no_temporary_file(tmp_path):
    (tmp_path / "class.csv").write_text("old line\n" * 1000)
    write_csv([PASSED], tmp_path / "class.csv")
    assert (tmp_path / "class.csv").read_text(encoding="utf-8").count("\n") == 2
    assert sorted(os.listdir(tmp_path)) == ["class.csv"]


def test_an_export_that_fails_keeps_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    (tmp_path / "summary.md").write_text("the last run's summary\n")

    def interrupted(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_summary_markdown(summary([PASSED]), tmp_path / "summary.md")
    assert (tmp_path / "summary.md").read_text() == "the last run's summary\n"
    assert sorted(os.listdir(tmp_path)) == ["summary.md"]


def test_an_export_is_as_readable_as_any_new_file(tmp_path):
    previous = os.umask(0o022)
    try:
        write_csv([PASSED], tmp_path / "class.csv")
    finally:
        os.umask(previous)
    assert (tmp_path / "class.csv").stat().st_mode & 0o777 == 0o644


def test_each_feedback_file_starts_with_its_verdict(tmp_path):
    written = write_feedback([PASSED, FAILED, ERRED], tmp_path / "feedback")
    assert {path: file.name for path, file in written.items()} == {
        PASSED.path: "week4_alice_Building.md",
        FAILED.path: "week4_bob_Building.md",
        ERRED.path: "week4_carol_Building.md",
    }
    assert written[PASSED.path].read_text() == "# PASS\n\nVERDICT: PASS\n"
    assert written[FAILED.path].read_text() == "# FAIL\n\nVERDICT: FAIL\nfix `clip`: ...\n"
    assert written[ERRED.path].read_text() == "# ERROR: timed out after 60 s\n"
    assert sorted(os.listdir(tmp_path / "feedback")) == sorted(f.name for f in written.values())


def test_feedback_names_that_would_collide_get_a_suffix_and_the_others_none():
    paths = ["a/b.py", "a_b.ipynb", "A/B.py", "../a/b.py", "week4/alice/Building.ipynb"]
    names = feedback_names(paths)
    assert names["week4/alice/Building.ipynb"] == "week4_alice_Building.md"
    assert all(re.fullmatch(r"a_b_[0-9a-f]{8}\.md", names[p], re.IGNORECASE) for p in paths[:4]), names
    assert len({name.casefold() for name in names.values()}) == len(paths)


def test_a_feedback_file_stays_in_its_folder(tmp_path):
    paths = ["../../etc/passwd", "/tmp/x.py", "week4/../week4/./alice.py"]
    written = write_feedback([Graded(path, "d", "pass") for path in paths], tmp_path)
    assert [file.parent for file in written.values()] == [tmp_path] * 3
    assert [file.name for file in written.values()] == ["etc_passwd.md", "tmp_x.md", "week4_week4_alice.md"]


PATHS = st.lists(st.text(alphabet="aAb/._-é\\ ", min_size=1, max_size=12), min_size=1, max_size=8, unique=True)


@settings(max_examples=300, deadline=None)
@given(PATHS)
def test_feedback_names_are_safe_and_never_collide(paths):
    names = feedback_names(paths)
    assert set(names) == set(paths)
    assert len({name.casefold() for name in names.values()}) == len(paths)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.md", name) for name in names.values()), names


def _graded(path, slips, functions=None):
    statuses = functions or {function: "FAIL" for function in slips}
    return Graded(path, "d", "fail" if slips else "pass", statuses, slips)


CLASS = [
    _graded("s1.py", {"clip": fix("clip", "dWaa", CLIP.format(31.4))}),
    _graded("s2.py", {"clip": fix("clip", "dby", CLIP.format(12.0)), "linear_backward": fix("lb", "db", NO_M)}),
    _graded("s3.py", {"clip": fix("clip", "dWax", "clipped to [-5, 5] (maxValue is 10)")}),
    _graded("s4.py", {"linear_backward": fix("lb", "db", NO_M, "y.py, line 40")}),
    _graded("s5.py", {"clip": fix("clip", "dWaa", CLIP.format(8.5))}),
    _graded("s6.py", {}, {"clip": "ok", "linear_backward": "ok", "sample": "not run"}),
    Graded("s7.py", "d", "error", error="timed out"),
]


def test_the_summary_counts_verdicts_and_each_functions_passes():
    counted = summary(CLASS)
    assert counted.verdicts == {"pass": 1, "fail": 5, "error": 1} and counted.submissions == 7
    assert [(f.name, f.ran, f.passed) for f in counted.functions] == [
        ("clip", 5, 1),
        ("linear_backward", 3, 1),
        ("sample", 0, 0),  # graded nowhere but in s6, where it did not run
    ]
    assert counted.functions[0].rate == pytest.approx(0.2) and counted.functions[2].rate == 0.0


def test_slips_are_grouped_by_function_and_words_most_common_first():
    assert [(s.count, s.function, s.slip) for s in summary(CLASS).slips] == [
        (3, "clip", "clip by norm instead of elementwise"),
        (2, "linear_backward", "it is m = 5 times the expected value"),
        (1, "clip", "clipped to [-5, 5] (maxValue is 10)"),
    ]


@pytest.mark.parametrize(
    ("line", "slip"),
    [
        (fix("clip", "dWaa", CLIP.format(1)), "clip by norm instead of elementwise"),
        (fix("relu_backward", "dZ", "it differs only where Z is exactly 0"), "it differs only where Z is exactly 0"),
        (
            "fix `conv_forward`: its Z differs (expected an array of shape (2, 2, 3, 2), got (2, 2, 3, 1))",
            "expected an array of shape (2, 2, 3, 2), got (2, 2, 3, 1)",
        ),
        ("fix `model`: t starts at 0: the bias correction divides by 1 - beta^0 = 0", "t starts at 0"),
        ("fix `nn_model`: its parameters never change; defined in x.py, line 40", "its parameters never change"),
    ],
)
def test_the_slip_of_a_fix_line(line, slip):
    assert slip_of(line) == slip


def test_the_summary_markdown_tables_its_functions_and_slips(tmp_path):
    write_summary_markdown(summary(CLASS), tmp_path / "summary.md")
    text = (tmp_path / "summary.md").read_text()
    assert "7 submissions: 1 pass, 5 fail, 1 error." in text
    assert "| `clip` | 5 | 1 | 20% |" in text and "| `sample` | 0 | 0 | 0% |" in text
    assert "| 3 | `clip` | clip by norm instead of elementwise |" in text


def test_the_chart_has_one_bar_per_function_as_long_as_its_pass_rate(tmp_path):
    rows = [*CLASS, _graded("s8.py", {}, {"clip": "ok", 'a<b&"c': "ok"}), _graded("s9.py", {'a<b&"c': "x"})]
    counted = summary(rows)
    write_summary_chart(counted, tmp_path / "chart.svg")
    root = ET.parse(tmp_path / "chart.svg").getroot()
    bars = [rect for rect in root.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    assert [bar.get("data-function") for bar in bars] == [f.name for f in counted.functions]
    assert [float(bar.get("width")) for bar in bars] == pytest.approx(
        [CHART["bar"] * f.rate for f in counted.functions]
    )
    assert [f.rate for f in counted.functions] == [pytest.approx(2 / 6), pytest.approx(1 / 3), 0.0, 0.5]
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert {"clip", "2/6 (33%)", 'a<b&"c', "1/2 (50%)"} <= set(texts)


def test_an_empty_class_still_makes_a_chart(tmp_path):
    write_summary_chart(summary([]), tmp_path / "chart.svg")
    root = ET.parse(tmp_path / "chart.svg").getroot()
    assert [rect for rect in root.iter(f"{SVG}rect")] == []
    assert "No function was graded." in [text.text for text in root.iter(f"{SVG}text")]
