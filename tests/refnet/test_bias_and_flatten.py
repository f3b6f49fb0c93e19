"""Dense layers without bias (Keras' ``Dense(use_bias=False)``): z = a @ W, no b, no db; and
an input shape flattened row-major (Keras' ``Flatten``, FL1).

Expected values come from finite differences (FD1), from the biased formula with b = 0
written out by hand, and from a hand-written Adam step (OPT3); TensorFlow's side is in
tests/crosscheck/frameworks/test_tf_models.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnet
from refnet import optimizers
from refnet.training import Diverged
from tests.conftest import EXACT_RTOL, FD_RTOL, central_difference


def mixed_net(dtype="float64", seed=0):
    """3-5-4-2 with the first and last layers without bias, the middle one with."""
    return refnet.Network.build(
        [3, 5, 4, 2],
        ["tanh", "sigmoid", "linear"],
        seed=seed,
        dtype=dtype,
        use_bias=[False, True, False],
    )


def data(n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)


def test_dense_without_bias_has_no_b():
    layer = refnet.Dense(3, 5, "relu", use_bias=False)
    assert layer.use_bias is False and layer.b is None
    assert layer.count_params() == 15  # 3 * 5, no + 5
    assert "use_bias=False" in repr(layer)
    assert refnet.Dense(3, 5).use_bias is True
    with pytest.raises(TypeError, match="use_bias"):
        refnet.Dense(3, 5, use_bias="no")
    with pytest.raises(ValueError, match="use_bias: expected True/False or 3 bools"):
        refnet.Network.build([3, 5, 4, 2], use_bias=[True, False])


def test_count_params_summary_and_weights_order():
    net = mixed_net()
    assert net.count_params() == 3 * 5 + (5 * 4 + 4) + 4 * 2  # PC1 without two b terms
    table = net.summary()
    assert "Total params: 47" in table and "dense (Dense, no bias)" in table
    shapes = [w.shape for w in net.get_weights()]
    assert shapes == [(3, 5), (5, 4), (4,), (4, 2)]  # Keras' order: kernel, bias if any
    with pytest.raises(
        ValueError, match=r"expected 4 arrays \[W1, W2, b2, W3\], got 6"
    ):
        net.set_weights([np.zeros((3, 5))] * 6)
    new = [np.full(s, 0.5) for s in shapes]
    net.set_weights(new)
    assert net.layers[0].b is None and net.layers[2].b is None
    np.testing.assert_array_equal(net.layers[1].b, np.full(4, 0.5))


def test_forward_is_a_at_W_with_no_b():
    net = mixed_net()
    X, _ = data()
    W1, W2, b2, W3 = net.get_weights()
    want = 1 / (1 + np.exp(-(np.tanh(X @ W1) @ W2 + b2))) @ W3
    np.testing.assert_allclose(net.forward(X), want, rtol=EXACT_RTOL)


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "mse"])
def test_gradients_match_finite_differences_and_db_is_none(loss):
    net = mixed_net()
    X, y = data()
    Y = y if loss != "mse" else np.eye(2)[y]
    res = net.gradients(X, Y, loss)
    assert res.db[0] is None and res.db[2] is None and res.db[1].shape == (4,)
    assert [g.shape for g in res.grads()] == [(3, 5), (5, 4), (4,), (4, 2)]

    def L():
        return net.gradients(X, Y, loss).loss

    for l, layer in enumerate(net.layers):
        np.testing.assert_allclose(
            res.dW[l], central_difference(L, layer.W), rtol=FD_RTOL, atol=1e-9
        )
    np.testing.assert_allclose(
        res.db[1], central_difference(L, net.layers[1].b), rtol=FD_RTOL, atol=1e-9
    )
    report = refnet.gradcheck(net, X, Y, loss)
    assert report.ok, str(report)
    assert [r.name for r in report.rows].count("db1") == 0
    assert "db2" in [r.name for r in report.rows]


def test_gradcheck_fails_a_made_up_db_for_a_layer_without_bias():
    class FakeZeros(refnet.Network):
        def gradients(self, X, Y, loss="mse", l2=0.0, *, out=None):
            res = super().gradients(X, Y, loss)
            res.db = [np.zeros(layer.n_out) for layer in self.layers]  # "fake zeros"
            return res

    net = mixed_net()
    X, y = data()
    report = refnet.gradcheck(FakeZeros(net.layers), X, y, "softmax_cross_entropy")
    assert not report.ok
    assert not next(r for r in report.rows if r.name == "db1").ok


def test_reused_buffers_keep_db_none():
    net = mixed_net()
    X, y = data()
    first = net.gradients(X, y, "softmax_cross_entropy")
    again = net.gradients(X, y, "softmax_cross_entropy", out=first)
    assert again is first and again.db[0] is None and again.db[2] is None
    fresh = net.gradients(X, y, "softmax_cross_entropy")
    for a, b in zip(again.grads(), fresh.grads()):
        np.testing.assert_array_equal(a, b)


def test_adam_keeps_no_slot_for_a_missing_bias():
    """One Adam step by hand (OPT3): m = (1 - b1) g, v = (1 - b2) g^2,
    w -= lr sqrt(1 - b2) / (1 - b1) * m / (sqrt(v) + eps)."""
    net = mixed_net()
    X, y = data()
    before = net.get_weights()
    res = net.gradients(X, y, "softmax_cross_entropy")
    opt = optimizers.Adam(0.01)
    opt.apply(net, res)
    assert [m.shape for m in opt.state["momentum"]] == [w.shape for w in before]
    lr_t = 0.01 * np.sqrt(1 - 0.999) / (1 - 0.9)
    for w0, g, w1 in zip(before, res.grads(), net.get_weights()):
        m, v = 0.1 * g, 0.001 * g * g
        np.testing.assert_allclose(w1, w0 - lr_t * m / (np.sqrt(v) + 1e-7), rtol=1e-12)
    assert net.layers[0].b is None


def test_fit_equals_public_steps_and_restores_on_divergence():
    X, y = data(n=12)
    net, ref = mixed_net(), mixed_net()
    net.fit(
        X,
        y,
        "softmax_cross_entropy",
        optimizers.SGD(0.1, momentum=0.9),
        epochs=2,
        batch_size=4,
        seed=3,
        progress=False,
        threads=1,
    )
    opt, rng = optimizers.SGD(0.1, momentum=0.9), np.random.default_rng(3)
    for _ in range(2):
        order = rng.permutation(12)
        for start in range(0, 12, 4):
            rows = order[start : start + 4]
            opt.apply(ref, ref.gradients(X[rows], y[rows], "softmax_cross_entropy"))
    for a, b in zip(net.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert net.layers[0].b is None

    start = net.get_weights()
    with pytest.raises(Diverged), np.errstate(all="ignore"):
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            optimizers.RMSprop(1e308),
            epochs=3,
            batch_size=4,
            seed=0,
            progress=False,
        )
    assert all(np.isfinite(w).all() for w in net.get_weights())
    assert len(net.get_weights()) == len(start)
    assert net.layers[0].b is None and net.layers[2].b is None


def test_save_load_round_trip_stores_the_flag(tmp_path):
    net = mixed_net(dtype="float32")
    path = tmp_path / "nobias.npz"
    net.save(path)
    keys = set(np.load(path, allow_pickle=False).files)
    assert {"use_bias", "W1", "W2", "b2", "W3"} <= keys and "b1" not in keys
    back = refnet.Network.load(path)
    assert [layer.use_bias for layer in back.layers] == [False, True, False]
    for a, b in zip(net.get_weights(), back.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # an ordinary net's file is as before: no use_bias key (old readers still read it)
    plain = tmp_path / "plain.npz"
    refnet.Network.build([3, 5, 2], seed=0).save(plain)
    assert "use_bias" not in np.load(plain, allow_pickle=False).files


def test_load_rejects_a_bias_for_a_layer_flagged_without_one(tmp_path):
    net = mixed_net()
    path = tmp_path / "m.npz"
    net.save(path)
    contents = dict(np.load(path, allow_pickle=False))
    contents["b1"] = np.zeros(5)
    with open(tmp_path / "extra.npz", "wb") as fh:
        np.savez(fh, **contents)
    with pytest.raises(ValueError, match=r"extra.npz.*unexpected keys \['b1'\]"):
        refnet.Network.load(tmp_path / "extra.npz")
    contents = dict(np.load(path, allow_pickle=False))
    contents["use_bias"] = np.array([1.5, 2.0, 0.0])
    with open(tmp_path / "flag.npz", "wb") as fh:
        np.savez(fh, **contents)
    with pytest.raises(ValueError, match="flag.npz.*use_bias"):
        refnet.Network.load(tmp_path / "flag.npz")


# --- input_shape: a flatten of the input (FL1) ---------------------------------------


def test_input_shape_flattens_row_major_as_keras():
    """FL1: a[0][i, 7 r + c] = X[i, r, c]. (4, 7) is not square, so a column-major
    flatten would give other numbers."""
    net = refnet.Network.build([28, 5, 3], seed=0, input_shape=(4, 7))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4, 7))
    X_flat = np.stack(
        [[X[i, r, c] for r in range(4) for c in range(7)] for i in range(6)]
    )
    assert not np.allclose(X_flat, X.reshape(6, 28, order="F"))  # the test can tell
    y = rng.integers(0, 3, size=6)
    res = net.gradients(X, y, "softmax_cross_entropy")
    np.testing.assert_array_equal(res.a[0], X_flat)
    flat = refnet.Network(net.layers)  # the same layers, X given flat
    want = flat.gradients(X_flat, y, "softmax_cross_entropy")
    np.testing.assert_array_equal(res.a[-1], want.a[-1])
    assert res.dX.shape == (6, 4, 7)
    np.testing.assert_array_equal(res.dX, want.dX.reshape(6, 4, 7))
    # flat still taken
    np.testing.assert_array_equal(net.forward(X), net.forward(X_flat))
    assert net.gradients(X_flat, y, "softmax_cross_entropy").dX.shape == (6, 28)
    np.testing.assert_array_equal(net.predict(X, batch_size=4), net.forward(X_flat))
    assert "flatten (Flatten)" in net.summary() and "(None, 4, 7)" in net.summary()
    assert refnet.gradcheck(net, X, y, "softmax_cross_entropy").ok


def test_input_shape_dX_matches_finite_differences():
    net = refnet.Network.build(
        [6, 4, 2], ["tanh", "linear"], seed=2, input_shape=(2, 3)
    )
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5, 2, 3))
    Y = rng.normal(size=(5, 2))
    res = net.gradients(X, Y, "mse")
    np.testing.assert_allclose(
        res.dX,
        central_difference(lambda: net.gradients(X, Y, "mse").loss, X),
        rtol=FD_RTOL,
        atol=1e-10,
    )


def test_input_shape_validation_names_X_and_input_shape():
    net = refnet.Network.build([28, 5, 3], seed=0, input_shape=(4, 7))
    with pytest.raises(
        ValueError,
        match=r"X: expected shape \(n, 4, 7\) \(or \(n, 28\) "
        r"already flattened\), got shape \(2, 7, 4\)",
    ):
        net.forward(np.zeros((2, 7, 4)))
    with pytest.raises(ValueError, match="X_val"):
        net.fit(
            np.zeros((2, 4, 7)),
            [0, 1],
            "softmax_cross_entropy",
            "sgd",
            validation_data=(np.zeros((2, 28, 1)), [0, 1]),
            progress=False,
        )
    with pytest.raises(
        ValueError, match=r"input_shape: expected a shape of 28 entries"
    ):
        refnet.Network.build([28, 5, 3], input_shape=(5, 5))
    with pytest.raises(
        ValueError, match="input_shape: expected a tuple of positive ints"
    ):
        refnet.Network.build([28, 5, 3], input_shape=(4, 0, 7))
    with pytest.raises(TypeError, match="input_shape"):
        refnet.Network.build([28, 5, 3], input_shape="4x7")
    assert refnet.Network.build([28, 5, 3], input_shape=(28,)).input_shape is None


def test_input_shape_survives_save_and_load(tmp_path):
    net = refnet.Network.build([28, 5, 3], seed=0, input_shape=(4, 7), use_bias=False)
    net.save(tmp_path / "m.npz")
    back = refnet.Network.load(tmp_path / "m.npz")
    assert back.input_shape == (4, 7)
    X = np.random.default_rng(0).normal(size=(2, 4, 7))
    np.testing.assert_array_equal(back.forward(X), net.forward(X))
    contents = dict(np.load(tmp_path / "m.npz", allow_pickle=False))
    contents["input_shape"] = np.array([5, 5])
    with open(tmp_path / "bad.npz", "wb") as fh:
        np.savez(fh, **contents)
    with pytest.raises(ValueError, match="bad.npz.*input_shape"):
        refnet.Network.load(tmp_path / "bad.npz")


def test_leaky_slope_survives_save_load_and_gradcheck(tmp_path):
    net = refnet.Network.build([4, 6, 3], ["leaky_relu(0.3)", "linear"], seed=0)
    net.save(tmp_path / "leaky.npz")
    back = refnet.Network.load(tmp_path / "leaky.npz")
    assert back.activations == ["leaky_relu(0.3)", "linear"]
    assert back.layers[0].activation.negative_slope == 0.3
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 4))
    W1, b1, W2, b2 = net.get_weights()
    z1 = X @ W1 + b1
    np.testing.assert_allclose(
        back.forward(X), np.where(z1 > 0, z1, 0.3 * z1) @ W2 + b2, rtol=EXACT_RTOL
    )
    assert refnet.gradcheck(back, X, rng.integers(0, 3, 5), "softmax_cross_entropy").ok
