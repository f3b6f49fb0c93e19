"""The ``refnet`` command line (also ``python -m refnet``).

refnet summary 784-256-128-10 --activations relu,relu,linear
refnet train digits --layout 64-64-10 --activations relu,linear --optimizer adam --epochs 30
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings

from .files import atomic_write
from .network import Network
from .params import summary
from .training import SetupWarning, classic_mistakes
from .validation import check_output_folder, check_size


def _activations(arg: str | None) -> list[str] | str | None:
    """--activations: one name per layer, comma-separated, or one name for every layer."""
    if arg is None or "," not in arg:
        return arg
    return arg.split(",")


def _summary(args: argparse.Namespace) -> int:
    # Prints the table from the layout alone: nothing is allocated, so a layout too large
    # to build can still be described.
    print(summary(args.layout, _activations(args.activations), args.dtype))
    return 0


def _train(args: argparse.Namespace) -> int:
    """Train on digits or MNIST; print one line per epoch and the final test accuracy.

    Phases: the output flags are checked before anything runs, the data loaded, the
    network built, trained epoch by epoch, scored once on the test set, then saved."""
    from . import losses, optimizers

    _check_train_flags(args)
    (X_train, y_train, X_test, y_test), layout, epochs = _load_data(args)
    X_train, y_train, X_val, y_val = _validation_split(
        X_train, y_train, args.validation_split
    )
    net = Network.build(
        layout,
        _activations(args.activations),
        seed=args.seed,
        dtype=args.dtype,
        dropout=args.dropout,
    )
    if net.sizes[0] != X_train.shape[1]:
        raise ValueError(
            f"--layout: expected {X_train.shape[1]} inputs for {args.dataset}, got {layout}"
        )
    loss = losses.get(args.loss)
    Y_train, Y_val = _targets(y_train, loss, net), _targets(y_val, loss, net)
    optimizer = optimizers.get(args.optimizer, learning_rate=args.learning_rate)
    print(net.summary())
    for warning in classic_mistakes(net.activations, loss.name, net.sizes[-1]):
        print(f"refnet: warning: {warning}", file=sys.stderr)
    print(
        f"{args.dataset}: {len(X_train)} train, {len(X_val)} validation (split off the "
        f"training data), {len(X_test)} test rows; {optimizer!r}"
    )
    validation = (X_val, Y_val) if len(X_val) else None
    history = _fit_by_epoch(
        net, X_train, Y_train, loss, optimizer, epochs, validation, args
    )
    _print_test_scores(net, X_test, y_test, loss)
    if args.save:
        net.save(args.save)
        print(f"model saved to {args.save}")
    if args.plot:
        _plot_history(
            history,
            args.plot,
            f"{args.dataset} {layout} {args.optimizer} lr {args.learning_rate}",
        )
        print(f"loss curve written to {args.plot}")
    return 0


def _check_train_flags(args: argparse.Namespace) -> None:
    """--epochs, and --plot/--save writable (and not an input), before any training."""
    if args.epochs is not None:
        check_size(args.epochs, "--epochs")
    if (
        args.plot is not None
        and os.path.splitext(args.plot)[1].lower() not in _PLOT_TYPES
    ):
        raise ValueError(
            f"--plot: expected a file name ending in {', '.join(_PLOT_TYPES)}, "
            f"got {args.plot!r}"
        )
    inputs = {"--data": args.data} if args.data else {}
    check_output_folder(args.plot, "--plot", inputs, overwrite=args.force)
    check_output_folder(args.save, "--save", inputs, overwrite=args.force)
    if (
        args.plot
        and args.save
        and os.path.abspath(args.plot) == os.path.abspath(args.save)
    ):
        raise ValueError("--plot: the same path as --save; give each its own file")


def _load_data(args: argparse.Namespace):
    """((X_train, y_train, X_test, y_test), layout, epochs) of the dataset named, with
    that dataset's default layout and epochs where the flags give none."""
    from . import datasets

    if args.dataset == "digits":
        if args.data is not None:
            raise ValueError("--data: only for mnist; digits ship with scikit-learn")
        try:
            data = datasets.digits(seed=args.seed, dtype=args.dtype)
        except ImportError as err:
            raise ValueError(f"digits: {err}") from None
        return data, args.layout or "64-64-10", args.epochs or 30
    if args.data is None:
        raise ValueError(
            "--data: expected the path of mnist.npz or of a directory with the IDX files"
        )
    try:
        data = datasets.load_mnist(args.data, dtype=args.dtype)
    except (OSError, ValueError) as err:
        raise ValueError(f"--data: {err}") from None
    return data, args.layout or "784-256-128-10", args.epochs or 5


