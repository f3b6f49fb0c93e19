"""Whole-network gradients (BP1-BP4: every dW, db and delta) against central differences
(FD1), and tests of refnet.gradcheck itself: it agrees with an independent loop, it fails
on a wrong backprop, and it skips (does not fail) entries whose difference crosses a kink.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refnet
from refnet import activations, losses
from tests.conftest import (
    EXACT_RTOL,
    FD_RTOL,
    KINK_FD_RTOL,
    NET_FD_RTOL,
    assert_close,
    central_difference,
)

ACTIVATIONS = activations.names()
LOSSES = losses.names()
CLASS_LOSSES = {
    "softmax_cross_entropy",
    "categorical_cross_entropy",
    "kl_divergence",
    "categorical_hinge",
}


# --- helpers --------------------------------------------------------------------------


def output_activation_for(loss: str, act: str) -> str:
    """Categorical CE and KL read probabilities, so their output layer is softmax; the
    other losses accept any output (logits for the from-logits losses)."""
    return "softmax" if loss in ("categorical_cross_entropy", "kl_divergence") else act


def targets_for(
    loss: str, rng: np.random.Generator, n: int, k: int, soft: bool = False
):
    """mse: reals; binary CE: [0, 1]; hinges: 0/1 labels, or -1/+1 if soft; class losses:
    int ids, or probability rows if soft."""
    if loss == "mse":
        return rng.normal(size=(n, k))
    if loss == "binary_cross_entropy":
        return rng.uniform(size=(n, k))
    if loss in ("hinge", "squared_hinge"):
        return rng.choice([-1.0, 1.0] if soft else [0.0, 1.0], size=(n, k))
    if soft:
        p = rng.uniform(0.1, 1.0, size=(n, k))
        return p / p.sum(axis=1, keepdims=True)
    return rng.integers(0, k, size=n)


def assert_gradcheck_ok(net, X, Y, loss, label: str):
    """refnet.gradcheck passes on every tensor and actually compared entries."""
    report = refnet.gradcheck(net, X, Y, loss, rtol=NET_FD_RTOL)
    assert report.ok, f"{label}\n{report}"
    names = [r.name for r in report.rows]
    L = len(net.layers)
    assert names == [f"{t}{l}" for l in range(1, L + 1) for t in ("dW", "db", "delta")]
    for row in report.rows:
        assert row.checked + row.skipped == int(np.prod(row.shape)), f"{label}: {row}"
    assert sum(r.checked for r in report.rows) > 0, (
        f"{label}: nothing compared\n{report}"
    )
    return report


def loss_by_hand(loss: str, a: np.ndarray, Y) -> float:
    """The Keras-reduction loss written out independently of refnet.losses (mse and
    softmax CE with int labels are enough for the independent check)."""
    if loss == "mse":
        return float(np.mean((a - Y) ** 2))
    assert loss == "softmax_cross_entropy"
    m = a.max(axis=1, keepdims=True)
    logp = a - m - np.log(np.exp(a - m).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(Y)), Y].mean())


def forward_from(net, l: int, z: np.ndarray) -> np.ndarray:
    """a[L] resuming at list index l with pre-activation z (FP2, then FP1/FP2 onwards)."""
    a = net.layers[l].activation.f(z)
    for layer in net.layers[l + 1 :]:
        a = layer.activation.f(a @ layer.W + layer.b)  # (n, n_out)
    return a


# --- every activation x every loss, deterministic ------------------------------------------


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_every_activation_loss_pairing(act, loss, rng):
    """BP1-BP4 for 3-4-4-3 with ``act`` in both hidden layers and at the output (softmax
    for CCE), against FD1."""
    net = refnet.Network.build(
        [3, 4, 4, 3], [act, act, output_activation_for(loss, act)], seed=5
    )
    X = rng.normal(size=(5, 3))
    for soft in (False, True):
        Y = targets_for(loss, rng, 5, 3, soft=soft)
        assert_gradcheck_ok(net, X, Y, loss, f"{act} + {loss} (soft labels: {soft})")


# --- random architectures via hypothesis ---------------------------------------------


@st.composite
def problems(draw):
    """A random network of depth 1-5, random activations, a loss it pairs with, and data."""
    loss = draw(st.sampled_from(LOSSES))
    depth = draw(st.integers(1, 5))
    k_min = 2 if loss in CLASS_LOSSES else 1
    widths = draw(st.lists(st.integers(1, 5), min_size=depth, max_size=depth))
    widths[-1] = max(widths[-1], k_min)
    hidden = draw(
        st.lists(st.sampled_from(ACTIVATIONS), min_size=depth, max_size=depth)
    )
    acts = hidden[:-1] + [output_activation_for(loss, hidden[-1])]
    n = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from(["float32", "float64"]))
    soft = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    sizes = [draw(st.integers(1, 5))] + widths
    net = refnet.Network.build(sizes, acts, seed=rng, dtype=dtype)
    # Nonzero biases so z is not symmetric around 0 and every bias matters.
    ws = net.get_weights()
    net.set_weights([w if w.ndim == 2 else 0.3 * rng.normal(size=w.shape) for w in ws])
    X = rng.normal(size=(n, sizes[0]))
    Y = targets_for(loss, rng, n, sizes[-1], soft=soft)
    return net, X, Y, loss


# ~10 ms per example: 40 by default, more under HYPOTHESIS_PROFILE=thorough.
@settings(max_examples=max(40, settings.default.max_examples))
@given(problems())
def test_random_networks_every_gradient(problem):
    """BP1-BP4: every dW, db and delta of a random network against FD1 (via gradcheck)."""
    net, X, Y, loss = problem
    assert_gradcheck_ok(net, X, Y, loss, f"{net!r} with {loss}")


# --- an independent finite-difference loop (so gradcheck is not the only referee) ----


@pytest.mark.parametrize(
    "sizes, acts, loss",
    [
        ([3, 4, 2], ["tanh", "linear"], "mse"),
        ([4, 5, 3, 3], ["sigmoid", "softplus", "linear"], "softmax_cross_entropy"),
    ],
)
def test_gradients_against_an_independent_loop(sizes, acts, loss, rng):
    """Perturb every W, b and z entry by hand and difference a hand-written loss."""
    net = refnet.Network.build(sizes, acts, seed=11)
    X = rng.normal(size=(4, sizes[0]))
    Y = (
        rng.normal(size=(4, sizes[-1]))
        if loss == "mse"
        else rng.integers(0, sizes[-1], 4)
    )
    res = net.gradients(X, Y, loss)
    assert res.loss == pytest.approx(
        loss_by_hand(loss, net.forward(X), Y), rel=EXACT_RTOL
    )

    def L():
        return loss_by_hand(loss, net.forward(X), Y)

    for l, layer in enumerate(net.layers):
        assert_close(res.dW[l], central_difference(L, layer.W), FD_RTOL, f"dW{l + 1}")
        assert_close(res.db[l], central_difference(L, layer.b), FD_RTOL, f"db{l + 1}")
        z = res.z[l].copy()
        num = central_difference(
            lambda: loss_by_hand(loss, forward_from(net, l, z), Y), z
        )
        assert_close(res.delta[l], num, FD_RTOL, f"delta{l + 1}")
    assert refnet.gradcheck(net, X, Y, loss).ok


# --- gradcheck must be able to fail ----------------------------------------------------------


class OffByOnePercent(refnet.Network):
    """A subtly wrong backprop: dW1 is 1 % too large."""

    def gradients(self, X, Y, loss="mse"):
        res = super().gradients(X, Y, loss)
        res.dW[0] = res.dW[0] * 1.01
        return res


class ForgetsTheDerivative(refnet.Network):
    """The classic slip in BP2: delta[l] = delta[l+1] @ W[l+1].T without * f'(z[l])."""

    def gradients(self, X, Y, loss="mse"):
        res = super().gradients(X, Y, loss)
        for l in reversed(range(len(self.layers) - 1)):
            res.delta[l] = res.delta[l + 1] @ self.layers[l + 1].W.T  # (n, n_l)
            res.db[l] = res.delta[l].sum(axis=0)
            res.dW[l] = res.a[l].T @ res.delta[l]
        return res


