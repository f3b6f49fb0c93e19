"""The refnet command line: ``refnet summary LAYOUT --activations ...`` in-process through
``refnet.cli.main`` and as ``python -m refnet`` in a subprocess.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refnet import cli

ROOT = Path(__file__).resolve().parents[2]

# PC1 by hand for 784-256-128-10:
#   784*256 + 256 = 200,960;  256*128 + 128 = 32,896;  128*10 + 10 = 1,290
LAYER_PARAMS = ["200,960", "32,896", "1,290"]
TOTAL = f"{200_960 + 32_896 + 1_290:,}"  # 235,146
ARGS = ["summary", "784-256-128-10", "--activations", "relu,relu,linear"]


def run_module(*args: str) -> subprocess.CompletedProcess:
    """``python -m refnet ARGS`` from the project root, refnet importable without install."""
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    return subprocess.run(
        [sys.executable, "-m", "refnet", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_summary_table(text: str) -> None:
    """The Keras-like table: one row per Dense layer with its output shape, activation and
    parameter count, then the total."""
    lines = text.splitlines()
    rows = [line for line in lines if "(Dense)" in line]
    assert len(rows) == 3, text
    for row, shape, act, params in zip(
        rows,
        ["(None, 256)", "(None, 128)", "(None, 10)"],
        ["relu", "relu", "linear"],
        LAYER_PARAMS,
    ):
        assert shape in row and act in row and row.rstrip().endswith(params), row
    assert f"Total params: {TOTAL}" in text
    assert TOTAL == "235,146"


def test_summary_in_process(capsys):
    assert cli.main(ARGS) == 0
    assert_summary_table(capsys.readouterr().out)


def test_summary_as_python_m_refnet():
    proc = run_module(*ARGS)
    assert proc.returncode == 0, proc.stderr
    assert_summary_table(proc.stdout)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["summary", "784-x-10"],
            "layout: expected a layout like '3-5-2', got '784-x-10'",
        ),
        (["summary", "784"], "layout: expected at least two sizes"),
        (["summary", "784-0-10"], "layout: expected a positive int, got 0"),
        (
            ["summary", "784-10", "--activations", "relu,relu"],
            "--activations: expected 1",
        ),
        (
            ["summary", "784-10", "--activations", "swoosh"],
            "--activations: unknown name 'swoosh'",
        ),
    ],
)
def test_bad_layout_exits_nonzero_with_a_message(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code != 0
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_layout_exits_nonzero_as_python_m_refnet():
    proc = run_module("summary", "784-x-10")
    assert proc.returncode != 0
    assert "layout: expected a layout like '3-5-2', got '784-x-10'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_console_script_points_at_main():
    """pyproject's ``refnet`` script resolves to the same main the tests call."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, func = scripts["refnet"].split(":")
    assert getattr(importlib.import_module(module), func) is cli.main


def test_summary_default_activations(capsys):
    """Without --activations: relu hidden layers, linear output; 3-5-2 has 32 parameters."""
    assert cli.main(["summary", "3-5-2"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if "(Dense)" in line]
    assert "relu" in rows[0] and rows[0].rstrip().endswith("20")  # 3*5 + 5
    assert "linear" in rows[1] and rows[1].rstrip().endswith("12")  # 5*2 + 2
    assert "Total params: 32" in out


def test_summary_one_activation_for_every_layer(capsys):
    """--activations tanh on 3-5-2 means tanh for both layers, as Network.build("tanh")."""
    assert cli.main(["summary", "3-5-2", "--activations", "tanh"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if "(Dense)" in line]
    assert len(rows) == 2 and all("tanh" in row for row in rows)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--rounds", "0"], "--rounds: expected a positive int, got 0"),
        (["--plot", "/nonexistent/bench.png"], "--plot: expected an existing folder"),
        (["--json", "/nonexistent/r.json"], "--json: expected an existing folder"),
    ],
)
def test_bench_rejects_bad_options_before_timing(argv, message, capsys):
    """python -m bench fails at once on a bad option, not after minutes of timing."""
    from bench.__main__ import main as bench_main

    with pytest.raises(SystemExit) as info:
        bench_main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_output_paths_are_checked_before_any_work(tmp_path):
    from refnet.validation import check_output_folder

    data = tmp_path / "mnist.npz"
    data.write_bytes(b"data")
    cases = [
        (tmp_path, "expected a file path, got the folder"),
        ("/dev/full", "expected a regular file path"),
        ("/proc/out.json", "cannot write in the folder '/proc'"),
        (tmp_path / "absent" / "m.npz", "expected an existing folder"),
    ]
    for path, match in cases:
        with pytest.raises(ValueError, match="^--save: ") as info:
            check_output_folder(str(path), "--save")
        assert match in str(info.value)
    with pytest.raises(ValueError, match="--save: .* is the input --data"):
        check_output_folder(str(data), "--save", inputs={"--data": str(data)})
    with pytest.raises(
        ValueError, match="--save: .* exists; refusing to overwrite .*pass --force"
    ):
        check_output_folder(str(data), "--save", overwrite=False)
    check_output_folder(str(tmp_path / "new.npz"), "--save", overwrite=False)  # fine
    assert sorted(os.listdir(tmp_path)) == ["mnist.npz"]  # the probe left nothing
