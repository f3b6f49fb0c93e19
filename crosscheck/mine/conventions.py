"""Conventions: how someone else's backprop lays out its arrays and defines its cost.

refnet works in Keras' convention (rows of samples, W of shape (n_in, n_out), mean
reductions). A correct implementation written from Nielsen's book or CS231n's notes differs
from it by transposes and constant factors only; a :class:`Convention` names those
differences, axis by axis, so :func:`crosscheck.check_backprop` can convert the user's
arrays to refnet's layout and scale refnet's gradients to the user's cost, exactly.

    axis            values                        meaning
    samples         "rows" | "columns"            X is (n, n_0) | (n_0, n); Y, deltas, output alike
    weights_layout  "in_out" | "out_in"           W[l] is (n_{l-1}, n_l) | (n_l, n_{l-1})
    bias_shape      "flat" | "column" | "row"     b[l] is (n_l,) | (n_l, 1) | (1, n_l)
    use_bias        True | False                  every layer has a bias | none has (z = W a)
    container       "list" | "dict"               [W1, b1, W2, ...] | {"W1": .., "b1": .., ...}
    labels          "onehot" | "int"              Y is one row (column) per sample | class ids (n,)
    intermediates   "cost" | "per_example"        returned dA<l>, dZ<l> are d(cost)/da, /dz |
                                                  those of the summed per-example costs (the
                                                  1/m of a mean applied in dW and db only)
    reduction       "mean" | "sum"                batch cost = mean | sum of per-example costs
    mse_scale       "mean" | "half_sum" | "sum"   per-example MSE = mean_j | 1/2 sum_j | sum_j (a_j - y_j)^2
    l2              float >= 0                    weight decay on every W (not b)
    l2_form         "sum" | "half_sum"            l2 * sum(W^2) | l2/2 * sum(W^2)

The per-example binary cross-entropy follows ``mse_scale`` over the outputs: averaged
for "mean" (Keras), summed otherwise (Nielsen's network2.py sums). The softmax and
categorical cross-entropies sum over the classes in every convention.

The user's cost is then exactly a constant times refnet's (LS5, LS6):

    L_user = c * L_refnet(reduction) + l2_eff * sum_l sum(W[l]^2)
           = c * (L_refnet + (l2_eff / c) * sum_l sum(W[l]^2))

with c = :meth:`Convention.factor` (1, k/2 or k for MSE; 1 or k for binary cross-entropy),
so the reference is c times ``net.gradients(X, Y, loss, l2=l2_eff / c)``.

>>> get("nielsen").weights_layout, get("nielsen", reduction="mean").reduction
('out_in', 'mean')
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

CHOICES = {
    "samples": ("rows", "columns"),
    "weights_layout": ("in_out", "out_in"),
    "bias_shape": ("flat", "column", "row"),
    "container": ("list", "dict"),
    "labels": ("onehot", "int"),
    "intermediates": ("cost", "per_example"),
    "reduction": ("mean", "sum"),
    "mse_scale": ("mean", "half_sum", "sum"),
    "l2_form": ("sum", "half_sum"),
}


@dataclass(frozen=True)
class Convention:
    """One choice per axis (see the module docstring); ``name`` is the preset it came from."""

    name: str = "keras"
    samples: str = "rows"
    weights_layout: str = "in_out"
    bias_shape: str = "flat"
    reduction: str = "mean"
    mse_scale: str = "mean"
    l2: float = 0.0
    l2_form: str = "sum"
    container: str = "list"
    labels: str = "onehot"
    intermediates: str = "cost"
    use_bias: bool = True

    # --- the constant factor between the user's cost and refnet's ---------------------

    def factor(self, loss: str, k: int) -> float:
        """c with L_user = c * L_refnet (reduction apart): from mse_scale, k outputs."""
        if loss == "mse":
            return {"mean": 1.0, "half_sum": k / 2, "sum": float(k)}[self.mse_scale]
        if loss == "binary_cross_entropy":
            return 1.0 if self.mse_scale == "mean" else float(k)
        return 1.0

    @property
    def keras_reduction(self) -> str:
        """The Keras reduction refnet computes with: "sum_over_batch_size" or "sum" (LS5)."""
        return "sum" if self.reduction == "sum" else "sum_over_batch_size"

    @property
    def l2_eff(self) -> float:
        """The factor of sum(W^2) in the user's cost (LS6)."""
        return self.l2 / 2 if self.l2_form == "half_sum" else self.l2

    def describe(self) -> str:
        """One line: every axis, for reports."""
        axes = [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)[1:]]
        return f"{self.name}: " + ", ".join(axes)

    # --- shapes in this convention -------------------------------------------------------

    def W_shape(self, n_in: int, n_out: int) -> tuple[int, int]:
        return (n_in, n_out) if self.weights_layout == "in_out" else (n_out, n_in)

    def b_shape(self, n_out: int) -> tuple[int, ...]:
        return {"flat": (n_out,), "column": (n_out, 1), "row": (1, n_out)}[
            self.bias_shape
        ]

    def batch_shape(self, n: int, width: int) -> tuple[int, int]:
        """Shape of X, Y, a delta or the output: (n, width) for rows, (width, n) for columns."""
        return (n, width) if self.samples == "rows" else (width, n)

    def weight_names(self, n_layers: int) -> list[str]:
        """["W1", "b1", "W2", ...] (no b without bias): the keys of the dict container,
        and the order of the list one."""
        kinds = "Wb" if self.use_bias else "W"
        return [f"{p}{l}" for l in range(1, n_layers + 1) for p in kinds]

    def weight_shapes(self, sizes) -> dict[str, tuple[int, ...]]:
        """{"W1": shape, "b1": shape, ...} for the layout ``sizes``, in order."""
        out = {}
        for l, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
            out[f"W{l}"] = self.W_shape(n_in, n_out)
            if self.use_bias:
                out[f"b{l}"] = self.b_shape(n_out)
        return out

    # --- conversion: refnet's layout <-> the user's ----------------------------------------

    def weights_to_user(self, weights) -> list[np.ndarray] | dict[str, np.ndarray]:
        """refnet's [W1, b1, ...] (no b without bias) in this convention: a list or a
        dict keyed W1, b1, ... of fresh arrays the user may keep."""
        names = self.weight_names(len(weights) // (2 if self.use_bias else 1))
        out = []
        for name, w in zip(names, weights):
            if name[0] == "W":
                w = w.T if self.weights_layout == "out_in" else w
            else:
                w = np.reshape(w, self.b_shape(w.size))
            out.append(np.array(w, copy=True))
        return dict(zip(names, out)) if self.container == "dict" else out

    def weights_from_user(self, weights: dict) -> list[np.ndarray]:
        """The user's {"W1": .., "b1": .., ...} (shapes already checked) as refnet's
        [W1, b1, ...]."""
        return [
            self.W_from_user(w) if name[0] == "W" else np.reshape(w, -1)
            for name, w in weights.items()
        ]

    def W_from_user(self, W: np.ndarray) -> np.ndarray:
        return W.T if self.weights_layout == "out_in" else W

    def batch_to_user(self, A: np.ndarray) -> np.ndarray:
        return np.array(A.T if self.samples == "columns" else A, copy=True)

    def batch_from_user(self, A: np.ndarray) -> np.ndarray:
        return A.T if self.samples == "columns" else A


PRESETS: dict[str, Convention] = {
    # refnet's own: Keras layout and Keras 3's default reductions.
    "keras": Convention("keras"),
    # Nielsen, Neural Networks and Deep Learning, network.py / network2.py: column vectors,
    # w of shape (n_out, n_in), b (n_out, 1), cost summed over the examples of a batch
    # (the 1/m of the update lives in the learning rate), C = 1/2 ||a - y||^2.
    "nielsen": Convention("nielsen", "columns", "out_in", "column", "sum", "half_sum"),
    # CS231n, assignment 1's TwoLayerNet as the assignment writes it: self.params, a dict
    # W1, b1, W2, b2 with W (n_in, n_out), b (n_out,); rows; y holds class ids (N,);
    # loss(X, y) returns (loss, grads); softmax loss averaged over the batch, plus
    # reg * sum(W^2) with l2 = reg.
    "cs231n": Convention(
        "cs231n",
        "rows",
        "in_out",
        "flat",
        "mean",
        "mean",
        container="dict",
        labels="int",
    ),
    # deeplearning.ai, course 1 (L_model_forward / L_model_backward): columns, W (n_l,
    # n_{l-1}), b (n_l, 1), the parameters dict; cost -1/m sum(Y log AL + (1 - Y)
    # log(1 - AL)), summed over the entries of Y (one row for one sigmoid output). Its
    # dZ and dA carry no 1/m (dW = 1/m dZ A_prev.T puts it there): per-example
    # intermediates.
    "deeplearning.ai": Convention(
        "deeplearning.ai",
        "columns",
        "out_in",
        "column",
        "mean",
        "sum",
        container="dict",
        intermediates="per_example",
    ),
    # d2l, chapter 4.7 (forward propagation, backward propagation, computational graphs):
    # z = W1 x, h = phi(z), o = W2 h, no bias; J = L + lambda/2 (|W1|^2 + |W2|^2) with
    # l2 = lambda; squared loss 1/2 (o - y)^2, averaged over the batch as d2l trains.
    "d2l": Convention(
        "d2l",
        "columns",
        "out_in",
        "column",
        "mean",
        "half_sum",
        0.0,
        "half_sum",
        use_bias=False,
    ),
    # Understanding Deep Learning (Prince), notebook 7.2 (backpropagation): columns,
    # all_weights[k] (D_{k+1}, D_k), all_biases[k] (D_{k+1}, 1), least squares
    # sum((f - y)^2) over outputs and samples.
    "udl": Convention("udl", "columns", "out_in", "column", "sum", "sum"),
    # Neural Networks from Scratch (nnfs): rows, weights (n_inputs, n_neurons), biases
    # (1, n_neurons) (keepdims=True), sparse class ids y; the combined softmax and
    # cross-entropy's gradient divided by the number of samples (a mean).
    "nnfs": Convention("nnfs", "rows", "in_out", "row", "mean", "mean", labels="int"),
}


_B_SHAPES = {"flat": "(n_out,)", "column": "(n_out, 1)", "row": "(1, n_out)"}


def get(convention: str | Convention = "keras", **overrides) -> Convention:
    """A preset by name with ``overrides`` applied axis by axis; ValueError naming the choices.

    >>> get("cs231n", l2=0.1).describe()
    "cs231n: samples='rows', weights_layout='in_out', bias_shape='flat', reduction='mean', mse_scale='mean', l2=0.1, l2_form='sum', container='dict', labels='int', intermediates='cost', use_bias=True"
    """
    if isinstance(convention, Convention):
        base = convention
    elif convention in PRESETS:
        base = PRESETS[convention]
    else:
        raise ValueError(
            f"convention: expected one of {sorted(PRESETS)}, got {convention!r}"
        )
    for key, value in overrides.items():
        if key == "use_bias":
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"use_bias: expected True or False, got {value!r}")
            continue
        if key == "l2":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"l2: expected a number >= 0, got {value!r}")
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"l2: expected a finite number >= 0, got {value!r}")
            continue
        if key not in CHOICES:
            raise TypeError(
                f"{key}: not an override; expected some of "
                f"{sorted([*CHOICES, 'l2', 'use_bias'])}"
            )
        if value not in CHOICES[key]:
            raise ValueError(
                f"{key}: expected one of {list(CHOICES[key])}, got {value!r}"
            )
    casts = {"l2": float, "use_bias": bool}
    overrides = {k: casts.get(k, str)(v) for k, v in overrides.items()}
    conv = replace(base, **overrides)
    if conv.use_bias and conv.samples == "rows" and conv.bias_shape == "column":
        raise ValueError(
            "bias_shape: 'column' (n_out, 1) needs samples='columns'; with rows of "
            "samples the bias must be flat (n_out,) or a row (1, n_out) to broadcast "
            "over z's rows"
        )
    if conv.use_bias and conv.samples == "columns" and conv.bias_shape != "column":
        raise ValueError(
            f"bias_shape: {conv.bias_shape!r} {_B_SHAPES[conv.bias_shape]} does not "
            "broadcast "
            "over z's columns (z is (n_out, n) with samples='columns'); expected "
            "'column' (n_out, 1)"
        )
    return conv
