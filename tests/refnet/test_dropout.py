"""Training-mode inverted dropout (refnet/dropout.py, BP6 and BP7).

Expected values come from a forward pass written out here in NumPy (the mask applied by
hand, no refnet code), from central differences of that forward pass (FD1), and from
the definition of inverted dropout (entries 0 or 1 / (1 - rate)). The TensorFlow and
PyTorch rows, and Keras' own mask convention, are in tests/crosscheck/test_dropout.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnet
from tests.conftest import EXACT_RTOL, FD_RTOL, assert_close, central_difference

# independent of refnet.activations
ACTS = {
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    "linear": lambda z: z,
}


def _loss(a, Y, loss):
    """Keras' mean reductions, written out: mse, or softmax CE from logits on ids."""
    if loss == "mse":
        return np.mean((a - Y) ** 2)
    shifted = a - a.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(Y)), Y])


def _by_hand(weights, acts, X, Y, masks, loss):
    """L with z = a~ @ W + b, a = f(z), a~ = m * a where a mask is given."""
    a = X
    for l, act in enumerate(acts):
        W, b = weights[2 * l], weights[2 * l + 1]
        a = ACTS[act](a @ W + b)
        if masks[l] is not None:
            a = masks[l] * a
    return _loss(a, Y, loss)


def _case(rng, loss="mse", rates=(0.5, 0.25, 0.0)):
    acts = ["tanh", "sigmoid", "linear"]
    net = refnet.Network.build([4, 6, 5, 3], acts, seed=3, dropout=list(rates))
    for layer in net.layers:  # nonzero biases, so db is not trivially anything
        layer.b[:] = rng.normal(scale=0.3, size=layer.b.shape)
    X = rng.normal(size=(7, 4))
    Y = rng.normal(size=(7, 3)) if loss == "mse" else rng.integers(0, 3, size=7)
    return net, acts, X, Y


def _mask(rng, n, width, rate):
    """A mask by the definition: 0 with probability rate, else 1 / (1 - rate)."""
    return (rng.random((n, width)) >= rate) / (1 - rate)


# --- the gradients through a fixed mask -------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "softmax_cross_entropy"])
def test_bp6_bp7_dropout_gradients_match_central_differences(loss, rng):
    """BP6, BP7: with a fixed mask, every dW and db equals the central difference (FD1)
    of the loss computed by hand with that mask."""
    net, acts, X, Y = _case(rng, loss)
    masks = [_mask(rng, 7, 6, 0.5), _mask(rng, 7, 5, 0.25), None]
    assert any((m == 0).any() for m in masks[:2])  # something really is dropped
    res = net.gradients(X, Y, loss, masks=masks)
    weights = net.weight_arrays()  # perturbed in place, restored entry by entry
    for name, w, got in zip(net.weight_names(), weights, res.grads()):
        want = central_difference(lambda: _by_hand(weights, acts, X, Y, masks, loss), w)
        assert_close(got, want, FD_RTOL, name)


def test_bp6_delta_is_zero_where_the_mask_drops(rng):
    """BP6: delta[l] = (delta[l+1] @ W[l+1].T) * m[l] * f'(z[l]), written out with
    refnet's own delta[l+1]: zero in every dropped entry, and twice the undropped
    recursion (rate 0.5) in every kept one."""
    net, _, X, Y = _case(rng)
    m1 = _mask(rng, 7, 6, 0.5)
    res = net.gradients(X, Y, "mse", masks=[m1, _mask(rng, 7, 5, 0.25), None])
    t = np.tanh(res.z[0])
    want = (res.delta[1] @ net.layers[1].W.T) * m1 * (1 - t**2)
    assert_close(res.delta[0], want, EXACT_RTOL, "delta1")
    assert (res.delta[0][m1 == 0] == 0).all()


