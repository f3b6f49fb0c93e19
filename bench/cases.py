"""The benchmark cases and backends shared by ``python -m bench`` and ``bench/test_bench.py``.

A case is a layout, a batch size and a dtype. Every backend is a ``Step``: a no-argument
callable ``run`` (what gets timed) and ``result()``, which runs it once and returns
(loss, [dW1, ...], [db1, ...]) as NumPy arrays so the backends can be compared before
they are timed. TensorFlow is imported lazily, once, inside ``tf_steps``.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import refnet

LOSS = "softmax_cross_entropy"
BACKENDS = ("refnet", "tf_eager", "tf_function", "tf_xla", "floor")
TF_BACKENDS = ("tf_eager", "tf_function", "tf_xla")
DTYPES = ("float32", "float64")

# (layout, batch): from the 3-5-2 worked example to 4096-wide layers.
SIZES = [
    ("3-5-2", 5),
    ("64-32-10", 32),
    ("784-256-128-10", 128),
    ("784-256-128-10", 1024),
    ("1024-1024-1024-10", 512),
    ("4096-4096-10", 1024),
]
QUICK_SKIP = {"4096-4096-10"}  # ~70 GFLOP a step: seconds per step on two cores
SMALL_LAYOUTS = {"3-5-2", "64-32-10"}
MEMORY_CASE = ("784-256-128-10", 1024)

# Targets (ratios measured in one run).
FLOOR_TARGET = 1.25  # refnet / GEMM floor, layouts with every hidden layer >= 256 wide
TF_TARGET = {"float64": 1.0, "float32": 1.1}  # refnet / best TF variant
SMALL_TARGET = 0.15  # refnet / tf.function on the small layouts
MEMORY_TARGET = 1.3  # peak allocation / bytes the result must hold


@dataclass(frozen=True)
class Case:
    layout: str
    batch: int
    dtype: str

    @property
    def sizes(self) -> list[int]:
        return [int(s) for s in self.layout.split("-")]

    @property
    def id(self) -> str:
        return f"{self.layout}-n{self.batch}-{self.dtype}"

    @property
    def group(self) -> str:
        """The pytest-benchmark group: one case's backends sit together."""
        return f"{self.layout} batch {self.batch} {self.dtype}"

    @property
    def wide(self) -> bool:
        """Every hidden layer >= 256 wide: the GEMM-floor target applies."""
        return all(n >= 256 for n in self.sizes[1:-1])

    @property
    def small(self) -> bool:
        return self.layout in SMALL_LAYOUTS

    @property
    def flops(self) -> int:
        """Floating-point operations of the floor's matrix products."""
        s, n = self.sizes, self.batch
        fwd = sum(2 * n * i * o for i, o in zip(s, s[1:]))
        dx = sum(2 * n * i * o for i, o in zip(s[1:-1], s[2:]))
        # a @ W and a.T @ delta per layer, delta @ W.T but the first
        return 2 * fwd + dx


def fmt_time(t: float | None) -> str:
    """A time in seconds as the tables print it: us below 1 ms, ms below 1 s."""
    if t is None:
        return "-"
    if t < 1e-3:
        return f"{t * 1e6:.0f} us"
    if t < 1:
        return f"{t * 1e3:.2f} ms"
    return f"{t:.2f} s"


def cases(quick: bool = False, dtypes=DTYPES) -> list[Case]:
    return [
        Case(layout, batch, dtype)
        for layout, batch in SIZES
        if not (quick and layout in QUICK_SKIP)
        for dtype in dtypes
    ]


def make_problem(case: Case, seed: int = 0):
    """net (relu hidden layers, linear output), X in [0, 1) and int class ids y."""
    sizes = case.sizes
    net = refnet.Network.build(sizes, seed=seed, dtype=case.dtype)
    rng = np.random.default_rng(seed + 1)
    # nonzero biases, so db is not trivially sum(delta) of zeros
    for layer in net.layers:
        layer.b = rng.normal(0, 0.1, layer.n_out).astype(case.dtype)
    X = rng.random((case.batch, sizes[0])).astype(case.dtype)
    y = rng.integers(0, sizes[-1], size=case.batch)
    return net, _away_from_kinks(net, X, rng), y


def _away_from_kinks(net, X, rng, rel: float = 1e-5, tries: int = 20):
    """Redraw the rows of X that put a hidden z within rel * max|z| of relu's kink.

    A z that rounds to the other side of 0 in TF's float32 sums flips relu'(z) and makes
    the backends differ by O(1) in one entry (docs/design.md: tolerance policy); those rows are
    redrawn, so the comparison before timing is at rounding level in float32 too.
    """
    for _ in range(tries):
        a = X.astype(np.float64)
        near_kink = np.zeros(X.shape[0], dtype=bool)
        for layer in net.layers[:-1]:
            z = a @ layer.W.astype(np.float64) + layer.b  # (n, n_l)
            near_kink |= (np.abs(z) < rel * np.abs(z).max()).any(axis=1)
            a = layer.activation.f(z)
        if not near_kink.any():
            break
        X[near_kink] = rng.random((near_kink.sum(), X.shape[1]))
    return X


