"""A fully connected network: forward pass and backpropagation with explicit deltas.

Shapes (one convention, used everywhere; batch rows, Keras layout). For l = 1..L:

    a[0] = X                        (n, n_0)
    z[l] = a[l-1] @ W[l] + b[l]     (n, n_l)    W[l]: (n_{l-1}, n_l), b[l]: (n_l,)   FP1
    a[l] = f_l(z[l])                (n, n_l)                                        FP2
    delta[L] = dL/da[L] * f_L'(z[L])                                                BP1
    delta[l] = (delta[l+1] @ W[l+1].T) * f_l'(z[l])                                 BP2
    db[l] = sum over rows of delta[l]                                              BP3
    dW[l] = a[l-1].T @ delta[l]                                                    BP4

Python lists are 0-based: ``res.dW[0]`` is dW[1], the first layer's, and so are
``res.z[0]``, ``res.delta[0]``, ``net.layers[0]``; only ``res.a`` starts at a[0] = X.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import losses
from .layers import Dense
from .params import format_summary
from .validation import check_dtype, check_input, check_rows, check_sizes

Array = NDArray[np.floating]


@dataclass
class Gradients:
    """What one backward pass computes; every list has one entry per layer except ``a``.

    Attributes
    ----------
    loss : float
        L for the batch, with the loss's Keras reduction.
    z : list of (n, n_l) arrays
        Pre-activations; ``z[l-1]`` is z[l].
    a : list of (n, n_l) arrays
        Activations with ``a[0] = X``; ``a[l]`` is a[l].
    delta : list of (n, n_l) arrays
        dL/dz per layer; ``delta[l-1]`` is delta[l].
    dW, db : lists of arrays
        dL/dW and dL/db per layer, the shapes and dtypes of the weights.
    """

    loss: float
    z: list[Array]
    a: list[Array]
    delta: list[Array]
    dW: list[Array]
    db: list[Array]

    def grads(self) -> list[Array]:
        """[dW1, db1, dW2, db2, ...]: the order of ``Network.get_weights()``."""
        return [g for pair in zip(self.dW, self.db) for g in pair]


class Network:
    """A stack of :class:`Dense` layers.

    Parameters
    ----------
    layers : sequence of Dense
        Consecutive layers must agree in width (layer l's n_out is layer l+1's n_in)
        and all share one dtype.
    """

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("layers: expected at least one Dense layer, got none")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise TypeError(
                    f"layers[{i}]: expected refnet.Dense, got {type(layer).__name__}"
                )
        for i, (prev, nxt) in enumerate(zip(layers, layers[1:])):
            if prev.n_out != nxt.n_in:
                raise ValueError(
                    f"layers[{i + 1}]: expected n_in = {prev.n_out} to match layers[{i}].n_out, "
                    f"got {nxt.n_in}"
                )
            if prev.dtype != nxt.dtype:
                raise TypeError(
                    f"layers[{i + 1}]: expected dtype {prev.dtype.name} like layers[{i}], "
                    f"got {nxt.dtype.name}"
                )
        self.layers = layers

    @classmethod
    def build(
        cls, sizes, activations=None, init="glorot_uniform", seed=None, dtype="float64"
    ) -> Network:
        """A network of layout ``sizes`` = [n_0, n_1, ..., n_L] (or "784-256-10").

        ``activations`` is one name per layer, or one name for all; the default is relu
        for hidden layers and linear for the output. One ``seed`` draws every layer's
        weights in order.
        """
        sizes = check_sizes(sizes)
        n_layers = len(sizes) - 1
        if activations is None:
            activations = ["relu"] * (n_layers - 1) + ["linear"]
        elif isinstance(activations, str):
            activations = [activations] * n_layers
        activations = list(activations)
        if len(activations) != n_layers:
            raise ValueError(
                f"activations: expected {n_layers} (one per layer of {sizes}), "
                f"got {len(activations)}: {activations}"
            )
        dtype = check_dtype(dtype)
        rng = np.random.default_rng(seed)
        return cls(
            Dense(n_in, n_out, act, init=init, seed=rng, dtype=dtype)
            for n_in, n_out, act in zip(sizes, sizes[1:], activations)
        )

    # --- description ------------------------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def sizes(self) -> list[int]:
        """The layout [n_0, n_1, ..., n_L]."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def activations(self) -> list[str]:
        return [layer.activation.name for layer in self.layers]

    def count_params(self) -> int:
        """sum over layers of n_{l-1} n_l + n_l (PC1)."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self) -> str:
        """A Keras-like table: layer, output shape, activation, parameters, and the total."""
        return format_summary(self.sizes, self.activations, self.dtype.name)

    def __repr__(self) -> str:
        return f"Network({'-'.join(map(str, self.sizes))}, {self.activations}, dtype={self.dtype.name!r})"

    # --- weights ----------------------------------------------------------------

    def get_weights(self) -> list[Array]:
        """[W1, b1, W2, b2, ...] as copies, in the order of Keras' ``model.get_weights()``."""
        return [p.copy() for layer in self.layers for p in (layer.W, layer.b)]

    def set_weights(self, weights) -> None:
        """Set [W1, b1, W2, b2, ...]; shapes must match exactly; values are copied and cast."""
        weights = list(weights)
        if len(weights) != 2 * len(self.layers):
            raise ValueError(
                f"weights: expected {2 * len(self.layers)} arrays [W1, b1, ...], got {len(weights)}"
            )
        checked = []
        for i, (w, ref) in enumerate(zip(weights, self.get_weights())):
            w = np.asarray(w)
            if w.shape != ref.shape:
                raise ValueError(
                    f"weights[{i}]: expected shape {ref.shape}, got {w.shape}"
                )
            if w.dtype.kind not in "biuf" or not np.isfinite(w).all():
                raise ValueError(
                    f"weights[{i}]: expected finite real numbers, got dtype {w.dtype}"
                )
            checked.append(
                w.astype(self.dtype)
            )  # astype copies: the caller's array stays theirs
        for layer, W, b in zip(self.layers, checked[::2], checked[1::2]):
            layer.W, layer.b = W, b

    # --- forward and backward ---------------------------------------------------

    def forward(self, X) -> Array:
        """a[L] for a batch X of shape (n, n_0) (FP1, FP2); returns (n, n_L)."""
        a = check_input(X, self.layers[0].n_in, self.dtype)
        for layer in self.layers:
            z = a @ layer.W  # (n, n_out)                  FP1
            z += layer.b
            a = layer.activation.f(z)  # (n, n_out)        FP2
        return a

    def gradients(self, X, Y, loss="mse") -> Gradients:
        """Loss, every z, a, delta, dW and db for the batch (X, Y) by backpropagation.

        Parameters
        ----------
        X : array (n, n_0)
            Inputs, cast to the network's dtype.
        Y : array (n, n_L), or (n,) of int class ids for the cross-entropies
            Targets; (n,) is also accepted for a single output.
        loss : str or Loss
            A name from ``refnet.losses.names()``.

        Notes
        -----
        FP1-FP2 forward, then BP1 (output delta), BP2 (delta recursion), BP3 (db) and
        BP4 (dW), docs/backprop.md. This is the one place backprop happens: override it
        in a subclass and ``crosscheck`` checks your version.
        """
        loss = losses.get(loss)
        a = check_input(X, self.layers[0].n_in, self.dtype)
        check_rows(Y, a.shape[0])

        zs, activations = [], [a]
        for layer in self.layers:
            z = a @ layer.W  # (n, n_out)                  FP1
            z += layer.b
            a = layer.activation.f(z)  # (n, n_out)        FP2
            zs.append(z)
            activations.append(a)

        y = loss.prepare(Y, a)
        value = loss.value(a, y)
        L = len(self.layers)
        deltas: list = [None] * L
        dW: list = [None] * L
        db: list = [None] * L
        g = loss.grad(a, y)  # dL/da[L], (n, n_L)
        for l in reversed(range(L)):  # list index l is layer l+1 in the docs
            layer = self.layers[l]
            delta = layer.activation.vjp(g, zs[l], activations[l + 1])  # BP1, BP2
            deltas[l] = delta  # (n, n_l)
            db[l] = delta.sum(axis=0)  # (n_l,)                        BP3
            dW[l] = activations[l].T @ delta  # (n_{l-1}, n_l)         BP4
            if l > 0:
                g = delta @ layer.W.T  # dL/da[l-1], (n, n_{l-1})      BP2
        return Gradients(value, zs, activations, deltas, dW, db)
