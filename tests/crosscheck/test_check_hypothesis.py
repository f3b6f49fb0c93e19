"""Random architectures pass the crosscheck (hypothesis).

Depth 1-6, widths 1-64, any activation per layer, a compatible loss, batch 1-64, both
dtypes; float32 networks (ReLU ones included) are compared with TensorFlow in float32.
Pinned extreme cases (z = 0, logits +-1e4, sigmoid at -1000) live in
test_crosscheck_pitfalls.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

tf = pytest.importorskip("tensorflow")

# A drawn softmax output of width 1 is valid (p = 1, zero gradients, both sides agree);
# Keras warns about it, and that warning is not a finding.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:You are using a softmax over axis -1:UserWarning"
    ),
    pytest.mark.filterwarnings("ignore:In loss categorical_crossentropy:SyntaxWarning"),
]

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck.frameworks.tf.bridge import ACTIVATIONS  # noqa: E402
from crosscheck.matrix import LOSSES, Case, make_data  # noqa: E402


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 6))
    widths = draw(st.lists(st.integers(1, 64), min_size=depth + 1, max_size=depth + 1))
    loss = draw(st.sampled_from(LOSSES))
    hidden = draw(
        st.lists(st.sampled_from(ACTIVATIONS), min_size=depth - 1, max_size=depth - 1)
    )
    out = (
        "softmax"
        if loss == "categorical_cross_entropy"
        else draw(st.sampled_from(ACTIVATIONS))
    )
    dtype = draw(st.sampled_from(["float32", "float64"]))
    batch = draw(st.integers(1, 64))
    seed = draw(st.integers(0, 2**16))
    return Case(tuple(widths), (*hidden, out), loss, dtype, batch, seed)


@settings(deadline=None)  # max_examples from the profile: 30 (refnet), 500 (thorough)
@given(case=networks())
def test_random_architectures_match_tensorflow(case):
    net = refnet.Network.build(
        list(case.layout), list(case.activations), seed=case.seed, dtype=case.dtype
    )
    X, Y = make_data(case)
    report = crosscheck.compare(net, X, Y, case.loss)
    assert report.ok, f"{case.label}\n{report}"
