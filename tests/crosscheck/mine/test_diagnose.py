"""What is wrong, in words (crosscheck/mine/diagnose.py): every seeded bug of crosscheck.bugs.CATALOG,
run through check_backprop as a plain function, fails at its catalog row with its own sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import refnet
from crosscheck import check_backprop
from crosscheck.bugs import CATALOG
from crosscheck.mine import diagnose, network_fn

SENTENCES = {
    "derivative dropped": "delta1 (BP2, chapter 6 \"Backpropagation\"): the f'(z[1]) factor of BP2 is missing",
    "relu'(0) = 1": "delta1 (BP2, chapter 6 \"Backpropagation\"): relu'(0) is taken as 1",
    "W not transposed": "delta1 (BP2, chapter 6 \"Backpropagation\"): W2 is not transposed",
    "delta shifted by one layer": "delta1 (BP2, chapter 6 \"Backpropagation\"): the derivative of the wrong layer is used",
    "missing 1/n": "delta2 (BP1, chapter 6 \"Backpropagation\"): your delta2 equals the reference times n = 8: your cost sums over the batch; use reduction='sum' or divide by n",
    "softmax Jacobian diagonal": "delta2 (BP1, chapter 6 \"Backpropagation\"): softmax's Jacobian is taken as its diagonal",
    "bias gradient from the first row": "db2 (BP3, chapter 6 \"Backpropagation\"): db2 is delta2 of the first example only",
    "bias gradient mean, not sum": "db2 (BP3, chapter 6 \"Backpropagation\"): db2 is the mean over the batch of delta2",
    "MSE factor 2 missing": "delta2 (BP1, chapter 6 \"Backpropagation\"): your delta2 is half the reference: the 2 from differentiating the square",
    "float32 computed in float64": "output (FP1-FP2, chapter 1 \"Notation and shapes\"): your output has dtype float64, expected float32",
    "dW 1e-6 relative off (float64)": "dW1 (BP4, chapter 6 \"Backpropagation\"): your dW1 equals the reference times 1.000001",
    "sigmoid' from z": "delta1 (BP2, chapter 6 \"Backpropagation\"): sigmoid' is computed as z (1 - z)",
    "dW transposed": "dW2 (BP4, chapter 6 \"Backpropagation\"): your dW2 has shape (3, 6); expected (6, 3) in the keras convention: the transpose",
    "cross-entropy without softmax": "delta2 (BP1, chapter 6 \"Backpropagation\"): the softmax is missing from the cross-entropy's delta",
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


# ---------------------------------------------------------------------------------
# Citations: chapter title and label, never a docs/ path
# ---------------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_chapter_titles_are_the_chapters_headings():
    """The one table of chapter titles the sentences cite matches each chapter's
    ``# N. Title`` heading, so renaming a chapter fails here."""
    for number, (stem, title) in diagnose.CHAPTERS.items():
        first = (DOCS / f"{stem}.md").read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# {number}. {title}", (stem, first)


def test_each_cited_label_is_defined_in_its_chapter():
    """Every label a sentence cites (FP1, BP1-BP5, LS1-LS6, SM1) is tagged in the chapter
    the sentence names."""
    for lab, number in diagnose.LABEL_CHAPTERS.items():
        text = (DOCS / f"{diagnose.CHAPTERS[number][0]}.md").read_text(encoding="utf-8")
        for one in lab.split("-"):
            assert f"\\tag{{{one}}}" in text, (lab, number)


def test_site_page_cited_only_when_the_site_has_a_url():
    """mkdocs.yml has no site_url today: the sentences cite title and label only. Once
    it has one, diagnose.SITE_URL must be that URL (pages are STEM.html)."""
    config = (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    url = re.search(r"^site_url:\s*(\S+)", config, re.M)
    assert diagnose.SITE_URL == (url.group(1) if url else None)
    text = diagnose.sentence("delta2", "BP1", "x")
    assert text == 'delta2 (BP1, chapter 6 "Backpropagation"): x'


def test_no_sentence_cites_a_docs_path():
    for lab in [*diagnose.LABEL_CHAPTERS, "BP1", "LS6", "XX9"]:
        text = diagnose.sentence("row", lab, "x")
        assert "docs/" not in text and text.startswith(f"row ({lab}, chapter ")
