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

import numpy as np
import pytest

import refnet
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


def test_crossover_map_smoke(tmp_path, monkeypatch):
    """The map on a tiny grid (not a benchmark, no timing claim): every cell has refnet's
    and the floor's time, an absent framework is skipped with its reason, and the table,
    the decomposition and the heat map are written where asked."""
    from bench import crossover as bm

    monkeypatch.setitem(bm.MAKERS, "jax", ("refnet_no_such_module", None))
    data = bm.run_map(
        widths=(16, 32),
        batches=(1, 4),
        rounds=1,
        sample_s=1e-4,
        frameworks=("jax_jit",),
        log=lambda msg: None,
    )
    assert [(c["width"], c["batch"]) for c in data["cells"]] == [
        (16, 1), (16, 4), (32, 1), (32, 4)
    ]  # fmt: skip
    assert all(set(c["times"]) == {"refnet", "floor"} for c in data["cells"])
    assert "not importable" in data["skipped"]["jax_jit"]
    assert "refnet/fastest" not in data["cells"][0]  # no framework ran
    assert "| 16 | 1 |" in bm.table(data) and "JAX" not in bm.table(data)
    assert set(data["model"]) == {"refnet"}
    path = tmp_path / "map.png"
    bm.plot(data, path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_crossover_ratio_is_against_the_fastest_framework_of_each_round():
    """refnet / fastest framework: per round, against the faster of the frameworks in
    that round; the median over rounds (hand-worked samples)."""
    from bench import crossover as bm

    samples = {
        "refnet": [1.0, 1.0, 1.0],
        "tf_function": [2.0, 0.5, 4.0],
        "torch": [4.0, 4.0, 0.8],
        "floor": [0.1, 0.1, 0.1],
    }
    cell = bm.evaluate(16, 1, samples)
    # per round: 1/2, 1/0.5, 1/0.8 -> median 1.25
    assert cell["refnet/fastest"] == 1.25
    assert cell["fastest"] == "tf_function"  # median 2.0 against torch's 4.0


def test_fit_floor_is_the_faster_of_one_thread_and_all_cores_per_round():
    from bench import fit as bench_fit

    case = bench_fit.FIT_CASES[1]
    samples = {
        "refnet": [1.2, 1.2, 1.2],
        "floor_1": [1.0, 2.0, 1.0],
        "floor_n": [2.0, 1.0, 0.5],
        "refnet_old": [1.0, 1.2, 1.5],
        "loop_1": [1.1, 1.5, 1.1],
        "loop_n": [1.5, 1.1, 0.55],
    }
    row = bench_fit.evaluate(case, "sgd", samples, n_rows=10, steps=1)
    assert row["ratios"]["fit/floor"] == pytest.approx(1.2)  # 1.2/1, 1.2/1, 1.2/0.5
    assert row["ratios"]["fit/old"] == pytest.approx(1.0)  # 1.2, 1.0, 0.8
    assert row["targets"]["old"]["pass"]
    # the step loop, also the faster count per round: 1.1, 1.1, 0.55 (1.1 x the floor)
    assert row["ratios"]["loop/floor"] == pytest.approx(1.1)
    # fit/loop per round: 1.2/1.1, 1.2/1.1, 1.2/0.55
    assert row["ratios"]["fit/loop"] == pytest.approx(1.2 / 1.1)


def test_step_loop_trains_as_fit_does():
    """The step loop's batches, backprop and update are fit's: one epoch of each from
    the same net, over the same rows in the same order, ends at the same weights."""
    from bench import fit as bench_fit

    case = bench_fit.FitCase("8-6-3", 4, "random")
    rng = np.random.default_rng(1)
    X, y = rng.random((12, 8), dtype=np.float32), rng.integers(0, 3, 12)
    loop = bench_fit.loop_runner(case, "adam", X, y)
    loop.run()
    net = refnet.Network.build(case.sizes, seed=0, dtype=bench_fit.DTYPE)
    order = np.random.default_rng(0).permutation(12)
    net.fit(
        X[order],
        y[order],
        "softmax_cross_entropy",
        bench_fit.refnet_optimizer("adam"),
        batch_size=4,
        shuffle=False,
        progress=False,
        threads=1,
    )
    got = loop.net.get_weights()
    for w, expected in zip(got, net.get_weights()):
        np.testing.assert_array_equal(w, expected)
    # a short last batch (10 rows, batches of 4): as many full batches as the floor's
    short = bench_fit.loop_runner(case, "sgd", X[:10], y[:10])
    assert short.steps == 3 == bench_fit.floor_runner(case, "sgd", X[:10], y[:10]).steps
    short.run()  # the third batch is rows 8, 9 and the first two of the order again


def test_map_section_writes_only_what_is_asked_and_replays(
    tmp_path, monkeypatch, capsys
):
    """--only map on a tiny grid, frameworks left out: the JSON goes where --json says
    (nothing else is written), and --from-json reprints it and fills the map markers."""
    from bench import __main__ as bench_main
    from bench import crossover as bm

    monkeypatch.setattr(bm, "FRAMEWORKS", ())
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "m.json"
    argv = [
        "--only",
        "map",
        "--widths",
        "16",
        "--batches",
        "1,2",
        "--rounds",
        "1",
        "--quick",
        "--no-tf",
        "--json",
        str(path),
    ]
    assert bench_main.main(argv) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]
    out = capsys.readouterr().out
    assert "| 16 | 2 |" in out and "map: 2 cells" in out
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- bench:map -->\nold\n<!-- /bench:map -->\nb\n")
    argv = ["--from-json", str(path), "--write-tables", str(doc)]
    assert bench_main.main(argv) == 0
    text = doc.read_text()
    assert "old" not in text and "| 16 | 1 |" in text and text.endswith("b\n")
    with pytest.raises(SystemExit):
        bench_main.main(["--only", "map", "--widths", "16,0"])
    assert "--widths" in capsys.readouterr().err
