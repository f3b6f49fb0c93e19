"""TensorFlow's start-up log lines stay off the user's terminal (crosscheck and bench)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_crosscheck_run_prints_no_tensorflow_start_up_lines():
    pytest.importorskip("tensorflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    proc = subprocess.run(
        [sys.executable, "-m", "crosscheck", "--layout", "3-5-2", "--dtype", "float64"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    for noise in (
        "absl::InitializeLog",
        "oneDNN custom operations",
        "cpu_feature_guard",
    ):
        assert noise not in proc.stderr + proc.stdout
    assert "PASS" in proc.stdout


def test_quiet_import_passes_other_stderr_lines_through(capfd):
    """Only the known notices are dropped: anything else written during the import shows."""
    pytest.importorskip("tensorflow")
    code = (
        "import os, sys\n"
        "os.write(2, b'before\\n')\n"
        "from crosscheck.frameworks.tf.imports import import_tensorflow_quietly\n"
        "import builtins\n"
        "real = builtins.__import__\n"
        "def noisy(name, *a, **k):\n"
        "    if name == 'keras' and 'tensorflow' not in sys.modules:\n"
        "        os.write(2, b'a real error line\\n')\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = noisy\n"
        "tf, keras = import_tensorflow_quietly()\n"
        "print(tf.__name__, keras.__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["tensorflow", "keras"]
    assert "a real error line" in proc.stderr and "before" in proc.stderr
    assert "oneDNN custom operations" not in proc.stderr


def test_compare_training_as_first_tensorflow_use_is_quiet():
    """compare_training imports TensorFlow itself when it is the first to need it."""
    pytest.importorskip("tensorflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    code = (
        "import numpy as np, refnet, crosscheck\n"
        "net = refnet.Network.build([3, 4, 2], seed=0)\n"
        "r = crosscheck.compare_training(net, np.ones((4, 3)), [0, 1, 0, 1],\n"
        "    'softmax_cross_entropy', refnet.optimizers.SGD(0.1), steps=2)\n"
        "print('ok' if r.ok else 'FAIL')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
    for noise in (
        "absl::InitializeLog",
        "oneDNN custom operations",
        "cpu_feature_guard",
    ):
        assert noise not in proc.stderr, proc.stderr
