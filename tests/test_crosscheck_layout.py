"""The shape of crosscheck's house, read from the source (AST), not from imports run.

One folder per framework (crosscheck/frameworks/<name>/), reached by generic code only
through the registry; no import circle, function-local imports included; functions short
enough to read in one sitting; every path the docs and docstrings name exists.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("refnet", "crosscheck")
FRAMEWORK_MODULES = ("tensorflow", "keras", "torch", "jax", "tf_keras")
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


def test_the_import_graph_has_no_cycle_counting_function_local_imports():
    graph = {
        name: sorted({t for t, _ in _imports(name, path) if t in MODULES and t != name})
        for name, path in MODULES.items()
        if name.startswith("crosscheck")  # refnet's own: tests/test_architecture.py
    }
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state and nxt in graph:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def _long_functions(package: str) -> list[str]:
    out = []
    for name, path in MODULES.items():
        if not name.startswith(package):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if PARSER_BUILDERS.search(node.name):
                continue
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant
            ) and isinstance(body[0].value.value, str):
                body = body[1:]  # the docstring does not count
            if not body:
                continue
            lines = body[-1].end_lineno - body[0].lineno + 1
            if lines > MAX_LINES:
                out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines}")
    return out


def test_no_function_is_longer_than_80_lines():
    long = _long_functions("crosscheck")  # refnet's: tests/test_architecture.py
    assert not long, "\n".join(long)


def test_every_path_the_docs_and_docstrings_name_exists():
    files = subprocess.run(
        ["git", "ls-files", "*.md", "*.py", "*.toml", "*.yml"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    pattern = re.compile(r"(?<![\w/.])((?:refnet|crosscheck)/[\w/]+\.py)")
    missing = sorted(
        f"{name}: {found}"
        for name in files
        if not name.startswith("docs/notebooks/")
        for found in pattern.findall((ROOT / name).read_text(encoding="utf-8"))
        if not (ROOT / found).exists()
    )
    assert not missing, "\n".join(missing)


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
    asserts = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for name, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert not asserts, asserts