def _fit_by_epoch(net, X, Y, loss, optimizer, epochs, validation, args) -> dict:
    """``net.fit`` one epoch at a time, printing a line per epoch; the whole history."""
    import numpy as np

    rng = np.random.default_rng(args.seed)  # one stream: epoch by epoch = fit(epochs=N)
    history: dict[str, list[float]] = {}
    for epoch in range(1, epochs + 1):
        with warnings.catch_warnings():  # the set-up warnings are printed above, once
            warnings.simplefilter("ignore", SetupWarning)
            logs = net.fit(
                X,
                Y,
                loss,
                optimizer,
                epochs=1,
                batch_size=args.batch_size,
                seed=rng,
                validation_data=validation,
                progress=not args.quiet,
            )
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
        line = "  ".join(f"{key} {values[-1]:.4f}" for key, values in logs.items())
        print(f"epoch {epoch}/{epochs}  {line}", flush=True)
    return history


def _print_test_scores(net, X_test, y_test, loss) -> None:
    """The test set, used once, after training: its loss, and the accuracy for labels."""
    import numpy as np

    test_loss = net.evaluate(X_test, _targets(y_test, loss, net), loss)["loss"]
    # class labels: accuracy = argmax of the output, whatever the loss
    if y_test.ndim == 1:
        correct = int(np.sum(net.forward(X_test).argmax(axis=1) == y_test))
        print(
            f"test accuracy: {100 * correct / len(X_test):.2f} % ({correct}/{len(X_test)}), "
            f"test loss {test_loss:.4f}"
        )
    else:
        print(f"test loss: {test_loss:.6g}")


def _validation_split(X, y, fraction: float):
    """The last ``fraction`` of the (already shuffled) training rows, as Keras'
    ``validation_split`` takes them; the test set is not touched."""
    if not 0 <= fraction < 1:
        raise ValueError(
            f"--validation-split: expected a fraction in [0, 1), got {fraction}"
        )
    n_val = int(round(fraction * len(X)))
    cut = len(X) - n_val
    return X[:cut], y[:cut], X[cut:], y[cut:]


# Losses that take class ids as they are; the others (mse, binary_cross_entropy, hinge,
# squared_hinge) get one-hot rows, as the tutorials do with tf.one_hot(y, depth=10)
# before an MSE (hinge reads those 0/1 rows as -1/+1).
_CLASS_ID_LOSSES = {
    "softmax_cross_entropy",
    "categorical_cross_entropy",
    "kl_divergence",
    "categorical_hinge",
}


def _targets(y, loss, net):
    """Class ids -> one-hot rows of width n_L for losses that need rows."""
    import numpy as np

    if y.ndim != 1 or loss.name in _CLASS_ID_LOSSES:
        return y
    return np.eye(net.sizes[-1], dtype=net.layers[-1].W.dtype)[y]


