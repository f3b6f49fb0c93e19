"""The docs, the code and the tests cite the same equation labels.

A label (FP1, BP2, LS2, AF4, ...) is *defined* by a display equation in docs/ that ends in
``\\tag{LABEL}``. Every defined label must be cited by at least one function or class
docstring in refnet/ or crosscheck/ (the code implementing it) and by at least one test
in tests/ (in the test's name, e.g. ``test_bp2_...``, or its docstring); and every label
cited anywhere in code or tests must be defined. Ranges such as "BP1-BP4" or "AF1..AF12"
cite every label in between.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CODE_DIRS = [ROOT / "refnet", ROOT / "crosscheck"]
TESTS = ROOT / "tests"

PREFIXES = [
    "FP",
    "BP",
    "SM",
    "LS",
    "PC",
    "FD",
    "TOL",
    "GD",
    "OPT",
    "LR",
    "AF",
    "ACT",
    "FL",
]
_P = "|".join(sorted(PREFIXES, key=len, reverse=True))
LABEL_RE = re.compile(
    rf"(?<![A-Za-z0-9])({_P})(\d+)(?:\s*(?:-|\u2013|\.\.)\s*(?:\1)?(\d+))?(?![A-Za-z0-9])"
)
TAG_RE = re.compile(r"\\tag\{([A-Z]+\d+)\}")


def cited_labels(text: str) -> set[str]:
    """Labels in ``text``; "BP1-BP4" and "AF1..AF12" expand to every label in the range."""
    found = set()
    for prefix, first, last in LABEL_RE.findall(text or ""):
        lo = int(first)
        hi = int(last) if last else lo
        found.update(f"{prefix}{k}" for k in range(lo, max(lo, hi) + 1))
    return found


def defined_labels() -> dict[str, Path]:
    """label -> the docs file whose display equation carries ``\\tag{label}``."""
    defined: dict[str, Path] = {}
    # a Chinese page (NAME.zh.md) repeats its English page's equations and tags
    for md in sorted(p for p in DOCS.glob("*.md") if not p.name.endswith(".zh.md")):
        for label in TAG_RE.findall(md.read_text(encoding="utf-8")):
            assert label not in defined, (
                f"{label} defined twice: {defined[label]}, {md}"
            )
            defined[label] = md
    return defined


def _py_files(*dirs: Path):
    for d in dirs:
        if d.exists():
            yield from sorted(d.rglob("*.py"))


def _definitions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function and class, methods as Class.method."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield f"{prefix}{node.name}", node
            yield from _definitions(node, f"{prefix}{node.name}.")


def code_citations() -> dict[str, set[str]]:
    """label -> qualified names of functions/classes in refnet/ and crosscheck/ whose docstring cites it."""
    cites: dict[str, set[str]] = {}
    for path in _py_files(*CODE_DIRS):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = path.relative_to(ROOT).with_suffix("").as_posix().replace("/", ".")
        for qualname, node in _definitions(tree):
            for label in cited_labels(ast.get_docstring(node)):
                cites.setdefault(label, set()).add(f"{module}.{qualname}")
    return cites


def test_citations() -> dict[str, set[str]]:
    """label -> tests in tests/ citing it in their name or docstring.

    This file is left out: its own docstrings name labels to say what it checks, which
    is not a test of the equation.
    """
    cites: dict[str, set[str]] = {}
    for path in _py_files(TESTS):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for qualname, node in _definitions(tree):
            if not node.name.lower().startswith("test"):
                continue
            name_labels = cited_labels(" ".join(node.name.upper().split("_")))
            for label in name_labels | cited_labels(ast.get_docstring(node)):
                cites.setdefault(label, set()).add(f"{path.name}::{qualname}")
    return cites


test_citations.__test__ = False  # a helper, not a test (its name starts with "test")


def all_cited_anywhere() -> dict[str, set[str]]:
    """Every label mentioned in any docstring (modules included) of code and tests."""
    seen: dict[str, set[str]] = {}
    for path in _py_files(*CODE_DIRS, TESTS):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = [tree, *(node for _, node in _definitions(tree))]
        for node in nodes:
            for label in cited_labels(ast.get_docstring(node)):
                seen.setdefault(label, set()).add(str(path.relative_to(ROOT)))
        if path.parent == TESTS:
            for _, node in _definitions(tree):
                for label in cited_labels(" ".join(node.name.upper().split("_"))):
                    seen.setdefault(label, set()).add(str(path.relative_to(ROOT)))
    return seen


# ---------------------------------------------------------------------------------


def test_label_parser_reads_ranges_and_ignores_lookalikes():
    """The parser itself: ranges expand, words that merely contain a label do not count."""
    assert cited_labels("BP1-BP4, (LS2) and AF1..AF3") == {
        "BP1",
        "BP2",
        "BP3",
        "BP4",
        "LS2",
        "AF1",
        "AF2",
        "AF3",
    }
    assert cited_labels("FP12x GFP1 BP") == set()
    assert cited_labels(" ".join("test_bp2_recursion".upper().split("_"))) == {"BP2"}


def test_docs_define_the_labels_of_the_brief():
    """FP1, FP2, BP1-BP7, SM1, LS1-LS10, PC1, FD1, TOL1, GD1, OPT1-OPT3, LR1-LR3,
    AF1-AF12 and FL1 are defined (BP5, LS5, LS6, FL1: dX, the "sum" reduction, L2 decay
    and the row-major flatten of a model's input, chapter 10; BP6, BP7: dropout, chapter
    6; LS7-LS10: KL divergence and the hinge family, chapter 5; LR2, LR3: the power and
    1cycle schedules, chapter 8)."""
    expected = cited_labels(
        "FP1-FP2 BP1-BP7 SM1 LS1-LS10 PC1 FD1 TOL1 GD1 OPT1-OPT3 LR1-LR3 AF1-AF12 FL1"
    )
    assert set(defined_labels()) == expected


def test_every_defined_label_is_cited_by_code():
    defined = defined_labels()
    cites = code_citations()
    missing = {label: defined[label].name for label in defined if label not in cites}
    assert not missing, (
        f"labels defined in docs but cited by no function/class docstring in refnet/ "
        f"or crosscheck/: {missing}"
    )


def test_every_defined_label_is_cited_by_a_test():
    defined = defined_labels()
    cites = test_citations()
    missing = {label: defined[label].name for label in defined if label not in cites}
    assert not missing, (
        f"labels defined in docs but cited by no test name or docstring in tests/: {missing}"
    )


def test_every_cited_label_is_defined_in_docs():
    defined = defined_labels()
    undefined = {
        label: sorted(where)
        for label, where in all_cited_anywhere().items()
        if label not in defined
    }
    assert not undefined, (
        f"labels cited in code/tests but not defined in docs/: {undefined}"
    )


def test_every_label_cited_in_docs_is_defined():
    """The chapters' prose cites only labels some chapter defines (chapter 3 once cited
    a second gradient-descent label for its ascent step, an equation with no tag)."""
    defined = defined_labels()
    undefined = {
        f"{md.name}:{i}": sorted(cited_labels(line) - set(defined))
        for md in sorted(DOCS.glob("*.md"))
        for i, line in enumerate(md.read_text(encoding="utf-8").splitlines(), 1)
        if cited_labels(line) - set(defined)
    }
    assert not undefined, f"labels cited in docs/ but defined nowhere: {undefined}"


def test_docs_index_lists_every_label():
    """docs/README.md's label table has one row per defined label, pointing to its chapter."""
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (\w+) \| .*?\]\(([\w.-]+\.md)\)", index, flags=re.M))
    defined = {label: path.name for label, path in defined_labels().items()}
    assert rows == defined


