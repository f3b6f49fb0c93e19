"""What is wrong, in words (crosscheck/mine/diagnose.py): every seeded bug of crosscheck.bugs.CATALOG,
run through check_backprop as a plain function, fails at its catalog row with its own sentence."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
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
    "missing 1/n": "delta2 (BP1, chapter 6 \"Backpropagation\"): your delta2 is n = 8 times the reference, but your loss matched, averaged over the batch: the 1/n of the mean is missing from the output delta",
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


# ---------------------------------------------------------------------------------
# A matching loss rules out a convention mismatch (CS231n's forgotten dscores /= N)
# ---------------------------------------------------------------------------------


def _cs231n(params, X, y, divide_scores=True, loss_sum=False, dW_over_N=False):
    """CS231n's two-layer net as the assignment writes it: ``self.params``-style dict,
    integer labels y, relu, mean softmax loss, ``(loss, grads)`` returned."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    logp = -np.log(probs[np.arange(N), y])
    loss = logp.sum() if loss_sum else logp.mean()
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    if divide_scores:
        dscores /= N
    grads = {"W2": h.T @ dscores, "b2": dscores.sum(axis=0)}
    dh = dscores @ W2.T
    dh[h <= 0] = 0
    grads["W1"] = X.T @ dh
    grads["b1"] = dh.sum(axis=0)
    if dW_over_N:  # dscores left as is, the 1/N put on dW2, dW1, db1 but not db2
        grads = {key: g / N if key != "b2" else g for key, g in grads.items()}
    return loss, grads


def _check_cs231n(fn):
    return check_backprop(
        fn,
        [5, 7, 3],
        ["relu", "linear"],
        "softmax_cross_entropy",
        convention="cs231n",
        tensorflow=False,
    )


def test_forgotten_dscores_over_n_is_bp1_not_the_convention():
    """BP1: the loss matched, averaged; only the gradients are n times too large, so the
    1/n of the mean is missing from the output delta (not reduction='sum')."""
    report = _check_cs231n(lambda w, X, Y: _cs231n(w, X, Y, divide_scores=False))
    assert report.rows[0].name == "loss" and report.rows[0].ok, str(report)
    assert report.first_failure.name == "dW2", str(report)
    text = report.diagnosis[0]
    assert text.startswith('dW2 (BP1, chapter 6 "Backpropagation"): '), text
    assert "n = 8 times" in text and "your loss matched" in text, text
    assert "1/n of the mean is missing from the output delta" in text, text
    assert "dscores /= N" in text and "reduction=" not in text, text


def test_forgotten_over_n_without_a_loss_row_is_the_convention():
    """BP1 without a loss row: nothing rules out a summed cost, so the convention sentence."""
    report = _check_cs231n(lambda w, X, Y: _cs231n(w, X, Y, divide_scores=False)[1])
    assert report.first_failure.name == "dW2", str(report)
    assert "your cost sums over the batch; use reduction='sum'" in report.diagnosis[0]


def test_loss_with_the_same_factor_is_the_convention():
    """LS5: loss and gradients both n times: a summed cost, the convention sentence."""
    fn = lambda w, X, Y: _cs231n(w, X, Y, divide_scores=False, loss_sum=True)  # noqa: E731
    report = _check_cs231n(fn)
    assert report.first_failure.name == "loss", str(report)
    assert "your cost sums over the batch; use reduction='sum'" in report.diagnosis[0]


def test_db_without_the_over_n_its_dw_has_is_its_own_line():
    """BP3: dW2 matched, db2 is n times: the 1/n is missing from db2's own line."""
    report = _check_cs231n(lambda w, X, Y: _cs231n(w, X, Y, False, dW_over_N=True))
    assert report.first_failure.name == "db2", str(report)
    text = report.diagnosis[0]
    assert text.startswith('db2 (BP3, chapter 6 "Backpropagation"): '), text
    assert "n = 8 times" in text and "dW2 matched" in text, text
    assert "missing from the line that computes db2" in text, text
    assert "reduction=" not in text, text


