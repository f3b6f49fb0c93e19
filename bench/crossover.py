"""The crossover map of ``python -m bench --only map``: where NumPy beats the frameworks.

One training step of a two-hidden-layer MLP, 784-w-w-10 (relu, relu, linear; softmax
cross-entropy on int labels; plain SGD, w -= lr g), float32, over a grid of hidden width
w by batch size n, in every backend installed:

- ``refnet``: ``net.gradients(X, y, loss, out=res)`` then ``SGD.apply(net, res)``: what
  a hand-written training loop over refnet calls (BLAS' default thread count);
- ``tf_eager``: ``tf.GradientTape`` over the raw ops (matmul, +, relu, sparse softmax
  cross-entropy, mean), then ``v.assign_sub(lr g)`` per variable;
- ``tf_function``: the same step traced once by ``tf.function``;
- ``torch``: PyTorch eager, ``torch.nn.functional`` ops, ``loss.backward()``, then
  ``p -= lr p.grad`` under ``torch.no_grad()``;
- ``jax_jit``: ``jax.jit`` of ``value_and_grad`` and the update (params in, params out);
- ``floor``: NumPy's GEMM floor, only the step's matrix products (bench.cases).

Each cell checks once that every backend's first loss agrees with refnet's, then times
the backends in interleaved rounds (a backend's time: the median over rounds), pausing
when the library changes (their idle threads spin). Each backend's step is then read as

    step = g * floor + c * N

c: the backend's per-call dispatch cost, from a micro-benchmark of one tiny op (a
1-element add; for tf.function and jax.jit one call of a compiled 1-element add);
N: its effective calls per step, (step - floor) / c at the overhead-bound cells (the
smallest widths and batches); g: its GEMM speed against NumPy's floor, (step - c N) /
floor at the GEMM-bound cells (the largest). A backend that is not installed is skipped
with its reason.
"""

from __future__ import annotations

import copy
import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import refnet

from . import cases as bc

WIDTHS = (16, 64, 256, 1024, 2048)
BATCHES = (1, 8, 64, 256, 1024)
N_IN, N_OUT = 784, 10
LR = 0.01
FRAMEWORKS = ("tf_eager", "tf_function", "torch", "jax_jit")
BACKENDS = ("refnet", *FRAMEWORKS, "floor")
LABELS = {
    "refnet": "refnet",
    "tf_eager": "TF eager",
    "tf_function": "tf.function",
    "torch": "PyTorch eager",
    "jax_jit": "JAX jit",
    "floor": "GEMM floor",
}
SHORT = {"tf_eager": "TF", "tf_function": "tf.fn", "torch": "torch", "jax_jit": "JAX"}
LIBRARY = {"tf_eager": "tf", "tf_function": "tf", "torch": "torch", "jax_jit": "jax"}
SWITCH_PAUSE_S = 0.15  # as bench.__main__: let the other library's threads sleep


@dataclass
class Backend:
    name: str
    run: Callable[[], object]  # one training step (blocks until done)
    loss: Callable[[], float]  # the loss of one step, for the agreement check


def sizes(width: int) -> list[int]:
    return [N_IN, width, width, N_OUT]


def flops(width: int, batch: int) -> int:
    return bc.Case("-".join(map(str, sizes(width))), batch, "float32").flops


def problem(width: int, batch: int, seed: int = 0):
    net = refnet.Network.build(sizes(width), seed=seed, dtype="float32")
    rng = np.random.default_rng(seed + 1)
    X = rng.random((batch, N_IN), dtype=np.float32)
    y = rng.integers(0, N_OUT, batch)
    return net, X, y


# ---------------------------------------------------------------------------------
# The step in each backend
# ---------------------------------------------------------------------------------


def refnet_backend(net, X, y) -> Backend:
    net = copy.deepcopy(net)  # SGD moves its weights
    start = net.get_weights()
    opt = refnet.optimizers.SGD(LR)
    state = {"res": None}

    def run():
        state["res"] = net.gradients(X, y, bc.LOSS, out=state["res"])
        opt.apply(net, state["res"])
        return state["res"].loss

    def first_loss():
        net.set_weights(start)
        return run()

    return Backend("refnet", run, first_loss)


def floor_backend(net, X, y) -> Backend:
    step = bc.floor_step(net, X, y)
    return Backend("floor", step.run, lambda: math.nan)


