"""How many BLAS threads ``Network.fit`` runs its matrix products with.

NumPy's BLAS (OpenBLAS, MKL) splits each matrix product statically between its threads
and waits for the slowest; OpenBLAS' idle threads also spin for a while before sleeping.
On a machine whose cores are all busy (another process, a shared CI runner, a 2-vCPU
notebook) one of the threads is descheduled and every product waits for it: measured on
2 shared cores, training with two threads ran up to 30 times slower than with one
(docs/09-speed.md). For small products a second thread gains little in any case. So
the policy is:

    "auto" (the default): one thread unless the machine has a core to spare for every
            thread and the step's largest product is big enough to gain from them
            (>= BIG_GEMM_FLOPS floating-point operations);
    an int n: n threads;
    "all": leave BLAS as it is (its own default, usually one thread per core).

The default can be changed with the environment variable ``REFNET_BLAS_THREADS`` (an int,
"auto" or "all"), and per call with ``fit(..., threads=...)``. The thread count changes
the speed, and the results only to rounding: BLAS may sum a product in another order
with another thread count (bit for bit the same at one count).
"""

from __future__ import annotations

import contextlib
import numbers
import os

ENV_VAR = "REFNET_BLAS_THREADS"

# A product of fewer floating-point operations runs on one thread under "auto". On 2
# shared cores (docs/09-speed.md, python -m bench.threads_policy) one thread was as fast
# as two or faster for every layout from 64-64-10 to 1024-1024-1024-10, and two threads
# were up to 30 times slower with the cores busy. 100 MFLOP (1024-wide layers at batch 128
# and more) is where the policy lets a free core help: a judgement, since an idle machine
# could not be measured there.
BIG_GEMM_FLOPS = 1e8


def resolve(threads) -> int | str:
    """The policy in force: ``threads`` if given, else $REFNET_BLAS_THREADS, else "auto"."""
    source = "threads"
    if threads is None:
        threads = os.environ.get(ENV_VAR, "auto")
        source = ENV_VAR
        if threads.strip().isdigit():
            threads = int(threads)
    if isinstance(threads, str) and threads in ("auto", "all"):
        return threads
    if (
        isinstance(threads, numbers.Integral)
        and not isinstance(threads, bool)
        and threads >= 1
    ):
        return int(threads)
    raise ValueError(
        f"{source}: expected a positive int, 'auto' or 'all', got {threads!r}"
    )


def largest_gemm_flops(sizes: list[int], batch: int) -> float:
    """Floating-point operations of the step's largest matrix product, 2 n n_{l-1} n_l."""
    return max(2.0 * batch * i * o for i, o in zip(sizes, sizes[1:]))


def cores_to_spare() -> float:
    """Cores not busy with other work: cores minus the 1-minute load average, which counts
    this process too while it runs (so an idle machine gives about cores - 1)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = cores or os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return float(cores)
    return cores - load


def choose(policy: int | str, sizes: list[int], batch: int) -> int | None:
    """Threads for a step of layout ``sizes`` at ``batch`` rows; None: leave BLAS alone."""
    if policy == "all":
        return None
    if isinstance(policy, int):
        return policy
    if largest_gemm_flops(sizes, batch) < BIG_GEMM_FLOPS:
        return 1
    return None if cores_to_spare() >= 1 else 1


@contextlib.contextmanager
def blas_threads(threads, net, batch_size: int):
    """Run the block with the BLAS thread count the policy chooses for ``net`` at
    ``batch_size`` (threadpoolctl); a no-op when threadpoolctl is not installed."""
    with blas_limit(choose(resolve(threads), net.sizes, batch_size)):
        yield


@contextlib.contextmanager
def blas_limit(n: int | None):
    """Run the block with BLAS limited to ``n`` threads (threadpoolctl); None, or no
    threadpoolctl installed, leaves BLAS as it is."""
    controller = _controller() if n is not None else None
    if controller is None:
        yield
        return
    with controller.limit(limits=n, user_api="blas"):
        yield


_CONTROLLER = []


def _controller():
    """threadpoolctl's view of the loaded BLAS libraries, built once (it scans the
    process' libraries: ~0.2 ms, against ~0.01 ms to set a limit); None without it."""
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]
