"""`refnet train`: digits (scikit-learn) and MNIST (local files), plot and save."""

from __future__ import annotations

import re

import numpy as np
import pytest

import refnet
from refnet.cli import main


def test_train_digits_acceptance_command_reaches_97_percent(capsys, tmp_path):
    """The issue's command prints one line per epoch and a test accuracy >= 97 %; the saved
    model reproduces the printed accuracy; the plot is a PNG."""
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    model, plot = tmp_path / "digits.npz", tmp_path / "loss.png"
    argv = ["train", "digits", "--layout", "64-64-10", "--activations", "relu,linear",
            "--loss", "softmax_cross_entropy", "--optimizer", "adam", "--epochs", "30",
            "--save", str(model), "--plot", str(plot)]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "epoch 1/30" in out and "epoch 30/30" in out and "val_accuracy" in out
    accuracy = float(re.search(r"test accuracy: ([\d.]+) %", out).group(1))
    assert accuracy >= 97.0, out
    X_train, y_train, X_test, y_test = refnet.datasets.digits(seed=0)
    net = refnet.Network.load(model)
    assert net.sizes == [64, 64, 10]
    got = net.evaluate(X_test, y_test, "softmax_cross_entropy")["accuracy"]
    assert 100 * got == pytest.approx(accuracy, abs=0.006)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_mnist_from_local_files(capsys, tmp_path):
    rng = np.random.default_rng(0)
    raw = {
        "x_train": rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, size=40).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, size=10).astype(np.uint8),
    }
    np.savez(tmp_path / "mnist.npz", **raw)
    argv = ["train", "mnist", "--data", str(tmp_path), "--layout", "784-16-10",
            "--optimizer", "sgd", "--epochs", "2", "--batch-size", "8", "--dtype", "float32"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "mnist: 40 train, 10 test rows" in out and "epoch 2/2" in out
    assert re.search(r"test accuracy: [\d.]+ % \(\d+/10\)", out)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "mnist"], "--data: expected the path"),
        (["train", "mnist", "--data", "/nonexistent/dir"], "no such file or directory"),
        (["train", "digits", "--layout", "10-5-10"], "--layout: expected 64 inputs"),
        (["train", "digits", "--optimizer", "adagrad"], "invalid choice"),
        (["train", "digits", "--learning-rate", "-1"], "learning_rate"),
        (["train", "digits", "--loss", "hinge"], "loss: unknown name"),
        (["train", "digits", "--data", "x"], "--data: only for mnist"),
        (
            ["train", "digits", "--plot", "/nonexistent/loss.png"],
            "--plot: expected an existing folder",
        ),
        (
            ["train", "digits", "--save", "/nonexistent/m.npz"],
            "--save: expected an existing folder",
        ),
    ],
)
def test_train_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    pytest.importorskip("sklearn")
    with pytest.raises(SystemExit) as exc:
        main(argv + ["--epochs", "1", "--quiet"])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_train_zero_epochs_is_an_error_not_the_default(capsys):
    """--epochs 0 must not fall back to the default of 30."""
    with pytest.raises(SystemExit) as exc:
        main(["train", "digits", "--epochs", "0", "--quiet"])
    assert exc.value.code == 2
    assert "--epochs: expected a positive int, got 0" in capsys.readouterr().err