@dataclass
class Step:
    name: str
    run: Callable[[], object]
    result: Callable[[], tuple]


def refnet_step(net, X, y) -> Step:
    def run():
        return net.gradients(X, y, LOSS)

    def result():
        res = run()
        return res.loss, res.dW, res.db

    return Step("refnet", run, result)


def floor_step(net, X, y) -> Step:
    """Only the matrix products of one step, on refnet's own a, delta and W arrays."""
    res = net.gradients(X, y, LOSS)
    a, delta = res.a, res.delta
    W = [layer.W for layer in net.layers]
    L = len(W)

    def run():
        dW = [None] * L
        for l in range(L):  # list index l is layer l+1
            z = a[l] @ W[l]  # (n, n_l)                FP1
            dW[l] = a[l].T @ delta[l]  # (n_{l-1}, n_l)  BP4
            if l > 0:
                g = delta[l] @ W[l].T  # (n, n_{l-1})  BP2
        del z, g
        return dW

    def result():
        return None, run(), None

    return Step("floor", run, result)


_TF = None
_THREADS: int | None = None  # None: each library's default
_BLAS_LIMIT = None


def set_threads(n: int | None) -> None:
    """Give BLAS and TensorFlow's thread pools ``n`` threads each (None: their defaults).

    Call before TensorFlow is first used. On a machine whose cores are busy with other
    work, OpenBLAS' static split of a GEMM between threads waits for the slowest one,
    while TF's work-stealing pool does not; ``n = 1`` compares the two core for core.
    """
    global _THREADS, _BLAS_LIMIT
    _THREADS = n
    if n is not None:
        from threadpoolctl import threadpool_limits

        _BLAS_LIMIT = threadpool_limits(limits=n, user_api="blas")


def _tf():
    """TensorFlow, imported once per process (quietly)."""
    global _TF
    if _TF is None:
        from crosscheck.frameworks.tf.imports import import_tensorflow_quietly

        tf, _ = import_tensorflow_quietly()
        # one tf.function per case: retracing is expected
        tf.get_logger().setLevel("ERROR")
        if _THREADS is not None:
            tf.config.threading.set_intra_op_parallelism_threads(_THREADS)
            tf.config.threading.set_inter_op_parallelism_threads(_THREADS)
        _TF = tf
    return _TF


def tf_steps(net, X, y) -> dict[str, Step]:
    """The same step in TensorFlow: eager GradientTape, tf.function, and XLA.

    Raw TF ops (matmul, +, relu, sparse softmax cross-entropy, reduce_mean), which is
    what a Keras Dense/loss stack lowers to, without Keras' Python layer overhead.
    """
    tf = _tf()
    Ws = [tf.Variable(layer.W) for layer in net.layers]
    bs = [tf.Variable(layer.b) for layer in net.layers]
    relu = [layer.activation.name == "relu" for layer in net.layers]
    variables = [v for pair in zip(Ws, bs) for v in pair]
    Xt = tf.constant(X)
    yt = tf.constant(np.asarray(y, dtype=np.int32))

    def step():
        with tf.GradientTape() as tape:
            a = Xt
            for W, b, is_relu in zip(Ws, bs, relu):
                z = tf.matmul(a, W) + b  # (n, n_l)   FP1
                a = tf.nn.relu(z) if is_relu else z  # FP2
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yt, logits=a)
            )
        return loss, tape.gradient(loss, variables)

    def as_numpy(fn):
        def result():
            loss, grads = fn()
            grads = [g.numpy() for g in grads]
            return float(loss), grads[::2], grads[1::2]

        return result

    fns = {
        "tf_eager": step,
        "tf_function": tf.function(step),
        "tf_xla": tf.function(step, jit_compile=True),
    }
    return {name: Step(name, fn, as_numpy(fn)) for name, fn in fns.items()}


def all_steps(
    case: Case, with_tf: bool = True
) -> tuple[dict[str, Step], dict[str, str]]:
    """Every backend's Step for the case, and {backend: reason} for those unavailable."""
    net, X, y = make_problem(case)
    steps = {"refnet": refnet_step(net, X, y)}
    skipped = {}
    if with_tf:
        try:
            steps.update(tf_steps(net, X, y))
        except ImportError as e:
            skipped.update(
                dict.fromkeys(TF_BACKENDS, f"TensorFlow not importable: {e}")
            )
    else:
        skipped.update(dict.fromkeys(TF_BACKENDS, "TensorFlow disabled (--no-tf)"))
    steps["floor"] = floor_step(net, X, y)
    return steps, skipped


# ---------------------------------------------------------------------------------
# Same loss and gradients on every backend
# ---------------------------------------------------------------------------------


def tolerance(case: Case) -> float:
    """rtol = C eps sqrt(n) (TOL1), n the longest reduction, C = 10 scaled with depth."""
    eps = np.finfo(case.dtype).eps
    depth = len(case.sizes) - 1
    n = max(case.sizes + [case.batch])
    return 10 * max(1.0, depth / 4) * eps * math.sqrt(n)


