"""The built-in crosscheck matrix: architectures x activations x losses x dtypes x batches.

Each :class:`Case` is one network, one batch and one loss; :func:`run_case` builds the
network with refnet, draws the data from the case's seed and returns compare's Report.
The matrix holds the seed examples (3-5-2, 784-256-128-10, 784-512-10 with a softmax
output and categorical cross-entropy), every activation as a hidden layer in float32 and
float64, Keras' KL divergence and hinge losses (LS7-LS10), categorical cross-entropy on
sigmoid and softplus outputs (rows that do not sum to 1), every loss at depths 1 to 6,
and batch sizes 1 and larger; and the features the convention checker needs: Keras'
"sum" reduction (LS5), L2 weight decay (LS6) and dL/dX (BP5), in both dtypes; the tutorials' Keras models: an input flattened from (28, 28)
(FL1), layers without bias and a leaky ReLU of slope 0.3; and training-mode dropout
(BP6, BP7), every oracle given refnet's masks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import refnet

from .check import compare
from .report import Report

LOSSES = [
    "mse",
    "softmax_cross_entropy",
    "categorical_cross_entropy",
    "binary_cross_entropy",
]
# Keras 3's KL divergence and hinge family (LS7-LS10), crosschecked in their own block of
# builtin_matrix so that the cases drawn for LOSSES above stay as they were.
MORE_LOSSES = ["kl_divergence", "hinge", "squared_hinge", "categorical_hinge"]
DTYPES = ["float32", "float64"]
# Every refnet activation but softmax, in the order that fixes each one's loss, batch and
# seed in builtin_matrix (and the random layouts drawn from it): append, never reorder.
HIDDEN = (
    "linear",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "gelu",
    "gelu_tanh",
)


@dataclass(frozen=True)
class Case:
    """One crosscheck: a layout, one activation per layer, a loss, a dtype, a batch size."""

    layout: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    dtype: str
    batch: int
    seed: int = 0
    reduction: str = "sum_over_batch_size"
    l2: float = 0.0
    dX: bool = False
    use_bias: tuple[bool, ...] | None = None  # per layer; None: every layer has a bias
    input_shape: tuple[int, ...] | None = None  # X drawn in this shape, flattened (FL1)
    dropout: tuple[float, ...] | None = None  # per layer; masks drawn from the seed

    @property
    def label(self) -> str:
        extras = "".join(
            [
                " sum" if self.reduction == "sum" else "",
                f" l2={self.l2:g}" if self.l2 else "",
                " dX" if self.dX else "",
                " no-bias="
                + ",".join(str(l) for l, b in enumerate(self.use_bias, 1) if not b)
                if self.use_bias and not all(self.use_bias)
                else "",
                f" X({'x'.join(map(str, self.input_shape))})"
                if self.input_shape
                else "",
                " dropout=" + ",".join(f"{r:g}" for r in self.dropout[:-1])
                if self.dropout
                else "",
            ]
        )
        return (
            f"{'-'.join(map(str, self.layout))} {','.join(self.activations)} "
            f"{self.loss}{extras} {self.dtype} n={self.batch}"
        )


def output_activation(loss: str) -> str:
    """The output layer a loss expects: softmax for the cross-entropy from probabilities
    and the KL divergence (probability rows), linear (logits, scores) for the others."""
    return (
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear"
    )


def make_data(case: Case) -> tuple[np.ndarray, np.ndarray]:
    """(X, Y) for the case, drawn from its seed; Y in the form the loss takes.

    Inputs of width 784 are uniform in [0, 1] like MNIST pixels, others standard normal.
    Class labels alternate between int ids and probability rows with the seed's parity,
    hinge labels between 0/1 and -1/+1; a single
    MSE or hinge output gets targets of shape (n,) (the (n,) vs (n, 1) pitfall).
    """
    rng = np.random.default_rng(case.seed)
    n, n0, k = case.batch, case.layout[0], case.layout[-1]
    X = rng.uniform(size=(n, n0)) if n0 == 784 else rng.normal(size=(n, n0))
    if case.input_shape:  # as a Flatten model takes it: (n, 28, 28)
        X = X.reshape((n, *case.input_shape))
    if case.loss == "mse":
        Y = rng.normal(size=(n,)) if k == 1 else rng.normal(size=(n, k))
    elif case.loss == "binary_cross_entropy":
        Y = rng.uniform(size=(n, k))
    elif case.loss in ("hinge", "squared_hinge"):
        Y = rng.integers(0, 2, size=(n,) if k == 1 else (n, k)).astype(float)
        Y = Y if case.seed % 2 == 0 else 2 * Y - 1
    elif case.seed % 2 == 0 or k == 1:
        Y = rng.integers(0, k, size=n)
    else:
        Y = rng.dirichlet(np.ones(k), size=n)
    return X, Y


def build_net(case: Case) -> refnet.Network:
    return refnet.Network.build(
        list(case.layout),
        list(case.activations),
        seed=case.seed,
        dtype=case.dtype,
        use_bias=True if case.use_bias is None else list(case.use_bias),
        input_shape=case.input_shape,
        dropout=0.0 if case.dropout is None else list(case.dropout),
    )


def run_case(case: Case, oracle=None) -> Report:
    """compare() on the case's network and data, against ``oracle`` (None: every
    installed oracle; "tf", "torch" or a tuple of names). A case with dropout is
    compared in training mode, with masks drawn from its seed (BP6, BP7)."""
    net = build_net(case)
    X, Y = make_data(case)
    loss = refnet.losses.get(case.loss, reduction=case.reduction)
    masks = case.seed if case.dropout else None
    return compare(net, X, Y, loss, l2=case.l2, dX=case.dX, oracle=oracle, masks=masks)


def builtin_matrix(seed: int = 0) -> list[Case]:
    """The built-in matrix (about 160 small cases; the 784-wide ones dominate the time)."""
    cases = []
    for dtype in DTYPES:  # the seed examples
        cases += [
            Case((3, 5, 2), ("relu", "linear"), "softmax_cross_entropy", dtype, 4, seed),
            Case((3, 5, 2), ("relu", "linear"), "mse", dtype, 1, seed + 1),
            Case((784, 256, 128, 10), ("relu", "relu", "linear"), "softmax_cross_entropy", dtype, 32, seed),
            Case((784, 512, 10), ("relu", "softmax"), "categorical_cross_entropy", dtype, 32, seed),
        ]  # fmt: skip
    hidden = list(HIDDEN)
    for i, act in enumerate(hidden):  # every activation, both dtypes, batch 1 and 16
        for dtype in DTYPES:
            loss = LOSSES[i % len(LOSSES)]
            batch = 1 if (i + (dtype == "float64")) % 2 else 16
            cases.append(
                Case(
                    (6, 8, 8, 3),
                    (act, act, output_activation(loss)),
                    loss,
                    dtype,
                    batch,
                    seed + i,
                )
            )
    # the tutorials' Keras models: Flatten, no bias, LeakyReLU(0.3)
    for dtype in DTYPES:
        cases += [
            Case((784, 256, 128, 10), ("relu", "relu", "softmax"), "categorical_cross_entropy", dtype, 16, seed, input_shape=(28, 28)),
            Case((6, 8, 8, 3), ("tanh", "leaky_relu(0.3)", "linear"), "softmax_cross_entropy", dtype, 8, seed + 1, use_bias=(False, True, False)),
            Case((12, 9, 1), ("leaky_relu(0.3)", "linear"), "mse", dtype, 5, seed, l2=0.01, dX=True, use_bias=(False, False), input_shape=(3, 4)),
        ]  # fmt: skip
    for dtype in DTYPES:  # softmax as a hidden layer (its Jacobian inside the network)
        cases.append(Case((5, 7, 4), ("softmax", "linear"), "mse", dtype, 9, seed))
    for dtype in DTYPES:  # categorical CE on rows that do not sum to 1: LS3's 1/s term
        cases += [
            Case((6, 8, 4), ("tanh", "sigmoid"), "categorical_cross_entropy", dtype, 8, seed + 1),
            Case((6, 8, 4), ("relu", "softplus"), "categorical_cross_entropy", dtype, 8, seed),
        ]  # fmt: skip
    for dtype in DTYPES:  # reduction="sum" (LS5), L2 (LS6), dL/dX (BP5), every loss
        for j, loss in enumerate(LOSSES):
            acts = ("tanh", "sigmoid", output_activation(loss))
            l2 = (0.0, 0.01, 0.25, 1e-3)[j]
            red = "sum" if j % 2 == 0 else "sum_over_batch_size"
            cases.append(
                Case((5, 7, 6, 3), acts, loss, dtype, 8, seed + j, red, l2, True)
            )
    cases += _more_losses(seed)
    for dtype in DTYPES:  # training-mode dropout, the oracles given refnet's masks
        cases += [
            Case((784, 256, 128, 10), ("relu", "relu", "linear"), "softmax_cross_entropy", dtype, 16, seed, dropout=(0.2, 0.2, 0.0)),
            Case((6, 8, 8, 3), ("tanh", "sigmoid", "linear"), "mse", dtype, 7, seed + 1, dropout=(0.5, 0.25, 0.0)),
            Case((5, 7, 4), ("softmax", "softmax"), "categorical_cross_entropy", dtype, 9, seed, dropout=(0.3, 0.0)),
            Case((12, 9, 6, 1), ("gelu", "leaky_relu(0.3)", "linear"), "binary_cross_entropy", dtype, 8, seed + 1, "sum", 0.01, True, (False, True, True), (3, 4), (0.1, 0.6, 0.0)),
        ]  # fmt: skip
    rng = np.random.default_rng(seed)
    for depth in range(1, 7):  # depths 1-6, every loss, both dtypes, mixed activations
        for j, loss in enumerate(LOSSES):
            for dtype in DTYPES:
                widths = [int(w) for w in rng.integers(1, 24, size=depth)]
                k = 1 if loss == "mse" and depth % 3 == 0 else max(2, widths[-1] % 6)
                layout = (int(rng.integers(1, 12)), *widths[:-1], k)
                acts = tuple(str(a) for a in rng.choice(hidden, size=depth - 1))
                batch = [1, 7, 32][(depth + j) % 3]
                cases.append(
                    Case(
                        layout,
                        (*acts, output_activation(loss)),
                        loss,
                        dtype,
                        batch,
                        seed + 10 * depth + j,
                    )
                )
    return cases


def _more_losses(seed: int) -> list[Case]:
    """KL divergence and the hinge family (LS7-LS10) in both dtypes: a 6-8-8-3 network at
    batch 1 and 16, a tanh output for the hinges, a single output, Keras' "sum" (LS5)
    with L2 (LS6) and dL/dX (BP5), and both label forms (the seed's parity)."""
    cases = []
    for j, loss in enumerate(MORE_LOSSES):
        out = output_activation(loss)
        hinged = loss in ("hinge", "squared_hinge")
        for dtype in DTYPES:
            cases += [
                Case((6, 8, 8, 3), ("tanh", "relu", out), loss, dtype, 16, seed + j),
                Case((6, 8, 8, 3), ("sigmoid", "elu", out), loss, dtype, 1, seed + j + 1),
                Case((5, 7, 6, 3), ("tanh", "sigmoid", out), loss, dtype, 8, seed + j, "sum", 0.01, True),
                Case((4, 9, 4), ("gelu", "tanh" if hinged else out), loss, dtype, 12, seed + j + 1),
                Case((784, 64, 10), ("relu", out), loss, dtype, 32, seed + j),
            ]  # fmt: skip
            if hinged:  # one output, (n,) targets
                cases.append(
                    Case((5, 6, 1), ("softsign", out), loss, dtype, 9, seed + j)
                )
    return cases