def tf_backends(net, X, y) -> dict[str, Backend]:
    tf = bc._tf()
    Ws = [tf.Variable(layer.W) for layer in net.layers]
    bs = [tf.Variable(layer.b) for layer in net.layers]
    variables = [v for pair in zip(Ws, bs) for v in pair]
    Xt, yt = tf.constant(X), tf.constant(np.asarray(y, dtype=np.int32))
    lr = tf.constant(LR, tf.float32)
    L = len(Ws)

    def step():
        with tf.GradientTape() as tape:
            a = Xt
            for i, (W, b) in enumerate(zip(Ws, bs)):
                z = tf.matmul(a, W) + b
                a = tf.nn.relu(z) if i < L - 1 else z
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yt, logits=a)
            )
        for v, g in zip(variables, tape.gradient(loss, variables)):
            v.assign_sub(lr * g)
        return loss

    out = {}
    for name, fn in (("tf_eager", step), ("tf_function", tf.function(step))):
        start = [v.numpy() for v in variables]

        def first_loss(fn=fn, start=start):
            for v, s in zip(variables, start):
                v.assign(s)
            return float(fn())

        out[name] = Backend(name, fn, first_loss)
    return out


def torch_backend(net, X, y) -> Backend:
    import torch

    params = []
    for layer in net.layers:
        params += [
            torch.tensor(layer.W, requires_grad=True),
            torch.tensor(layer.b, requires_grad=True),
        ]
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    F = torch.nn.functional
    L = len(net.layers)

    def run():
        a = Xt
        for i in range(L):
            z = torch.addmm(params[2 * i + 1], a, params[2 * i])
            a = F.relu(z) if i < L - 1 else z
        loss = F.cross_entropy(a, yt)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
        return loss

    start = [p.detach().clone() for p in params]

    def first_loss():
        with torch.no_grad():
            for p, s in zip(params, start):
                p.copy_(s)
        return run().item()

    return Backend("torch", run, first_loss)


def jax_backend(net, X, y) -> Backend:
    import jax
    import jax.numpy as jnp

    start = [jnp.asarray(p) for p in net.get_weights()]
    Xj, yj = jnp.asarray(X), jnp.asarray(np.asarray(y, dtype=np.int32))
    L = len(net.layers)

    def loss_fn(params):
        a = Xj
        for i in range(L):
            z = a @ params[2 * i] + params[2 * i + 1]
            a = jax.nn.relu(z) if i < L - 1 else z
        logp = jax.nn.log_softmax(a)
        return -jnp.mean(jnp.take_along_axis(logp, yj[:, None], axis=1))

    @jax.jit
    def step(params):
        loss, grads = jax.value_and_grad(loss_fn)(params)
        return loss, [p - LR * g for p, g in zip(params, grads)]

    state = {"params": start}

    def run():
        loss, state["params"] = step(state["params"])
        jax.block_until_ready(state["params"])
        return loss

    def first_loss():
        state["params"] = start
        return float(run())

    return Backend("jax_jit", run, first_loss)


MAKERS = {
    "tf": ("tensorflow", tf_backends),
    "torch": ("torch", lambda net, X, y: {"torch": torch_backend(net, X, y)}),
    "jax": ("jax", lambda net, X, y: {"jax_jit": jax_backend(net, X, y)}),
}


def available(frameworks=FRAMEWORKS) -> tuple[set, dict]:
    """The libraries that import here, and {backend: reason} for the others."""
    ok, skipped = set(), {}
    for lib, (module, _) in MAKERS.items():
        names = [n for n in frameworks if LIBRARY[n] == lib]
        if not names:
            continue
        try:
            if lib == "tf":
                bc._tf()
            else:
                __import__(module)
        except ImportError as e:
            skipped.update(dict.fromkeys(names, f"{module} not importable: {e}"))
        else:
            ok.add(lib)
    return ok, skipped


def backends(width: int, batch: int, libs: set, frameworks=FRAMEWORKS) -> dict:
    net, X, y = problem(width, batch)
    out = {"refnet": refnet_backend(net, X, y)}
    for lib in sorted(libs):
        for name, b in MAKERS[lib][1](net, X, y).items():
            if name in frameworks:
                out[name] = b
    out["floor"] = floor_backend(net, X, y)
    return out


def check(steps: dict, width: int, batch: int) -> None:
    """Every backend's first loss (same weights, same batch) agrees with refnet's."""
    ref = steps["refnet"].loss()
    for name, b in steps.items():
        if name in ("refnet", "floor"):
            continue
        got = b.loss()
        if not abs(got - ref) <= 1e-4 * max(1.0, abs(ref)):
            raise AssertionError(
                f"crossover map, width {width} batch {batch}: {name}'s loss {got!r} "
                f"differs from refnet's {ref!r}"
            )


# ---------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------


def _library(name: str) -> str:
    return LIBRARY.get(name, "numpy")


