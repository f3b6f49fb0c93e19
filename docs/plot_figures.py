"""Draw the two diagrams of the docs: img/network.png and img/layer_graph.png.

    python docs/plot_figures.py             # img/network.png, img/layer_graph.png
    python docs/plot_figures.py --lang zh   # the same with Chinese labels: *.zh.png

network.png: a 3-4-2 network with the j -> k indices of chapter 1 and the layout of W,
one row per input node j and one column per output node k. Nodes, rows and columns are
numbered from 1, as in the math ($w_{jk}$); the figure says that NumPy's ``W[j - 1, k - 1]``
is the same entry. layer_graph.png: one dense
layer's forward and backward pass (FP1, FP2, BP1/BP2, BP3, BP4) as a computational
graph, with the shape of every quantity.
"""

from __future__ import annotations

from pathlib import Path

import figure_lang
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
# no version string: reproducible bytes
PNG = {
    "dpi": 110,
    "metadata": {"Software": None},
}


def network(lang: str = "en") -> None:
    t = figure_lang.text(lang)
    fig, (ax, axw) = plt.subplots(
        1, 2, figsize=(9.5, 4.2), gridspec_kw={"width_ratios": [1.45, 1]}
    )
    sizes = [3, 4, 2]
    xs = [0.0, 1.0, 2.0]
    pos = {}
    for l, (x, n) in enumerate(zip(xs, sizes)):
        for j in range(n):
            pos[l, j] = (x, (n - 1) / 2 - j)
    # the highlighted weight w_23 of layer 1: nodes are numbered from 1, as in the math
    # (NumPy's W[1, 2]); j and k below are 0-based loop indices, labels add 1.
    j_hi, k_hi = 1, 2
    for j in range(sizes[0]):
        for k in range(sizes[1]):
            (x0, y0), (x1, y1) = pos[0, j], pos[1, k]
            hi = (j, k) == (j_hi, k_hi)
            ax.plot(
                [x0, x1],
                [y0, y1],
                color="C3" if hi else "0.75",
                lw=2.5 if hi else 0.8,
                zorder=1,
            )
    for j in range(sizes[1]):
        for k in range(sizes[2]):
            (x0, y0), (x1, y1) = pos[1, j], pos[2, k]
            ax.plot([x0, x1], [y0, y1], color="0.75", lw=0.8, zorder=1)
    names = ["a^{[0]} = x", "a^{[1]}", "a^{[2]}"]
    for (l, j), (x, y) in pos.items():
        hi = (l, j) in {(0, j_hi), (1, k_hi)}
        ax.scatter(
            [x], [y], s=620, color="C3" if hi else "white", edgecolor="k", zorder=2
        )
        ax.text(
            x,
            y,
            f"{j + 1}",
            ha="center",
            va="center",
            fontsize=10,
            zorder=3,
            color="white" if hi else "k",
        )
    for l, x in enumerate(xs):
        ax.text(x, 2.35, f"${names[l]}$", ha="center", fontsize=11)
        ax.text(x, -3.05, f"$n_{l} = {sizes[l]}$", ha="center", fontsize=10)
    (x0, y0), (x1, y1) = pos[0, j_hi], pos[1, k_hi]
    ax.annotate(
        t(
            f"$w_{{jk}} = w_{{{j_hi + 1}{k_hi + 1}}}$: from node j = {j_hi + 1} of layer 0\n"
            f"to node k = {k_hi + 1} of layer 1; in NumPy W[{j_hi}, {k_hi}]",
            f"$w_{{jk}} = w_{{{j_hi + 1}{k_hi + 1}}}$：从第 0 层的神经元 j = {j_hi + 1}\n"
            f"到第 1 层的神经元 k = {k_hi + 1}；在 NumPy 中是 W[{j_hi}, {k_hi}]",
        ),
        xy=((x0 + x1) / 2, (y0 + y1) / 2),
        xytext=(-0.3, -2.5),
        fontsize=9,
        color="C3",
        arrowprops={"arrowstyle": "->", "color": "C3"},
    )
    ax.text(0.5, 1.95, "$W^{[1]}$: (3, 4)", ha="center", fontsize=10)
    ax.text(1.5, 1.95, "$W^{[2]}$: (4, 2)", ha="center", fontsize=10)
    ax.set_xlim(-0.4, 2.4)
    ax.set_ylim(-3.2, 2.7)
    ax.axis("off")

    axw.set_title(
        t(
            "$W^{[1]}$, shape $(n_0, n_1) = (3, 4)$:\nrow j = input node, column k = output node\n"
            "(numbered from 1; NumPy's W[j - 1, k - 1])",
            "$W^{[1]}$，形状 $(n_0, n_1) = (3, 4)$：\n第 j 行 = 输入神经元，第 k 列 = 输出神经元\n"
            "（从 1 开始编号；即 NumPy 的 W[j - 1, k - 1]）",
        ),
        fontsize=10,
    )
    for j in range(3):
        for k in range(4):
            hi = (j, k) == (j_hi, k_hi)
            axw.add_patch(
                plt.Rectangle(
                    (k, 2 - j), 1, 1, facecolor="C3" if hi else "white", edgecolor="k"
                )
            )
            axw.text(
                k + 0.5,
                2 - j + 0.5,
                f"$w_{{{j + 1}{k + 1}}}$",
                ha="center",
                va="center",
                fontsize=10,
                color="white" if hi else "k",
            )
    for j in range(3):
        axw.text(-0.15, 2 - j + 0.5, f"j={j + 1}", ha="right", va="center", fontsize=9)
    for k in range(4):
        axw.text(k + 0.5, 3.15, f"k={k + 1}", ha="center", fontsize=9)
    axw.text(
        2,
        -0.55,
        t(
            "$z^{[1]} = a^{[0]} W^{[1]} + b^{[1]}$: column k of $W$\nholds the weights into node k",
            "$z^{[1]} = a^{[0]} W^{[1]} + b^{[1]}$：$W$ 的第 k 列\n是进入神经元 k 的权重",
        ),
        ha="center",
        va="top",
        fontsize=9,
    )
    axw.set_xlim(-0.9, 4.2)
    axw.set_ylim(-1.6, 4.3)
    axw.set_aspect("equal")
    axw.axis("off")
    fig.tight_layout()
    fig.savefig(IMG / f"network{figure_lang.suffix(lang)}.png", **PNG)
    plt.close(fig)


