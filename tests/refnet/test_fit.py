"""Training: the tutorials' gradient-descent examples, digits, fit/predict/evaluate/save/load.

Expected values: hand derivations in plain Python (Example A), least squares and the
generating line (Example B), Keras' own ``model.fit`` (digits, one epoch), and manual
loops of ``gradients`` + ``apply`` (fit's batching).
"""

from __future__ import annotations

import copy
import io
import math
import sys

import numpy as np
import pytest

import refnet
from refnet.optimizers import SGD, Adam

# --- Example A (SEED-NOTES 2): y = w1 x1 + w2 x2 + b by gradient descent ---------------------

POINTS_A = [(2, 3, 18), (1, 1, 10), (3, -1, 8), (-1, 1, 6), (-3, -2, -7)]


def _example_a_net():
    net = refnet.Network.build([2, 1], ["linear"])
    net.set_weights([np.array([[5.0], [8.0]]), np.array([-2.0])])
    return net


def _example_a_data():
    X = np.array([[x1, x2] for x1, x2, _ in POINTS_A], dtype=float)
    y = np.array([[y] for _, _, y in POINTS_A], dtype=float)
    return X, y


def test_example_a_first_update_is_the_hand_derived_step():
    """GD1 on Example A: L = 1/m sum (w1 x1 + w2 x2 + b - y)^2 (refnet's mse = Keras' MSE,
    LS1), so dL/dw1 = 2/m sum e x1, dL/dw2 = 2/m sum e x2, dL/db = 2/m sum e with
    e = prediction - y. (The tutorial's 1/2 sum form scales these by m / 4 = 1.25.)
    """
    w1, w2, b, lr, m = 5.0, 8.0, -2.0, 0.02, len(POINTS_A)
    e = [w1 * x1 + w2 * x2 + b - y for x1, x2, y in POINTS_A]  # 14, 1, -3, -5, -26
    d_w1 = 2 / m * sum(ei * x1 for ei, (x1, _, _) in zip(e, POINTS_A))  # 41.2
    d_w2 = 2 / m * sum(ei * x2 for ei, (_, x2, _) in zip(e, POINTS_A))  # 37.2
    d_b = 2 / m * sum(e)  # -7.6
    assert (d_w1, d_w2, d_b) == pytest.approx((41.2, 37.2, -7.6), rel=1e-14)

    net = _example_a_net()
    X, y = _example_a_data()
    res = net.gradients(X, y, "mse")
    assert [res.dW[0][0, 0], res.dW[0][1, 0], res.db[0][0]] == pytest.approx(
        [d_w1, d_w2, d_b], rel=1e-14
    )
    SGD(learning_rate=lr).apply(net, res)
    W, bias = net.get_weights()
    want = [w1 - lr * d_w1, w2 - lr * d_w2, b - lr * d_b]  # 4.176, 7.256, -1.848
    assert [W[0, 0], W[1, 0], bias[0]] == pytest.approx(want, rel=1e-15)


def test_example_a_seven_iterations_move_towards_2_3_5():
    """The data lie exactly on y = 2 x1 + 3 x2 + 5: every one of the 7 full-batch steps
    (fit with batch_size = 5, no shuffling) brings (w1, w2, b) closer to (2, 3, 5), and
    gradient descent run long enough lands on it."""
    X, y = _example_a_data()
    assert (X @ [2, 3] + 5 == y[:, 0]).all()
    target = np.array([2.0, 3.0, 5.0])

    def params(net):
        W, b = net.get_weights()
        return np.array([W[0, 0], W[1, 0], b[0]])

    net = _example_a_net()
    opt = SGD(0.02)
    gaps = [np.abs(params(net) - target)]  # per parameter: |w1 - 2|, |w2 - 3|, |b - 5|
    losses = []
    for _ in range(7):
        hist = net.fit(
            X, y, "mse", opt, epochs=1, batch_size=5, shuffle=False, progress=False
        )
        losses += hist["loss"]
        gaps.append(np.abs(params(net) - target))
    assert opt.iterations == 7
    assert all((b < a).all() for a, b in zip(gaps, gaps[1:])), gaps
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    # w1 converges fastest (its curvature is largest): from 5 to within 0.25 of 2
    assert gaps[-1][0] < 0.25 and np.linalg.norm(gaps[-1]) < 0.7 * np.linalg.norm(
        gaps[0]
    )
    net.fit(X, y, "mse", opt, epochs=3000, batch_size=5, shuffle=False, progress=False)
    np.testing.assert_allclose(params(net), target, atol=1e-8)


