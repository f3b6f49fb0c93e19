"""python -m bench's hygiene and bookkeeping (no timing claims: nothing here depends on
how fast anything ran).

A run writes nothing unless asked; bad arguments fail before any timing with a message
naming the flag; ratios and targets are computed from the samples as documented.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path

import pytest

bench_main = pytest.importorskip("bench.__main__")
from bench import fit as bench_fit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TRACKED = [ROOT / "bench" / "results.json", ROOT / "bench" / "bench.png"]


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _error(capsys, argv) -> str:
    with pytest.raises(SystemExit) as exc:
        bench_main.main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


def test_a_run_writes_no_file_by_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    before = [_digest(p) for p in TRACKED]
    code = bench_main.main(
        [
            "--no-tf",
            "--only",
            "step",
            "--layout",
            "3-5-2",
            "--dtype",
            "float32",
            "--rounds",
            "3",
            "--quick",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| 3-5-2 | 5 | float32 |" in out and "wrote" not in out
    assert [_digest(p) for p in TRACKED] == before
    assert list(tmp_path.iterdir()) == []


def test_json_is_written_only_where_asked_and_replays(tmp_path, capsys):
    path = tmp_path / "r.json"
    bench_main.main(
        [
            "--no-tf",
            "--only",
            "step",
            "--layout",
            "3-5-2",
            "--dtype",
            "float64",
            "--rounds",
            "3",
            "--quick",
            "--json",
            str(path),
        ]
    )
    data = json.loads(path.read_text())
    assert [r["layout"] for r in data["rows"]] == ["3-5-2"]
    assert data["fit"] is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp file left
    capsys.readouterr()
    assert bench_main.main(["--from-json", str(path)]) == 0
    assert "| 3-5-2 | 5 | float64 |" in capsys.readouterr().out


def test_save_targets_the_tracked_files(tmp_path, monkeypatch):
    """--save is the one way to the tracked results (redirected here to tmp_path)."""
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(bench_main, "HERE", tmp_path)
    bench_main.main(
        [
            "--no-tf",
            "--only",
            "step",
            "--layout",
            "3-5-2",
            "--dtype",
            "float32",
            "--rounds",
            "3",
            "--quick",
            "--save",
        ]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.png", "results.json"]


def test_unknown_layout_is_an_error_naming_the_choices(capsys):
    err = _error(capsys, ["--layout", "784-100-10"])
    assert "--layout: unknown 784-100-10" in err and "784-512-10" in err


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("{not json", "is not JSON"),
        ("[1, 2]", "is not a results file"),
        ('{"environment": {}, "rows": []}', "is not a results file"),
    ],
)
def test_from_json_missing_or_bad_files_fail_clearly(
    tmp_path, capsys, content, message
):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    err = _error(capsys, ["--from-json", str(path)])
    assert f"--from-json: {str(path)!r}" in err or "--from-json: no such file" in err
    assert message in err


def test_write_tables_needs_from_json_and_an_existing_file(tmp_path, capsys):
    assert "needs --from-json" in _error(capsys, ["--write-tables", "README.md"])
    err = _error(
        capsys, ["--from-json", "x.json", "--write-tables", str(tmp_path / "no.md")]
    )
    assert "--write-tables: no such file" in err


def _fit_row(
    layout="784-512-10", floor_ratio=1.1, keras_ratio=0.3, busy_ratio=None, loop=1.05
):
    """A fit row from synthetic samples with known per-round ratios (``loop``: fit over
    the step loop)."""
    case = next(c for c in bench_fit.FIT_CASES if c.layout == layout)
    refnet = [0.10, 0.20, 0.40]
    samples = {
        "refnet": refnet,
        "floor": [r / floor_ratio for r in refnet],
        "loop": [r / loop for r in refnet],
        "keras": [r / keras_ratio for r in refnet],
    }
    if busy_ratio is not None:
        samples["refnet_busy"] = [r * busy_ratio for r in refnet]
    return case, bench_fit.evaluate(case, "adam", samples, n_rows=4096, steps=128)


def test_fit_rows_ratios_targets_and_rates():
    case, row = _fit_row(floor_ratio=1.3, keras_ratio=0.3, busy_ratio=2.0, loop=1.05)
    assert row["ratios"]["fit/floor"] == pytest.approx(1.3)
    assert row["ratios"]["fit/loop"] == pytest.approx(1.05)
    assert row["ratios"]["loop/floor"] == pytest.approx(1.3 / 1.05)
    assert row["ratios"]["fit/keras"] == pytest.approx(0.3)
    assert row["ratios"]["busy/quiet"] == pytest.approx(2.0)
    # fit / step loop is the target; fit / floor and busy / quiet are reported only
    assert row["targets"]["loop"] == {
        "ratio": pytest.approx(1.05),
        "limit": 1.15,
        "pass": True,
    }
    assert row["targets"]["keras"]["pass"] is True
    assert set(row["targets"]) == {"loop", "keras"}
    assert row["epoch_s"]["refnet"] == 0.20  # the median
    assert row["step_s"]["refnet"] == pytest.approx(0.20 / 128)
    assert row["samples_per_s"]["refnet"] == pytest.approx(4096 / 0.20)
    # 784-512-10 at batch 32: 2 * 32 * (784*512 + 512*10) * 2 + 2 * 32 * 512 * 10 FLOP
    flops = 2 * 32 * (784 * 512 + 512 * 10) * 2 + 2 * 32 * 512 * 10
    assert case.flops == flops
    assert row["gflops"] == pytest.approx(flops / (0.20 / 128) / 1e9)


def test_fit_targets_fail_above_their_limits_and_digits_has_its_own():
    _, row = _fit_row(loop=1.16, keras_ratio=0.36)
    assert not row["targets"]["loop"]["pass"] and not row["targets"]["keras"]["pass"]
    _, row = _fit_row("64-64-10", loop=1.3, keras_ratio=0.11)
    assert "loop" not in row["targets"] and not row["targets"]["keras"]["pass"]
    _, row = _fit_row("64-64-10", keras_ratio=0.09)
    assert row["targets"]["keras"] == {
        "ratio": pytest.approx(0.09),
        "limit": 0.10,
        "pass": True,
    }


def test_fit_ratio_is_the_median_of_per_round_ratios_not_of_medians():
    case = bench_fit.FIT_CASES[1]
    samples = {"refnet": [1.0, 2.0, 9.0], "floor": [1.0, 1.0, 1.0]}
    row = bench_fit.evaluate(case, "sgd", samples, n_rows=10, steps=1)
    assert row["ratios"]["fit/floor"] == statistics.median([1.0, 2.0, 9.0])


def test_write_tables_replaces_only_the_marked_blocks(tmp_path):
    _, row = _fit_row(busy_ratio=1.2)
    data = {
        "environment": {},
        "rows": [],
        "fit": {
            "rows": [row],
            "busy": True,
            "skipped": {},
            "gemm_peak": {"threads": 1, "gflops": 100.0, "gflops_1_thread": 100.0},
        },
    }
    start, end = bench_main.MARKERS["fit"]
    doc = tmp_path / "README.md"
    doc.write_text(f"# Title\n\nbefore\n{start}\nold table\n{end}\nafter\n")
    blocks = bench_main.markdown_blocks(data)
    assert bench_main.write_tables(doc, blocks) == ["fit"]
    text = doc.read_text()
    assert text.startswith("# Title\n\nbefore\n" + start + "\n| layout |")
    assert "old table" not in text and text.endswith(end + "\nafter\n")
    assert "| 784-512-10 | 32 | adam |" in text and "| 1.05 pass (<= 1.15) |" in text
    assert "| 1.20 |" in text  # busy / quiet, no target
    plain = tmp_path / "other.md"
    plain.write_text("no markers\n")
    assert bench_main.write_tables(plain, blocks) == []
    assert plain.read_text() == "no markers\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "other.md"]


@pytest.mark.parametrize("page", ["09-speed.md", "09-speed.zh.md"])
def test_the_chapter_tables_are_the_saved_runs_in_the_pages_own_words(tmp_path, page):
    """Rewriting chapter 9's blocks (English and Chinese page) from the tracked runs
    (bench/results.json, bench/map.json) changes nothing: the pages show those runs, and
    the Chinese page keeps its own words (the map's column heads, the sentences around
    the tables), which the translators wrote by hand."""
    root = Path(__file__).resolve().parents[1]
    original = (root / "docs" / page).read_text()
    copy = tmp_path / page
    copy.write_text(original)
    lang = "zh" if page.endswith(".zh.md") else "en"
    for run in ("results.json", "map.json"):
        data = json.loads((root / "bench" / run).read_text())
        bench_main.write_tables(copy, bench_main.markdown_blocks(data, lang))
    assert copy.read_text() == original


def test_an_existing_json_is_not_replaced_without_force(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_text("an earlier run")
    argv = [
        "--no-tf",
        "--only",
        "step",
        "--layout",
        "3-5-2",
        "--dtype",
        "float64",
        "--rounds",
        "3",
        "--quick",
        "--json",
        str(path),
    ]
    with pytest.raises(SystemExit) as exc:
        bench_main.main(argv)
    assert exc.value.code == 2 and "--json" in capsys.readouterr().err
    assert path.read_text() == "an earlier run"
    bench_main.main(argv + ["--force"])
    assert json.loads(path.read_text())["rows"][0]["layout"] == "3-5-2"
