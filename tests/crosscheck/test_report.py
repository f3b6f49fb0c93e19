"""Row and Report (crosscheck/report.py): the verdicts, the vote, the crash row, the JSON."""

from __future__ import annotations

import json
import math

from crosscheck.frameworks.workers import WorkerCrashed
from crosscheck.report import Report, Row, combine, crash_row, odd_one_out


def _row(name, ok, ratio, **kw):
    return Row(
        name, (2,), 0.1 if not ok else 0.0, 0.0, 1e-14, 1e-14, ok, (0,), ratio, **kw
    )


def test_odd_one_out_truth_table():
    """Only a party that disagrees with both others, while they agree, is named."""
    parties = ["refnet", "tf", "torch"]

    def agree(rt, rp, tp):
        return {("refnet", "tf"): rt, ("refnet", "torch"): rp, ("tf", "torch"): tp}

    assert odd_one_out(parties, agree(True, True, True)) == ""
    assert odd_one_out(parties, agree(False, False, True)) == "refnet"
    assert odd_one_out(parties, agree(False, True, False)) == "tf"
    assert odd_one_out(parties, agree(True, False, False)) == "torch"
    assert odd_one_out(parties, agree(False, False, False)) == ""  # all disagree
    assert odd_one_out(parties, agree(False, True, True)) == ""  # not transitive
    assert odd_one_out(["refnet", "tf"], {("refnet", "tf"): False}) == ""


def test_a_report_passes_when_every_row_does_and_names_the_first_failure():
    rows = [
        _row("loss", True, 0.2),
        _row("delta2", False, 7.0),
        _row("dW2", False, 3.0),
    ]
    report = Report("t", rows)
    assert not report.ok and report.first_failure.name == "delta2"
    assert report.worst_ratio == 7.0
    assert "FAIL: first mismatch at delta2" in str(report)
    assert Report("t", rows[:1]).ok and "PASS: 1 quantities agree" in str(
        Report("t", rows[:1])
    )
    with_nan = json.dumps(Report("t", [_row("x", False, math.inf)]).to_dict())
    assert '"worst_ratio": "inf"' in with_nan  # JSON has no infinity


def test_combine_takes_the_worst_oracle_and_names_the_odd_one_out():
    """refnet disagrees with both frameworks while they agree: refnet is the odd one."""
    by_oracle = {"tf": _row("dW1", False, 5.0), "torch": _row("dW1", False, 9.0)}
    row = combine("dW1", by_oracle, {("tf", "torch"): _row("dW1", True, 0.1)})
    assert not row.ok and row.ratio == 9.0 and row.odd == "refnet"
    report = Report("t", [row])
    assert report.odd_ones == {"refnet": ["dW1"]}


def test_a_crashed_oracle_is_a_failing_crash_row_named_after_it():
    err = WorkerCrashed("tf", "tf oracle: its worker process was killed by SIGSEGV")
    row = crash_row(err, 1e-14)
    assert row.name == "TF oracle" and row.verdict == "CRASH" and not row.ok
    assert "SIGSEGV" in row.note and math.isinf(row.ratio)
    text = str(Report("t", [row, _row("loss", True, 0.0)]))
    assert "CRASH: TF oracle: its process died" in text


def _fake_oracles(monkeypatch, labels):
    """Register oracle modules that only have a LABEL: enough for a report's table."""
    import sys
    import types

    from crosscheck import frameworks

    for name, text in labels.items():
        mod = types.ModuleType(f"fake_oracle_{name}")
        mod.NAME, mod.LABEL, mod.FRAMEWORK = name, text, text
        monkeypatch.setitem(sys.modules, mod.__name__, mod)
        monkeypatch.setitem(frameworks.ORACLES, name, mod.__name__)


def test_three_oracles_give_a_compact_table_and_every_pair_verbose(monkeypatch):
    """One err/tol column per oracle and one for the worst pair of oracles; ``-v``
    (``table(verbose=True)``) and the JSON keep every pair."""
    _fake_oracles(monkeypatch, {"a": "AA", "b": "BB", "c": "CC"})
    fine = {o: _row("dW1", True, 0.1) for o in "abc"}
    pairs = {("a", "b"): _row("dW1", True, 0.3), ("a", "c"): _row("dW1", False, 40.0)}
    pairs[("b", "c")] = _row("dW1", False, 50.0)
    fine["c"] = _row("dW1", False, 60.0)
    report = Report("t", [combine("dW1", fine, pairs)])
    assert report.row("dW1").odd == "c"
    compact = str(report).splitlines()
    head = next(line for line in compact if line.startswith("quantity"))
    assert "vs AA" in head and "vs BB" in head and "vs CC" in head
    assert head.split()[-5:-3] == ["CC", "oracles"] and "~" not in head
    row = next(line for line in compact if line.startswith("dW1"))
    assert "50!" in row and "odd one out: CC" in row  # the worst pair: b~c
    assert "the worst pair of oracles" in str(report)
    full = report.table(verbose=True)
    assert all(pair in full for pair in ("AA~BB", "AA~CC", "BB~CC"))
    assert max(len(line) for line in compact) < max(len(x) for x in full.splitlines())
    data = report.to_dict()["rows"][0]
    assert {"a~b", "a~c", "b~c"} <= set(data) and data["b~c"]["ratio"] == 50.0
    two = Report("t", [combine("dW1", {"a": fine["a"], "b": fine["b"]}, {})])
    assert str(two) == two.table(verbose=True)  # two oracles: nothing to pool
