"""Dropout against TensorFlow/Keras and PyTorch (BP6, BP7; refnet/dropout.py).

Three kinds of evidence: the frameworks' own Dropout layers use refnet's mask convention
(x * m with m in {0, 1/(1 - rate)}, recovered from their output on x = ones); the
oracles, given refnet's masks, differentiate through them with their own autodiff and
agree with refnet at the tolerance policy (TOL1) in both dtypes; and the bridges carry a
layer's rate to a Dropout layer after it and back.
"""

from __future__ import annotations

import numpy as np
import pytest

import crosscheck
import refnet
from tests.conftest import assert_oracle_agrees, importorskip_torch

RATES = [0.2, 0.3, 0.5, 0.75]


def _keras():
    pytest.importorskip("tensorflow")
    from crosscheck.frameworks.tf.imports import tf_and_keras

    return tf_and_keras()


# --- the frameworks' own convention -----------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rate", RATES)
def test_keras_dropout_in_training_is_x_times_refnets_mask(rate, dtype):
    """keras.layers.Dropout(rate)(x, training=True) is x * m, m in {0, 1/(1 - rate)} in
    x's dtype (refnet.dropout.keep_scale) and dropped with probability rate: m is read
    from the layer's output on ones, then a layer of the same seed on x gives x * m."""
    tf, keras = _keras()
    shape = (200, 50)
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    on_ones = keras.layers.Dropout(rate, seed=7, dtype=dtype)
    on_x = keras.layers.Dropout(rate, seed=7, dtype=dtype)
    m = np.asarray(on_ones(tf.ones(shape, dtype), training=True))
    got = np.asarray(on_x(tf.constant(x), training=True))
    scale = refnet.dropout.keep_scale(rate, dtype)
    assert set(np.unique(m)) == {0, scale}
    assert abs(np.mean(m == 0) - rate) < 0.02  # 10,000 draws: 5 standard errors
    assert np.array_equal(got, x * m)
    # at inference it is the identity, as refnet's forward
    assert np.array_equal(np.asarray(on_x(tf.constant(x), training=False)), x)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("rate", RATES)
def test_torch_dropout_in_training_is_x_times_refnets_mask(rate, dtype):
    """torch.nn.Dropout(p=rate) in train() mode is x * m with the same m values."""
    torch = importorskip_torch()
    shape = (200, 50)
    x = np.random.default_rng(0).normal(size=shape).astype(dtype)
    layer = torch.nn.Dropout(p=rate).train()
    torch.manual_seed(3)
    m = layer(torch.ones(shape, dtype=getattr(torch, dtype))).numpy()
    torch.manual_seed(3)
    got = layer(torch.from_numpy(x)).numpy()
    scale = refnet.dropout.keep_scale(rate, dtype)
    assert set(np.unique(m)) == {0, scale}
    assert abs(np.mean(m == 0) - rate) < 0.02
    assert np.array_equal(got, x * m)


# --- the oracles given refnet's masks ---------------------------------------------------


def _net(dtype, rates=(0.5, 0.25, 0.0), acts=("tanh", "relu", "linear")):
    return refnet.Network.build(
        [6, 9, 7, 3], list(acts), seed=2, dtype=dtype, dropout=list(rates)
    )


def _data(n=8, loss="softmax_cross_entropy"):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n, 6))
    return X, rng.normal(size=(n, 3)) if loss == "mse" else rng.integers(0, 3, size=n)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("oracle", ["tf", "torch"])
def test_bp6_bp7_oracles_given_the_same_masks_agree(oracle, dtype):
    """BP6, BP7: every delta, dW and db with a mask, TF's tape and torch's autograd
    through an explicit multiplication by the same mask, within TOL1."""
    if oracle == "torch":
        importorskip_torch()
    else:
        _keras()
    net = _net(dtype)
    X, Y = _data()
    masks = net.dropout_masks(8, 4)
    report = assert_oracle_agrees(
        net, X, Y, "softmax_cross_entropy", oracle=oracle, masks=masks
    )
    assert "with dropout masks" in report.title