def test_bp7_dw_reads_the_masked_activation(rng):
    """BP7: dW[l+1] = (m[l] * a[l]).T @ delta[l+1]; res.a[l] is f(z[l]) before the mask."""
    net, _, X, Y = _case(rng)
    masks = net.dropout_masks(7, 1)
    res = net.gradients(X, Y, "mse", masks=masks)
    assert_close(res.a[1], np.tanh(res.z[0]), EXACT_RTOL, "a1 = f(z1), unmasked")
    want = (masks[0] * res.a[1]).T @ res.delta[1]
    assert_close(res.dW[1], want, EXACT_RTOL, "dW2")


def test_the_loss_with_masks_is_the_hand_forward(rng):
    """res.loss and the output equal the forward pass written out with the masks."""
    net, acts, X, Y = _case(rng, "softmax_cross_entropy")
    masks = net.dropout_masks(7, 5)
    res = net.gradients(X, Y, "softmax_cross_entropy", masks=masks)
    want = _by_hand(net.get_weights(), acts, X, Y, masks, "softmax_cross_entropy")
    assert res.loss == pytest.approx(want, rel=EXACT_RTOL)


def test_without_masks_dropout_is_the_identity(rng):
    """Inference: gradients without masks, forward, predict and evaluate ignore the rate
    (Keras' training=False); a mask of all 1/(1 - rate) is not the identity."""
    net, acts, X, Y = _case(rng)
    plain = refnet.Network.build([4, 6, 5, 3], acts, seed=3)
    plain.set_weights(net.get_weights())
    got, want = net.gradients(X, Y), plain.gradients(X, Y)
    assert got.masks == [None, None, None]
    for g, w in zip(got.grads(), want.grads()):
        assert np.array_equal(g, w)
    assert np.array_equal(net.forward(X), plain.forward(X))
    assert np.array_equal(net.predict(X, batch_size=3), plain.predict(X, batch_size=3))
    assert net.evaluate(X, Y, "mse") == plain.evaluate(X, Y, "mse")


# --- drawing masks --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_drawn_masks_are_zero_or_the_inverse_keep_rate(dtype):
    """Entries are exactly 0 or 1 / (1 - rate) in the net's dtype, dropped with
    probability rate (20,000 draws per layer: the fraction's standard error is 0.35 %,
    so 2 % is a 5-sigma bound), None where a layer has no dropout."""
    net = refnet.Network.build(
        [3, 200, 100, 2], dtype=dtype, seed=0, dropout=[0.3, 0.75, 0.0]
    )
    masks = net.dropout_masks(100, 7)
    assert masks[2] is None
    for m, rate, width in zip(masks, (0.3, 0.75), (200, 100)):
        assert m.shape == (100, width) and m.dtype == np.dtype(dtype)
        scale = np.dtype(dtype).type(1 / (1 - rate))
        assert set(np.unique(m)) == {0, scale}
        assert abs(np.mean(m == 0) - rate) < 0.02


def test_a_seed_draws_the_masks_dropout_masks_returns(rng):
    """masks=seed is masks=net.dropout_masks(n, seed): the same result, bit for bit;
    another seed gives other masks."""
    net, _, X, Y = _case(rng)
    by_seed = net.gradients(X, Y, masks=11)
    given = net.gradients(X, Y, masks=net.dropout_masks(7, 11))
    for a, b in zip(
        by_seed.grads() + by_seed.masks[:2], given.grads() + given.masks[:2]
    ):
        assert np.array_equal(a, b)
    gen = net.gradients(X, Y, masks=np.random.default_rng(11))
    assert np.array_equal(gen.dW[0], by_seed.dW[0])
    other = net.gradients(X, Y, masks=12)
    assert not np.array_equal(other.masks[0], by_seed.masks[0])


