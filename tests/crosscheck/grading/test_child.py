"""crosscheck/grading/child.py, run as ``crosscheck grade`` runs it: in a sandboxed child
(crosscheck.mine.sandbox.run), on tiny student files written here.

Each case's expected output is worked by hand from its inputs (the students' formulas
are one line of numpy); a case after a crash has no output file, and the sandbox's
Outcome names where the child was.
"""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

from crosscheck.grading import transport
from crosscheck.mine.sandbox import Limits, run

JOB = "crosscheck.grading.child:run_cases"
MB = 2**20

# Three cases, told apart by their batch size (X's second axis): 1, 2 and 3 samples.
CASES = [
    {
        "W1": np.full((2, 3), float(i + 1)),
        "b1": np.zeros((2, 1)),
        "X": np.arange(3.0 * n).reshape(3, n),
        "Y": np.arange(n),
    }
    for i, n in enumerate((1, 2, 3))
]

STUDENTS = {
    "good": """
        import numpy as np

        def backprop(weights, X, Y):
            W1, b1 = weights
            return (float(X.sum()), {"W1": 2 * W1, "b1": b1 + np.float32(1)})
    """,
    "raises_in_case_2": """
        def backprop(weights, X, Y):
            if X.shape[1] == 2:
                return helper(X)
            return [X.shape[1]]

        def helper(X):
            raise ValueError(f"no batch of {X.shape[1]}")
    """,
    "exits_in_case_2": """
        import sys

        def backprop(weights, X, Y):
            if X.shape[1] == 2:
                sys.exit(3)
            return [X.shape[1]]
    """,
    "os_exit_in_case_2": """
        import os

        def backprop(weights, X, Y):
            if X.shape[1] == 2:
                os._exit(0)
            return [X.shape[1]]
    """,
    "in_place": """
        def backprop(weights, X, Y):
            weights[0] -= 1.0      # W1 changed in place
            weights[1] = None      # the list changed, not the array: not recorded
            return [X.shape[1]]
    """,
    "returns_a_set": """
        def backprop(weights, X, Y):
            return {"W1": {1, 2}}
    """,
    "import_raises": """
        import numpy as np

        DATA = np.loadtxt(open("data.csv"))

        def backprop(weights, X, Y):
            return []
    """,
    "import_exits": """
        import sys
        sys.exit("bye")
    """,
    "no_func": """
        def back_prop(weights, X, Y):
            return []
    """,
}


def write_inputs(folder, container="list"):
    folder.mkdir()
    arrays = {
        f"{i}/{key}": value
        for i, case in enumerate(CASES)
        for key, value in case.items()
    }
    np.savez(folder / "inputs.npz", **arrays)
    cases = [{"container": container, "names": ["W1", "b1"]} for _ in CASES]
    (folder / "inputs.json").write_text(json.dumps({"cases": cases}))


def grade(tmp_path, name, kind="py", source=None, container="list", timeout=20):
    """(the Outcome, [each case's (tree, error) from its output files])."""
    path = tmp_path / f"{name}.{kind}"
    path.write_text(source if source is not None else textwrap.dedent(STUDENTS[name]))
    write_inputs(tmp_path / "in", container)
    (tmp_path / "out").mkdir()
    payload = {
        "source": str(path),
        "kind": kind,
        "function": "backprop",
        "inputs": str(tmp_path / "in"),
        "outputs": str(tmp_path / "out"),
        "max_bytes": MB,
    }
    out = run(JOB, payload, limits=Limits(timeout=timeout))
    read = [transport.read(tmp_path / "out" / str(i), MB) for i in range(len(CASES))]
    return out, read


def test_each_case_result_is_written(tmp_path):
    out, cases = grade(tmp_path, "good")
    assert out.result == {"notes": [], "load_error": None}
    for (tree, error), case in zip(cases, CASES):
        assert error is None
        loss, grads = tree["returned"]
        assert loss == float(case["X"].sum())  # 0, 0+1+...+5 = 15, 0+...+8 = 36
        np.testing.assert_array_equal(grads["W1"], 2 * case["W1"])
        assert grads["b1"].dtype == np.float64  # float64 + a float32 scalar
        np.testing.assert_array_equal(grads["b1"], np.ones((2, 1)))
        assert tree["mutated"] == {}
    assert [c[0]["returned"][0] for c in cases] == [3.0, 15.0, 36.0]


def test_an_exception_in_case_2_keeps_cases_1_and_3(tmp_path):
    out, cases = grade(tmp_path, "raises_in_case_2")
    assert out.ok and out.result["load_error"] is None
    assert cases[0][0]["returned"] == [1] and cases[2][0]["returned"] == [3]
    error = cases[1][0]["error"]
    path = tmp_path / "raises_in_case_2.py"
    # the student's frames only, not the child's (Python 3.11+ adds ^^^ marker lines)
    lines = [line for line in error.splitlines() if line.strip(" ^~")]
    assert lines == [
        "raised ValueError: no batch of 2",
        "Traceback (most recent call last):",
        f'  File "{path}", line 4, in backprop',
        "    return helper(X)",
        f'  File "{path}", line 8, in helper',
        '    raise ValueError(f"no batch of {X.shape[1]}")',
        "ValueError: no batch of 2",
    ]


def test_sys_exit_in_case_2_is_that_cases_error(tmp_path):
    out, cases = grade(tmp_path, "exits_in_case_2")
    assert out.ok
    assert [c[0] for c in cases] == [
        {"returned": [1], "mutated": {}},
        {"error": "called sys.exit(3)"},
        {"returned": [3], "mutated": {}},
    ]