def test_every_activation_in_the_registry_has_its_own_af_label():
    """AF1-AF12: each built-in registry entry's f and f' docstrings cite one AF label, distinct per entry."""
    code = (
        "import refnet, json; A = refnet.activations; "
        "print(json.dumps({n: [A.get(n).f.__doc__, "
        "(A.get(n).df or A.get(n).jvp).__doc__] for n in A.names()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import json

    docs = json.loads(out)
    labels = {}
    for name, (f_doc, df_doc) in docs.items():
        f_labels = {x for x in cited_labels(f_doc) if x.startswith("AF")}
        assert len(f_labels) == 1, (
            f"{name}: f's docstring cites {f_labels or 'no AF label'}"
        )
        if name != "softmax":  # softmax's backward pass is SM1
            assert {
                x for x in cited_labels(df_doc) if x.startswith("AF")
            } == f_labels, name
        labels[name] = f_labels.pop()
    aliases = {"swish": "silu"}
    distinct = {n: lab for n, lab in labels.items() if n not in aliases}
    assert len(set(distinct.values())) == len(distinct)
    assert all(labels[a] == labels[b] for a, b in aliases.items() if a in labels)
    assert set(labels.values()) <= set(defined_labels())


@pytest.mark.parametrize("md", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_docs_links_and_images_exist(md):
    """Every relative link and image in a chapter points to a file in the repository."""
    text = md.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        assert (md.parent / target).exists(), f"{md.name}: broken link {target}"


def test_readme_links_the_chapters_in_reading_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    chapters = sorted(
        p.name
        for p in DOCS.glob("[0-9][0-9]-*.md")
        if not p.name.endswith(".zh.md")  # the Chinese edition's pages
        and not any(
            f".{part}." in p.name for part in ("tensorflow", "torch", "jax")
        )  # companions
    )
    linked = re.findall(r"\(docs/(\d\d-[\w-]+\.md)\)", readme)
    assert list(dict.fromkeys(linked)) == chapters  # first mentions, in reading order


def test_docs_index_points_to_code_that_cites_the_label():
    """Each fully qualified name in the label table's code column cites that row's label.

    ``refnet.network.Network.gradients`` must be a function whose docstring cites the
    label; a module name (``crosscheck.tolerance``) must hold one that does.
    """
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    cites = code_citations()
    checked = 0
    for label, code in re.findall(r"^\| (\w+) \| .*\| (.*) \|$", index, flags=re.M):
        for name in re.findall(r"`((?:refnet|crosscheck)\.[\w.]+)`", code):
            citing = cites.get(label, set())
            assert any(c == name or c.startswith(name + ".") for c in citing), (
                f"{label}: the index names {name}, whose docstring does not cite {label}; "
                f"citing: {sorted(citing)}"
            )
            checked += 1
    assert checked >= 10  # the table was parsed