def test_compare_masks_seed_is_the_masks_dropout_masks_draws():
    """masks=seed in compare is net.dropout_masks(n, seed): the same refnet rows."""
    _keras()
    net = _net("float64")
    X, Y = _data(loss="mse")
    a = crosscheck.compare(net, X, Y, "mse", oracle="tf", masks=4)
    b = crosscheck.compare(net, X, Y, "mse", oracle="tf", masks=net.dropout_masks(8, 4))
    assert a.ok and b.ok
    assert [r.max_abs_err for r in a.rows] == [r.max_abs_err for r in b.rows]


class _ForgetsTheMaskInBackprop(refnet.Network):
    """A student's plausible bug: the forward pass applies the mask, BP6 leaves it out
    (delta[l] = (delta[l+1] @ W[l+1].T) * f'(z[l])), BP7 kept."""

    def gradients(self, X, Y, loss="mse", l2=0.0, *, out=None, masks=None):
        res = super().gradients(X, Y, loss, l2, masks=masks)
        for l in reversed(range(len(self.layers) - 1)):
            layer, nxt = self.layers[l], self.layers[l + 1]
            g = res.delta[l + 1] @ nxt.W.T
            res.delta[l] = g * layer.activation.df(res.z[l], res.a[l + 1])
            m = None if l == 0 else res.masks[l - 1]
            a_in = res.a[l] if m is None else m * res.a[l]
            res.dW[l] = a_in.T @ res.delta[l]
            res.db[l] = res.delta[l].sum(axis=0)
        return res


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bp6_a_backward_pass_that_forgets_the_mask_fails_at_its_layer(dtype):
    """BP6: the oracles catch a mask left out of the delta recursion, first at the layer
    whose output was dropped (delta2: layer 2 has dropout 0.25), not before."""
    _keras()
    net = _ForgetsTheMaskInBackprop.build(
        [6, 9, 7, 3],
        ["tanh", "tanh", "linear"],
        seed=2,
        dtype=dtype,
        dropout=[0.0, 0.25, 0.0],
    )
    X, Y = _data(loss="mse")
    report = crosscheck.compare(net, X, Y, "mse", oracle="tf", masks=1)
    assert not report.ok
    assert report.first_failure.name == "delta2"
    # the same network is right without masks (inference): the bug is in BP6 only
    assert crosscheck.compare(net, X, Y, "mse", oracle="tf").ok


def test_compare_refuses_bad_masks_naming_masks():
    net = _net("float64")
    X, Y = _data()
    masks = [*net.dropout_masks(8, 0)[:2], np.ones((8, 3))]
    with pytest.raises(ValueError, match=r"masks\[2\]: expected None"):
        crosscheck.compare(net, X, Y, "softmax_cross_entropy", masks=masks)


# --- the bridges ------------------------------------------------------------------------


def test_to_keras_puts_dropout_after_the_dense_and_from_keras_reads_it_back():
    """A layer's rate becomes keras.layers.Dropout(rate) after its Dense (after the
    LeakyReLU a leaky_relu(SLOPE) layer needs), and from_keras restores the rates."""
    _, keras = _keras()
    net = refnet.Network.build(
        [5, 6, 4, 2],
        ["leaky_relu(0.3)", "sigmoid", "linear"],
        seed=0,
        dropout=[0.4, 0.1, 0.0],
    )
    model = crosscheck.to_keras(net)
    kinds = [type(k).__name__ for k in model.layers]
    assert kinds == ["Dense", "LeakyReLU", "Dropout", "Dense", "Dropout", "Dense"]
    rates = [k.rate for k in model.layers if isinstance(k, keras.layers.Dropout)]
    assert rates == pytest.approx([0.4, 0.1])
    back = crosscheck.from_keras(model)
    assert back.dropout == pytest.approx([0.4, 0.1, 0.0])
    assert back.activations == net.activations


