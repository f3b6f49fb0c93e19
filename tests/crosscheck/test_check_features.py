"""Keras' "sum" reduction (LS5), L2 weight decay (LS6) and dL/dX (BP5) against TensorFlow.

compare() builds the Keras model with kernel_regularizer=L2(l2) and a loss object with
Keras' own ``reduction``, and adds ``model.losses`` to the loss as compiled training does;
dX is the tape's gradient with respect to the input tensor.
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck.matrix import LOSSES, Case, output_activation, run_case  # noqa: E402
from tests.conftest import EXACT_RTOL, FLOAT32_RTOL, assert_close  # noqa: E402


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum"])
def test_ls5_ls6_bp5_match_tensorflow(dtype, loss, reduction):
    """Every row, dX included, within TOL1 with l2 = 0.01 and either reduction."""
    case = Case(
        (4, 6, 5, 3),
        ("tanh", "relu", output_activation(loss)),
        loss,
        dtype,
        8,
        3,
        reduction,
        0.01,
        True,
    )
    report = run_case(case)
    assert report.ok, str(report)
    assert report.rows[-1].name == "dX" and report.rows[-1].shape == (8, 4)


def test_l2_float64_mirrors_keras_float32_cast():
    """Keras casts l2 through float32; compare mirrors it and says so in a note."""
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    report = crosscheck.compare(
        net, X, [0, 1, 1, 0, 1], "softmax_cross_entropy", l2=0.01
    )
    assert report.ok and any("float32" in note for note in report.notes), str(report)
    # TF only: no note about a framework not installed
    exact = crosscheck.compare(
        net, X, [0, 1, 1, 0, 1], "softmax_cross_entropy", l2=0.25, oracle="tf"
    )
    assert exact.ok and not exact.notes


def test_missing_l2_is_caught():
    """A backprop that ignores l2 fails at the loss row, then at dW."""

    class NoL2(refnet.Network):
        def gradients(self, X, Y, loss="mse", l2=0.0):
            return super().gradients(X, Y, loss)

    net = NoL2(refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0).layers)
    X = np.random.default_rng(0).normal(size=(5, 3))
    report = crosscheck.compare(net, X, np.ones((5, 2)), "mse", l2=0.25)
    assert report.first_failure.name == "loss"
    assert not report.row("dW2").ok and report.row("db2").ok


def _fit_both(dtype, compiled):
    _, keras = crosscheck.frameworks.tf.imports.tf_and_keras()
    rng = np.random.default_rng(2)
    X, Y = (
        rng.normal(size=(16, 4)).astype(dtype),
        rng.normal(size=(16, 2)).astype(dtype),
    )
    net = refnet.Network.build([4, 5, 2], ["tanh", "linear"], seed=2, dtype=dtype)
    model = crosscheck.to_keras(net, l2=0.015625)
    opt = keras.optimizers.SGD(0.0625)
    loss_fn = keras.losses.MeanSquaredError(dtype=dtype)
    if compiled:
        model.compile(optimizer=opt, loss=loss_fn)
        k_loss = model.fit(X, Y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        k_loss = k_loss.history["loss"]
    else:  # what compiled training computes: the loss plus model.losses
        k_loss = []
        for _ in range(3):
            total = 0.0
            for rows in (slice(0, 8), slice(8, 16)):
                with tf.GradientTape() as tape:
                    value = loss_fn(Y[rows], model(X[rows])) + tf.add_n(model.losses)
                grads = tape.gradient(value, model.trainable_variables)
                opt.apply_gradients(zip(grads, model.trainable_variables))
                total += float(value) / 2
            k_loss.append(total)
    hist = net.fit(
        X,
        Y,
        "mse",
        refnet.optimizers.SGD(0.0625),
        epochs=3,
        batch_size=8,
        shuffle=False,
        progress=False,
        l2=0.015625,
    )
    return net, model, hist["loss"], k_loss


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_with_l2_matches_keras_training(dtype):
    """net.fit(..., l2) and Keras' steps on loss + model.losses (kernel_regularizer=L2)
    end on the same weights (LS6; SGD with lr and l2 exact in float32, no shuffling)."""
    net, model, got, want = _fit_both(dtype, compiled=False)
    rtol = EXACT_RTOL if dtype == "float64" else FLOAT32_RTOL
    for w, k in zip(net.get_weights(), model.get_weights()):
        assert_close(w, k, rtol, "weights after 6 steps")
    assert got == pytest.approx(want, rel=rtol)


def test_fit_with_l2_matches_keras_model_fit_float32():
    """The same against Keras' own compiled model.fit (its float64 path with a
    regularizer raises inside Keras 3: it adds float64 penalties to a float32 list)."""
    net, model, got, want = _fit_both("float32", compiled=True)
    for w, k in zip(net.get_weights(), model.get_weights()):
        assert_close(w, k, FLOAT32_RTOL, "weights after 6 steps")
    assert got == pytest.approx(want, rel=FLOAT32_RTOL)
