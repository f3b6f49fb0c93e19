"""check_backprop on backprops written the way five courses write them (issue 20).

Every correct implementation of tests/crosscheck/mine/course_backprops.py passes with its
course's preset (and the course's own l2) as written; every buggy one fails at its first
wrong row, in backprop order, with the sentence the course's math gives. TensorFlow is
off but for one case. The worked examples of docs/examples/ run through ``crosscheck
mine`` with the command their docstring shows.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from crosscheck import check_backprop
from crosscheck.cli import main
from tests.crosscheck.mine.course_backprops import BUGGY, CORRECT, dlai_L_layer

ROOT = Path(__file__).resolve().parents[3]
PRESETS = ("deeplearning.ai", "d2l", "udl", "nnfs", "cs231n")
# what "only its preset named" allows: the preset, the course's own decay, the dtype
PRESET_ONLY = {"convention", "l2", "dtype"}


def _id(entry):
    return (
        f"{entry[4]['convention']}-{entry[0].__name__}-{'-'.join(map(str, entry[1]))}"
    )


def _buggy_params():
    out = []
    for fn, sizes, acts, loss, kw, first, fragment, xfail in BUGGY:
        marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
        entry = (fn, sizes, acts, loss, kw, first, fragment)
        out.append(pytest.param(entry, marks=marks, id=_id(entry)))
    return out


def test_at_least_thirty_implementations_four_per_preset_passing_with_the_preset_alone():
    functions = {e[0] for e in CORRECT} | {e[0] for e in BUGGY}
    assert len(functions) >= 30
    for preset in PRESETS:
        alone = {
            e[0]
            for e in CORRECT
            if e[4]["convention"] == preset and set(e[4]) <= PRESET_ONLY
        }
        buggy = {e[0] for e in BUGGY if e[4]["convention"] == preset}
        assert len(alone) >= 4 and len(buggy) >= 4, preset


@pytest.mark.parametrize("entry", CORRECT, ids=[_id(e) for e in CORRECT])
def test_correct_course_implementation_passes_with_its_preset(entry):
    fn, sizes, acts, loss, kw = entry
    report = check_backprop(fn, sizes, acts, loss, tensorflow=False, **kw)
    assert report.ok, str(report)
    assert report.diagnosis[0].startswith("every quantity you returned matches")


@pytest.mark.parametrize("entry", _buggy_params())
def test_buggy_course_implementation_fails_at_its_first_wrong_row(entry):
    fn, sizes, acts, loss, kw, first, fragment = entry
    report = check_backprop(fn, sizes, acts, loss, tensorflow=False, **kw)
    assert not report.ok
    assert report.first_failure.name == first, str(report)
    # the sentence after its "name (label, section): " prefix
    assert fragment in report.diagnosis[0].split(": ", 1)[1], str(report)


def test_deeplearning_ai_compares_every_dA_it_returns_in_backprop_order():
    """L_model_backward's grads dict: dA<l> (those of the summed cost) are rows, dA0 is
    dX, after the layer above's dW, db."""
    report = check_backprop(
        dlai_L_layer,
        [5, 4, 3, 1],
        ["relu", "relu", "sigmoid"],
        "binary_cross_entropy",
        convention="deeplearning.ai",
        tensorflow=False,
    )
    names = [row.name for row in report.rows]
    assert names == [
        "loss",
        "dW3",
        "db3",
        "dA2",
        "dW2",
        "db2",
        "dA1",
        "dW1",
        "db1",
        "dX",
    ]


def test_a_course_implementation_against_tensorflow_too():
    pytest.importorskip("tensorflow")
    fn, sizes, acts, loss, kw = CORRECT[0]
    report = check_backprop(fn, sizes, acts, loss, tensorflow=True, **kw)
    assert report.ok and report.reference is not None and report.reference.ok, str(
        report
    )


EXAMPLES = [
    "deeplearning_ai_backprop.py",
    "d2l_backprop.py",
    "udl_backprop.py",
    "nnfs_backprop.py",
    "cs231n_two_layer.py",
]


def _command(path: Path) -> list[str]:
    """The ``crosscheck mine ...`` command of the example's module docstring."""
    text = re.sub(r"\\+\n", " ", path.read_text())
    line = next(s for s in text.splitlines() if s.strip().startswith("crosscheck mine"))
    return shlex.split(line)[1:]


@pytest.mark.parametrize("name", EXAMPLES)
def test_worked_example_passes_with_the_command_its_docstring_shows(name, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = _command(ROOT / "docs" / "examples" / name)
    assert args[1] == f"docs/examples/{name}:" + args[1].split(":")[1]
    assert main([*args, "--no-tensorflow"]) == 0