def _plot_history(history: dict, path: str, title: str) -> None:
    """Loss (and validation loss) per epoch as a PNG, with matplotlib's Agg backend."""
    try:
        import matplotlib
        import matplotlib.ticker

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError(
            "--plot: needs matplotlib (pip install matplotlib, or refnet[examples])"
        ) from None
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(history["loss"]) + 1)
    ax.plot(
        epochs,
        history["loss"],
        marker=".",
        label="loss (training rows, mean during the epoch)",
    )
    if "val_loss" in history:
        ax.plot(
            epochs,
            history["val_loss"],
            marker=".",
            label="val_loss (validation rows, end of epoch)",
        )
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=8)
    ax.legend()
    fig.tight_layout()
    kind = os.path.splitext(path)[1].lower().lstrip(".")
    atomic_write(path, lambda fh: fig.savefig(fh, dpi=100, format=kind), "--plot")
    plt.close(fig)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refnet", description="refnet: a fully connected network in NumPy."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    summary = commands.add_parser(
        "summary", help="print the layer table and parameter count of a layout"
    )
    summary.add_argument("layout", help="layer sizes, e.g. 784-256-128-10")
    summary.add_argument(
        "--activations",
        help="one name per layer, comma separated, or one name for every layer "
        "(default relu for hidden layers, linear output)",
    )
    summary.add_argument(
        "--dtype",
        default="float64",
        choices=["float32", "float64"],
        help="dtype of the weights (default float64)",
    )
    summary.set_defaults(run=_summary)

    train = commands.add_parser(
        "train",
        help="train on digits (scikit-learn) or MNIST (local files); print test accuracy",
        description="Train a network; a --validation-split of the training rows is "
        "scored after every epoch (val_loss), and the test set is used once, at the end. "
        "Example: refnet train digits --layout 64-64-10 --activations relu,linear "
        "--loss softmax_cross_entropy --optimizer adam --epochs 30",
    )
    train.add_argument(
        "dataset",
        choices=["digits", "mnist"],
        help="digits: scikit-learn's bundled 8x8 digits; mnist: local files (--data)",
    )
    train.add_argument(
        "--data", help="mnist: mnist.npz or a directory with the IDX files"
    )
    train.add_argument(
        "--layout", help="layer sizes (default 64-64-10 digits, 784-256-128-10 mnist)"
    )
    train.add_argument(
        "--activations",
        help="one name per layer, comma separated, or one name for every layer "
        "(default relu for hidden layers, linear output)",
    )
    train.add_argument(
        "--loss",
        default="softmax_cross_entropy",
        help="softmax_cross_entropy (default; linear output), categorical_cross_entropy "
        "or kl_divergence (softmax output), categorical_hinge (linear output), mse, "
        "binary_cross_entropy, hinge or squared_hinge (labels one-hot encoded)",
    )
    train.add_argument(
        "--optimizer",
        default="adam",
        choices=["sgd", "rmsprop", "adam"],
        help="default adam (Keras 3's update rules)",
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        default=0.01,
        help="default 0.01 for every optimizer; note Keras' own defaults are 0.01 for "
        "SGD and 0.001 for RMSprop and Adam (as are refnet.optimizers')",
    )
    train.add_argument("--epochs", type=int, help="default 30 digits, 5 mnist")
    train.add_argument(
        "--dropout",
        type=float,
        default=0.0,
        metavar="RATE",
        help="inverted dropout on every hidden layer's output while training, as "
        "Keras' Dropout(RATE) after each hidden Dense (default 0: none)",
    )
    train.add_argument(
        "--batch-size", type=int, default=32, help="rows per gradient step (default 32)"
    )
    train.add_argument(
        "--validation-split",
        type=float,
        default=0.1,
        metavar="FRACTION",
        help="fraction of the training rows held out for val_loss, the last ones as in "
        "Keras (default 0.1; 0: none)",
    )
    train.add_argument(
        "--seed", type=int, default=0, help="initial weights, data split and shuffling"
    )
    train.add_argument(
        "--dtype",
        default="float64",
        choices=["float32", "float64"],
        help="dtype of the data and the weights (default float64)",
    )
    train.add_argument(
        "--plot", metavar="PATH", help="write the loss and val_loss curves as a PNG"
    )
    train.add_argument("--save", metavar="PATH", help="save the trained model (.npz)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument(
        "--force",
        action="store_true",
        help="replace existing --save/--plot files (refused by default)",
    )
    train.set_defaults(run=_train)
    return parser


# The library's argument names, as each command's flags spell them: an error says
# "--batch-size: expected a positive int", never "batch_size: ...".
_FLAGS = {
    "summary": {
        "sizes": "layout",
        "activations": "--activations",
        "activation": "--activations",
        "dtype": "--dtype",
    },
    "train": {
        "sizes": "--layout",
        "activations": "--activations",
        "activation": "--activations",
        "dtype": "--dtype",
        "loss": "--loss",
        "optimizer": "--optimizer",
        "learning_rate": "--learning-rate",
        "epochs": "--epochs",
        "batch_size": "--batch-size",
        "seed": "--seed",
        "path": "--save",
        "dropout": "--dropout",
    },
}
_PLOT_TYPES = (".png", ".pdf", ".svg")


def in_flags(message: str, flags: dict[str, str]) -> str:
    """``message`` with a leading library argument name (``sizes[1]: ...``) replaced by
    the flag the user typed (``--layout: ...``)."""
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(\[\d+\])?: ", message)
    if m and m.group(1) in flags:
        return f"{flags[m.group(1)]}: {message[m.end() :]}"
    return message


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, OSError) as err:
        message = in_flags(str(err), _FLAGS.get(args.command, {}))
        parser.error(message)  # exits 2 with the message, no traceback


if __name__ == "__main__":
    sys.exit(main())
