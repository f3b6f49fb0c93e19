"""check_backprop on backprops written by hand in many styles and three conventions.

Every correct implementation of tests/crosscheck/mine/own_backprops.py passes as written (no rescaling);
every buggy one fails at its documented first row with the right diagnosis sentence
(the hypotheses of crosscheck/mine/diagnose.py, BP1-BP4, LS5, LS6). TensorFlow is switched
off here (refnet is the reference; refnet against TF is tested in
tests/crosscheck/test_check_features.py and below, once).
"""

from __future__ import annotations

import pytest

from crosscheck import check_backprop
from tests.crosscheck.mine.own_backprops import BUGGY, CORRECT


def _id(entry):
    kw = entry[4]
    return f"{entry[0].__name__}-{kw.get('convention', 'keras')}-{'-'.join(map(str, entry[1]))}"


def test_at_least_twenty_independent_implementations():
    assert len({entry[0] for entry in CORRECT}) >= 20


def test_returned_dx_is_checked_bp5():
    """BP5: a returned "dX" is a row (last), in the user's layout."""
    fn, sizes, acts, loss, kw = CORRECT[0]
    report = check_backprop(fn, sizes, acts, loss, tensorflow=False, **kw)
    assert report.rows[-1].name == "dX" and report.rows[-1].ok

    def wrong_dx(weights, X, Y):
        out = fn(weights, X, Y)
        out["dX"] = out["deltas"][0] @ weights[0]  # W1 (square here) not transposed
        return out

    bad = check_backprop(wrong_dx, [6, 6, 4], acts, loss, tensorflow=False, **kw)
    assert bad.first_failure.name == "dX", str(bad)
    assert bad.diagnosis[0].startswith(
        'dX (BP5, chapter 10 "Check your own backprop", section "What refnet adds for it"): '
    )
    assert "W1 is not transposed" in bad.diagnosis[0]


@pytest.mark.parametrize("entry", CORRECT, ids=[_id(e) for e in CORRECT])
def test_correct_implementation_passes(entry):
    fn, sizes, acts, loss, kw = entry
    report = check_backprop(fn, sizes, acts, loss, tensorflow=False, **kw)
    assert report.ok, str(report)
    assert report.diagnosis[0].startswith("every quantity you returned matches")


@pytest.mark.parametrize("entry", BUGGY, ids=[_id(e) for e in BUGGY])
def test_buggy_implementation_fails_at_its_row_with_its_sentence(entry):
    fn, sizes, acts, loss, kw, first, fragment = entry
    report = check_backprop(fn, sizes, acts, loss, tensorflow=False, **kw)
    assert not report.ok
    assert report.first_failure.name == first, str(report)
    assert fragment in report.diagnosis[0], str(report)
    # names the quantity, then its label
    assert report.diagnosis[0].startswith(f"{first} (")


@pytest.mark.parametrize("seed", [1, 2])
def test_correct_implementations_pass_for_other_seeds(seed):
    for fn, sizes, acts, loss, kw in CORRECT[:14]:
        kw = {**kw, "seed": seed, "batch": 3}
        report = check_backprop(fn, sizes, acts, loss, tensorflow=False, **kw)
        assert report.ok, str(report)
