"""KL divergence and the hinge family (LS7-LS10) at their kinks, live: refnet's dL/da
against Keras 3's loss under tf.GradientTape and against the PyTorch oracle's torch form
(crosscheck/frameworks/torch/losses.py) under autograd, in both dtypes.

Random data never lands exactly on a kink, so the matrix cannot see which side a loss
takes there; these cases sit on one on purpose: hinge's margin s a = 1 exactly,
categorical hinge's ties in the max (two wrong classes, or a wrong class of score 0 and
the true class's (1 - y) a = 0) and its margin exactly met, and the KL clip's bounds.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import importorskip_torch

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import refnet  # noqa: E402
from crosscheck.frameworks.tf.losses import keras_loss  # noqa: E402

KINKS = [
    ("hinge", [[1.0, -1.0, 0.5, 2.0]], [[1.0, 0.0, 1.0, 0.0]]),  # s a = 1 twice
    ("hinge", [[1.0, -1.0, 0.0]], [[1.0, -1.0, 1.0]]),  # -1/+1 labels
    ("squared_hinge", [[1.0, -1.0, 0.5, 2.0]], [[1.0, 0.0, 1.0, 0.0]]),
    ("categorical_hinge", [[2.0, 2.0, 0.5], [0.0, -1.0, 0.5]], [[0, 0, 1.0]] * 2),
    ("categorical_hinge", [[-1.0, -2.0, 0.5], [1.0, 0.0, 2.0]], [[0, 0, 1.0]] * 2),
    ("categorical_hinge", [[0.0, 0.0, 3.0], [0.0, 0.0, 0.0]], [[0, 0, 1.0]] * 2),
    ("kl_divergence", [[1e-7, 1.0, 0.0, 1.5, 0.3]], [[0.2] * 5]),
    ("kl_divergence", [[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]),
]


def _tf_value_and_grad(name, a, y, dtype):
    loss = keras_loss(name, dtype)
    a_t = tf.Variable(a)
    with tf.GradientTape() as tape:
        value = loss(tf.constant(y), a_t)
    return float(value), tape.gradient(value, a_t).numpy()


def _torch_value_and_grad(name, a, y):
    torch = importorskip_torch()
    from crosscheck.frameworks.torch.losses import loss_per_row

    a_t = torch.from_numpy(a.copy()).requires_grad_()
    value = loss_per_row(name, a_t, torch.from_numpy(y)).mean()
    value.backward()
    return float(value.item()), a_t.grad.numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, a, y", KINKS)
def test_ls7_ls10_kinks_take_tensorflows_side(name, a, y, dtype):
    """LS7-LS10 at a kink: refnet's gradient is TF's, entry for entry (the hinges'
    gradients are exact multiples of 1/(nk); KL's is one division)."""
    a, y = np.array(a, dtype), np.array(y, dtype)
    loss = refnet.losses.get(name)
    prepared = loss.prepare(y, a)
    ours_value, ours = loss.value(a, prepared), loss.grad(a, prepared)
    tf_value, theirs = _tf_value_and_grad(name, a, y, dtype)
    rtol = 1e-15 if dtype == "float64" else 1e-6
    assert ours_value == pytest.approx(tf_value, rel=rtol, abs=1e-30)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0)


@pytest.mark.parametrize("name, a, y", KINKS)
def test_the_torch_oracle_takes_the_same_side_at_the_kinks(name, a, y):
    """The torch forms (where(x >= 0), amax, clamp) give TF's kink gradients too: a
    torch F.relu or max(dim) there would make the two oracles disagree with each other."""
    a, y = np.array(a), np.array(y)
    tf_value, theirs = _tf_value_and_grad(name, a, y, "float64")
    torch_value, torch_grad = _torch_value_and_grad(name, a, y)
    assert torch_value == pytest.approx(tf_value, rel=1e-15, abs=1e-30)
    np.testing.assert_allclose(torch_grad, theirs, rtol=1e-15, atol=0)


def test_relu_in_the_torch_hinge_would_take_the_other_side():
    """The pitfall the torch form avoids: F.relu'(0) = 0, so at s a = 1 a relu hinge has
    no gradient where Keras' has -s / (n k)."""
    torch = importorskip_torch()
    a = torch.tensor([[1.0]], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.relu(1 - a).mean().backward()
    assert a.grad.item() == 0.0
    _, theirs = _tf_value_and_grad(
        "hinge", np.array([[1.0]]), np.array([[1.0]]), "float64"
    )
    assert theirs.item() == -1.0