class KeepsTheBatchAxis(refnet.Network):
    """db computed with keepdims: the right numbers in the wrong shape (1, n_l)."""

    def gradients(self, X, Y, loss="mse"):
        res = super().gradients(X, Y, loss)
        res.db[0] = res.delta[0].sum(axis=0, keepdims=True)
        return res


def failing_rows(report) -> set[str]:
    return {r.name for r in report.rows if not r.ok}


def test_gradcheck_reports_a_one_percent_error(rng):
    good = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=1)
    bad = OffByOnePercent(good.layers)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = refnet.gradcheck(bad, X, Y, "mse")
    assert not report.ok
    assert failing_rows(report) == {"dW1"}
    assert "FAIL" in str(report)
    assert refnet.gradcheck(good, X, Y, "mse").ok


def test_gradcheck_reports_a_wrong_shape(rng):
    layers = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=1).layers
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    report = refnet.gradcheck(KeepsTheBatchAxis(layers), X, Y, "mse")
    assert failing_rows(report) == {"db1"}, str(report)


def test_gradcheck_reports_a_missing_activation_derivative(rng):
    layers = refnet.Network.build(
        [3, 4, 4, 2], ["sigmoid", "tanh", "linear"], seed=2
    ).layers
    report = refnet.gradcheck(
        ForgetsTheDerivative(layers),
        rng.normal(size=(5, 3)),
        rng.integers(0, 2, 5),
        "softmax_cross_entropy",
    )
    assert not report.ok
    assert {"delta1", "delta2", "dW1", "dW2"} <= failing_rows(report)
    assert {"dW3", "db3", "delta3"}.isdisjoint(failing_rows(report))


