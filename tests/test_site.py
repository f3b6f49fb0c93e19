"""The docs as a site: ``mkdocs build --strict`` succeeds, and in a real headless Chromium
every display equation is typeset by the vendored KaTeX, no raw TeX is visible, every
image loads, and a screenshot of the backprop chapter is saved.

mkdocs (extra ``docs``) and Chromium (Debian's ``chromium`` + ``chromium-driver``, which
``.ci/run`` installs) are optional: without them these tests skip, except in CI
(``CI=true``), where a missing tool is a failure.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def _need(ok: bool, what: str):
    if not ok:
        if IN_CI:
            pytest.fail(f"CI must have {what}")
        pytest.skip(f"{what} not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once with ``mkdocs build --strict`` into a temporary folder."""
    _need(importlib.util.find_spec("mkdocs") is not None, "mkdocs (extra 'docs')")
    _need(importlib.util.find_spec("material") is not None, "mkdocs-material")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stderr}"
    return out


def chapters() -> list[str]:
    return sorted(p.stem for p in (ROOT / "docs").glob("[0-9][0-9]-*.md"))


def test_mkdocs_build_strict_makes_one_page_per_chapter(site):
    for stem in chapters():
        assert (site / f"{stem}.html").is_file(), stem
    assert (site / "index.html").is_file()
    html = (site / "06-backprop.html").read_text(encoding="utf-8")
    assert 'class="arithmatex"' in html  # math reached the page for KaTeX
    assert "://cdn" not in html and "fonts.googleapis" not in html  # nothing remote


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser(site):
    _need(importlib.util.find_spec("selenium") is not None, "selenium (extra 'docs')")
    _need(
        CHROMIUM is not None and CHROMEDRIVER is not None,
        "chromium and chromium-driver",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = site.parent / f"{site.name}-chromium-profile"
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1200,2000",
    ):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(120)
    try:
        yield driver, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        driver.quit()
        server.shutdown()


PAGE_STATE = """
const article = document.querySelector('article') || document.body;
const displays = [...article.querySelectorAll('div.arithmatex')];
const inlines = [...article.querySelectorAll('span.arithmatex')];
const clone = article.cloneNode(true);
clone.querySelectorAll('.katex, pre, code').forEach(e => e.remove());
const imgs = [...article.querySelectorAll('img')];
return {
  displays: displays.length,
  displays_typeset: displays.filter(d => d.querySelector('.katex-display')).length,
  inlines: inlines.length,
  inlines_typeset: inlines.filter(s => s.querySelector('.katex')).length,
  errors: [...article.querySelectorAll('.katex-error')].map(e => e.textContent),
  text: clone.textContent,
  images: imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]),
  katex_font: document.fonts.check('16px KaTeX_Main'),
};
"""


@pytest.mark.parametrize("stem", ["README", *chapters()])
def test_browser_every_equation_typeset_and_every_image_loads(browser, stem, tmp_path):
    driver, base = browser
    page = "index" if stem == "README" else stem
    driver.get(f"{base}/{page}.html")
    driver.execute_async_script(
        "const done = arguments[0]; document.fonts.ready.then(() => done(true));"
    )
    state = driver.execute_script(PAGE_STATE)
    assert state["displays_typeset"] == state["displays"], state["displays"]
    assert state["inlines_typeset"] == state["inlines"]
    assert not state["errors"], f"KaTeX could not parse: {state['errors'][:3]}"
    for raw in ("\\frac", "$$", "\\(", "\\[", "\\tag", "\\mathcal", "```math"):
        assert raw not in state["text"], f"raw TeX {raw!r} visible on {page}"
    for src, loaded in state["images"]:
        assert loaded, f"{page}: image {src} did not load"
    if state["displays"]:
        assert state["katex_font"], "the vendored KaTeX fonts did not load"
    if stem == "06-backprop":
        assert state["displays"] >= 5
        folder = Path(os.environ.get("REFNET_ARTIFACTS", tmp_path))
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / "06-backprop.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
