"""The figures' language switch (docs/figure_lang.py) and the committed Chinese figures.

No test draws a figure: the committed pngs are what the site shows (a maintainer redraws
them with the scripts' --lang zh). These check the switch itself and that every
img/NAME.zh.png stands beside its img/NAME.png at the same size in pixels.
"""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMG = ROOT / "docs" / "img"


def _figure_lang():
    spec = importlib.util.spec_from_file_location(
        "figure_lang", ROOT / "docs" / "figure_lang.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path.name}: not a PNG")
    return struct.unpack(">II", head[16:24])


def test_english_keeps_matplotlibs_defaults_and_chinese_picks_the_words():
    fl = _figure_lang()
    assert fl.rc("en") == {}  # the English pngs stay as they were drawn
    assert fl.suffix("en") == "" and fl.suffix("zh") == ".zh"
    assert fl.text("en")("loss", "损失") == "loss"
    assert fl.text("zh")("loss", "损失") == "损失"
    with pytest.raises(ValueError, match=r"--lang: expected one of en, zh, got 'fr'"):
        fl.suffix("fr")


def test_chinese_without_the_font_names_the_font_to_install(monkeypatch):
    # matplotlib comes with the docs extra (the range legs of .ci/run lack it)
    font_manager = pytest.importorskip("matplotlib.font_manager")

    fl = _figure_lang()
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(RuntimeError, match="Noto Sans CJK SC.*fonts-noto-cjk"):
        fl.rc("zh")


def test_every_chinese_figure_has_its_english_one_at_the_same_size():
    zh = sorted(IMG.glob("*.zh.png"))
    assert zh, "no Chinese figures in docs/img"
    for path in zh:
        english = path.with_name(path.name.replace(".zh.png", ".png"))
        assert english.is_file(), f"{path.name} has no {english.name}"
        assert _png_size(path) == _png_size(english), path.name
