"""refnet's losses as Keras 3 loss objects: the one mapping, used by the oracle and by
the training comparison.

    refnet                      Keras 3 (dtype = the network's, never floatx)
    mse                         MeanSquaredError
    softmax_cross_entropy       CategoricalCrossentropy(from_logits=True), or
                                SparseCategoricalCrossentropy(from_logits=True) for ids
    categorical_cross_entropy   CategoricalCrossentropy(from_logits=False): Keras clips
                                p = a / sum(a) to [1e-7, 1 - 1e-7], as refnet (LS3)
    binary_cross_entropy        BinaryCrossentropy(from_logits=True)
    kl_divergence               KLDivergence: y and a clipped to [1e-7, 1] (LS7)
    hinge, squared_hinge        Hinge, SquaredHinge: 0/1 labels converted to -1/+1 by
                                Keras itself (LS8, LS9)
    categorical_hinge           CategoricalHinge, on one-hot rows (LS10)

Keras 3 losses compute in floatx (float32) unless given ``dtype``: a float64 output would
be silently downcast and the loss ~3e-8 off, so every loss gets the network's dtype.
"""

from __future__ import annotations

import numpy as np

import refnet

from .imports import tf_and_keras


def keras_loss(name: str, dtype: str, reduction="sum_over_batch_size", ids=False):
    """The Keras 3 loss object for refnet's loss ``name``, computing in ``dtype``.

    ``reduction`` is Keras' own argument ("sum_over_batch_size" or "sum", LS5); ``ids``:
    the targets are int class ids (the sparse softmax cross-entropy).
    """
    _, keras = tf_and_keras()
    kw = {"dtype": dtype, "reduction": reduction}
    losses = keras.losses
    table = {
        "mse": lambda: losses.MeanSquaredError(**kw),
        "softmax_cross_entropy": lambda: (
            losses.SparseCategoricalCrossentropy
            if ids
            else losses.CategoricalCrossentropy
        )(from_logits=True, **kw),
        "categorical_cross_entropy": lambda: losses.CategoricalCrossentropy(
            from_logits=False, **kw
        ),
        "binary_cross_entropy": lambda: losses.BinaryCrossentropy(
            from_logits=True, **kw
        ),
        "kl_divergence": lambda: losses.KLDivergence(**kw),
        "hinge": lambda: losses.Hinge(**kw),
        "squared_hinge": lambda: losses.SquaredHinge(**kw),
        "categorical_hinge": lambda: losses.CategoricalHinge(**kw),
    }
    if name not in table:
        raise ValueError(
            f"loss: no Keras counterpart for {name!r}; expected one of "
            f"{refnet.losses.names()}"
        )
    return table[name]()


def keras_targets(name: str, Y, k: int, dtype: str) -> np.ndarray:
    """Y as the Keras loss takes it: int ids for the sparse softmax cross-entropy,
    one-hot rows for the other class losses (cross-entropy from probabilities, KL,
    categorical hinge), an (n, 1) column for an (n,) MSE, binary or hinge target (never
    broadcast against (n, 1) to (n, n)). Hinge labels go as given, 0/1 or -1/+1: the
    conversion is Keras' own."""
    Y = np.asarray(Y)
    columns = ("mse", "binary_cross_entropy", "hinge", "squared_hinge")
    if name in columns and Y.ndim == 1:
        return Y.reshape(-1, 1).astype(dtype)
    if name == "softmax_cross_entropy" and Y.ndim == 1:
        return Y.astype(np.int64)
    if name not in columns and Y.ndim == 1:
        return np.eye(k, dtype=dtype)[Y.astype(np.int64)]  # class ids -> one-hot rows
    return Y.astype(dtype)


def loss_and_targets(name: str, Y, k: int, dtype: str, reduction="sum_over_batch_size"):
    """(Keras loss object, targets as it takes them) for refnet's loss ``name`` and Y."""
    ids = name == "softmax_cross_entropy" and np.ndim(Y) == 1
    loss = keras_loss(name, dtype, reduction, ids=ids)
    return loss, keras_targets(name, Y, k, dtype)
