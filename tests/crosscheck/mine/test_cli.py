"""``crosscheck mine FILE.py:FUNC``: exit 0 all match, 1 a mismatch, 2 a usage error.

Runs the worked examples of docs/10-check-your-own.md (docs/examples/) and the
hand-written backprops of tests/crosscheck/mine/own_backprops.py through the CLI entry point.
"""

from __future__ import annotations

import importlib.util
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
    assert "Exit status: 0 all match, 1 a mismatch or an error, 2 usage" in out


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
    assert lines[0].endswith("  MATCH") and lines[1].endswith("  MATCH")
    assert "MISMATCH at dW1: dW1 (BP2" in lines[2] and "BP2 is missing" in lines[2]
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
        (
            [f"{OWN}:keras_matrix_mse", "--bias-shape", "column"],
            "--bias-shape: 'column'",
        ),
        ([f"{OWN}:keras_matrix_mse", "--batch", "0"], "--batch"),
        (
            [f"{OWN}:keras_matrix_mse", "--l2", "-1"],
            "--l2: expected a finite number >= 0",
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


def test_the_reference_check_takes_oracle_and_a_bad_one_is_named(capsys):
    """--oracle chooses the frameworks refnet itself is checked against (--no-frameworks
    turns the check off); an unknown name is a usage error naming --oracle."""
    pytest.importorskip("torch")
    target = f"{OWN}:keras_matrix_mse"
    base = ["--layout", "4-6-3", "--activations", "sigmoid,linear", "--loss", "mse"]
    assert main(["mine", target, *base, "--oracle", "torch"]) == 0
    out = capsys.readouterr().out
    assert "the reference itself: refnet matches PyTorch on this network" in out
    assert main(["mine", target, *base, "--oracle", "torch,caffe"]) == 2
    assert "--oracle: expected one of [" in capsys.readouterr().err
    assert main(["mine", target, *base, "--no-frameworks"]) == 0
    assert "the reference itself" not in capsys.readouterr().out


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
    """``python -m crosscheck mine ...`` as chapter 10 shows it, from the repo root."""
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


# ---------------------------------------------------------------------------------
# Each file in its own child process (crosscheck/mine/sandbox.py)
# ---------------------------------------------------------------------------------

ROWS = [
    "--layout",
    "4-6-3",
    "--activations",
    "sigmoid,linear",
    "--loss",
    "mse",
    "--no-tensorflow",
]
# keras convention: rows, W (n_in, n_out), MSE averaged over outputs and batch
GOOD = """\
import numpy as np


def f(weights, X, Y):
    W1, b1, W2, b2 = weights
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    a2 = a1 @ W2 + b2
    delta2 = 2 * (a2 - Y) / a2.size
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)
    return [X.T @ delta1, delta1.sum(axis=0), a1.T @ delta2, delta2.sum(axis=0)]
"""
ENDINGS = {
    "exit_import": (
        "import sys\nsys.exit(0)\n",
        "called sys.exit(0) while being imported",
    ),
    "exit_call": (
        "import sys\ndef f(w, X, Y):\n    sys.exit(0)\n",
        "called sys.exit(0) while being called",
    ),
    "os_exit": (
        "import os\ndef f(w, X, Y):\n    os._exit(0)\n",
        "the process exited (code 0, as os._exit(0) does) without a result while "
        "calling f",
    ),
    "segfault": (
        "import ctypes\ndef f(w, X, Y):\n    ctypes.string_at(0)\n",
        "the process died with signal SIGSEGV (segmentation fault) while calling f",
    ),
}


def _files(folder, **endings) -> list[str]:
    """GOOD plus each ending, one file per name, as FILE.py:f targets."""
    targets = []
    for name, ending in endings.items():
        (folder / f"{name}.py").write_text(GOOD + ending)
        targets.append(f"{folder / name}.py:f")
    return targets


@pytest.mark.skipif(os.name != "posix", reason="a segfault is a POSIX signal")
def test_exits_and_crashes_are_error_lines_and_the_run_goes_on(tmp_path, capsys):
    endings = {name: ending for name, (ending, _) in ENDINGS.items()}
    targets = _files(tmp_path, good="", **endings, also_good="")
    out = tmp_path / "r.json"
    assert main(["mine", *targets, *ROWS, "--json", str(out)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].endswith("good.py:f         MATCH")
    for line, (_, cause) in zip(lines[1:], ENDINGS.values()):
        assert line.endswith(f"  ERROR {cause}")
    assert lines[5].endswith("  MATCH") and lines[-1] == "2 of 6 match"
    data = json.loads(out.read_text())
    assert [d["ok"] for d in data] == [True, False, False, False, False, True]
    assert data[4]["error"].startswith("the process died with signal SIGSEGV")


def test_a_function_that_never_returns_is_stopped_at_the_timeout(tmp_path, capsys):
    (target,) = _files(
        tmp_path, hang="import time\ndef f(w, X, Y):\n    time.sleep(600)\n"
    )
    assert main(["mine", target, *ROWS, "--timeout", "1.5"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: did not return within 1.5 s (--timeout)" in out


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "soon"])
def test_the_timeout_is_a_positive_number_of_seconds(value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["mine", f"{OWN}:keras_matrix_mse", *ROWS, "--timeout", value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--timeout: expected a positive number of seconds" in err


def test_the_students_folder_cannot_shadow_the_standard_library(tmp_path, monkeypatch):
    """json.py and colorsys.py next to the file and in the working folder raise at
    import; the file's own helper module is still found."""
    student, here = tmp_path / "student", tmp_path / "here"
    for folder in (student, here):
        folder.mkdir()
        for name in ("json", "colorsys"):
            (folder / f"{name}.py").write_text("raise ImportError('shadowed')\n")
    (student / "helper.py").write_text(
        "import numpy as np\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
    )
    mine = GOOD.replace(
        "import numpy as np\n", "import colorsys, json\nimport numpy as np\n"
    )
    mine = mine.replace("1 / (1 + np.exp(-(X @ W1 + b1)))", "sigmoid(X @ W1 + b1)")
    (student / "mynet.py").write_text("from helper import sigmoid\n" + mine)
    monkeypatch.chdir(here)
    assert main(["mine", f"{student / 'mynet.py'}:f", *ROWS]) == 0


def test_json_with_a_too_long_name_is_refused_before_the_check(tmp_path, capsys):
    path = tmp_path / ("r" * 300 + ".json")
    assert main(["mine", f"{OWN}:keras_matrix_mse", *ROWS, "--json", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crosscheck mine: --json: the file name is 305 bytes long")
    assert "Traceback" not in err and os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--l2", "nan"], "--l2: expected a finite number >= 0, got nan"),
        (["--seed", "-1"], "--seed: expected an int >= 0, got -1"),
        (["--batch", "1000000000"], "--batch: "),
    ],
)
def test_argument_errors_name_the_flag(flags, message, capsys):
    assert main(["mine", f"{OWN}:keras_matrix_mse", *ROWS, *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"crosscheck mine: {message}") and "Traceback" not in err


def test_nielsen_with_a_flat_bias_is_refused_up_front(capsys):
    """Passes once conventions.get refuses columns with a flat bias (issue 20)."""
    argv = [f"{OWN}:nielsen_batch_matrix", *NIELSEN, "--bias-shape", "flat"]
    assert main(["mine", *argv]) == 2
    assert capsys.readouterr().err.startswith("crosscheck mine: --bias-shape: ")


def test_every_convention_axis_is_a_flag_and_no_bias_an_override(capsys):
    from crosscheck.mine.cli import _parser
    from crosscheck.mine.conventions import CHOICES

    text = _parser().format_help()
    assert all(f"--{axis.replace('_', '-')}" in text for axis in CHOICES)
    base = ["a.py:f", "--layout", "3-2", "--activations", "linear", "--loss", "mse"]
    assert _parser().parse_args(base).use_bias is None
    assert _parser().parse_args([*base, "--no-bias"]).use_bias is False


def test_a_network_without_bias(tmp_path, capsys):
    """Passes once check_backprop takes use_bias=False (issue 20): [W1, W2] in and out."""
    (tmp_path / "nobias.py").write_text(
        "import numpy as np\n"
        "def f(weights, X, Y):\n"
        "    W1, W2 = weights\n"
        "    a1 = np.tanh(X @ W1)\n"
        "    delta2 = 2 * (a1 @ W2 - Y) / Y.size\n"
        "    delta1 = (delta2 @ W2.T) * (1 - a1**2)\n"
        "    return [X.T @ delta1, a1.T @ delta2]\n"
    )
    args = ["--layout", "4-6-3", "--activations", "tanh,linear", "--loss", "mse"]
    target = f"{tmp_path / 'nobias.py'}:f"
    code = main(["mine", target, *args, "--no-bias", "--no-tensorflow"])
    assert code == 0, capsys.readouterr()


def test_one_file_that_exits_at_import_is_an_error_not_a_usage_error(tmp_path, capsys):
    (target,) = _files(tmp_path, exits="import sys\nprint('bye')\nsys.exit(3)\n")
    assert main(["mine", target, *ROWS]) == 1
    out = capsys.readouterr().out
    assert out.startswith("bye\n")
    assert out.endswith("ERROR: called sys.exit(3) while being imported\n")


def test_bias_can_be_turned_on_over_a_bias_less_preset(capsys):
    """d2l's preset has no bias; d2l's own MLP code has b1, b2: --bias checks it."""
    from crosscheck.mine.cli import _parser

    base = ["a.py:f", "--layout", "3-2", "--activations", "linear", "--loss", "mse"]
    assert _parser().parse_args([*base, "--bias"]).use_bias is True
    rows = ["--layout", "4-6-3", "--activations", "sigmoid,linear", "--loss", "mse"]
    target = f"{OWN}:keras_matrix_mse"
    args = ["--convention", "d2l", "--samples", "rows", "--weights-layout", "in_out"]
    flat = ["--bias-shape", "flat", "--mse-scale", "mean", "--no-tensorflow"]
    assert main(["mine", target, *rows, *args, *flat]) == 1
    assert main(["mine", target, *rows, *args, *flat, "--bias"]) == 0, (
        capsys.readouterr()
    )


def test_an_import_failure_names_its_cause_on_the_summary_line(tmp_path, capsys):
    (tmp_path / "syntax.py").write_text("def f(w, X, Y)\n    return w\n")
    (tmp_path / "raises.py").write_text("raise ValueError('not finished')\n")
    targets = [f"{tmp_path / 'syntax.py'}:f", f"{tmp_path / 'raises.py'}:f"]
    assert main(["mine", *targets, *ROWS]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "failed: SyntaxError: expected ':'" in lines[0], lines[0]
    assert lines[1].endswith("failed: ValueError: not finished"), lines[1]


def test_every_json_entry_has_the_same_keys(tmp_path, capsys):
    targets = _files(tmp_path, good="", exits="import sys\nsys.exit(0)\n")
    out = tmp_path / "r.json"
    assert main(["mine", *targets, *ROWS, "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    need = {
        "target",
        "verdict",
        "summary",
        "ok",
        "rows",
        "diagnosis",
        "stdout",
        "stderr",
        "reference",
    }
    assert all(need <= set(d) for d in data), [sorted(d) for d in data]
    assert [d["verdict"] for d in data] == ["MATCH", "ERROR"]


@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow not installed"
)
def test_the_reference_check_is_nobodys_timeout_and_survives_a_crash(tmp_path, capsys):
    """refnet against TensorFlow runs once, after the files, in a process of its own:
    with --timeout 2 (less than TensorFlow's import) the students are still checked,
    and the first file exiting at import does not skip the reference."""
    targets = _files(tmp_path, exits="import sys\nsys.exit(0)\n", good="")
    rows = [a for a in ROWS if a != "--no-tensorflow"]
    assert main(["mine", *targets, *rows, "--timeout", "2"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert "ERROR called sys.exit(0) while being imported" in lines[0]
    assert lines[1].endswith("MATCH"), lines
    assert lines[2].startswith("the reference itself: refnet matches TensorFlow"), lines
