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


# issue 21: a plausible bug that once passed the whole suite
def test_the_training_tolerance_grows_with_the_square_root_of_the_steps():
    """Independent rounding errors of s updates add up like a random walk: sqrt(s)."""
    from crosscheck.tolerance import policy_rtol
    from crosscheck.training_report import training_rtol

    base = policy_rtol("float32", 64, 2)
    assert training_rtol("float32", 64, 2, 16) == pytest.approx(4 * base)
    assert training_rtol("float32", 64, 2, 1) == pytest.approx(base)