def measure(steps: dict, rounds: int, sample_s: float) -> dict[str, list[float]]:
    """Seconds per step, one sample per round, rounds interleaved (alternating order);
    a sample runs k steps back to back (about ``sample_s``) after one untimed step."""
    order = list(steps)
    k = {}
    for name in order:
        steps[name].run()
        t0 = time.perf_counter()
        steps[name].run()
        k[name] = max(1, math.ceil(sample_s / max(time.perf_counter() - t0, 1e-7)))
    samples = {name: [] for name in order}
    previous = None
    for r in range(rounds):
        for name in order if r % 2 == 0 else reversed(order):
            if previous is not None and _library(name) != _library(previous):
                time.sleep(SWITCH_PAUSE_S)
            previous = name
            run, n = steps[name].run, k[name]
            run()
            gc.disable()
            t0 = time.perf_counter()
            for _ in range(n):
                run()
            samples[name].append((time.perf_counter() - t0) / n)
            gc.enable()
    return samples


def per_call_costs(libs: set, frameworks=FRAMEWORKS, seconds: float = 0.2) -> dict:
    """Seconds per call of one tiny op (a 1-element add) in each backend; for
    tf.function and jax.jit one call of a compiled 1-element add."""
    ops = {}
    a = np.ones(1, np.float32)
    c = np.empty_like(a)
    ops["refnet"] = lambda: np.add(a, a, out=c)
    if "tf" in libs:
        tf = bc._tf()
        t = tf.ones(1)
        ops["tf_eager"] = lambda: tf.add(t, t)
        f = tf.function(lambda x: x + x)
        f(t)
        ops["tf_function"] = lambda: f(t)
    if "torch" in libs:
        import torch

        tt = torch.ones(1)
        ops["torch"] = lambda: torch.add(tt, tt)
    if "jax" in libs:
        import jax
        import jax.numpy as jnp

        j = jnp.ones(1)
        g = jax.jit(lambda x: x + x)
        g(j).block_until_ready()
        ops["jax_jit"] = lambda: g(j).block_until_ready()
    costs = {}
    for name, op in ops.items():
        if name != "refnet" and name not in frameworks:
            continue
        best = math.inf
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            for _ in range(100):
                op()
            best = min(best, (time.perf_counter() - t0) / 100)
        costs[name] = best
    return costs


