"""A class result written by hand in the grading spec's schema, for the outputs' tests.

Seven students, three cases (4 + 4 + 2 = 10 points, each split evenly over dW2, db2,
dW1, db1):

| student | status   | score | what it covers                                             |
|---------|----------|-------|------------------------------------------------------------|
| alice   | MATCH    | 10    | full marks                                                 |
| bob     | MISMATCH | 5     | BP2's f' forgotten: dW1, db1 lost in every case            |
| carol   | MISMATCH | 7.5   | dW1 times 0.4012 (a headline with digits), every case      |
| dave    | MISMATCH | 8     | dW1 times 0.5234: groups with carol's once digits are cut  |
| erin    | ERROR    | 8     | timed out on case 3 (a hidden case), cases 1 and 2 kept    |
| frank   | ERROR    | 0     | could not be loaded: every case ERROR                      |
| gina    | MISMATCH | 5     | a notebook: notes, 40 kB of prints with a script tag in    |

Every number here is typed, never computed by the code under test; the tests read the
expected values off this table.
"""

from __future__ import annotations

import copy

SENTENCES = {
    "bp2": (
        'dW1 (BP2, chapter 6 "Backpropagation"): the f\'(z[1]) factor of BP2 is '
        "missing: delta1 = delta2 @ W2.T without the sigmoid derivative (BP4/BP3 carry "
        "it into dW1)"
    ),
    "bp2_after": (
        'after dW1, the first failing row: db1 (BP3, chapter 6 "Backpropagation"): '
        "db1 sums delta1, which lacks the f'(z[1]) factor"
    ),
    "carol": (
        'dW1 (BP4, chapter 6 "Backpropagation"): your dW1 equals the reference times '
        "0.4012345, a constant factor no known mistake or convention explains"
    ),
    "dave": (
        'dW1 (BP4, chapter 6 "Backpropagation"): your dW1 equals the reference times '
        "0.5234, a constant factor no known mistake or convention explains"
    ),
    "mean": (
        'db2 (BP3, chapter 6 "Backpropagation"): db2 is the mean over the batch of '
        "delta2; BP3 sums it"
    ),
    "mean_after": (
        'after db2, the first failing row: db1 (BP3, chapter 6 "Backpropagation"): db1 '
        "is the mean over the batch of delta1; BP3 sums it"
    ),
    "timeout": "did not return within 60 s while calling backprop on case 3",
    "load": (
        "could not be loaded: importing hw.py raised NameError: name 'np' is not "
        'defined (File "hw.py", line 3, in <module>)'
    ),
}

TABLE_OK = """\
quantity  shape         max abs err  norm err      rtol  err/tol  worst at    result
------------------------------------------------------------------------------------
dW2       (3, 6)           2.22e-16  2.06e-16   6.3e-15   0.0035  (0, 1)      ok
db2       (3, 1)           1.11e-16  9.37e-17   6.3e-15    0.002  (2, 0)      ok
dW1       (6, 4)           8.33e-17  2.93e-16   6.3e-15  0.00077  (4, 3)      ok
db1       (6, 1)           2.78e-17  1.90e-16   6.3e-15  0.00057  (5, 0)      ok
PASS: 4 quantities agree"""

TABLE_BP2 = """\
quantity  shape         max abs err  norm err      rtol  err/tol  worst at    result
------------------------------------------------------------------------------------
dW2       (3, 6)           2.22e-16  2.06e-16   6.3e-15   0.0035  (0, 1)      ok
db2       (3, 1)           1.11e-16  9.37e-17   6.3e-15    0.002  (2, 0)      ok
dW1       (6, 4)           1.04e+00  5.12e+00   6.3e-15  1.2e+13  (1, 0)      FAIL
db1       (6, 1)           9.57e-01  4.79e+00   6.3e-15  1.4e+13  (1, 0)      FAIL
FAIL: first mismatch at dW1"""

CASES = [
    {
        "name": "sigmoid + MSE",
        "hidden": False,
        "points": 4.0,
        "layout": [4, 6, 3],
        "activations": "sigmoid",
        "loss": "mse",
    },
    {
        "name": "hidden: sigmoid + MSE",
        "hidden": True,
        "points": 4.0,
        "layout": None,
        "activations": "sigmoid",
        "loss": "mse",
    },
    {
        "name": "hidden: tanh + softmax",
        "hidden": True,
        "points": 2.0,
        "layout": None,
        "activations": ["tanh", "softmax"],
        "loss": "softmax_cross_entropy",
    },
]
QUANTITIES = ["dW2", "db2", "dW1", "db1"]
TITLES = [
    "check_backprop backprop 4-6-3 [sigmoid,sigmoid] mse float64 batch 8; convention "
    "nielsen",
    "check_backprop backprop (hidden: layout/seed withheld) [sigmoid,sigmoid] mse; "
    "convention nielsen",
    "check_backprop backprop (hidden: layout/seed withheld) [tanh,softmax] "
    "softmax_cross_entropy; convention nielsen",
]


