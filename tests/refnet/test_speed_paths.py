"""The per-call shortcuts of ``gradients`` keep every check and every bit (chapter
"Speed"): one-hot rows from a cached identity, and the fused softmax cross-entropy.

Expected values come from hand-built one-hot rows and from the textbook formulas in
float64, never from the shortcut itself."""

from __future__ import annotations

import numpy as np
import pytest

import refnet
from refnet import losses


@pytest.mark.parametrize(
    "dtype", ["int8", "int32", "int64", "uint8", "uint32", "uint64"]
)
def test_class_ids_become_fresh_one_hot_rows(dtype):
    a = np.zeros((3, 4), np.float32)
    ids = np.array([0, 3, 1], dtype)
    want = np.zeros((3, 4), np.float32)
    want[[0, 1, 2], [0, 3, 1]] = 1
    got = losses.get("softmax_cross_entropy").prepare(ids, a)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32
    got[:] = 7  # the caller's to change: the next call is not affected
    again = losses.get("softmax_cross_entropy").prepare(ids, a)
    np.testing.assert_array_equal(again, want)


@pytest.mark.parametrize("bad", [[0, 4, 1], [0, -1, 1], [0, 2**40, 1]])
def test_out_of_range_ids_are_refused_with_their_range(bad):
    a = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"Y: class ids must lie in \[0, 3\] for 4"):
        losses.get("softmax_cross_entropy").prepare(np.array(bad), a)


def test_a_uint64_id_beyond_intp_is_refused_not_wrapped():
    a = np.zeros((2, 4))
    with pytest.raises(ValueError, match="class ids must lie in"):
        losses.get("softmax_cross_entropy").prepare(
            np.array([1, 2**64 - 1], np.uint64), a
        )


def test_fused_softmax_cross_entropy_matches_the_textbook_in_float64():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 5)) * 3
    y = np.eye(5)[rng.integers(0, 5, 6)]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    value, grad = losses.get("softmax_cross_entropy").value_and_grad(z.copy(), y)
    assert value == pytest.approx(-np.mean(np.log((p * y).sum(axis=1))), rel=1e-14)
    np.testing.assert_allclose(grad, (p - y) / 6, rtol=1e-13, atol=1e-16)
    with np.errstate(all="raise"):  # huge logits: no warning escapes, L stays finite
        value, _ = losses.get("softmax_cross_entropy").value_and_grad(
            np.array([[3e38, -3e38]], np.float32), np.array([[0.0, 1.0]], np.float32)
        )
    assert np.isinf(value) or value > 1e38


def test_gradients_with_l2_zero_as_int_or_float_agree():
    net = refnet.Network.build([4, 3, 2], seed=0)
    X, y = np.ones((5, 4)), np.array([0, 1, 0, 1, 1])
    a = net.gradients(X, y, "softmax_cross_entropy", 0.0)
    b = net.gradients(X, y, "softmax_cross_entropy", 0)
    assert a.loss == b.loss
    with pytest.raises(ValueError, match="l2"):
        net.gradients(X, y, "softmax_cross_entropy", -0.5)
