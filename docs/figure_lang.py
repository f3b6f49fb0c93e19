"""The language of the figures' words: ``--lang zh`` draws Chinese labels into NAME.zh.png.

The figure scripts (docs/plot_*.py, and bench's crossover map) draw the same figure from
the same data in either language. English (the default) uses matplotlib's defaults,
so the English pngs are unchanged. Chinese needs the font Noto Sans CJK SC (Debian and
Ubuntu: ``apt-get install fonts-noto-cjk``); it is asked for by name, for zh only.
mkdocs-static-i18n shows img/NAME.zh.png on the zh pages wherever they link img/NAME.png.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("en", "zh")
CJK_FONT = "Noto Sans CJK SC"


def check_lang(lang: str, name: str = "--lang") -> str:
    if lang not in LANGS:
        raise ValueError(f"{name}: expected one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def suffix(lang: str) -> str:
    """'' for English, '.zh' for Chinese: img/NAME.png and img/NAME.zh.png."""
    return "" if check_lang(lang) == "en" else f".{lang}"


def text(lang: str) -> Callable[[str, str], str]:
    """t(english, chinese) -> the one of this language."""
    check_lang(lang)
    return (lambda en, zh: en) if lang == "en" else (lambda en, zh: zh)


def rc(lang: str) -> dict:
    """matplotlib rcParams for this language's figures: none for English; for Chinese,
    the CJK font first (its Latin letters too, so labels that mix Chinese and $math$
    render: mathtext draws their non-math part in the first family), DejaVu Sans after
    it for any glyph it lacks."""
    if check_lang(lang) == "en":
        return {}
    from matplotlib import font_manager

    def known() -> bool:
        return any(f.name == CJK_FONT for f in font_manager.fontManager.ttflist)

    if not known():  # installed after matplotlib cached its font list
        cached = {f.fname for f in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in cached:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    if not known():
        raise RuntimeError(
            f"--lang zh: the Chinese figures need the font {CJK_FONT!r}, which is not "
            "installed (Debian/Ubuntu: apt-get install fonts-noto-cjk; elsewhere: any "
            f"install of {CJK_FONT}); the English figures do not need it"
        )
    return {"font.family": [CJK_FONT, "DejaVu Sans"]}


def from_command_line(argv, description: str) -> str:
    """A figure script's command line: ``--lang en|zh`` (default en), parsed, with
    matplotlib's rcParams set for that language (:func:`rc`); returns the language."""
    import argparse

    import matplotlib

    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--lang",
        choices=LANGS,
        default="en",
        help=f"language of the labels (zh: Chinese, into *.zh.png; needs the font {CJK_FONT})",
    )
    lang = p.parse_args(argv).lang
    matplotlib.rcParams.update(rc(lang))
    return lang
