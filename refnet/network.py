"""A fully connected network: forward pass and backpropagation with explicit deltas.

Shapes (one convention, used everywhere; batch rows, Keras layout). For l = 1..L:

    a[0] = X                        (n, n_0)
    z[l] = a[l-1] @ W[l] + b[l]     (n, n_l)    W[l]: (n_{l-1}, n_l), b[l]: (n_l,)   FP1
    a[l] = f_l(z[l])                (n, n_l)                                        FP2
    delta[L] = dL/da[L] * f_L'(z[L])                                                BP1
    delta[l] = (delta[l+1] @ W[l+1].T) * f_l'(z[l])                                 BP2
    db[l] = sum over rows of delta[l]                                              BP3
    dW[l] = a[l-1].T @ delta[l]                                                    BP4

With dropout in training (a mask m[l] given, ``refnet.dropout``) the next layer reads
a~[l] = m[l] * a[l] instead of a[l]: z[l+1] = a~[l] @ W[l+1] + b[l+1], and

    delta[l] = (delta[l+1] @ W[l+1].T) * m[l] * f_l'(z[l])                          BP6
    dW[l+1] = a~[l].T @ delta[l+1]                                                 BP7

Python lists are 0-based: ``res.dW[0]`` is dW[1], the first layer's, and so are
``res.z[0]``, ``res.delta[0]``, ``net.layers[0]``; only ``res.a`` starts at a[0] = X.
"""

from __future__ import annotations

import operator
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from . import dropout as _dropout
from . import losses, saving, training
from .files import check_memory
from .layers import Dense
from .params import count_params, format_summary, layer_activations
from .validation import (
    as_array,
    check_dtype,
    check_input,
    check_input_shape,
    check_l2,
    check_per_layer_bools,
    check_rows,
    check_size,
    check_sizes,
    rng_from,
)

Array = NDArray[np.floating]


@dataclass
class Gradients:
    """What one backward pass computes; every list has one entry per layer except ``a``.

    Attributes
    ----------
    loss : float
        L for the batch, with the loss's Keras reduction.
    z : list of (n, n_l) arrays
        Pre-activations; ``z[l-1]`` is z[l]. For a linear layer, z[l] and a[l] are one
        array (``res.z[l-1] is res.a[l]``: f is the identity, nothing is copied).
    a : list of (n, n_l) arrays
        Activations with ``a[0] = X``; ``a[l]`` is a[l]. ``a[0]`` *is* the caller's X
        when X is already a 2-D array of the network's dtype (no copy is made), and a
        view of it when X is given in the input shape (n, 28, 28) (FL1, a reshape of a
        contiguous array): writing into ``res.a[0]`` writes into X. Copy before
        modifying any of these arrays.
    delta : list of (n, n_l) arrays
        dL/dz per layer; ``delta[l-1]`` is delta[l].
    dW, db : lists of arrays
        dL/dW and dL/db per layer, the shapes and dtypes of the weights; ``db[l-1]`` is
        None for a layer without bias (``Dense(use_bias=False)``).
    masks : list of (n, n_l) arrays or None
        The dropout mask applied to each layer's output (BP6), None for a layer
        without one, and for every layer when ``gradients`` was called without
        ``masks`` (inference: dropout is the identity). A layer's a[l] is f(z[l])
        before the mask; the next layer read ``masks[l-1] * a[l]`` (BP7).
    dX : (n, n_0) array, or X's own shape
        dL/dX = delta[1] @ W[1].T (BP5), computed when read (one more matrix product,
        which training never needs) from this pass's delta[1] and W[1]: read it before
        an optimizer updates W[1] in place. For a network with an ``input_shape`` given
        X of shape (n, *input_shape), dX has that shape too (the flatten undone, FL1).
    """

    loss: float
    z: list[Array]
    a: list[Array]
    delta: list[Array]
    dW: list[Array]
    db: list[Array | None]
    masks: list | None = None
    _W1: Array | None = field(default=None, repr=False)  # W[1], for dX
    # m[l] * a[l] per layer with a mask (what layer l+1 read, BP7); None elsewhere
    _dropped: list | None = field(default=None, repr=False)
    _x_shape: tuple | None = field(default=None, repr=False)  # X's shape if not 2-D

    @property
    def dX(self) -> Array:
        """dL/dX = delta[1] @ W[1].T, the shape of X: BP2 one step further (BP5)."""
        if self._W1 is None:
            raise AttributeError("dX: this result holds no W[1] to compute it from")
        dX = self.delta[0] @ self._W1.T  # (n, n_0)
        return dX if self._x_shape is None else dX.reshape(self._x_shape)  # FL1

    def grads(self) -> list[Array]:
        """[dW1, db1, dW2, db2, ...]: the order of ``Network.get_weights()`` (a layer
        without bias has no db entry, as it has no b)."""
        return [g for pair in zip(self.dW, self.db) for g in pair if g is not None]


