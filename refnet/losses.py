"""Losses L(a, y) and their gradients dL/da, with Keras 3's default reductions.

Each :class:`Loss` holds ``value(a, y)`` (a Python float) and ``grad(a, y)`` (dL/da, the
shape of ``a``), next to each other. The output layer's delta is then

    delta[L] = vjp_L(dL/da[L], z[L], a[L])                                      (BP1)

For the from-logits losses with a linear output layer this *is* the fused delta:
softmax cross-entropy gives delta[L] = (softmax(z) - y) / n exactly (LS2).

Reductions are Keras 3's "sum_over_batch_size" by default: per-sample losses are averaged
over the batch; MSE and binary cross-entropy first average over the outputs.
``get(name, reduction="sum")`` is Keras' "sum": the per-sample losses summed over the
batch, so L and dL/da are n times the default's (LS5). The textbook
L = 1/2 sum (y - a)^2 differs from Keras' MSE by the constant factor n * k / 2 and its
delta by the inverse of that factor (docs/05-losses.md).

``prepare(Y, a)`` validates targets against the output ``a`` and brings them to the
shape of ``a`` in ``a``'s dtype (int class ids become one-hot rows, hinge's 0/1
labels become -1/+1).

Besides the cross-entropies, Keras 3's ``kl_divergence`` (LS7) and the hinge family,
``hinge`` (LS8), ``squared_hinge`` (LS9) and ``categorical_hinge`` (LS10). Where a hinge
has a kink (max(0, x) at x = 0, a tie in categorical_hinge's max) the derivative is the
one TensorFlow's gradient takes: the active side of the max, and an even split among
tied maxima.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .activations import sigmoid, softmax
from .validation import as_array

Array = NDArray[np.floating]

# keras.config.epsilon(), the clip used by categorical_cross_entropy
CLIP_EPSILON = 1e-7


@dataclass(frozen=True)
class Loss:
    """One registry entry: the loss value and its gradient dL/da, side by side."""

    name: str
    value: Callable[[Array, Array], float]
    grad: Callable[[Array, Array], Array]
    prepare: Callable[[NDArray, Array], Array]
    fused: Callable[[Array, Array], tuple[float, Array]] | None = None
    reduction: str = "sum_over_batch_size"
    # the loss's own kinks: a bool array whose change between two outputs means a
    # kink lies between them (gradcheck skips such a finite difference), None if smooth
    branches: Callable[[Array, Array], Array] | None = None

    def value_and_grad(self, a: Array, y: Array) -> tuple[float, Array]:
        """(L, dL/da) in one call: ``fused`` when the two share work, else both in turn."""
        if self.fused is not None:
            return self.fused(a, y)
        return self.value(a, y), self.grad(a, y)


# ---------------------------------------------------------------------------------
# Target validation (shared by every loss)
# ---------------------------------------------------------------------------------


def _real_targets(Y, a: Array) -> Array:
    """Y as a finite float array of a's shape: (n, k), or (n,) when k == 1."""
    n, k = a.shape
    Y = as_array(Y, "Y")
    if Y.dtype.kind not in "biuf":
        raise TypeError(f"Y: expected a numeric array, got dtype {Y.dtype}")
    if Y.ndim == 1 and k == 1:
        Y = Y[:, None]  # (n,) against (n, 1): a column, never broadcast to (n, n)
    if Y.shape != (n, k):
        raise ValueError(
            f"Y: expected shape ({n}, {k}) to match the output, got {Y.shape}"
        )
    # A value beyond float32's range casts to inf (no warning) and is caught below.
    with np.errstate(over="ignore"):
        Y = Y.astype(a.dtype, copy=False)
    if not np.isfinite(Y).all():
        raise ValueError(
            "Y: expected finite values, got NaN, inf or a value beyond "
            f"{a.dtype.name}'s range"
        )
    return Y


