"""The shape of crosscheck's house, read from the source (AST), not from imports run:
one folder per framework (crosscheck/frameworks/<name>/), and no other module imports a
framework. (No import circle, short functions, no assert, named paths that exist: in
tests/test_architecture.py, for refnet/ and crosscheck/ alike.)
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("refnet", "crosscheck")
FRAMEWORK_MODULES = (
    "tensorflow",
    "keras",
    "torch",
    "jax",
    "jaxlib",
    "optax",
    "tf_keras",
)
# each framework's modules, imported only in its own folder crosscheck/frameworks/<name>/
OWN_FOLDER = {
    "tf": ("tensorflow", "keras", "tf_keras"),
    "torch": ("torch",),
    "jax": ("jax", "jaxlib", "optax"),
}
MAX_LINES = 80  # a function's body, its docstring excluded
PARSER_BUILDERS = re.compile(r"(_parser|build_parser)$")  # argparse tables, exempt


def _modules() -> dict[str, Path]:
    """Every module of refnet/ and crosscheck/ by its dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth; relative
    imports resolved; ``from X import y`` counts X.y where that is a module, else X."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub if sub in MODULES else target, node.lineno))
    return out


def test_no_module_outside_frameworks_imports_a_framework():
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in MODULES.items()
        if not name.startswith("crosscheck.frameworks.")
        for target, line in _imports(name, path)
        if target.split(".")[0] in FRAMEWORK_MODULES
    ]
    assert not bad, "\n".join(bad)


def test_each_framework_is_imported_only_in_its_own_folder():
    """jax and optax only in crosscheck/frameworks/jax/, torch only in torch/, ...: no
    framework folder reaches into another's framework."""
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in MODULES.items()
        if name.startswith("crosscheck.frameworks.")
        for target, line in _imports(name, path)
        for folder, modules in OWN_FOLDER.items()
        if target.split(".")[0] in modules
        and not name.startswith(f"crosscheck.frameworks.{folder}.")
    ]
    assert not bad, "\n".join(bad)


def test_only_the_jax_folder_imports_jax_anywhere_in_the_repository():
    """Every .py file of the repository outside tests/ (tools, docs' scripts too): jax,
    jaxlib and optax are imported in crosscheck/frameworks/jax/ only. bench/ is the
    exception by design: it times each framework's own step (TF, torch and JAX alike)."""
    jax_dir = ROOT / "crosscheck" / "frameworks" / "jax"
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        skip = ("tests", "bench", ".venv", "build")
        if rel.parts[0] in skip or path.is_relative_to(jax_dir):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            found += [
                f"{rel}:{node.lineno} imports {n}"
                for n in names
                if n.split(".")[0] in ("jax", "jaxlib", "optax")
            ]
    assert jax_dir.is_dir() and not found, "\n".join(found)


def test_the_exact_weight_transfer_is_checked_by_raising_not_by_assert():
    """The bridges' guarantee holds under python -O: a raise, not an assert."""
    import numpy as np

    from crosscheck.frameworks import check_transfer

    W = np.arange(6.0).reshape(2, 3)
    check_transfer(W.copy(), W, "layer 1: W")
    with pytest.raises(RuntimeError, match="layer 1: W: changed in transfer"):
        check_transfer(W.astype(np.float32), W, "layer 1: W")  # the dtype counts
    with pytest.raises(RuntimeError, match="layer 2: b: changed in transfer"):
        check_transfer(W + 1e-300, W + np.eye(2, 3), "layer 2: b")


def test_the_probability_clip_is_written_once():
    """Keras' 1e-7 clip of the cross-entropy from probabilities: refnet.losses.CLIP_EPSILON,
    imported wherever it is needed, never a literal again. Code only: the number token
    1e-7 on a line that clips (docstrings and comments may quote the value)."""
    found = []
    for path in MODULES.values():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.NUMBER or tok.string.lower() not in (
                "1e-7",
                "1e-07",
            ):
                continue
            line = lines[tok.start[0] - 1]
            if (
                re.search(r"clip|clamp", line, re.IGNORECASE)
                and not line.startswith("CLIP_EPSILON = ")  # the one definition
            ):
                found.append(f"{path.relative_to(ROOT)}:{tok.start[0]}")
    assert not found, found