def test_masks_are_copied_never_written(rng):
    """The caller's masks stay as they were; res.masks holds copies in the net's dtype."""
    net, _, X, Y = _case(rng)
    masks = [_mask(rng, 7, 6, 0.5).astype(np.float32), _mask(rng, 7, 5, 0.25), None]
    before = [m.copy() for m in masks[:2]]
    res = net.gradients(X, Y, masks=masks)
    res2 = net.gradients(X, Y, masks=masks, out=res)
    assert res2 is res
    for m, b, r in zip(masks, before, res.masks):
        assert np.array_equal(m, b) and r is not m and r.dtype == np.float64


def test_out_reuse_with_and_without_masks_is_bit_for_bit(rng):
    """gradients(out=res) with masks equals a fresh call, and so does a call without
    masks into a result that had them (and back)."""
    net, _, X, Y = _case(rng)
    masks = net.dropout_masks(7, 2)
    res = net.gradients(X, Y, masks=masks)
    for m in (None, masks, net.dropout_masks(7, 3), None):
        got = net.gradients(X, Y, masks=m, out=res)
        want = net.gradients(X, Y, masks=m)
        assert got is res
        for g, w in zip(got.grads() + [got.loss], want.grads() + [want.loss]):
            assert np.array_equal(g, w)


# --- fit --------------------------------------------------------------------------------


def _fit(rates, seed):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    net = refnet.Network.build(
        [4, 6, 5, 3], ["tanh", "relu", "linear"], seed=1, **rates
    )
    net.fit(X, Y, "softmax_cross_entropy", "adam", 3, 8, seed, progress=False)
    return net.get_weights()


def test_fit_with_dropout_is_reproducible_and_the_seed_matters():
    """The same seed gives the same masks (and weights), bit for bit; another seed
    another run; and a net with dropout trains differently from one without."""
    a = _fit({"dropout": 0.5}, 4)
    b = _fit({"dropout": 0.5}, 4)
    c = _fit({"dropout": 0.5}, 5)
    plain = _fit({}, 4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert not all(np.array_equal(x, y) for x, y in zip(a, plain))


def test_fit_without_dropout_is_unchanged_by_it():
    """dropout=0 draws nothing: the same weights as a net built without the argument."""
    zero, plain = _fit({"dropout": 0.0}, 4), _fit({}, 4)
    assert all(np.array_equal(x, y) for x, y in zip(zero, plain))


def test_fit_steps_are_gradients_with_the_masks_it_draws():
    """fit's fast path (backprop_into on reused buffers) computes what gradients(...,
    masks=m) computes, for the masks it draws: a subclass whose gradients records them
    (so fit calls gradients) ends on the same weights, and each step got fresh masks."""
    seen = []

    class Recording(refnet.Network):
        def gradients(self, X, Y, loss="mse", l2=0.0, *, out=None, masks=None):
            seen.append([None if m is None else m.copy() for m in masks])
            return super().gradients(X, Y, loss, l2, masks=masks)

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(24, 4)), rng.integers(0, 3, size=24)
    nets = []
    for cls in (refnet.Network, Recording):
        net = cls.build(
            [4, 6, 5, 3], ["tanh", "sigmoid", "linear"], seed=1, dropout=0.4
        )
        net.fit(X, Y, "softmax_cross_entropy", "sgd", 2, 8, seed=3, progress=False)
        nets.append(net)
    for x, y in zip(nets[0].get_weights(), nets[1].get_weights()):
        assert np.array_equal(x, y)
    assert len(seen) == 6 and seen[0][2] is None
    assert not np.array_equal(seen[0][0], seen[1][0])  # fresh masks per step


class _BreaksAt(refnet.optimizers.SGD):
    """SGD whose update number ``at`` (0-based) makes every weight inf, keeping a copy
    of the weights just before it: the last good state."""

    def __init__(self, at: int):
        super().__init__(0.05)
        self.at, self.good = at, None

    def update_all(self, weights, grads):
        if self.iterations == self.at:
            self.good = [w.copy() for w in weights]
        super().update_all(weights, grads)
        if self.iterations - 1 == self.at:
            for w in weights:
                w[...] = np.inf


