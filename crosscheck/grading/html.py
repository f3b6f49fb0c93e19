"""The class report as ONE self-contained HTML file a teacher can open, print or hand back.

:func:`render` reads the class result (the grading chapter's schema) and returns the page;
:func:`write_html` writes it atomically. The page needs no network: its CSS is inline, the
score histogram is inline SVG, and there is no script at all. Its Content-Security-Policy
forbids every fetch and every script, so even a string that slipped through unescaped
could neither run nor call out.

The page holds:

- a class overview: title, the grader's warnings (in a red box at the top), date,
  counts, the files of the class folder that were not graded, a score histogram (one
  bar per score range of whole points, its count above it), every diagnosis (grouped
  by the headline sentence with its numbers set aside, so "times 0.40" and "times
  0.52" are one mistake) with how many students hit it and who, and a table of
  students linking to their sections;
- one section per student: score, status, the sandbox's isolation line, notes, each
  case's table, its lost points with their sentences, and the captured stdout/stderr
  in collapsed blocks. A text of several lines (an error with its traceback) is shown
  in a ``<pre>``, so a syntax error's caret stays under its column.

Every string a student can influence (names, paths, notes, messages, captured output)
is escaped (``html.escape``): a student's ``print("<script>...")`` shows as text.
"""

from __future__ import annotations

import datetime
import html
import math
import re

from crosscheck.grading import outputs
from crosscheck.messages import language, msg
from refnet import files

MAX_OUTPUT = 20_000
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")
# the mark the sandbox leaves where it cut the middle of a captured output
_CUT_MARK = re.compile(r"\n?\[\.\.\. (\d+) (?:bytes|characters) cut \.\.\.\]\n?")

CSS = """
:root { --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --line: #d0d7de;
        --soft: #f6f8fa; --text: #1f2328; --muted: #59636e; --bar: #0969da; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--text); margin: 0 auto; max-width: 64rem; padding: 1rem; }
h1 { font-size: 1.6rem; margin: 0.2rem 0; }
h2 { font-size: 1.3rem; margin: 0 0 0.4rem; overflow-wrap: anywhere; }
h3 { font-size: 1.05rem; margin: 1rem 0 0.3rem; overflow-wrap: anywhere; }
p, li { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.3rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: var(--soft); }
td.num { text-align: right; white-space: nowrap; }
td.why { min-width: 16rem; }
@media (max-width: 40rem) { td.why { min-width: 11rem; } body { padding: 0.6rem; } }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
      padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; line-height: 1.35; }
pre.output { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 30rem;
             overflow-y: auto; }
.status { display: inline-block; border-radius: 1rem; padding: 0 0.6rem;
          font-size: 0.85rem; font-weight: 600; color: #fff; white-space: nowrap; }
.MATCH { background: var(--ok); } .MISMATCH { background: var(--warn); }
.ERROR { background: var(--bad); }
.student { border-top: 3px solid var(--line); margin-top: 2rem; padding-top: 1rem; }
.case { border-left: 3px solid var(--line); padding-left: 0.8rem; margin: 0.8rem 0; }
.lost li::marker { color: var(--bad); }
.error { color: var(--bad); }
pre.text { white-space: pre; margin: 0.3rem 0; }
.warnings { border: 2px solid var(--bad); border-radius: 6px; background: #ffebe9;
            padding: 0.4rem 0.8rem; margin: 0.6rem 0; font-weight: 600; }
.warnings ul { margin: 0.2rem 0; padding-left: 1.2rem; }
svg.histogram { width: 100%; max-width: 40rem; height: auto; display: block; }
svg .bar { fill: var(--bar); }
svg text { font: 15px system-ui, sans-serif; fill: var(--text); }
svg .axis { stroke: var(--text); stroke-width: 1; }
details { margin: 0.4rem 0; }
summary { cursor: pointer; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  .student { break-before: page; border-top: none; }
  pre { white-space: pre-wrap; font-size: 8pt; max-height: none; }
  .case, pre, tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .status { color: var(--text); background: none; border: 1px solid var(--text); }
}
"""

