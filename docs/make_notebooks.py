"""Generate docs/notebooks/NN-*.ipynb from the chapters docs/NN-*.md.

The Markdown chapter is the source; its notebook is generated, never edited by hand.
Prose becomes Markdown cells; every ```python block of doctest examples becomes one code
cell holding the examples' source without the ``>>>``/``...`` prompts (the printed
outputs are left out: running the cell prints them). An example whose expected output is
a traceback is wrapped in ``try``/``except`` so the notebook runs through. ```math blocks
go back to ``$$ ... $$``, which Jupyter typesets; links to other chapters point to their
notebooks. Any file matching ``docs/[0-9][0-9]-*.md`` is picked up, so a new chapter
gets its notebook by running this script again.

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


def chapters() -> list[Path]:
    return sorted(DOCS.glob("[0-9][0-9]-*.md"))


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


def _markdown(text: str) -> str:
    text = re.sub(r"\]\((\d\d-[\w.-]+)\.md", r"](\1.ipynb", text)
    text = re.sub(r"\]\((?!https?:|#|\d\d-)([\w./-]+)", r"](../\1", text)
    return text.strip("\n")


def convert(md: str) -> nbformat.NotebookNode:
    cells, prose, block, lang = [], [], [], None

    def flush_prose():
        text = _markdown("\n".join(prose))
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
    nb = convert(chapter.read_text(encoding="utf-8"))
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
    for chapter in chapters():
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
