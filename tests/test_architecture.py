"""The architecture of refnet/ and crosscheck/, checked from the source (issue 18).

- The import graph of each package has no cycle, counting imports inside functions (a
  lazy import hides a cycle from Python, not from a reader).
- refnet/saving.py holds the .npz format and never imports refnet.network;
  ``Network.save``/``load`` delegate to it.
- No function in refnet/ or crosscheck/ is longer than 80 lines, its docstring excluded
  (argparse parser builders excepted).
- Library code raises for its guarantees: no ``assert`` statement (``python -O`` drops
  them).
- Every refnet/, crosscheck/ or tests/ path that the docs and docstrings name exists.

crosscheck's own rules (frameworks only in crosscheck/frameworks/) are in
tests/crosscheck/test_layout.py.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import numpy as np
import pytest

import refnet
import refnet.saving

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "refnet"
PACKAGES = [ROOT / "refnet", ROOT / "crosscheck"]
SOURCES = sorted(p for package in PACKAGES for p in package.rglob("*.py"))
MAX_LINES = 80


def module_name(path: Path, root: Path) -> str:
    """refnet/network.py -> "refnet.network"; refnet/__init__.py -> "refnet"."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, name: str, is_package: bool, known: set[str]) -> set[str]:
    """The modules of ``known`` that the module ``name`` imports, at any depth of its
    AST (module level, inside functions, under ``if TYPE_CHECKING``)."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # "from . import losses" names the module refnet.losses; "from .files
            # import X" names refnet.files
            targets = [
                f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            # "import refnet.network" also runs refnet/__init__: count the module named
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    root = package_dir.parent
    paths = sorted(package_dir.rglob("*.py"))
    known = {module_name(p, root) for p in paths}
    return {
        module_name(p, root): imports_of(
            p.read_text(), module_name(p, root), p.name == "__init__.py", known
        )
        for p in paths
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle [a, b, ..., a] of the directed graph, or None (depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_the_import_graph_has_no_cycle(package):
    graph = import_graph(package)
    # the graph was built: an edge each package is known to have
    assert (
        ("refnet.network" in graph["refnet.gradcheck"])
        if package.name == "refnet"
        else ("crosscheck.frameworks" in graph["crosscheck.check"])
    )
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_training_and_saving_do_not_import_network():
    graph = import_graph(PACKAGE)
    assert "refnet.network" not in graph["refnet.training"]
    assert "refnet.network" not in graph["refnet.saving"]


def test_the_cycle_finder_sees_a_function_local_import(tmp_path):
    """The check itself can fail: a lazy import back into a module is a cycle."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .a import g\n    return g\n")
    (pkg / "c.py").write_text("import pkg.a\nfrom pkg import b\nfrom .a import VALUE\n")
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.a"} and graph["pkg.c"] == {"pkg.a", "pkg.b"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    (pkg / "b.py").write_text("def f():\n    return 1\n")
    assert find_cycle(import_graph(pkg)) is None


def test_save_and_load_delegate_to_refnet_saving(tmp_path, monkeypatch):
    calls = []
    real_save, real_load = refnet.saving.save, refnet.saving.load

    def save(net, path):
        calls.append(("save", net))
        real_save(net, path)

    def load(cls, path):
        calls.append(("load", cls))
        return real_load(cls, path)

    monkeypatch.setattr(refnet.saving, "save", save)
    monkeypatch.setattr(refnet.saving, "load", load)

    class Sub(refnet.Network):
        pass

    net = refnet.Network.build([3, 4, 2], seed=0)
    path = tmp_path / "net.npz"
    net.save(path)
    back = Sub.load(path)
    assert calls == [("save", net), ("load", Sub)]
    assert type(back) is Sub
    for got, want in zip(back.get_weights(), net.get_weights()):
        np.testing.assert_array_equal(got, want)


def function_lengths(path: Path):
    """(qualified name, lines from ``def`` to the end minus the docstring's) for every
    function and method of one file."""
    tree = ast.parse(path.read_text())

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = child.end_lineno - child.lineno + 1
                body = child.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    lines -= body[0].end_lineno - body[0].lineno + 1
                yield f"{prefix}{child.name}", lines
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, "")


def is_parser_builder(name: str) -> bool:
    leaf = name.rpartition(".")[2]
    return leaf == "build_parser" or leaf.endswith("_parser")


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", SOURCES, ids=_id)
def test_no_function_is_longer_than_80_lines(path):
    long = [
        f"{name} ({n} lines)"
        for name, n in function_lengths(path)
        if n > MAX_LINES and not is_parser_builder(name)
    ]
    assert not long, f"{path.name}: split into named phases: {long}"


