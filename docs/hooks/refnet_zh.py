"""mkdocs hook for the Chinese edition (mkdocs.yml ``hooks``; docs/design.md, "The
Chinese edition").

- A page built under /zh/ from the English text (mkdocs-static-i18n's
  ``fallback_to_default``: no docs/NAME.zh.md yet) gets a banner saying, in Chinese, that
  it is not translated yet and shows the English text. The plugin marks such a page by
  its file: built for the language ``zh``, the file's ``locale`` is still ``en``
  (a translated page's file has ``locale == localization == "zh"``).
- Every Chinese term of the glossary (docs/glossary.zh.md, the column 本书用词) becomes
  one word for jieba, which Material's search uses to cut Chinese text into words:
  without it jieba cuts 反向传播 into 反向 / 传播, and a search for 反向传播 finds nothing.

tests/test_translations.py reads the glossary through :func:`glossary` too (its
discouraged column), so the table is parsed in one place.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
GLOSSARY = DOCS / "glossary.zh.md"

BANNER_CLASS = "refnet-untranslated"
BANNER = (
    f'<div class="admonition warning {BANNER_CLASS}" markdown="1">\n'
    '<p class="admonition-title">本页尚未翻译</p>\n\n'
    "本页还没有中文译文，下面显示的是英文原文。"
    "术语的中文说法见[中英术语对照]({glossary})。\n\n"
    "</div>\n"
)

HAN = re.compile(r"[\u3400-\u9fff]")


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def glossary(path: Path = GLOSSARY) -> list[dict[str, str]]:
    """The rows of the glossary's table: ``english``, ``term`` (the word the book uses),
    ``discouraged`` (comma-separated variants a zh page must not use) and ``note``,
    found by their headers (English, 本书用词, 不用, 说明; on the English page English,
    the book's word, Not used, note)."""
    rows, header = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            if header is not None and rows:
                break  # the first table only
            continue
        cells = _cells(line)
        if header is None:
            header = cells
            keys = {}
            for i, h in enumerate(cells):
                for key, marks in (
                    ("english", ("English",)),
                    ("term", ("本书用词", "the book's word")),
                    ("discouraged", ("不用", "Not used")),
                    ("note", ("说明", "note")),
                ):
                    if any(mark in h for mark in marks):
                        keys[key] = i
            missing = {"english", "term", "discouraged"} - keys.keys()
            if missing:
                raise ValueError(
                    f"{path.name}: the glossary table needs the columns English, "
                    f"本书用词 and 不用; its header is {line!r}"
                )
            continue
        if set(line) <= set("|-: "):
            continue  # the rule under the header
        rows.append(
            {
                k: re.sub(r"<[^>]+>", "", cells[i]) if i < len(cells) else ""
                for k, i in keys.items()
            }
        )
    if not rows:
        raise ValueError(f"{path.name}: no glossary table found")
    return rows


def discouraged(path: Path = GLOSSARY) -> dict[str, str]:
    """Each discouraged variant -> the term the book uses instead (of a row naming
    several, 批量 / 小批量 / 批量大小, the one sharing most characters with it)."""
    out = {}
    for row in glossary(path):
        terms = [t.strip() for t in re.split(r"[/,，、]", row["term"]) if t.strip()]
        for variant in re.split(r"[,，、]", row["discouraged"]):
            variant = variant.strip()
            if variant:
                out[variant] = max(terms, key=lambda t: len(set(t) & set(variant)))
    return out


def words(path: Path = GLOSSARY) -> list[str]:
    """The glossary's Chinese terms as single words (parentheses and Latin parts left
    out): 随机梯度下降 / 小批量梯度下降 -> 随机梯度下降, 小批量梯度下降; 独热（one-hot）编码
    -> 独热编码."""
    out = []
    for row in glossary(path):
        term = re.sub(r"[（(][^）)]*[）)]", "", row["term"])
        for part in re.split(r"[/,，、\s]+", term):
            part = "".join(HAN.findall(part)) if HAN.search(part) else ""
            if len(part) >= 2 and part not in out:
                out.append(part)
    return out


def on_config(config):
    try:
        import jieba
    except ImportError:  # Material's search then indexes Chinese without segmentation
        return config
    jieba.setLogLevel(logging.WARNING)  # not "Building prefix dict..." on every build
    if GLOSSARY.exists():
        for word in words():
            jieba.add_word(word, freq=100_000)
    return config


def _zh_page(page, config) -> str | None:
    """For a Markdown page of a build in another language than the default (/zh/):
    "translated" when its file is that language's, "fallback" when the English file
    stands in for it (its locale is still the default's); None for any other page."""
    i18n = config.plugins.get("i18n")
    if i18n is None or not page.file.src_uri.endswith(".md"):
        return None
    lang, locale = i18n.current_language, getattr(page.file, "locale", None)
    if lang == i18n.default_language or locale is None:
        return None
    return "translated" if locale == lang else "fallback"


# CJK characters and full-width punctuation: a line break between two of them is no
# space in Chinese, but HTML renders a newline as one (the source is wrapped at ~90
# columns), so the translated pages' paragraphs are joined there before rendering
CJK = "\u3000-\u303f\u3400-\u9fff\uff00-\uffef"
_CJK_BREAK = re.compile(f"([{CJK}])\n[ \t]*(?=[{CJK}])")  # (a list item's indent too)
_FENCE = re.compile(r"^(```|~~~)", re.M)


def join_cjk_lines(markdown: str) -> str:
    """Remove each line break that has a CJK character on both sides, outside fenced
    code blocks (whose lines are code, kept as written)."""
    parts = re.split(
        r"(^(?:```|~~~).*?^(?:```|~~~)[^\n]*$)", markdown, flags=re.M | re.S
    )
    return "".join(
        part if _FENCE.match(part) else _CJK_BREAK.sub(r"\1", part) for part in parts
    )


def on_page_markdown(markdown, page, config, files):
    kind = _zh_page(page, config)
    if kind == "translated":
        return join_cjk_lines(markdown)
    if kind != "fallback":
        return markdown
    lines = markdown.split("\n")
    # below the page's title, when it starts with one
    at = next((i for i, line in enumerate(lines) if line.strip()), 0)
    at = at + 1 if lines and lines[at].startswith("# ") else 0
    folder = posixpath.dirname(page.file.src_uri)
    banner = BANNER.format(glossary=posixpath.relpath("glossary.md", folder or "."))
    return "\n".join([*lines[:at], "", banner, *lines[at:]])