def _class_targets(Y, a: Array) -> Array:
    """Int class ids (n,) -> one-hot rows; probability rows (n, k) checked to sum to 1."""
    n, k = a.shape
    Y = as_array(Y, "Y")
    if Y.dtype.kind not in "biuf":
        raise TypeError(
            f"Y: expected int class ids or probability rows, got dtype {Y.dtype}"
        )
    if Y.ndim == 1:
        if Y.shape[0] != n:
            raise ValueError(
                f"Y: expected {n} class ids to match X's rows, got {Y.shape[0]}"
            )
        if Y.dtype.kind == "f":
            if not np.isfinite(Y).all():
                raise ValueError("Y: expected finite class ids, got NaN or inf")
            if not (Y == np.round(Y)).all():
                raise ValueError(
                    "Y: 1-D targets are class ids and must be whole numbers"
                )
        # (not uint64: an id beyond the intp range would wrap in take)
        if k <= _IDENTITY_MAX and (
            Y.dtype.kind == "i" or (Y.dtype.kind == "u" and Y.dtype.itemsize < 8)
        ):
            # row Y[i] of the k x k identity, by take: one call, and its range check
            # (mode "raise") is the ids' check; negative ids are refused first, since
            # take would count them from the end
            if Y.dtype.kind == "i" and n and np.minimum.reduce(Y) < 0:
                _bad_ids(Y, k)
            try:
                return _identity(k, a.dtype).take(Y, axis=0)
            except IndexError:
                _bad_ids(Y, k)
        if n and (Y.min() < 0 or Y.max() >= k):
            _bad_ids(Y, k)
        onehot = np.zeros((n, k), dtype=a.dtype)
        onehot[np.arange(n), Y.astype(np.intp)] = 1
        return onehot
    Y = _real_targets(Y, a)
    # With one output (k = 1) the only probability row is [1], and L is 0 whatever a is.
    tol = np.sqrt(np.finfo(a.dtype).eps) * k
    sums = Y.reshape(n, -1).sum(axis=1)
    if (Y < 0).any() or not np.allclose(sums, 1, rtol=0, atol=tol):
        raise ValueError(
            "Y: expected one-hot or probability rows (>= 0, each summing to 1), "
            f"got entries in [{Y.min():g}, {Y.max():g}] and row sums in "
            f"[{sums.min():g}, {sums.max():g}]"
        )
    return Y


_IDENTITY_MAX = 1024  # one-hot rows come from a cached identity up to this many classes
_IDENTITIES: dict = {}


def _identity(k: int, dtype) -> Array:
    """The k x k identity in dtype, made once (read-only: ``take`` copies its rows)."""
    key = (k, np.dtype(dtype))
    eye = _IDENTITIES.get(key)
    if eye is None:
        eye = _IDENTITIES[key] = np.eye(k, dtype=dtype)
        eye.flags.writeable = False
    return eye


def _bad_ids(Y, k: int):
    raise ValueError(
        f"Y: class ids must lie in [0, {k - 1}] for {k} outputs, "
        f"got values in [{Y.min()}, {Y.max()}]"
    )


def _binary_targets(Y, a: Array) -> Array:
    Y = _real_targets(Y, a)
    if (Y < 0).any() or (Y > 1).any():
        raise ValueError(
            f"Y: expected binary targets in [0, 1], got values in [{Y.min()}, {Y.max()}]"
        )
    return Y


def _hinge_targets(Y, a: Array) -> Array:
    """Labels -1/+1, or 0/1 (then 2Y - 1, as Keras converts them): the signs hinge and
    squared_hinge compare a with. A mix (0 with -1, or any other value) is refused."""
    Y = _real_targets(Y, a)
    if ((Y == 0) | (Y == 1)).all():
        return 2 * Y - 1
    if not ((Y == -1) | (Y == 1)).all():
        odd = np.unique(Y[(Y != -1) & (Y != 1)])[:3]
        raise ValueError(
            "Y: expected hinge labels, every entry -1 or +1 (or every entry 0 or 1, "
            f"read as -1/+1), got {', '.join(f'{v:g}' for v in odd)} among them"
        )
    return Y


