"""Losses: gradients against central differences (FD1), the fused softmax-CE delta (LS2),
Keras 3 reductions by hand (LS1-LS4), label forms, and extreme logits.

Parametrized over ``refnet.losses.names()``: a newly registered loss is tested
automatically (add its targets to ``targets_for`` if it needs special ones).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from refnet import losses
from tests.conftest import (
    EXACT_RTOL,
    FD_RTOL,
    FLOAT32_RTOL,
    assert_close,
    central_difference,
    strict_numerics,
)

ALL = losses.names()


# --- helpers --------------------------------------------------------------------------


def outputs_for(
    name: str, rng: np.random.Generator, n: int = 4, k: int = 3
) -> np.ndarray:
    """A valid network output for the loss: probability rows for categorical CE and KL,
    else any."""
    if name in ("categorical_cross_entropy", "kl_divergence"):
        e = np.exp(rng.normal(size=(n, k)))
        return e / e.sum(axis=1, keepdims=True)
    return rng.normal(scale=2.0, size=(n, k))


def targets_for(
    name: str, rng: np.random.Generator, n: int = 4, k: int = 3
) -> np.ndarray:
    """Valid targets of shape (n, k): real for mse, in [0, 1] for binary CE, else rows of
    probabilities (soft labels, so every entry of the gradient is exercised); -1/+1
    labels for hinge and squared hinge."""
    if name == "mse":
        return rng.normal(size=(n, k))
    if name == "binary_cross_entropy":
        return rng.uniform(size=(n, k))
    if name in ("hinge", "squared_hinge"):
        return rng.choice([-1.0, 1.0], size=(n, k))
    p = rng.uniform(0.1, 1.0, size=(n, k))
    return p / p.sum(axis=1, keepdims=True)


def numeric_grad(value, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dL/da by central differences, one entry at a time (FD1)."""
    a = a.copy()
    return central_difference(lambda: value(a, y), a)


def softmax_by_hand(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def sigmoid_by_hand(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def loss_and_grad(name: str, a, Y):
    """(value, dL/da) of loss ``name`` with Y validated and shaped by the loss's prepare.

    Computed the way the network does (``value_and_grad``, fused for softmax CE) and
    checked against ``value`` and ``grad`` called one by one, so every test below holds
    both routes (for softmax CE two different formulas: log softmax against log-sum-exp).
    """
    loss = losses.get(name)
    a = np.asarray(a)
    y = loss.prepare(Y, a)
    value, grad = loss.value_and_grad(a, y)
    rtol = EXACT_RTOL if a.dtype == np.float64 else FLOAT32_RTOL
    assert_close(value, loss.value(a, y), rtol, f"{name}: value_and_grad's L")
    assert_close(grad, loss.grad(a, y), rtol, f"{name}: value_and_grad's dL/da")
    return value, grad


# --- gradients against finite differences ---------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_central_differences(name, rng):
    loss = losses.get(name)
    a = outputs_for(name, rng)
    y = loss.prepare(targets_for(name, rng), a)
    with strict_numerics():
        got = loss.grad(a, y)
    assert_close(got, numeric_grad(loss.value, a, y), FD_RTOL, f"{name}: dL/da")


@pytest.mark.parametrize("name", ALL)
def test_value_is_a_python_float_and_grad_keeps_dtype(name, rng):
    for dtype in (np.float32, np.float64):
        a = outputs_for(name, rng).astype(dtype)
        value, grad = loss_and_grad(name, a, targets_for(name, rng))
        assert type(value) is float, f"{name}: value is {type(value).__name__}"
        assert grad.dtype == dtype, (
            f"{name}: grad is {grad.dtype} for {np.dtype(dtype)} a"
        )
        assert grad.shape == a.shape


@pytest.mark.parametrize("name", ALL)
def test_does_not_mutate_outputs_or_targets(name, rng):
    a = outputs_for(name, rng)
    Y = targets_for(name, rng)
    a0, Y0 = a.copy(), Y.copy()
    loss_and_grad(name, a, Y)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(Y, Y0)


# --- softmax cross-entropy: the fused delta (LS2) --------------------------------------


def test_softmax_cross_entropy_delta_is_softmax_minus_y_over_n(rng):
    z = rng.normal(scale=3.0, size=(5, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=5)]
    _, delta = loss_and_grad("softmax_cross_entropy", z, Y)
    assert_close(delta, (softmax_by_hand(z) - Y) / 5, EXACT_RTOL, "LS2 delta")


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "categorical_cross_entropy"])
def test_int_labels_equal_one_hot_labels(name, rng):
    a = outputs_for(name, rng, n=6, k=4)
    labels = rng.integers(0, 4, size=6)
    v_int, g_int = loss_and_grad(name, a, labels)
    v_hot, g_hot = loss_and_grad(name, a, np.eye(4)[labels])
    assert v_int == v_hot
    np.testing.assert_array_equal(g_int, g_hot)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_cross_entropy_extreme_logits_by_hand(dtype):
    """Logits [1e4, 0]: softmax = [1, exp(-1e4)] = [1, 0] in floating point, so
    label 0 gives L = -log 1 = 0 and delta = (p - y) / 1 = [0, 0];
    label 1 gives L = logsumexp - z_1 = 1e4 - 0 = 1e4 and delta = [1, -1]."""
    z = np.array([[1e4, 0.0]], dtype=dtype)
    with strict_numerics():
        v0, d0 = loss_and_grad("softmax_cross_entropy", z, np.array([0]))
        v1, d1 = loss_and_grad("softmax_cross_entropy", z, np.array([1]))
    assert v0 == 0.0 and v1 == 1e4
    np.testing.assert_array_equal(d0, [[0.0, 0.0]])
    np.testing.assert_array_equal(d1, [[1.0, -1.0]])


