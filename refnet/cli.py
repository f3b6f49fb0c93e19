"""The ``refnet`` command line (also ``python -m refnet``).

refnet summary 784-256-128-10 --activations relu,relu,linear
refnet train digits --layout 64-64-10 --activations relu,linear --optimizer adam --epochs 30
"""

from __future__ import annotations

import argparse
import sys

from .network import Network
from .params import summary
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
    """Train on digits or MNIST; print one line per epoch and the final test accuracy."""
    import numpy as np

    from . import datasets, optimizers

    if args.epochs is not None:
        check_size(args.epochs, "--epochs")
    check_output_folder(args.plot, "--plot")
    check_output_folder(args.save, "--save")
    if args.dataset == "digits":
        if args.data is not None:
            raise ValueError("--data: only for mnist; digits ship with scikit-learn")
        try:
            data = datasets.digits(seed=args.seed, dtype=args.dtype)
        except ImportError as err:
            raise ValueError(f"digits: {err}") from None
        layout, epochs = args.layout or "64-64-10", args.epochs or 30
    else:
        if args.data is None:
            raise ValueError(
                "--data: expected the path of mnist.npz or of a directory with the IDX files"
            )
        try:
            data = datasets.load_mnist(args.data, dtype=args.dtype)
        except (OSError, ValueError) as err:
            raise ValueError(f"--data: {err}") from None
        layout, epochs = args.layout or "784-256-128-10", args.epochs or 5
    X_train, y_train, X_test, y_test = data
    net = Network.build(
        layout, _activations(args.activations), seed=args.seed, dtype=args.dtype
    )
    if net.sizes[0] != X_train.shape[1]:
        raise ValueError(
            f"--layout: expected {X_train.shape[1]} inputs for {args.dataset}, got {layout}"
        )
    optimizer = optimizers.get(args.optimizer, learning_rate=args.learning_rate)
    print(net.summary())
    print(
        f"{args.dataset}: {len(X_train)} train, {len(X_test)} test rows; {optimizer!r}"
    )
    rng = np.random.default_rng(args.seed)  # one stream: epoch by epoch = fit(epochs=N)
    history: dict[str, list[float]] = {}
    for epoch in range(1, epochs + 1):
        logs = net.fit(
            X_train, y_train, args.loss, optimizer, epochs=1, batch_size=args.batch_size,
            seed=rng, validation_data=(X_test, y_test), progress=not args.quiet,
        )  # fmt: skip
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
        line = "  ".join(f"{key} {values[-1]:.4f}" for key, values in logs.items())
        print(f"epoch {epoch}/{epochs}  {line}", flush=True)
    final = net.evaluate(X_test, y_test, args.loss)
    if "accuracy" in final:
        correct = round(final["accuracy"] * len(X_test))
        print(
            f"test accuracy: {100 * final['accuracy']:.2f} % ({correct}/{len(X_test)}), "
            f"test loss {final['loss']:.4f}"
        )
    else:
        print(f"test loss: {final['loss']:.6g}")
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


def _plot_history(history: dict, path: str, title: str) -> None:
    """Loss (and validation loss) per epoch as a PNG, with matplotlib's Agg backend."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ValueError(
            "--plot: needs matplotlib (pip install matplotlib, or refnet[examples])"
        ) from None
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = range(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], label="train loss")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], label="test loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title, fontsize=8)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
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
        "--activations", help="one per layer, comma separated (default relu..., linear)"
    )
    summary.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    summary.set_defaults(run=_summary)

    train = commands.add_parser(
        "train",
        help="train on digits (scikit-learn) or MNIST (local files); print test accuracy",
        description="refnet train digits --layout 64-64-10 --activations relu,linear "
        "--loss softmax_cross_entropy --optimizer adam --epochs 30",
    )
    train.add_argument("dataset", choices=["digits", "mnist"])
    train.add_argument(
        "--data", help="mnist: mnist.npz or a directory with the IDX files"
    )
    train.add_argument(
        "--layout", help="layer sizes (default 64-64-10 digits, 784-256-128-10 mnist)"
    )
    train.add_argument(
        "--activations", help="one per layer, comma separated (default relu..., linear)"
    )
    train.add_argument("--loss", default="softmax_cross_entropy")
    train.add_argument(
        "--optimizer", default="adam", choices=["sgd", "rmsprop", "adam"]
    )
    train.add_argument(
        "--learning-rate",
        type=float,
        default=0.01,
        help="default 0.01 for every optimizer",
    )
    train.add_argument("--epochs", type=int, help="default 30 digits, 5 mnist")
    train.add_argument("--batch-size", type=int, default=32)
    train.add_argument(
        "--seed", type=int, default=0, help="initial weights, data split and shuffling"
    )
    train.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    train.add_argument("--plot", metavar="PATH", help="write the loss curve as a PNG")
    train.add_argument("--save", metavar="PATH", help="save the trained model (.npz)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as err:
        parser.error(str(err))  # exits 2 with the message, no traceback


if __name__ == "__main__":
    sys.exit(main())
