"""pytest-benchmark: one forward + backward step per backend, layout and dtype.

Run explicitly (bench/ is outside the default test paths):

    python -m pytest bench/ --benchmark-only

Rows are grouped by case ("784-256-128-10 batch 1024 float32"), so one size's backends
sit side by side. Before a case is timed, every backend's loss, dW and db are checked
once against refnet's (``bench.cases.check``). ``python -m bench`` prints the ratios and
the targets; this suite gives pytest-benchmark's statistics and its JSON/compare tools.
Set ``BENCH_QUICK=1`` to skip 4096-4096-10.
"""

from __future__ import annotations

import functools
import os
import time

import pytest

from bench import cases as bc
from bench.__main__ import SWITCH_PAUSE_S

CASES = bc.cases(quick=bool(os.environ.get("BENCH_QUICK")))


# one case's steps alive at a time (4096-wide weights are big)
@functools.lru_cache(maxsize=1)
def checked_steps(case: bc.Case):
    """Every backend's Step for the case, checked against refnet; and the skip reasons."""
    steps, skipped = bc.all_steps(case, with_tf=_tf_available())
    skipped.update(bc.check(case, steps))
    # the check just ran TF: pause before the next numpy backend
    _last_library[0] = "tf"
    return steps, skipped


@functools.cache
def _tf_available() -> bool:
    try:
        bc._tf()
    except ImportError:
        return False
    return True


def _rounds(case: bc.Case) -> int:
    """Fewer rounds for the cases whose step takes a second or more."""
    return max(3, min(50, int(3e10 / case.flops)))


@pytest.mark.parametrize("backend", bc.BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_step(benchmark, case, backend):
    """One step (FP1-FP2, BP1-BP4) of ``backend`` on ``case``; all backends agree first."""
    if backend in bc.TF_BACKENDS and not _tf_available():
        pytest.skip("TensorFlow is not installed")
    steps, skipped = checked_steps(case)
    if backend in skipped:
        pytest.skip(f"{backend}: {skipped[backend]}")
    benchmark.group = case.group
    benchmark.extra_info.update(layout=case.layout, batch=case.batch, dtype=case.dtype)
    _switch_library(backend)
    benchmark.pedantic(steps[backend].run, rounds=_rounds(case), warmup_rounds=2)


_last_library = [None]


def _switch_library(backend: str) -> None:
    """Let the other library's idle threads stop spinning first (see bench.__main__)."""
    library = "tf" if backend in bc.TF_BACKENDS else "numpy"
    if _last_library[0] != library:
        time.sleep(SWITCH_PAUSE_S)
    _last_library[0] = library


def test_compare_catches_a_wrong_gradient():
    """The check before timing can fail: a floor dW off by one rounding-scale step passes,
    one off by 1e-3 relative does not (not a benchmark: run without --benchmark-only)."""
    case = bc.Case("64-32-10", 32, "float32")
    net, X, y = bc.make_problem(case)
    ref = bc.refnet_step(net, X, y).result()
    good = [w.copy() for w in ref[1]]
    good[0] += bc.tolerance(case) / 10 * abs(good[0]).max()
    assert bc.compare(case, {"refnet": ref, "floor": (None, good, None)}) == []
    bad = [w.copy() for w in ref[1]]
    bad[1][0, 0] += 1e-3 * abs(bad[1]).max()
    problems = bc.compare(case, {"refnet": ref, "floor": (None, bad, None)})
    assert len(problems) == 1 and "floor dW2" in problems[0], problems
