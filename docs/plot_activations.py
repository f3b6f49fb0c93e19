"""Draw every elementwise activation f(z) of refnet's registry and its derivative f'(z).

Run from the repository root (needs matplotlib, the ``examples`` extra):

    python docs/plot_activations.py
    python docs/plot_activations.py --lang zh   # Chinese labels, into *.zh.png

It writes docs/img/activations.png (f solid, f' dashed, one panel per activation, AF1-AF11)
and docs/img/relu_kink.png (ReLU and its derivative near 0, with both conventions for
f'(0)). The derivative curves are refnet's own ``df``, not finite differences.
"""

from __future__ import annotations

import sys
from pathlib import Path

import figure_lang
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's refnet
import refnet  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
NAMES = [
    "linear",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "softsign",
    "silu",
    "gelu",
    "gelu_tanh",
]
LABELS = {name: f"AF{i}" for i, name in enumerate(NAMES, start=1)}


def plot_all(path: Path, lang: str = "en") -> None:
    t = figure_lang.text(lang)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    z = np.linspace(-4, 4, 801)
    fig, axes = plt.subplots(3, 4, figsize=(12, 8.4), sharex=True)
    for ax, name in zip(axes.flat, NAMES):
        act = refnet.activations.get(name)
        a = act.f(z)
        ax.plot(z, a, color="C0", lw=2, label="f(z)")
        df = act.df(z, a)
        jumps = np.flatnonzero(np.abs(np.diff(df)) > 0.5)  # a kink: no vertical segment
        df_line = np.insert(df, jumps + 1, np.nan)
        z_line = np.insert(z, jumps + 1, np.nan)
        ax.plot(z_line, df_line, color="C3", lw=1.5, ls="--", label="f'(z)")
        if len(jumps):  # the value refnet uses at the kink, as a dot
            z0 = np.array([0.0])
            ax.plot(z0, act.df(z0, act.f(z0)), "o", color="C3", ms=5)
        ax.axhline(0, color="0.7", lw=0.6)
        ax.axvline(0, color="0.7", lw=0.6)
        ax.set_title(f"{name} ({LABELS[name]})")
        ax.set_ylim(-1.6, 2.6)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(loc="upper left")
    axes.flat[-1].axis("off")
    axes.flat[-1].text(
        0.05,
        0.5,
        t(
            "solid: f(z)\ndashed: f'(z)\ndot: f'(0) at a kink\n\nf' is refnet's df,\nrelu'(0) = 0 (TensorFlow)",
            "实线：f(z)\n虚线：f'(z)\n圆点：折点处的 f'(0)\n\nf' 是 refnet 的 df，\nrelu'(0) = 0（同 TensorFlow）",
        ),
        fontsize=11,
        va="center",
    )
    fig.suptitle(
        t(
            "refnet activations and their derivatives (docs/04-activations.md)",
            "refnet 的激活函数及其导数（docs/04-activations.md）",
        )
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def plot_relu_kink(path: Path, lang: str = "en") -> None:
    t = figure_lang.text(lang)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    relu = refnet.activations.get("relu")
    z = np.linspace(-1, 1, 401)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(z, relu.f(z), lw=2)
    left.set_title("relu(z) = max(0, z)")
    right.plot(z[z < 0], np.zeros((z < 0).sum()), color="C3", lw=2)
    right.plot(z[z > 0], np.ones((z > 0).sum()), color="C3", lw=2)
    right.plot(
        [0],
        [0],
        "o",
        color="C3",
        ms=8,
        label=t("refnet, TensorFlow: f'(0) = 0", "refnet、TensorFlow：f'(0) = 0"),
    )
    right.plot(
        [0],
        [1],
        "s",
        color="k",
        ms=7,
        label=t("one tutorial: f'(0) = 1", "一篇教程：f'(0) = 1"),
    )
    right.plot(
        [0, 0],
        [0, 1],
        color="0.6",
        lw=4,
        alpha=0.4,
        label=t("any value in [0, 1] is a subgradient", "[0, 1] 中任一值都是次梯度"),
    )
    right.set_ylim(-0.3, 1.4)
    right.legend(loc="center left", fontsize=9)
    right.set_title(
        t(
            "relu'(z): the value at the kink is a convention",
            "relu'(z)：折点处的取值是一种约定",
        )
    )
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.axvline(0, color="0.7", lw=0.6)
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def main(argv=None) -> None:
    lang = figure_lang.from_command_line(argv, __doc__.split("\n", 1)[0])
    IMG.mkdir(exist_ok=True)
    end = figure_lang.suffix(lang)
    plot_all(IMG / f"activations{end}.png", lang)
    plot_relu_kink(IMG / f"relu_kink{end}.png", lang)
    print(f"wrote {IMG / f'activations{end}.png'} and {IMG / f'relu_kink{end}.png'}")


if __name__ == "__main__":
    main()
