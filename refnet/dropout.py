"""Inverted dropout, Keras' semantics: the rate, the masks, and their checks.

A hidden layer l with dropout rate r in [0, 1) passes on, in training,

    a~[l] = m[l] * a[l]        m[l][i, j] = 0 with probability r, else 1 / (1 - r)

instead of a[l] = f_l(z[l]) itself, so the next layer computes z[l+1] = a~[l] @ W[l+1]
+ b[l+1]; at inference (``forward``, ``predict``, ``evaluate``) the layer is the identity.
Scaling the kept entries by 1 / (1 - r) keeps each entry's expectation: E[a~] = a. This is
``keras.layers.Dropout(rate)`` after a Dense layer (``training=True``: ``x * m``, with
``m`` of exactly these values) and ``torch.nn.Dropout(p=rate)`` in ``train()`` mode.

Backprop through the mask (docs/06-backprop.md, BP6 and BP7):

    delta[l] = (delta[l+1] @ W[l+1].T) * m[l] * f_l'(z[l])        BP6
    dW[l+1] = a~[l].T @ delta[l+1]                                BP7

A mask is an (n, n_l) array of the net's dtype, one per layer with dropout, None for a
layer without (the output layer never has one). ``Network.dropout_masks(n, seed)`` draws
them; ``Network.gradients(..., masks=...)`` takes them, or a seed to draw them from.
"""

from __future__ import annotations

import numbers

import numpy as np

from .validation import as_array, check_float, rng_from


def check_rate(rate, name: str = "dropout") -> float:
    """A dropout rate: a float in [0, 1) (0: no dropout); TypeError/ValueError naming
    ``name`` otherwise."""
    rate = check_float(rate, name, minimum=0.0)
    if rate >= 1.0:
        raise ValueError(
            f"{name}: expected a rate in [0, 1) (the fraction of entries dropped), "
            f"got {rate}"
        )
    return rate


def keep_scale(rate: float, dtype) -> np.floating:
    """1 / (1 - rate) in ``dtype``: the value of a kept entry of the mask (as Keras'
    ``x * (1 / (1 - rate))`` casts the Python float to x's dtype)."""
    return np.dtype(dtype).type(1.0 / (1.0 - rate))


def draw(layers, n: int, seed, dtype, out=None) -> list:
    """One mask per layer (None where the layer's rate is 0) for a batch of n rows (BP6).

    Entry [i, j] is kept (1 / (1 - rate)) where a uniform draw u in [0, 1) has u >= rate,
    as TensorFlow's ``tf.nn.dropout`` decides, so P(dropped) = rate. The layers are drawn
    in order from one Generator (``seed``: an int, a Generator or None). ``out``: arrays
    of the right shapes to draw into (``fit``'s reused buffers)."""
    rng = rng_from(seed)
    masks = []
    for l, layer in enumerate(layers):
        rate = layer.dropout
        if not rate:
            masks.append(None)
            continue
        u = rng.random((n, layer.n_out))  # float64 in [0, 1), (n, n_l)
        m = np.empty(u.shape, dtype) if out is None or out[l] is None else out[l]
        np.greater_equal(u, rate, out=m)  # 1 where kept, 0 where dropped
        m *= keep_scale(rate, dtype)
        masks.append(m)
    return masks


def check_masks(masks, layers, n: int, dtype) -> list:
    """``masks`` checked against the layers and the batch (BP6): a list of one entry per layer,
    an (n, n_l) array of 0 and 1 / (1 - rate) where the layer has dropout and None where
    it has not. Returns copies in ``dtype`` (the caller's arrays are never written).

    A kept entry may differ from 1 / (1 - rate) by rounding (a mask made in float32 or
    by another framework): within 4 float32 eps, relative; it is then taken as exactly
    ``keep_scale(rate, dtype)``."""
    if isinstance(masks, np.ndarray) or not isinstance(masks, (list, tuple)):
        raise TypeError(
            "masks: expected a list with one mask (or None) per layer, or a seed (an "
            f"int >= 0 or a numpy Generator), got {type(masks).__name__}"
        )
    L = len(layers)
    if len(masks) != L:
        raise ValueError(
            f"masks: expected {L} entries (one per layer, None where a layer has no "
            f"dropout), got {len(masks)}"
        )
    eps = np.finfo(np.float32).eps  # a float32 mask's rounding, in either dtype
    out = []
    for l, (m, layer) in enumerate(zip(masks, layers)):
        where = f"masks[{l}]"
        rate = layer.dropout
        if not rate:
            if m is not None:
                raise ValueError(
                    f"{where}: expected None (layers[{l}] has no dropout), got "
                    f"{type(m).__name__}"
                )
            out.append(None)
            continue
        if m is None:
            raise ValueError(
                f"{where}: expected an ({n}, {layer.n_out}) mask for layers[{l}]'s "
                f"dropout {rate:g}, got None"
            )
        m = as_array(m, where)
        if m.dtype.kind not in "biuf":
            raise TypeError(f"{where}: expected real numbers, got dtype {m.dtype}")
        if m.shape != (n, layer.n_out):
            raise ValueError(
                f"{where}: expected shape ({n}, {layer.n_out}) (the batch's rows by "
                f"layers[{l}]'s width), got {m.shape}"
            )
        m = m.astype(dtype)  # a copy, in the net's dtype
        scale = keep_scale(rate, dtype)
        kept = np.abs(m - scale) <= 4 * eps * scale
        if not (kept | (m == 0)).all():
            bad = m[~(kept | (m == 0))].flat[0]
            raise ValueError(
                f"{where}: expected entries 0 or 1 / (1 - {rate:g}) = {float(scale):.9g} "
                f"(inverted dropout), got {float(bad)!r}"
            )
        m[kept] = scale
        out.append(m)
    return out


def is_seed(masks) -> bool:
    """True for what ``masks=`` takes as a seed to draw from: an int or a Generator."""
    return isinstance(
        masks, (numbers.Integral, np.random.Generator)
    ) and not isinstance(masks, bool)


def masks_for(masks, layers, n: int, dtype) -> list:
    """What a ``masks=`` argument stands for, for a batch of n rows: drawn (``draw``)
    from a seed, or checked and copied (``check_masks``) when given as a list. The one
    reading of ``masks=`` shared by ``Network.gradients``, ``gradcheck`` and
    ``crosscheck.compare``."""
    if is_seed(masks):
        return draw(layers, n, rng_from(masks, "masks"), dtype)
    return check_masks(masks, layers, n, dtype)
