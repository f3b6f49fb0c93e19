"""The reference of ``crosscheck mine``: refnet's backprop on the user's batch, scaled to the
user's cost (crosscheck/mine/conventions.py gives the constant factor c and the L2 form),
with every quantity a hypothesis of crosscheck/mine/diagnose.py needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import refnet

from ..tolerance import magnitudes, policy_rtol

HYPOTHESIS_C = 1000.0  # hypotheses are O(1) apart: match them with a roomy C


@dataclass
class Reference:
    """refnet's quantities in refnet's layout, scaled to the user's cost.

        ``z``, ``delta``, ``dW``, ``db``, ``W``, ``acts`` have one entry per layer (0-based);
        ``a`` starts with a[0] = X. ``g_out`` is dL/da[L] in the user's cost, as a hand
    derivation writes it; ``g_keras`` the same as refnet's loss computes it.
    """

    loss_name: str
    loss: float
    z: list
    a: list
    delta: list
    dW: list
    db: list
    W: list
    acts: list
    y: np.ndarray
    g_out: np.ndarray
    g_keras: np.ndarray  # dL/da[L] as refnet's loss computes it (LS3 renormalises)
    c: float  # L_user = c * L_refnet(reduction) + l2_eff * sum W^2
    l2_eff: float
    conv: object  # crosscheck.mine.conventions.Convention
    rtol: float  # for matching hypotheses (roomy: they are O(1) apart)
    row_rtol: float = 0.0  # TOL1's rtol for the report's rows
    dX: np.ndarray | None = None  # dL/dX (BP5)
    # dL/da[L] of the user's output (the probabilities, when a sigmoid or softmax output
    # is fused into its cross-entropy)
    dA_out: np.ndarray | None = None
    # the sigmoid or softmax output fused into its cross-entropy (refnet computes from
    # the logits, so acts[-1] is linear), or None
    prob: object = None
    # TOL1 magnitudes per row (tolerance.magnitudes)
    M: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.z[0].shape[0]

    @property
    def k(self) -> int:
        return self.z[-1].shape[1]

    @property
    def L(self) -> int:
        return len(self.z)

    def dW_from(self, i: int, delta: np.ndarray) -> np.ndarray:
        """BP4 (+ LS6) for layer i (0-based) from a given delta."""
        return self.a[i].T @ delta + 2 * self.l2_eff * self.W[i]

    def value(self, name: str) -> np.ndarray:
        """The reference for a row name: loss, output, dA{l}, delta{l}, dW{l}, db{l}, dX."""
        if name == "loss":
            return np.float64(self.loss)
        if name == "output":
            return self.a[-1]
        if name == "dX":
            return self.dX
        kind, l = _split(name)
        if kind == "dA":
            # dL/da[l] = delta[l+1] @ W[l+1].T (BP2's first factor); dL/da[L] at the top
            return self.dA_out if l == self.L else self.delta[l] @ self.W[l].T
        return getattr(self, kind)[l - 1]


def _split(name: str) -> tuple[str, int]:
    kind = name.rstrip("0123456789")
    return kind, int(name[len(kind) :])


def reference(net, conv, X, Y, loss: str, prob) -> Reference:
    """refnet's backprop, scaled to the user's cost: c * gradients(l2 = l2_eff / c)."""
    k = net.sizes[-1]
    c = conv.factor(loss, k)
    loss_obj = refnet.losses.get(loss, reduction=conv.keras_reduction)
    res = net.gradients(X, Y, loss_obj, l2=conv.l2_eff / c)
    t = net.dtype.type(c)
    y = loss_obj.prepare(Y, res.a[-1])
    a = list(res.a)
    if prob is not None:  # the user's output is the probability f(z[L])
        a[-1] = prob.f(res.z[-1])
    n = X.shape[0]
    M = magnitudes(
        [(la.W, la.b, la.activation) for la in net.layers], X, res.z, res.a[1:], y, loss
    )
    scale = c * (n if conv.reduction == "sum" else 1)
    M = {key: m * scale for key, m in M.items()}
    for l, layer in enumerate(net.layers, start=1):
        M[f"dW{l}"] = M[f"dW{l}"] + 2 * conv.l2_eff * np.abs(layer.W)
    M["loss"] = M["loss"] + conv.l2_eff * sum(
        float(np.sum(la.W**2)) for la in net.layers
    )
    M["output"] = M["output"] if prob is None else np.abs(a[-1]) + M["output"]
    rtol = policy_rtol(net.dtype, max(max(net.sizes), n), len(net.layers))
    ref = Reference(
        loss_name=loss,
        loss=res.loss * c,
        z=res.z,
        a=a,
        delta=[d * t for d in res.delta],
        dW=[d * t for d in res.dW],
        db=[None if d is None else d * t for d in res.db],
        W=[la.W for la in net.layers],
        acts=[la.activation for la in net.layers],
        y=y,
        g_out=_dL_da(loss_obj, res.a[-1], y, n, conv) * t,
        g_keras=loss_obj.grad(res.a[-1], y) * t,
        c=c,
        l2_eff=conv.l2_eff,
        conv=conv,
        rtol=policy_rtol(
            net.dtype, max(max(net.sizes), n), len(net.layers), HYPOTHESIS_C
        ),
        row_rtol=rtol,
        dX=res.dX * t,
        M=M,
    )
    ref.dA_out, ref.prob = _dA_out(ref, prob, n), prob
    return ref


def _dA_out(ref: Reference, prob, n: int) -> np.ndarray:
    """dL/da[L] in the user's cost. With a probability output fused into its
    cross-entropy, the derivative with respect to the probabilities a = f(z): BCE's
    (a - y) / (a (1 - a)), times the mean's 1/n; CE's -y / a, likewise."""
    if prob is None:
        return ref.g_out
    a, y = ref.a[-1], ref.y
    y = np.eye(a.shape[1], dtype=a.dtype)[y] if y.ndim == 1 else y
    per = ref.c / (n if ref.conv.reduction == "mean" else 1)
    if prob.name == "sigmoid":
        return ref.delta[-1] / (a * (1 - a))
    return -per * y / a


def _dL_da(loss_obj, a, y, n: int, conv):
    """dL/da[L] as a hand derivation writes it; for the cross-entropy from probabilities
    the textbook -y / (n a), without Keras' renormalisation (whose gradient is a constant
    per row that softmax's Jacobian removes)."""
    if loss_obj.name == "categorical_cross_entropy":
        return -y / a / (n if conv.reduction == "mean" else 1)
    return loss_obj.grad(a, y)