def _nielsen_columns(weights, X, Y, extra_over_n=False, deltas=False):
    """Nielsen's network.py on a batch of columns: sigmoid, C = sum_x 1/2 ||a - y||^2."""
    W1, b1, W2, b2 = weights
    z1 = W1 @ X + b1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = W2 @ a1 + b2
    a2 = 1 / (1 + np.exp(-z2))
    loss = 0.5 * np.sum((a2 - Y) ** 2)
    d2 = (a2 - Y) * a2 * (1 - a2)
    if extra_over_n:
        d2 = d2 / X.shape[1]
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    grads = [d1 @ X.T, d1.sum(1, keepdims=True), d2 @ a1.T, d2.sum(1, keepdims=True)]
    out = {"grads": grads, "loss": loss}
    if deltas:
        out["deltas"] = [d1, d2]
    return out


def test_summed_loss_with_an_averaged_delta_is_bp1():
    """BP1, the symmetric case: the summed loss matched, the gradients are 1/n of it."""
    fn = lambda w, X, Y: _nielsen_columns(w, X, Y, True, deltas=True)  # noqa: E731
    report = check_backprop(
        fn, [4, 6, 3], "sigmoid", "mse", convention="nielsen", tensorflow=False
    )
    assert report.first_failure.name == "delta2", str(report)
    text = report.diagnosis[0]
    assert text.startswith('delta2 (BP1, chapter 6 "Backpropagation"): '), text
    assert "divided by n = 8" in text and "your loss matched, summed" in text, text
    assert "the output delta has a 1/n the summed cost does not" in text, text
    assert "reduction=" not in text, text


def test_mean_mse_loss_with_a_summed_derivative_is_bp1():
    """BP1 with mse_scale: the loss averages over k = 3 outputs and matched, the delta
    2 (a - y) / n is the derivative of the sum over outputs: k times too large."""

    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        a1 = np.tanh(X @ W1 + b1)
        a2 = a1 @ W2 + b2
        d2 = 2 * (a2 - Y) / X.shape[0]  # / k missing
        d1 = (d2 @ W2.T) * (1 - a1**2)
        grads = [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]
        return {"loss": np.mean((a2 - Y) ** 2), "grads": grads}

    report = check_backprop(fn, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False)
    assert report.first_failure.name == "dW2", str(report)
    text = report.diagnosis[0]
    assert text.startswith('dW2 (BP1, chapter 6 "Backpropagation"): '), text
    assert "times 3 (k = 3 outputs)" in text and "your loss matched" in text, text
    assert "pass mse_scale" not in text, text


# ---------------------------------------------------------------------------------
# The z/a mix-up, both directions, hidden (BP2) and output (BP1) layers
# ---------------------------------------------------------------------------------


def _sig(v):
    return 1 / (1 + np.exp(-v))


def _elu(v):
    return np.where(v > 0, v, np.expm1(np.minimum(v, 0)))


F = {
    "sigmoid": _sig,
    "tanh": np.tanh,
    "elu": _elu,
    "softplus": lambda v: np.logaddexp(0, v),
    "linear": lambda v: v,
}

# right derivatives, as a student writes them: in a for sigmoid, tanh, elu
RIGHT = {
    "sigmoid": lambda z, a: a * (1 - a),
    "tanh": lambda z, a: 1 - a**2,
    "elu": lambda z, a: np.where(z > 0, 1.0, a + 1),
    "softplus": lambda z, a: _sig(z),
    "linear": lambda z, a: np.ones_like(z),
}
# the formula in a, given z: by hand, sigmoid z (1 - z), tanh 1 - z^2, elu z + 1 (z <= 0)
A_FORM_AT_Z = {
    "sigmoid": lambda z, a: z * (1 - z),
    "tanh": lambda z, a: 1 - z**2,
    "elu": lambda z, a: np.where(z > 0, 1.0, z + 1),
}
# the formula in z, given a: sigmoid(a) (1 - sigmoid(a)), 1 - tanh(a)^2, sigmoid(a)
Z_FORM_AT_A = {
    "sigmoid": lambda z, a: _sig(a) * (1 - _sig(a)),
    "tanh": lambda z, a: 1 - np.tanh(a) ** 2,
    "softplus": lambda z, a: _sig(a),
}


