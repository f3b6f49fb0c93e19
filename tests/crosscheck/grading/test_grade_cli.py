"""``crosscheck grade`` end to end: a small class graded in sandboxed children, the
results folder, resuming, the usage errors, --practice and --gradescope. Expected
scores follow by hand from the rubric: 3 cases of 10 points, each split over dW1, dW2,
db1 and db2 (2.5 each)."""

from __future__ import annotations

import csv
import importlib
import json

import pytest

from crosscheck.cli import main

RIGHT = """
import numpy as np

def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1 ** 2)
    return [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]
"""
# db as a mean over the batch: both db wrong, both dW right: 5 of 10 per case
BIAS_MEAN = RIGHT.replace("sum(axis=0)", "mean(axis=0)")
EXITS = "import sys\nsys.exit(0)\n" + RIGHT
USES_REFNET = RIGHT.replace(
    "    W1, b1, W2, b2", "    import refnet\n    W1, b1, W2, b2"
)
FLAGS = ["--function", "backprop", "--layout", "4-6-3", "--activations", "tanh,linear"]
FLAGS += ["--loss", "mse", "--secret", "class of 2026", "-q"]


@pytest.fixture
def hw(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    for name, text in [
        ("ada", RIGHT),
        ("bo", BIAS_MEAN),
        ("cy", EXITS),
        ("di", USES_REFNET),
    ]:
        (folder / f"{name}.py").write_text(text)
    return folder


def grade(folder, *more):
    return main(["grade", str(folder), *FLAGS, *more])


def students(folder) -> dict:
    out = folder.parent / f"{folder.name}-grades" / "students"
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


def test_a_class_is_graded_in_sandboxes(hw, capsys):
    assert grade(hw) == 0
    got = students(hw)
    scores = {
        name: (r["score"], r["max_score"], r["status"]) for name, r in got.items()
    }
    assert scores == {
        "ada": (30.0, 30.0, "MATCH"),
        "bo": (15.0, 30.0, "MISMATCH"),
        "cy": (0.0, 30.0, "ERROR"),
        "di": (0.0, 30.0, "ERROR"),
    }
    assert "called sys.exit(0) while being imported" in got["cy"]["error"]
    assert "the rubric's forbid list holds 'refnet'" in got["di"]["error"]
    # the traceback names the student's file, not the grader's temporary copy
    assert 'File "di.py", line' in got["di"]["error"]
    assert "crosscheck-grade-" not in json.dumps(got)
    assert got["bo"]["first_failure"] == "practice: db2"
    assert [x["quantity"] for x in got["bo"]["cases"][1]["lost"]] == ["db2", "db1"]
    assert (
        "network cut off" in got["ada"]["isolation"]
        or "could not" in got["ada"]["isolation"]
    )
    out = capsys.readouterr().out
    assert "4 students: 1 full mark, 1 partial, 2 errors" in out
    results = hw.parent / "hw-grades"
    rows = list(csv.DictReader((results / "grades.csv").open(encoding="utf-8-sig")))
    assert {r["student"]: float(r["score"]) for r in rows} == {
        "ada": 30.0,
        "bo": 15.0,
        "cy": 0.0,
        "di": 0.0,
    }
    assert (results / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert (
        json.loads((results / "gradescope" / "bo" / "results.json").read_text())[
            "score"
        ]
        == 15.0
    )
    whole = json.loads((results / "grades.json").read_text())
    assert [c["hidden"] for c in whole["cases"]] == [False, True, True]
    assert "layout" not in whole["cases"][1]  # a hidden case's network is withheld


def test_a_stopped_run_goes_on_where_it_stopped(hw):
    assert grade(hw) == 0
    folder = hw.parent / "hw-grades" / "students"
    for name in ("ada", "bo"):
        data = json.loads((folder / f"{name}.json").read_text())
        (folder / f"{name}.json").write_text(json.dumps(dict(data, marker=True)))
    (folder / "cy.json").unlink()  # as if the run had stopped before cy
    (hw / "bo.py").write_text(RIGHT)  # bo handed in again
    assert grade(hw) == 0
    got = students(hw)
    assert got["ada"].get("marker") is True  # kept: neither file nor rubric changed
    assert "marker" not in got["bo"] and got["bo"]["score"] == 30.0  # regraded
    assert got["cy"]["status"] == "ERROR"  # graded now
    assert grade(hw, "--fresh") == 0
    assert "marker" not in students(hw)["ada"]


def test_another_secret_is_not_mixed_into_the_results(hw, capsys):
    assert grade(hw) == 0
    capsys.readouterr()
    flags = [f if f != "class of 2026" else "another term" for f in FLAGS]
    assert main(["grade", str(hw), *flags]) == 2
    err = capsys.readouterr().err
    assert (
        "--out" in err
        and "--fresh" in err
        and "another rubric, secret or limits" in err
    )


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--function", "backprop"], "--layout, --activations, --loss: required"),
        (FLAGS[:3] + ["4-x-3"] + FLAGS[4:], "--layout"),
        (FLAGS[:5] + ["tanh,relu,linear"] + FLAGS[6:], "--activations"),
        (FLAGS + ["--batch", "0"], "--batch"),
        (FLAGS + ["--workers", "0"], "--workers"),
        (FLAGS + ["--memory", "lots"], "--memory"),
        (["--rubric", "missing.toml"], "cannot read"),
    ],
)
def test_usage_errors_name_the_flag(hw, capsys, argv, words):
    assert main(["grade", str(hw), *argv]) == 2
    assert words in capsys.readouterr().err
    assert not (hw.parent / "hw-grades" / "students").exists() or not any(
        (hw.parent / "hw-grades" / "students").iterdir()
    )