def test_the_length_check_counts_without_the_docstring(tmp_path):
    src = tmp_path / "m.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    src.write_text(f'def f():\n    """Doc\n    string."""\n{body}\n')
    assert dict(function_lengths(src)) == {"f": 81}  # def line + 80 statements
    assert is_parser_builder("build_parser") and is_parser_builder("_train_parser")


@pytest.mark.parametrize("path", SOURCES, ids=_id)
def test_library_code_raises_instead_of_asserting(path):
    asserts = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assert)
    ]
    assert not asserts, f"{path.name}: assert on lines {asserts} (raise instead)"


def test_every_path_the_docs_and_docstrings_name_exists():
    """A module moved or renamed is renamed in the docs and docstrings too: every
    refnet/...py, crosscheck/...py or tests/...py path named in a tracked .md or .py."""
    texts = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *SOURCES,
        *sorted((ROOT / "tests").rglob("*.py")),
        *sorted((ROOT / "bench").glob("*.py")),
        *sorted((ROOT / "tools").glob("*.py")),
    ]
    pattern = re.compile(r"(?<![\w/.])((?:refnet|crosscheck|tests)/[\w/]+\.py)\b")
    named = {
        (str(text.relative_to(ROOT)), path)
        for text in texts
        for path in pattern.findall(text.read_text(encoding="utf-8"))
    }
    assert ("docs/design.md", "crosscheck/frameworks/workers.py") in named  # it looks
    missing = sorted((doc, path) for doc, path in named if not (ROOT / path).is_file())
    assert not missing, f"paths the docs name that do not exist: {missing}"


@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None, reason="ruff not installed"
)
@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=" ".join)
def test_the_linter_and_the_formatter_own_the_layout(command):
    """``ruff check`` and ``ruff format --check`` pass on the tree (the test extra pins
    ruff, whose formatting style moves between releases)."""
    run = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-1000:]


def _layout_exceptions(path: Path) -> list[str]:
    """Where ``path`` takes the layout from the formatter: a ``# fmt: skip`` that does
    not close a table, or a comment the formatter moved away from the code it explains
    (trailing an opening bracket, or the closing line of a statement that spans lines)."""
    found, depth, start = [], 0, None
    with path.open("rb") as fh:
        for tok in tokenize.tokenize(fh.readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL) and depth == 0:
                start = None
            elif tok.type == tokenize.COMMENT:
                code = tok.line[: tok.start[1]].strip()
                if "fmt:" in tok.string:
                    bad = code not in ("]", "}", ")", "")
                else:
                    opening = depth > 0 and code.endswith(("(", "[", "{"))
                    closing = depth == 0 and code and start is not None
                    bad = opening or (closing and tok.start[0] > start)
                if bad:
                    found.append(f"{path.name}:{tok.start[0]}: {tok.line.strip()}")
            elif tok.type == tokenize.OP or tok.type in (
                tokenize.NAME,
                tokenize.STRING,
            ):
                start = tok.start[0] if start is None else start
                if tok.string in ("(", "[", "{"):
                    depth += 1
                elif tok.string in (")", "]", "}"):
                    depth -= 1
    return found


def test_fmt_skip_only_keeps_tables_aligned(tmp_path):
    """The formatter owns the layout: ``# fmt: skip`` closes an aligned table only, and
    a comment sits on its own line rather than trailing an opening bracket."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "FOO = [\n    (1, 2),  # a row's note\n]  # fmt: skip\nx = f(  # about f\n"
        "    1,\n)\ny = g(1)  # fmt: skip\nz = h(\n    2,\n)  # about h\nw = 1  # fine\n"
    )
    assert [h.split(": ", 1)[1] for h in _layout_exceptions(probe)] == [
        "x = f(  # about f",
        "y = g(1)  # fmt: skip",
        ")  # about h",
    ]
    folders = ["refnet", "crosscheck", "tests", "tools", "bench", "docs"]
    files = [p for d in folders for p in (ROOT / d).rglob("*.py")]
    files = [p for p in files if "notebooks" not in p.parts]
    found = [hit for path in sorted(files) for hit in _layout_exceptions(path)]
    assert not found, "\n".join(found)


def _message_strings(tree: ast.AST):
    """Every string constant of a module that is not a docstring: what users read."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        )
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node


def test_messages_cite_chapters_not_repository_paths():
    """A pip-installed user has no docs/ folder: a note, error or diagnosis names the
    chapter ('chapter 7 "Checking it"'), never docs/07-checking.md (issue 19)."""
    path_of_a_chapter = re.compile(r"docs/\d\d-[\w.-]+\.md")
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in SOURCES
        for node in _message_strings(ast.parse(path.read_text(encoding="utf-8")))
        if path_of_a_chapter.search(node.value)
    ]
    assert not found, found