def decompose(cells: list[dict], costs: dict) -> dict:
    """Per backend: c (per-call cost), N (effective calls per step) at the
    overhead-bound cells, g (GEMM time over NumPy's floor) at the GEMM-bound ones."""
    by_flops = sorted(cells, key=lambda c: c["flops"])
    small = by_flops[: max(1, len(cells) // 5)]
    large = by_flops[-max(1, len(cells) // 5) :]
    out = {}
    for name, c in costs.items():
        rows = [x for x in small if name in x["times"]]
        if not rows:
            continue
        calls = statistics.median(
            max(0.0, (x["times"][name] - x["times"]["floor"])) / c for x in rows
        )
        big = [x for x in large if name in x["times"]]
        g = statistics.median(
            (x["times"][name] - c * calls) / x["times"]["floor"] for x in big
        )
        out[name] = {"per_call_s": c, "calls_per_step": calls, "gemm_vs_floor": g}
    return out


def run_map(
    widths=WIDTHS,
    batches=BATCHES,
    rounds: int = 5,
    sample_s: float = 0.02,
    frameworks=FRAMEWORKS,
    log=print,
) -> dict:
    """Every cell of the grid: times, ratio refnet / fastest framework, which is fastest;
    the per-call costs and the decomposition. Returns the map's JSON-ready dict."""
    t_start = time.perf_counter()
    libs, skipped = available(frameworks)
    cells = []
    for width in widths:
        for batch in batches:
            t0 = time.perf_counter()
            steps = backends(width, batch, libs, frameworks)
            check(steps, width, batch)
            samples = measure(steps, rounds, sample_s)
            cells.append(evaluate(width, batch, samples))
            log(
                f"  map width {width} batch {batch}: timed in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            del steps
            gc.collect()
    costs = per_call_costs(libs, frameworks)
    return {
        "layout": f"{N_IN}-w-w-{N_OUT}",
        "widths": list(widths),
        "batches": list(batches),
        "cells": cells,
        "per_call": costs,
        "model": decompose(cells, costs),
        "skipped": skipped,
        "seconds": time.perf_counter() - t_start,
    }


def evaluate(width: int, batch: int, samples: dict) -> dict:
    times = {name: statistics.median(s) for name, s in samples.items()}
    cell = {
        "width": width,
        "batch": batch,
        "flops": flops(width, batch),
        "rounds": len(samples["refnet"]),
        "times": times,
    }
    fw = {n: times[n] for n in FRAMEWORKS if n in times}
    if fw:
        best = min(fw, key=fw.get)
        cell["fastest"] = best
        # the median over rounds of refnet's time over that round's fastest framework
        per_round = [
            r / min(samples[n][i] for n in fw) for i, r in enumerate(samples["refnet"])
        ]
        cell["refnet/fastest"] = statistics.median(per_round)
    return cell


# ---------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------


def table(data: dict) -> str:
    present = [b for b in BACKENDS if any(b in c["times"] for c in data["cells"])]
    head = [
        "width",
        "batch",
        *[LABELS[b] for b in present],
        "fastest framework",
        "refnet/fastest",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in data["cells"]:
        cells = [str(c["width"]), str(c["batch"])]
        cells += [bc.fmt_time(c["times"].get(b)) for b in present]
        cells.append(LABELS.get(c.get("fastest"), "-"))
        r = c.get("refnet/fastest")
        cells.append("-" if r is None else f"{r:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_table(data: dict) -> str:
    lines = [
        "| backend | per-call cost c | effective calls per step N | c N | "
        "GEMM time / NumPy floor g |",
        "|---|---|---|---|---|",
    ]
    for name, m in data["model"].items():
        c, n = m["per_call_s"], m["calls_per_step"]
        lines.append(
            f"| {LABELS[name]} | {c * 1e6:.2f} us | {n:.0f} | {bc.fmt_time(c * n)} | "
            f"{m['gemm_vs_floor']:.2f} |"
        )
    return "\n".join(lines)


def report(data: dict) -> None:
    print(table(data))
    print()
    print("step = g * floor + c * N:")
    print(model_table(data))
    for name, why in data.get("skipped", {}).items():
        print(f"skipped {name}: {why}")
    print(f"map: {len(data['cells'])} cells in {data['seconds']:.0f} s")


def figure_lang():
    """docs/figure_lang.py: the figures' language (labels, font), shared with the docs'
    figure scripts."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "docs" / "figure_lang.py"
    spec = importlib.util.spec_from_file_location("figure_lang", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plot(data: dict, path: Path, lang: str = "en") -> None:
    """Heat map of refnet's time over the fastest framework's, log colour scale centred
    on 1 (blue: refnet faster), each cell labelled with the ratio and that framework.
    lang "zh": the same map with Chinese labels (needs the font Noto Sans CJK SC)."""
    import matplotlib

    matplotlib.use("Agg")
    words = figure_lang()
    with matplotlib.rc_context(words.rc(lang)):
        _draw(data, path, words.text(lang))


def _draw(data: dict, path: Path, t: Callable[[str, str], str]) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    from refnet.files import atomic_write

    widths, batches = data["widths"], data["batches"]
    grid = np.full((len(widths), len(batches)), np.nan)
    label = {}
    for c in data["cells"]:
        if "refnet/fastest" not in c:
            continue
        i, j = widths.index(c["width"]), batches.index(c["batch"])
        grid[i, j] = c["refnet/fastest"]
        label[i, j] = f"{c['refnet/fastest']:.2g}\n{SHORT[c['fastest']]}"
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    finite = grid[np.isfinite(grid)]
    span = max(0.5, float(np.max(np.abs(np.log10(finite))))) if finite.size else 1.0
    norm = LogNorm(vmin=10**-span, vmax=10**span)
    im = ax.imshow(grid, cmap="RdBu_r", norm=norm, origin="lower", aspect="auto")
    for (i, j), text in label.items():
        dark = abs(math.log10(grid[i, j])) > 0.6 * span
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=8,
            color="white" if dark else "black",
        )
    ax.set_xticks(range(len(batches)), [str(b) for b in batches])
    ax.set_yticks(range(len(widths)), [str(w) for w in widths])
    ax.set_xlabel(t("batch size", "批量大小"))
    ax.set_ylabel(t("hidden width w", "隐藏层宽度 w"))
    ax.set_title(
        t(
            f"{data['layout']} float32, one SGD step: refnet time / fastest framework\n"
            "(blue < 1: refnet faster; label: ratio and the fastest framework)",
            f"{data['layout']} float32，一步 SGD：refnet 用时 / 最快框架用时\n"
            "（蓝色 < 1：refnet 更快；标注：比值与最快的框架）",
        ),
        fontsize=9,
    )
    fig.colorbar(
        im, ax=ax, label=t("refnet / fastest framework", "refnet / 最快框架用时")
    )
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, dpi=90, format="png"), "--map-plot")
    plt.close(fig)