def test_every_derivative_written_in_a_has_its_z_mixup_af2_af3_af6():
    """AF2, AF3, AF6: each built-in activation whose df reads the cached a (found by
    passing a wrong a) is in diagnose.A_FORMS, so a new one cannot be missed; and each
    A_FORMS formula is refnet's derivative with z put for a (by hand: z (1 - z),
    1 - z^2, z + 1 below 0)."""
    z = np.linspace(-2.0, 2.0, 9)
    reads_a = set()
    for name in refnet.activations.names():
        act = refnet.activations.get(name)
        if act.elementwise and not np.allclose(act.df(z, act.f(z)), act.df(z, z + 3)):
            reads_a.add(act.name)
    assert reads_a == set(diagnose.A_FORMS)
    for name, (_, _, _, at_z) in diagnose.A_FORMS.items():
        act = refnet.activations.get(name)
        assert np.allclose(at_z(z), act.df(z, z)), name


def _student(hidden, out, hidden_prime, out_prime, deltas):
    """keras rows, one hidden layer, mean MSE, the two derivatives as given."""

    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        z1 = X @ W1 + b1
        a1 = F[hidden](z1)
        z2 = a1 @ W2 + b2
        a2 = F[out](z2)
        d2 = 2 * (a2 - Y) / Y.size * out_prime(z2, a2)
        d1 = (d2 @ W2.T) * hidden_prime(z1, a1)
        got = {"loss": np.mean((a2 - Y) ** 2), "output": a2}
        got["grads"] = [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]
        if deltas:
            got["deltas"] = [d1, d2]
        return got

    return fn


_AT_Z = {
    "sigmoid": "sigmoid' is computed as z (1 - z): the formula a (1 - a) applied to z",
    "tanh": "tanh' is computed as 1 - z^2: the formula 1 - a^2 applied to z",
    "elu": "elu' is computed as z + 1 for z <= 0: the formula a + 1 applied to z",
}
MIXUPS = [
    # (hidden, output, which layer is wrong, bug, deltas returned, first row, sentence)
    *[(act, "linear", 1, A_FORM_AT_Z[act], True, "delta1", f"delta1 (BP2, chapter 6 \"Backpropagation\"): {_AT_Z[act]}") for act in A_FORM_AT_Z],
    *[("tanh", act, 2, A_FORM_AT_Z[act], True, "delta2", f"delta2 (BP1, chapter 6 \"Backpropagation\"): {_AT_Z[act]}") for act in A_FORM_AT_Z],
    *[(act, "linear", 1, Z_FORM_AT_A[act], True, "delta1", "delta1 (BP2, chapter 6 \"Backpropagation\"): f' is evaluated at a[1] instead of z[1]") for act in Z_FORM_AT_A],
    *[("tanh", act, 2, Z_FORM_AT_A[act], True, "delta2", "delta2 (BP1, chapter 6 \"Backpropagation\"): f' is evaluated at a[2] instead of z[2]") for act in Z_FORM_AT_A],
    ("tanh", "linear", 1, A_FORM_AT_Z["tanh"], False, "dW1", f"dW1 (BP2, chapter 6 \"Backpropagation\"): {_AT_Z['tanh']}"),
    ("tanh", "sigmoid", 2, A_FORM_AT_Z["sigmoid"], False, "dW2", f"dW2 (BP1, chapter 6 \"Backpropagation\"): {_AT_Z['sigmoid']}"),
]  # fmt: skip