@pytest.mark.parametrize("at", [1, 3, 5])
def test_a_divergence_replays_the_same_masks(at):
    """fit puts a diverged net back by replaying steps: with dropout the replay must
    draw each step's masks again, identically, within an epoch (at 1, 5) and from the
    previous epoch (at 3: the last step of epoch 1), or the weights differ from the
    last good ones."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(32, 3)), rng.normal(size=(32, 2))
    net = refnet.Network.build([3, 6, 2], ["tanh", "linear"], seed=0, dropout=0.5)
    opt = _BreaksAt(at)  # 32 rows / batch 8 = 4 steps per epoch
    with pytest.raises(refnet.training.Diverged), np.errstate(all="ignore"):
        net.fit(X, Y, "mse", opt, epochs=3, batch_size=8, seed=2, progress=False)
    assert all(np.array_equal(w, g) for w, g in zip(net.get_weights(), opt.good))


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rate, error, words",
    [
        (1.0, ValueError, "dropout: expected a rate in [0, 1)"),
        (-0.1, ValueError, "dropout: expected a float >= 0"),
        (True, TypeError, "dropout: expected a float"),
        ("0.5", TypeError, "dropout: expected a float"),
        (float("nan"), ValueError, "dropout: expected a finite float"),
    ],
)
def test_a_bad_rate_is_refused_naming_dropout(rate, error, words):
    with pytest.raises(error) as err:
        refnet.Dense(3, 4, dropout=rate)
    assert words in str(err.value)


def test_dropout_on_the_output_layer_is_refused():
    """Network(...), build(one rate per layer) and a rate set later on the output layer
    each fail with a ValueError naming the argument; one rate in build is for the hidden
    layers only."""
    with pytest.raises(ValueError, match=r"layers\[1\]: dropout=0.5 on the output"):
        refnet.Network([refnet.Dense(3, 4), refnet.Dense(4, 2, dropout=0.5)])
    with pytest.raises(ValueError, match=r"dropout\[1\]: expected 0 for the output"):
        refnet.Network.build([3, 4, 2], dropout=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"dropout: expected one rate or 2 rates"):
        refnet.Network.build([3, 4, 2], dropout=[0.5])
    with pytest.raises(ValueError, match=r"dropout: expected 0 for a network without"):
        refnet.Network.build([4, 2], "linear", dropout=0.5)  # no hidden layer to drop
    assert refnet.Network.build([4, 2], "linear", dropout=0.0).dropout == [0.0]
    net = refnet.Network.build([3, 4, 2], dropout=0.5)
    assert net.dropout == [0.5, 0.0]
    net.layers[1].dropout = 0.5
    with pytest.raises(ValueError, match=r"layers\[1\]\.dropout: expected 0"):
        net.gradients(np.ones((2, 3)), np.ones((2, 2)), masks=0)


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda m: m[0], TypeError, "masks: expected a list with one mask"),
        (lambda m: "0", TypeError, "masks: expected a list with one mask"),
        (lambda m: True, TypeError, "masks: expected a list with one mask"),
        (lambda m: m[:2], ValueError, "masks: expected 3 entries"),
        (lambda m: [m[0][:3], m[1], None], ValueError, "masks[0]: expected shape (7, 6)"),
        (lambda m: [m[0].T, m[1], None], ValueError, "masks[0]: expected shape (7, 6)"),
        (lambda m: [None, m[1], None], ValueError, "masks[0]: expected an (7, 6) mask"),
        (lambda m: [m[0], m[1], np.ones((7, 3))], ValueError, "masks[2]: expected None"),
        (lambda m: [m[0] * 0.5, m[1], None], ValueError, "masks[0]: expected entries 0 or 1 / (1 - 0.5) = 2"),
        (lambda m: [m[0] > 0, m[1], None], ValueError, "masks[0]: expected entries 0 or"),
        (lambda m: [m[0].astype(str), m[1], None], TypeError, "masks[0]: expected real numbers"),
        (lambda m: [np.where(m[0] > 0, np.nan, 0), m[1], None], ValueError, "got nan"),
        (lambda m: -1, ValueError, "masks: expected an int >= 0"),
    ],
)  # fmt: skip
def test_bad_masks_are_refused_naming_masks(make, error, words, rng):
    net, _, X, Y = _case(rng)
    masks = net.dropout_masks(7, 0)
    with pytest.raises(error) as err:
        net.gradients(X, Y, masks=make(masks))
    assert words in str(err.value)


def test_a_mask_within_rounding_of_the_keep_scale_is_accepted(rng):
    """A float32 mask of 1/(1 - 0.3) (another rounding than float64's) is taken as the
    float64 net's exact keep scale."""
    net = refnet.Network.build([3, 5, 2], seed=0, dropout=0.3)
    m = (_mask(rng, 4, 5, 0.3)).astype(np.float32)
    res = net.gradients(np.ones((4, 3)), np.ones((4, 2)), masks=[m, None])
    assert set(np.unique(res.masks[0])) <= {0.0, 1 / 0.7}


# --- save and load ----------------------------------------------------------------------


def test_save_load_keeps_the_rates(tmp_path):
    """The rates round-trip exactly; a net without dropout writes no dropout key (its
    file is as before), and such a file loads with no dropout."""
    net = refnet.Network.build([3, 5, 4, 2], seed=0, dropout=[0.3, 0.1, 0.0])
    net.save(tmp_path / "d.npz")
    back = refnet.Network.load(tmp_path / "d.npz")
    assert back.dropout == [0.3, 0.1, 0.0]
    X, Y = np.ones((4, 3)), np.array([0, 1, 1, 0])
    a = net.gradients(X, Y, "softmax_cross_entropy", masks=2)
    b = back.gradients(X, Y, "softmax_cross_entropy", masks=2)
    assert all(np.array_equal(x, y) for x, y in zip(a.grads(), b.grads()))
    refnet.Network.build([3, 5, 2], seed=0).save(tmp_path / "plain.npz")
    assert "dropout" not in np.load(tmp_path / "plain.npz").files
    assert refnet.Network.load(tmp_path / "plain.npz").dropout == [0.0, 0.0]


@pytest.mark.parametrize(
    "rates, words",
    [
        (np.array([0.5, 0.5]), "dropout[1]: expected 0 for the output layer"),
        (np.array([1.5, 0.0]), "dropout[0]: expected a rate in [0, 1)"),
        (np.array([0.5]), "dropout"),
        (np.array(["a", "b"]), "dropout"),
    ],
)
def test_load_refuses_bad_rates_naming_the_file(tmp_path, rates, words):
    refnet.Network.build([3, 5, 2], seed=0, dropout=0.5).save(tmp_path / "ok.npz")
    contents = dict(np.load(tmp_path / "ok.npz"))
    contents["dropout"] = rates
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, **contents)
    with pytest.raises(ValueError) as err:
        refnet.Network.load(tmp_path / "bad.npz")
    assert "bad.npz" in str(err.value) and words in str(err.value)


def test_summary_lists_a_dropout_row_after_each_layer_with_a_rate():
    """As Keras' summary lists Dense, Dropout, Dense, ...: a Dropout row (0 parameters)
    right after each layer with a rate; the total stays PC1's 3*5+5 + 5*4+4 + 4*2+2."""
    net = refnet.Network.build([3, 5, 4, 2], dropout=[0.5, 0.0, 0.0])
    rows = [line.split()[:2] for line in net.summary().splitlines()[4:-3]]
    assert rows == [
        ["dense", "(Dense)"],
        ["dropout", "(Dropout"],
        ["dense_1", "(Dense)"],
        ["dense_2", "(Dense)"],
    ]
    assert "Dropout 0.5)" in net.summary() and "Total params: 54" in net.summary()
    assert "Dropout" not in refnet.Network.build([3, 5, 2]).summary()