# ---------------------------------------------------------------------------------
# The table: each value sits directly above its gradient.
# ---------------------------------------------------------------------------------


def mse(a: Array, y: Array) -> float:
    """L = 1/n sum_i 1/k sum_j (a_ij - y_ij)^2: mean over outputs, then over the batch (LS1)."""
    r = a - y
    return float(np.mean(r * r))


def mse_grad(a: Array, y: Array) -> Array:
    """dL/da = 2 (a - y) / (n k) (LS1)."""
    return (a - y) * a.dtype.type(2 / a.size)


def _log_softmax(z: Array, quiet: bool = True) -> tuple[Array, Array, Array]:
    """(log softmax(z), exp(s), sum exp(s)) per row, with s = z - max(z).

    log softmax(z) = s - log(sum exp(s)): finite wherever softmax(z) is not 0, since
    sum exp(s) >= 1. Logits spanning more than the float range make s = -inf (and
    exp(s) = 0) for the small ones, which is their exact log softmax to the dtype.
    """
    # overflow only where exp(s) would be 0 anyway (``quiet`` False: the caller's
    # errstate ignores it already)
    with np.errstate(over="ignore") if quiet else contextlib.nullcontext():
        shifted = z - np.maximum.reduce(z, axis=1, keepdims=True)  # z.max(axis=1)
    e = np.exp(shifted)
    total = np.add.reduce(e, axis=1, keepdims=True)  # e.sum(axis=1): one call less
    shifted -= np.log(total)  # log softmax, in place of s
    return shifted, e, total


def _minus_y_log_p(y: Array, log_p: Array, quiet: bool = True) -> float:
    """-sum_ij y_ij log p_ij with 0 log 0 = 0: a class of target 0 adds nothing, even
    where its log p is -inf."""
    with np.errstate(invalid="ignore") if quiet else contextlib.nullcontext():
        total = float(np.add.reduce(y * log_p, axis=None))  # (y * log_p).sum()
    if math.isnan(total):  # 0 * -inf somewhere: the rare case pays for the mask
        total = float(np.where(y != 0, y * np.where(y != 0, log_p, 0), 0).sum())
    return -total


def softmax_cross_entropy(z: Array, y: Array) -> float:
    """L = -1/n sum_i sum_j y_ij log softmax(z_i)_j, from logits (LS2).

    Computed as log softmax = s - log(sum exp(s)) with s = z - max(z) (see
    :func:`_log_softmax`): no softmax is formed, nothing overflows, and nothing cancels,
    so L is right to the dtype's precision at logits of 1e30 (where the textbook
    logsumexp(z) - z_y subtracts two equal huge numbers and gives 0 instead of ln 2).
    """
    log_p, _, _ = _log_softmax(z)
    return _minus_y_log_p(y, log_p) / z.shape[0]


def softmax_cross_entropy_grad(z: Array, y: Array) -> Array:
    """dL/dz = (softmax(z) - y) / n, the fused delta (LS2); rows of y sum to 1 (prepare checks)."""
    p = softmax(z)
    return (p - y) * z.dtype.type(1 / z.shape[0])


def softmax_cross_entropy_value_and_grad(z: Array, y: Array) -> tuple[float, Array]:
    """L and dL/dz = (softmax(z) - y) / n sharing one softmax, as the training step needs (LS2).

    One :func:`_log_softmax` serves both: L from log softmax(z) (the form TensorFlow's
    softmax_cross_entropy_with_logits evaluates), the delta from exp(s) / sum exp(s).
    """
    n = z.shape[0]
    # one errstate for both (entering one costs about a microsecond, a 64-32-10 step ~30)
    with np.errstate(over="ignore", invalid="ignore"):
        log_p, e, total = _log_softmax(z, False)
        value = _minus_y_log_p(y, log_p, False) / n
    grad = np.divide(e, total, out=e)  # softmax(z)
    grad -= y
    grad *= z.dtype.type(1 / n)
    return value, grad