def test_os_exit_in_case_2_keeps_case_1_and_names_the_stage(tmp_path):
    out, cases = grade(tmp_path, "os_exit_in_case_2")
    assert out.error == (
        "the process exited (code 0, as os._exit(0) does) without a result"
    )
    assert out.stage == "calling backprop on case 2"
    assert cases[0] == ({"returned": [1], "mutated": {}}, None)
    assert [c[1] for c in cases[1:]] == ["1.json is missing", "2.json is missing"]


@pytest.mark.parametrize("container", ["list", "dict"])
def test_an_in_place_change_is_recorded(tmp_path, container):
    source = STUDENTS["in_place"]
    if container == "dict":
        source = source.replace("weights[0]", 'weights["W1"]')
        source = source.replace("weights[1]", 'weights["b1"]')
    out, cases = grade(
        tmp_path, "in_place", source=textwrap.dedent(source), container=container
    )
    for (tree, _), case in zip(cases, CASES):
        assert list(tree["mutated"]) == ["W1"]
        np.testing.assert_array_equal(tree["mutated"]["W1"], case["W1"] - 1.0)


def test_a_return_value_that_cannot_be_sent_is_the_cases_error(tmp_path):
    _, cases = grade(tmp_path, "returns_a_set")
    assert cases[0][0] == {
        "error": "returned something that cannot be read back: returned['W1'] is a "
        "set; expected numpy arrays, numbers, bools, str, None, or lists, tuples and "
        "dicts of them"
    }


def test_load_errors_are_returned_and_no_case_runs(tmp_path):
    results = {}
    for name in ("import_raises", "import_exits", "no_func"):
        folder = tmp_path / name
        folder.mkdir()
        out, cases = grade(folder, name)
        assert out.ok and all(
            c[1] == f"{i}.json is missing" for i, c in enumerate(cases)
        )
        results[name] = out.result["load_error"]
    path = tmp_path / "import_raises" / "import_raises.py"
    assert results["import_raises"].splitlines()[:5] == [
        f"importing {path} failed: FileNotFoundError: [Errno 2] No such file or "
        "directory: 'data.csv'",
        "(the file's top-level code runs when it is imported: put tests and examples "
        'under if __name__ == "__main__":)',
        "Traceback (most recent call last):",
        f'  File "{path}", line 4, in <module>',
        '    DATA = np.loadtxt(open("data.csv"))',
    ]
    assert results["import_exits"] == "called sys.exit('bye') while being imported"
    path = tmp_path / "no_func" / "no_func.py"
    assert results["no_func"] == (
        f"{path} defines no 'backprop'; its functions: ['back_prop']"
    )


def nb(*sources) -> str:
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": s}
        for s in sources
    ]
    return json.dumps(
        {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    )


def test_a_notebook_runs_its_cells_in_order_skipping_magics(tmp_path):
    source = nb(
        "%matplotlib inline\nimport numpy as np\nSCALE = 3",
        "!pip install numpy",
        "def backprop(weights, X, Y):\n    return [SCALE * weights[0]]",
        "backprop(None, None, None)  # a test cell that fails",
        "SCALE = 4",
    )
    out, cases = grade(tmp_path, "hw", kind="ipynb", source=source)
    assert out.result == {
        "notes": [
            "cell 1: skipped the magic %matplotlib inline",
            "cell 2: skipped the shell escape !pip install numpy",
            "cell 4 raised TypeError: 'NoneType' object is not subscriptable; the "
            "cells after it still ran",
        ],
        "load_error": None,
    }
    for (tree, _), case in zip(cases, CASES):  # the last cell's SCALE = 4
        np.testing.assert_array_equal(tree["returned"][0], 4 * case["W1"])


def test_a_notebook_error_in_case_1_points_at_its_cell(tmp_path):
    source = nb("def backprop(weights, X, Y):\n    return 1 / 0")
    _, cases = grade(tmp_path, "hw", kind="ipynb", source=source)
    assert cases[0][0]["error"].splitlines()[:4] == [
        "raised ZeroDivisionError: division by zero",
        "Traceback (most recent call last):",
        f'  File "{tmp_path / "hw.ipynb"} (cell 1)", line 2, in backprop',
        "    return 1 / 0",
    ]


def test_a_notebook_without_func_is_a_load_error(tmp_path):
    source = nb("x = 1", "def helper():\n    pass", "1 / 0")
    out, _ = grade(tmp_path, "hw", kind="ipynb", source=source)
    assert out.result["load_error"] == (
        "hw.ipynb defines no 'backprop' (cells 3 raised); its functions: ['helper']"
    )


def test_a_long_error_keeps_its_first_and_last_lines():
    from crosscheck.grading.child import _cut

    assert (
        _cut("a" * 10 + "b" * 10, keep=10)
        == "aaaaa\n[... 10 characters cut ...]\nbbbbb"
    )
    assert _cut("short", keep=10) == "short"


def test_a_test_left_below_the_function_is_a_note_not_a_zero(tmp_path):
    """A .py whose top-level test fails after FUNC is defined is graded, as a notebook
    whose last cell fails is; the failure is a note."""
    folder = tmp_path / "kim"
    folder.mkdir()
    (folder / "kim.py").write_text(
        "def backprop(weights, X, Y):\n"
        "    return [w * 0 for w in weights]\n\n"
        "assert backprop([1.0], None, None) == [1.0], 'my own test'\n"
    )
    from crosscheck.grading import child

    notes = []
    fn = child.load_function(str(folder / "kim.py"), "backprop", notes)
    assert callable(fn)
    assert len(notes) == 1 and "AssertionError: my own test" in notes[0]
    assert notes[0].endswith("backprop was defined before that line and is graded")
