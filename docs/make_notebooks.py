"""Generate docs/notebooks/NN-*.ipynb from the chapters docs/NN-*.md.

The Markdown chapter is the source; its notebook is generated, never edited by hand.
Prose becomes Markdown cells; every ```python block of doctest examples becomes one code
cell holding the examples' source without the ``>>>``/``...`` prompts (the printed
outputs are left out: running the cell prints them). An example whose expected output is
a traceback is wrapped in ``try``/``except`` so the notebook runs through. ```math blocks
go back to ``$$ ... $$``, which Jupyter typesets; links to other chapters point to their
notebooks. Any file matching ``docs/[0-9][0-9]-*.md`` is picked up, so a new chapter
gets its notebook by running this script again.

The Chinese edition: a chapter's translation ``docs/NN-*.zh.md`` gets its notebook
``docs/notebooks/NN-*.zh.ipynb``, which the site's i18n plugin links from the zh page in
place of the English one (the page keeps the English link target). Its front matter
(``translated_from``) is left out, and its links to other chapters lead to their zh
notebooks where those exist.

    python docs/make_notebooks.py           # (re)write every notebook
    python docs/make_notebooks.py --check   # exit 1 if a notebook is missing or stale
"""

from __future__ import annotations

import argparse
import doctest
import re
import sys
from pathlib import Path

import nbformat

DOCS = Path(__file__).resolve().parent
OUT = DOCS / "notebooks"
FENCE = re.compile(r"^```(\w*)\s*$")


FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n+", re.S)


def chapters() -> list[Path]:
    """The English chapters."""
    return sorted(p for p in DOCS.glob("[0-9][0-9]-*.md") if not is_zh(p))


def zh_chapters() -> list[Path]:
    """The chapters' Chinese translations that exist (docs/NN-*.zh.md)."""
    return sorted(DOCS.glob("[0-9][0-9]-*.zh.md"))


def is_zh(chapter: Path) -> bool:
    return chapter.name.endswith(".zh.md")


def notebook_path(chapter: Path) -> Path:
    return OUT / (chapter.name.removesuffix(".md") + ".ipynb")


def _code(block: str) -> str:
    """The doctest examples of one block as plain Python."""
    lines = []
    for ex in doctest.DocTestParser().get_examples(block):
        src = ex.source.rstrip("\n")
        if ex.exc_msg is not None:  # an example that is meant to raise
            body = "\n".join("    " + s for s in src.splitlines())
            src = f"try:\n{body}\nexcept Exception as e:\n    print(type(e).__name__ + ':', e)"
        lines.append(src)
    return "\n".join(lines)


def _chapter_link(match: re.Match, zh: bool) -> str:
    stem = match.group(1)
    if zh and (DOCS / f"{stem}.zh.md").exists():
        stem += ".zh"
    return f"]({stem}.ipynb"


def _markdown(text: str, zh: bool = False) -> str:
    text = re.sub(r"\]\((\d\d-[\w.-]+?)\.md", lambda m: _chapter_link(m, zh), text)
    # a zh heading's {#english-anchor} is for the site; Jupyter would print it
    text = re.sub(r"^(#+ .*?)\s*\{#[\w-]+\}\s*$", r"\1", text, flags=re.M)
    text = re.sub(r"\]\((?!https?:|#|\d\d-)([\w./-]+)", r"](../\1", text)
    return text.strip("\n")


def convert(md: str, zh: bool = False) -> nbformat.NotebookNode:
    """The notebook of one chapter's Markdown (``zh``: a Chinese page's, whose links to
    other chapters lead to their zh notebooks where those exist)."""
    cells, prose, block, lang = [], [], [], None
    md = FRONT_MATTER.sub("", md, count=1)

    def flush_prose():
        text = _markdown("\n".join(prose), zh)
        if text.strip():
            cells.append(nbformat.v4.new_markdown_cell(text))
        prose.clear()

    for line in md.splitlines():
        m = FENCE.match(line)
        if lang is None and m:
            lang = m.group(1) or "text"
            block = []
            continue
        if lang is not None and line.startswith("```"):
            body = "\n".join(block)
            if lang == "python" and ">>>" in body:
                flush_prose()
                cells.append(nbformat.v4.new_code_cell(_code(body + "\n")))
            elif lang == "math":
                prose.extend(["$$", *block, "$$"])
            else:
                prose.extend([f"```{lang}", *block, "```"])
            lang = None
            continue
        (block if lang is not None else prose).append(line)
    flush_prose()
    nb = nbformat.v4.new_notebook(cells=cells)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"  # stable ids, so regenerating changes nothing
    nb.metadata = {
        "kernelspec": {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        },
        "language_info": {"name": "python"},
    }
    return nb


def render(chapter: Path) -> str:
    nb = convert(chapter.read_text(encoding="utf-8"), zh=is_zh(chapter))
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if a notebook is missing or differs from its chapter",
    )
    args = parser.parse_args(argv)
    stale = []
    OUT.mkdir(exist_ok=True)
    for chapter in [*chapters(), *zh_chapters()]:
        path, text = notebook_path(chapter), render(chapter)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.name)
        if not args.check:
            tmp = path.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
    if args.check and stale:
        print(
            "stale notebooks (run python docs/make_notebooks.py):",
            *stale,
            file=sys.stderr,
        )
        return 1
    for name in stale:
        print("wrote", OUT.name + "/" + name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