# no fetch, no script, no frame: the page is its own content only
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def esc(text) -> str:
    """``text`` as HTML text (quotes included, so it is safe in an attribute too)."""
    return html.escape("" if text is None else str(text), quote=True)


def text_html(text, cls: str = "", *, tag: str = "") -> str:
    """``text`` escaped: inline when it is one line (in a ``tag`` element of class
    ``cls`` when ``tag`` is given), else in a ``<pre>`` of class ``cls`` (a traceback's
    caret stays under its column)."""
    text = "" if text is None else str(text)
    if "\n" in text.strip("\n"):
        return f'<pre class="{f"text {cls}".strip()}">{esc(text.strip(chr(10)))}</pre>'
    if not tag:
        return esc(text)
    attr = f' class="{cls}"' if cls else ""
    return f"<{tag}{attr}>{esc(text)}</{tag}>"


def _status(status: str) -> str:
    kind = status if status in outputs.STATUSES else "ERROR"
    return f'<span class="status {kind}">{esc(status)}</span>'


def _score(item: dict) -> str:
    return f"{outputs.number(item['score'])}/{outputs.number(item['max_score'])}"


# --- the class overview ----------------------------------------------------------------


def bins(scores: list[float], max_score: float) -> list[tuple[int, int, int]]:
    """The histogram's bars as (low, high, count), every bound a whole number: one bar
    per point up to 10 points, else bars ceil(max_score / 10) points wide (14 points:
    0-2, 2-4, ..., 12-14); each range holds its low end, the last one its high end too
    (full marks)."""
    width = 1 if max_score <= 10 else math.ceil(max_score / 10)
    n = max(math.ceil(max_score / width), 1)
    counts = [0] * n
    for x in scores:
        # a score summed in floating point (5.999999999) stays in its bar
        k = math.floor(x / width + 1e-9)
        counts[min(max(k, 0), n - 1)] += 1
    return [(k * width, (k + 1) * width, c) for k, c in enumerate(counts)]


def histogram_svg(scores: list[float], max_score: float) -> str:
    """The score histogram as inline SVG: bars (class "bar", data-count), the count above
    each non-empty bar, the range under each, axis titles."""
    bars = bins(scores, max_score)
    left, right, top, bottom = 48, 632, 24, 212
    step = (right - left) / len(bars)
    tallest = max([c for _, _, c in bars] + [1])
    parts = [
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{bottom}"/>',
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0</text>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{tallest}</text>',
    ]
    for k, (lo, hi, count) in enumerate(bars):
        h = (bottom - top) * count / tallest
        x = left + k * step + 3
        label = f"{outputs.number(lo)}–{outputs.number(hi)}"
        who = msg("html.student" if count == 1 else "html.students", n=count)
        tip = msg("html.bar", who=who, range=label)
        parts.append(
            f'<rect class="bar" data-count="{count}" x="{x:.1f}" y="{bottom - h:.1f}" '
            f'width="{step - 6:.1f}" height="{h:.1f}"><title>{esc(tip)}</title></rect>'
        )
        if count:
            parts.append(
                f'<text x="{x + (step - 6) / 2:.1f}" y="{bottom - h - 5:.1f}" '
                f'text-anchor="middle">{count}</text>'
            )
        parts.append(
            f'<text x="{x + (step - 6) / 2:.1f}" y="{bottom + 16}" '
            f'text-anchor="middle">{esc(label)}</text>'
        )
    parts += [
        f'<text x="{(left + right) / 2}" y="{bottom + 38}" text-anchor="middle">'
        f"{esc(msg('html.x_axis', max=outputs.number(max_score)))}</text>",
        f'<text transform="translate(14 {(top + bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{esc(msg("html.y_axis"))}</text>',
    ]
    return (
        '<svg class="histogram" viewBox="0 0 640 256" role="img" '
        'aria-labelledby="histogram-title">'
        f'<title id="histogram-title">{esc(msg("html.histogram"))}</title>'
        + "".join(parts)
        + "</svg>"
    )