def _normalised_clipped(a: Array) -> tuple[Array, Array, Array]:
    """p = a / sum(a) clipped to [eps, 1 - eps], as Keras' from_logits=False path."""
    s = a.sum(axis=-1, keepdims=True)
    p = a / s
    eps = a.dtype.type(CLIP_EPSILON)
    inside = (p >= eps) & (p <= 1 - eps)  # where the clip passes the gradient
    return np.clip(p, eps, 1 - eps), inside, s


def categorical_cross_entropy(a: Array, y: Array) -> float:
    """L = -1/n sum_i sum_j y_ij log(clip(a_ij / sum_k a_ik)), from probabilities (LS3)."""
    p, _, _ = _normalised_clipped(a)
    return float(-(y * np.log(p)).sum(axis=1).mean())


def categorical_cross_entropy_grad(a: Array, y: Array) -> Array:
    """dL/da_j = (g_j - sum_k g_k p_k) / s with g = -y / (n p) inside the clip, 0 outside (LS3).

    p = a / s is the renormalised output, s = sum_k a_k; the clip's gradient is zero where
    it is active, as tf.clip_by_value's.
    """
    p, inside, s = _normalised_clipped(a)
    g = np.where(inside, -y / (p * a.shape[0]), a.dtype.type(0))
    a_over_s = a / s
    return (g - (g * a_over_s).sum(axis=-1, keepdims=True)) / s


def binary_cross_entropy(z: Array, y: Array) -> float:
    """L = mean_ij max(z, 0) - z y + log1p(exp(-|z|)), from logits, stable for large |z| (LS4).

    Equals -mean(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))).
    """
    per_entry = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(per_entry.mean())


def binary_cross_entropy_grad(z: Array, y: Array) -> Array:
    """dL/dz = (sigmoid(z) - y) / (n k) (LS4)."""
    return (sigmoid(z) - y) * z.dtype.type(1 / z.size)


def _clip_inside(a: Array) -> tuple[Array, Array]:
    """(clip(a, eps, 1), where the clip passes the gradient): Keras' ``ops.clip`` as
    tf.clip_by_value, whose gradient is 1 on [eps, 1] (bounds included) and 0 outside."""
    eps = a.dtype.type(CLIP_EPSILON)
    return np.clip(a, eps, 1), (a >= eps) & (a <= 1)


def _clipped_targets(y: Array, a: Array) -> Array:
    """clip(y, eps, 1) in a's dtype (int targets too: their clip must not round eps to 0)."""
    return np.clip(np.asarray(y, dtype=a.dtype), a.dtype.type(CLIP_EPSILON), 1)


def kl_divergence(a: Array, y: Array) -> float:
    """L = 1/n sum_i sum_j y_ij log(y_ij / a_ij), y and a clipped to [eps, 1] (LS7).

    Keras 3's ``kl_divergence``: both clipped to [1e-7, 1] first, so a target of 0 adds
    eps log(eps / a), not 0; no renormalisation (unlike LS3), so a belongs on a softmax
    output. The batch mean of the per-row sums.
    """
    yc = _clipped_targets(y, a)
    ac, _ = _clip_inside(a)
    return float((yc * np.log(yc / ac)).sum(axis=-1).mean())


def kl_divergence_grad(a: Array, y: Array) -> Array:
    """dL/da = -clip(y) / (n clip(a)) where eps <= a <= 1, and 0 where the clip is
    active (a < eps or a > 1), as tf.clip_by_value's gradient (LS7)."""
    yc = _clipped_targets(y, a)
    ac, inside = _clip_inside(a)
    return np.where(inside, -yc / (ac * a.shape[0]), a.dtype.type(0))


def _signed_labels(y: Array) -> Array:
    """Keras' convert_binary_labels_to_hinge: y -> 2y - 1 when every entry is 0 or 1,
    else y unchanged (so -1/+1 labels pass as they are)."""
    if ((y == 0) | (y == 1)).all():
        return 2 * y - 1
    return y