def _row(name: str, ok: bool) -> dict:
    return {"name": name, "ok": ok, "verdict": "ok" if ok else "FAIL"}


def _case(i: int, lost: dict, error: str | None = None) -> dict:
    """Case ``i`` with ``lost`` = {quantity: why}; each quantity is worth a quarter."""
    spec = CASES[i]
    each = spec["points"] / 4
    if error is not None:
        lost = dict.fromkeys(QUANTITIES, error)
    failed = [q for q in QUANTITIES if q in lost]
    status = "ERROR" if error else ("MISMATCH" if failed else "MATCH")
    return {
        "name": spec["name"],
        "hidden": spec["hidden"],
        "title": TITLES[i],
        "status": status,
        "score": spec["points"] - each * len(failed),
        "max_score": spec["points"],
        "rows": [] if error else [_row(q, q not in lost) for q in QUANTITIES],
        "table": "" if error else (TABLE_BP2 if failed else TABLE_OK),
        "diagnosis": [error] if error else [lost[q] for q in failed][:1],
        "error": error,
        "earned": [
            {"quantity": q, "points": each} for q in QUANTITIES if q not in lost
        ],
        "lost": [{"quantity": q, "points": each, "why": lost[q]} for q in failed],
    }


def _student(name, status, score, cases, *, first=None, diagnosis="", **more) -> dict:
    out = {
        "student": name,
        "path": f"{name}/hw.py",
        "kind": "py",
        "sha256": "0f" * 32,
        "status": status,
        "score": score,
        "max_score": 10.0,
        "first_failure": first,
        "diagnosis": diagnosis,
        "error": None,
        "cases": cases,
        "notes": [],
        "isolation": "network cut off (a Linux network namespace); 6 folders hidden",
        "stdout": "",
        "stderr": "",
        "seconds": 0.8,
    }
    out.update(more)
    return out


S = SENTENCES
BP2 = {"dW1": S["bp2"], "db1": S["bp2_after"]}
MEAN = {"db2": S["mean"], "db1": S["mean_after"]}
INJECTION = "<script>alert(1)</script>"
# 40 kB of prints: the report must keep it in a collapsed block, escaped
GINA_STDOUT = "".join(f"epoch {i}: loss 0.{i:04d} {INJECTION}\n" for i in range(800))

STUDENTS = [
    _student("alice", "MATCH", 10.0, [_case(0, {}), _case(1, {}), _case(2, {})]),
    _student(
        "bob",
        "MISMATCH",
        5.0,
        [_case(0, BP2), _case(1, BP2), _case(2, BP2)],
        first="sigmoid + MSE: dW1",
        diagnosis=S["bp2"],
        stdout="hello from bob\n",
    ),
    _student(
        "carol",
        "MISMATCH",
        7.5,
        [_case(i, {"dW1": S["carol"]}) for i in range(3)],
        first="sigmoid + MSE: dW1",
        diagnosis=S["carol"],
    ),
    _student(
        "dave",
        "MISMATCH",
        8.0,
        [_case(0, {"dW1": S["dave"]}), _case(1, {"dW1": S["dave"]}), _case(2, {})],
        first="sigmoid + MSE: dW1",
        diagnosis=S["dave"],
    ),
    _student(
        "erin",
        "ERROR",
        8.0,
        [_case(0, {}), _case(1, {}), _case(2, {}, error=S["timeout"])],
        first="hidden: tanh + softmax",
        diagnosis=S["timeout"],
        error=S["timeout"],
        seconds=60.2,
    ),
    _student(
        "frank",
        "ERROR",
        0.0,
        [_case(i, {}, error=S["load"]) for i in range(3)],
        first="sigmoid + MSE",
        diagnosis=S["load"],
        error=S["load"],
        stderr='Traceback (most recent call last):\n  File "hw.py", line 3\n'
        "NameError: name 'np' is not defined\n",
    ),
    _student(
        "gina",
        "MISMATCH",
        5.0,
        [_case(0, MEAN), _case(1, MEAN), _case(2, MEAN)],
        first="sigmoid + MSE: db2",
        diagnosis=S["mean"],
        path="gina.ipynb",
        kind="ipynb",
        notes=[
            "cell 3: skipped the magic %matplotlib inline",
            "cell 5: skipped the shell escape !wget https://example.com/data.npz "
            "<img src=x onerror=alert(2)>",
        ],
        stdout=GINA_STDOUT,
        stderr=f"warning: {INJECTION}\n",
    ),
]

CLASS_RESULT = {
    "title": "Homework 3: backprop by hand",
    "function": "backprop",
    "convention": "nielsen",
    "cases": CASES,
    "students": STUDENTS,
    "seconds": 12.3,
    "workers": 2,
    # nothing kept from an earlier run, no warning, no stray file in the class folder
    "kept": 0,
    "warnings": [],
    "skipped": [],
}


def class_result() -> dict:
    """A fresh deep copy, so a test that changes it cannot change another's."""
    return copy.deepcopy(CLASS_RESULT)