@pytest.mark.parametrize(
    "case",
    MIXUPS,
    ids=[f"{c[0]}-{c[1]}-layer{c[2]}-{c[5]}-{i}" for i, c in enumerate(MIXUPS)],
)
def test_z_a_mixup_named_at_its_layer_bp1_bp2(case):
    """BP1, BP2 (AF2, AF3, AF6): a derivative written in a evaluated at z, or one
    written in z evaluated at a, named with the layer where it is made."""
    hidden, out, wrong, bug, deltas, first, text = case
    primes = [RIGHT[hidden], RIGHT[out]]
    primes[wrong - 1] = bug
    fn = _student(hidden, out, *primes, deltas)
    report = check_backprop(fn, [4, 6, 3], [hidden, out], "mse", tensorflow=False)
    assert report.first_failure.name == first, str(report)
    assert report.diagnosis[0].startswith(text), report.diagnosis[0]
    if not deltas:
        assert report.diagnosis[0].endswith(f"(BP4/BP3 carry it into {first})")
    right = _student(hidden, out, RIGHT[hidden], RIGHT[out], deltas)
    assert check_backprop(right, [4, 6, 3], [hidden, out], "mse", tensorflow=False).ok


def test_nielsen_sigmoid_output_delta_with_z_is_bp1():
    """BP1 in Nielsen's columns: delta_L = (a - y) * z (1 - z) instead of a (1 - a)."""

    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        a1 = _sig(W1 @ X + b1)
        z2 = W2 @ a1 + b2
        a2 = _sig(z2)
        d2 = (a2 - Y) * z2 * (1 - z2)
        d1 = (W2.T @ d2) * a1 * (1 - a1)
        return [d1 @ X.T, d1.sum(1, keepdims=True), d2 @ a1.T, d2.sum(1, keepdims=True)]

    report = check_backprop(
        fn, [4, 6, 3], "sigmoid", "mse", convention="nielsen", tensorflow=False
    )
    assert report.first_failure.name == "dW2", str(report)
    assert report.diagnosis[0].startswith(
        f'dW2 (BP1, chapter 6 "Backpropagation"): {_AT_Z["sigmoid"]}'
    )


# ---------------------------------------------------------------------------------
# deeplearning.ai's gradient-checking notebook: dW2 * 2 and db1 with 4/m
# ---------------------------------------------------------------------------------


def _dlai_backward(weights, X, Y, times_two=False, four_over_m=False):
    """forward_propagation_n and backward_propagation_n of the notebook (relu, relu,
    sigmoid; cost mean over m of the cross-entropy), the planted bugs switchable."""
    W1, b1, W2, b2, W3, b3 = weights
    m = X.shape[1]
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = 1 / (1 + np.exp(-Z3))
    logprobs = np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y)
    cost = 1.0 / m * np.sum(logprobs)
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) * (2 if times_two else 1)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = (4.0 if four_over_m else 1.0) / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"loss": cost, "grads": [dW1, db1, dW2, db2, dW3, db3]}


def _check_dlai(**bugs):
    return check_backprop(
        lambda w, X, Y: _dlai_backward(w, X, Y, **bugs),
        [4, 5, 3, 1],
        ["relu", "relu", "sigmoid"],
        "binary_cross_entropy",
        convention="nielsen",
        reduction="mean",
        tensorflow=False,
    )


def test_dlai_notebook_correct_passes():
    assert _check_dlai().ok


def test_dlai_notebook_dw2_times_two_bp4():
    """BP4: the notebook's dW2 = 1./m * np.dot(dZ2, A1.T) * 2."""
    report = _check_dlai(times_two=True)
    assert report.first_failure.name == "dW2", str(report)
    text = report.diagnosis[0]
    assert text.startswith(
        'dW2 (BP4, chapter 6 "Backpropagation"): your dW2 is twice the reference'
    ), text
    assert "db2 matched, so the factor is in the line that computes dW2" in text, text


def test_dlai_notebook_db1_four_over_m_bp3():
    """BP3: the notebook's db1 = 4./m * np.sum(dZ1, ...): 4 times the reference."""
    report = _check_dlai(four_over_m=True)
    assert report.first_failure.name == "db1", str(report)
    text = report.diagnosis[0]
    assert text.startswith(
        'db1 (BP3, chapter 6 "Backpropagation"): your db1 is 4 times the reference'
    ), text
    assert "dW1 matched, so the factor is in the line that computes db1" in text, text


