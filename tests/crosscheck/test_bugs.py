"""The checker is tested too: every seeded bug is caught, at the right row; honest nets pass.

Each bug of crosscheck.bugs.CATALOG is a BackpropCopy subclass with one step of
backprop changed. compare() must fail and its first failing row (rows run loss, output,
then layer L down to 1) must be where the bug is. The same network without the bug, as
refnet.Network and as the unmodified BackpropCopy, must pass.
"""

from __future__ import annotations

import pytest

tf = pytest.importorskip("tensorflow")

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck.bugs import CATALOG, BackpropCopy  # noqa: E402

IDS = [bug.name for bug in CATALOG]


def test_catalog_has_the_required_bugs():
    assert len(CATALOG) >= 10
    assert len(set(IDS)) == len(IDS)
    for bug in CATALOG:
        assert issubclass(bug.cls, BackpropCopy) and bug.cls is not BackpropCopy


@pytest.mark.parametrize("bug", CATALOG, ids=IDS)
def test_seeded_bug_caught_at_its_row(bug):
    net, X, Y, loss = bug.build()
    report = crosscheck.compare(net, X, Y, loss)
    assert not report.ok, f"{bug.name} not caught\n{report}"
    first = report.first_failure
    assert first.name == bug.first_failure, (
        f"{bug.name}: first failure {first.name}\n{report}"
    )
    assert f"first mismatch at {bug.first_failure}" in str(report)
    with pytest.raises(AssertionError, match=bug.first_failure):
        crosscheck.assert_match(net, X, Y, loss)


@pytest.mark.parametrize("bug", CATALOG, ids=IDS)
@pytest.mark.parametrize("cls", [refnet.Network, BackpropCopy], ids=["refnet", "copy"])
def test_honest_network_passes(bug, cls):
    report = crosscheck.compare(*bug.build(cls))
    assert report.ok, str(report)


O1_BUGS = [b for b in CATALOG if b.dtype == "float64" and "1e-6" not in b.name]


@pytest.mark.parametrize("bug", O1_BUGS, ids=[b.name for b in O1_BUGS])
def test_seeded_bug_caught_in_float32(bug):
    """The structural bugs are O(1) errors: float32's tolerance catches them too."""
    float32_bug = type(bug)(**{**bug.__dict__, "dtype": "float32"})
    report = crosscheck.compare(*float32_bug.build())
    assert (
        report.first_failure is not None
        and report.first_failure.name == bug.first_failure
    ), str(report)
    assert crosscheck.compare(*float32_bug.build(refnet.Network)).ok


def test_dw_perturbation_is_far_outside_float64_tolerance():
    """1e-6 relative in float64 is ~1e7 times the tolerance: caught with room to spare."""
    bug = next(b for b in CATALOG if "1e-6" in b.name)
    row = crosscheck.compare(*bug.build()).row("dW1")
    assert not row.ok and row.ratio > 1e5