# --- Example B: y = 1.477 x + 0.089 + noise ------------------------------------------------


def test_example_b_linear_regression_recovers_the_line():
    """100 points x ~ U(-10, 10), eps ~ N(0, 0.01^2); MSE, lr 0.01, 1000 full-batch epochs
    from w = b = 0: w and b within 0.01 of (1.477, 0.089), and equal to least squares."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-10, 10, size=100)
    y = 1.477 * x + 0.089 + rng.normal(0, 0.01, size=100)
    net = refnet.Network.build([1, 1], ["linear"], init="zeros")
    hist = net.fit(
        x[:, None],
        y,
        "mse",
        SGD(0.01),
        epochs=1000,
        batch_size=100,
        shuffle=False,
        progress=False,
    )
    W, b = net.get_weights()
    assert abs(W[0, 0] - 1.477) < 0.01 and abs(b[0] - 0.089) < 0.01
    (w_ls, b_ls), *_ = np.linalg.lstsq(np.c_[x, np.ones_like(x)], y, rcond=None)
    assert W[0, 0] == pytest.approx(w_ls, abs=1e-9) and b[0] == pytest.approx(
        b_ls, abs=1e-9
    )
    assert hist["loss"][-1] == pytest.approx(1e-4, rel=0.5)  # the noise variance
    assert "accuracy" not in hist


# --- digits ------------------------------------------------------------------------------------


def test_digits_64_64_10_adam_reaches_97_percent():
    """64-64-10 ReLU, softmax cross-entropy, Adam(0.01), 30 epochs of batch 32: >= 97 %."""
    pytest.importorskip("sklearn")
    X_train, y_train, X_test, y_test = refnet.datasets.digits(seed=0)
    net = refnet.Network.build([64, 64, 10], ["relu", "linear"], seed=0)
    hist = net.fit(
        X_train,
        y_train,
        "softmax_cross_entropy",
        Adam(0.01),
        epochs=30,
        batch_size=32,
        seed=0,
        validation_data=(X_test, y_test),
        progress=False,
    )
    result = net.evaluate(X_test, y_test, "softmax_cross_entropy")
    assert result["accuracy"] >= 0.97, result
    assert hist["val_accuracy"][-1] == result["accuracy"]
    assert hist["loss"][-1] < hist["loss"][0] / 10


def test_digits_one_epoch_matches_keras_fit():
    """The same 64-64-10 net, initial weights and batches (no shuffling) trained one epoch by
    Keras' model.fit and by refnet's fit (float64, Adam) end on the same weights (TOL1 grown
    by sqrt(steps)), and report the same epoch loss (Keras' loss tracker is float32).
    1347 rows in batches of 32: 42 full batches and a last one of 3, averaged over its size.
    """
    pytest.importorskip("tensorflow")
    pytest.importorskip("sklearn")
    import keras

    from crosscheck import compare_tensor, to_keras
    from crosscheck.frameworks.tf.training import keras_mirror, keras_optimizer
    from crosscheck.training_report import training_rtol

    X_train, y_train, _, _ = refnet.datasets.digits(seed=0)
    net = refnet.Network.build([64, 64, 10], ["relu", "linear"], seed=0)
    model = to_keras(net)
    opt = Adam(0.01)
    model.compile(
        optimizer=keras_optimizer(opt),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, dtype="float64"
        ),
    )
    k_hist = model.fit(
        X_train, y_train, batch_size=32, epochs=1, shuffle=False, verbose=0
    )
    r_hist = net.fit(
        X_train,
        y_train,
        "softmax_cross_entropy",
        keras_mirror(opt),
        epochs=1,
        batch_size=32,
        shuffle=False,
        progress=False,
    )
    steps = math.ceil(len(X_train) / 32)
    assert steps == 43
    rtol = training_rtol("float64", 64, 2, steps)  # n: the longest reduction, fan-in 64
    for name, got, ref in zip(
        ["W1", "b1", "W2", "b2"], net.get_weights(), model.get_weights()
    ):
        row = compare_tensor(name, got, ref, rtol)
        assert row.ok, row
    assert r_hist["loss"][0] == pytest.approx(k_hist.history["loss"][0], rel=1e-6)


# --- fit --------------------------------------------------------------------------------------


def _toy(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)


def test_fit_batches_are_manual_gradient_steps_with_a_smaller_last_batch():
    """fit = a loop of gradients + apply over batches 4, 4, 2 (the last averaged over its own
    2 rows); the epoch loss is the batch losses weighted by batch size; accuracy counted
    from each batch's forward pass, as Keras reports them."""
    X, y = _toy(10)
    net = refnet.Network.build([3, 4, 2], seed=1)
    manual = copy.deepcopy(net)
    hist = net.fit(
        X,
        y,
        "softmax_cross_entropy",
        SGD(0.1),
        epochs=1,
        batch_size=4,
        shuffle=False,
        progress=False,
    )
    opt = SGD(0.1)
    total, correct = 0.0, 0
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        res = manual.gradients(X[rows], y[rows], "softmax_cross_entropy")
        opt.apply(manual, res)
        total += res.loss * len(y[rows])
        correct += int((res.a[-1].argmax(axis=1) == y[rows]).sum())
    for a, b in zip(net.get_weights(), manual.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert hist["loss"] == [pytest.approx(total / 10, rel=1e-15)]
    assert hist["accuracy"] == [correct / 10]


def test_fit_shuffling_is_reproducible_from_the_seed():
    X, y = _toy(20)
    runs = []
    for seed in (5, 5, 6):
        net = refnet.Network.build([3, 4, 2], seed=1)
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            Adam(0.01),
            epochs=3,
            batch_size=4,
            seed=seed,
            progress=False,
        )
        runs.append(net.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1]))
    assert not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[2]))


