"""refnet is NumPy only: importing it never imports TensorFlow, and no source file in
refnet/ contains an import of tensorflow (or keras), not even a lazy one.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "refnet"
FORBIDDEN = ("tensorflow", "keras")
IMPORT_TEXT = re.compile(r"\b(?:import|from)\s+(?:tensorflow|keras)\b")


def imported_modules(source: str) -> list[str]:
    """Every module named by an import statement or an import_module/__import__ call."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            fname = (
                func.attr
                if isinstance(func, ast.Attribute)
                else getattr(func, "id", "")
            )
            first = node.args[0]
            if fname in ("import_module", "__import__") and isinstance(
                first, ast.Constant
            ):
                names.append(str(first.value))
    return names


def test_import_refnet_does_not_import_tensorflow():
    code = (
        "import refnet, refnet.cli, refnet.gradcheck, sys; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')]; "
        "assert not bad, bad"
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_no_module_imports_tensorflow(path):
    found = [
        m for m in imported_modules(path.read_text()) if m.split(".")[0] in FORBIDDEN
    ]
    assert not found, f"{path.name} imports {found}"
    # Also in strings and doctests (exec'd code, ">>> import tensorflow as tf").
    text_hits = IMPORT_TEXT.findall(path.read_text())
    assert not text_hits, f"{path.name} contains {text_hits}"


def test_the_scan_would_catch_an_import():
    """The scanner itself can fail: it sees plain, from- and lazy imports."""
    src = "def f():\n    import tensorflow as tf\nfrom keras import layers\nimportlib.import_module('tensorflow')\n"
    assert sorted(imported_modules(src)) == ["keras", "tensorflow", "tensorflow"]
    assert len(IMPORT_TEXT.findall(src)) == 2


@pytest.mark.parametrize(
    "platform, machine, expected",
    [
        ("linux", "x86_64", "tensorflow-cpu"),
        ("win32", "AMD64", "tensorflow-cpu"),
        ("darwin", "arm64", "tensorflow"),  # no tensorflow-cpu wheel for Apple silicon
        ("darwin", "x86_64", "tensorflow"),
        ("linux", "aarch64", "tensorflow"),
    ],
)
def test_the_tf_extra_picks_exactly_one_tensorflow_wheel_per_platform(
    platform, machine, expected
):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    requirements = pytest.importorskip("packaging.requirements")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        extra = tomllib.load(fh)["project"]["optional-dependencies"]["tf"]
    env = {"sys_platform": platform, "platform_machine": machine}
    chosen = [
        r.name
        for r in map(requirements.Requirement, extra)
        if r.name.startswith("tensorflow")
        and (r.marker is None or r.marker.evaluate(env))
    ]
    assert chosen == [expected]