def test_softmax_cross_entropy_extreme_logits_batch(rng):
    """+-1e4 logits in every position: finite value and delta, no warning; the value is
    -log softmax written out in plain Python: m + log(sum_j exp(z_j - m)) - z_label."""
    z = rng.choice([-1e4, 1e4], size=(6, 3)) + rng.normal(size=(6, 3))
    labels = rng.integers(0, 3, size=6)
    with strict_numerics():
        value, delta = loss_and_grad("softmax_cross_entropy", z, labels)
    assert np.isfinite(delta).all()
    per_sample = []
    for row, label in zip(z.tolist(), labels.tolist()):
        m = max(row)
        per_sample.append(m + math.log(sum(math.exp(v - m) for v in row)) - row[label])
    assert value == pytest.approx(sum(per_sample) / 6, rel=EXACT_RTOL)
    assert_close(
        delta, (softmax_by_hand(z) - np.eye(3)[labels]) / 6, EXACT_RTOL, "delta"
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_cross_entropy_extreme_logits_by_hand(dtype):
    """From logits: L = max(z, 0) - z y + log1p(exp(-|z|)); at z = 1e4 the log1p term is 0,
    so y = 1 gives 0 and y = 0 gives 1e4; z = -1e4, y = 0 gives 0. dL/dz = sigmoid(z) - y."""
    z = np.array([[1e4], [1e4], [-1e4]], dtype=dtype)
    Y = np.array([[1.0], [0.0], [0.0]])
    with strict_numerics():
        value, grad = loss_and_grad("binary_cross_entropy", z, Y)
    assert value == pytest.approx(1e4 / 3, rel=FLOAT32_RTOL)
    np.testing.assert_array_equal(grad, np.array([[0.0], [1 / 3], [0.0]], dtype=dtype))


def test_categorical_cross_entropy_saturated_probabilities():
    """From probabilities: p = 1 for the wrong class is clipped to 1 - 1e-7 and p = 0 for
    the true class to 1e-7 (Keras' epsilon), so L = -log(1e-7) = 16.118..., finite."""
    a = np.array([[1.0, 0.0, 0.0]])
    with strict_numerics():
        value, grad = loss_and_grad("categorical_cross_entropy", a, np.array([1]))
    assert value == pytest.approx(-math.log(1e-7), rel=EXACT_RTOL)
    assert np.isfinite(grad).all()


# --- Keras 3 reductions by hand ---------------------------------------------------------


def test_mse_reduction_by_hand():
    """LS1: mean over the k outputs, then over the n samples (Keras 'sum_over_batch_size')."""
    a = [[1.0, 2.0], [3.0, 5.0], [0.0, -1.0]]
    Y = [[0.0, 0.0], [3.0, 3.0], [1.0, 1.0]]
    per_sample = [((1 - 0) ** 2 + (2 - 0) ** 2) / 2, (0 + 2**2) / 2, (1 + 2**2) / 2]
    value, grad = loss_and_grad("mse", a, Y)
    assert value == pytest.approx(sum(per_sample) / 3, rel=EXACT_RTOL)
    # dL/da = 2 (a - y) / (n k) with n k = 6
    want = [[2 * (1 - 0) / 6, 2 * 2 / 6], [0.0, 2 * 2 / 6], [2 * -1 / 6, 2 * -2 / 6]]
    assert_close(grad, want, EXACT_RTOL, "mse grad")


def test_mse_column_targets_do_not_broadcast():
    """y of shape (n,) against an output (n, 1) is a column, not an (n, n) broadcast."""
    a = np.array([[1.0], [2.0], [4.0]])
    y = np.array([0.0, 2.0, 1.0])
    value, grad = loss_and_grad("mse", a, y)
    assert value == pytest.approx((1.0 + 0.0 + 9.0) / 3, rel=EXACT_RTOL)
    assert grad.shape == (3, 1)
    assert_close(grad, [[2 / 3], [0.0], [6 / 3]], EXACT_RTOL, "mse grad, (n,) targets")


def test_softmax_cross_entropy_reduction_by_hand():
    """LS2: -1/n sum_i log softmax(z_i)[label_i]."""
    z = [[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]]
    labels = [2, 0]
    per_sample = [
        -math.log(math.exp(r[c]) / sum(math.exp(v) for v in r))
        for r, c in zip(z, labels)
    ]
    value, _ = loss_and_grad("softmax_cross_entropy", z, np.array(labels))
    assert value == pytest.approx(sum(per_sample) / 2, rel=EXACT_RTOL)


def test_categorical_cross_entropy_reduction_by_hand():
    """LS3: rows renormalised (Keras from_logits=False), then -1/n sum_i sum_j y log p.

    Row [2, 1, 1] renormalises to [0.5, 0.25, 0.25]. SEED-NOTES: true (1, 0, 0) against
    (0.5, 0.4, 0.1) costs -log 0.5, more than a closer prediction (0.8, 0.1, 0.1)."""
    a = [[2.0, 1.0, 1.0], [0.5, 0.4, 0.1], [0.8, 0.1, 0.1]]
    labels = np.array([1, 0, 0])
    value, _ = loss_and_grad("categorical_cross_entropy", a, labels)
    assert value == pytest.approx(-(math.log(0.25) + math.log(0.5) + math.log(0.8)) / 3)
    far, _ = loss_and_grad("categorical_cross_entropy", [a[1]], labels[1:2])
    close, _ = loss_and_grad("categorical_cross_entropy", [a[2]], labels[2:3])
    assert close < far


def test_binary_cross_entropy_reduction_by_hand():
    """LS4: mean over outputs and batch of -(y log s + (1 - y) log(1 - s)), s = sigmoid(z)."""
    z = [[0.5, -1.0], [2.0, 0.0]]
    Y = [[1.0, 0.0], [0.25, 1.0]]
    total = 0.0
    for zr, yr in zip(z, Y):
        for zi, yi in zip(zr, yr):
            s = sigmoid_by_hand(zi)
            total += -(yi * math.log(s) + (1 - yi) * math.log(1 - s))
    value, grad = loss_and_grad("binary_cross_entropy", z, Y)
    assert value == pytest.approx(total / 4, rel=EXACT_RTOL)
    want = [
        [(sigmoid_by_hand(zi) - yi) / 4 for zi, yi in zip(zr, yr)]
        for zr, yr in zip(z, Y)
    ]
    assert_close(grad, want, EXACT_RTOL, "binary CE grad")


# --- the registry ---------------------------------------------------------------------


def test_registry_holds_the_design_losses():
    assert {"mse", "softmax_cross_entropy", "categorical_cross_entropy"} <= set(ALL)
    assert "binary_cross_entropy" in ALL


def test_unknown_loss_lists_the_choices():
    with pytest.raises(ValueError, match="loss: unknown name 'poisson'") as info:
        losses.get("poisson")
    for name in ALL:
        assert repr(name) in str(info.value)


def test_categorical_cross_entropy_gradient_on_rows_that_do_not_sum_to_one(rng):
    """Keras renormalises a / sum(a) before the log (LS3), so dL/da carries a 1 / s term
    that vanishes whenever the rows already sum to 1: feed sigmoid-like outputs in (0, 1)
    whose rows sum to anything, and check against central differences."""
    loss = losses.get("categorical_cross_entropy")
    a = rng.uniform(0.05, 0.95, size=(5, 4))
    a[:, 0] += 0.3  # moves the row sums away from 1 (checked below)
    assert np.abs(a.sum(axis=1) - 1).min() > 0.05  # really not normalised
    y = loss.prepare(targets_for("categorical_cross_entropy", rng, 5, 4), a)
    value, grad = loss_and_grad("categorical_cross_entropy", a, y)
    assert_close(
        grad, numeric_grad(loss.value, a, y), FD_RTOL, "dL/da, rows not summing to 1"
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "logits, label, expected",
    [
        ([1e30, 1e30], 0, math.log(2)),  # two equal huge logits: ln 2, not 0
        ([-1e30, -1e30], 1, math.log(2)),
        ([4e4, 4e4], 0, math.log(2)),
        # logits spanning more than float32's range: 0, not NaN
        ([3e38, -3e38], 0, 0.0),
    ],
)
def test_softmax_cross_entropy_value_at_the_float_range(dtype, logits, label, expected):
    """evaluate() and val_loss use Loss.value; training uses value_and_grad. Both give the
    exact value here (W3: value was 0.0 at logits of 1e30, value_and_grad NaN at +-3e38)."""
    loss = losses.get("softmax_cross_entropy")
    z = np.array([logits], dtype=dtype)
    y = loss.prepare(np.array([label]), z)
    with strict_numerics():
        value = loss.value(z, y)
        fused, grad = loss.value_and_grad(z, y)
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert fused == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "categorical_cross_entropy"])
def test_one_output_class_targets_must_be_probability_rows(name):
    """With k = 1 the only probability row is [1]; -3 or 7 was accepted (W10)."""
    loss = losses.get(name)
    a = np.array([[0.5], [0.25]])
    for bad in ([[-3.0], [1.0]], [[7.0], [1.0]]):
        with pytest.raises(ValueError, match="Y: expected one-hot or probability rows"):
            loss.prepare(np.array(bad), a)
    loss.prepare(np.array([[1.0], [1.0]]), a)
    loss.prepare(np.array([0, 0]), a)