def diagnosis_key(text: str) -> str:
    """The headline with every number replaced by "#": "times 0.40" and "times 0.52",
    or dW1's and dW2's same mistake, group together."""
    return _NUMBER.sub("#", " ".join(text.split()))


def common_diagnoses(students: list[dict]) -> list[tuple[str, list[int]]]:
    """(an example headline, the indices of the students who hit it), most common first
    (ties in the class's order); students without a headline are left out."""
    groups: dict[str, tuple[str, list[int]]] = {}
    for i, s in enumerate(students):
        text = s.get("diagnosis") or ""
        if text.strip():
            groups.setdefault(diagnosis_key(text), (text, []))[1].append(i)
    return sorted(groups.values(), key=lambda g: -len(g[1]))


def _link(i: int, students: list[dict]) -> str:
    return f'<a href="#s{i}">{esc(students[i]["student"])}</a>'


def _diagnoses_html(students: list[dict]) -> str:
    groups = common_diagnoses(students)
    if not groups:
        return f"<p>{esc(msg('html.no_diagnosis'))}</p>"
    rows = []
    for text, who in groups:
        names = ", ".join(_link(i, students) for i in who)
        rows.append(
            f'<tr><td class="num">{len(who)}</td>'
            f'<td class="why">{text_html(text)}</td><td>{names}</td></tr>'
        )
    return (
        '<div class="scroll"><table class="diagnoses"><thead><tr><th>students</th>'
        "<th>diagnosis (one example; numbers vary)</th><th>who</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _students_html(students: list[dict]) -> str:
    rows = "".join(
        f'<tr><td>{_link(i, students)}</td><td class="num">{esc(_score(s))}</td>'
        f"<td>{_status(s['status'])}</td><td>{esc(s.get('first_failure') or '')}</td>"
        f'<td class="why">{text_html(s.get("diagnosis") or "")}</td></tr>'
        for i, s in enumerate(students)
    )
    return (
        '<div class="scroll"><table class="students"><thead><tr><th>student</th>'
        "<th>score</th><th>status</th><th>first failing row</th><th>diagnosis</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _cases_html(result: dict) -> str:
    cases = [c for c in result.get("cases") or [] if isinstance(c, dict)]
    if not cases:
        return ""
    rows = []
    for c in cases:
        layout = c.get("layout")
        if isinstance(layout, (list, tuple)):
            layout = "-".join(map(str, layout))
        acts = c.get("activations")
        if isinstance(acts, (list, tuple)):
            acts = ",".join(map(str, acts))
        rows.append(
            f"<tr><td>{esc(c.get('name'))}</td>"
            f"<td>{esc(msg('html.hidden' if c.get('hidden') else 'html.practice'))}</td>"
            f'<td class="num">{esc(outputs.number(c.get("points") or 0))}</td>'
            f"<td>{esc(layout or (msg('html.drawn') if c.get('hidden') else ''))}</td>"
            f"<td>{esc(acts or '')}</td><td>{esc(c.get('loss') or '')}</td></tr>"
        )
    return (
        f"<h2>{esc(msg('html.cases'))}</h2>"
        '<div class="scroll"><table class="cases"><thead><tr>'
        "<th>case</th><th>kind</th><th>points</th><th>layout</th><th>activations</th>"
        f"<th>loss</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _overview(result: dict, students: list[dict], date: str) -> str:
    top = max([s["max_score"] for s in students] + [0])
    cases = [c for c in result.get("cases") or [] if isinstance(c, dict)]
    hidden = sum(bool(c.get("hidden")) for c in cases)
    n_cases = len(cases)
    facts = [
        msg("html.case_count", n=n_cases, practice=n_cases - hidden, hidden=hidden)
        if cases
        else "",
        msg("html.function", name=result["function"]) if result.get("function") else "",
        msg("html.convention", name=result["convention"])
        if result.get("convention")
        else "",
    ]
    if isinstance(result.get("seconds"), (int, float)):
        workers = result.get("workers")
        with_workers = msg("html.workers", n=workers) if workers else ""
        kept = result.get("kept") or 0
        earlier = msg("html.kept", n=kept) if kept > 0 else ""
        facts.append(
            msg(
                "html.graded_in",
                seconds=result["seconds"],
                earlier=earlier,
                workers=with_workers,
            )
        )
    warnings = result.get("warnings") or []
    if warnings:
        items = "".join(f"<li>{text_html(w)}</li>" for w in warnings)
        warnings = (
            f'<div class="warnings" role="alert"><p>{esc(msg("html.check_first"))}'
            f"</p><ul>{items}</ul></div>"
        )
    skipped = result.get("skipped") or []
    if skipped:
        text = msg("grade.not_graded", names=", ".join(skipped))
        skipped = f'<p class="skipped">{esc(text)}</p>'
    return (
        '<header id="overview">'
        f"<h1>{esc(result.get('title') or 'crosscheck grade')}</h1>"
        f"{warnings or ''}"
        f'<p class="muted">{esc(date)} · '
        f"{esc(' · '.join(f for f in facts if f))}</p>"
        f'<p class="counts"><strong>{esc(outputs.counts(students))}</strong></p>'
        f"{skipped or ''}"
        "</header>"
        f"<h2>{esc(msg('html.scores'))}</h2>"
        + histogram_svg([s["score"] for s in students], top)
        + f"<h2>{esc(msg('html.common'))}</h2>"
        + _diagnoses_html(students)
        + f"<h2>{esc(msg('html.students_heading'))}</h2>"
        + _students_html(students)
        + _cases_html(result)
    )


# --- one section per student -----------------------------------------------------------


def _captured(label: str, text: str, max_output: int) -> str:
    """A collapsed block of captured output, its middle cut beyond ``max_output``
    characters (the head shows what ran first, the tail the traceback)."""
    if not text:
        return ""
    size = msg("html.characters", n=f"{len(text):,}")
    mark = _CUT_MARK.search(text)
    if mark:
        whole = int(mark.group(1)) + len(text) - len(mark.group(0))
        size = msg("html.characters_cut", n=f"{whole:,}")
    shown = text
    if len(text) > max_output:
        head = max_output // 4
        tail = max_output - head
        cut = len(text) - max_output
        mid = msg("html.not_shown", n=f"{cut:,}")
        shown = f"{text[:head]}\n{mid}\n{text[-tail:]}"
    return (
        f"<details><summary>{esc(label)} ({size})</summary>"
        f'<pre class="output">{esc(shown)}</pre></details>'
    )


def _case_html(case: dict) -> str:
    hidden = (
        f' <small class="muted">{esc(msg("html.hidden_mark"))}</small>'
        if case.get("hidden")
        else ""
    )
    parts = [
        f"<h3>{esc(case.get('name'))}{hidden}: {esc(_score(case))} "
        f"{_status(case.get('status') or 'ERROR')}</h3>",
    ]
    if case.get("title"):
        parts.append(f'<p class="muted">{esc(case["title"])}</p>')
    if case.get("error"):
        parts.append(text_html(case["error"], "error", tag="p"))
    if case.get("table"):
        parts.append(f'<pre class="table">{esc(case["table"])}</pre>')
    groups = outputs.lost_groups(case)
    if groups:
        items = "".join(
            f"<li><strong>−{esc(outputs.number(points))} {esc(', '.join(names))}"
            f"</strong>: {text_html(why)}</li>"
            for points, names, why in groups
        )
        parts.append(f'<p>{esc(msg("html.lost"))}</p><ul class="lost">{items}</ul>')
    told = {why for _, _, why in groups} | {case.get("error")}
    more = [d for d in case.get("diagnosis") or [] if d not in told]
    if more:
        items = "".join(f"<li>{text_html(d)}</li>" for d in more)
        parts.append(f'<ul class="diagnosis">{items}</ul>')
    earned = case.get("earned") or []
    if earned:
        text = ", ".join(
            f"{x['quantity']} ({outputs.number(x['points'])})" for x in earned
        )
        parts.append(f'<p class="muted">{esc(msg("html.earned", text=text))}</p>')
    return f'<div class="case">{"".join(parts)}</div>'


def _student_html(i: int, s: dict, max_output: int) -> str:
    meta = [s.get("path"), s.get("kind")]
    if s.get("sha256"):
        meta.append(f"sha256 {str(s['sha256'])[:12]}")
    if isinstance(s.get("seconds"), (int, float)):
        meta.append(f"{s['seconds']:.1f} s")
    parts = [
        f"<h2>{esc(s['student'])} {_status(s['status'])} "
        f'<span class="score">{esc(_score(s))}</span></h2>',
        f'<p class="muted">{esc(" · ".join(str(m) for m in meta if m))}</p>',
    ]
    if s.get("isolation"):
        text = msg("html.sandbox", text=s["isolation"])
        parts.append(f'<p class="muted">{esc(text)}</p>')
    if s.get("first_failure"):
        parts.append(
            f"<p>{esc(msg('html.first_failing_row'))} "
            f"<strong>{esc(s['first_failure'])}</strong></p>"
        )
    if s.get("diagnosis"):
        parts.append(text_html(s["diagnosis"], "headline", tag="p"))
    if s.get("error") and s["error"] != s.get("diagnosis"):
        if "\n" in str(s["error"]).strip("\n"):
            label = f'<p class="error">{esc(msg("html.error"))}</p>'
            parts.append(label + text_html(s["error"], "error"))
        else:
            text = f"{msg('html.error')} {s['error']}"
            parts.append(f'<p class="error">{esc(text)}</p>')
    notes = s.get("notes") or []
    if notes:
        items = "".join(f"<li>{text_html(n)}</li>" for n in notes)
        parts.append(f'<p>{esc(msg("html.notes"))}</p><ul class="notes">{items}</ul>')
    parts += [_case_html(c) for c in s["cases"] if isinstance(c, dict)]
    parts.append(_captured("stdout", s.get("stdout") or "", max_output))
    parts.append(_captured("stderr", s.get("stderr") or "", max_output))
    parts.append(f'<p><a href="#overview">{esc(msg("html.back"))}</a></p>')
    return f'<section class="student" id="s{i}">{"".join(parts)}</section>'


# --- the page --------------------------------------------------------------------------


def render(result, *, date: str | None = None, max_output: int = MAX_OUTPUT) -> str:
    """The class report as one self-contained HTML page (a str).

    ``date``: the date shown under the title (default: the result's "date", else now,
    in UTC). ``max_output``: the captured stdout/stderr shown per student, in
    characters (the middle of a longer one is cut; the JSON result keeps it all).
    """
    students = outputs.check_result(result)
    if (
        isinstance(max_output, bool)
        or not isinstance(max_output, int)
        or max_output < 100
    ):
        raise ValueError(
            f"max_output: expected a whole number of characters >= 100, got "
            f"{max_output!r}"
        )
    if date is None:
        date = result.get("date") or datetime.datetime.now(
            datetime.timezone.utc
        ).strftime("%Y-%m-%d %H:%M UTC")
    title = esc(result.get("title") or "crosscheck grade")
    lang = outputs.lang_of(result)
    with language(lang):  # the page's fixed words in the result's language
        body = _overview(result, students, str(date)) + "".join(
            _student_html(i, s, max_output) for i, s in enumerate(students)
        )
    html_lang = {"en": "en", "zh": "zh-CN"}[lang]
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{title}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def write_html(result, path, **options) -> None:
    """:func:`render`'s page written atomically at ``path`` (UTF-8); ``options`` go to
    :func:`render` (date, max_output)."""
    data = render(result, **options).encode("utf-8")
    files.atomic_write(path, lambda fh: fh.write(data), "path")
