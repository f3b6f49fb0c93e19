"""A catalog of seeded backprop bugs: the crosscheck must catch every one.

Each bug is a subclass of :class:`BackpropCopy`, a step-by-step copy of
``refnet.Network.gradients`` whose steps are methods, with exactly one step changed: the
mistakes people make when they derive backprop by hand. :data:`CATALOG` lists them with
the network they are planted in and the row where ``crosscheck.compare`` must first
report a mismatch (rows run loss, output, then layer L down to 1, the order in which
backprop computes them, so the first failing row is where the bug is).

>>> from crosscheck.bugs import CATALOG
>>> len(CATALOG) >= 10
True

``python -c "from crosscheck.bugs import CATALOG; [print(b.name, b.first_failure) for b in CATALOG]"``
lists them; tests/crosscheck/test_bugs.py checks each one against TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import refnet
from refnet import losses
from refnet.validation import check_input, check_rows


class BackpropCopy(refnet.Network):
    """refnet's backprop (FP1-FP2, BP1-BP4) with each step a method a bug can replace."""

    def forward_dtype(self, X) -> np.ndarray:
        """a[0] = X in the network's dtype."""
        return check_input(X, self.layers[0].n_in, self.dtype)

    def output_grad(self, loss, a, y) -> np.ndarray:
        """dL/da[L] (BP1's first factor)."""
        return loss.grad(a, y)

    def vjp(self, l: int, g, z, a) -> np.ndarray:
        """delta[l] = g * f_l'(z[l]), or softmax's Jacobian product (BP1, BP2, SM1)."""
        return self.layers[l].activation.vjp(g, z, a)

    def backward_g(self, l: int, delta) -> np.ndarray:
        """dL/da[l-1] = delta[l] @ W[l].T (BP2)."""
        return delta @ self.layers[l].W.T  # (n, n_{l-1})

    def bias_grad(self, delta) -> np.ndarray:
        """db[l] = sum over rows of delta[l] (BP3)."""
        return delta.sum(axis=0)

    def weight_grad(self, l: int, a_prev, delta) -> np.ndarray:
        """dW[l] = a[l-1].T @ delta[l] (BP4)."""
        return a_prev.T @ delta  # (n_{l-1}, n_l)

    def gradients(self, X, Y, loss="mse") -> refnet.Gradients:
        loss = losses.get(loss)
        a = self.forward_dtype(X)
        check_rows(Y, a.shape[0])
        zs, acts = [], [a]
        for layer in self.layers:
            z = a @ layer.W.astype(a.dtype)  # (n, n_l)                          FP1
            if layer.b is not None:  # a layer without bias: z = a @ W
                z = z + layer.b.astype(a.dtype)
            a = layer.activation.f(z)  # FP2
            zs.append(z)
            acts.append(a)
        y = loss.prepare(Y, a)
        L = len(self.layers)
        deltas, dW, db = [None] * L, [None] * L, [None] * L
        g = self.output_grad(loss, a, y)
        for l in reversed(range(L)):
            delta = self.vjp(l, g, zs[l], acts[l + 1])
            deltas[l] = delta
            db[l] = None if self.layers[l].b is None else self.bias_grad(delta)
            dW[l] = self.weight_grad(l, acts[l], delta)
            if l > 0:
                g = self.backward_g(l, delta)
        return refnet.Gradients(loss.value(a, y), zs, acts, deltas, dW, db)


# ---------------------------------------------------------------------------------
# The bugs, one changed step each
# ---------------------------------------------------------------------------------


class DerivativeDropped(BackpropCopy):
    """delta[l] = delta[l+1] @ W[l+1].T: the f'(z[l]) factor of BP2 forgotten."""

    def vjp(self, l, g, z, a):
        return g if l < len(self.layers) - 1 else super().vjp(l, g, z, a)