# --- KL divergence and the hinge family (LS7-LS10) ------------------------------------
# Expected numbers are worked by hand here; the same cases were run through Keras 3
# (keras.losses.KLDivergence, Hinge, SquaredHinge, CategoricalHinge under
# tf.GradientTape), which tests/crosscheck/frameworks/test_tf_losses_kinks.py repeats
# live.


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ls7_kl_divergence_by_hand(dtype):
    """LS7: sum y log(y / a) per row, then the batch mean; a target of 0 is clipped to
    eps = 1e-7 and adds eps log(eps / a), not 0."""
    a = np.array([[0.5, 0.5], [0.25, 0.75]], dtype)
    Y = np.array([[1.0, 0.0], [0.5, 0.5]])
    eps = 1e-7
    row1 = math.log(1 / 0.5) + eps * math.log(eps / 0.5)
    row2 = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    value, grad = loss_and_grad("kl_divergence", a, Y)
    rtol = EXACT_RTOL if dtype == "float64" else FLOAT32_RTOL
    assert value == pytest.approx((row1 + row2) / 2, rel=rtol)
    want = -np.array([[1.0, eps], [0.5, 0.5]]) / (
        2 * np.array([[0.5, 0.5], [0.25, 0.75]])
    )
    assert_close(grad, want, rtol, "KL dL/da = -y / (n a)")