def _box(ax, x, y, text, color, width=1.24, height=0.6, linespacing=1.7):
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.03",
            facecolor="white",
            edgecolor=color,
            lw=1.4,
        )
    )
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=9,
        color=color,
        linespacing=linespacing,
    )


def _arrow(ax, a, b, color, label=None, offset=(0, 0.12)):
    ax.annotate(
        "", xy=b, xytext=a, arrowprops={"arrowstyle": "->", "color": color, "lw": 1.2}
    )
    if label:
        ax.text(
            (a[0] + b[0]) / 2 + offset[0],
            (a[1] + b[1]) / 2 + offset[1],
            label,
            ha="center",
            fontsize=8,
            color=color,
        )


def layer_graph(lang: str = "en") -> None:
    t = figure_lang.text(lang)
    fig, ax = plt.subplots(figsize=(10, 4.6))
    fwd, bwd = "k", "C3"
    # forward row (y = 3) and the parameters (y = 4.2)
    _box(ax, 0, 3, "$a^{[l-1]}$\n$(n, n_{l-1})$", fwd)
    _box(ax, 2.2, 4.3, "$W^{[l]}$\n$(n_{l-1}, n_l)$", fwd)
    _box(ax, 4.4, 4.3, "$b^{[l]}$\n$(n_l,)$", fwd)
    _box(ax, 2.2, 3, "$a^{[l-1]} W^{[l]}$\n$(n, n_l)$", fwd)
    _box(
        ax,
        4.4,
        3,
        "$z^{[l]} = a^{[l-1]} W^{[l]} + b^{[l]}$\n$(n, n_l)$",
        fwd,
        width=1.9,
    )
    _box(ax, 6.6, 3, "$a^{[l]} = f_l(z^{[l]})$\n$(n, n_l)$", fwd)
    _arrow(ax, (0.62, 3), (1.58, 3), fwd, "FP1")
    _arrow(ax, (2.2, 4.03), (2.2, 3.27), fwd)
    _arrow(ax, (2.82, 3), (3.45, 3), fwd)
    _arrow(ax, (4.4, 4.0), (4.4, 3.3), fwd)
    _arrow(ax, (5.35, 3), (5.98, 3), fwd, "FP2")
    _arrow(ax, (7.22, 3), (8.3, 3), fwd, t("to layer l+1", "传给第 l+1 层"))
    # backward row (y = 1) and the gradients (y = -0.3)
    _box(ax, 8.9, 1, "$g = \\partial L / \\partial a^{[l]}$\n$(n, n_l)$", bwd)
    _box(ax, 6.6, 1, "$\\odot\\, f_l'(z^{[l]})$\n$(n, n_l)$", bwd)
    _box(ax, 4.4, 1, "$\\delta^{[l]}$\n$(n, n_l)$", bwd)
    _box(ax, 2.2, 1, "$\\delta^{[l]} W^{[l]\\top}$\n$(n, n_{l-1})$", bwd)
    _box(ax, 0, 1, "$\\partial L / \\partial a^{[l-1]}$\n$(n, n_{l-1})$", bwd)
    _box(
        ax,
        2.2,
        -0.35,
        "$dW^{[l]} = a^{[l-1]\\top} \\delta^{[l]}$\n$(n_{l-1}, n_l)$",
        bwd,
        width=1.5,
    )
    _box(
        ax,
        5.6,
        -0.35,
        "$db^{[l]} = \\sum_i \\delta^{[l]}_{i,:}$\n$(n_l,)$",
        bwd,
        width=1.5,
        height=0.8,
        linespacing=2.3,
    )
    _arrow(ax, (8.28, 1), (7.22, 1), bwd, t("from layer l+1", "来自第 l+1 层"))
    _arrow(ax, (5.98, 1), (5.02, 1), bwd, "BP1 / BP2")
    _arrow(ax, (3.78, 1), (2.82, 1), bwd)
    _arrow(
        ax,
        (1.58, 1),
        (0.62, 1),
        bwd,
        t("to layer l-1", "传给第 l-1 层"),
        offset=(0.12, 0.12),
    )
    _arrow(ax, (4.1, 0.73), (2.6, -0.08), bwd, "BP4", offset=(0.15, 0.1))
    _arrow(ax, (4.7, 0.7), (5.25, 0.07), bwd, "BP3", offset=(0.3, 0.0))
    # what the backward pass reads from the forward pass
    ax.annotate(
        "",
        xy=(6.6, 1.27),
        xytext=(5.0, 2.73),
        arrowprops={"arrowstyle": "->", "color": "0.5", "ls": "--"},
    )
    ax.text(6.0, 2.0, "$z^{[l]}$", fontsize=8, color="0.4")
    ax.annotate(
        "",
        xy=(1.45, -0.1),
        xytext=(-0.1, 2.73),
        arrowprops={"arrowstyle": "->", "color": "0.5", "ls": "--"},
    )
    ax.text(0.35, 2.1, "$a^{[l-1]}$", fontsize=8, color="0.4")
    ax.annotate(
        "",
        xy=(2.55, 1.27),
        xytext=(2.55, 4.03),
        arrowprops={"arrowstyle": "->", "color": "0.5", "ls": "--"},
    )
    ax.text(2.65, 3.55, "$W^{[l]}$", fontsize=8, color="0.4")
    ax.text(-0.6, 4.3, t("forward", "前向传递"), fontsize=11, color=fwd, weight="bold")
    ax.text(-0.6, 1.7, t("backward", "反向传递"), fontsize=11, color=bwd, weight="bold")
    ax.set_xlim(-0.8, 9.7)
    ax.set_ylim(-0.9, 4.8)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(IMG / f"layer_graph{figure_lang.suffix(lang)}.png", **PNG)
    plt.close(fig)


def main(argv=None) -> None:
    lang = figure_lang.from_command_line(argv, __doc__.split("\n", 1)[0])
    network(lang)
    layer_graph(lang)
    end = figure_lang.suffix(lang)
    print("wrote", IMG / f"network{end}.png", "and", IMG / f"layer_graph{end}.png")


if __name__ == "__main__":
    main()
