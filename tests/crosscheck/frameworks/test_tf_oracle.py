"""Every pitfall of docs/design.md that would make the crosscheck lie, pinned by a test.

Each test shows the pitfall is real (the naive TensorFlow computation differs) and that
compare() avoids it (so the test fails if the handling is removed). Sizes measured here
are quoted in crosscheck/tolerance.py and crosscheck/check.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck.frameworks.tf.losses import loss_and_targets as _keras_loss  # noqa: E402
from crosscheck.frameworks.tf.oracle import QUIRKS  # noqa: E402
from crosscheck.tolerance import policy_rtol  # noqa: E402
from tests.conftest import assert_oracle_agrees  # noqa: E402


def net_3_5_2(dtype="float64", acts=("tanh", "linear"), seed=0):
    return refnet.Network.build([3, 5, 2], list(acts), seed=seed, dtype=dtype)


# --- Keras 3 losses compute in floatx unless given dtype --------------------------------


def test_keras_loss_without_dtype_is_float32(rng):
    """MeanSquaredError() on float64 data returns float32: ~1e-8 off, 1e6 x our tolerance."""
    a, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 3))
    want = float(np.mean((a - y) ** 2))  # LS1 by hand
    naive = keras.losses.MeanSquaredError()(y, a)
    assert naive.dtype == tf.float32
    assert abs(float(naive) - want) > 1e3 * policy_rtol("float64", 8) * want
    ours = keras.losses.MeanSquaredError(dtype="float64")(y, a)
    assert abs(float(ours) - want) <= 1e-15 * want


@pytest.mark.parametrize("loss", refnet.losses.names())
def test_compare_losses_in_float64(loss, rng):
    """Every loss's row agrees to ~1e-15 in float64 (a float32 Keras loss would fail it)."""
    acts = (
        "tanh",
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear",
    )
    net = net_3_5_2(acts=acts)
    X = rng.normal(size=(6, 3))
    Y = (
        rng.uniform(size=(6, 2))
        if loss in ("mse", "binary_cross_entropy")
        else rng.integers(0, 2, (6, 2)).astype(float)  # 0/1 labels, Keras converts them
        if loss in ("hinge", "squared_hinge")
        else rng.integers(0, 2, 6)
    )
    report = assert_oracle_agrees(net, X, Y, loss)
    assert report.row("loss").norm_err < 1e-14
    _, keras_targets = _keras_loss(loss, Y, 2, "float64")
    assert np.asarray(keras_targets).dtype in (np.float64, np.int64)


# --- a Dense layer built as float32 silently downcasts float64 input --------------------


def test_float32_built_layer_downcasts_and_is_refused(rng):
    net = net_3_5_2("float64")
    X = rng.normal(size=(4, 3))
    model32 = keras.Sequential(
        [keras.Input(shape=(3,)), keras.layers.Dense(5, "tanh"), keras.layers.Dense(2)]
    )
    model32.set_weights(net.get_weights())  # float64 weights silently stored as float32
    # the pitfall: float64 in, float32 out, no error
    assert model32(X).dtype == tf.float32
    with pytest.raises(TypeError, match="float64"):
        crosscheck.compare(net, X, [0, 1, 1, 0], "softmax_cross_entropy", model=model32)
    model = crosscheck.to_keras(net)  # ours: every kernel float64, output float64
    assert all(layer.kernel.dtype == "float64" for layer in model.layers)
    assert model(X).dtype == tf.float64


# --- Keras' softmax/sigmoid outputs carry _keras_logits ---------------------------------


def clipped_softmax_net():
    """One softmax layer whose true-class probability is 4e-18 < 1e-7 (the clip matters)."""
    net = refnet.Network.build([2, 3], ["softmax"], seed=0)
    net.set_weights([np.array([[20.0, 0.0, -20.0], [0.0, 0.0, 0.0]]), np.zeros(3)])
    X = np.array([[1.0, 0.0], [0.5, 1.0]])
    return net, X, np.array([2, 0])


def test_keras_logits_path_differs_ours_matches_clipped_semantics():
    net, X, Y = clipped_softmax_net()
    out = crosscheck.to_keras(net)(X)
    assert hasattr(out, "_keras_logits")  # the pitfall
    onehot = np.eye(3)[Y]
    naive = float(keras.losses.CategoricalCrossentropy(dtype="float64")(onehot, out))
    p = np.clip(out.numpy() / out.numpy().sum(1, keepdims=True), 1e-7, 1 - 1e-7)
    # LS3 by hand: -log(1e-7) for row 0
    clipped = float(-(onehot * np.log(p)).sum(1).mean())
    assert abs(naive - clipped) > 1.0  # 20.0 (logits) against 8.06 (clipped)
    assert clipped == pytest.approx(
        0.5 * (-math.log(1e-7) - math.log(p[1, 0])), rel=1e-14
    )
    assert_oracle_agrees(net, X, Y, "categorical_cross_entropy")
    assert net.gradients(X, Y, "categorical_cross_entropy").loss == pytest.approx(
        clipped, rel=1e-14
    )