def test_ls7_kl_gradient_at_the_clip():
    """LS7's clip passes the gradient on [eps, 1], bounds included, and stops it outside
    (tf.clip_by_value's gradient). Keras gives [-2e6, -0.2, 0, 0, -0.6667] here."""
    a = np.array([[1e-7, 1.0, 0.0, 1.5, 0.3]])
    y = np.full((1, 5), 0.2)
    grad = losses.kl_divergence_grad(a, y)
    want = np.array([[-0.2 / 1e-7, -0.2, 0.0, 0.0, -0.2 / 0.3]])
    assert_close(grad, want, EXACT_RTOL, "KL gradient at and beyond the clip")
    # a of 0 and of 1.5 are read as eps and 1: 0.2 log(0.2 / eps) + 0.2 log 0.2 + ...
    by_hand = 0.2 * (
        2 * math.log(0.2 / 1e-7) + 2 * math.log(0.2 / 1.0) + math.log(0.2 / 0.3)
    )
    assert losses.kl_divergence(a, y) == pytest.approx(by_hand, rel=EXACT_RTOL)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ls8_ls9_hinge_and_squared_hinge_by_hand_with_kinks(dtype):
    """LS8/LS9 on 0/1 labels (read as -1/+1) with two entries exactly at the kink
    s a = 1: margins m = 1 - s a = (0, 0, 0.5, 3). Hinge's slope there is the active
    side's, -s / (n k) (tf.maximum's gradient goes to x when x >= 0); Keras gives
    L = 0.875, dL/da = (-0.25, 0.25, -0.25, 0.25) and L = 2.3125, (0, 0, -0.25, 1.5)."""
    a = np.array([[1.0, -1.0, 0.5, 2.0]], dtype)
    Y = np.array([[1.0, 0.0, 1.0, 0.0]])
    value, grad = loss_and_grad("hinge", a, Y)
    assert value == (0 + 0 + 0.5 + 3) / 4
    np.testing.assert_array_equal(grad, np.array([[-0.25, 0.25, -0.25, 0.25]], dtype))
    value, grad = loss_and_grad("squared_hinge", a, Y)
    assert value == (0 + 0 + 0.25 + 9) / 4
    np.testing.assert_array_equal(grad, np.array([[0, 0, -0.25, 1.5]], dtype))


