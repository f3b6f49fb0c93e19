"""The fit section of ``python -m bench``: real training, against its floor and Keras.

For each case (layout, batch) and optimizer (SGD, Adam), float32, one process:

- ``refnet``: ``net.fit(X, y, loss, opt, epochs=1, batch_size=b)``, shuffled, no progress
  bar, the default BLAS thread policy (``refnet.threads``); per batch = the fit step;
- ``refnet_old``: the same fit under the thread policy before the measured one (one
  thread unless the largest product has 100 MFLOP and the load average leaves a core to
  spare; ``legacy_threads``), passed as ``threads=``: the "no row slower than today's
  policy" comparison;
- ``floor_1``, ``floor_n``: per batch, only what a step cannot avoid: the matrix
  products of backprop (a @ W and a.T @ delta per layer, delta @ W.T for every layer but
  the first) into preallocated arrays, and the optimizer's rule as plain NumPy passes
  over the parameters into preallocated arrays (SGD: lr g, w -= it; Adam: the three
  lines of its rule, m, v and w, in twelve passes), on one BLAS thread and on one per
  core; the floor of a round is the faster of the two ("best floor");
- ``loop_1``, ``loop_n``: refnet's own step without ``fit`` around it, on one thread and
  on one per core (the faster of the two: "step loop"): each batch gathered with
  ``take`` into a reused array, ``Network.backprop_into`` and ``update_all``, nothing
  checked. step loop / best floor is the elementwise work NumPy adds to the products
  (bias adds, activations and their derivatives, the loss, db, the gather); fit / step
  loop is what ``fit`` adds around it (its checks, thread probes, per-epoch snapshot and
  accuracy);
- ``keras``: the same network (``crosscheck.to_keras``) compiled with the same optimizer
  and loss, ``model.fit(X, y, batch_size=b, epochs=1, shuffle=True, verbose=0)``.

Rounds interleave the three (and, with ``busy``, quiet and busy rounds: one competing
``while True: pass`` process, stopped with SIGSTOP in quiet rounds). Each condition is
timed in its steady state: at each switch the thread tuner's kept answer is dropped
(``refnet.threads.forget``) and one untimed fit probes the new condition, as on a machine
busy or quiet for longer than the tuner's probe period (its first probe in a long run is
paid once). Ratios are medians of per-round ratios. Samples per second are rows trained
per second over a whole epoch.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np

import refnet
from refnet.threads import blas_limit, cores, forget

from . import cases as bc

DTYPE = "float32"
OPTIMIZERS = ("sgd", "adam")
LEARNING_RATE = {"sgd": 0.01, "adam": 0.001}


@dataclass(frozen=True)
class FitCase:
    layout: str
    batch: int
    data: str  # "digits" (scikit-learn's, 1347 training rows) or "random" (ROWS rows)

    @property
    def sizes(self) -> list[int]:
        return [int(s) for s in self.layout.split("-")]

    @property
    def id(self) -> str:
        return f"{self.layout}-n{self.batch}"

    @property
    def flops(self) -> int:
        """Floating-point operations of one step's matrix products (bench.cases.Case.flops)."""
        return bc.Case(self.layout, self.batch, DTYPE).flops


ROWS = 4096  # rows of the random data sets (an epoch of 32 to 128 steps)
FIT_CASES = [
    FitCase("64-64-10", 32, "digits"),
    FitCase("784-256-128-10", 128, "random"),
    FitCase("784-512-10", 32, "random"),  # the tutorial's network
]
LAYOUTS = sorted({c.layout for c in FIT_CASES})

# Targets (ratios in one run; docs/09-speed.md, "The fit targets").
# fit / step loop: what fit adds around refnet's own step (its checks and buffers once
# per call, 32 steps here; its thread probes against the loop's best count per round),
# on the MNIST layouts. The digits row has none: there fit's fixed cost per call (~0.3
# ms) is spread over an epoch of 43 steps of ~50 us.
# fit / best floor, step loop / best floor and busy / quiet are reported, not targets
# (the floor leaves out the elementwise passes every step makes on one core; on a busy
# machine fit runs on one thread, the idle machine's best count is two).
LOOP_TARGET = {"784-256-128-10": 1.15, "784-512-10": 1.15}
KERAS_TARGET = {"64-64-10": 0.10, "784-256-128-10": 0.35, "784-512-10": 0.35}
OLD_TARGET = 1.05  # fit / fit under the policy before the measured one, quiet and busy