def test_gradcheck_skips_entries_crossing_a_relu_kink(rng):
    """Row 0 of X is zero and b1 = 0, so z1[0, :] = 0 exactly: a relu kink.

    Central differences there measure (0 + 1) / 2 of the slope, neither one-sided
    derivative (relu'(0) = 0 as TF), so those entries must be skipped, not failed.
    Entries of W1 stay checkable: they move z1[0, :] by x[0] h = 0.
    """
    net = refnet.Network.build([2, 3, 1], ["relu", "linear"], seed=3)
    W1, b1, W2, b2 = net.get_weights()
    net.set_weights([W1, np.zeros(3), W2, b2])
    X = rng.normal(size=(4, 2))
    X[0] = 0.0
    Y = rng.normal(size=(4, 1))

    report = refnet.gradcheck(net, X, Y, "mse")
    rows = {r.name: r for r in report.rows}
    assert report.ok, str(report)
    assert rows["db1"].skipped == 3  # every b1[j] moves z1[0, j] across 0
    assert rows["delta1"].skipped >= 3  # at least the three z1[0, j] = 0 entries
    assert rows["dW1"].skipped == 0 and rows["dW1"].checked == 6

    # Without the skip the naive difference disagrees: it sees half of row 0's slope.
    res = net.gradients(X, Y, "mse")

    def L():
        return float(np.mean((net.forward(X) - Y) ** 2))

    naive = central_difference(L, net.layers[0].b)
    g0 = res.delta[1][0] @ net.layers[1].W.T  # dL/da1 for row 0, (n_1,)
    assert_close(
        naive - res.db[0], 0.5 * g0, KINK_FD_RTOL, "naive FD - analytic = g0 / 2"
    )
    assert np.abs(g0).max() > 1e-3


def test_gradcheck_float32_network_and_sampling(rng):
    """A float32 net is checked on a float64 copy; max_entries samples per tensor."""
    net = refnet.Network.build([6, 8, 3], ["gelu", "linear"], seed=4, dtype="float32")
    X, Y = rng.normal(size=(5, 6)), rng.integers(0, 3, 5)
    report = refnet.gradcheck(net, X, Y, "softmax_cross_entropy", max_entries=4)
    assert report.ok, str(report)
    assert [r.checked for r in report.rows] == [4, 4, 4, 4, 3, 4]  # db2 has only 3
    assert net.layers[0].W.dtype == np.float32


def test_gradcheck_rejects_a_non_network():
    with pytest.raises(TypeError, match="net: expected a refnet.Network"):
        refnet.gradcheck(object(), np.zeros((1, 1)), np.zeros((1, 1)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_entries": 0}, ValueError, "max_entries: expected a positive int, got 0"),
        ({"max_entries": -1}, ValueError, "max_entries: expected a positive int"),
        ({"max_entries": 2.5}, TypeError, "max_entries: expected a positive int"),
        ({"step": 0}, ValueError, "step: expected a float > 0"),
        ({"step": float("nan")}, ValueError, "step: expected a finite float"),
        ({"rtol": -1}, ValueError, "rtol: expected a float >= 0"),
        ({"rtol": float("nan")}, ValueError, "rtol: expected a finite float"),
        ({"seed": -1}, ValueError, "seed: expected an int >= 0, got -1"),
    ],
)
def test_gradcheck_refuses_arguments_that_make_it_meaningless(kwargs, error, match):
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(error, match=match):
        refnet.gradcheck(net, X, np.zeros((5, 2)), "mse", **kwargs)