def test_ls8_hinge_labels_0_1_and_minus_1_plus_1_agree(rng):
    """Keras converts 0/1 labels to -1/+1 (only when every entry is 0 or 1); so does
    prepare, and the loss functions called directly."""
    a = rng.normal(size=(6, 3))
    Y01 = rng.integers(0, 2, size=(6, 3)).astype(float)
    Ypm = 2 * Y01 - 1
    for name in ("hinge", "squared_hinge"):
        loss = losses.get(name)
        np.testing.assert_array_equal(loss.prepare(Y01, a), Ypm)
        assert loss.value(a, Y01) == loss.value(a, Ypm)
        np.testing.assert_array_equal(loss.grad(a, Y01), loss.grad(a, Ypm))


@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("bad", [[[0.0, -1.0]], [[0.5, 1.0]], [[2.0, -1.0]]])
def test_hinge_labels_that_are_neither_0_1_nor_minus_1_plus_1_are_refused(name, bad):
    """A mix of 0 and -1 is no label set: Keras would leave it as it is and score a 0
    label with a constant 1; refnet says what it expected."""
    loss = losses.get(name)
    with pytest.raises(ValueError, match=r"Y: expected hinge labels, every entry -1"):
        loss.prepare(np.array(bad), np.zeros((1, 2)))


@pytest.mark.parametrize(
    "a, want_value, want_grad",
    [
        # two wrong classes tie for neg = 2: the gradient splits 1/2, 1/2
        ([[2.0, 2.0, 0.5]], 2.5, [[0.5, 0.5, -1.0]]),
        # wrong class 0 ties with the true class's (1 - y) a = 0: a share of 1/2
        ([[0.0, -1.0, 0.5]], 0.5, [[0.5, 0.0, -1.0]]),
        # every wrong score negative: neg = 0 comes from the true class
        ([[-1.0, -2.0, 0.5]], 0.5, [[0.0, 0.0, -1.0]]),
        # exactly at the kink neg - pos + 1 = 0: the active side
        ([[1.0, 0.0, 2.0]], 0.0, [[1.0, 0.0, -1.0]]),
        # beyond the margin: no gradient
        ([[0.0, 0.0, 3.0]], 0.0, [[0.0, 0.0, 0.0]]),
    ],
)
def test_ls10_categorical_hinge_ties_and_kinks_by_hand(a, want_value, want_grad):
    """LS10 with y = one-hot class 2: neg = max((1 - y) a), pos = a_2. Ties in the max
    split the gradient evenly (tf.reduce_max's gradient); Keras 3 gives these numbers."""
    for dtype in ("float32", "float64"):
        a_t = np.array(a, dtype)
        value, grad = loss_and_grad("categorical_hinge", a_t, np.array([2]))
        assert value == want_value
        np.testing.assert_array_equal(grad, np.array(want_grad, dtype))


def test_ls10_categorical_hinge_batch_mean_and_soft_rows(rng):
    """The batch mean over rows, and probability rows taken in the same formula (as
    Keras takes them): value and gradient by central differences off the kinks."""
    loss = losses.get("categorical_hinge")
    a = rng.normal(size=(5, 4))
    y = loss.prepare(targets_for("categorical_hinge", rng, 5, 4), a)
    rows = [max(0.0, max((1 - y[i]) * a[i]) - float(y[i] @ a[i]) + 1) for i in range(5)]
    assert loss.value(a, y) == pytest.approx(sum(rows) / 5, rel=EXACT_RTOL)
    assert_close(loss.grad(a, y), numeric_grad(loss.value, a, y), FD_RTOL, "LS10")


def test_new_losses_take_the_sum_reduction():
    """LS5 for LS7-LS10: "sum" is n times the batch mean, value and gradient."""
    a = np.array([[0.2, 0.8], [0.6, 0.4], [0.9, 0.1]])
    Y = np.array([1, 0, 1])
    for name in ("kl_divergence", "categorical_hinge"):
        mean, total = losses.get(name), losses.get(name, reduction="sum")
        y = mean.prepare(Y, a)
        assert total.value(a, y) == pytest.approx(3 * mean.value(a, y), rel=1e-15)
        assert_close(total.grad(a, y), 3 * mean.grad(a, y), EXACT_RTOL, name)