def test_dlai_notebook_both_bugs_first_is_dw2():
    report = _check_dlai(times_two=True, four_over_m=True)
    assert report.first_failure.name == "dW2", str(report)
    assert "your dW2 is twice the reference" in report.diagnosis[0]
    assert "rows after it also differ (db1)" in report.diagnosis[1]


@pytest.mark.parametrize(
    "const, said",
    [(1 / 3, "1/3 of"), (-1 / 3, "-1/3 times"), (5, "5 times"), (1.3, "times 1.3,")],
)
def test_a_stray_constant_is_said_with_the_row_that_matched_bp3(const, said):
    """BP3: db2 scaled by a constant of the user's own; dW2 matched, so it is db2's line."""

    def fn(weights, X, Y):
        W1, b1, W2, b2 = weights
        a1 = np.tanh(X @ W1 + b1)
        a2 = a1 @ W2 + b2
        d2 = 2 * (a2 - Y) / Y.size
        d1 = (d2 @ W2.T) * (1 - a1**2)
        return [X.T @ d1, d1.sum(0), a1.T @ d2, const * d2.sum(0)]

    report = check_backprop(fn, [4, 6, 3], ["tanh", "linear"], "mse", tensorflow=False)
    assert report.first_failure.name == "db2", str(report)
    text = report.diagnosis[0]
    assert text.startswith('db2 (BP3, chapter 6 "Backpropagation"): your db2 '), text
    assert said in text and text.endswith(
        "dW2 matched, so the factor is in the line that computes db2"
    ), text


