"""Draw chapter 11's plots from chapter 11's own code.

    python docs/plot_making_it_train.py

Runs the chapter's examples (the same code cells as its notebook, so the plots show the
numbers the chapter prints) and writes img/init_depth.png, img/delta_norms.png,
img/overfitting.png and img/lr_range.png.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DOCS = Path(__file__).resolve().parent
IMG = DOCS / "img"
PNG = {"dpi": 100, "metadata": {"Software": None}}


def chapter_namespace() -> dict:
    """The variables chapter 11's examples leave behind."""
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", DOCS / "make_notebooks.py"
    )
    mk = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mk)
    nb = mk.convert((DOCS / "11-making-it-train.md").read_text(encoding="utf-8"))
    ns: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(cell.source, ns)
    return ns


def main() -> None:
    sys.path.insert(0, str(DOCS.parent))  # refnet from this checkout
    import refnet

    ns = chapter_namespace()

    fig, ax = plt.subplots(figsize=(6, 3.6))
    # the chapter's input (its exercise 1 reuses the name x for one sample)
    x = np.random.default_rng(0).normal(size=(500, 256))
    for act, init in [
        ("relu", "glorot_uniform"),
        ("relu", "he_normal"),
        ("tanh", "glorot_uniform"),
    ]:
        deep = refnet.Network.build([256] * 11, activations=act, init=init, seed=0)
        a = deep.gradients(x, np.zeros((500, 256)), "mse").a
        ax.plot(
            range(1, 11),
            [float(al.std()) for al in a[1:]],
            marker="o",
            label=f"{act}, {init}",
        )
    ax.set_xlabel("layer")
    ax.set_ylabel("std of the layer's output")
    ax.set_xticks(range(1, 11))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "init_depth.png", **PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, args in [
        ("sigmoid, glorot", ("sigmoid", "glorot_uniform")),
        ("relu, he", ("relu", "he_normal")),
        ("relu, he x 1.5", ("relu", "he_normal", 1.5)),
    ]:
        norms = ns["delta_norms"](*args)
        ax.semilogy(range(1, len(norms) + 1), norms, marker="o", label=label)
    ax.set_xlabel("layer l (1 = next to the input)")
    ax.set_ylabel("norm of delta[l]")
    ax.set_xticks(range(1, 11))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "delta_norms.png", **PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, curves, color in [
        ("no L2", ns["plain"], "C0"),
        ("L2 3e-3", ns["l2"], "C1"),
    ]:
        epochs = range(1, len(curves) + 1)
        ax.plot(
            epochs, curves[:, 0], color=color, ls="--", label=f"{name}: training loss"
        )
        ax.plot(epochs, curves[:, 1], color=color, label=f"{name}: validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("softmax cross-entropy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "overfitting.png", **PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    seen, rates = ns["seen"], ns["rates"]
    ax.semilogx(
        rates[: len(seen)], seen, ".", color="0.6", label="loss of each mini-batch"
    )
    smooth = np.convolve(seen, np.ones(5) / 5, mode="valid")
    ax.semilogx(rates[2 : 2 + len(smooth)], smooth, color="C0", label="mean of 5 steps")
    ax.axvline(ns["best"], color="C3", ls=":", label=f"lowest mean: {ns['best']:.2f}")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.set_ylim(0, 2 * seen[0])  # the last steps go far higher
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "lr_range.png", **PNG)
    plt.close(fig)
    print("wrote", *(p.name for p in sorted(IMG.glob("*.png"))))


if __name__ == "__main__":
    main()
