"""Every chapter is also a notebook: generated from the chapter by docs/make_notebooks.py,
up to date, linked from the chapter, and executed here from top to bottom (nbclient).

A notebook whose chapter needs TensorFlow, PyTorch or scikit-learn skips where those are absent,
as the chapter's doctests do (docs/conftest.py); nbclient and ipykernel (extra ``docs``)
are needed to execute any, and in CI (``CI=true``) nothing skips.

A chapter's Chinese translation (docs/NN-*.zh.md) has its notebook too
(docs/notebooks/NN-*.zh.ipynb), which must be current, but is not executed here: its code
is the English chapter's (tests/test_translations.py checks the code blocks are equal,
comments aside), so running it would only run the English notebook's code again.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHAPTERS = sorted(
    p for p in DOCS.glob("[0-9][0-9]-*.md") if not p.name.endswith(".zh.md")
)
ZH_CHAPTERS = sorted(DOCS.glob("[0-9][0-9]-*.zh.md"))


def _make_notebooks():
    if importlib.util.find_spec("nbformat") is None:
        if IN_CI:
            pytest.fail("CI must have nbformat (extra 'docs')")
        pytest.skip("nbformat not installed")
    spec = importlib.util.spec_from_file_location(
        "make_notebooks", DOCS / "make_notebooks.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _needs(chapter: Path) -> list[str]:
    needs = ["tensorflow"] if chapter.name.endswith(".tensorflow.md") else []
    if chapter.name.endswith(".torch.md"):
        needs += ["tensorflow", "torch"]
    if chapter.name.endswith(".jax.md"):
        needs.append("jax")
    if chapter.name.startswith(("08-", "11-")):
        needs.append("sklearn")
    return needs


def test_every_chapter_has_an_up_to_date_notebook():
    mk = _make_notebooks()
    assert [c.name for c in mk.chapters()] == [c.name for c in CHAPTERS]
    import nbformat

    for chapter in CHAPTERS:
        # nbformat v4 schema
        nbformat.validate(mk.convert(chapter.read_text(encoding="utf-8")))
        path = mk.notebook_path(chapter)
        assert path.exists(), f"{path.name} missing: run python docs/make_notebooks.py"
        assert path.read_text(encoding="utf-8") == mk.render(chapter), (
            f"{path.name} is stale: run python docs/make_notebooks.py"
        )


def test_every_zh_chapter_has_an_up_to_date_notebook():
    """Not executed (see the module's docstring): current and valid is what is checked."""
    mk = _make_notebooks()
    assert [c.name for c in mk.zh_chapters()] == [c.name for c in ZH_CHAPTERS]
    import nbformat

    for chapter in ZH_CHAPTERS:
        nb = mk.convert(chapter.read_text(encoding="utf-8"), zh=True)
        nbformat.validate(nb)
        # the front matter is left out
        assert "translated_from" not in nb.cells[0].source
        path = mk.notebook_path(chapter)
        assert path.name == chapter.name.removesuffix(".md") + ".ipynb"  # NAME.zh.ipynb
        assert path.exists(), f"{path.name} missing: run python docs/make_notebooks.py"
        assert path.read_text(encoding="utf-8") == mk.render(chapter), (
            f"{path.name} is stale: run python docs/make_notebooks.py"
        )
    stray = sorted(
        p.name
        for p in (DOCS / "notebooks").glob("*.zh.ipynb")
        if not (DOCS / (p.name.removesuffix(".ipynb") + ".md")).exists()
    )
    assert not stray, f"zh notebooks without their zh chapter: {stray}"


def test_zh_converter_drops_front_matter_and_anchors_and_links_zh_notebooks(
    tmp_path, monkeypatch
):
    mk = _make_notebooks()
    monkeypatch.setattr(mk, "DOCS", tmp_path)
    (tmp_path / "06-backprop.zh.md").write_text("x", encoding="utf-8")
    md = (
        "---\ntranslated_from: 0123\n---\n\n# 7. 检验 {#7-checking-it}\n\n"
        "见[第 6 章](06-backprop.md#bp1)与[第 5 章](05-losses.md)。\n"
    )
    (cell,) = mk.convert(md, zh=True).cells
    assert cell.source.startswith("# 7. 检验\n")
    assert "(06-backprop.zh.ipynb#bp1)" in cell.source  # translated: its zh notebook
    assert "(05-losses.ipynb)" in cell.source  # not translated: the English one
    assert "(06-backprop.ipynb#bp1)" in mk.convert(md).cells[0].source


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_links_to_its_notebook(chapter):
    target = f"(notebooks/{chapter.name.removesuffix('.md')}.ipynb)"
    assert target in chapter.read_text(encoding="utf-8"), (
        f"{chapter.name}: no link {target}"
    )


def test_converter_strips_prompts_and_keeps_expected_errors_running():
    mk = _make_notebooks()
    md = (
        "# T\n\nSee [ch 6](06-backprop.md) and ![x](img/a.png).\n\n```math\nx^2 \\tag{Q}\n```\n\n"
        "```python\n>>> x = 1\n>>> for i in range(2):\n...     x += i\n>>> x\n2\n"
        ">>> 1 / 0\nTraceback (most recent call last):\n    ...\nZeroDivisionError: division by zero\n```\n"
    )
    nb = mk.convert(md)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code"]
    assert "(06-backprop.ipynb)" in nb.cells[0].source
    assert "(../img/a.png)" in nb.cells[0].source
    assert "$$\nx^2 \\tag{Q}\n$$" in nb.cells[0].source
    code = nb.cells[1].source
    assert ">>>" not in code and "..." not in code and "\n2\n" not in code
    namespace: dict = {}
    exec(code, namespace)  # the 1 / 0 example is caught, so the cell runs through
    assert namespace["x"] == 2


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_notebook_executes(chapter):
    mk = _make_notebooks()
    for pkg in ["nbclient", "ipykernel", *_needs(chapter)]:
        if importlib.util.find_spec(pkg) is None:
            if IN_CI:
                pytest.fail(f"CI must have {pkg}")
            pytest.skip(f"{pkg} not installed")
    import nbclient
    import nbformat

    nb = nbformat.reads(mk.render(chapter), as_version=4)
    env = {"TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        client = nbclient.NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(ROOT)}},
        )
        client.execute()  # raises CellExecutionError naming the failing cell
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells, f"{chapter.name} has no runnable cell"
    assert all(c.get("execution_count") for c in code_cells)
    assert sys.executable  # the kernel is the running interpreter's (ipykernel's spec)


@pytest.mark.parametrize("chapter", ZH_CHAPTERS, ids=lambda p: p.name)
def test_every_zh_chapter_links_to_its_notebook_and_folds_the_same_answers(chapter):
    """The zh page keeps the English link target (the site's i18n plugin points it at
    the zh notebook); its exercises are the English page's, one folded answer each."""
    english = chapter.with_name(chapter.name.removesuffix(".zh.md") + ".md")
    target = f"(notebooks/{english.name.removesuffix('.md')}.ipynb)"
    text = chapter.read_text(encoding="utf-8")
    assert target in text, f"{chapter.name}: no link {target}"
    assert re.search(r"^## .*\{#exercises\}$", text, flags=re.M), (
        f"{chapter.name}: no exercises heading with the anchor {{#exercises}}"
    )
    en_text = english.read_text(encoding="utf-8")
    assert text.count("<details") == en_text.count("<details"), chapter.name
    assert text.count("</details>") == en_text.count("</details>"), chapter.name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_every_chapter_ends_with_exercises_and_folded_answers(chapter):
    text = chapter.read_text(encoding="utf-8")
    assert "\n## Exercises\n" in text, f"{chapter.name}: no '## Exercises' section"
    exercises = text.split("\n## Exercises\n", 1)[1]
    assert "\n## " not in exercises, f"{chapter.name}: a section follows the exercises"
    assert exercises.count("<details") == exercises.count("</details>") >= 1
