"""crosscheck/grading/outputs.py against the hand-written class result of
tests/crosscheck/grading/sample_results.py: every expected value below is read off that
file's table and typed here, never computed by the code under test. The Gradescope
fields are checked against Gradescope's autograder specification (the keys it lists)."""

from __future__ import annotations

import copy
import csv
import json
import os

import pytest

from crosscheck.grading import outputs
from tests.crosscheck.grading.sample_results import (
    SENTENCES,
    TABLE_BP2,
    class_result,
)

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
CASES = ["sigmoid + MSE", "hidden: sigmoid + MSE", "hidden: tanh + softmax"]
# (43.5 points over 7 students = 6.21)
COUNT_LINE = "7 students: 1 full mark, 4 partial, 2 errors; mean 6.2/10"

# the keys Gradescope's autograder specification lists for results.json and its tests
GRADESCOPE_KEYS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
GRADESCOPE_TEST_KEYS = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}


@pytest.fixture
def result():
    return class_result()


def student(result, name):
    return next(s for s in result["students"] if s["student"] == name)


# --- the terminal table ----------------------------------------------------------------


def test_table_one_line_per_student_then_the_count_line(result):
    lines = outputs.table(result).splitlines()
    assert len(lines) == 1 + 7 + 1
    assert lines[0].split() == [
        "student",
        "score",
        "status",
        "first",
        "failure",
        "diagnosis",
    ]
    assert [line.split()[0] for line in lines[1:8]] == NAMES
    assert lines[-1] == COUNT_LINE
    erin = lines[5].split()
    assert erin[:3] == ["erin", "8/10", "ERROR"]
    assert "hidden: tanh + softmax  did not return within 60 s" in lines[5]
    assert lines[3].split()[:2] == ["carol", "7.5/10"]
    # the columns line up: every status starts where the header's does
    at = lines[0].index("status")
    assert all(
        line[at:].startswith(("MATCH", "MISMATCH", "ERROR")) for line in lines[1:8]
    )


@pytest.mark.parametrize("width", [40, 60, 100])
def test_table_lines_are_cut_to_the_width(result, width):
    lines = outputs.table(result, width=width).splitlines()
    assert all(len(line) <= width for line in lines[:-1])
    # bob's line is 171 characters long: cut with "..." at these widths
    assert lines[2].endswith("...")
    assert len(lines[2]) == width


BOB_LINE = (
    "bob      5/10    MISMATCH  sigmoid + MSE: dW1      the f'(z[1]) factor of BP2 is "
    "missing: delta1 = delta2 @ W2.T without the sigmoid derivative (BP4/BP3 carry it "
    "into dW1)"
)


def test_table_drops_the_row_label_the_first_failure_column_names(result):
    # 'dW1 (BP2, chapter 6 "Backpropagation"): ' goes; the sentence stays whole
    lines = outputs.table(result, width=200).splitlines()
    assert lines[2] == BOB_LINE
    # a label that does not lead, and a sentence without one, stay as they are
    student(result, "bob")["diagnosis"] = SENTENCES["bp2_after"]
    line = outputs.table(result, width=200).splitlines()[2]
    assert line == (
        "bob      5/10    MISMATCH  sigmoid + MSE: dW1      after dW1, the first "
        'failing row: db1 (BP3, chapter 6 "Backpropagation"): db1 sums delta1, which '
        "lacks the f'(z[1]) factor"
    )
    assert "did not return within 60 s" in outputs.table(result).splitlines()[5]
    # the CSV keeps the full sentence
    assert 'dW1 (BP2, chapter 6 ""Backpropagation""): the f' in outputs.csv_text(
        class_result()
    )


def test_table_lines_up_wide_and_combining_names():
    result = class_result()
    result["students"] = result["students"][:3]
    alice, bob, _ = result["students"]
    alice["student"] = "王小明"  # 3 wide characters: 6 columns
    bob["student"] = "Rene\u0301e"  # NFD: 6 code points, 5 columns, shown as NFC
    alice["diagnosis"] = "梯度" * 40  # 160 columns
    lines = outputs.table(result, width=60).splitlines()
    # columns: student 7, score 6, status 8, first failure 18, each then 2 spaces;
    # the diagnosis gets 60 - 47 - 3 = 10 columns: five wide characters, then "..."
    assert lines[1] == "王小明   10/10   MATCH     -" + " " * 19 + "梯度梯度梯..."
    assert lines[2].startswith("Ren\u00e9e    5/10    MISMATCH  sigmoid + MSE: dW1  ")
    assert lines[3].startswith("carol    7.5/10  MISMATCH  sigmoid + MSE: dW1  ")


