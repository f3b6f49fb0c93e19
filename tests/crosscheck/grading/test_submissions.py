"""crosscheck/grading/submissions.py: who handed in what, found without running the
students' code; notebooks turned into Python with their magics left out.

The layouts are built in tmp_path; every expected name, path and note is written by
hand from the layout.
"""

from __future__ import annotations

import json
import os

import pytest

from crosscheck.grading.submissions import (
    Submission,
    find,
    notebook_source,
    read_bounded,
)

DEF = "import numpy as np\n\n\ndef backprop(weights, X, Y):\n    return []\n"
RAISES = "raise SystemExit('this must never run')\n" + DEF


def notebook(*cells) -> str:
    """A v4 notebook: each cell a (cell_type, source) pair, source str or list."""
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": source}
                | ({"outputs": [], "execution_count": None} if kind == "code" else {})
                for kind, source in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def layout(root, files: dict) -> str:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_files_folders_and_notebooks_are_each_a_student(tmp_path):
    root = layout(
        tmp_path,
        {
            "alice.py": RAISES,  # never run: found by name, read by nobody
            "bob.ipynb": notebook(("code", DEF)),
            "carol/hw3/backprop.py": DEF,
            "carol/hw3/helpers.py": "def sigmoid(z):\n    return z\n",
            "carol/README.md": "my homework",
            "dave/work.ipynb": notebook(("markdown", "# hw"), ("code", DEF)),
            "notes.txt": "not a submission",
            ".hidden.py": DEF,
            "__pycache__/x.py": DEF,
            "__MACOSX/._alice.py": DEF,
            ".ipynb_checkpoints/bob-checkpoint.ipynb": notebook(("code", DEF)),
        },
    )
    assert find(root, "backprop") == [
        Submission("alice", f"{root}/alice.py", "py", f"{root}/alice.py"),
        Submission("bob", f"{root}/bob.ipynb", "ipynb", f"{root}/bob.ipynb"),
        Submission("carol", f"{root}/carol/hw3/backprop.py", "py", f"{root}/carol"),
        Submission("dave", f"{root}/dave/work.ipynb", "ipynb", f"{root}/dave"),
    ]


def test_def_inside_if_counts_but_not_inside_a_class_or_another_def(tmp_path):
    root = layout(
        tmp_path,
        {
            "a/x.py": "if True:\n    def backprop(w, X, Y):\n        pass\n",
            "b/x.py": "class Net:\n    def backprop(self, w, X, Y):\n        pass\n",
            "c/x.py": "def outer():\n    def backprop(w, X, Y):\n        pass\n",
            "d/x.py": "backprop = lambda w, X, Y: None\n",
        },
    )
    found = {s.name: s for s in find(root, "backprop")}
    assert found["a"].error is None
    for name in "bcd":
        assert found[name].path is None
        assert (
            found[name].error == f"no file in {name}/ defines backprop: it holds x.py"
        )


def test_a_folder_with_two_files_defining_func_is_that_students_error(tmp_path):
    root = layout(tmp_path, {"eve/hw.py": DEF, "eve/old/hw_v1.py": DEF})
    (sub,) = find(root, "backprop")
    assert (sub.name, sub.path, sub.kind, sub.root) == (
        "eve",
        None,
        None,
        f"{root}/eve",
    )
    assert sub.error == "2 files in eve/ define backprop: hw.py, old/hw_v1.py; keep one"


def test_a_notebook_and_its_exported_script_grade_the_script(tmp_path):
    root = layout(tmp_path, {"eve/hw.py": DEF, "eve/hw.ipynb": notebook(("code", DEF))})
    (sub,) = find(root, "backprop")
    assert (sub.path, sub.kind, sub.error) == (f"{root}/eve/hw.py", "py", None)
    assert sub.note == "hw.py graded; hw.ipynb also defines backprop and was left out"


def test_a_folder_with_none_names_its_files_and_why(tmp_path):
    root = layout(
        tmp_path,
        {
            "fay/hw.py": "def backprop(w, X, Y)\n    return []\n",  # no colon
            "fay/util.py": "x = 1\n",
            "gus/notes.md": "no code",
        },
    )
    fay, gus = find(root, "backprop")
    assert fay.error == (
        "no file in fay/ defines backprop: it holds hw.py (does not parse: expected "
        "':', line 1), util.py"
    )
    assert gus.error == "gus/ holds no .py or .ipynb file"


def test_two_entries_for_one_student_are_a_value_error_naming_both(tmp_path):
    root = layout(tmp_path, {"alice.py": DEF, "alice/hw.py": DEF})
    with pytest.raises(ValueError) as err:
        find(root, "backprop")
    assert str(err.value) == (
        f"submissions: two entries name the student 'alice': {root}/alice "
        f"and {root}/alice.py; rename or remove one"
    )


def test_an_excluded_folder_is_passed_over(tmp_path):
    root = layout(tmp_path, {"alice.py": DEF, "out/students/x.py": DEF})
    assert [s.name for s in find(root, "backprop", exclude=[tmp_path / "out"])] == [
        "alice"
    ]


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match="submissions: expected a folder, got"):
        find(tmp_path / "missing", "backprop")
    with pytest.raises(ValueError, match="function: expected a Python name, got 'a b'"):
        find(tmp_path, "a b")


def test_a_file_over_the_cap_is_refused_in_words(tmp_path):
    (tmp_path / "big.py").write_bytes(b"#" * 101)
    assert read_bounded(tmp_path / "big.py", limit=101) == b"#" * 101
    with pytest.raises(ValueError, match="read up to 100 bytes"):
        read_bounded(tmp_path / "big.py", limit=100)
    os.mkfifo(tmp_path / "fifo.py")  # opening it would block: never opened
    with pytest.raises(ValueError, match="not a regular file"):
        read_bounded(tmp_path / "fifo.py")


def test_a_notebooks_magics_and_shell_escapes_are_skipped_with_a_note(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_text(
        notebook(
            ("markdown", "# Homework 3"),
            ("code", ["%matplotlib inline\n", "import numpy as np\n"]),
            ("code", "!pip install numpy"),
            ("code", "%%time\nx = 1\n"),
            ("raw", "%not code"),
            ("code", "if True:\n    %time y = 2\n    z = 3\n"),
            ("code", ""),
        )
    )
    code, notes = notebook_source(path)
    assert notes == [
        "cell 2: skipped the magic %matplotlib inline",
        "cell 3: skipped the shell escape !pip install numpy",
        "cell 4: skipped the whole cell, run by the cell magic %%time",
        "cell 6: skipped the magic %time y = 2",
    ]
    assert code == (
        "# cell 2\npass\nimport numpy as np\n"
        "# cell 3\npass\n"
        "# cell 6\nif True:\n    pass\n    z = 3\n"
    )
    compile(code, "nb", "exec")  # the blocks around a skipped line still parse


def test_a_file_that_is_not_a_notebook_is_a_value_error(tmp_path):
    (tmp_path / "a.ipynb").write_text("print('hi')")
    (tmp_path / "b.ipynb").write_text('{"worksheets": []}')
    with pytest.raises(ValueError, match="a.ipynb: not a notebook \\(not JSON"):
        notebook_source(tmp_path / "a.ipynb")
    with pytest.raises(ValueError, match="no list of 'cells'"):
        notebook_source(tmp_path / "b.ipynb")
