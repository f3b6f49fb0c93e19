"""The Chinese edition's pages (docs/NAME.zh.md beside docs/NAME.md; docs/design.md,
"The Chinese edition"):

(a) their prose uses the glossary's terms: no variant from the column 不用 of
    docs/glossary.zh.md (the one place the list lives) outside code;
(b) each is current: its front matter's ``translated_from`` is the git blob id of its
    English page as it is now (computed here, no git needed), else the test prints the
    command that shows what changed in the English page since;
(c) every page of the site's nav has a Chinese page, or is listed in UNTRANSLATED (the
    pages still shown in English under a banner);
(d) the same code: each zh page's fenced blocks equal the English page's once ``#``
    comments are removed (comments may be Chinese; code, doctest outputs and math may
    not change), so the zh page's doctests check the same claims as the English page's.

Each checker is a function tested on bad input below, so each test can fail.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# Pages of the nav still shown in English on the zh site (under the "not translated
# yet" banner). The acceptance of issue 25 wants every page translated: when the
# translations are merged, empty this set; a page listed here that has a zh page, or a
# page missing a zh page that is not listed here, fails test_every_nav_page_is_translated_or_listed.
UNTRANSLATED: frozenset[str] = frozenset()


def _hook():
    spec = importlib.util.spec_from_file_location(
        "refnet_zh", DOCS / "hooks" / "refnet_zh.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zh_pages() -> list[Path]:
    return sorted(DOCS.rglob("*.zh.md"))


def english_page(zh: Path) -> Path:
    return zh.with_name(zh.name.removesuffix(".zh.md") + ".md")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def blob_id(data: bytes) -> str:
    """What ``git hash-object FILE`` prints for a file holding ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def front_matter(text: str) -> dict[str, str]:
    m = re.match(r"\A---\n(.*?)\n---\n", text, re.S)
    if not m:
        return {}
    return dict(
        (k.strip(), v.strip().strip("'\""))
        for k, _, v in (line.partition(":") for line in m.group(1).splitlines())
        if v
    )


FENCE = re.compile(r"^(\s*)(```+|~~~+)")