def _hinge_margins(a: Array, y: Array) -> tuple[Array, Array]:
    """(s, m): the labels s in -1/+1 and m = 1 - s a, per entry."""
    s = _signed_labels(y)
    return s, 1 - s * a


def hinge(a: Array, y: Array) -> float:
    """L = 1/(n k) sum_ij max(0, 1 - s_ij a_ij), s = 2y - 1 for 0/1 labels (LS8)."""
    _, m = _hinge_margins(a, y)
    return float(np.maximum(m, 0).mean())


def hinge_grad(a: Array, y: Array) -> Array:
    """dL/da = -s / (n k) where 1 - s a >= 0, else 0 (LS8).

    At the kink (s a = 1 exactly) the slope of the active side, -s / (n k): TF's
    gradient of tf.maximum(x, 0) goes to x wherever x >= 0, ties included.
    """
    s, m = _hinge_margins(a, y)
    return np.where(m >= 0, -s, a.dtype.type(0)) * a.dtype.type(1 / a.size)


def squared_hinge(a: Array, y: Array) -> float:
    """L = 1/(n k) sum_ij max(0, 1 - s_ij a_ij)^2, s = 2y - 1 for 0/1 labels (LS9)."""
    _, m = _hinge_margins(a, y)
    h = np.maximum(m, 0)
    return float((h * h).mean())


def squared_hinge_grad(a: Array, y: Array) -> Array:
    """dL/da = -2 s max(0, 1 - s a) / (n k) (LS9): continuous, 0 at the kink either way."""
    s, m = _hinge_margins(a, y)
    return -2 * s * np.maximum(m, 0) * a.dtype.type(1 / a.size)


def _categorical_hinge_parts(a: Array, y: Array) -> tuple[Array, Array, Array]:
    """(r, neg, pos) per row: r = (1 - y) a, neg = max_j r_j, pos = sum_j y_j a_j.

    For one-hot y the true class's r is 0, so neg is never below 0: with every wrong
    score negative, neg = 0 comes from the true class (Keras' formula, kept). Soft
    probability rows are taken as Keras takes them, in the same formula."""
    r = (1 - y) * a
    return r, r.max(axis=-1, keepdims=True), (y * a).sum(axis=-1, keepdims=True)


def categorical_hinge(a: Array, y: Array) -> float:
    """L = 1/n sum_i max(0, neg_i - pos_i + 1), neg = max_j (1 - y_ij) a_ij,
    pos = sum_j y_ij a_ij (LS10)."""
    _, neg, pos = _categorical_hinge_parts(a, y)
    return float(np.maximum(neg - pos + 1, 0).mean())


def categorical_hinge_grad(a: Array, y: Array) -> Array:
    """dL/da_j = [neg - pos + 1 >= 0] ((1 - y_j) t_j / T - y_j) / n (LS10).

    t_j = [r_j = neg] marks the entries of r = (1 - y) a that attain the maximum and T
    counts them: TF's reduce_max gradient splits evenly among ties (the true class's
    r = 0 counts as one, and passes nothing on through its factor 1 - y = 0). At the
    kink neg - pos + 1 = 0 the active side, as tf.maximum's gradient (see hinge_grad).
    """
    r, neg, pos = _categorical_hinge_parts(a, y)
    ties = (r == neg).astype(a.dtype)
    d_neg = (1 - y) * ties / ties.sum(axis=-1, keepdims=True)
    active = (neg - pos + 1 >= 0).astype(a.dtype)
    return active * (d_neg - y) * a.dtype.type(1 / a.shape[0])


def _kl_branches(a: Array, y: Array) -> Array:
    """Where LS7's clip passes the gradient: its kinks are at a = eps and a = 1."""
    return _clip_inside(a)[1]


def _hinge_branches(a: Array, y: Array) -> Array:
    """Which side of LS8/LS9's kink s a = 1 each entry is on."""
    return _hinge_margins(a, y)[1] >= 0