def test_table_prints_warnings_and_skipped_files_after_the_count_line(result):
    result["warnings"] = [
        "every student failed case 'practice' at delta2: check the rubric"
    ]
    result["skipped"] = ["yan.zip", "notes.pdf"]
    assert outputs.table(result).splitlines()[-3:] == [
        COUNT_LINE,
        "warning: every student failed case 'practice' at delta2: check the rubric",
        "not graded: yan.zip, notes.pdf",
    ]
    # absent or empty: the count line ends the table
    del result["warnings"], result["skipped"]
    assert outputs.table(result).splitlines()[-1] == COUNT_LINE
    assert outputs.table(class_result()).splitlines()[-1] == COUNT_LINE


def test_table_shows_a_control_character_as_its_escape(result):
    student(result, "bob")["diagnosis"] = "raised ValueError: \x1b[2J gone\r\nnext"
    line = outputs.table(result, width=200).splitlines()[2]
    assert "\x1b" not in line and "\r" not in line
    assert line.endswith("raised ValueError: \\x1b[2J gone next")


def test_count_line_names_students_without_points_apart():
    result = class_result()
    # gina: a mismatch worth nothing, no error
    student(result, "gina")["score"] = 0.0
    assert outputs.counts(result["students"]) == (
        "7 students: 1 full mark, 3 partial, 1 with no points, 2 errors; mean 5.5/10"
    )
    one = {**result, "students": result["students"][:1]}
    assert outputs.counts(one["students"]) == (
        "1 student: 1 full mark, 0 partial, 0 errors; mean 10.0/10"
    )


@pytest.mark.parametrize("width", [39, 100.0, True, "100"])
def test_table_refuses_a_bad_width(result, width):
    with pytest.raises(ValueError, match="width: expected a whole number"):
        outputs.table(result, width=width)


# --- CSV and JSON ----------------------------------------------------------------------


def read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_csv_one_row_per_student_and_one_column_per_case(result, tmp_path):
    path = tmp_path / "grades.csv"
    outputs.write_csv(result, path)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "student",
        "score",
        "max_score",
        "status",
        "first_failure",
        "diagnosis",
        "error",
        *CASES,
    ]
    rows = read_csv(path)
    assert [r["student"] for r in rows] == NAMES
    assert rows[1] == {
        "student": "bob",
        "score": "5",
        "max_score": "10",
        "status": "MISMATCH",
        "first_failure": "sigmoid + MSE: dW1",
        "diagnosis": SENTENCES["bp2"],
        "error": "",
        "sigmoid + MSE": "2",
        "hidden: sigmoid + MSE": "2",
        "hidden: tanh + softmax": "1",
    }
    carol = rows[2]
    assert [carol[c] for c in CASES] == ["3", "3", "1.5"]
    assert carol["score"] == "7.5"
    erin = rows[4]
    assert (erin["status"], erin["score"], erin["error"]) == (
        "ERROR",
        "8",
        "did not return within 60 s while calling backprop on case 3",
    )
    assert [erin[c] for c in CASES] == ["4", "4", "0"]
    assert rows[0]["diagnosis"] == "" and rows[0]["first_failure"] == ""


def test_csv_keeps_a_formula_in_a_name_as_text(result, tmp_path):
    student(result, "alice")["student"] = '=HYPERLINK("http://x","y")'
    outputs.write_csv(result, tmp_path / "g.csv")
    assert read_csv(tmp_path / "g.csv")[0]["student"] == '\'=HYPERLINK("http://x","y")'


def test_csv_is_utf8_with_a_byte_order_mark_for_excel(result, tmp_path):
    student(result, "alice")["student"] = "josé"
    outputs.write_csv(result, tmp_path / "g.csv")
    data = (tmp_path / "g.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfstudent,score,")
    assert b"\njos\xc3\xa9,10,10,MATCH," in data
    assert read_csv(tmp_path / "g.csv")[0]["student"] == "josé"


SYNTAX_ERROR = (
    "could not be loaded: importing hw.py raised SyntaxError: invalid syntax\n"
    '  File "hw.py", line 3\n'
    "    x = = 1\n"
    "        ^"
)


