"""refnet's losses written out in torch with Keras 3's reductions: the one mapping, used
by the oracle (per row, then its batch reduction) and by the training comparison.

torch's own loss modules average over every entry at once, or sum, and have no clipped
form, so each loss is written per row, as Keras computes it before the batch reduction:

    mse                        mean over outputs
    softmax_cross_entropy      -sum(y * log_softmax(z)) (F.cross_entropy for int ids)
    categorical_cross_entropy  p = a / sum(a), clamped to [CLIP_EPSILON, 1 - CLIP_EPSILON]
                               (Keras' from_logits=False, LS3), -sum(y * log p)
    binary_cross_entropy       F.binary_cross_entropy_with_logits, mean over outputs
    kl_divergence              F.kl_div(log clamp(a), clamp(y)) summed over outputs: torch
                               takes log-probabilities; y and a clamped to
                               [CLIP_EPSILON, 1] as Keras clips them (LS7)
    hinge, squared_hinge       torch has no Keras-style hinge: the formula in torch ops,
                               mean over outputs of where(m >= 0, m, 0) (squared),
                               m = 1 - s a, s = 2y - 1 for 0/1 labels (LS8, LS9)
    categorical_hinge          where(x >= 0, x, 0), x = amax((1 - y) a) - sum(y a) + 1
                               (LS10)

At the kinks the torch forms take TensorFlow's gradient, which is the one refnet
mirrors: ``where(x >= 0, x, 0)`` passes the gradient at x = 0 as tf.maximum(x, 0)
does (F.relu would give 0 there), ``amax`` splits it evenly among tied maxima as
tf.reduce_max does (``max(dim)`` would pick one), and ``clamp`` passes it at its
bounds as tf.clip_by_value does.
"""

from __future__ import annotations

import numpy as np

import refnet
from refnet.losses import CLIP_EPSILON

from .imports import import_torch


def torch_targets(loss: str, Y, k: int, dtype) -> np.ndarray:
    """Targets as the torch loss takes them: int ids, or float rows in net's dtype."""
    Y = np.asarray(Y)
    if loss in ("mse", "binary_cross_entropy", "hinge", "squared_hinge"):
        return Y.reshape(-1, 1).astype(dtype) if Y.ndim == 1 else Y.astype(dtype)
    if Y.ndim == 1:
        ids = Y.astype(np.int64)
        return ids if loss == "softmax_cross_entropy" else np.eye(k, dtype=dtype)[ids]
    return Y.astype(dtype)


def loss_per_row(loss: str, a, y):
    """Each row's loss (n,) in torch, as Keras computes it before the batch reduction."""
    torch = import_torch()
    F = torch.nn.functional
    if loss == "mse":
        return ((a - y) ** 2).mean(dim=-1)
    if loss == "softmax_cross_entropy":
        if y.dtype == torch.int64:
            return F.cross_entropy(a, y, reduction="none")
        value = -(y * F.log_softmax(a, dim=-1)).sum(dim=-1)
        # the gradient of TF's fused kernel, softmax - y, also where a row of y sums to
        # 1 only within rounding (autograd of the value gives sum(y) softmax - y); rows
        # that sum to exactly 1 keep autograd's own (same function, its rounding)
        g = torch.logsumexp(a, dim=-1) - (y * a).sum(dim=-1)
        return torch.where(y.sum(dim=-1) == 1, value, g + (value - g).detach())
    if loss == "categorical_cross_entropy":
        p = a / a.sum(dim=-1, keepdim=True)
        p = torch.clamp(p, CLIP_EPSILON, 1 - CLIP_EPSILON)
        return -(y * torch.log(p)).sum(dim=-1)
    if loss == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(a, y, reduction="none").mean(dim=-1)
    if loss == "kl_divergence":
        a_c = torch.clamp(a, CLIP_EPSILON, 1)
        y_c = torch.clamp(y, CLIP_EPSILON, 1)
        return F.kl_div(torch.log(a_c), y_c, reduction="none").sum(dim=-1)
    if loss in ("hinge", "squared_hinge"):
        binary = ((y == 0) | (y == 1)).all()
        s = torch.where(binary, 2 * y - 1, y)
        m = 1 - s * a
        h = torch.where(m >= 0, m, torch.zeros_like(m))
        return (h if loss == "hinge" else h * h).mean(dim=-1)
    if loss == "categorical_hinge":
        neg = torch.amax((1 - y) * a, dim=-1)
        x = neg - (y * a).sum(dim=-1) + 1
        return torch.where(x >= 0, x, torch.zeros_like(x))
    raise ValueError(
        f"loss: no PyTorch counterpart for {loss!r}; expected one of "
        f"{refnet.losses.names()}"
    )


def torch_loss(loss: str):
    """``f(out, y)``: the mean over the batch of :func:`loss_per_row` (Keras'
    "sum_over_batch_size"), for a training step; y as refnet prepares it."""
    refnet.losses.get(loss)  # ValueError naming the valid ones

    def batch_mean(out, y):
        return loss_per_row(loss, out, y).mean()

    return batch_mean