def _backward_propagation_n(parameters, X, Y, times_two=False, four_over_m=False):
    """The notebook's forward_propagation_n + backward_propagation_n as written, with
    its ``parameters`` dict and its ``gradients`` dict of dZ, dW, db, dA."""
    W1, b1 = parameters["W1"], parameters["b1"]
    W2, b2 = parameters["W2"], parameters["b2"]
    W3, b3 = parameters["W3"], parameters["b3"]
    m = X.shape[1]
    Z1 = np.dot(W1, X) + b1
    A1 = np.maximum(0, Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = np.maximum(0, Z2)
    Z3 = np.dot(W3, A2) + b3
    A3 = 1 / (1 + np.exp(-Z3))
    dZ3 = A3 - Y
    dW3 = 1.0 / m * np.dot(dZ3, A2.T)
    db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
    dA2 = np.dot(W3.T, dZ3)
    dZ2 = np.multiply(dA2, np.int64(A2 > 0))
    dW2 = 1.0 / m * np.dot(dZ2, A1.T) * (2 if times_two else 1)
    db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
    dA1 = np.dot(W2.T, dZ2)
    dZ1 = np.multiply(dA1, np.int64(A1 > 0))
    dW1 = 1.0 / m * np.dot(dZ1, X.T)
    db1 = (4.0 if four_over_m else 1.0) / m * np.sum(dZ1, axis=1, keepdims=True)
    return {
        "dZ3": dZ3,
        "dW3": dW3,
        "db3": db3,
        "dA2": dA2,
        "dZ2": dZ2,
        "dW2": dW2,
        "db2": db2,
        "dA1": dA1,
        "dZ1": dZ1,
        "dW1": dW1,
        "db1": db1,
    }


@pytest.mark.parametrize(
    "bug, first, said, matched",
    [
        ({"times_two": True}, "dW2", "your dW2 is twice the reference", "delta2"),
        ({"four_over_m": True}, "db1", "your db1 is 4 times the reference", "delta1"),
    ],
)
def test_dlai_notebook_with_its_preset_and_intermediates_bp3_bp4(
    bug, first, said, matched
):
    """BP3, BP4 with the deeplearning.ai preset: the returned dZ of the same layer
    matched, so the factor is in the line that computes dW2 (db1)."""
    report = check_backprop(
        lambda p, X, Y: _backward_propagation_n(p, X, Y, **bug),
        [4, 5, 3, 1],
        ["relu", "relu", "sigmoid"],
        "binary_cross_entropy",
        convention="deeplearning.ai",
        tensorflow=False,
    )
    assert report.first_failure.name == first, str(report)
    text = report.diagnosis[0]
    assert text.startswith(
        f'{first} (BP{3 if first[1] == "b" else 4}, chapter 6 "Backpropagation"): {said}'
    ), text
    assert text.endswith(
        f"{matched} matched, so the factor is in the line that computes {first}"
    ), text


# --- factors and the L2 term together ---------------------------------------------------


def _cs231n_reg(params, X, y, reg, divide=True, half=False):
    """CS231n's TwoLayerNet.loss written out: relu, softmax, reg * sum(W^2) (or
    0.5 * reg * sum(W^2) with half); divide=False forgets dscores /= N."""
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    r = 0.5 * reg if half else reg
    loss = -np.log(p[np.arange(N), y]).mean() + r * (np.sum(W1**2) + np.sum(W2**2))
    ds = p.copy()
    ds[np.arange(N), y] -= 1
    if divide:
        ds /= N
    dh = ds @ W2.T * (h > 0)
    return loss, {
        "W1": X.T @ dh + 2 * r * W1,
        "b1": dh.sum(0),
        "W2": h.T @ ds + 2 * r * W2,
        "b2": ds.sum(0),
    }


CS_ARGS = ([6, 10, 4], ["relu", "linear"], "softmax_cross_entropy")


def test_the_missing_1_over_n_is_found_with_a_decay_too():
    """The factor scales the data part only: 2 reg W is right, the rest n times."""
    fn = lambda params, X, y: _cs231n_reg(params, X, y, 0.05, divide=False)  # noqa: E731
    report = check_backprop(
        fn, *CS_ARGS, convention="cs231n", l2=0.05, tensorflow=False
    )
    assert report.first_failure.name == "dW2"
    assert "the 1/n of the mean is missing from the output delta" in report.diagnosis[0]


def test_a_decay_the_check_was_not_told_of_is_named_with_the_flag():
    fn = lambda params, X, y: _cs231n_reg(params, X, y, 0.05)  # noqa: E731
    report = check_backprop(fn, *CS_ARGS, convention="cs231n", tensorflow=False)
    assert report.first_failure.name == "loss"
    assert "your decay is 0.05 * sum(W^2)" in report.diagnosis[0]
    assert (
        "pass --l2 0.05 (l2 * sum(W^2)), or --l2 0.1 --l2-form half_sum"
        in report.diagnosis[0]
    )


def test_a_decay_told_of_in_the_other_form_is_named():
    """fc_net.py's 0.5 * reg * sum(W^2), checked as reg * sum(W^2): half the decay."""
    fn = lambda params, X, y: _cs231n_reg(params, X, y, 0.05, half=True)  # noqa: E731
    report = check_backprop(
        fn, *CS_ARGS, convention="cs231n", l2=0.05, tensorflow=False
    )
    assert "your decay is 0.025 * sum(W^2)" in report.diagnosis[0], report.diagnosis[0]
    assert "--l2 0.05 --l2-form half_sum" in report.diagnosis[0]
    # a grader's rubric fixes the decay: the sentence also reads as the code's mistake
    assert (
        "if the assignment's decay is 0.05 * sum(W^2), your code's is 0.5 times it"
        in report.diagnosis[0]
    )


def test_the_missing_decay_is_worded_in_the_users_form():
    """d2l's lambda/2 (|W1|^2 + |W2|^2): its gradient term is lambda W, not 2 lambda W."""

    def d2l(weights, X, Y, lam=0.01, forget=False):
        W1, W2 = weights
        n = X.shape[1]
        h = np.maximum(W1 @ X, 0)
        o = W2 @ h
        do = (o - Y) / n
        dh = W2.T @ do * (h > 0)
        return [dh @ X.T + (0 if forget else lam * W1), do @ h.T + lam * W2]

    report = check_backprop(
        lambda w, X, Y: d2l(w, X, Y, forget=True),
        [5, 7, 3],
        ["relu", "linear"],
        "mse",
        convention="d2l",
        l2=0.01,
        tensorflow=False,
    )
    assert report.first_failure.name == "dW1"
    assert "the L2 term l2 * W is missing from dW" in report.diagnosis[0]