def test_fit_one_epoch_at_a_time_with_a_generator_equals_one_call():
    """Passing one numpy Generator as seed continues its stream: N calls of one epoch give the
    same batches as one call of N epochs (what `refnet train` relies on)."""
    X, y = _toy(20)
    a = refnet.Network.build([3, 4, 2], seed=1)
    b = copy.deepcopy(a)
    opt_a, opt_b = Adam(0.01), Adam(0.01)
    a.fit(
        X,
        y,
        "softmax_cross_entropy",
        opt_a,
        epochs=3,
        batch_size=6,
        seed=9,
        progress=False,
    )
    gen = np.random.default_rng(9)
    for _ in range(3):
        b.fit(
            X,
            y,
            "softmax_cross_entropy",
            opt_b,
            epochs=1,
            batch_size=6,
            seed=gen,
            progress=False,
        )
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_fit_history_keys_and_validation():
    X, y = _toy(12)
    net = refnet.Network.build([3, 4, 2], seed=1)
    hist = net.fit(
        X,
        y,
        "softmax_cross_entropy",
        "adam",
        epochs=2,
        batch_size=5,
        validation_data=(X[:4], y[:4]),
        progress=False,
    )
    assert list(hist) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 2 for v in hist.values())
    assert (
        hist["val_loss"][-1]
        == net.evaluate(X[:4], y[:4], "softmax_cross_entropy")["loss"]
    )