def test_submissions_must_be_a_folder(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nothing"), *FLAGS]) == 2
    assert "SUBMISSIONS: expected a folder" in capsys.readouterr().err


def test_practice_prints_the_students_command(capsys):
    assert main(["grade", "--practice", *FLAGS, "--convention", "nielsen"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        "crosscheck mine FILE.py:backprop --layout 4-6-3 --activations tanh,linear "
        "--loss mse --convention nielsen"
    )
    assert out[2] == "# and 2 hidden case(s), drawn from the secret"


def test_gradescope_grades_one_submission(tmp_path):
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "helpers.py").write_text("X = 1\n")
    (submission / "hw.py").write_text(BIAS_MEAN)
    path = tmp_path / "results" / "results.json"
    path.parent.mkdir()
    assert main(["grade", str(submission), *FLAGS, "--gradescope", str(path)]) == 0
    got = json.loads(path.read_text())
    assert got["score"] == 15.0
    assert [t["max_score"] for t in got["tests"]] == [10.0, 10.0, 10.0]
    assert [t["status"] for t in got["tests"]] == ["failed"] * 3


def test_a_failure_of_the_grader_is_one_students_error(hw, tmp_path, monkeypatch):
    from crosscheck.grading.rubric import from_arguments

    # the module (the package's name "grade" is the function)
    grading = importlib.import_module("crosscheck.grading.grade")

    real = grading.grade_one

    def flaky(sub, *args):
        if sub.name == "bo":
            raise RuntimeError("a bug of ours")
        return real(sub, *args)

    monkeypatch.setattr(grading, "grade_one", flaky)
    rubric = from_arguments(
        "backprop", "4-6-3", "tanh,linear".split(","), "mse", secret="k"
    )
    result = grading.grade(hw, rubric, out=tmp_path / "out", workers=2)
    by_name = {s["student"]: s for s in result["students"]}
    assert by_name["ada"]["score"] == 30.0
    assert by_name["bo"]["status"] == "ERROR"
    assert (
        "the grader itself failed on this submission (RuntimeError: a bug of ours)"
        in (by_name["bo"]["error"])
    )
    monkeypatch.setattr(grading, "grade_one", real)
    again = grading.grade(hw, rubric, out=tmp_path / "out", workers=2)
    assert {s["student"]: s["score"] for s in again["students"]}["bo"] == 15.0


SABOTEUR = """
import glob, os, time
import numpy as np

def _others(paths):
    # its own folder (HOME) is its own to spoil
    return [p for p in paths if not p.startswith(os.environ["HOME"])]

def _attack(root):
    found = 0
    pattern = os.path.join(root, "**", "inputs.npz")
    for path in _others(glob.glob(pattern, recursive=True)):
        found += 1
        try:
            arrays = dict(np.load(path))
            np.savez(path, **{k: v * 2 for k, v in arrays.items()})
        except Exception:
            pass
    for folder in _others(glob.glob(os.path.join(root, "*", "*"))):
        if os.path.isdir(folder) and "code" not in folder:
            found += 1
            try:
                with open(os.path.join(folder, "result.json"), "w") as fh:
                    fh.write('{"result": {"load_error": "forged"}}')
            except Exception:
                pass
    return found

seen, end = 0, time.time() + 3
while time.time() < end:
    seen += _attack(ROOT)
    time.sleep(0.02)
print("the saboteur found", seen)
"""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_student_cannot_reach_another_students_grade(tmp_path, workers):
    from crosscheck.grading import grade
    from crosscheck.grading.grade import _scratch_root
    from crosscheck.grading.rubric import from_arguments

    hw = tmp_path / "hw"
    hw.mkdir()
    root = repr(_scratch_root())  # where every run's and child's folders are
    (hw / "aaa.py").write_text(SABOTEUR.replace("ROOT", root) + RIGHT)
    (hw / "bob.py").write_text(RIGHT)
    rubric = from_arguments("backprop", "4-6-3", ["tanh", "linear"], "mse", secret="k")
    result = grade(hw, rubric, out=tmp_path / "out", workers=workers)
    by_name = {s["student"]: s for s in result["students"]}
    if "folders hidden" not in by_name["aaa"]["isolation"]:
        pytest.skip(f"no mount namespace here: {by_name['aaa']['isolation']}")
    assert by_name["bob"]["score"] == 30.0
    assert "the saboteur found 0" in by_name["aaa"]["stdout"]


def test_regrade_one_student_and_limits_that_changed(hw, capsys):
    assert grade(hw) == 0
    folder = hw.parent / "hw-grades" / "students"
    for name in ("ada", "bo"):
        data = json.loads((folder / f"{name}.json").read_text())
        (folder / f"{name}.json").write_text(json.dumps(dict(data, marker=True)))
    assert grade(hw, "--regrade", "bo") == 0
    got = students(hw)
    assert got["ada"].get("marker") is True and "marker" not in got["bo"]
    capsys.readouterr()
    assert grade(hw, "--regrade", "zed") == 2
    assert "--regrade: no student named 'zed'" in capsys.readouterr().err
    # another time limit decides other outcomes: not mixed with the old results
    assert grade(hw, "--timeout", "7") == 2
    assert "--out" in capsys.readouterr().err


def test_flags_a_rubric_replaces_are_refused_with_it(hw, tmp_path, capsys):
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(
        'function = "backprop"\nsecret = "s"\n[[case]]\nname = "p"\n'
        'layout = "4-6-3"\nactivations = ["tanh", "linear"]\nloss = "mse"\n'
    )
    for flag, value in [("--secret", "x"), ("--layout", "4-6-3"), ("--hidden", "3")]:
        assert main(["grade", str(hw), "--rubric", str(rubric), flag, value]) == 2
        assert f"{flag}: not used with --rubric" in capsys.readouterr().err
    assert main(["grade", str(hw), "--rubric", str(rubric), "-q"]) == 0


def test_an_empty_class_and_files_that_are_no_submission(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.pdf").write_text("")
    assert main(["grade", str(empty), *FLAGS]) == 2
    err = capsys.readouterr().err
    assert "SUBMISSIONS: no submission in" in err and "notes.pdf" in err
    (empty / "ada.py").write_text(RIGHT)
    (empty / "yan.zip").write_text("")
    assert main(["grade", str(empty), *FLAGS]) == 0
    result = json.loads((tmp_path / "empty-grades" / "grades.json").read_text())
    assert result["skipped"] == ["notes.pdf", "yan.zip"]


def test_a_rubric_everyone_fails_alike_is_flagged(tmp_path):
    from crosscheck.grading import grade as grade_class
    from crosscheck.grading.rubric import from_arguments

    hw = tmp_path / "hw"
    hw.mkdir()
    for name in ("ada", "bo", "cy"):
        (hw / f"{name}.py").write_text(RIGHT)
    # the teacher meant tanh, linear; everyone's right code fails at the output delta
    rubric = from_arguments("backprop", "4-6-3", "relu", "mse", secret="k")
    result = grade_class(hw, rubric, out=tmp_path / "out")
    assert result["warnings"] and "check the rubric" in result["warnings"][0]
    right = from_arguments("backprop", "4-6-3", ["tanh", "linear"], "mse", secret="k")
    assert grade_class(hw, right, out=tmp_path / "out2")["warnings"] == []


HANGS = "def backprop(weights, X, Y):\n    while True:\n        pass\n"


def test_ctrl_c_ends_at_once_and_a_rerun_goes_on(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    hw = tmp_path / "hw"
    hw.mkdir()
    (hw / "aa_hangs.py").write_text(HANGS)
    (hw / "ab_hangs.py").write_text(HANGS)
    cmd = [
        sys.executable,
        "-m",
        "crosscheck",
        "grade",
        str(hw),
        *FLAGS,
        "--workers",
        "2",
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(3)  # both children running their endless loop (time limit 60 s)
    start = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert time.perf_counter() - start < 10  # not the children's 60 s
    assert proc.returncode == 130
    assert "interrupted" in err and "Traceback" not in err