def test_from_keras_takes_a_dropout_refnet_cannot_carry_as_the_identity():
    """Dropout on the input, after the output layer, or before an activation layer is
    not refnet's dropout after a hidden layer's activation: the net has none there and
    the chain's notes say it is the identity at inference."""
    _, keras = _keras()
    from crosscheck.frameworks.tf.models import read_chain

    L = keras.layers
    model = keras.Sequential(
        [
            keras.Input((4,)),
            L.Dropout(0.1),
            L.Dense(5),
            L.Dropout(0.2),
            L.Activation("tanh"),
            L.Dense(3, activation="relu"),
            L.Dropout(0.3),
            L.Dense(2),
            L.Dropout(0.4),
        ]
    )
    with pytest.warns(UserWarning, match="model: not carried over") as caught:
        net = crosscheck.from_keras(model)
    assert net.dropout == pytest.approx([0.0, 0.3, 0.0])
    notes = " ".join(read_chain(model).notes)
    for where in ("on the input", "before an activation layer", "after the output"):
        assert where in notes
        assert where in str(caught[0].message)  # the warning names each one
    assert "model.layers[5]" not in str(caught[0].message)  # the carried one is not


def test_from_keras_warns_only_about_dropout_it_cannot_carry():
    _, keras = _keras()
    L = keras.layers
    model = keras.Sequential(
        [keras.Input((4,)), L.Dense(5, "tanh"), L.Dropout(0.3), L.Dense(2)]
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a carried Dropout gives no warning
        assert crosscheck.from_keras(model).dropout == pytest.approx([0.3, 0.0])


def test_to_torch_puts_dropout_after_the_activation_and_from_torch_reads_it_back():
    torch = importorskip_torch()
    nn = torch.nn
    net = refnet.Network.build(
        [5, 6, 4, 2], ["relu", "tanh", "linear"], seed=0, dropout=[0.4, 0.1, 0.0]
    )
    module = crosscheck.to_torch(net)
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert [m.p for m in module if isinstance(m, nn.Dropout)] == [0.4, 0.1]
    assert crosscheck.from_torch(module).dropout == [0.4, 0.1, 0.0]
    # where refnet cannot carry it: before an activation, after the output layer
    odd = nn.Sequential(
        nn.Dropout(0.1),
        nn.Linear(5, 6),
        nn.Dropout(0.2),
        nn.ReLU(),
        nn.Linear(6, 2),
        nn.Dropout(0.3),
    )
    with pytest.warns(UserWarning, match="module: not carried over") as caught:
        assert crosscheck.from_torch(odd).dropout == [0.0, 0.0]
    assert "module[0], module[2], module[5]" in str(caught[0].message)
    with pytest.raises(
        ValueError, match=r"module\[3\]\.p: expected a rate in \[0, 1\)"
    ):
        crosscheck.from_torch(
            nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 2), nn.Dropout(1.0))
        )


def test_kink_bound_after_a_mask_uses_the_masked_input():
    """A relu layer after a dropout mask sums m * a (BP7): the rounding bound within
    which two sides may straddle its kink is that of the masked input (here all kept,
    twice a), so an entry 1.5 times the unmasked bound apart is still pinned."""
    from crosscheck.kinks import kink_entries, kink_scale

    net = refnet.Network.build(
        [3, 4, 3, 2], ["tanh", "relu", "linear"], seed=0, dropout=[0.5, 0.0, 0.0]
    )
    X = np.random.default_rng(0).normal(size=(5, 3))
    masks = [np.full((5, 4), 2.0), None, None]
    res = net.gradients(X, np.zeros((5, 2)), "mse", masks=masks)
    rtol = 1e-6
    plain = kink_scale(net.layers[1], res.a[1])
    d = 0.75 * rtol * (plain[0, 0] + plain.max())  # 2d = 1.5 times the unmasked bound
    res.z[1][0, 0] = d
    theirs = [z.copy() for z in res.z]
    theirs[1][0, 0] = -d
    pins = kink_entries(net, res, theirs, rtol)
    assert pins[1] is not None and pins[1][0][0, 0]