def test_sigmoid_output_with_binary_cross_entropy_keeps_refnet_semantics(rng):
    """A sigmoid output fed to the from-logits BCE: Keras would use z instead; we use a."""
    net = net_3_5_2(acts=("tanh", "sigmoid"))
    X, Y = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    assert crosscheck.compare(net, X, Y, "binary_cross_entropy").ok


# --- relu'(0) = 0, sigmoid/tanh from the output -----------------------------------------


def test_relu_prime_at_exact_zero():
    """z = 0 exactly (zero input row, zero bias): TF's relu gradient there is 0; so is ours."""
    z = tf.constant([0.0, -0.0, 1e-300, -1e-300], tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        a = keras.activations.relu(z)
    np.testing.assert_array_equal(tape.gradient(a, z).numpy(), [0, 0, 1, 0])
    net = net_3_5_2(acts=("relu", "linear"))
    X = np.zeros((3, 3))
    X[1] = [0.3, -1.0, 2.0]
    assert_oracle_agrees(net, X, [0, 1, 0], "softmax_cross_entropy")
    res = net.gradients(X, [0, 1, 0], "softmax_cross_entropy")
    assert (res.z[0][0] == 0).all() and (res.delta[0][0] == 0).all()


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_sigmoid_tanh_derivative_from_the_output(name):
    """TF's SigmoidGrad/TanhGrad use the output y: bitwise y (1 - y), 1 - y^2 in float32.

    Near saturation that differs from the derivative computed from z: at
    sigmoid(12) in float32, 1 - a keeps ~10 bits (8e-4 relative). refnet follows TF.
    """
    z = tf.constant([0.5, 6.0, 12.0, 15.0, 20.0, -1000.0], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(z)
        a = keras.activations.get(name)(z)
    grad = tape.gradient(a, z).numpy()
    act = refnet.activations.get(name)
    np.testing.assert_array_equal(act.df(z.numpy(), a.numpy()), grad)
    z64 = z.numpy().astype(np.float64)
    exact = act.df(z64, act.f(z64))
    if name == "sigmoid":
        assert abs(grad[2] - exact[2]) > 1e-4 * exact[2]  # z = 12: 8e-4 off, ~7000 eps
        # z = 20: a rounds to 1, TF's gradient is 0
        assert grad[4] == 0 and exact[4] > 0


def test_sigmoid_at_minus_1000_pinned():
    """z = -1000 into sigmoid: a = 0, gradient 0, finite on both sides, rows agree."""
    net = refnet.Network.build([2, 2, 2], ["sigmoid", "linear"], seed=1)
    W1, b1, W2, b2 = net.get_weights()
    net.set_weights([np.full((2, 2), 500.0), np.zeros(2), W2, b2])
    X = np.array([[-1.0, -1.0], [0.2, -0.1]])  # row 0: z = -1000
    with np.errstate(all="raise", under="ignore"):
        res = net.gradients(X, [0, 1], "softmax_cross_entropy")
    assert res.a[1][0].tolist() == [0.0, 0.0]
    assert crosscheck.compare(net, X, [0, 1], "softmax_cross_entropy").ok


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_logits_1e4_pinned(dtype, sign):
    """Logits of +-1e4 into both cross-entropies from logits: finite, and the rows agree."""
    net = refnet.Network.build([2, 3], ["linear"], seed=0, dtype=dtype)
    net.set_weights([sign * np.array([[1e4, 0, -1e4], [0, 1e4, 0]]), np.zeros(3)])
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    for loss, Y in [
        ("softmax_cross_entropy", [2, 0, 1]),
        ("binary_cross_entropy", np.eye(3)),
    ]:
        report = assert_oracle_agrees(net, X, Y, loss)
        assert math.isfinite(report.row("loss").max_abs_err)


# --- MSE with y of shape (n,) against (n, 1) ---------------------------------------------


def test_mse_column_targets_never_broadcast(rng):
    net = refnet.Network.build([3, 4, 1], ["tanh", "linear"], seed=0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    out = net.forward(X)  # (6, 1)
    # (6,) - (6, 1) -> (6, 6)
    naive = float(tf.reduce_mean(tf.square(tf.constant(y) - out)))
    right = float(np.mean((y - out[:, 0]) ** 2))
    assert abs(naive - right) > 1e-3
    report = assert_oracle_agrees(net, X, y, "mse")
    assert report.row("loss").norm_err < 1e-14
    _, targets = _keras_loss("mse", y, 1, "float64")
    assert targets.shape == (6, 1)


# --- TF's float32 constants inside float64 ops: own stated tolerance ---------------------


def test_leaky_relu_slope_is_float32_in_tf():
    """TF's LeakyRelu slope attribute is a float: 0.2 becomes 0.20000000298 in float64."""
    out = keras.activations.leaky_relu(tf.constant([-1.0], tf.float64)).numpy()[0]
    assert out == -float(np.float32(0.2)) != -0.2
    assert abs(out + 0.2) / 0.2 == pytest.approx(1.49e-8, rel=0.01)


@pytest.mark.parametrize(
    ("approximate", "constant"),
    [(False, 1 / math.sqrt(2)), (True, 0.044715)],
    ids=["gelu", "gelu_tanh"],
)
def test_gelu_constants_are_float32_in_tf(approximate, constant):
    """tf.nn.gelu casts its Python constant through float32 (math_ops.cast of a float32
    tensor): 1/sqrt(2) for the exact form, 0.044715 for the tanh form. Mirroring that
    rounding reproduces TF's float64 values to the last bits; the exact constants differ
    by ~4e-9 (gelu) and ~1e-9 (gelu_tanh): the measured size of the quirk."""
    z = np.linspace(-4, 4, 41)
    got = keras.activations.gelu(tf.constant(z), approximate=approximate).numpy()
    c32 = float(np.float32(constant))
    if approximate:
        f = lambda c: 0.5 * z * (1 + np.tanh(0.7978845608028654 * (z + c * z**3)))  # noqa: E731
    else:
        f = lambda c: 0.5 * z * np.vectorize(math.erfc)(-z * c)  # noqa: E731
    assert np.abs(got - f(c32)).max() < 1e-15
    diff = np.abs(got - f(constant)).max()
    assert 1e-10 < diff < 1e-8
    assert diff < QUIRKS["gelu_tanh" if approximate else "gelu"][0]


@pytest.mark.parametrize("act", ["leaky_relu", "gelu", "gelu_tanh"])
def test_quirk_rows_use_their_own_tolerance(act, rng):
    """A float64 net with the activation: the quirk is above TOL1 but within QUIRKS; the
    rtol is raised for this network only and the report says why."""
    net = refnet.Network.build([4, 16, 16, 3], [act, act, "linear"], seed=3)
    X = rng.normal(size=(16, 4)) * 3
    report = assert_oracle_agrees(
        net, X, rng.integers(0, 3, 16), "softmax_cross_entropy"
    )
    assert any(act in note for note in report.notes)
    # real: TF's own rows (with torch too, a row shows its worst oracle by err/tol, and
    # torch's rounding may outrank TF's quirk there depending on the BLAS kernel)
    tf_rows = [row.oracles.get("tf", row) for row in report.rows]
    assert max(row.norm_err for row in tf_rows) > policy_rtol("float64", 16, 3)
    # TF only: no note about a framework not installed
    plain = crosscheck.compare(
        net_3_5_2(),
        X[:, :3],
        rng.integers(0, 2, 16),
        "softmax_cross_entropy",
        oracle="tf",
    )
    assert plain.rows[0].rtol == policy_rtol("float64", 16, 2)  # others keep TOL1
    assert not plain.notes


# --- oneDNN (or Eigen) sums float32 in another order than NumPy's BLAS ------------------


def test_float32_sums_differ_in_order_and_tol1_covers_it(rng):
    """TF's float32 matmul (oneDNN unless TF_ENABLE_ONEDNN_OPTS=0) is not bitwise NumPy's;
    the differences are rounding, and the 784-256-128-10 float32 crosscheck passes."""
    X = rng.uniform(size=(64, 784)).astype(np.float32)
    W = rng.normal(size=(784, 256)).astype(np.float32)
    assert not np.array_equal(tf.matmul(X, W).numpy(), X @ W)
    net = refnet.Network.build([784, 256, 128, 10], seed=0, dtype="float32")
    report = assert_oracle_agrees(
        net, X, rng.integers(0, 10, 64), "softmax_cross_entropy"
    )
    assert max(row.scaled_err for row in report.rows) < 1e-5