def prose_lines(text: str):
    """(line number, text) of the prose: front matter, fenced blocks and inline code
    left out."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0] == "---":
        start = lines.index("---", 1) + 1
    fence = None
    for i, line in enumerate(lines[start:], start + 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(2)
            continue
        if fence is not None:
            if m and m.group(2).startswith(fence):
                fence = None
            continue
        yield i, re.sub(r"(`+).+?\1", " ", line)


def discouraged_uses(text: str, variants: dict[str, str]) -> list[str]:
    """'line N: X (use Y)' for each discouraged variant X in the prose of ``text``."""
    return [
        f"line {i}: {variant} (use {term})"
        for i, line in prose_lines(text)
        for variant, term in variants.items()
        if variant in line
    ]


def code_blocks(text: str) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of every fenced block, its fence line included,
    dedented, with ``#`` comments and trailing spaces removed (comment-only lines
    dropped)."""
    blocks, fence, current, indent = [], None, [], ""
    for i, line in enumerate(text.split("\n"), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence, indent, start = m.group(2), m.group(1), i
                current = [line.strip()]
            continue
        if m and m.group(2).startswith(fence) and not line.strip()[len(fence) :]:
            blocks.append((start, current))
            fence = None
            continue
        body = line[len(indent) :] if line.startswith(indent) else line.lstrip()
        body = re.sub(r"(^|\s)#.*$", "", body).rstrip()
        if body or not re.match(r"\s*(>>>|\.\.\.)?\s*#", line[len(indent) :]):
            current.append(body)
    return blocks


def code_difference(english: str, zh: str) -> str | None:
    """None when the two pages' fenced blocks agree (comments aside), else where the
    first differing block is."""
    en_blocks, zh_blocks = code_blocks(english), code_blocks(zh)
    for k, ((en_line, en), (zh_line, z)) in enumerate(zip(en_blocks, zh_blocks), 1):
        if en != z:
            j = next(
                (j for j, (a, b) in enumerate(zip(en, z)) if a != b),
                min(len(en), len(z)),
            )
            a = en[j] if j < len(en) else "(block ends)"
            b = z[j] if j < len(z) else "(block ends)"
            return (
                f"block {k} (English line {en_line}, zh line {zh_line}) differs at its "
                f"line {j + 1}: English {a!r}, zh {b!r}"
            )
    if len(en_blocks) != len(zh_blocks):
        return f"the English page has {len(en_blocks)} fenced blocks, the zh page {len(zh_blocks)}"
    return None


def staleness(zh: Path) -> str | None:
    """None when ``zh`` translates its English page as it is now, else why not and the
    command that shows what changed."""
    english = english_page(zh)
    if not english.exists():
        return f"{rel(zh)}: there is no English page {rel(english)}"
    old = front_matter(zh.read_text(encoding="utf-8")).get("translated_from")
    new = blob_id(english.read_bytes())
    if not old:
        return (
            f"{rel(zh)}: no 'translated_from' in its front matter; the English page it "
            f"translates is `git hash-object {rel(english)}` = {new}"
        )
    if old != new:
        return (
            f"{rel(zh)} translates {rel(english)} as of blob {old}, and the English page "
            f"has changed since (it is {new} now). See what changed:\n"
            f"    git show {old} | diff -u - {rel(english)}\n"
            f"then bring the translation up to date and set translated_from: {new}"
        )
    return None


def nav_pages(mkdocs_yml: Path = ROOT / "mkdocs.yml") -> list[str]:
    """The docs-relative paths of the pages in mkdocs.yml's nav, in order."""
    text = mkdocs_yml.read_text(encoding="utf-8")
    nav = text.split("\nnav:\n", 1)[1]
    pages = []
    for line in nav.split("\n"):
        if line and not line.startswith(" "):
            break  # the next top-level key
        m = re.match(r"\s*- .*:\s*([\w./-]+\.md)\s*$", line)
        if m:
            pages.append(m.group(1))
    return pages


def coverage_problems(
    nav: list[str], translated: set[str], untranslated: frozenset[str]
) -> list[str]:
    problems = [
        f"{page} has no Chinese page ({page.removesuffix('.md')}.zh.md) and is not in UNTRANSLATED"
        for page in nav
        if page not in translated and page not in untranslated
    ]
    problems += [
        f"{page} is translated: remove it from UNTRANSLATED"
        for page in sorted(untranslated & translated)
    ]
    problems += [
        f"{page} is in UNTRANSLATED but not in the nav"
        for page in sorted(untranslated - set(nav))
    ]
    return problems


# --- the checks on the docs as they are ------------------------------------------------


def test_glossary_terms_are_used_on_every_zh_page():
    variants = _hook().discouraged()
    bad = {
        rel(zh): uses
        for zh in zh_pages()
        if zh.name != "glossary.zh.md"  # the page that lists the variants
        for uses in [discouraged_uses(zh.read_text(encoding="utf-8"), variants)]
        if uses
    }
    assert not bad, "discouraged terms (docs/glossary.zh.md):\n" + "\n".join(
        f"{page}: {use}" for page, uses in bad.items() for use in uses
    )


def test_every_zh_page_translates_the_current_english_page():
    stale = [msg for zh in zh_pages() if (msg := staleness(zh))]
    assert not stale, "\n\n".join(stale)


def test_every_nav_page_is_translated_or_listed_untranslated():
    translated = {
        rel(zh).removeprefix("docs/").removesuffix(".zh.md") + ".md"
        for zh in zh_pages()
    }
    problems = coverage_problems(nav_pages(), translated, UNTRANSLATED)
    assert not problems, "\n".join(problems)


def test_the_whole_book_is_translated():
    """The acceptance of issue 25; skips, listing them, while pages remain untranslated."""
    if UNTRANSLATED:
        pytest.skip(
            f"{len(UNTRANSLATED)} pages not translated yet: {', '.join(sorted(UNTRANSLATED))}"
        )


@pytest.mark.parametrize("zh", zh_pages(), ids=lambda p: rel(p))
def test_zh_page_has_the_english_pages_code(zh):
    english = english_page(zh)
    assert english.exists(), f"{rel(zh)}: no English page {rel(english)}"
    diff = code_difference(
        english.read_text(encoding="utf-8"), zh.read_text(encoding="utf-8")
    )
    assert diff is None, f"{rel(zh)} vs {rel(english)}: {diff}"


def test_english_and_chinese_glossaries_hold_the_same_table():
    hook = _hook()
    zh = hook.glossary()
    en = hook.glossary(DOCS / "glossary.md")
    assert [(r["english"], r["term"], r["discouraged"]) for r in zh] == [
        (r["english"], r["term"], r["discouraged"]) for r in en
    ]


# --- each checker fails on bad input ---------------------------------------------------


def test_glossary_lists_the_tutorials_second_words_as_discouraged():
    # issue 25: where the tutorials use two words (前向传播 / 正向传播) the glossary picks one
    variants = _hook().discouraged()
    assert variants["正向传播"] == "前向传播"
    assert variants["代价函数"] == "损失函数"
    assert "反向传播" not in variants and "前向传播" not in variants


def test_glossary_checker_flags_prose_and_not_code():
    variants = {"正向传播": "前向传播"}
    page = (
        "---\ntranslated_from: 0\n---\n# 标题\n\n先做一次正向传播。\n\n"
        "`正向传播` 在行内代码里不算。\n\n```python\n>>> x = 1  # 正向传播\n```\n"
    )
    assert discouraged_uses(page, variants) == ["line 6: 正向传播 (use 前向传播)"]
    assert discouraged_uses(page.replace("正向传播。", "前向传播。"), variants) == []


def test_blob_id_is_gits():
    # the ids git itself gives (git hash-object): the empty file, and "hello\n"
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_staleness_check_fails_on_a_changed_english_page(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    docs = tmp_path / "docs"
    docs.mkdir()
    english = docs / "06-backprop.md"
    english.write_text("# 6. Backpropagation\n\nOld text.\n", encoding="utf-8")
    old = blob_id(english.read_bytes())
    zh = docs / "06-backprop.zh.md"
    zh.write_text(
        f"---\ntranslated_from: {old}\n---\n# 6. 反向传播\n", encoding="utf-8"
    )
    assert staleness(zh) is None
    english.write_text("# 6. Backpropagation\n\nNew text.\n", encoding="utf-8")
    msg = staleness(zh)
    assert f"git show {old} | diff -u - docs/06-backprop.md" in msg
    assert blob_id(english.read_bytes()) in msg
    zh.write_text("# 6. 反向传播\n", encoding="utf-8")
    assert "no 'translated_from'" in staleness(zh)


def test_coverage_check_names_missing_and_wrongly_listed_pages():
    nav = ["README.md", "06-backprop.md", "glossary.md"]
    assert coverage_problems(nav, {"glossary.md", "06-backprop.md"}, frozenset()) == [
        "README.md has no Chinese page (README.zh.md) and is not in UNTRANSLATED"
    ]
    assert coverage_problems(
        nav,
        {"glossary.md", "06-backprop.md"},
        frozenset({"README.md", "06-backprop.md"}),
    ) == ["06-backprop.md is translated: remove it from UNTRANSLATED"]
    assert coverage_problems(nav, set(nav), frozenset({"gone.md"})) == [
        "gone.md is in UNTRANSLATED but not in the nav"
    ]
    assert "glossary.md" in nav_pages() and "06-backprop.md" in nav_pages()
    assert len(nav_pages()) == len(set(nav_pages())) >= 20


def test_code_check_allows_translated_comments_and_catches_changed_code():
    english = (
        "# T\n\nText.\n\n```python\n>>> x = 2  # the input\n>>> # a note\n>>> x * 3\n6\n```\n\n"
        "  ```math\n  z = W x \\tag{FP1}\n  ```\n"
    )
    zh = english.replace("Text.", "正文。").replace("# the input", "# 输入")
    zh = zh.replace("# a note", "# 说明")
    assert code_difference(english, zh) is None
    changed = zh.replace("\n6\n", "\n6.0\n")
    assert code_difference(english, changed) == (
        "block 1 (English line 5, zh line 5) differs at its line 5: English '6', zh '6.0'"
    )
    assert "block 2" in code_difference(english, zh.replace("FP1", "FP2"))
    assert "fenced blocks" in code_difference(english, zh + "\n```text\nextra\n```\n")


def test_a_line_break_inside_chinese_text_is_joined_but_not_in_code():
    """The zh pages are wrapped like the English ones; HTML would render each break
    between two Chinese characters as a space, so the hook joins them, outside code."""
    join = _hook().join_cjk_lines
    assert join("误差项，\n从输出层\n往回传。") == "误差项，从输出层往回传。"
    assert join("- 列表项的\n  续行") == "- 列表项的续行"
    # next to Latin text a break stays (it renders as a space)
    assert join("第 6 章\n`gradients`\n的") == "第 6 章\n`gradients`\n的"
    code = "```python\n>>> x = 1  # 中文\n# 注释\n中文\n```\n"
    assert join("中文\n" + code + "中\n文") == "中文\n" + code + "中文"
