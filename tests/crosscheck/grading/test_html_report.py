"""crosscheck/grading/html.py: the class report is one well-formed, self-contained page
(nothing fetched, no script), every student-provided string is escaped, the histogram and
the grouped diagnoses hold the hand-counted numbers of
tests/crosscheck/grading/sample_results.py, and in a real headless Chromium the page
renders without a console error, its histogram shows the expected bars, every student's
section is there, a phone-wide window never scrolls sideways, and a screenshot is kept.

Chromium (Debian's ``chromium`` + ``chromium-driver``, which ``.ci/run`` installs, and
selenium) is optional: without it the browser tests skip, except in CI (``CI=true``).
The screenshot goes to ``$CROSSCHECK_ARTIFACTS`` (else ``$REFNET_ARTIFACTS``, else the
test's temporary folder); its path is printed.
"""

from __future__ import annotations

import html.parser
import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest

from crosscheck.grading import html as report
from tests.crosscheck.grading.sample_results import (
    INJECTION,
    SENTENCES,
    class_result,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
# scores 10, 5, 7.5, 8, 8, 0, 5 over 10 points: one bar per point, 10 in the last
COUNTS = [1, 0, 0, 0, 0, 2, 0, 1, 2, 1]
VOID = {"meta", "link", "br", "hr", "img", "input", "wbr", "col", "source", "area"}
# SVG elements written self-closing (<line .../>)
SELF_CLOSING = {"line", "path", "circle", "rect"}


class Page(html.parser.HTMLParser):
    """Checks that every element closes in order and collects what the page refers to."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.refs: list[str] = []
        self.tags: dict[str, int] = {}
        self.ids: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for key, value in attrs:
            if key in ("src", "href", "action", "data", "poster", "srcset"):
                self.refs.append(value or "")
            if key == "id":
                self.ids.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(
                f"</{tag}> closes {self.stack[-1:]} at {self.getpos()}"
            )
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def page_text() -> str:
    return report.render(class_result(), date="2026-12-05")


def test_the_page_is_well_formed_and_fetches_nothing(page_text):
    page = parse(page_text)
    assert not page.problems, page.problems[:5]
    assert page.stack == [], f"never closed: {page.stack}"
    assert page_text.startswith("<!DOCTYPE html>")
    # only links inside the page, and the empty data: icon (no favicon request)
    assert all(r.startswith(("#", "data:")) for r in page.refs), page.refs
    assert "script" not in page.tags and "iframe" not in page.tags
    assert "@import" not in page_text and "url(" not in page_text
    assert "default-src 'none'" in page_text


def test_the_well_formedness_check_can_fail():
    assert parse("<div><p>x</div></p>").problems
    assert parse("<main><section></main>").problems


def test_every_student_provided_string_is_escaped(page_text):
    assert INJECTION not in page_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page_text
    assert "<img src=x" not in page_text
    assert "&lt;img src=x onerror=alert(2)&gt;" in page_text
    # a name and a path are escaped too, in text and where they sit in an attribute
    result = class_result()
    result["students"][1]["student"] = 'bob"><b>x</b>'
    result["students"][1]["path"] = "<i>p</i>"
    text = report.render(result, date="d")
    assert "<b>x</b>" not in text and "<i>p</i>" not in text
    assert "bob&quot;&gt;&lt;b&gt;x&lt;/b&gt;" in text
    assert not parse(text).problems


def test_overview_counts_date_and_one_section_per_student(page_text):
    page = parse(page_text)
    assert "7 students: 1 full mark, 4 partial, 2 errors; mean 6.2/10" in page_text
    assert "2026-12-05" in page_text
    assert "<title>Homework 3: backprop by hand</title>" in page_text
    assert [f"s{i}" for i in range(7)] == [i for i in page.ids if i.startswith("s")]
    # the students' table links each section
    for i in range(7):
        assert f'href="#s{i}"' in page_text
    # the sandbox's line, a notebook's notes, a case's table and its lost points
    assert "network cut off (a Linux network namespace); 6 folders hidden" in page_text
    assert "cell 3: skipped the magic %matplotlib inline" in page_text
    assert "FAIL: first mismatch at dW1" in page_text
    assert report.esc(SENTENCES["bp2_after"]) in page_text
    # erin's timed-out case: its four quantities in one line
    assert "−2 dW2, db2, dW1, db1</strong>: did not return within 60 s" in page_text


def test_histogram_bins_hold_the_hand_counted_scores():
    scores = [10, 5, 7.5, 8, 8, 0, 5]
    assert [c for _, _, c in report.bins(scores, 10)] == COUNTS
    assert report.bins(scores, 10)[-1][:2] == (9.0, 10.0)
    # 37.5 points: bars ceil(3.75) = 4 points wide, 0-4 ... 36-40, full marks in the last
    ranges = report.bins([0, 3.75, 37.5, 20], 37.5)
    assert [c for _, _, c in ranges] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert ranges[-1][:2] == (36, 40)
    assert [c for _, _, c in report.bins([0, 1, 4, 4, 2.5], 4)] == [1, 1, 1, 2]


def test_histogram_bins_are_whole_points_wide():
    # 14 points: 0-2, 2-4, ..., 12-14; 14 (full marks) in the last bar
    assert report.bins([0, 1.9, 2, 7, 13.5, 14], 14) == [
        (0, 2, 2),
        (2, 4, 1),
        (4, 6, 0),
        (6, 8, 1),
        (8, 10, 0),
        (10, 12, 0),
        (12, 14, 2),
    ]
    # 7.5 points: one bar per point, 0-1 ... 7-8, full marks in 7-8
    assert report.bins([7.5, 0.5, 3], 7.5) == [
        (0, 1, 1),
        (1, 2, 0),
        (2, 3, 0),
        (3, 4, 1),
        (4, 5, 0),
        (5, 6, 0),
        (6, 7, 0),
        (7, 8, 1),
    ]
    # 100 points: ten bars of 10
    assert [b[:2] for b in report.bins([], 100)][-2:] == [(80, 90), (90, 100)]
    # 6 summed in floating point as 5.999999999999999 stays in 6-8
    assert report.bins([0.1 * 3 * 20], 14)[3] == (6, 8, 1)
    svg = report.histogram_svg([0, 14], 14)
    labels = re.findall(r'text-anchor="middle">([^<]*)</text>', svg)
    assert labels[:7] == ["1", "0–2", "2–4", "4–6", "6–8", "8–10", "10–12"]
    assert "12–14" in labels and not any("." in label for label in labels)


def test_histogram_svg_has_one_bar_per_range_with_its_count(page_text):
    counts = [
        int(part.split('"', 1)[0])
        for part in page_text.split('class="bar" data-count="')[1:]
    ]
    assert counts == COUNTS
    assert "score (out of 10)" in page_text and ">students</text>" in page_text


def test_common_diagnoses_group_headlines_whose_numbers_differ():
    assert report.diagnosis_key("times 0.40, n = 8") == report.diagnosis_key(
        "times 0.52, n = 16"
    )
    assert report.diagnosis_key("times 0.40") != report.diagnosis_key("plus 0.40")
    students = class_result()["students"]
    groups = report.common_diagnoses(students)
    # carol's "times 0.4012345" and dave's "times 0.5234": one group, first
    assert groups[0] == (SENTENCES["carol"], [2, 3])
    assert [len(who) for _, who in groups] == [2, 1, 1, 1, 1]
    assert all(0 not in who for _, who in groups)  # alice: no headline


def test_long_captured_output_is_cut_in_the_middle(page_text):
    assert "characters not shown here" in page_text
    # the head and the tail of gina's 800 prints stay
    assert "epoch 0: loss 0.0000" in page_text and "epoch 799: loss 0.0799" in page_text
    whole = report.render(class_result(), date="d", max_output=10**6)
    assert "characters not shown here" not in whole
    assert "epoch 400: loss 0.0400" in whole
    with pytest.raises(ValueError, match="max_output: expected a whole number"):
        report.render(class_result(), max_output=10)


def test_the_overview_says_how_many_results_were_kept_from_an_earlier_run():
    result = class_result()
    result["kept"] = 31
    text = report.render(result, date="d")
    assert "graded in 12.3 s (31 kept from an earlier run) with 2 workers" in text
    # none kept, or a result without "kept": as before
    assert "graded in 12.3 s with 2 workers" in report.render(class_result(), date="d")
    del result["kept"]
    text = report.render(result, date="d")
    assert "graded in 12.3 s with 2 workers" in text and "kept from" not in text


SYNTAX_ERROR = (
    "raised SyntaxError: invalid syntax\n"
    '  File "hw.py", line 3\n'
    "    x = = 1 < 2\n"
    "        ^"
)


def test_a_text_of_several_lines_is_shown_in_pre_and_one_line_stays_inline():
    result = class_result()
    frank = result["students"][5]
    frank["error"] = frank["diagnosis"] = SYNTAX_ERROR
    frank["cases"][0]["error"] = SYNTAX_ERROR
    frank["cases"][1]["lost"][0]["why"] = SYNTAX_ERROR
    frank["notes"] = ["cell 2:\n  %%time\n  ^ skipped"]
    text = report.render(result, date="d")
    escaped = (
        "raised SyntaxError: invalid syntax\n"
        "  File &quot;hw.py&quot;, line 3\n"
        "    x = = 1 &lt; 2\n"
        "        ^"
    )
    # the headline, the case's error, a lost point's why: each in a <pre>
    assert f'<pre class="text headline">{escaped}</pre>' in text
    assert f'<pre class="text error">{escaped}</pre>' in text
    assert f'</strong>: <pre class="text">{escaped}</pre></li>' in text
    assert '<pre class="text">cell 2:\n  %%time\n  ^ skipped</pre>' in text
    # a sentence of one line stays inline
    assert (
        "−1 dW1</strong>: dW1 (BP2, chapter 6 &quot;Backpropagation&quot;): the f"
        in text
    )
    assert '<p class="headline">did not return within 60 s' in text
    assert not parse(text).problems


def test_a_sandbox_cut_output_shows_its_original_size():
    result = class_result()
    # 50 + 50 characters kept of 5,100: the sandbox's mark says 5,000 were cut
    result["students"][1]["stdout"] = (
        "a" * 50 + "\n[... 5000 bytes cut ...]\n" + "b" * 50
    )
    text = report.render(result, date="d")
    assert "<summary>stdout (5,100 characters, middle cut)</summary>" in text
    # an output the sandbox did not cut: its own size
    assert "<summary>stderr (35 characters)</summary>" in text  # gina's


def test_every_diagnosis_is_listed_with_all_its_students():
    result = class_result()
    alice = result["students"][0]
    students = []
    for i in range(26):
        s = {**alice, "student": f"s{i:02d}", "status": "MISMATCH", "score": 5.0}
        # twelve mistakes of one student each, then one of fourteen students
        s["diagnosis"] = f"mistake {'abcdefghijkl'[i]}" if i < 12 else "common one"
        students.append(s)
    result["students"] = students
    text = report.render(result, date="d")
    table = text.split('<table class="diagnoses">')[1].split("</table>")[0]
    assert table.count("<tr>") == 1 + 13
    first = table.split("<tr>")[2]
    assert first.startswith('<td class="num">14</td><td class="why">common one</td>')
    assert [f'href="#s{i}"' in first for i in range(26)] == [False] * 12 + [True] * 14
    for letter in "abcdefghijkl":
        assert f'<td class="why">mistake {letter}</td>' in table
    assert "other diagnoses" not in text and " more<" not in text


def test_warnings_at_the_top_and_the_files_not_graded_under_the_overview():
    result = class_result()
    result["warnings"] = [
        "every student failed case 'practice' at delta2: check the rubric"
    ]
    result["skipped"] = ["yan.zip", "<b>notes</b>.pdf"]
    text = report.render(result, date="d")
    warning = (
        "every student failed case &#x27;practice&#x27; at delta2: check the rubric"
    )
    at = text.index('<div class="warnings" role="alert">')
    assert at < text.index(warning) < text.index('<p class="counts">')
    assert text.index("</h1>") < at
    assert (
        '<p class="skipped">not graded: yan.zip, &lt;b&gt;notes&lt;/b&gt;.pdf</p>'
        in text
    )
    assert text.index('<p class="skipped">') < text.index("<h2>Scores</h2>")
    assert not parse(text).problems
    # none: no box, no line
    plain = report.render(class_result(), date="d")
    assert 'class="warnings"' not in plain and "not graded:" not in plain


def test_write_html_writes_the_page_atomically(tmp_path):
    path = tmp_path / "report.html"
    path.write_text("old")
    report.write_html(class_result(), path, date="2026-12-05")
    assert path.read_text(encoding="utf-8") == report.render(
        class_result(), date="2026-12-05"
    )
    assert os.listdir(tmp_path) == ["report.html"]


# --- in a real Chromium ----------------------------------------------------------------


def _need(ok: bool, what: str):
    if not ok:
        if IN_CI:
            pytest.fail(f"CI must have {what}")
        pytest.skip(f"{what} not installed")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need(importlib.util.find_spec("selenium") is not None, "selenium (extra 'docs')")
    _need(
        CHROMIUM is not None and CHROMEDRIVER is not None,
        "chromium and chromium-driver",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,1600",
    ):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def artifacts(tmp_path) -> Path:
    """Where screenshots go: $CROSSCHECK_ARTIFACTS, else $REFNET_ARTIFACTS (the site
    test's), else the test's temporary folder."""
    folder = Path(
        os.environ.get("CROSSCHECK_ARTIFACTS")
        or os.environ.get("REFNET_ARTIFACTS")
        or tmp_path
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


STATE = """
const bars = [...document.querySelectorAll('svg.histogram rect.bar')];
return {
  bars: bars.map(b => [Number(b.dataset.count), b.getBoundingClientRect().height]),
  svg: document.querySelector('svg.histogram').getBoundingClientRect().width,
  sections: [...document.querySelectorAll('section.student')].map(
    s => [s.id, s.querySelector('h2').textContent.split(' ')[0],
          s.getBoundingClientRect().height]),
  gina_stdout: document.querySelector('#s6 details pre').textContent.slice(0, 200),
  scripts: document.scripts.length,
};
"""


@pytest.fixture(scope="module")
def opened(browser, tmp_path_factory):
    folder = tmp_path_factory.mktemp("grade-report")
    path = folder / "report.html"
    report.write_html(class_result(), path, date="2026-12-05")
    browser.get(path.as_uri())
    return browser, path, severe(browser), browser.execute_script(STATE)


def test_browser_renders_without_a_console_error(opened):
    driver, _, errors, state = opened
    assert errors == []
    assert state["scripts"] == 0
    # the injected script is text in the page, and no alert opened
    assert "<script>alert(1)</script>" in state["gina_stdout"]
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018


def test_browser_console_check_can_fail(browser, tmp_path):
    """A page fetching an outside image is refused by the report's policy and logged."""
    bad = report.render(class_result(), date="d").replace(
        "</main>", '<img src="http://127.0.0.1:9/x.png"></main>'
    )
    path = tmp_path / "bad.html"
    path.write_text(bad, encoding="utf-8")
    browser.get(path.as_uri())
    assert severe(browser), "an outside fetch should be refused and logged"


def test_browser_histogram_bars_heights_follow_the_counts(opened):
    _, _, _, state = opened
    bars = state["bars"]
    assert [count for count, _ in bars] == COUNTS
    heights = {count: {round(h, 1) for c, h in bars if c == count} for count in COUNTS}
    # one height per count, taller for more students, none for an empty range
    assert all(len(h) == 1 for h in heights.values()), heights
    assert heights[0] == {0.0}
    (h1,), (h2,) = heights[1], heights[2]
    assert 0 < h1 < h2 and abs(h2 - 2 * h1) < 1.0
    assert state["svg"] > 300


def test_browser_every_student_section_shows(opened):
    _, _, _, state = opened
    assert [s[0] for s in state["sections"]] == [f"s{i}" for i in range(7)]
    assert [s[1] for s in state["sections"]] == NAMES
    assert all(s[2] > 100 for s in state["sections"])


def test_browser_phone_width_never_scrolls_sideways_and_a_screenshot_is_kept(
    opened, tmp_path
):
    driver, path, _, _ = opened
    folder = artifacts(tmp_path)
    driver.get(path.as_uri())
    shot = folder / "grade-report.png"
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        driver.get(path.as_uri())
        wide = driver.execute_script(
            "const d = document.documentElement; return [d.scrollWidth, d.clientWidth];"
        )
        phone = folder / "grade-report-phone.png"
        driver.save_screenshot(str(phone))
        print(f"screenshot: {phone}")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert wide[1] <= 400 and wide[0] <= wide[1], wide


def test_browser_prints_the_report(opened, tmp_path):
    """Printed (Chromium's print to PDF), the report is a PDF of several pages: the
    overview, then each student from a new page."""
    import base64

    driver, path, _, _ = opened
    driver.get(path.as_uri())
    pdf = base64.b64decode(driver.print_page())
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    # the overview, then seven students each from a new page
    assert pages >= 1 + 7, pages
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        breaks = driver.execute_script(
            "return [...document.querySelectorAll('section.student')].map("
            "s => getComputedStyle(s).breakBefore);"
        )
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert breaks == ["page"] * 7
    folder = artifacts(tmp_path)
    (folder / "grade-report.pdf").write_bytes(pdf)
    print(f"printed: {folder / 'grade-report.pdf'}")