def make_data(case: FitCase):
    """(X, y) as float32 rows and int labels: digits' training split, or random [0, 1)
    pixels with random labels (the timing does not depend on the values)."""
    if case.data == "digits":
        try:
            X, y, _, _ = refnet.datasets.digits(dtype=DTYPE)
            return X, y
        except ImportError:  # scikit-learn absent: random data of digits' shape
            pass
        n = 1347
    else:
        n = ROWS
    rng = np.random.default_rng(0)
    X = rng.random((n, case.sizes[0]), dtype=np.float32)
    return X, rng.integers(0, case.sizes[-1], n)


def refnet_optimizer(name: str):
    return refnet.optimizers.get(name, learning_rate=LEARNING_RATE[name])


@dataclass
class Runner:
    name: str
    run: callable  # one epoch
    steps: int  # batches per epoch
    net: object = None  # the network it trains (the step loop's, for its test)


def legacy_threads(sizes: list[int], batch: int) -> int:
    """The thread count refnet's "auto" policy chose before it measured (main at
    405cee3): one thread unless the step's largest product has >= 100 MFLOP and the
    1-minute load average leaves a core to spare, then one per core."""
    largest = max(2.0 * batch * i * o for i, o in zip(sizes, sizes[1:]))
    if largest < 1e8:
        return 1
    try:
        spare = cores() - os.getloadavg()[0]
    except (AttributeError, OSError):
        spare = cores()
    return cores() if spare >= 1 else 1


