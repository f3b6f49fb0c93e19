"""refnet's losses written out in jax.numpy with Keras 3's per-row values: the one
mapping, used by the oracle (per row, then its batch reduction) and by the training
comparison.

JAX has no loss objects (optax's losses are per-entry building blocks with their own
conventions), so each loss is written per row, as Keras computes it before the batch
reduction:

    mse                        mean over outputs of (a - y)^2
    softmax_cross_entropy      -sum(y * log_softmax(z)) (the id's entry for int ids)
    categorical_cross_entropy  p = a / sum(a), clipped to [CLIP_EPSILON, 1 - CLIP_EPSILON]
                               (Keras' from_logits=False, LS3), -sum(y * log p)
    binary_cross_entropy       max(z, 0) - z y + log1p(exp(-|z|)) (TensorFlow's
                               sigmoid_cross_entropy_with_logits), mean over outputs
    kl_divergence              sum(y * log(y / a)) with y and a clipped to
                               [CLIP_EPSILON, 1] as Keras clips them (LS7)
    hinge, squared_hinge       mean over outputs of where(m >= 0, m, 0) (squared),
                               m = 1 - s a, s = 2y - 1 for 0/1 labels (LS8, LS9)
    categorical_hinge          where(x >= 0, x, 0), x = max((1 - y) a) - sum(y a) + 1
                               (LS10)

At the kinks these forms take TensorFlow's gradient, which is the one refnet mirrors:
``where(x >= 0, x, 0)`` passes the gradient at x = 0 as tf.maximum(x, 0) does,
``jnp.max`` splits it evenly among tied maxima as tf.reduce_max does, and the clip is
written as ``where`` (:func:`clip`) because ``jnp.clip``'s gradient at a bound is 1/2
(lax.max and lax.min split a tie in two), where tf.clip_by_value passes it whole.
"""

from __future__ import annotations

import numpy as np

import refnet
from refnet.losses import CLIP_EPSILON

from .imports import import_jax

COLUMNS = ("mse", "binary_cross_entropy", "hinge", "squared_hinge")


def jax_targets(loss: str, Y, k: int, dtype) -> np.ndarray:
    """Targets as :func:`loss_per_row` takes them (a NumPy array): int ids for the
    softmax cross-entropy of an (n,) Y, one-hot rows for the other class losses of
    one, an (n, 1) column for an (n,) MSE, binary or hinge target, else float rows in
    net's dtype."""
    Y = np.asarray(Y)
    if loss in COLUMNS:
        return Y.reshape(-1, 1).astype(dtype) if Y.ndim == 1 else Y.astype(dtype)
    if Y.ndim == 1:
        ids = Y.astype(np.int64)
        return ids if loss == "softmax_cross_entropy" else np.eye(k, dtype=dtype)[ids]
    return Y.astype(dtype)


def clip(x, lo, hi):
    """x clipped to [lo, hi] with tf.clip_by_value's gradient: 1 inside and at the
    bounds, 0 outside (``jnp.clip`` gives 1/2 at a bound)."""
    jnp = import_jax().numpy
    lo, hi = jnp.asarray(lo, x.dtype), jnp.asarray(hi, x.dtype)
    return jnp.where(x < lo, lo, jnp.where(x > hi, hi, x))


def loss_per_row(loss: str, a, y):
    """Each row's loss (n,) in JAX, as Keras computes it before the batch reduction."""
    jax = import_jax()
    jnp = jax.numpy
    if loss == "mse":
        return ((a - y) ** 2).mean(axis=-1)
    if loss == "softmax_cross_entropy":
        log_p = jax.nn.log_softmax(a, axis=-1)
        if jnp.issubdtype(y.dtype, jnp.integer):
            return -jnp.take_along_axis(log_p, y[:, None], axis=-1)[:, 0]
        value = -(y * log_p).sum(axis=-1)
        # the gradient of TF's fused kernel, softmax - y, also where a row of y sums to
        # 1 only within rounding (autodiff of the value gives sum(y) softmax - y); rows
        # that sum to exactly 1 keep autodiff's own (same function, its rounding)
        g = jax.nn.logsumexp(a, axis=-1) - (y * a).sum(axis=-1)
        fused = g + jax.lax.stop_gradient(value - g)
        return jnp.where(y.sum(axis=-1) == 1, value, fused)
    if loss == "categorical_cross_entropy":
        p = clip(a / a.sum(axis=-1, keepdims=True), CLIP_EPSILON, 1 - CLIP_EPSILON)
        return -(y * jnp.log(p)).sum(axis=-1)
    if loss == "binary_cross_entropy":
        # TF's sigmoid_cross_entropy_with_logits, kinks included: at a = 0 both
        # where's take the a >= 0 side (jnp.maximum would split the gradient in two,
        # and jnp.abs'(0) is 1: a loss gradient off by 1/2 there)
        pos = a >= 0
        relu, neg_abs = jnp.where(pos, a, 0), jnp.where(pos, -a, a)
        rows = relu - a * y + jnp.log1p(jnp.exp(neg_abs))
        return rows.mean(axis=-1)
    if loss == "kl_divergence":
        y_c, a_c = clip(y, CLIP_EPSILON, 1), clip(a, CLIP_EPSILON, 1)
        return (y_c * jnp.log(y_c / a_c)).sum(axis=-1)
    if loss in ("hinge", "squared_hinge"):
        binary = ((y == 0) | (y == 1)).all()
        s = jnp.where(binary, 2 * y - 1, y)
        m = 1 - s * a
        h = jnp.where(m >= 0, m, jnp.zeros_like(m))
        return (h if loss == "hinge" else h * h).mean(axis=-1)
    if loss == "categorical_hinge":
        neg = ((1 - y) * a).max(axis=-1)
        x = neg - (y * a).sum(axis=-1) + 1
        return jnp.where(x >= 0, x, jnp.zeros_like(x))
    raise ValueError(
        f"loss: no JAX counterpart for {loss!r}; expected one of "
        f"{refnet.losses.names()}"
    )


def reduce(rows, reduction: str = "sum_over_batch_size"):
    """The batch reduction of per-row losses: Keras' "sum_over_batch_size" (the mean)
    or "sum" (LS5)."""
    if reduction not in refnet.losses.REDUCTIONS:
        raise ValueError(
            f"reduction: expected one of {refnet.losses.REDUCTIONS}, got {reduction!r}"
        )
    return rows.sum() if reduction == "sum" else rows.sum() / rows.shape[0]


def jax_loss(loss: str, reduction: str = "sum_over_batch_size"):
    """``f(out, y)``: the batch reduction of :func:`loss_per_row` (by default the mean,
    Keras' "sum_over_batch_size"), for a training step; y as :func:`jax_targets`
    prepares it."""
    refnet.losses.get(loss)  # ValueError naming the valid ones

    def batch_loss(out, y):
        return reduce(loss_per_row(loss, out, y), reduction)

    return batch_loss