def test_csv_keeps_the_first_line_of_an_error_and_a_diagnosis(result, tmp_path):
    frank = student(result, "frank")
    frank["error"] = frank["diagnosis"] = SYNTAX_ERROR
    outputs.write_csv(result, tmp_path / "g.csv")
    outputs.write_json(result, tmp_path / "g.json")
    row = read_csv(tmp_path / "g.csv")[5]
    first = "could not be loaded: importing hw.py raised SyntaxError: invalid syntax"
    assert (row["error"], row["diagnosis"]) == (first, first)
    # the whole traceback stays in the JSON
    saved = json.loads((tmp_path / "g.json").read_text())["students"][5]
    assert saved["error"] == SYNTAX_ERROR


def test_csv_formula_guard_leaves_a_plain_negative_number(result, tmp_path):
    names = ["-3", "-0.5", "-1e-3", "-1+2", "-", "=1+1", "@x"]
    for s, name in zip(result["students"], names):
        s["student"] = name
    outputs.write_csv(result, tmp_path / "g.csv")
    assert [r["student"] for r in read_csv(tmp_path / "g.csv")] == [
        "-3",
        "-0.5",
        "-1e-3",
        "'-1+2",
        "'-",
        "'=1+1",
        "'@x",
    ]


def test_writes_replace_the_old_file_and_leave_no_temporary(result, tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("old")
    outputs.write_csv(result, path)
    outputs.write_json(result, tmp_path / "grades.json")
    assert path.read_text(encoding="utf-8-sig").startswith("student,score")
    assert sorted(os.listdir(tmp_path)) == ["grades.csv", "grades.json"]


def test_json_round_trips_and_nothing_is_mutated(result, tmp_path):
    before = copy.deepcopy(result)
    outputs.write_json(result, tmp_path / "grades.json")
    outputs.write_csv(result, tmp_path / "grades.csv")
    outputs.table(result)
    outputs.write_gradescope(result, tmp_path / "gs")
    assert json.loads((tmp_path / "grades.json").read_text()) == before
    assert result == before


# --- Gradescope ------------------------------------------------------------------------


def test_gradescope_partial_student(result):
    out = outputs.gradescope(student(result, "bob"))
    assert set(out) <= GRADESCOPE_KEYS
    assert all(set(t) <= GRADESCOPE_TEST_KEYS for t in out["tests"])
    assert out["score"] == 5.0
    assert [t["name"] for t in out["tests"]] == CASES
    assert [t["status"] for t in out["tests"]] == ["failed"] * 3
    assert [t["score"] for t in out["tests"]] == [2.0, 2.0, 1.0]
    assert [t["max_score"] for t in out["tests"]] == [4.0, 4.0, 2.0]
    practice, hidden, _ = out["tests"]
    assert practice["output"].startswith(f"-1 dW1: {SENTENCES['bp2']}\n")
    assert f"-1 db1: {SENTENCES['bp2_after']}" in practice["output"]
    # the practice case shows its table; the hidden one only the lost points
    assert TABLE_BP2 in practice["output"]
    assert hidden["output"] == (
        f"-1 dW1: {SENTENCES['bp2']}\n-1 db1: {SENTENCES['bp2_after']}"
    )
    assert "first failing row: sigmoid + MSE: dW1" in out["output"]
    assert out["visibility"] == "visible" and out["stdout_visibility"] == "hidden"


def test_gradescope_hidden_cases_show_no_layout_or_seed(result):
    for s in result["students"]:
        for test, case in zip(outputs.gradescope(s)["tests"], s["cases"]):
            if case["hidden"]:
                assert test["name"] == case["name"]
                for secret in ("(3, 6)", "4-6-3", "batch 8", "seed", "quantity  shape"):
                    assert secret not in test["output"], (s["student"], secret)


def test_gradescope_full_marks_error_and_load_error(result):
    alice = outputs.gradescope(student(result, "alice"))
    assert alice["score"] == 10.0
    assert [t["status"] for t in alice["tests"]] == ["passed"] * 3
    assert alice["tests"][1]["output"] == "every quantity matches (dW2, db2, dW1, db1)"
    erin = outputs.gradescope(student(result, "erin"))
    assert erin["score"] == 8.0
    assert [t["status"] for t in erin["tests"]] == ["passed", "passed", "failed"]
    assert erin["tests"][2]["output"] == (
        "error: did not return within 60 s while calling backprop on case 3"
    )
    assert erin["execution_time"] == 60.2
    frank = outputs.gradescope(student(result, "frank"))
    assert frank["score"] == 0.0
    assert [t["score"] for t in frank["tests"]] == [0.0, 0.0, 0.0]
    assert frank["output"].startswith("0/10 points: ERROR\n")


def test_gradescope_notebook_notes_reach_the_student(result):
    out = outputs.gradescope(student(result, "gina"))
    assert "note: cell 3: skipped the magic %matplotlib inline" in out["output"]


def test_gradescope_visibility_options(result):
    out = outputs.gradescope(
        student(result, "bob"),
        hidden_visibility="after_published",
        stdout_visibility="visible",
    )
    assert [t["visibility"] for t in out["tests"]] == [
        "visible",
        "after_published",
        "after_published",
    ]
    assert out["stdout_visibility"] == "visible"
    with pytest.raises(ValueError, match="hidden_visibility: expected one of"):
        outputs.gradescope(student(result, "bob"), hidden_visibility="secret")


def test_write_gradescope_one_file_per_student(result, tmp_path):
    written = outputs.write_gradescope(result, tmp_path / "gs")
    assert written == [str(tmp_path / "gs" / n / "results.json") for n in NAMES]
    bob = json.loads((tmp_path / "gs" / "bob" / "results.json").read_text())
    assert bob["score"] == 5.0
    assert sum(t["score"] for t in bob["tests"]) == 5.0


def test_write_gradescope_path_for_a_class_of_one(result, tmp_path):
    one = {**result, "students": [student(result, "carol")]}
    target = tmp_path / "autograder" / "results"
    target.mkdir(parents=True)
    outputs.write_gradescope(one, path=target / "results.json")
    assert json.loads((target / "results.json").read_text())["score"] == 7.5
    with pytest.raises(ValueError, match="this class has 7 students"):
        outputs.write_gradescope(result, path=tmp_path / "results.json")
    with pytest.raises(ValueError, match="exactly one of folder= .* and path="):
        outputs.write_gradescope(result)
    with pytest.raises(ValueError, match="exactly one of"):
        outputs.write_gradescope(one, tmp_path, path=tmp_path / "r.json")


@pytest.mark.parametrize("name", ["..", ".", "a/b"])
def test_write_gradescope_refuses_a_name_that_is_a_path(result, tmp_path, name):
    student(result, "gina")["student"] = name
    with pytest.raises(ValueError, match="one folder name"):
        outputs.write_gradescope(result, tmp_path / "gs")
    # nothing was written before the name was refused
    assert not (tmp_path / "gs").exists() or not os.listdir(tmp_path / "gs")


# --- bad input -------------------------------------------------------------------------


def test_a_result_that_is_not_one_is_named():
    with pytest.raises(TypeError, match="result: expected a class result .* got list"):
        outputs.table([])
    with pytest.raises(TypeError, match="got a dict with keys \\['title'\\]"):
        outputs.write_csv({"title": "x"}, "unused.csv")
    bad = class_result()
    del bad["students"][2]["status"]
    with pytest.raises(
        ValueError, match=r"result\['students'\]\[2\]: .* needs \['status'\]"
    ):
        outputs.table(bad)
    bad = class_result()
    bad["students"][0]["score"] = "10"
    with pytest.raises(TypeError, match=r"\['score'\]: expected a number, got str"):
        outputs.table(bad)
    bad = class_result()
    del bad["students"][1]["cases"][2]["max_score"]
    with pytest.raises(ValueError, match=r"\['cases'\]\[2\]: expected a case result"):
        outputs.write_gradescope(bad, "unused")
    for key, value in (("warnings", "check the rubric"), ("skipped", [3])):
        bad = class_result()
        bad[key] = value
        with pytest.raises(
            TypeError, match=rf"result\['{key}'\]: expected a list of strings"
        ):
            outputs.table(bad)
    bad = class_result()
    bad["kept"] = -1
    with pytest.raises(TypeError, match=r"result\['kept'\]: expected a whole number"):
        outputs.write_csv(bad, "unused.csv")
    bad = class_result()
    bad["students"][0]["status"] = "PASS"
    with pytest.raises(ValueError, match="expected one of .*MATCH.*got 'PASS'"):
        outputs.gradescope(bad["students"][0])


def test_number_writes_scores_as_a_teacher_does():
    assert [outputs.number(x) for x in (8.0, 7.5, 0.25, 0.0, -0.0, 1 / 3)] == [
        "8",
        "7.5",
        "0.25",
        "0",
        "0",
        "0.3333",
    ]


def test_an_empty_class_gives_a_header_and_a_count_line():
    empty = {"title": "t", "students": []}
    assert outputs.table(empty).splitlines()[-1] == (
        "0 students: 0 full marks, 0 partial, 0 errors"
    )
    assert outputs.csv_text(empty) == (
        "student,score,max_score,status,first_failure,diagnosis,error\n"
    )