class ReluPrimeAtZeroIsOne(BackpropCopy):
    """relu'(0) = 1 instead of TensorFlow's 0 (one tutorial's code does this)."""

    def vjp(self, l, g, z, a):
        if self.layers[l].activation.name == "relu":
            return g * (z >= 0).astype(z.dtype)
        return super().vjp(l, g, z, a)


class WNotTransposed(BackpropCopy):
    """dL/da[l-1] = delta[l] @ W[l] instead of W[l].T (shapes fit for a square W)."""

    def backward_g(self, l, delta):
        W = self.layers[l].W
        return delta @ W if W.shape[0] == W.shape[1] else super().backward_g(l, delta)


class DeltaShifted(BackpropCopy):
    """BP2 multiplies by f' of the layer above: f'(z[l+1]) instead of f'(z[l])."""

    def gradients(self, X, Y, loss="mse"):
        self._z_above = None
        return super().gradients(X, Y, loss)

    def vjp(self, l, g, z, a):
        above = self._z_above
        self._z_above = (z, a)
        if above is not None and above[0].shape == z.shape:
            act = self.layers[l].activation
            return g * act.df(*above)  # the derivative one layer off
        return super().vjp(l, g, z, a)


class MissingOneOverN(BackpropCopy):
    """dL/da[L] without the 1/n of the batch mean."""

    def output_grad(self, loss, a, y):
        return loss.grad(a, y) * a.shape[0]


class MSEFactorTwoMissing(BackpropCopy):
    """MSE's dL/da = (a - y) / (n k): the 2 of the square's derivative dropped."""

    def output_grad(self, loss, a, y):
        return (
            loss.grad(a, y) / 2
            if loss.name == "mse"
            else super().output_grad(loss, a, y)
        )


class SoftmaxJacobianDiagonal(BackpropCopy):
    """softmax's Jacobian reduced to its diagonal: delta = g * a (1 - a), SM1 ignored."""

    def vjp(self, l, g, z, a):
        if self.layers[l].activation.name == "softmax":
            return g * a * (1 - a)
        return super().vjp(l, g, z, a)


class BiasGradFirstRow(BackpropCopy):
    """db[l] = delta[l][0]: the bias gradient of the first sample, not summed (BP3)."""

    def bias_grad(self, delta):
        return delta[0].copy()


class BiasGradMean(BackpropCopy):
    """db[l] = mean over rows of delta[l] instead of the sum (BP3)."""

    def bias_grad(self, delta):
        return delta.mean(axis=0)


class Float32ComputedInFloat64(BackpropCopy):
    """A float32 network silently computed in float64 (X upcast, results float64)."""

    def forward_dtype(self, X):
        return check_input(X, self.layers[0].n_in, np.float64)


class DWPerturbed(BackpropCopy):
    """dW[1] off by 1e-6 relative: a float64 result wrong in its seventh digit."""

    def weight_grad(self, l, a_prev, delta):
        dW = super().weight_grad(l, a_prev, delta)
        return dW * (1 + 1e-6) if l == 0 else dW


class SigmoidPrimeFromZ(BackpropCopy):
    """sigmoid'(z) = z (1 - z): the output formula a (1 - a) applied to z."""

    def vjp(self, l, g, z, a):
        if self.layers[l].activation.name == "sigmoid":
            return g * z * (1 - z)
        return super().vjp(l, g, z, a)


class DWTransposed(BackpropCopy):
    """dW[l] = delta[l].T @ a[l-1]: the transpose of BP4 (wrong shape)."""

    def weight_grad(self, l, a_prev, delta):
        return delta.T @ a_prev  # (n_l, n_{l-1})


class CrossEntropyWithoutSoftmax(BackpropCopy):
    """Softmax cross-entropy's delta[L] taken as (z - y) / n: softmax forgotten (LS2)."""

    def output_grad(self, loss, a, y):
        if loss.name == "softmax_cross_entropy":
            return (a - y) / a.shape[0]
        return super().output_grad(loss, a, y)


