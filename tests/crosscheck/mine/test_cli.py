"""``crosscheck mine FILE.py:FUNC``: exit 0 all match, 1 a mismatch, 2 a usage error.

Runs the worked examples of docs/10-check-your-own.md (docs/examples/) and the
hand-written backprops of tests/crosscheck/mine/own_backprops.py through the CLI entry point.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crosscheck.cli import main

ROOT = Path(__file__).resolve().parents[3]
OWN = str(ROOT / "tests" / "crosscheck" / "mine" / "own_backprops.py")
EX = ROOT / "docs" / "examples"
NIELSEN = [
    "--layout",
    "784-30-10",
    "--activations",
    "sigmoid",
    "--loss",
    "mse",
    "--convention",
    "nielsen",
    "--no-tensorflow",
]


def test_help_says_it_runs_the_users_file(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["mine", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "imports and runs each given Python file" in out
    assert "Exit status: 0 all match, 1 a mismatch, 2 usage" in out


def test_one_matching_file_prints_the_table_and_exits_0(capsys):
    assert main(["mine", f"{EX / 'nielsen_backprop.py'}:backprop", *NIELSEN]) == 0
    out = capsys.readouterr().out
    assert "dW1       (30, 784)" in out and "PASS: 4 quantities agree" in out
    assert "every quantity you returned matches refnet's" in out


def test_one_buggy_file_prints_the_diagnosis_and_exits_1(capsys):
    args = [
        "--layout",
        "4-8-8-3",
        "--activations",
        "tanh,tanh,linear",
        "--loss",
        "mse",
        "--no-tensorflow",
    ]
    assert main(["mine", f"{EX / 'per_example.py'}:backprop_buggy", *args]) == 1
    out = capsys.readouterr().out
    assert "FAIL: first mismatch at dW2" in out
    assert (
        'dW2 (BP2, chapter 6 "Backpropagation"): the f\'(z[2]) factor of BP2 is missing'
        in out
    )


def test_several_files_one_line_each(capsys):
    targets = [
        f"{OWN}:nielsen_batch_matrix",
        f"{OWN}:nielsen_per_example",
        f"{OWN}:bug_nielsen_no_sigmoid_prime",
        f"{OWN}:bug_raises",
    ]
    assert main(["mine", *targets, *NIELSEN]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].endswith("  ok") and lines[1].endswith("  ok")
    assert "FAIL at dW1: dW1 (BP2" in lines[2] and "BP2 is missing" in lines[2]
    assert "ERROR fn returned something unreadable: expected 4 gradients" in lines[3]
    assert lines[-1] == "2 of 4 match"


def test_overrides_and_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(
        [
            "mine",
            f"{OWN}:rows_sum_squared",
            "--layout",
            "4-6-3",
            "--activations",
            "sigmoid,linear",
            "--loss",
            "mse",
            "--reduction",
            "sum",
            "--mse-scale",
            "sum",
            "--no-tensorflow",
            "--json",
            str(out),
            "--seed",
            "3",
            "--batch",
            "5",
        ]
    )
    assert code == 0, capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data[0]["ok"] and data[0]["target"].endswith(":rows_sum_squared")
    assert "batch 5" in data[0]["title"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["nofile.py:f"], "no such file 'nofile.py'"),
        ([f"{OWN}"], "expected FILE.py:FUNC"),
        ([f"{OWN}:nothing"], "defines no 'nothing'"),
        ([f"{OWN}:CORRECT"], "CORRECT is a list, not a function"),
        (
            [f"{OWN}:keras_matrix_mse", "--activations", "tanh,tanh,tanh"],
            "--activations: expected 2 names",
        ),
        (
            [f"{OWN}:keras_matrix_mse", "--activations", "sigmoidd"],
            "unknown name 'sigmoidd'",
        ),
        ([f"{OWN}:keras_matrix_mse", "--bias-shape", "column"], "bias_shape: 'column'"),
        ([f"{OWN}:keras_matrix_mse", "--batch", "0"], "--batch"),
        (
            [f"{OWN}:keras_matrix_mse", "--l2", "-1"],
            "l2: expected a finite number >= 0",
        ),
        (
            [f"{OWN}:keras_matrix_mse", "--json", "/no/such/folder/r.json"],
            "--json: expected an existing folder",
        ),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    base = {"--layout": "4-6-3", "--activations": "sigmoid,linear", "--loss": "mse"}
    for flag in [a for a in argv if a in base]:
        base.pop(flag)
    extra = [x for kv in base.items() for x in kv]
    assert main(["mine", *argv, *extra, "--no-tensorflow"]) == 2
    assert message in capsys.readouterr().err


def test_a_file_that_fails_to_import_is_a_usage_error(tmp_path, capsys):
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy\nx = 1 / 0\n")
    assert (
        main(
            [
                "mine",
                f"{bad}:f",
                "--layout",
                "3-2",
                "--activations",
                "linear",
                "--loss",
                "mse",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "importing" in err and "ZeroDivisionError" in err and "x = 1 / 0" in err


def test_the_matrix_cli_is_unchanged_without_the_subcommand(capsys):
    pytest.importorskip("tensorflow")
    assert main(["--layout", "3-5-2", "--dtype", "float64", "--batch", "4"]) == 0
    assert "PASS: refnet matches TensorFlow" in capsys.readouterr().out


def test_console_script_form_runs_the_readme_example():
    """``python -m crosscheck mine ...`` as README.md shows it, from the repo root."""
    cmd = [
        sys.executable,
        "-m",
        "crosscheck",
        "mine",
        "docs/examples/nielsen_backprop.py:backprop",
        *NIELSEN,
    ]
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS: 4 quantities agree" in proc.stdout
