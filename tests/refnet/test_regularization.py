"""Keras' "sum" reduction (LS5), L2 weight decay (LS6) and dL/dX (BP5) in refnet.

Expected values come from the definitions written out by hand here (loops over samples)
and from central differences (FD1); the TensorFlow rows are in tests/crosscheck/test_check_features.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnet
from tests.conftest import EXACT_RTOL, FD_RTOL, assert_close, central_difference

LOSSES = refnet.losses.names()


def _case(loss, rng, dtype="float64", n=5):
    out = (
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear"
    )
    net = refnet.Network.build([3, 4, 3], ["tanh", out], seed=1, dtype=dtype)
    X = rng.normal(size=(n, 3))
    if loss in ("mse", "binary_cross_entropy"):
        Y = rng.uniform(size=(n, 3))
    elif loss in ("hinge", "squared_hinge"):
        Y = rng.integers(0, 2, size=(n, 3)).astype(float)  # 0/1, read as -1/+1
    else:
        Y = rng.integers(0, 3, size=n)
    return net, X, Y


@pytest.mark.parametrize("loss", LOSSES)
def test_ls5_sum_reduction_is_n_times_the_mean(loss, rng):
    """LS5: Keras' "sum" adds the per-sample losses; value and every gradient scale by n."""
    net, X, Y = _case(loss, rng)
    mean = net.gradients(X, Y, loss)
    total = net.gradients(X, Y, refnet.losses.get(loss, reduction="sum"))
    # the per-sample losses, one sample at a time, summed by hand
    per_sample = [
        net.gradients(X[i : i + 1], Y[i : i + 1], loss).loss for i in range(5)
    ]
    assert total.loss == pytest.approx(sum(per_sample), rel=EXACT_RTOL)
    for got, want in zip(total.grads(), mean.grads()):
        assert_close(got, 5 * want, EXACT_RTOL, "sum-reduction gradient")


def test_ls5_sum_reduction_fd(rng):
    """FD1 on the summed loss agrees with its dW."""
    net, X, Y = _case("mse", rng)
    loss = refnet.losses.get("mse", reduction="sum")
    W = net.layers[0].W
    fd = central_difference(lambda: net.gradients(X, Y, loss).loss, W)
    assert_close(net.gradients(X, Y, loss).dW[0], fd, FD_RTOL, "dW1")


