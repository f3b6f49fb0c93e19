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
    argv = [
        "train",
        "digits",
        "--layout",
        "64-64-10",
        "--activations",
        "relu,linear",
        "--loss",
        "softmax_cross_entropy",
        "--optimizer",
        "adam",
        "--epochs",
        "30",
        "--save",
        str(model),
        "--plot",
        str(plot),
    ]
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
    argv = [
        "train",
        "mnist",
        "--data",
        str(tmp_path),
        "--layout",
        "784-16-10",
        "--optimizer",
        "sgd",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--dtype",
        "float32",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert (
        "mnist: 36 train, 4 validation (split off the training data), 10 test rows"
        in out
    )
    assert "epoch 2/2" in out
    assert re.search(r"test accuracy: [\d.]+ % \(\d+/10\)", out)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "mnist"], "--data: expected the path"),
        (["train", "mnist", "--data", "/nonexistent/dir"], "no such file or directory"),
        (["train", "digits", "--layout", "10-5-10"], "--layout: expected 64 inputs"),
        (["train", "digits", "--optimizer", "adagrad"], "invalid choice"),
        (
            ["train", "digits", "--learning-rate", "-1"],
            "--learning-rate: expected a float > 0",
        ),
        (["train", "digits", "--loss", "poisson"], "loss: unknown name"),
        (["train", "digits", "--data", "x"], "--data: only for mnist"),
        (
            ["train", "digits", "--plot", "/nonexistent/loss.png"],
            "--plot: expected an existing folder",
        ),
        (
            ["train", "digits", "--save", "/nonexistent/m.npz"],
            "--save: expected an existing folder",
        ),
        (
            ["train", "digits", "--plot", "curve"],
            "--plot: expected a file name ending in",
        ),
        (
            ["train", "digits", "--batch-size", "0"],
            "--batch-size: expected a positive int",
        ),
        (["train", "digits", "--seed", "-1"], "--seed: expected an int >= 0, got -1"),
        (
            ["train", "digits", "--layout", "64-0-10"],
            "--layout: expected a positive int",
        ),
        (["train", "digits", "--dropout", "1"], "--dropout: expected a rate in [0, 1)"),
        (
            ["train", "digits", "--layout", "64-10", "--dropout", "0.3"],
            "--dropout: expected 0 for a network without hidden layers",
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


def test_train_splits_validation_off_the_training_rows_and_scores_test_once(
    capsys, monkeypatch
):
    """val_loss comes from the last 10 % of the training rows (Keras' validation_split),
    never from the test set, which is evaluated once, after the last epoch."""
    pytest.importorskip("sklearn")
    X_train, y_train, X_test, y_test = refnet.datasets.digits(seed=0)
    seen = []
    real_fit = refnet.Network.fit

    def spy_fit(self, X, Y, *args, validation_data=None, **kwargs):
        seen.append((len(X), validation_data[0]))
        return real_fit(self, X, Y, *args, validation_data=validation_data, **kwargs)

    monkeypatch.setattr(refnet.Network, "fit", spy_fit)
    assert main(["train", "digits", "--epochs", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    n_val = round(0.1 * len(X_train))
    assert f"{len(X_train) - n_val} train, {n_val} validation" in out
    for n_fit, X_val in seen:
        assert n_fit == len(X_train) - n_val
        np.testing.assert_array_equal(X_val, X_train[-n_val:])  # not X_test


def test_train_mse_on_class_labels_one_hot_encodes_them(capsys):
    """--loss mse (as tutorial 4 trains MNIST) takes one-hot rows built from the labels."""
    pytest.importorskip("sklearn")
    argv = ["train", "digits", "--loss", "mse", "--epochs", "10", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"test accuracy: ([\d.]+) %", out).group(1))
    assert accuracy > 90.0, out  # far above chance (10 %): the targets are right


@pytest.mark.parametrize(
    "argv, warning",
    [
        (["--activations", "relu"], "the output layer is relu"),
        (["--activations", "relu,softmax"], "softmax is applied twice"),
        (["--loss", "categorical_cross_entropy"], "expects probabilities"),
        (["--activations", "relu,sigmoid"], "p <= 0.232 for 10 classes"),
        (["--loss", "hinge", "--activations", "relu,sigmoid"], "never negative"),
    ],
)
def test_train_warns_about_classic_mistakes(argv, warning, capsys):
    """Each set-up that trains badly is named; relu,sigmoid is tutorial 1's double
    squash (a sigmoid output under softmax_cross_entropy's softmax), quoted for k = 10."""
    pytest.importorskip("sklearn")
    assert main(["train", "digits", "--epochs", "1", "--quiet", *argv]) == 0
    assert warning in capsys.readouterr().err


def test_train_rejects_a_validation_split_outside_0_1(capsys):
    pytest.importorskip("sklearn")
    with pytest.raises(SystemExit):
        main(["train", "digits", "--validation-split", "1", "--quiet"])
    assert (
        "--validation-split: expected a fraction in [0, 1)" in capsys.readouterr().err
    )


def test_every_cli_option_has_help_text():
    from refnet.cli import build_parser

    parser = build_parser()
    subparsers = next(
        a for a in parser._actions if a.choices and hasattr(a, "_name_parser_map")
    )
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if action.dest == "help":
                continue
            assert action.help, (
                f"refnet {name}: {action.option_strings or action.dest} has no help"
            )


def test_train_never_overwrites_without_force_nor_its_own_data(tmp_path, capsys):
    """S3: --save equal to --data would destroy the dataset; an existing --save/--plot file
    is refused before training unless --force."""
    pytest.importorskip("sklearn")
    data = tmp_path / "mnist.npz"
    data.write_bytes(b"the user's dataset")
    with pytest.raises(SystemExit) as exc:
        main(["train", "mnist", "--data", str(data), "--save", str(data), "--quiet"])
    assert exc.value.code == 2
    assert "--save" in capsys.readouterr().err
    assert data.read_bytes() == b"the user's dataset"
    model = tmp_path / "m.npz"
    model.write_bytes(b"an older model")
    argv = ["train", "digits", "--epochs", "1", "--quiet", "--save", str(model)]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert (
        exc.value.code == 2
        and "--save: " in err
        and "exists; refusing to overwrite" in err
    )
    assert model.read_bytes() == b"an older model"
    assert main(argv + ["--force"]) == 0
    assert refnet.Network.load(model).sizes == [64, 64, 10]


@pytest.mark.parametrize(
    "argv",
    [
        ["--loss", "hinge"],  # one-hot labels, read as -1/+1
        ["--loss", "categorical_hinge"],  # class ids as they are
        ["--loss", "kl_divergence", "--activations", "relu,softmax"],
    ],
)
def test_train_with_kl_and_the_hinges(argv, capsys):
    """LS7, LS8 and LS10 train digits from the CLI without a warning, far above chance."""
    pytest.importorskip("sklearn")
    assert main(["train", "digits", "--epochs", "5", "--quiet", *argv]) == 0
    out, err = capsys.readouterr()
    accuracy = float(re.search(r"test accuracy: ([\d.]+) %", out).group(1))
    assert accuracy > 80.0, out
    assert "warning" not in err, err


def test_train_dropout_trains_with_masks_and_saves_the_rate(tmp_path, capsys):
    """--dropout RATE is every hidden layer's rate: the summary lists the Dropout row,
    the saved model keeps the rate, and the masks change the training (the weights
    differ from the same run without dropout; inference itself has no dropout)."""
    pytest.importorskip("sklearn")
    runs = {}
    for rate in ("0", "0.3"):
        path = tmp_path / f"m{rate}.npz"
        argv = ["train", "digits", "--epochs", "2", "--quiet", "--dropout", rate]
        assert main([*argv, "--save", str(path)]) == 0
        runs[rate] = refnet.Network.load(path)
    out = capsys.readouterr().out
    assert "dropout (Dropout 0.3)" in out
    assert runs["0.3"].dropout == [0.3, 0.0] and runs["0"].dropout == [0.0, 0.0]
    W_plain, W_dropped = runs["0"].layers[0].W, runs["0.3"].layers[0].W
    assert not np.allclose(W_plain, W_dropped)