def test_fit_float32_stays_float32():
    X, y = _toy(12)
    net = refnet.Network.build([3, 4, 2], seed=1, dtype="float32")
    net.fit(
        X, y, "softmax_cross_entropy", Adam(), epochs=2, batch_size=5, progress=False
    )
    assert all(w.dtype == np.float32 for w in net.get_weights())
    assert net.predict(X).dtype == np.float32


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_only(monkeypatch):
    """progress=True: a tqdm bar (with loss and accuracy) when stderr is a terminal; nothing
    on a pipe; progress=False never; without tqdm installed training runs bar-less."""
    pytest.importorskip("tqdm")
    X, y = _toy(12)
    net = refnet.Network.build([3, 4, 2], seed=1)
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    net.fit(X, y, "softmax_cross_entropy", SGD(), epochs=2, batch_size=5)
    out = fake.getvalue()
    assert "epoch 2/2" in out and "loss=" in out and "accuracy=" in out
    fake.seek(0), fake.truncate()
    net.fit(X, y, "softmax_cross_entropy", SGD(), epochs=1, progress=False)
    assert fake.getvalue() == ""
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm -> ImportError
    hist = net.fit(X, y, "softmax_cross_entropy", SGD(), epochs=1)
    assert fake.getvalue() == "" and len(hist["loss"]) == 1
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    monkeypatch.delitem(sys.modules, "tqdm")
    net.fit(X, y, "softmax_cross_entropy", SGD(), epochs=1)
    assert pipe.getvalue() == ""


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"X": np.ones((10, 4))}, ValueError, r"X: expected 3 features"),
        ({"Y": np.zeros(9, int)}, ValueError, r"Y: expected 10 rows"),
        ({"Y": np.full(10, 2)}, ValueError, r"Y: class ids must lie in \[0, 1\]"),
        ({"X": np.full((10, 3), np.nan)}, ValueError, "X: expected finite"),
        ({"X": np.ones((0, 3)), "Y": np.zeros(0, int)}, ValueError, "X: expected at least one row"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"epochs": 1.5}, TypeError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"optimizer": "adagrad"}, ValueError, "optimizer: unknown name"),
        ({"optimizer": 0.1}, TypeError, "optimizer"),
        ({"loss": "poisson"}, ValueError, "loss: unknown name"),
        ({"seed": "abc"}, TypeError, "seed"),
        ({"validation_data": np.ones((3, 3))}, ValueError, "validation_data"),
        ({"validation_data": (np.ones((3, 3)), [0, 1])}, ValueError, "Y_val: expected 3 rows"),
        ({"validation_data": (np.ones((3, 2)), [0, 1, 1])}, ValueError, "X_val: expected 3 features"),
        ({"validation_data": (np.ones((3, 3)), [0, 1, 5])}, ValueError, r"Y_val: class ids"),
    ],
)  # fmt: skip
def test_fit_rejects_bad_input(kwargs, exc, match):
    X, y = _toy(10)
    net = refnet.Network.build([3, 4, 2], seed=1)
    before = net.get_weights()
    args = {
        "X": X,
        "Y": y,
        "loss": "softmax_cross_entropy",
        "optimizer": SGD(),
    } | kwargs
    with pytest.raises(exc, match=match):
        net.fit(**args, progress=False)
    for a, b in zip(before, net.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing trained


# --- predict / evaluate ---------------------------------------------------------------------------


def test_predict_in_batches_equals_forward():
    X, _ = _toy(11)
    net = refnet.Network.build([3, 4, 2], seed=1)
    np.testing.assert_allclose(net.predict(X, batch_size=4), net.forward(X), rtol=1e-15)
    np.testing.assert_array_equal(net.predict(X), net.forward(X))
    with pytest.raises(ValueError, match="batch_size"):
        net.predict(X, batch_size=0)
    with pytest.raises(ValueError, match="X: expected 3 features"):
        net.predict(np.ones((2, 2)), batch_size=4)


def test_evaluate_loss_and_accuracy_by_hand():
    """accuracy = fraction of rows whose largest logit is the label; loss = -mean log softmax."""
    net = refnet.Network.build([2, 2], ["linear"])
    net.set_weights([np.eye(2), np.zeros(2)])  # logits = X
    X = np.array([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [0.0, 0.5]])
    y = np.array([0, 1, 1, 0])  # rows 0, 1 right; 2, 3 wrong
    out = net.evaluate(X, y, "softmax_cross_entropy")
    want = (
        -sum(
            z[k] - math.log(math.exp(z[0]) + math.exp(z[1]))
            for z, k in zip(X.tolist(), y)
        )
        / 4
    )
    assert out == {"loss": pytest.approx(want, rel=1e-14), "accuracy": 0.5}
    assert (
        net.evaluate(X, y[:, None] == [0, 1], "softmax_cross_entropy")["accuracy"]
        == 0.5
    )
    assert list(net.evaluate(X, X, "mse")) == ["loss"]
    binary = refnet.Network.build([2, 1], ["linear"])
    binary.set_weights([np.array([[1.0], [-1.0]]), np.zeros(1)])  # z = x1 - x2
    assert binary.evaluate(X, [1, 0, 0, 1], "binary_cross_entropy")["accuracy"] == 0.5
    with pytest.raises(ValueError, match="Y: expected 4 rows"):
        net.evaluate(X, y[:3], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="loss: unknown name"):
        net.evaluate(X, y, "nope")


# --- save / load --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trips_exactly(tmp_path, dtype):
    X, y = _toy(10)
    net = refnet.Network.build(
        [3, 5, 4, 2], ["tanh", "sigmoid", "softmax"], seed=2, dtype=dtype
    )
    net.fit(
        X,
        y,
        "categorical_cross_entropy",
        Adam(0.01),
        epochs=2,
        batch_size=3,
        progress=False,
    )
    path = tmp_path / "model.npz"
    net.save(path)
    back = refnet.Network.load(path)
    assert back.sizes == net.sizes and back.activations == net.activations
    assert back.dtype == net.dtype
    for a, b in zip(net.get_weights(), back.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predict(X), net.predict(X))
    assert sorted(np.load(path, allow_pickle=False).files) == sorted(
        [
            "refnet_format",
            "sizes",
            "activations",
            "dtype",
            "W1",
            "b1",
            "W2",
            "b2",
            "W3",
            "b3",
        ]
    )


def test_resumed_training_from_a_load_continues_identically(tmp_path):
    """Train 2 epochs, save, load, train 2 more with the same optimizer (state) and shuffling
    stream: the same weights as 4 epochs straight."""
    X, y = _toy(20)
    straight = refnet.Network.build([3, 6, 2], seed=3)
    resumed = copy.deepcopy(straight)
    straight.fit(
        X,
        y,
        "softmax_cross_entropy",
        Adam(0.01),
        epochs=4,
        batch_size=6,
        seed=1,
        progress=False,
    )
    opt, gen = Adam(0.01), np.random.default_rng(1)
    resumed.fit(
        X,
        y,
        "softmax_cross_entropy",
        opt,
        epochs=2,
        batch_size=6,
        seed=gen,
        progress=False,
    )
    resumed.save(tmp_path / "half.npz")
    loaded = refnet.Network.load(tmp_path / "half.npz")
    loaded.fit(
        X,
        y,
        "softmax_cross_entropy",
        opt,
        epochs=2,
        batch_size=6,
        seed=gen,
        progress=False,
    )
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def _write(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def test_load_rejects_missing_corrupt_and_mismatched_files(tmp_path):
    net = refnet.Network.build([3, 4, 2], seed=0)
    good = tmp_path / "good.npz"
    net.save(good)
    contents = dict(np.load(good, allow_pickle=False))

    with pytest.raises(FileNotFoundError, match="no such file"):
        refnet.Network.load(tmp_path / "absent.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="junk.npz.*not a refnet .npz"):
        refnet.Network.load(tmp_path / "junk.npz")
    (tmp_path / "cut.npz").write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="cut.npz"):
        refnet.Network.load(tmp_path / "cut.npz")
    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(ValueError, match="single.npy"):
        refnet.Network.load(tmp_path / "single.npy")
    _write(
        tmp_path / "pickled.npz", **contents, extra=np.array([{"a": 1}], dtype=object)
    )
    with pytest.raises(ValueError, match="pickled.npz"):
        refnet.Network.load(tmp_path / "pickled.npz")

    cases = {
        "no_format": (
            {k: v for k, v in contents.items() if k != "refnet_format"},
            "missing",
        ),
        "version": (contents | {"refnet_format": np.array(99)}, "refnet_format 1"),
        "sizes": (contents | {"sizes": np.array([3])}, "sizes"),
        "acts": (contents | {"activations": np.array(["relu"])}, "2 activation names"),
        "act_name": (contents | {"activations": np.array(["relu", "nope"])}, "nope"),
        "dtype": (contents | {"dtype": np.array("int8")}, "dtype"),
        "shape": (contents | {"W2": np.zeros((4, 3))}, r"W2: expected shape \(4, 2\)"),
        "wdtype": (
            contents | {"b1": np.zeros(4, np.float32)},
            "b1: expected shape .* float64",
        ),
        "missing": ({k: v for k, v in contents.items() if k != "b2"}, "missing b2"),
        "nan": (contents | {"W1": np.full((3, 4), np.nan)}, "finite"),
    }
    for name, (arrays, match) in cases.items():
        path = tmp_path / f"{name}.npz"
        _write(path, **arrays)
        with pytest.raises(ValueError, match=match):
            refnet.Network.load(path)


def test_evaluate_accuracy_is_a_python_float_equal_to_fits():
    """One accuracy for fit and evaluate: the same fraction, evaluate's a plain float."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 2, 20)
    for loss, Y in [("softmax_cross_entropy", y), ("binary_cross_entropy", y[:, None])]:
        net = refnet.Network.build([3, 4, 2 if Y.ndim == 1 else 1], seed=0)
        acc = net.evaluate(X, Y, loss)["accuracy"]
        assert type(acc) is float
        assert acc == refnet.training.accuracy(net.forward(X), Y, loss)
        a = net.forward(X)
        want = (a.argmax(axis=1) == y) if Y.ndim == 1 else ((a > 0) == (Y > 0.5))
        assert acc == float(np.mean(want))


# issue 21: a plausible bug that once passed the whole suite
def test_fit_accuracy_of_a_shuffled_epoch_scores_each_row_against_its_own_label():
    """With a learning rate too small to change any prediction, an epoch's accuracy
    is the accuracy of the network before it, computed here with argmax directly."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 5))
    y = rng.integers(0, 3, size=120)
    net = refnet.Network.build([5, 8, 3], ["tanh", "linear"], seed=4)
    before = float(np.mean(np.argmax(net.forward(X), axis=1) == y))
    hist = net.fit(
        X,
        y,
        "softmax_cross_entropy",
        SGD(1e-12),
        epochs=1,
        batch_size=16,
        seed=7,
        progress=False,
    )
    assert hist["accuracy"][0] == pytest.approx(before, abs=1e-12)


def test_accuracy_of_the_new_losses_by_hand():
    """hinge/squared_hinge score each output by its sign against y > 0 (labels 0/1 or
    -1/+1); KL divergence and categorical_hinge by the argmax of the row."""
    from refnet.training import accuracy

    a = np.array([[0.3, -2.0], [-0.1, 0.4], [1.5, 0.2]])
    # signs: (+, -), (-, +), (+, +); labels: 4 of 6 entries agree
    for Y in (np.array([[1, 0], [1, 1], [1, 0]]), np.array([[1, -1], [1, 1], [1, -1]])):
        for name in ("hinge", "squared_hinge"):
            assert accuracy(a, Y, name) == 4 / 6
    # argmax per row: 0, 1, 0 against classes 0, 0, 0
    for name in ("kl_divergence", "categorical_hinge"):
        assert accuracy(a, np.array([0, 0, 0]), name) == 2 / 3
        assert accuracy(a, np.eye(2)[[0, 0, 0]], name) == 2 / 3


def test_fit_and_evaluate_report_accuracy_for_the_new_losses():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    c = (X[:, 0] + X[:, 1] > 0).astype(int)
    for loss, Y, out, k in [
        ("kl_divergence", c, "softmax", 2),
        ("hinge", 2.0 * c[:, None] - 1, "linear", 1),
        ("squared_hinge", c[:, None].astype(float), "tanh", 1),
        ("categorical_hinge", c, "linear", 2),
    ]:
        net = refnet.Network.build([4, 8, k], ["tanh", out], seed=0)
        history = net.fit(X, Y, loss, "adam", epochs=40, batch_size=16, progress=False)
        assert history["loss"][-1] < history["loss"][0], loss
        scores = net.evaluate(X, Y, loss)
        assert scores["accuracy"] > 0.8, (loss, scores)  # a linearly separable task