def test_reduction_names_checked():
    with pytest.raises(ValueError, match="reduction: expected one of"):
        refnet.losses.get("mse", reduction="mean")
    summed = refnet.losses.get("mse", reduction="sum")
    assert summed.reduction == "sum" and refnet.losses.get(summed) is summed
    assert refnet.losses.get(summed, reduction="sum_over_batch_size").reduction == (
        "sum_over_batch_size"
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ls6_l2_adds_l2_sum_w_squared(dtype, rng):
    """LS6: L += l2 sum_l sum(W[l]^2) (not b), dW[l] += 2 l2 W[l]; db and delta unchanged."""
    net, X, Y = _case("softmax_cross_entropy", rng, dtype)
    plain = net.gradients(X, Y, "softmax_cross_entropy")
    reg = net.gradients(X, Y, "softmax_cross_entropy", l2=0.25)
    penalty = 0.0
    for layer in net.layers:  # by hand, entry by entry
        penalty += 0.25 * sum(float(w) ** 2 for w in layer.W.ravel())
    rtol = EXACT_RTOL if dtype == "float64" else 1e-6
    assert reg.loss == pytest.approx(plain.loss + penalty, rel=rtol)
    for l, layer in enumerate(net.layers):
        assert reg.dW[l].dtype == np.dtype(dtype)
        assert_close(reg.dW[l], plain.dW[l] + 0.5 * layer.W, rtol, f"dW{l + 1}")
        np.testing.assert_array_equal(reg.db[l], plain.db[l])
        np.testing.assert_array_equal(reg.delta[l], plain.delta[l])


def test_ls6_l2_fd(rng):
    """FD1 on L + l2 sum W^2 agrees with dW of gradients(..., l2)."""
    net, X, Y = _case("mse", rng)
    W = net.layers[1].W
    fd = central_difference(lambda: net.gradients(X, Y, "mse", l2=0.1).loss, W)
    assert_close(net.gradients(X, Y, "mse", l2=0.1).dW[1], fd, FD_RTOL, "dW2")


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_l2_must_be_finite_and_non_negative(bad, rng):
    net, X, Y = _case("mse", rng)
    with pytest.raises(ValueError, match="l2: expected a finite number >= 0"):
        net.gradients(X, Y, "mse", l2=bad)
    with pytest.raises(ValueError, match="l2"):
        net.fit(X, Y, "mse", "sgd", l2=bad, progress=False)


def test_l2_must_be_a_number(rng):
    net, X, Y = _case("mse", rng)
    with pytest.raises(TypeError, match="l2: expected a number"):
        net.gradients(X, Y, "mse", l2="0.1")


@pytest.mark.parametrize("loss", LOSSES)
def test_bp5_dx_by_finite_differences(loss, rng):
    """BP5: dL/dX = delta[1] @ W[1].T, the shape of X, against FD1 on the inputs."""
    net, X, Y = _case(loss, rng)
    res = net.gradients(X, Y, loss)
    assert res.dX.shape == X.shape
    fd = central_difference(lambda: net.gradients(X, Y, loss).loss, X)
    assert_close(res.dX, fd, FD_RTOL, "dX")


def test_bp5_dx_keeps_dtype(rng):
    net, X, Y = _case("mse", rng, "float32")
    assert net.gradients(X, Y, "mse").dX.dtype == np.float32


def test_fit_with_l2_takes_the_regularized_steps(rng):
    """fit(l2=...) takes the SGD steps W' = W - lr (dW + 2 l2 W) (LS6, GD1), by hand."""
    net, X, Y = _case("mse", rng)
    manual = refnet.Network.build([3, 4, 3], ["tanh", "linear"], seed=1)
    hist = net.fit(
        X,
        Y,
        "mse",
        refnet.optimizers.SGD(0.1),
        epochs=3,
        batch_size=5,
        shuffle=False,
        progress=False,
        l2=0.05,
    )
    losses = []
    for _ in range(3):
        res = manual.gradients(X, Y, "mse")
        losses.append(res.loss + 0.05 * sum(np.sum(L.W**2) for L in manual.layers))
        for layer, dW, db in zip(manual.layers, res.dW, res.db):
            layer.W = layer.W - 0.1 * (dW + 0.1 * layer.W)
            layer.b = layer.b - 0.1 * db
    for got, want in zip(net.get_weights(), manual.get_weights()):
        assert_close(got, want, EXACT_RTOL, "weights after 3 steps")
    assert hist["loss"] == pytest.approx(losses, rel=EXACT_RTOL)


def test_evaluate_and_val_loss_include_l2_as_keras_does(rng):
    """Keras' evaluate (and so val_loss) adds the kernel regularizers' penalty. (Keras'
    evaluate runs its metrics in float32, so float32 here; float64 by hand below.)"""
    tf = pytest.importorskip("tensorflow")
    import crosscheck

    net = refnet.Network.build([4, 6, 3], ["tanh", "linear"], seed=2, dtype="float32")
    X = rng.normal(size=(10, 4)).astype("float32")
    y = rng.integers(0, 3, size=10)
    l2 = 0.125  # exact in float32, so Keras' float32 cast of it changes nothing
    keras = crosscheck.frameworks.tf.imports.tf_and_keras()[1]
    model = crosscheck.to_keras(net, l2=l2)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    want = model.evaluate(tf.constant(X), tf.constant(y), batch_size=10, verbose=0)
    got = net.evaluate(X, y, "softmax_cross_entropy", l2=l2)["loss"]
    assert got == pytest.approx(want, rel=1e-5)
    assert abs(got - net.evaluate(X, y, "softmax_cross_entropy")["loss"]) > 0.01


def test_val_loss_includes_l2(rng):
    net = refnet.Network.build([4, 6, 3], ["tanh", "linear"], seed=2)
    X, y = rng.normal(size=(10, 4)), rng.integers(0, 3, size=10)
    l2 = 0.03
    penalty = l2 * sum(float(np.sum(W**2)) for W in net.get_weights()[::2])
    plain = net.evaluate(X, y, "softmax_cross_entropy")["loss"]
    assert net.evaluate(X, y, "softmax_cross_entropy", l2=l2)["loss"] == pytest.approx(
        plain + penalty, rel=1e-14
    )
    with pytest.raises(ValueError, match="l2"):
        net.evaluate(X, y, "softmax_cross_entropy", l2=-1.0)
    # one step of a vanishing learning rate: the epoch's loss is the full-batch loss
    history = net.fit(
        X,
        y,
        "softmax_cross_entropy",
        refnet.optimizers.SGD(1e-300),
        epochs=1,
        batch_size=10,
        l2=l2,
        validation_data=(X, y),
        progress=False,
    )
    assert history["val_loss"][0] == pytest.approx(plain + penalty, rel=1e-12)
    assert history["loss"][0] == pytest.approx(plain + penalty, rel=1e-12)