def test_gradcheck_with_one_entry_per_tensor_still_catches_a_wrong_gradient():
    """The review's case: dW1 three times too large passed with max_entries=0."""

    class Wrong(refnet.Network):
        def gradients(self, X, Y, loss="mse"):
            res = super().gradients(X, Y, loss)
            res.dW[0] = 3 * res.dW[0]
            return res

    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    wrong = Wrong(net.layers)
    X = np.random.default_rng(0).normal(size=(5, 3))
    Y = np.random.default_rng(1).normal(size=(5, 2))
    assert refnet.gradcheck(net, X, Y, "mse", max_entries=1).ok
    assert not refnet.gradcheck(wrong, X, Y, "mse", max_entries=1).ok


@pytest.mark.parametrize(
    "loss, label",
    [
        ("hinge", [[1.0]]),  # s a = 1: LS8's kink
        ("categorical_hinge", [2]),  # two scores tied in LS10's max
        ("kl_divergence", [[0.5, 0.5]]),  # an output of 1 exactly: LS7's clip
    ],
)
def test_a_finite_difference_across_a_loss_kink_is_skipped(loss, label):
    """LS7-LS10 have kinks of their own: a central difference across one measures the
    average of the two sides (-1/2 at hinge's s a = 1, where the gradient is -1), so
    gradcheck skips it, as it skips relu's. Without Loss.branches these rows fail."""
    if loss == "hinge":  # a = x w + b = 1 exactly for x = 1
        net = refnet.Network.build([1, 1], "linear")
        net.set_weights([[[0.5]], [0.5]])
        X, Y = np.array([[1.0]]), np.array(label)
    elif loss == "categorical_hinge":  # scores (1, 0, 2), class 2: neg - pos + 1 = 0
        net = refnet.Network.build([1, 3], "linear")
        net.set_weights([[[1.0, 0.0, 2.0]], [0.0, 0.0, 0.0]])
        X, Y = np.array([[1.0]]), np.array(label)
    else:  # a linear output of (1, 0.5): the first sits on the clip's bound a = 1
        net = refnet.Network.build([1, 2], "linear")
        net.set_weights([[[0.5, 0.25]], [0.5, 0.25]])
        X, Y = np.array([[1.0]]), np.array(label)
    report = refnet.gradcheck(net, X, Y, loss)
    assert report.ok, report
    assert sum(r.skipped for r in report.rows) > 0, report


class ForgetsTheMask(refnet.Network):
    """A student's dropout backprop that runs the forward pass with the masks and then
    forgets BP6 in the backward pass: the delta of the dropout layer misses its m."""

    def gradients(self, X, Y, loss="mse", l2=0.0, *, out=None, masks=None):
        res = super().gradients(X, Y, loss, l2, out=out, masks=masks)
        if masks is None:
            return res
        g = res.delta[1] @ self.layers[1].W.T  # dL/da~[1], to be multiplied by m[1]
        res.delta[0] = g * (1 - res.a[1] ** 2)  # tanh' only: BP6's mask forgotten
        res.dW[0] = res.a[0].T @ res.delta[0]  # X.T @ delta[1], BP4
        res.db[0] = res.delta[0].sum(axis=0)
        return res


def test_gradcheck_with_dropout_masks_checks_bp6_against_central_differences(rng):
    """masks= runs both sides in training mode with one set of masks: refnet's BP6 and
    BP7 agree with central differences of the masked forward pass; a backward pass
    that forgets the mask fails at the dropout layer; without masks, inference."""
    acts = ["tanh", "sigmoid", "linear"]
    net = refnet.Network.build([4, 6, 5, 3], acts, seed=0, dropout=[0.5, 0.25, 0.0])
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, 7)
    drawn = refnet.gradcheck(net, X, y, "softmax_cross_entropy", masks=3)
    assert drawn.ok, str(drawn)
    given = net.dropout_masks(7, 3)
    assert refnet.gradcheck(net, X, y, "softmax_cross_entropy", masks=given).ok
    assert refnet.gradcheck(net, X, y, "softmax_cross_entropy").ok  # dropout off
    forgets = ForgetsTheMask(net.layers)
    report = refnet.gradcheck(forgets, X, y, "softmax_cross_entropy", masks=3)
    assert not report.ok
    assert {"delta1", "dW1", "db1"} <= failing_rows(report), str(report)
    with pytest.raises(ValueError, match="masks"):
        refnet.gradcheck(net, X, y, "softmax_cross_entropy", masks=-1)