def _categorical_hinge_branches(a: Array, y: Array) -> Array:
    """LS10's kinks: which entries attain the max, and whether each row is active."""
    r, neg, pos = _categorical_hinge_parts(a, y)
    return np.concatenate([r == neg, neg - pos + 1 >= 0], axis=-1)


# ---------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------

_REGISTRY: dict[str, Loss] = {
    "mse": Loss("mse", mse, mse_grad, _real_targets),
    "softmax_cross_entropy": Loss(
        "softmax_cross_entropy",
        softmax_cross_entropy,
        softmax_cross_entropy_grad,
        _class_targets,
        softmax_cross_entropy_value_and_grad,
    ),
    "categorical_cross_entropy": Loss(
        "categorical_cross_entropy",
        categorical_cross_entropy,
        categorical_cross_entropy_grad,
        _class_targets,
    ),
    "binary_cross_entropy": Loss(
        "binary_cross_entropy",
        binary_cross_entropy,
        binary_cross_entropy_grad,
        _binary_targets,
    ),
    "kl_divergence": Loss(
        "kl_divergence",
        kl_divergence,
        kl_divergence_grad,
        _class_targets,
        branches=_kl_branches,
    ),
    "hinge": Loss("hinge", hinge, hinge_grad, _hinge_targets, branches=_hinge_branches),
    "squared_hinge": Loss(
        "squared_hinge",
        squared_hinge,
        squared_hinge_grad,
        _hinge_targets,
        branches=_hinge_branches,
    ),
    "categorical_hinge": Loss(
        "categorical_hinge",
        categorical_hinge,
        categorical_hinge_grad,
        _class_targets,
        branches=_categorical_hinge_branches,
    ),
}


def names() -> list[str]:
    """The registered loss names, sorted."""
    return sorted(_REGISTRY)


REDUCTIONS = ("sum_over_batch_size", "sum")  # Keras 3's names


def _times_n(fn: Callable) -> Callable:
    """fn(a, y) scaled by the batch size n = a.shape[0]: the "sum" reduction (LS5)."""

    def summed(a: Array, y: Array):
        n = a.shape[0]
        out = fn(a, y)
        if isinstance(out, tuple):  # a fused (value, grad)
            value, grad = out
            grad *= grad.dtype.type(n)
            return value * n, grad
        if isinstance(out, float):
            return out * n
        return out * out.dtype.type(n)

    return summed


def _summed(loss: Loss) -> Loss:
    """The loss with Keras' "sum" reduction: L_sum = n L_mean, dL_sum/da = n dL_mean/da (LS5)."""
    return Loss(
        loss.name,
        _times_n(loss.value),
        _times_n(loss.grad),
        loss.prepare,
        None if loss.fused is None else _times_n(loss.fused),
        reduction="sum",
        branches=loss.branches,
    )


_SUMMED: dict[str, Loss] = {name: _summed(loss) for name, loss in _REGISTRY.items()}


def get(name: str | Loss, reduction: str | None = None) -> Loss:
    """Look up a loss by name; a :class:`Loss` passes through.

    ``reduction`` is Keras 3's: "sum_over_batch_size" (the default: the mean of the
    per-sample losses) or "sum" (their sum, n times as large, LS5). None keeps a
    :class:`Loss`'s own reduction and gives a name the default.

    Raises ValueError naming the valid choices for an unknown name or reduction.
    """
    if reduction is not None and reduction not in REDUCTIONS:
        raise ValueError(
            f"reduction: expected one of {list(REDUCTIONS)}, got {reduction!r}"
        )
    if isinstance(name, Loss):
        if reduction is None or reduction == name.reduction:
            return name
        if reduction == "sum":
            return _summed(name)
        name = name.name
    if not isinstance(name, str):
        raise TypeError(f"loss: expected a name (str), got {type(name).__name__}")
    table = _SUMMED if reduction == "sum" else _REGISTRY
    try:
        return table[name]
    except KeyError:
        raise ValueError(
            f"loss: unknown name {name!r}; expected one of {names()}"
        ) from None
