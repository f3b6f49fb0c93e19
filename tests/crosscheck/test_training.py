"""crosscheck's training comparison (crosscheck/training.py, training_report.py): the arguments, the report."""

from __future__ import annotations

import numpy as np
import pytest

import refnet


def test_the_training_report_keeps_each_tensors_worst_step():
    """A failing step must fail the row whichever step comes first (not the best step)."""
    pytest.importorskip("tensorflow")
    from crosscheck.training_report import Tracker

    w0 = [np.zeros((2, 2)), np.zeros(2)]
    ref = [np.ones((2, 2)), np.ones(2)]
    off = [np.ones((2, 2)) + 0.5, np.ones(2)]  # W1 wrong by 0.5: far beyond any rtol
    for bad_step in (1, 2):
        tracker = Tracker("update", w0, rtol=1e-12)
        for step in (1, 2):
            tracker.add(step, off if step == bad_step else ref, ref)
        rows = {r.name: r for r in tracker.rows()}
        assert not rows["update/W1"].ok
        assert rows["update/W1"].note.startswith(f"step {bad_step};")
        assert rows["update/b1"].ok


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 2.5}, TypeError, "batch_size: expected a positive int"),
        ({"batch_size": 0}, ValueError, "batch_size: expected a positive int"),
        ({"optimizer": "adam"}, None, None),  # a name gives Keras' defaults
        ({"optimizer": "nope"}, ValueError, "optimizer"),
    ],
)
def test_compare_training_arguments_are_named(kwargs, error, match):
    pytest.importorskip("tensorflow")
    from crosscheck.training import compare_training

    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    args = {"optimizer": refnet.optimizers.SGD(0.1), "steps": 2} | kwargs
    if error is None:
        assert compare_training(net, X, np.zeros((6, 2)), "mse", **args).ok
    else:
        with pytest.raises(error, match=match):
            compare_training(net, X, np.zeros((6, 2)), "mse", **args)


def test_compare_training_refuses_a_dropout_network():
    """Keras' fit-mode Dropout draws its own masks, refnet's steps take none: the
    comparison would fail falsely, so it is refused, naming net and the rates."""
    from crosscheck.training import compare_training

    net = refnet.Network.build([3, 4, 2], seed=0, dropout=0.25)
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(
        ValueError, match=r"net: .*without dropout, got rates \[0.25, 0.0\]"
    ):
        compare_training(net, X, np.zeros((6, 2)), "mse", refnet.optimizers.SGD(0.1))


# issue 21: a plausible bug that once passed the whole suite
def test_the_training_tolerance_grows_with_the_square_root_of_the_steps():
    """Independent rounding errors of s updates add up like a random walk: sqrt(s)."""
    from crosscheck.tolerance import policy_rtol
    from crosscheck.training_report import training_rtol

    base = policy_rtol("float32", 64, 2)
    assert training_rtol("float32", 64, 2, 16) == pytest.approx(4 * base)
    assert training_rtol("float32", 64, 2, 1) == pytest.approx(base)


def test_lr2_lr3_keras_schedules_written_for_the_oracle_give_the_hand_values():
    """LR2, LR3: the two LearningRateSchedule subclasses of the TF oracle (Keras has no
    power != 1 and no 1cycle) evaluated by Keras at the steps worked by hand: power 2,
    0.1 / (1 + 10 / 10)^2 = 0.025; OneCycle(0.1, 10): 0.004, 0.052 (half way up), 0.1 at
    t_1 = 2, 4e-7 from step 9 on (held past the cycle); three phases, linear, pct 0.25:
    0.004, 0.068, 0.068, 0.004. Keras' own InverseTimeDecay serves power 1."""
    pytest.importorskip("tensorflow")
    import math

    import keras

    from crosscheck.frameworks.tf.training import keras_schedule
    from refnet.optimizers import InverseTimeDecay, OneCycle

    def rates(schedule, steps):
        return [float(schedule(keras.ops.convert_to_tensor(t))) for t in steps]

    assert isinstance(
        keras_schedule(InverseTimeDecay(0.1, 10, 1.0)),
        keras.optimizers.schedules.InverseTimeDecay,
    )
    power = keras_schedule(InverseTimeDecay(0.1, 10, 1.0, power=2.0))
    assert rates(power, [0, 10, 30]) == pytest.approx([0.1, 0.025, 0.00625], rel=1e-15)
    cycle = keras_schedule(OneCycle(0.1, 10))
    down = 4e-7 + (0.1 - 4e-7) * (1 + math.cos(math.pi / 7)) / 2
    want = [0.004, 0.052, 0.1, down, 4e-7, 4e-7, 4e-7]
    assert rates(cycle, [0, 1, 2, 3, 9, 10, 100]) == pytest.approx(want, rel=1e-14)
    three = keras_schedule(OneCycle(0.1, 10, 0.25, "linear", three_phase=True))
    want = [0.004, 0.068, 0.068, 0.004, 0.0020002]
    assert rates(three, [0, 1, 2, 3, 6]) == pytest.approx(want, rel=1e-14)


def test_compare_training_takes_several_oracles_as_compare_does():
    """oracle=("tf", "torch"): one row per weight tensor, refnet against each; the row
    fails when one framework's rule differs (torch's RMSprop epsilon outside the
    square root, a documented difference), and says which one."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("torch")
    from crosscheck.training import compare_training

    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    Y = np.random.default_rng(1).normal(size=(6, 2))
    sgd = refnet.optimizers.SGD(0.1, momentum=0.9, nesterov=True)
    both = compare_training(net, X, Y, "mse", sgd, steps=3, oracle=("tf", "torch"))
    assert both.ok, str(both)
    assert all(list(row.oracles) == ["tf", "torch"] for row in both.rows)
    assert [r.name for r in both.rows] == [
        r.name for r in compare_training(net, X, Y, "mse", sgd, steps=3).rows
    ]
    assert "vs TF, torch" in both.title
    legend = str(both).splitlines()[1].strip()  # no pairs in training rows
    assert legend == "err/tol: refnet vs each oracle", legend
    rms = refnet.optimizers.RMSprop(0.01, epsilon=1e-7)
    split = compare_training(net, X, Y, "mse", rms, steps=3, oracle=["tf", "torch"])
    row = split.rows[0]
    assert not split.ok and row.oracles["tf"].ok and not row.oracles["torch"].ok
    assert "torch: RMSprop with epsilon" in " ".join(split.notes)


@pytest.mark.parametrize(
    "oracle, error, match",
    [
        ((), ValueError, "oracle: expected at least one of"),
        (5, TypeError, "oracle: expected None, a name or a tuple of names"),
        (("tf", "nope"), ValueError, r"oracle: expected one of \["),
        ("nope", ValueError, "oracle: expected one of"),
    ],
)
def test_compare_training_names_a_bad_oracle(oracle, error, match):
    from crosscheck.training import compare_training

    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.zeros((6, 3))
    with pytest.raises(error, match=match):
        compare_training(net, X, X[:, :2], "mse", "sgd", 2, oracle=oracle)


def test_a_training_slot_missing_a_package_it_needs_is_skipped_with_a_note(monkeypatch):
    """JAX installed without optax: no JAX training rows, a note naming optax, and the
    other frameworks' rows still run (the main job does not stop at the first row)."""
    import importlib.util

    from crosscheck import training

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "optax" else real(name, *a),
    )
    have, notes = training.training_frameworks(["tf", "jax"])
    assert have == ["tf"]
    assert notes == ["JAX: no training rows (optax not installed: pip install optax)"]
