"""What is wrong, in words (crosscheck/mine/diagnose.py): every seeded bug of crosscheck.bugs.CATALOG,
run through check_backprop as a plain function, fails at its catalog row with its own sentence."""

from __future__ import annotations

import pytest

import refnet
from crosscheck import check_backprop
from crosscheck.bugs import CATALOG
from crosscheck.mine import network_fn

SENTENCES = {
    "derivative dropped": "delta1 (BP2, docs/06-backprop.md (BP2)): the f'(z[1]) factor of BP2 is missing",
    "relu'(0) = 1": "delta1 (BP2, docs/06-backprop.md (BP2)): relu'(0) is taken as 1",
    "W not transposed": "delta1 (BP2, docs/06-backprop.md (BP2)): W2 is not transposed",
    "delta shifted by one layer": "delta1 (BP2, docs/06-backprop.md (BP2)): the derivative of the wrong layer is used",
    "missing 1/n": "delta2 (BP1, docs/06-backprop.md (BP1)): your delta2 equals the reference times n = 8: your cost sums over the batch; use reduction='sum' or divide by n",
    "softmax Jacobian diagonal": "delta2 (BP1, docs/06-backprop.md (BP1)): softmax's Jacobian is taken as its diagonal",
    "bias gradient from the first row": "db2 (BP3, docs/06-backprop.md (BP3)): db2 is delta2 of the first example only",
    "bias gradient mean, not sum": "db2 (BP3, docs/06-backprop.md (BP3)): db2 is the mean over the batch of delta2",
    "MSE factor 2 missing": "delta2 (BP1, docs/06-backprop.md (BP1)): your delta2 is half the reference: the 2 from differentiating the square",
    "float32 computed in float64": "output (FP1-FP2, docs/01-notation.md): your output has dtype float64, expected float32",
    "dW 1e-6 relative off (float64)": "dW1 (BP4, docs/06-backprop.md (BP4)): your dW1 equals the reference times 1.000001",
    "sigmoid' from z": "delta1 (BP2, docs/06-backprop.md (BP2)): sigmoid' is computed as z (1 - z)",
    "dW transposed": "dW2 (BP4, docs/06-backprop.md (BP4)): your dW2 has shape (3, 6); expected (6, 3) in the keras convention: the transpose",
    "cross-entropy without softmax": "delta2 (BP1, docs/06-backprop.md (BP1)): the softmax is missing from the cross-entropy's delta",
}  # fmt: skip


def test_every_catalog_bug_has_a_sentence():
    assert set(SENTENCES) == {bug.name for bug in CATALOG}


@pytest.mark.parametrize("bug", CATALOG, ids=[b.name for b in CATALOG])
def test_catalog_bug_diagnosed_in_words(bug):
    net, X, Y, loss = bug.build()
    fn = network_fn(bug.cls, list(bug.activations), loss)
    report = check_backprop(
        fn,
        list(bug.layout),
        list(bug.activations),
        loss,
        weights=net.get_weights(),
        X=X,
        Y=Y,
        dtype=bug.dtype,
        tensorflow=False,
    )
    assert not report.ok
    assert report.first_failure.name == bug.first_failure, str(report)
    assert report.diagnosis[0].startswith(SENTENCES[bug.name]), str(report)
    honest = network_fn(refnet.Network, list(bug.activations), loss)
    assert check_backprop(
        honest,
        list(bug.layout),
        list(bug.activations),
        loss,
        weights=net.get_weights(),
        X=X,
        Y=Y,
        dtype=bug.dtype,
        tensorflow=False,
    ).ok
