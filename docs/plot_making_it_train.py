"""Draw chapter 11's plots from chapter 11's own code.

    python docs/plot_making_it_train.py
    python docs/plot_making_it_train.py --lang zh   # Chinese labels, into *.zh.png

Runs the chapter's examples (the same code cells as its notebook, so the plots show the
numbers the chapter prints) and writes img/init_depth.png, img/delta_norms.png,
img/overfitting.png and img/lr_range.png.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import figure_lang
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


def main(argv=None) -> None:
    lang = figure_lang.from_command_line(argv, __doc__.split("\n", 1)[0])
    t, end = figure_lang.text(lang), figure_lang.suffix(lang)
    written = []
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
    ax.set_xlabel(t("layer", "层"))
    ax.set_ylabel(t("std of the layer's output", "该层输出的标准差"))
    ax.set_xticks(range(1, 11))
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(IMG / f"init_depth{end}.png")
    fig.savefig(written[-1], **PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, args in [
        ("sigmoid, glorot", ("sigmoid", "glorot_uniform")),
        ("relu, he", ("relu", "he_normal")),
        ("relu, he x 1.5", ("relu", "he_normal", 1.5)),
    ]:
        norms = ns["delta_norms"](*args)
        ax.semilogy(range(1, len(norms) + 1), norms, marker="o", label=label)
    ax.set_xlabel(t("layer l (1 = next to the input)", "第 l 层（1 = 紧邻输入的一层）"))
    ax.set_ylabel(t("norm of delta[l]", "delta[l] 的范数"))
    ax.set_xticks(range(1, 11))
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(IMG / f"delta_norms{end}.png")
    fig.savefig(written[-1], **PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, curves, color in [
        (t("no L2", "无 L2"), ns["plain"], "C0"),
        ("L2 3e-3", ns["l2"], "C1"),
    ]:
        epochs = range(1, len(curves) + 1)
        ax.plot(
            epochs,
            curves[:, 0],
            color=color,
            ls="--",
            label=t(f"{name}: training loss", f"{name}：训练损失"),
        )
        ax.plot(
            epochs,
            curves[:, 1],
            color=color,
            label=t(f"{name}: validation loss", f"{name}：验证损失"),
        )
    ax.set_xlabel(t("epoch", "轮（epoch）"))
    ax.set_ylabel(t("softmax cross-entropy", "softmax 交叉熵"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(IMG / f"overfitting{end}.png")
    fig.savefig(written[-1], **PNG)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.6))
    seen, rates = ns["seen"], ns["rates"]
    ax.semilogx(
        rates[: len(seen)],
        seen,
        ".",
        color="0.6",
        label=t("loss of each mini-batch", "每个小批量的损失"),
    )
    smooth = np.convolve(seen, np.ones(5) / 5, mode="valid")
    ax.semilogx(
        rates[2 : 2 + len(smooth)],
        smooth,
        color="C0",
        label=t("mean of 5 steps", "5 步的均值"),
    )
    ax.axvline(
        ns["best"],
        color="C3",
        ls=":",
        label=t(f"lowest mean: {ns['best']:.2f}", f"最低均值：{ns['best']:.2f}"),
    )
    ax.set_xlabel(t("learning rate", "学习率"))
    ax.set_ylabel(t("loss", "损失"))
    ax.set_ylim(0, 2 * seen[0])  # the last steps go far higher
    ax.legend(fontsize=8)
    fig.tight_layout()
    written.append(IMG / f"lr_range{end}.png")
    fig.savefig(written[-1], **PNG)
    plt.close(fig)
    print("wrote", *(path.name for path in written))


if __name__ == "__main__":
    main()
