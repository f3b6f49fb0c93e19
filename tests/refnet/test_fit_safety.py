"""fit never ends in a silently broken model, and a Ctrl-C lands on a step boundary.

Reliability review W2 (a diverging fit returned a NaN model, or raised and left NaN
weights), W7 (a KeyboardInterrupt could leave a half-applied optimizer step) and the
lost history of finished epochs. The reference for "the last good step" is an
independent loop of public calls: ``net.gradients`` then ``optimizer.apply``, step by
step, on the same batches (fit's shuffling replayed from the same seed).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import refnet
from refnet import files, optimizers
from refnet.training import Diverged, SetupWarning

ROOT = Path(__file__).resolve().parents[2]


def data(n=64, n_in=8, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n_in)), rng.integers(0, k, size=n)


def public_steps(net, X, y, loss, optimizer, epochs, batch_size, seed):
    """Weights after every step (index 0: before any), and each step's loss, by the public
    API; stops at the first non-finite loss, as fit must."""
    rng = np.random.default_rng(seed)
    states, values = [net.get_weights()], []
    with np.errstate(all="ignore"):
        for _ in range(epochs):
            order = rng.permutation(X.shape[0])
            for start in range(0, X.shape[0], batch_size):
                rows = order[start : start + batch_size]
                res = net.gradients(X[rows], y[rows], loss)
                values.append(res.loss)
                if not np.isfinite(res.loss):
                    return states, values
                try:
                    optimizer.apply(net, res)
                except ValueError:  # non-finite gradients: apply refuses them
                    return states, values
                states.append(net.get_weights())
    return states, values


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: optimizers.RMSprop(1e308),
        lambda: optimizers.SGD(1e30),
        lambda: optimizers.Adam(1e200),
    ],
    ids=["rmsprop-1e308", "sgd-1e30", "adam-1e200"],
)
def test_divergence_restores_the_last_good_step_and_names_learning_rate(make_optimizer):
    X, y = data()
    net = refnet.Network.build([8, 16, 3], seed=0)
    ref = refnet.Network.build([8, 16, 3], seed=0)
    states, values = public_steps(
        ref, X, y, "softmax_cross_entropy", make_optimizer(), 3, 16, 1
    )
    with pytest.raises(Diverged) as info, np.errstate(all="ignore"):
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            make_optimizer(),
            epochs=3,
            batch_size=16,
            seed=1,
            progress=False,
            threads="all",
        )
    err = info.value
    assert str(err).startswith("learning_rate: training diverged at epoch ")
    assert f"step {err.step}" in str(err) and isinstance(err.history, dict)
    # the public loop saw its first non-finite loss at the same step of fit
    bad = len(values)
    assert not np.isfinite(values[-1]) or bad == len(states)
    assert err.restored_step == max(bad - 2, 0)
    for got, want in zip(net.get_weights(), states[err.restored_step]):
        np.testing.assert_array_equal(got, want)
    assert all(np.isfinite(w).all() for w in net.get_weights())
    assert np.isfinite(net.predict(X)).all()


@pytest.mark.parametrize(
    "optimizer",
    [optimizers.RMSprop(1e308), optimizers.SGD(1e308)],
    ids=["rmsprop", "sgd"],
)
def test_a_last_update_that_overflows_is_undone(optimizer):
    """One step only: its loss is finite, the update makes the weights inf (RMSprop) or so
    large the output overflows (SGD): the review's "returns a model that predicts NaN".
    fit raises and the net holds the weights it was given."""
    X, y = data(n=16)
    net = refnet.Network.build([8, 16, 3], seed=0)
    before = net.get_weights()
    with (
        pytest.raises(Diverged, match="after its last step") as info,
        np.errstate(all="ignore"),
    ):
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            optimizer,
            epochs=1,
            batch_size=16,
            progress=False,
        )
    assert info.value.restored_step == 0
    for got, want in zip(net.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_the_optimizer_state_is_restored_too():
    """Adam's moments and step count go back with the weights: resuming after a smaller
    learning rate continues from the last good step, not from poisoned moments."""
    X, y = data()
    net = refnet.Network.build([8, 16, 3], seed=0)
    opt = optimizers.Adam(1e200)
    with pytest.raises(Diverged) as info, np.errstate(all="ignore"):
        net.fit(
            X,
            y,
            "softmax_cross_entropy",
            opt,
            epochs=2,
            batch_size=16,
            seed=0,
            progress=False,
        )
    assert opt.iterations == info.value.restored_step
    assert all(np.isfinite(s).all() for slots in opt.state.values() for s in slots)


def test_fit_warns_about_classic_mistakes():
    X, y = data(n=8)
    net = refnet.Network.build([8, 4, 3], ["relu", "softmax"], seed=0)
    with pytest.warns(SetupWarning, match="softmax is applied twice"):
        net.fit(X, y, "softmax_cross_entropy", "sgd", progress=False)
    net = refnet.Network.build([8, 4, 3], "relu", seed=0)  # one name for every layer
    with pytest.warns(SetupWarning, match="the output layer is relu"):
        net.fit(X, y, "softmax_cross_entropy", "sgd", progress=False)


def test_fit_refuses_training_beyond_free_memory(monkeypatch):
    X, y = data(n=8)
    net = refnet.Network.build([8, 4, 3], seed=0)
    monkeypatch.setattr(files, "available_memory", lambda: 1000)  # bytes
    with pytest.raises(
        ValueError, match=r"optimizer: training 8-4-3 with Adam .* needs"
    ):
        net.fit(X, y, "softmax_cross_entropy", "adam", progress=False)


def test_sigint_at_random_moments_lands_on_a_step_boundary(tmp_path):
    """20 fits, each interrupted by a SIGINT at a random moment: every time the weights
    equal the public loop's after exactly ``optimizer.iterations`` whole steps, and the
    exception carries the finished epochs' history."""
    code = textwrap.dedent(
        """
        import os, random, signal, threading, time
        import numpy as np, refnet
        from refnet import optimizers
        # Python's own default (a shell may start a background job with SIGINT ignored)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        rng = np.random.default_rng(0)
        X, y = rng.normal(size=(512, 32)), rng.integers(0, 10, size=512)
        random.seed(1)
        for trial in range(20):
            net = refnet.Network.build([32, 64, 64, 10], seed=trial)
            opt = optimizers.SGD(0.01, momentum=0.9)
            delay = random.uniform(0.01, 0.1)
            try:
                threading.Timer(delay, os.kill, (os.getpid(), signal.SIGINT)).start()
                try:
                    net.fit(X, y, "softmax_cross_entropy", opt, epochs=200, batch_size=32,
                            seed=trial, progress=False, threads="all")
                    print("finished", trial)
                    continue
                except KeyboardInterrupt as err:
                    history = getattr(err, "history", None)
                    if history is None and opt.iterations == 0:
                        # in fit's checks, before its loop holds Ctrl-C (a loaded
                        # machine): no step to land on, so not a trial
                        print("missed", trial)
                        continue
            except KeyboardInterrupt:  # arrived before fit started: not a trial
                print("missed", trial)
                continue
            ref = refnet.Network.build([32, 64, 64, 10], seed=trial)
            ref_opt = optimizers.SGD(0.01, momentum=0.9)
            order_rng = np.random.default_rng(trial)
            steps = 0
            while steps < opt.iterations:
                order = order_rng.permutation(512)
                for start in range(0, 512, 32):
                    if steps == opt.iterations:
                        break
                    rows = order[start:start + 32]
                    ref_opt.apply(ref, ref.gradients(X[rows], y[rows], "softmax_cross_entropy"))
                    steps += 1
            same = all(np.array_equal(a, b) for a, b in zip(net.get_weights(), ref.get_weights()))
            epochs_done = opt.iterations // 16
            print("trial", trial, "steps", opt.iterations, "same", same,
                  "history", None if history is None else len(history["loss"]) == epochs_done)
        """
    )
    # One BLAS thread on both sides: the same sums, and no spinning threads on a loaded
    # machine (threads="all" in fit then means that one thread too).
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = [line for line in proc.stdout.splitlines() if line.startswith("trial")]
    assert len(trials) >= 16, proc.stdout  # (a fit that finished first is not a trial)
    bad = [
        line for line in trials if "same True" not in line or "history True" not in line
    ]
    assert not bad, "\n".join(bad)


