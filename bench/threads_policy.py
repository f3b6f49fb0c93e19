"""python -m bench.threads_policy: the measurement behind refnet.threads' default.

Times one epoch of ``net.fit`` (Adam, float32) per batch, with the BLAS thread counts
1 and 2 (``fit(threads=...)``), with the "auto" policy (measured) and with the policy
before it ("old": ``bench.fit.legacy_threads``), on a quiet machine and with
one competing ``while True: pass`` process (stopped with SIGSTOP in quiet rounds), all
interleaved in one run. Prints ms per step and each option's busy / quiet ratio, and
each option against the best quiet time. Each condition is timed in its steady state:
at each switch the tuner's kept answer is dropped and two untimed "auto" epochs probe the
new condition. A sample is as many epochs back to back as last about ``--sample-s``
seconds (one thread, quiet): under load a step now and then stalls for tens of
milliseconds, and the median of single short epochs would leave those out. Writes
nothing.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import refnet
from refnet.threads import forget

from . import cases as bc
from .fit import _time, busy_process, legacy_threads

LAYOUTS = [
    ("64-64-10", 32),
    ("784-512-10", 32),
    ("784-256-128-10", 128),
    ("1024-1024-1024-10", 512),
]
OPTIONS = (1, 2, "auto", "old")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.threads_policy", description=__doc__
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--rows", type=int, default=2048)
    p.add_argument("--sample-s", type=float, default=0.5)
    args = p.parse_args(argv)
    results = {}
    with busy_process() as (start, stop):
        stop()
        for layout, batch in LAYOUTS:
            sizes = [int(s) for s in layout.split("-")]
            rng = np.random.default_rng(0)
            X = rng.random((args.rows, sizes[0]), dtype=np.float32)
            y = rng.integers(0, sizes[-1], args.rows)
            nets = {
                o: refnet.Network.build(sizes, seed=0, dtype="float32") for o in OPTIONS
            }
            opts = {o: refnet.optimizers.Adam() for o in OPTIONS}

            def epoch(o):
                nets[o].fit(
                    X,
                    y,
                    bc.LOSS,
                    opts[o],
                    batch_size=batch,
                    seed=0,
                    progress=False,
                    threads=legacy_threads(sizes, batch) if o == "old" else o,
                )

            for o in OPTIONS:
                epoch(o)  # warm-up
            k = max(1, math.ceil(args.sample_s / _time(lambda: epoch(1))))
            samples = {(o, b): [] for o in OPTIONS for b in (False, True)}
            for r in range(args.rounds):
                for busy in (False, True):
                    if busy:
                        start()
                        time.sleep(0.05)
                    # each condition in its steady state (as bench.fit.measure): the
                    # tuner's kept answer dropped, untimed "auto" epochs probe anew (two:
                    # the probe takes 7 steps, an epoch of 1024-1024-1024-10 is 4)
                    forget()
                    epoch("auto")
                    epoch("auto")
                    for o in OPTIONS if r % 2 == 0 else reversed(OPTIONS):
                        samples[o, busy].append(_time(lambda: epoch(o), k))
                    if busy:
                        stop()
            steps = -(-args.rows // batch)
            results[layout, batch] = {
                k: statistics.median(v) / steps for k, v in samples.items()
            }
    print(
        "| layout | batch | threads | quiet ms/step | busy ms/step | busy/quiet | busy/best quiet |"
    )
    print("|---|---|---|---|---|---|---|")
    for (layout, batch), t in results.items():
        best = min(t[o, False] for o in OPTIONS)
        for o in OPTIONS:
            q, b = t[o, False], t[o, True]
            print(
                f"| {layout} | {batch} | {o} | {q * 1e3:.3f} | {b * 1e3:.3f} | "
                f"{b / q:.2f} | {b / best:.2f} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