class Network:
    """A stack of :class:`Dense` layers.

    Parameters
    ----------
    layers : sequence of Dense
        Consecutive layers must agree in width (layer l's n_out is layer l+1's n_in)
        and all share one dtype.
    input_shape : tuple of int, optional
        The shape of one example before it is flattened, e.g. (28, 28) for a first
        layer of n_0 = 784 inputs: X may then be given as (n, 28, 28) and is flattened
        row-major (C order), exactly as ``keras.layers.Flatten`` does (FL1); a[0] is the
        flattened (n, n_0) X. (n, n_0) stays accepted. None (the default), or a 1-tuple,
        takes X as (n, n_0) only.
    """

    def __init__(self, layers, input_shape=None):
        if isinstance(layers, Dense) or not isinstance(layers, Iterable):
            raise TypeError(
                "layers: expected a sequence of refnet.Dense layers, got "
                f"{type(layers).__name__}"
            )
        layers = list(layers)
        if not layers:
            raise ValueError("layers: expected at least one Dense layer, got none")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Dense):
                raise TypeError(
                    f"layers[{i}]: expected refnet.Dense, got {type(layer).__name__}"
                )
        for i, layer in enumerate(layers):
            first = next(j for j, other in enumerate(layers) if other is layer)
            if first != i:  # one object twice would share W: set_weights, Adam and save
                # would each see it differently
                raise ValueError(
                    f"layers[{i}]: the same Dense object as layers[{first}]; weight "
                    "sharing is not supported (build a new Dense for each layer)"
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
        if layers[-1].dropout:
            raise ValueError(
                f"layers[{len(layers) - 1}]: dropout={layers[-1].dropout:g} on the output "
                "layer; expected dropout only on hidden layers (Keras' Dropout after the "
                "last Dense would drop entries of the prediction itself)"
            )
        self.layers = layers
        self.input_shape = check_input_shape(input_shape, layers[0].n_in)

    @classmethod
    def build(
        cls,
        sizes,
        activations=None,
        init="glorot_uniform",
        seed=None,
        dtype="float64",
        *,
        use_bias=True,
        input_shape=None,
        dropout=0.0,
    ) -> Network:
        """A network of layout ``sizes`` = [n_0, n_1, ..., n_L] (or "784-256-10").

        ``activations`` is one name per layer, or one name for all; the default is relu
        for hidden layers and linear for the output. One ``seed`` draws every layer's
        weights in order. ``use_bias`` is one bool for every layer or one per layer
        (False: z = a @ W, no b, as Keras' ``Dense(use_bias=False)``). ``input_shape``
        (e.g. (28, 28) for sizes[0] = 784): X may be given in that shape and is
        flattened row-major, as ``keras.layers.Flatten`` (see :class:`Network`).
        ``dropout`` is one rate in [0, 1) for every hidden layer, or one rate per layer
        with 0 for the output layer (``Dense(dropout=...)``, ``refnet.dropout``).
        """
        sizes = check_sizes(sizes)
        activations = layer_activations(sizes, activations)
        use_bias = check_per_layer_bools(use_bias, len(sizes) - 1, "use_bias")
        rates = _layer_rates(dropout, len(sizes) - 1)
        input_shape = check_input_shape(input_shape, sizes[0])
        dtype = check_dtype(dtype)
        rng = rng_from(seed)
        # the initializer draws float64, then casts: both live at once
        check_memory(
            count_params(sizes) * (8 + dtype.itemsize),
            f"the weights of layout {sizes} in {dtype.name}",
            "sizes",
        )
        return cls(
            (
                Dense(
                    n_in,
                    n_out,
                    act,
                    init=init,
                    seed=rng,
                    dtype=dtype,
                    use_bias=bias,
                    dropout=rate,
                )
                for n_in, n_out, act, bias, rate in zip(
                    sizes, sizes[1:], activations, use_bias, rates
                )
            ),
            input_shape=input_shape,
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

    @property
    def dropout(self) -> list[float]:
        """Each layer's dropout rate (0: none; the output layer's is always 0)."""
        return [layer.dropout for layer in self.layers]

    def count_params(self) -> int:
        """sum over layers of n_{l-1} n_l + n_l (PC1)."""
        return sum(layer.count_params() for layer in self.layers)

    def summary(self) -> str:
        """A Keras-like table: layer, output shape, activation, parameters, and the total
        (a Dropout row after each layer with a rate, as Keras lists them)."""
        return format_summary(
            self.sizes,
            self.activations,
            self.dtype.name,
            [layer.use_bias for layer in self.layers],
            self.input_shape,
            self.dropout,
        )

    def __repr__(self) -> str:
        shape = "" if self.input_shape is None else f", input_shape={self.input_shape}"
        if any(self.dropout):
            shape += f", dropout={[float(r) for r in self.dropout]}"
        return f"Network({'-'.join(map(str, self.sizes))}, {self.activations}, dtype={self.dtype.name!r}{shape})"

    def _input(self, X, name: str = "X") -> Array:
        """X as (n, n_0) in the net's dtype, flattened from (n, *input_shape) (FL1)."""
        return check_input(X, self.layers[0].n_in, self.dtype, name, self.input_shape)

    # --- weights ----------------------------------------------------------------

    def weight_arrays(self) -> list[Array]:
        """[W1, b1, W2, b2, ...] themselves (not copies): what an optimizer updates in
        place, as Keras' ``model.trainable_weights`` are the variables themselves.

        A layer without bias contributes W alone, as in Keras' ``model.get_weights()``.
        Public contract: ``fit`` and the optimizers update exactly these arrays."""
        return [p for layer in self.layers for p in (layer.W, layer.b) if p is not None]

    def get_weights(self) -> list[Array]:
        """[W1, b1, W2, b2, ...] as copies, in the order of Keras' ``model.get_weights()``
        (kernel, then bias only for a layer that has one)."""
        return [p.copy() for p in self.weight_arrays()]

    def weight_names(self) -> list[str]:
        """["W1", "b1", "W2", ...]: the names of ``get_weights()``'s entries (and of
        ``weight_arrays()``'s), as error messages and crosscheck's tables print them."""
        return [
            f"{p}{l}"
            for l, layer in enumerate(self.layers, start=1)
            for p in ("W", "b")
            if p == "W" or layer.b is not None
        ]

    def set_weights(self, weights) -> None:
        """Set [W1, b1, W2, b2, ...] (no b for a layer without bias); shapes must match
        exactly; values are copied and cast."""
        if isinstance(weights, np.ndarray) or not isinstance(weights, Iterable):
            raise TypeError(
                "weights: expected a list of arrays [W1, b1, W2, b2, ...], got "
                f"{type(weights).__name__}"
            )
        weights = list(weights)
        names = self.weight_names()
        if len(weights) != len(names):
            shown = (
                ", ".join(names) if len(names) <= 6 else f"{names[0]}, ..., {names[-1]}"
            )
            raise ValueError(
                f"weights: expected {len(names)} arrays [{shown}], got {len(weights)}"
            )
        checked = []
        for i, (w, ref) in enumerate(zip(weights, self.get_weights())):
            try:
                w = as_array(w, f"weights[{i}]")
            except ValueError as err:  # ragged nested lists
                raise ValueError(
                    f"weights[{i}]: expected an array of shape {ref.shape}, got {err}"
                ) from None
            if w.shape != ref.shape:
                raise ValueError(
                    f"weights[{i}]: expected shape {ref.shape}, got {w.shape}"
                )
            if w.dtype.kind not in "biuf":
                raise TypeError(
                    f"weights[{i}]: expected real numbers, got dtype {w.dtype}"
                )
            # A value beyond float32's range casts to inf (no warning), caught below.
            with np.errstate(over="ignore"):
                w = w.astype(self.dtype)  # a copy: the caller's array stays theirs
            if not np.isfinite(w).all():
                raise ValueError(
                    f"weights[{i}]: expected finite values, got NaN, inf or a value "
                    f"beyond {self.dtype.name}'s range"
                )
            checked.append(w)
        it = iter(checked)
        for layer in self.layers:
            layer.W = next(it)
            if layer.b is not None:
                layer.b = next(it)

    # --- forward and backward ---------------------------------------------------

    def forward(self, X) -> Array:
        """a[L] for a batch X of shape (n, n_0) (FP1, FP2); returns (n, n_L).

        Inference: a layer's dropout is the identity here, as in Keras' ``model(X)``."""
        a = self._input(X)
        for layer in self.layers:
            z = a @ layer.W  # (n, n_out)                  FP1
            if layer.b is not None:
                z += layer.b
            a = layer.activation.f(z)  # (n, n_out)        FP2
        return a

    def gradients(
        self, X, Y, loss="mse", l2: float = 0.0, *, out=None, masks=None
    ) -> Gradients:
        """Loss, every z, a, delta, dW and db for the batch (X, Y) by backpropagation.

        Parameters
        ----------
        X : array (n, n_0)
            Inputs, cast to the network's dtype.
        Y : array (n, n_L), or (n,) of int class ids for the cross-entropies
            Targets; (n,) is also accepted for a single output.
        loss : str or Loss
            A name from ``refnet.losses.names()``, or ``refnet.losses.get(name,
            reduction="sum")``.
        l2 : float >= 0
            Weight decay with Keras' ``kernel_regularizer=L2(l2)`` semantics on every W
            (not b): L += l2 * sum(W^2), dW += 2 * l2 * W (LS6).
        out : Gradients or None
            An earlier result of this network to write into: when its z, a, delta, dW
            and db have the shapes and dtype this batch needs, they are overwritten and
            ``out`` itself is returned (no allocation, as in a training loop); otherwise
            a fresh result is returned. Without ``out`` the arrays are always fresh and
            the caller's. ``a[0]`` is X itself and is never written to.
        masks : None, list, int or numpy Generator
            Dropout in training mode (``refnet.dropout``). None (the default):
            inference, every layer's dropout is the identity (Keras' ``training=False``).
            A list: one mask per layer, an (n, n_l) array of 0 and 1 / (1 - rate) for
            a layer with dropout and None for one without, as ``dropout_masks``
            returns them (copied, never written). An int or a Generator: the masks are
            drawn from it, ``self.dropout_masks(n, masks)``. ``res.masks`` holds those
            used.

        Notes
        -----
        FP1-FP2 forward, then BP1 (output delta), BP2 (delta recursion), BP3 (db) and
        BP4 (dW), docs/06-backprop.md, with a mask BP6 and BP7 (dropout); ``res.dX`` is
        BP5, docs/10-check-your-own.md. This is the one place backprop happens: override
        it in a subclass and ``crosscheck`` checks your version.
        """
        loss = losses.get(loss)
        l2 = 0.0 if l2.__class__ is float and l2 == 0.0 else check_l2(l2)
        a = self._input(X)
        n = a.shape[0]
        check_rows(Y, n)
        y = loss.prepare(Y, _placeholder(n, self.layers[-1].n_out, a.dtype))
        if out is not None and not isinstance(out, Gradients):
            raise TypeError(
                f"out: expected an earlier net.gradients(...) result, got {type(out).__name__}"
            )
        if masks is not None:
            masks = self._masks(masks, n)
        if out is not None and self._fits(out, n, a, Y):
            if getattr(out, "_work", None) is None:
                out._work = self.work_buffers(n)
            res = self.backprop_into(a, y, loss, out, out._work, l2, masks)
        else:  # fresh arrays, the caller's
            L = len(self.layers)
            res = Gradients(
                0.0, [None] * L, [None] * (L + 1), [None] * L, [None] * L, [None] * L
            )
            res = self.backprop_into(a, y, loss, res, [None] * L, l2, masks)
        res._x_shape = None if a.ndim == np.ndim(X) else np.shape(X)  # dX in X's shape
        res._held = (weakref.ref(self), n, _arrays(res))  # for a later out=res
        return res

    def dropout_masks(self, n: int, seed=None) -> list:
        """Fresh dropout masks for a batch of n rows: one (n, n_l) array per layer with
        dropout, of 0 (probability rate) and 1 / (1 - rate), None for the others.

        ``seed`` (an int, a numpy Generator or None) makes them reproducible; they are
        what ``gradients(..., masks=seed)`` draws, so they can be seen and reused:
        ``gradients(X, Y, loss, masks=net.dropout_masks(len(X), 0))`` is
        ``gradients(X, Y, loss, masks=0)``. Entry [i, j] is kept where a uniform draw
        u in [0, 1) has u >= rate (``refnet.dropout.draw``).
        """
        n = check_size(n, "n")
        self._check_output_dropout()
        return _dropout.draw(self.layers, n, rng_from(seed), self.dtype)

    def _masks(self, masks, n: int) -> list:
        """``gradients``' masks: drawn from a seed, or checked and copied (BP6)."""
        self._check_output_dropout()
        return _dropout.masks_for(masks, self.layers, n, self.dtype)

    def _check_output_dropout(self) -> None:
        """ValueError if the output layer was given a dropout rate after construction."""
        if self.layers[-1].dropout:
            raise ValueError(
                f"layers[{len(self.layers) - 1}].dropout: expected 0 on the output layer, "
                f"got {self.layers[-1].dropout:g} (dropout is for hidden layers only)"
            )

    def uses_builtin_backprop(self) -> bool:
        """True when ``gradients`` is refnet's own, not a subclass's override.

        Only then may ``fit`` call ``backprop_into`` on its reused buffers directly: an
        override (a student's own derivation, crosscheck's premise) is trained through
        ``gradients`` as written."""
        return type(self).gradients is Network.gradients

    def backprop_into(
        self, X, y, loss, res: Gradients, work: list, l2: float = 0.0, masks=None
    ) -> Gradients:
        """FP1-FP2 and BP1-BP4 into ``res``'s arrays: the backprop-into-buffers hook.

        ``gradients`` and ``fit`` call it; it checks nothing (they check first, once).
        The NumPy calls with ``out=`` compute exactly what their plain forms (``a @ W``,
        ``delta.sum(axis=0)``) compute, so a result is bit for bit ``gradients``'.

        Parameters
        ----------
        X : (n, n_0) array of the net's dtype
            Already checked and flattened (``check_data``); becomes ``res.a[0]``.
        y : (n, n_L) array of the net's dtype
            ``loss.prepare(Y, .)``, the targets the loss reads (``check_data(...,
            prepared=True)``).
        loss : Loss
            ``refnet.losses.get(...)``'s object, not a name.
        res : Gradients
            Arrays of this batch's shapes to write into (``result_buffers(n)``), or a
            result whose lists hold None entries (fresh arrays are made for those).
        work : list
            One scratch array per layer for f'(z) (``work_buffers(n)``), or None entries.
        l2 : float >= 0
            Already checked (``refnet.validation.check_l2``); LS6.
        masks : list or None
            Already checked dropout masks, one per layer (None entries where a layer has
            none), or None: no dropout, the loop below exactly as without it (BP6, BP7).

        Returns
        -------
        Gradients
            ``res`` itself, filled.
        """
        zs, activations, deltas, dW, db = res.z, res.a, res.delta, res.dW, res.db
        L = len(self.layers)
        # inputs[l]: what layer l+1 reads, a[l] or m[l] * a[l] (BP7)
        inputs = activations if masks is None else self._drop_into(res, masks)
        a = activations[0] = inputs[0] = X
        for l, layer in enumerate(self.layers):  # list index l is layer l+1 in the docs
            z = zs[l] = np.matmul(inputs[l], layer.W, out=zs[l])  # (n, n_out) FP1
            if layer.b is not None:
                z += layer.b  # + b
            # FP2
            a = activations[l + 1] = layer.activation.forward(z, activations[l + 1])
            if masks is not None:  # what the next layer reads: a~ = m * a (BP7)
                m = masks[l]
                inputs[l + 1] = (
                    a if m is None else np.multiply(m, a, out=res._dropped[l])
                )

        res.loss, g = loss.value_and_grad(a, y)  # L and dL/da[L], (n, n_L)
        for l in reversed(range(L)):
            layer = self.layers[l]
            out = g if l < L - 1 else None  # g = delta @ W.T below: ours to overwrite
            delta = layer.activation.vjp(g, zs[l], activations[l + 1], out, work[l])
            if l == L - 1 and deltas[l] is not None:  # BP1: into res's own array
                np.copyto(deltas[l], delta)
                delta = deltas[l]
            deltas[l] = delta  # (n, n_l)                                BP1, BP2
            if layer.b is not None:  # sum of rows                          BP3
                db[l] = np.add.reduce(delta, axis=0, out=db[l])
            dW[l] = np.matmul(inputs[l].T, delta, out=dW[l])  # a.T @ delta BP4, BP7
            # dL/da[l] = delta[l+1] @ W[l+1].T, (n, n_l) in docs numbering BP2
            if l > 0:
                g = np.matmul(delta, layer.W.T, out=deltas[l - 1])
                if masks is not None and masks[l - 1] is not None:
                    g *= masks[l - 1]  # through a~ = m * a: dL/da = m * dL/da~ BP6
        if l2:  # L += l2 sum W^2, dW += 2 l2 W (LS6)
            res.loss = self._add_l2(res.loss, l2)
            for l, W in enumerate(layer.W for layer in self.layers):
                dW[l] += W.dtype.type(2 * l2) * W
        res._W1 = self.layers[0].W  # for res.dX (BP5), read before W1 is updated
        res.masks = [None] * L if masks is None else masks
        return res

    def _drop_into(self, res: Gradients, masks: list) -> list:
        """The inputs list of a pass with masks, and res._dropped's m * a buffers
        (made here when res has none of the right shapes)."""
        dropped = res._dropped
        if dropped is None or len(dropped) != len(masks):
            dropped = [None] * len(masks)
        res._dropped = [
            None
            if m is None
            else (d if d is not None and d.shape == m.shape else np.empty_like(m))
            for m, d in zip(masks, dropped)
        ]
        return [None] * (len(masks) + 1)

    def result_buffers(self, n: int) -> Gradients:
        """Empty arrays for one batch of n rows: what ``backprop_into`` writes into
        (``fit`` makes one per batch size and reuses it from batch to batch).

        a[l] is z[l] itself for a linear layer and is left to f when f cannot write into
        a given array; delta[L] comes from the loss on the first call."""
        dt = self.dtype
        z = [np.empty((n, layer.n_out), dt) for layer in self.layers]
        a = [None] + [
            np.empty_like(zl) if layer.activation.f_takes_out else None
            for layer, zl in zip(self.layers, z)
        ]
        delta = [np.empty_like(zl) for zl in z[:-1]] + [None]
        dW = [np.empty_like(layer.W) for layer in self.layers]
        db = [
            None if layer.b is None else np.empty_like(layer.b) for layer in self.layers
        ]
        res = Gradients(0.0, z, a, delta, dW, db)
        if any(layer.dropout for layer in self.layers):  # m * a, BP7
            res._dropped = [
                np.empty_like(zl) if layer.dropout else None
                for layer, zl in zip(self.layers, z)
            ]
        return res

    def work_buffers(self, n: int) -> list:
        """One scratch (n, n_l) array per layer whose f' can write into it, as views of a
        single buffer (f'(z) is needed by one layer at a time): ``backprop_into``'s
        ``work``."""
        takes = [layer.activation.df_takes_out for layer in self.layers]
        widths = [layer.n_out for layer, t in zip(self.layers, takes) if t]
        if not widths:
            return [None] * len(self.layers)
        flat = np.empty(n * max(widths), self.dtype)
        return [
            flat[: n * layer.n_out].reshape(n, layer.n_out) if t else None
            for layer, t in zip(self.layers, takes)
        ]

    def _fits(self, res: Gradients, n: int, X, Y) -> bool:
        """res came from this net's ``gradients`` for n rows, its arrays are still the
        ones that call left there, and neither X nor Y is (a view of) one of them: then
        ``backprop_into`` may overwrite them."""
        held = getattr(res, "_held", None)
        if held is None or held[0]() is not self or held[1] != n:
            return False
        arrays = _arrays(res)
        if len(arrays) != len(held[2]) or not all(map(operator.is_, arrays, held[2])):
            return False
        ids = {id(x) for x in held[2]}
        return _root(X) not in ids and _root(Y) not in ids

    # --- training, prediction, persistence ----------------------------------------

    def fit(
        self,
        X,
        Y,
        loss,
        optimizer,
        epochs: int = 1,
        batch_size: int = 32,
        seed=None,
        validation_data=None,
        progress: bool = True,
        shuffle: bool = True,
        l2: float = 0.0,
        threads: int | str | None = None,
    ) -> dict[str, list[float]]:
        """Train by mini-batch steps w' = update(w, dL/dw) over ``epochs`` passes of (X, Y).

        Each epoch visits the rows in a fresh random order (``seed`` makes it
        reproducible) in batches of ``batch_size``; the last batch is smaller when
        ``batch_size`` does not divide n, and its loss is averaged over its own rows, as
        Keras does. Every batch computes what one ``self.gradients`` call and one
        ``optimizer.apply`` step compute (GD1, OPT1-OPT3), bit for bit at the same BLAS
        thread count: X and Y are validated once, then each batch runs backprop without
        re-checking, in arrays reused from batch to batch (docs/09-speed.md).

        Parameters
        ----------
        X : array (n, n_0)
        Y : array (n, n_L), or (n,) of int class ids
        loss : str or Loss
        optimizer : refnet optimizer or name ("sgd", "rmsprop", "adam" with defaults)
            An object's state carries over between calls, so ``fit`` can be resumed; a
            name makes a fresh optimizer on every call (pass the object to resume). An
            object belongs to the weights it last updated: another network is refused,
            while a copy or a saved and loaded network holding exactly those weights
            takes it over (``refnet.optimizers``, "One optimizer, one network").
        epochs, batch_size : int
        seed : int, numpy Generator or None
            Shuffling randomness, and for a net with dropout each step's fresh masks
            (training mode, BP6); the same seed gives the same batches and masks.
        validation_data : (X_val, Y_val) or None
            Evaluated after every epoch.
        progress : bool
            Show a tqdm bar per epoch (loss, accuracy) when stderr is a terminal and tqdm
            is installed (the ``examples`` extra); False never shows one.
        shuffle : bool
            False visits the rows in order, every epoch.
        l2 : float >= 0
            L2 weight decay as Keras' ``kernel_regularizer=L2(l2)`` on every layer (LS6):
            each step's loss and dW include it, as in a compiled Keras model.
        threads : int, "auto", "all" or None
            BLAS threads while training: None follows ``REFNET_BLAS_THREADS`` (default
            "auto", ``refnet.threads``: the first steps are timed on one thread and on
            all cores, the faster is kept, and the choice is timed again when steps
            slow down and every few seconds); an int sets the count; "all" leaves BLAS
            as it is. Results agree to rounding between thread counts (BLAS may sum in
            another order), bit for bit at one count.

        Returns
        -------
        refnet.training.History (a dict of str -> list of float)
            Per epoch: ``loss`` (the batch losses averaged with batch-size weights, as
            Keras reports it), ``accuracy`` for the classification losses, and
            ``val_loss``, ``val_accuracy`` with validation data (``val_loss`` includes
            the l2 penalty, as Keras' does). ``history.threads`` records the BLAS
            thread counts training ran on and the probes' times.
        """
        return training.fit(
            self,
            X,
            Y,
            loss,
            optimizer,
            epochs,
            batch_size,
            seed,
            validation_data,
            progress,
            shuffle,
            l2,
            threads,
        )

    def predict(self, X, batch_size: int | None = None) -> Array:
        """a[L] for X, in batches of ``batch_size`` rows (all at once if None); (n, n_L)."""
        if batch_size is None:
            return self.forward(X)
        batch_size = check_size(batch_size, "batch_size")
        X = self._input(X)
        return np.concatenate(
            [
                self.forward(X[i : i + batch_size])
                for i in range(0, X.shape[0], batch_size)
            ]
        )

    def evaluate(self, X, Y, loss, l2: float = 0.0) -> dict[str, float]:
        """L(a[L], Y) over the whole of (X, Y), and the accuracy for classification losses.

        ``l2`` adds the penalty l2 * sum(W^2) of every layer (LS6), as Keras'
        ``evaluate`` and ``val_loss`` add a model's regularization losses: the loss
        reported is the loss trained on.

        Returns
        -------
        dict
            ``{"loss": L}``, plus ``"accuracy"`` (fraction correct: argmax of the output
            against the class, or z > 0 against y > 0.5 for binary_cross_entropy).
        """
        loss = losses.get(loss)
        l2 = check_l2(l2)
        X, Y = self.check_data(X, Y, loss)
        a = self.forward(X)
        value = loss.value(a, loss.prepare(Y, a))
        if l2:  # L += l2 sum W^2 (LS6), as Keras' evaluate and val_loss
            value = self._add_l2(value, l2)
        out = {"loss": value}
        if loss.name in training.CLASSIFICATION:
            out["accuracy"] = training.accuracy(a, Y, loss.name)
        return out

    def _add_l2(self, value: float, l2: float) -> float:
        """value + l2 * sum(W^2) over every layer's W (LS6), added layer by layer: the
        penalty ``backprop_into`` and ``evaluate`` both add to the loss."""
        for layer in self.layers:
            W = layer.W
            value += float(W.dtype.type(l2) * np.sum(W * W))
        return value

    def check_data(
        self, X, Y, loss, x_name: str = "X", y_name: str = "Y", prepared: bool = False
    ):
        """X as (n, n_0) of the net's dtype and Y validated against the loss, once;
        with ``prepared`` also y = loss.prepare(Y, .), the targets the loss reads.

        The checks every entry point makes before ``backprop_into`` (``fit`` once for
        all batches); ``x_name``/``y_name`` are the argument names errors give (e.g.
        "X_val"). Returns ``(X, Y)``, or ``(X, Y, y)`` with ``prepared``."""
        X = self._input(X, x_name)
        check_rows(Y, X.shape[0], y_name)
        Y = as_array(Y, y_name)
        try:
            y = loss.prepare(Y, _placeholder(X.shape[0], self.sizes[-1], self.dtype))
        except (TypeError, ValueError) as err:
            message = str(err)
            if y_name != "Y" and message.startswith("Y:"):
                message = y_name + message[1:]
            raise type(err)(message) from None
        return (X, Y, y) if prepared else (X, Y)

    def save(self, path) -> None:
        """Write layout, activations, dtype and weights to one ``.npz`` file at ``path``.

        The file holds ``refnet_format`` (the format version), ``sizes``,
        ``activations``, ``dtype`` and ``W1, b1, W2, b2, ...`` in the net's dtype; no
        pickled objects. ``path`` (a str or path-like) is used as given (no suffix is
        added). The write is atomic: a temporary file in the same folder is renamed over
        ``path`` once complete, so a failed save leaves an existing file as it was. The
        format is ``refnet.saving``'s (its module docstring describes it).
        """
        saving.save(self, path)

    @classmethod
    def load(cls, path) -> Network:
        """The network saved at ``path`` by :meth:`save`, weights bit for bit.

        The file is untrusted: its keys are checked first, then every ``.npy`` header
        (shape, dtype) against the layout it declares, before any data is read, so
        memory stays bounded by the weights the file claims (and those must fit in free
        memory).

        Raises
        ------
        FileNotFoundError
            If ``path`` does not exist.
        ValueError
            If the file is not a refnet ``.npz`` or its contents disagree with each other.
        """
        return saving.load(cls, path)


def _arrays(res: Gradients) -> tuple:
    """Every array of a result that ``backprop_into`` writes (a[0] = X is never written)."""
    return (
        *res.z,
        *res.a[1:],
        *res.delta,
        *res.dW,
        *(d for d in res.db if d is not None),
        *(m for m in res.masks or () if m is not None),
        *(d for d in res._dropped or () if d is not None),
    )


def _layer_rates(dropout, n_layers: int) -> list[float]:
    """build's ``dropout``: one rate for every hidden layer (the output layer gets 0),
    or one rate per layer whose last is 0."""
    if isinstance(dropout, (list, tuple, np.ndarray)):
        rates = list(dropout)
        if len(rates) != n_layers:
            raise ValueError(
                f"dropout: expected one rate or {n_layers} rates (one per layer), got "
                f"{len(rates)}"
            )
        rates = [_dropout.check_rate(r, f"dropout[{i}]") for i, r in enumerate(rates)]
        if rates[-1]:
            raise ValueError(
                f"dropout[{n_layers - 1}]: expected 0 for the output layer (dropout is "
                f"for hidden layers only), got {rates[-1]:g}"
            )
        return rates
    rate = _dropout.check_rate(dropout, "dropout")
    if rate and n_layers == 1:  # a rate that would silently drop nothing
        raise ValueError(
            f"dropout: expected 0 for a network without hidden layers (dropout is for "
            f"hidden layers only), got {rate:g}"
        )
    return [rate] * (n_layers - 1) + [0.0]


def _root(x) -> int:
    """id of the array that owns x's memory (x itself if it owns it; 0 for non-arrays)."""
    if not isinstance(x, np.ndarray):
        return 0
    while isinstance(x.base, np.ndarray):
        x = x.base
    return id(x)


def _placeholder(n: int, k: int, dtype) -> Array:
    """An uninitialised (n, k) array of dtype: loss.prepare reads only its shape and dtype."""
    return np.empty((n, k), dtype)
