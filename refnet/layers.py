"""The dense layer and its weight initializers.

A :class:`Dense` layer maps a batch a of shape (n, n_in) to f(a @ W + b), with W of shape
(n_in, n_out) and b of shape (n_out,): Keras' layout, so weights move between refnet and
Keras unchanged (FP1, FP2 in docs/01-notation.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from . import activations
from .dropout import check_rate
from .files import check_memory
from .validation import check_dtype, check_size, rng_from

# ---------------------------------------------------------------------------------
# Initializers: (rng, fan_in, fan_out) -> W of shape (fan_in, fan_out), float64
# ---------------------------------------------------------------------------------


def glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray:
    """W ~ U(-r, r) with r = sqrt(6 / (fan_in + fan_out)): Keras' default kernel initializer."""
    r = math.sqrt(6 / (fan_in + fan_out))
    return rng.uniform(-r, r, size=(fan_in, fan_out))


def glorot_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray:
    """W ~ truncated N(0, s^2) at 2 s with s = sqrt(2 / (fan_in + fan_out)) / 0.8796, as Keras."""
    return _truncated_normal(rng, math.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))


def he_normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray:
    """W ~ truncated N(0, s^2) at 2 s with s = sqrt(2 / fan_in) / 0.8796, as Keras."""
    return _truncated_normal(rng, math.sqrt(2 / fan_in), (fan_in, fan_out))


def he_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray:
    """W ~ U(-r, r) with r = sqrt(6 / fan_in), as Keras."""
    r = math.sqrt(6 / fan_in)
    return rng.uniform(-r, r, size=(fan_in, fan_out))


def zeros(rng: np.random.Generator, fan_in: int, fan_out: int) -> NDArray:
    """W = 0."""
    return np.zeros((fan_in, fan_out))


def _truncated_normal(rng: np.random.Generator, target_std: float, shape) -> NDArray:
    """Normal samples redrawn until within 2 std; the std is scaled so the result has target_std.

    0.87962566103423978 is the std of a unit normal truncated at +-2 (Keras' constant).
    """
    std = target_std / 0.87962566103423978
    w = rng.normal(0.0, std, size=shape)
    outside = np.abs(w) > 2 * std
    while outside.any():
        w[outside] = rng.normal(0.0, std, size=outside.sum())
        outside = np.abs(w) > 2 * std
    return w


INITIALIZERS: dict[str, Callable[[np.random.Generator, int, int], NDArray]] = {
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "zeros": zeros,
}


def get_initializer(name: str) -> Callable[[np.random.Generator, int, int], NDArray]:
    """Look up an initializer; ValueError naming the choices for an unknown name."""
    if not isinstance(name, str):
        raise TypeError(
            f"init: expected a name (str), one of {sorted(INITIALIZERS)}, got "
            f"{type(name).__name__} {name!r}"
        )
    if name not in INITIALIZERS:
        raise ValueError(
            f"init: unknown name {name!r}; expected one of {sorted(INITIALIZERS)}"
        )
    return INITIALIZERS[name]


# ---------------------------------------------------------------------------------
# The layer
# ---------------------------------------------------------------------------------


class Dense:
    """A fully connected layer: a_out = f(a_in @ W + b) (FP1, FP2).

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; W has shape (n_in, n_out), b has shape (n_out,).
    activation : str or Activation
        A name from ``refnet.activations.names()``.
    init : str
        Kernel initializer (``glorot_uniform``, ``glorot_normal``, ``he_normal``,
        ``he_uniform``, ``zeros``). Biases start at zero, as in Keras.
    seed : int, numpy Generator or None
        Randomness for the initializer.
    dtype : str or numpy dtype
        ``float32`` or ``float64``; W, b and everything computed from them keep it.
    use_bias : bool
        False gives a layer without bias, z = a @ W, as Keras' ``Dense(use_bias=False)``:
        ``b`` is None, and so is this layer's ``db`` in ``Network.gradients``'s result.
    dropout : float in [0, 1)
        Inverted dropout on this layer's output in training, as Keras'
        ``keras.layers.Dropout(dropout)`` after the Dense: a[l] = f(z[l]) reaches the
        next layer as m * a[l], m of 0 (probability ``dropout``) and 1 / (1 - dropout)
        (``refnet.dropout``). Only when a mask is given (``Network.gradients(...,
        masks=...)``, ``fit``); ``forward``, ``predict`` and ``evaluate`` ignore it, as
        Keras does at inference. 0 (the default): none. Hidden layers only: a
        ``Network`` refuses it on the output layer.
    """

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation="linear",
        *,
        init="glorot_uniform",
        seed=None,
        dtype="float64",
        use_bias: bool = True,
        dropout: float = 0.0,
    ):
        if not isinstance(use_bias, (bool, np.bool_)):
            raise TypeError(f"use_bias: expected True or False, got {use_bias!r}")
        self.n_in = check_size(n_in, "n_in")
        self.n_out = check_size(n_out, "n_out")
        self.activation = activations.get(activation)
        self.dropout = check_rate(dropout, "dropout")
        dtype = check_dtype(dtype)
        rng = rng_from(seed)
        # drawn in float64, then cast: both live at once
        check_memory(
            self.n_in * self.n_out * (8 + dtype.itemsize),
            f"W of shape ({self.n_in}, {self.n_out})",
            "n_out" if self.n_out > self.n_in else "n_in",
        )
        # (n_in, n_out)
        self.W = get_initializer(init)(rng, self.n_in, self.n_out).astype(dtype)
        # (n_out,), or None for a layer without bias
        self.b = np.zeros(self.n_out, dtype=dtype) if use_bias else None

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    @property
    def use_bias(self) -> bool:
        """False for a layer without bias (b is None): z = a @ W."""
        return self.b is not None

    def count_params(self) -> int:
        """n_in * n_out weights + n_out biases (PC1; no biases without use_bias)."""
        return self.W.size + (self.b.size if self.b is not None else 0)

    def __repr__(self) -> str:
        bias = "" if self.use_bias else ", use_bias=False"
        drop = f", dropout={self.dropout:g}" if self.dropout else ""
        return (
            f"Dense({self.n_in}, {self.n_out}, {self.activation.name!r}, "
            f"dtype={self.dtype.name!r}{bias}{drop})"
        )