# ---------------------------------------------------------------------------------
# The catalog: each bug in a network where it shows, and where it must be caught
# ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeededBug:
    """A bug class, the network and data it is planted in, and the first row to fail."""

    name: str
    cls: type
    layout: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    first_failure: str
    dtype: str = "float64"
    batch: int = 8
    # (rng, net) -> (X, Y); default: normal X, loss targets
    data: Callable | None = None

    @property
    def description(self) -> str:
        return (self.cls.__doc__ or "").strip().splitlines()[0]

    def build(self, cls: type | None = None, seed: int = 0):
        """(net, X, Y, loss) with the bug (or ``cls``, e.g. refnet.Network: honest)."""
        cls = cls or self.cls
        honest = refnet.Network.build(
            list(self.layout), list(self.activations), seed=seed, dtype=self.dtype
        )
        net = cls(honest.layers)
        rng = np.random.default_rng(seed)
        if self.data is not None:
            X, Y = self.data(rng, net)
        else:
            X, Y = _default_data(rng, self.layout, self.loss, self.batch)
        return net, X, Y, self.loss


def _default_data(rng, layout, loss, n):
    X = rng.normal(size=(n, layout[0]))
    k = layout[-1]
    if loss == "mse":
        return X, rng.normal(size=(n, k))
    if loss == "binary_cross_entropy":
        return X, rng.uniform(size=(n, k))
    return X, rng.integers(0, k, size=n)


def _zero_rows(rng, net):
    """X with zero rows and zero biases: z[1] = 0 exactly there, relu's kink (pinned)."""
    X = rng.normal(size=(6, net.sizes[0]))
    X[::2] = 0.0
    return X, rng.integers(0, net.sizes[-1], size=6)


CATALOG: list[SeededBug] = [
    SeededBug("derivative dropped", DerivativeDropped, (4, 6, 3), ("tanh", "linear"), "mse", "delta1"),
    SeededBug("relu'(0) = 1", ReluPrimeAtZeroIsOne, (4, 6, 3), ("relu", "linear"), "softmax_cross_entropy", "delta1", data=_zero_rows),
    SeededBug("W not transposed", WNotTransposed, (4, 6, 6, 3), ("tanh", "tanh", "linear"), "mse", "delta1"),
    SeededBug("delta shifted by one layer", DeltaShifted, (4, 6, 6, 3), ("tanh", "sigmoid", "linear"), "mse", "delta1"),
    SeededBug("missing 1/n", MissingOneOverN, (4, 6, 3), ("tanh", "linear"), "mse", "delta2"),
    SeededBug("softmax Jacobian diagonal", SoftmaxJacobianDiagonal, (4, 6, 3), ("tanh", "softmax"), "categorical_cross_entropy", "delta2"),
    SeededBug("bias gradient from the first row", BiasGradFirstRow, (4, 6, 3), ("tanh", "linear"), "mse", "db2"),
    SeededBug("bias gradient mean, not sum", BiasGradMean, (4, 6, 3), ("tanh", "linear"), "softmax_cross_entropy", "db2"),
    SeededBug("MSE factor 2 missing", MSEFactorTwoMissing, (4, 6, 3), ("sigmoid", "linear"), "mse", "delta2"),
    SeededBug("float32 computed in float64", Float32ComputedInFloat64, (4, 6, 3), ("relu", "linear"), "softmax_cross_entropy", "output", dtype="float32"),
    SeededBug("dW 1e-6 relative off (float64)", DWPerturbed, (4, 6, 3), ("relu", "linear"), "mse", "dW1"),
    SeededBug("sigmoid' from z", SigmoidPrimeFromZ, (4, 6, 3), ("sigmoid", "linear"), "binary_cross_entropy", "delta1"),
    SeededBug("dW transposed", DWTransposed, (4, 6, 3), ("relu", "linear"), "mse", "dW2"),
    SeededBug("cross-entropy without softmax", CrossEntropyWithoutSoftmax, (4, 6, 3), ("relu", "linear"), "softmax_cross_entropy", "delta2"),
]  # fmt: skip