def compare(case: Case, results: dict[str, tuple]) -> list[str]:
    """Mismatches of each backend's (loss, dW, db) against refnet's; [] when all agree.

    Elementwise |got - ref| <= atol + rtol |ref| with atol = rtol max|ref| (TOL1).
    """
    rtol = tolerance(case)
    ref_loss, ref_dW, ref_db = results["refnet"]
    problems = []
    for name, (loss, dW, db) in results.items():
        if name == "refnet":
            continue
        pairs = []
        if loss is not None:
            pairs.append(("loss", np.asarray(loss), np.asarray(ref_loss)))
        for label, got, ref in (("dW", dW, ref_dW), ("db", db, ref_db)):
            if got is not None:
                pairs += [
                    (f"{label}{l + 1}", g, r) for l, (g, r) in enumerate(zip(got, ref))
                ]
        for label, got, ref in pairs:
            got = np.asarray(got, dtype=np.float64)
            ref = np.asarray(ref, dtype=np.float64)
            err = np.abs(got - ref)
            tol = rtol * np.max(np.abs(ref)) + rtol * np.abs(ref)
            if got.shape != ref.shape or not (err <= tol).all():
                problems.append(
                    f"{case.id} {name} {label}: max error {err.max():.3g}, "
                    f"rtol {rtol:.3g} (max |ref| {np.max(np.abs(ref)):.3g})"
                )
    return problems


def check(case: Case, steps: dict[str, Step]) -> dict[str, str]:
    """Run every backend once and assert they agree with refnet (before any timing).

    A TensorFlow backend that cannot run here (say XLA without a CPU compiler) is
    removed from ``steps``; returns {backend: reason} for those.
    """
    results, skipped = {}, {}
    for name in list(steps):
        try:
            results[name] = steps[name].result()
        except Exception as e:  # TF raises many types; refnet and floor must not fail
            if name not in TF_BACKENDS:
                raise
            skipped[name] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            del steps[name]
    problems = compare(case, results)
    if problems:
        raise AssertionError("backends disagree:\n" + "\n".join(problems))
    return skipped


# ---------------------------------------------------------------------------------
# Memory: peak allocation of one refnet step against what its result must hold
# ---------------------------------------------------------------------------------


def result_bytes(res) -> int:
    """Bytes of the distinct arrays a Gradients result holds: z, a[1:], delta, dW, db.

    a[0] = X is the caller's; an array listed twice (a linear layer's a is its z) counts once.
    """
    arrays = {}
    for arr in [*res.z, *res.a[1:], *res.delta, *res.dW, *res.db]:
        base = arr if arr.base is None else arr.base
        arrays[id(base)] = base.nbytes
    return sum(arrays.values())


def memory(case: Case) -> tuple[int, int]:
    """(peak bytes allocated during one net.gradients call, bytes its result holds)."""
    net, X, y = make_problem(case)
    net.gradients(X, y, LOSS)  # warm-up: first-call allocations are not the step's
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        res = net.gradients(X, y, LOSS)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, result_bytes(res)


# ---------------------------------------------------------------------------------
# What the numbers were measured on
# ---------------------------------------------------------------------------------


def environment(with_tf: bool = True) -> dict:
    """Python, NumPy, BLAS (threadpoolctl), CPU count, and TensorFlow with its oneDNN setting."""
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "refnet": getattr(refnet, "__version__", "?"),
        "blas": [],
        # forces OpenBLAS' kernels (e.g. Haswell = AVX2 on an AVX-512 CPU): recorded
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "unset"),
        "REFNET_BLAS_THREADS": os.environ.get("REFNET_BLAS_THREADS", "unset (auto)"),
    }
    try:
        from threadpoolctl import threadpool_info

        env["blas"] = [
            {
                k: info.get(k)
                for k in (
                    "internal_api",
                    "version",
                    "num_threads",
                    "architecture",
                    "threading_layer",
                    "filepath",
                )
            }
            for info in threadpool_info()
        ]
    except ImportError:
        env["blas"] = "threadpoolctl not installed"
    if with_tf:
        try:
            tf = _tf()
        except ImportError as e:
            env["tensorflow"] = f"not importable: {e}"
        else:
            env["tensorflow"] = tf.__version__
            env["tf_intra_op_threads"] = (
                tf.config.threading.get_intra_op_parallelism_threads()
            )
            env["tf_inter_op_threads"] = (
                tf.config.threading.get_inter_op_parallelism_threads()
            )
            env["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get(
                "TF_ENABLE_ONEDNN_OPTS", "unset (TF's default: on for x86 CPUs)"
            )
            try:
                from tensorflow.python.util import _pywrap_util_port

                env["tf_onednn_enabled"] = bool(_pywrap_util_port.IsMklEnabled())
            except (ImportError, AttributeError):
                env["tf_onednn_enabled"] = "unknown"
    return env


def describe_blas(env: dict) -> str:
    blas = env.get("blas")
    if not blas or isinstance(blas, str):
        return f"BLAS: {blas or 'unknown'}"
    return "; ".join(
        f"{b['internal_api']} {b['version']} ({b['architecture']}), {b['num_threads']} threads"
        for b in blas
    )
