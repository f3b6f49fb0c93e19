"""The grading corpus: every class of tests/crosscheck/grading/corpus/ graded by
``crosscheck.grading.grade``, each student's score, status and headline as derived by hand.

Each class folder holds a ``rubric.toml`` (a practice case and hidden ones), the
students' work under ``submissions/`` (.py files, notebooks, one folder per student) and
``expected.toml``: per student the score and max_score worked out by hand from the
rubric's points and the scoring rules (a quantity earns its points iff its row matches),
the status, and a fragment of the headline diagnosis. The submissions were written by
hand for issue 24, in the courses' own styles: correct ones in every preset, each seeded
bug of crosscheck.bugs.CATALOG, wrong conventions, a hard-coded answer, notebooks, and
hostile code (exceptions, a hang, sys.exit, os._exit, a segfault, a memory hog, 100 MiB
of prints, the network, a neighbour's files).

Each class is graded once (a module-scope cache), from a copy in a temporary folder with
2 workers: the hostile class's snoop only writes into a folder marked as a copy, so the
checked-in corpus is never rewritten, and it is graded from inside the copy of its class
folder (the working folder a teacher would run it from, which the snoop looks through).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from crosscheck.bugs import CATALOG
from crosscheck.grading import grade
from crosscheck.grading.html import write_html
from crosscheck.mine.conventions import PRESETS
from tests.crosscheck.grading import test_html_report
from tests.crosscheck.grading.test_html_report import artifacts, severe

browser = test_html_report.browser  # the Chromium fixture, shared

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

CORPUS = Path(__file__).parent / "corpus"
CLASSES = sorted(p.name for p in CORPUS.iterdir() if (p / "rubric.toml").is_file())
MARK = ".graded-copy"  # the hostile snoop writes only into a folder holding this file


def _toml(path: Path) -> dict:
    with open(path, "rb") as fh:
        return tomllib.load(fh)


EXPECTED = {name: _toml(CORPUS / name / "expected.toml") for name in CLASSES}
STUDENTS = [(c, s) for c in CLASSES for s in EXPECTED[c]]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """graded(class) -> (the class result, the graded copy's folder); each class once."""
    done = {}

    def get(name: str):
        if name not in done:
            copy = tmp_path_factory.mktemp(name) / name
            shutil.copytree(
                CORPUS / name, copy, ignore=shutil.ignore_patterns("__pycache__")
            )
            (copy / "submissions" / MARK).write_text("")
            here = os.getcwd()
            os.chdir(copy)  # a teacher grades from the class folder
            try:
                result = grade(
                    str(copy / "submissions"),
                    str(copy / "rubric.toml"),
                    out=str(copy.parent / "out"),
                    workers=2,
                )
            finally:
                os.chdir(here)
            done[name] = (result, copy)
        return done[name]

    return get


def _student(result: dict, name: str) -> dict:
    found = [s for s in result["students"] if s["student"] == name]
    assert len(found) == 1, [s["student"] for s in result["students"]]
    return found[0]


def _hidden_folders(student: dict) -> bool:
    """Whether the sandbox hid the other students' folders from this child."""
    return (
        re.search(r"\b\d+ folders? hidden", student.get("isolation") or "") is not None
    )


# ---------------------------------------------------------------------------------
# The corpus itself: size, coverage, and expected grades consistent with the rubrics
# ---------------------------------------------------------------------------------


def test_at_least_sixty_submissions():
    assert len(STUDENTS) >= 60, len(STUDENTS)


def test_every_student_on_disk_has_an_expected_grade_and_back():
    for name in CLASSES:
        folder = CORPUS / name / "submissions"
        on_disk = {
            p.stem if p.is_file() else p.name
            for p in folder.iterdir()
            if not p.name.startswith((".", "_"))
            and (p.is_dir() or p.suffix in (".py", ".ipynb"))
        }
        assert on_disk == set(EXPECTED[name]), name


def test_every_seeded_bug_is_written_by_a_student():
    text = "\n".join(
        p.read_text() for p in CORPUS.rglob("*") if p.suffix in (".py", ".ipynb")
    )
    text = text.replace('\\"', '"')  # a notebook's JSON escapes its quotes
    missing = [b.name for b in CATALOG if f'CATALOG "{b.name}"' not in text]
    assert not missing


def test_every_preset_has_a_class_with_a_correct_submission():
    covered = {
        _toml(CORPUS / name / "rubric.toml")["convention"]
        for name in CLASSES
        if any(
            e["status"] == "MATCH" and e["score"] == e["max_score"]
            for e in EXPECTED[name].values()
        )
    }
    assert covered >= set(PRESETS), set(PRESETS) - covered


def _points(case: dict) -> float:
    """A case's total points, from the rubric alone (a number, or a dict of groups)."""
    points = case["points"]
    return float(sum(points.values()) if isinstance(points, dict) else points)


@pytest.mark.parametrize("name", CLASSES)
def test_expected_max_scores_add_up_the_rubric(name):
    rubric = _toml(CORPUS / name / "rubric.toml")
    total = sum(_points(c) for c in rubric["case"])
    assert any(not c.get("hidden", False) for c in rubric["case"])
    assert any(c.get("hidden", False) for c in rubric["case"])
    for student, e in EXPECTED[name].items():
        assert e["max_score"] == total, student
        assert 0 <= e["score"] <= total, student
        assert e["status"] in ("MATCH", "MISMATCH", "ERROR"), student


# ---------------------------------------------------------------------------------
# Graded: every student as derived by hand
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_class_result(graded, name):
    result, copy = graded(name)
    rubric = _toml(copy / "rubric.toml")
    assert result["function"] == rubric["function"]
    assert result["convention"] == rubric["convention"]
    assert [c["name"] for c in result["cases"]] == [c["name"] for c in rubric["case"]]
    names = [s["student"] for s in result["students"]]
    assert names == sorted(EXPECTED[name]), names
    for student in names:  # each written atomically as it finished
        assert (copy.parent / "out" / "students" / f"{student}.json").is_file()


@pytest.mark.parametrize(
    ("name", "student"), STUDENTS, ids=[f"{c}/{s}" for c, s in STUDENTS]
)
def test_student_grade(graded, name, student):
    result, _ = graded(name)
    got = _student(result, student)
    want = EXPECTED[name][student]
    if want.get("needs_hidden_folders") and not _hidden_folders(got):
        # the sandbox could not hide the neighbours: the snoop's own grade is moot
        # (its neighbours' grades are still checked, test_hostile_neighbours_unaffected)
        return
    summary = (
        f"{student}: {got['score']}/{got['max_score']} {got['status']}: "
        f"{got['diagnosis']!r}"
    )
    assert got["score"] == pytest.approx(want["score"]), summary
    assert got["max_score"] == pytest.approx(want["max_score"]), summary
    assert got["status"] == want["status"], summary
    if want["diagnosis"]:
        assert want["diagnosis"] in got["diagnosis"], summary
    else:
        assert got["diagnosis"] == "", summary
    assert len(got["cases"]) == len(result["cases"]), summary
    notes = "\n".join(got.get("notes") or [])
    for fragment in want.get("notes", []):
        assert fragment in notes, (fragment, notes)
    if "case_diagnosis" in want:
        sentences = "\n".join(s for case in got["cases"] for s in case["diagnosis"])
        assert want["case_diagnosis"] in sentences, sentences


def test_hostile_neighbours_unaffected(graded):
    """The well-behaved students of the hostile class keep full marks, the snoop did not
    rewrite victor.py where the sandbox hid the folders, and 100 MiB of prints come back
    truncated."""
    result, copy = graded("hostile")
    neighbours = [s for s, e in EXPECTED["hostile"].items() if e.get("neighbour")]
    assert len(neighbours) >= 3
    for student in neighbours:
        got = _student(result, student)
        assert got["status"] == "MATCH", got["diagnosis"]
        assert got["score"] == pytest.approx(got["max_score"]), got["diagnosis"]
    victor = copy / "submissions" / "victor.py"
    original = CORPUS / "hostile" / "submissions" / "victor.py"
    if _hidden_folders(_student(result, "mallory_snoop")):
        digest = hashlib.sha256(victor.read_bytes()).hexdigest()
        assert digest == hashlib.sha256(original.read_bytes()).hexdigest()
    for got in result["students"]:
        assert len(got["stdout"]) + len(got["stderr"]) < 2**20, got["student"]


def test_a_real_class_report_renders_in_chromium(graded, browser, tmp_path):
    """The hostile class as graded (crashes, 100 MiB of prints, a snoop): its report
    opens in Chromium with no console error, one section per student, the histogram."""
    result, _ = graded("hostile")
    path = tmp_path / "report.html"
    write_html(result, path)
    browser.get(path.as_uri())
    assert severe(browser) == []
    state = browser.execute_script(
        "return {sections: document.querySelectorAll('section.student').length, "
        "bars: [...document.querySelectorAll('svg.histogram rect.bar')].map("
        "b => Number(b.dataset.count)), scripts: document.scripts.length}"
    )
    assert state["sections"] == len(result["students"])
    assert sum(state["bars"]) == len(result["students"])
    assert state["scripts"] == 0
    shot = artifacts(tmp_path) / "hostile-class-report.png"
    browser.save_screenshot(str(shot))
    print(f"screenshot: {shot}")