def refnet_runner(case: FitCase, opt_name: str, X, y, threads=None) -> Runner:
    net = refnet.Network.build(case.sizes, seed=0, dtype=DTYPE)
    opt = refnet_optimizer(opt_name)
    name = "refnet" if threads is None else "refnet_old"

    def run():
        policy = threads if threads is None else legacy_threads(case.sizes, case.batch)
        net.fit(
            X,
            y,
            bc.LOSS,
            opt,
            epochs=1,
            batch_size=case.batch,
            seed=0,
            progress=False,
            threads=policy,
        )

    return Runner(name, run, -(-X.shape[0] // case.batch))


def floor_runner(case: FitCase, opt_name: str, X, y, threads: int = 1) -> Runner:
    """The GEMMs of every batch and the optimizer's rule as plain passes, nothing else."""
    net = refnet.Network.build(case.sizes, seed=0, dtype=DTYPE)
    b = case.batch
    res = net.gradients(X[:b], y[:b], bc.LOSS)
    a, delta = res.a, res.delta
    W = [layer.W for layer in net.layers]
    L = len(W)
    z = [np.empty_like(d) for d in delta]
    dW = [np.empty_like(w) for w in W]
    g = [np.empty_like(d) for d in delta[:-1]]
    params = [p.copy() for p in net.get_weights()]
    grads = [gr.copy() for gr in res.grads()]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    s1 = [np.empty_like(p) for p in params]
    s2 = [np.empty_like(p) for p in params]
    t = np.float32
    lr, b1, b2, eps = t(LEARNING_RATE[opt_name]), t(0.1), t(0.001), t(1e-7)
    steps = -(-X.shape[0] // b)

    def gemms():
        for l in range(L):
            np.matmul(a[l], W[l], out=z[l])  # FP1
            np.matmul(a[l].T, delta[l], out=dW[l])  # BP4
            if l > 0:
                np.matmul(delta[l], W[l].T, out=g[l - 1])  # BP2

    def sgd():
        for w, gr, s in zip(params, grads, s1):
            w -= np.multiply(gr, lr, out=s)  # w -= lr g

    def adam():
        for w, gr, mi, vi, x, y_ in zip(params, grads, m, v, s1, s2):
            # m += (g - m)(1 - b1)
            mi += np.multiply(np.subtract(gr, mi, out=x), b1, out=x)
            x = np.multiply(gr, gr, out=x)  # v += (g^2 - v)(1 - b2)
            x -= vi
            vi += np.multiply(x, b2, out=x)
            y_ = np.sqrt(vi, out=y_)  # w -= alpha m / (sqrt(v) + eps)
            y_ += eps
            w -= np.divide(np.multiply(mi, lr, out=x), y_, out=x)

    update = sgd if opt_name == "sgd" else adam

    def run():
        with blas_limit(threads):
            for _ in range(steps):
                gemms()
                update()

    return Runner("floor_1" if threads == 1 else "floor_n", run, steps)


def loop_runner(case: FitCase, opt_name: str, X, y, threads: int = 1) -> Runner:
    """refnet's step in a bare loop: gather, backprop_into, update_all; nothing else."""
    net = refnet.Network.build(case.sizes, seed=0, dtype=DTYPE)
    opt = refnet_optimizer(opt_name)
    loss = refnet.losses.get(bc.LOSS)
    X, _, y_all = net.check_data(X, y, loss, prepared=True)
    b = case.batch
    res, work = net.result_buffers(b), net.work_buffers(b)
    xb, yb = X[:b].copy(), y_all[:b].copy()
    weights = net.weight_arrays()
    opt.bind(net)
    opt.build(weights)
    # as many batches as the floor's, each of b rows (digits' short last batch filled
    # from the start of the order)
    steps = -(-X.shape[0] // b)
    order = np.random.default_rng(0).permutation(X.shape[0])
    order = np.concatenate([order, order[: steps * b - X.shape[0]]])
    starts = range(0, steps * b, b)

    def run():
        with blas_limit(threads):
            for start in starts:
                rows = order[start : start + b]
                X.take(rows, axis=0, out=xb, mode="clip")
                y_all.take(rows, axis=0, out=yb, mode="clip")
                opt.update_all(
                    weights, net.backprop_into(xb, yb, loss, res, work).grads()
                )

    return Runner("loop_1" if threads == 1 else "loop_n", run, steps, net)


def keras_runner(case: FitCase, opt_name: str, X, y) -> Runner:
    from crosscheck import to_keras

    bc._tf()  # quiet TF, and the thread settings of --threads
    import keras

    net = refnet.Network.build(case.sizes, seed=0, dtype=DTYPE)
    model = to_keras(net)
    opt = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam}[opt_name]
    model.compile(
        optimizer=opt(learning_rate=LEARNING_RATE[opt_name]),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    y32 = np.asarray(y, dtype=np.int32)

    def run():
        model.fit(X, y32, batch_size=case.batch, epochs=1, shuffle=True, verbose=0)

    return Runner("keras", run, -(-X.shape[0] // case.batch))


@contextlib.contextmanager
def busy_process():
    """One competing process spinning on a core; yields (start, stop) switches."""
    child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield (
            lambda: child.send_signal(signal.SIGCONT),
            lambda: child.send_signal(signal.SIGSTOP),
        )
    finally:
        child.kill()
        child.wait()


def measure(
    runners: dict[str, Runner],
    rounds: int,
    busy=None,
    sample_s: float = 0.2,
    busy_sample_s: float = 1.0,
) -> dict[str, list[float]]:
    """Seconds per epoch, one sample per round, rounds interleaved (alternating order).

    A sample runs enough epochs back to back to last about ``sample_s`` (quiet). With
    ``busy`` = (start, stop) of a competing process, each round runs refnet (and
    refnet_old) once more with the process spinning, for about ``busy_sample_s``: sample
    keys ``refnet_busy`` (``refnet_old_busy``). Busy samples are longer: under load a
    step now and then stalls for tens of milliseconds (a thread descheduled), and a
    fifth of a second holds too few of those for a ratio within a few percent.
    """
    order = list(runners)
    k, k_busy = {}, {}
    # warm-up (Keras traces its step on the first epoch)
    for name, r in runners.items():
        r.run()
        epoch = max(_time(r.run), 1e-6)
        k[name] = max(1, math.ceil(sample_s / epoch))
        k_busy[name] = max(1, math.ceil(busy_sample_s / epoch))
    samples: dict[str, list[float]] = {name: [] for name in order}
    busy_names = [n for n in ("refnet", "refnet_old") if n in runners]
    if busy is not None:
        for name in busy_names:
            samples[name + "_busy"] = []
        busy[1]()
    previous = None
    for i in range(rounds):
        for name in order if i % 2 == 0 else reversed(order):
            if previous is not None and (name == "keras") != (previous == "keras"):
                time.sleep(0.15)  # let the other library's threads stop spinning
            previous = name
            samples[name].append(_time(runners[name].run, k[name]))
        if busy is not None:
            # each condition is timed in its steady state, as on a machine busy (or
            # quiet) for longer than the tuner's probe period: at each switch the
            # tuner's kept answer is dropped and one untimed fit probes the new
            # condition (else a busy round would start from the quiet round's answer,
            # paying a drift probe every round instead of once a period)
            forget()
            busy[0]()
            time.sleep(0.05)
            _settle(runners)
            for name in busy_names if i % 2 == 0 else reversed(busy_names):
                samples[name + "_busy"].append(_time(runners[name].run, k_busy[name]))
            busy[1]()
            forget()
            _settle(runners)
    return samples


def _settle(runners: dict[str, Runner]) -> None:
    """One untimed fit under the default policy: its probe answers for the next fits."""
    if "refnet" in runners:
        runners["refnet"].run()


def _time(run, k: int = 1) -> float:
    """Seconds per call of run, over k calls back to back."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(k):
            run()
        return (time.perf_counter() - t0) / k
    finally:
        gc.enable()


def gemm_peak(threads: int | None, n: int = 1024, seconds: float = 0.3) -> float:
    """GFLOP/s of a float32 n x n x n product with the given BLAS thread count."""
    A = np.random.default_rng(0).random((n, n), dtype=np.float32)
    C = np.empty_like(A)
    with blas_limit(threads):
        np.matmul(A, A, out=C)
        best, t_end = float("inf"), time.perf_counter() + seconds
        while time.perf_counter() < t_end:
            t0 = time.perf_counter()
            np.matmul(A, A, out=C)
            best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best / 1e9


def evaluate(
    case: FitCase, opt_name: str, samples: dict, n_rows: int, steps: int
) -> dict:
    """Times, ratios and targets of one (case, optimizer) row from its samples."""

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(samples[a], samples[b]))

    samples = dict(samples)
    for best, pair in (
        ("floor", ("floor_1", "floor_n")),
        ("loop", ("loop_1", "loop_n")),
    ):
        runs = [samples[f] for f in pair if f in samples]
        if runs:  # the faster thread count of each round
            samples[best] = [min(f) for f in zip(*runs)]
    epoch = {name: statistics.median(s) for name, s in samples.items()}
    row = {
        "layout": case.layout,
        "batch": case.batch,
        "optimizer": opt_name,
        "data": case.data,
        "rows": n_rows,
        "steps": steps,
        "rounds": len(samples["refnet"]),
        "epoch_s": epoch,
        "step_s": {name: t / steps for name, t in epoch.items()},
        "samples_per_s": {name: n_rows / t for name, t in epoch.items()},
        "ratios": {},
        "targets": {},
    }
    row["gflops"] = case.flops / row["step_s"]["refnet"] / 1e9
    r, t = row["ratios"], row["targets"]
    if "floor" in samples:
        r["fit/floor"] = ratio("refnet", "floor")
    if "loop" in samples:
        r["fit/loop"] = ratio("refnet", "loop")
        if case.layout in LOOP_TARGET:
            t["loop"] = _target(r["fit/loop"], LOOP_TARGET[case.layout])
        if "floor" in samples:
            r["loop/floor"] = ratio("loop", "floor")
    if "keras" in samples:
        r["fit/keras"] = ratio("refnet", "keras")
        t["keras"] = _target(r["fit/keras"], KERAS_TARGET[case.layout])
    if "refnet_busy" in samples:
        r["busy/quiet"] = ratio("refnet_busy", "refnet")
    if "refnet_old" in samples:
        r["fit/old"] = ratio("refnet", "refnet_old")
        t["old"] = _target(r["fit/old"], OLD_TARGET)
    if "refnet_old_busy" in samples:
        r["busy fit/old"] = ratio("refnet_busy", "refnet_old_busy")
        t["old_busy"] = _target(r["busy fit/old"], OLD_TARGET)
    return row


def _target(ratio: float, limit: float) -> dict:
    return {"ratio": ratio, "limit": limit, "pass": ratio <= limit}


def run_all(layouts, rounds: int, with_keras: bool, busy: bool, log=print) -> dict:
    """Every fit case x optimizer; returns {"rows": [...], "gemm_peak": {...}}."""
    selected = [c for c in FIT_CASES if not layouts or c.layout in layouts]
    rows, skipped = [], {}
    stack = contextlib.ExitStack()
    switches = stack.enter_context(busy_process()) if busy else None
    if switches is not None:
        switches[1]()
    with stack:
        for case in selected:
            X, y = make_data(case)
            for opt_name in OPTIMIZERS:
                t0 = time.perf_counter()
                runners = {
                    "floor_1": floor_runner(case, opt_name, X, y, 1),
                    "refnet": refnet_runner(case, opt_name, X, y),
                    "floor_n": floor_runner(case, opt_name, X, y, cores()),
                    "refnet_old": refnet_runner(case, opt_name, X, y, "old"),
                    "loop_1": loop_runner(case, opt_name, X, y, 1),
                    "loop_n": loop_runner(case, opt_name, X, y, cores()),
                }
                if with_keras:
                    try:
                        runners["keras"] = keras_runner(case, opt_name, X, y)
                    except ImportError as e:
                        skipped["keras"] = f"not importable: {e}"
                samples = measure(runners, rounds, switches)
                steps = runners["refnet"].steps
                rows.append(evaluate(case, opt_name, samples, X.shape[0], steps))
                log(
                    f"  fit {case.id} {opt_name}: timed in {time.perf_counter() - t0:.1f} s"
                )
        # BLAS' own default (one thread per core) and one thread
        peak = {
            "threads": os.cpu_count(),
            "gflops": gemm_peak(None),
            "gflops_1_thread": gemm_peak(1),
        }
    return {"rows": rows, "gemm_peak": peak, "skipped": skipped, "busy": busy}


def table(fit: dict) -> str:
    head = [
        "layout",
        "batch",
        "optimizer",
        "refnet samples/s",
        "Keras samples/s",
        "fit step",
        "floor 1 thread",
        "floor all cores",
        "GFLOP/s",
        "fit/best floor",
        "step loop/best floor",
        "fit/step loop",
        "fit/Keras",
        "fit/old policy",
    ]
    if fit.get("busy"):
        head += ["busy/quiet", "busy fit/old policy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in fit["rows"]:
        sps = row["samples_per_s"]
        cells = [
            row["layout"] + (" (digits)" if row["data"] == "digits" else ""),
            str(row["batch"]),
            row["optimizer"],
            f"{sps['refnet']:,.0f}",
            f"{sps['keras']:,.0f}" if "keras" in sps else "-",
            bc.fmt_time(row["step_s"]["refnet"]),
            bc.fmt_time(row["step_s"].get("floor_1", row["step_s"].get("floor"))),
            bc.fmt_time(row["step_s"].get("floor_n")),
            f"{row['gflops']:.1f}",
            _fmt_ratio(row, "fit/floor"),
            _fmt_ratio(row, "loop/floor"),
            _fmt_target(row, "fit/loop", "loop"),
            _fmt_target(row, "fit/keras", "keras"),
            _fmt_target(row, "fit/old", "old"),
        ]
        if fit.get("busy"):
            cells.append(_fmt_ratio(row, "busy/quiet"))
            cells.append(_fmt_target(row, "busy fit/old", "old_busy"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt_ratio(row: dict, key: str) -> str:
    r = row["ratios"].get(key)
    return "-" if r is None else f"{r:.2f}"


def _fmt_target(row: dict, key: str, target: str) -> str:
    """The ratio with its verdict, or the ratio alone where the row has no target."""
    r = row["ratios"].get(key)
    if r is None or target not in row["targets"]:
        return _fmt_ratio(row, key)
    t = row["targets"][target]
    return f"{r:.2f} {'pass' if t['pass'] else 'FAIL'} (<= {t['limit']:g})"


def report(fit: dict) -> list[bool]:
    """Print the fit table and the GEMM peak; return the targets' verdicts."""
    print(table(fit))
    p = fit["gemm_peak"]
    print(
        f"GEMM peak (float32 1024^3 product): {p['gflops']:.1f} GFLOP/s with BLAS' "
        f"default {p['threads']} threads, {p['gflops_1_thread']:.1f} GFLOP/s with 1; "
        "the GFLOP/s column is the step's matrix-product work over the fit step's time"
    )
    for name, why in fit.get("skipped", {}).items():
        print(f"skipped {name}: {why}")
    return [t["pass"] for r in fit["rows"] for t in r["targets"].values()]