# issue 21: a plausible bug that once passed the whole suite
class _BreaksAt(optimizers.SGD):
    """SGD whose update number ``at`` (0-based) makes every weight inf, and that keeps
    a copy of the weights just before it: the last good state."""

    def __init__(self, at: int):
        super().__init__(0.01)
        self.at, self.good = at, None

    def update_all(self, weights, grads):
        if self.iterations == self.at:
            self.good = [w.copy() for w in weights]
        super().update_all(weights, grads)
        if self.iterations - 1 == self.at:
            for w in weights:
                w[...] = np.inf


def test_a_divergence_at_an_epochs_first_step_restores_the_last_good_weights():
    """The last update of epoch 1 breaks the weights; epoch 2's first loss is inf:
    the net must hold the weights from before that update, not the broken ones."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(32, 3)), rng.normal(size=(32, 2))
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    opt = _BreaksAt(at=3)  # 32 rows / batch 8 = 4 steps: update 3 ends epoch 1
    with pytest.raises(refnet.training.Diverged):
        net.fit(X, Y, "mse", opt, epochs=2, batch_size=8, shuffle=False, progress=False)
    assert all(np.array_equal(w, g) for w, g in zip(net.get_weights(), opt.good))


def test_fit_warns_about_tutorial_1s_double_squash():
    """Tutorial 1's 784-256-128-64-10 model ends in Dense(10, sigmoid) and then takes
    tf.nn.softmax: softmax of values in (0, 1). With softmax_cross_entropy (which applies
    softmax itself) a sigmoid output is that double squash, and the warning quotes its
    bound: no class above e / (e + 9) = 0.232, so the loss stays above 1.461."""
    X, _ = data(n=8)
    y = np.arange(8) % 10
    net = refnet.Network.build([8, 6, 10], ["relu", "sigmoid"], seed=0)
    with pytest.warns(SetupWarning, match="double squash") as record:
        net.fit(X, y, "softmax_cross_entropy", "sgd", progress=False)
    message = str(record[0].message)
    assert "p <= 0.232 for 10 classes" in message and "below 1.461" in message
    # the bound itself, independently: the most confident sigmoid output there is
    s = np.array([1.0] + [0.0] * 9)  # sigmoid's limits, one class high, nine low
    p = np.exp(s) / np.exp(s).sum()
    assert round(float(p.max()), 3) == 0.232 and round(float(-np.log(p[0])), 3) == 1.461
    # and the tutorial's own output, softmax of sigmoid outputs, stays in that band
    out = net.forward(X)
    soft = np.exp(out) / np.exp(out).sum(axis=1, keepdims=True)
    assert soft.max() <= 0.232


@pytest.mark.parametrize(
    "acts, loss, warning",
    [
        (["relu", "tanh"], "softmax_cross_entropy", "double squash"),
        (
            ["relu", "linear"],
            "kl_divergence",
            "kl_divergence compares probability rows",
        ),
        (["relu", "sigmoid"], "hinge", "no -1 label can reach its margin"),
        (["relu", "relu"], "squared_hinge", "no -1 label can reach its margin"),
        (["relu", "softmax"], "categorical_hinge", "only a saturated output"),
    ],
)
def test_setup_warnings_for_the_new_losses(acts, loss, warning):
    X, y = data(n=8)
    Y = (
        y
        if loss in ("softmax_cross_entropy", "kl_divergence", "categorical_hinge")
        else (np.eye(3)[y])
    )
    net = refnet.Network.build([8, 4, 3], acts, seed=0)
    with pytest.warns(SetupWarning, match=warning):
        net.fit(X, Y, loss, "sgd", progress=False)


@pytest.mark.parametrize(
    "acts, loss",
    [
        (["relu", "softmax"], "kl_divergence"),
        (["relu", "linear"], "hinge"),
        (["relu", "tanh"], "squared_hinge"),
        (["relu", "linear"], "categorical_hinge"),
    ],
)
def test_the_intended_output_layers_give_no_warning(acts, loss):
    X, y = data(n=8)
    Y = np.eye(3)[y] if loss in ("hinge", "squared_hinge") else y
    net = refnet.Network.build([8, 4, 3], acts, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SetupWarning)
        net.fit(X, Y, loss, "sgd", progress=False)
