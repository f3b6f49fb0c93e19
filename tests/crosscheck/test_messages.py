"""The message catalog (crosscheck/messages/): every sentence of check_backprop,
``crosscheck mine`` and ``crosscheck grade`` in English and in Chinese.

(a) both languages have the same ids, and each pair the same format fields (no sentence
    missing in either language, none that can KeyError at run time);
(b) every id is used by the code, and the modules that make sentences hold no English
    sentence of their own (the static rule below);
(c) a known bug checked in Chinese gives the catalog's Chinese sentence, written out in
    the test from the zh entries, through the Python API, ``crosscheck mine --lang zh``
    and a Chinese LANG; --lang en beats LANG;
(d) a bad lang is a ValueError naming ``lang`` (a usage error naming --lang at the
    command line).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from pathlib import Path

import pytest

from crosscheck import messages
from crosscheck.grading.cli import main as grade_main
from crosscheck.grading.grade import _student, replay, score_case
from crosscheck.grading.outputs import gradescope, short_diagnosis
from crosscheck.grading.rubric import from_data
from crosscheck.messages import en, env_lang, zh
from crosscheck.mine import diagnose
from crosscheck.mine.check import case_inputs, check_backprop
from crosscheck.mine.cli import main as mine_main
from tests.crosscheck.mine import own_backprops as ob

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "crosscheck"
OWN = str(ROOT / "tests" / "crosscheck" / "mine" / "own_backprops.py")
# the bug: Nielsen's per-example code without sigmoid_prime in the hidden layer (BP2)
BUG = dict(sizes=[4, 5, 3], activations="sigmoid", loss="mse", convention="nielsen")
FLAGS = [
    "--layout",
    "4-5-3",
    "--activations",
    "sigmoid",
    "--loss",
    "mse",
    "--convention",
    "nielsen",
    "--no-frameworks",
]


# --- (a) the two catalogs ---------------------------------------------------------------


def test_both_languages_have_every_message_with_the_same_fields():
    assert set(en.MESSAGES) == set(zh.MESSAGES)
    for key, text in en.MESSAGES.items():
        assert messages.fields(text) == messages.fields(zh.MESSAGES[key]), key
        assert zh.MESSAGES[key].strip(), key


def test_every_message_formats_in_both_languages():
    """Each template formats with its own fields (numbers for the fields with a number
    format, as the code passes them): no stray brace, no spec a string cannot take,
    and every field shows in the sentence."""
    for lang in messages.LANGS:
        with messages.language(lang):
            for key, text in messages.CATALOGS[lang].items():
                numeric = set(re.findall(r"\{(\w+):[^}]*[gf]\}", text))
                names = messages.fields(text)
                values = {f: 1.5 if f in numeric else f"<{f}>" for f in names}
                said = messages.msg(key, **values)
                assert "{" not in said and "}" not in said, key
                for name in names - numeric:
                    assert f"<{name}>" in said, (key, name)


def test_the_english_titles_are_the_chapters_headings():
    """cite's English chapter titles are diagnose.CHAPTERS' (which test_diagnose checks
    against the docs' headings), so English sentences are as before."""
    for number, msg_id in diagnose.TITLE_IDS.items():
        assert en.MESSAGES[msg_id] == diagnose.CHAPTERS[number][1]
    for label, msg_id in diagnose.SECTION_IDS.items():
        assert en.MESSAGES[msg_id] == diagnose.SECTIONS[label]


def test_the_chinese_titles_are_the_chinese_chapters_headings():
    """A chapter is cited in Chinese by its zh page's heading: the first "# N. ..." line
    of docs/STEM.zh.md, without its {#anchor}."""
    for number, msg_id in diagnose.TITLE_IDS.items():
        page = ROOT / "docs" / f"{diagnose.CHAPTERS[number][0]}.zh.md"
        lines = page.read_text(encoding="utf-8").splitlines()
        heading = next(line for line in lines if line.startswith("# "))
        heading = re.sub(r"\s*\{#[^}]*\}$", "", heading)
        assert heading == f"# {number}. {zh.MESSAGES[msg_id]}", (page.name, heading)


def _glossary_hook():
    """docs/hooks/refnet_zh.py, which reads the glossary's table (its 不用 column)."""
    path = ROOT / "docs" / "hooks" / "refnet_zh.py"
    spec = importlib.util.spec_from_file_location("refnet_zh", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the glossary's discouraged variants (docs' 中英术语对照): never in a Chinese sentence
DISCOURAGED = sorted(_glossary_hook().discouraged())


def test_the_chinese_sentences_use_the_glossarys_terms():
    for key, text in zh.MESSAGES.items():
        for word in DISCOURAGED:
            assert word not in text, (key, word)


def test_the_chinese_sentences_keep_labels_and_code():
    """The equation labels, code and numbers of an English sentence are in its Chinese
    one: (BP1)..(SM1), `reduction='sum'`, `d(a - y)^2/da`, ..."""
    keep = re.compile(
        r"\b(?:BP\d|LS\d|SM1|AF\d|FP1-FP2)\b|\w+='\{?\w+\}?'|--[\w-]+|\w+\(\w*\)"
    )
    for key, text in en.MESSAGES.items():
        for token in keep.findall(text):
            assert token in zh.MESSAGES[key], (key, token)


# --- (b) used, and not bypassed ---------------------------------------------------------


def _sources():
    return [p for p in PACKAGE.rglob("*.py") if "messages" not in p.parts]


def test_every_message_is_used_by_the_code():
    """Each id appears as a string in crosscheck's code (outside the catalog): ids are
    always written out whole, never built from pieces, so this finds them all."""
    used = set()
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                used.add(node.value)
    assert set(en.MESSAGES) - used == set()


# The modules whose strings are sentences a student or teacher reads. The rule: no
# string literal there (an f-string counted with its fields as words) holds five or more
# English words, except docstrings, the messages of ValueError/TypeError raised for a
# bad argument (the API's errors are English, as Python's are) and the names below.
# HTML counts its text only: tags, attributes and table headers (<th>, the same in every
# language, as the check's table is) are not words; nor is the page's CSS.
SENTENCE_MODULES = (
    "mine/diagnose.py",
    "mine/check.py",
    "mine/returned.py",
    "report.py",
    "grading/outputs.py",
    "grading/html.py",
)
# (kinks.py's one phrase a student reads, "and 4 more", is the catalog's; its note
# "kink: ..." belongs to crosscheck.compare, refnet against the frameworks.)
ALLOWED = {
    # diagnose.CHAPTERS' and SECTIONS' English titles: the docs' headings, which
    # test_diagnose checks (the sentences take them from the catalog)
    "What refnet adds for it",
    # what check_memory's error names (an argument's error: English, as all are)
    "a batch of  x  for the layout  x ",
    # the several-oracle table's legend: a table header, the same in every language
    "err/tol: refnet vs each oracle",
    ", the worst pair of oracles",
}


def _english_strings(tree):
    skip = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", "") in ("CSS", "CSP") for t in node.targets
        ):
            skip.add(id(node.value))
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            name = getattr(node.exc.func, "id", "")
            if name in ("ValueError", "TypeError"):
                skip.update(id(n) for n in ast.walk(node.exc))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
            text = "".join(
                v.value if isinstance(v, ast.Constant) else " x " for v in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if text in ALLOWED or text in en.MESSAGES:  # (an id is no sentence)
            continue
        text = re.sub(r"<th>[^<]*</th>|<[^>]*>", " ", text)
        if len(re.findall(r"[A-Za-z][a-z']+", text)) >= 5:
            yield node.lineno, text


@pytest.mark.parametrize("module", SENTENCE_MODULES)
def test_no_sentence_bypasses_the_catalog(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    assert list(_english_strings(tree)) == []


def test_the_static_rule_can_fail():
    tree = ast.parse(
        'def f(x):\n    """Docstrings are fine, however long they are."""\n'
        '    if x:\n        raise ValueError(f"x: expected a number, got {x}")\n'
        '    return f"your {x} is half the reference value"\n'
    )
    assert [line for line, _ in _english_strings(tree)] == [5]
    html = 'x = "<p class=\\"a b c d e\\">ok</p><th>one two three four five</th>"\n'
    assert list(_english_strings(ast.parse(html))) == []
    html = html.replace("ok", "the student did not return it")
    assert len(list(_english_strings(ast.parse(html)))) == 1


# --- (c) a Chinese diagnosis, end to end ------------------------------------------------


def _zh(msg_id, /, **fields):
    return zh.MESSAGES[msg_id].format(**fields)


# the zh entries put together by hand: the row, its label and chapter, the BP2 mistake
# carried into dW1
EXPECTED_ZH = _zh(
    "cite.sentence",
    name="dW1",
    label="BP2",
    where=_zh("cite.chapter", number=6, title=_zh("chapter.backprop")),
    text=_zh(
        "diag.carried",
        text=_zh("diag.bp2_no_fprime", l=1, up=2, act="sigmoid"),
        name="dW1",
    ),
)
EXPECTED_EN = (
    'dW1 (BP2, chapter 6 "Backpropagation"): the f\'(z[1]) factor of BP2 is missing: '
    "delta1 = delta2 @ W2.T without the sigmoid derivative (BP4/BP3 carry it into dW1)"
)


def test_the_expected_chinese_sentence_reads_as_written():
    """The hand-made sentence, spelled out: a check of the composition itself."""
    assert EXPECTED_ZH == (
        "dW1（BP2，第 6 章“反向传播”）：BP2 中缺少因子 f'(z[1])：delta1 = delta2 @ "
        "W2.T，没有乘以 sigmoid 的导数（这个错误经 BP4/BP3 传到了 dW1）"
    )


def test_check_backprop_in_chinese():
    fn = ob.bug_nielsen_no_sigmoid_prime
    zh_report = check_backprop(fn, tensorflow=False, lang="zh", **BUG)
    assert zh_report.diagnosis[0] == EXPECTED_ZH
    text = str(zh_report)
    assert "FAIL：首个不一致出现在 dW1" in text and "\n诊断：\n- " + EXPECTED_ZH in text
    en_report = check_backprop(fn, tensorflow=False, **BUG)
    assert en_report.diagnosis[0] == EXPECTED_EN
    # the table is the same in both languages; only the lines under it differ
    assert zh_report.table().split("\nFAIL")[0] == en_report.table().split("\nFAIL")[0]


def test_the_python_api_ignores_lang_in_the_environment(monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    report = check_backprop(ob.bug_nielsen_no_sigmoid_prime, tensorflow=False, **BUG)
    assert report.diagnosis[0] == EXPECTED_EN


def _mine(capsys, *extra):
    code = mine_main([f"{OWN}:bug_nielsen_no_sigmoid_prime", *FLAGS, *extra])
    return code, capsys.readouterr().out


def test_crosscheck_mine_lang_zh(capsys):
    code, out = _mine(capsys, "--lang", "zh")
    assert code == 1
    assert "FAIL：首个不一致出现在 dW1" in out and f"- {EXPECTED_ZH}\n" in out


@pytest.mark.parametrize(
    "env",
    [
        {"LANG": "zh_CN.UTF-8"},
        {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"},
        {"LANG": "en_US.UTF-8", "LC_ALL": "zh_TW.UTF-8"},
    ],
)
def test_crosscheck_mine_follows_a_chinese_locale(capsys, monkeypatch, env):
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out = _mine(capsys)
    assert code == 1 and f"- {EXPECTED_ZH}\n" in out


def test_lang_en_beats_a_chinese_locale(capsys, monkeypatch):
    monkeypatch.setenv("LANG", "zh")
    code, out = _mine(capsys, "--lang", "en")
    assert code == 1
    assert "FAIL: first mismatch at dW1" in out and f"- {EXPECTED_EN}\n" in out


def test_several_files_summary_lines_in_chinese(capsys):
    targets = [f"{OWN}:nielsen_batch_matrix", f"{OWN}:bug_nielsen_no_sigmoid_prime"]
    assert mine_main([*targets, *FLAGS, "--lang", "zh"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].endswith("  MATCH")
    assert lines[1].endswith(f"  MISMATCH 首个不一致出现在 dW1：{EXPECTED_ZH}")
    assert lines[-1] == _zh("mine.count", ok=1, n=2) == "2 个中有 1 个一致"


@pytest.mark.parametrize(
    ("environ", "lang"),
    [
        ({}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh"}, "zh"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "zh_HK.UTF-8", "LANG": "en_GB.UTF-8"}, "zh"),
        ({"LC_ALL": "", "LANG": "zh_CN.UTF-8"}, "zh"),  # an empty variable is unset
    ],
)
def test_env_lang_follows_posix_precedence(environ, lang):
    assert env_lang(environ) == lang


def _graded(lang):
    """One case of the grader, a student with the BP2 bug, in ``lang``."""
    spec = dict(name="c", layout="4-5-3", activations=["sigmoid"] * 2, loss="mse")
    spec.update(points=10)
    rubric = dict(function="f", convention="nielsen", case=[spec])
    case = from_data(rubric).draw()[0]
    weights, X, Y = case_inputs(
        case.sizes, case.activations, case.loss, **case.kwargs()
    )
    returned = ob.bug_nielsen_no_sigmoid_prime(weights, X, Y)
    return score_case(case, replay(case, returned, {}, lang))


def test_the_grader_says_why_in_chinese():
    got = _graded("zh")
    whys = {x["quantity"]: x["why"] for x in got["lost"]}
    assert whys["dW1"] == EXPECTED_ZH
    # db1 is fed by the failing delta1 only through dW1's mistake: its own sentence
    assert all(why for why in whys.values())
    student = _student(dict(student="s", notes=[], lang="zh"), [got])
    assert student["diagnosis"] == EXPECTED_ZH
    assert short_diagnosis(EXPECTED_ZH) == EXPECTED_ZH.split("）：", 1)[1]
    output = gradescope(student)["output"]
    score = f"{got['score']:g}/10"
    assert output.startswith(_zh("grade.points", score=score, status="MISMATCH"))
    assert _zh("grade.first_failing_row", where="c: dW1") in output
    assert _graded("en")["lost"][0]["why"] == EXPECTED_EN


# --- (d) bad lang values ---------------------------------------------------------------


@pytest.mark.parametrize("bad", ["fr", "ZH", "zh_CN", "", 1, ("zh",)])
def test_a_bad_lang_is_a_value_error_naming_it(bad):
    want = re.escape(f"lang: expected one of ['en', 'zh'], got {bad!r}")
    with pytest.raises(ValueError, match=want):
        check_backprop(ob.nielsen_batch_matrix, tensorflow=False, lang=bad, **BUG)
    with pytest.raises(ValueError, match=want):
        messages.check_lang(bad)


@pytest.mark.parametrize("main", [mine_main, grade_main])
def test_a_bad_lang_flag_is_a_usage_error_naming_it(main, capsys, tmp_path):
    argv = [f"{OWN}:f", *FLAGS] if main is mine_main else [str(tmp_path)]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--lang", "fr"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--lang" in err and "'fr'" in err


# --- crosscheck grade in Chinese, end to end (two students, in sandboxes) ---------------

RIGHT = """import numpy as np

def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1 ** 2)
    return [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]
"""
GRADE_FLAGS = ["--function", "backprop", "--layout", "4-6-3"]
GRADE_FLAGS += ["--activations", "tanh,linear", "--loss", "mse", "--hidden", "0"]
GRADE_FLAGS += ["--secret", "s", "-q"]


def test_crosscheck_grade_in_chinese_then_english(tmp_path, capsys, monkeypatch):
    """db as a mean over the batch (BP3): the student's sentence, the table's count
    line and the Gradescope text in Chinese; a Chinese LANG with --lang en regrades the
    kept results in English."""
    hw = tmp_path / "hw"
    hw.mkdir()
    (hw / "ada.py").write_text(RIGHT)
    (hw / "bo.py").write_text(RIGHT.replace("sum(axis=0)", "mean(axis=0)"))
    out = tmp_path / "out"
    assert grade_main([str(hw), *GRADE_FLAGS, "--out", str(out), "--lang", "zh"]) == 0
    printed = capsys.readouterr().out
    bo = json.loads((out / "students" / "bo.json").read_text(encoding="utf-8"))
    want = _zh(
        "cite.sentence",
        name="db2",
        label="BP3",
        where=_zh("cite.chapter", number=6, title=_zh("chapter.backprop")),
        text=_zh("diag.db_mean", l=2),
    )
    assert (
        want
        == "db2（BP3，第 6 章“反向传播”）：db2 是 delta2 在批量上的平均；BP3 是对它求和"
    )
    assert bo["diagnosis"] == want and bo["lang"] == "zh"
    # ada: full marks; bo: the dW points only, 5 of 10
    parts = _zh("grade.list_separator").join(
        [
            _zh("grade.full_mark", n=1),
            _zh("grade.partial", n=1),
            _zh("grade.errors", n=0),
        ]
    )
    counts = _zh("grade.students_count", n=2, parts=parts)
    counts += _zh("grade.mean", mean=7.5, top="10")
    assert counts in printed.splitlines()
    assert want.split("）：", 1)[1] in printed  # the table's diagnosis column
    result = json.loads((out / "gradescope" / "bo" / "results.json").read_text())
    assert _zh("grade.first_failing_row", where="practice: db2") in result["output"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert f"<h2>{_zh('html.common')}</h2>" in page and counts in page

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert grade_main([str(hw), *GRADE_FLAGS, "--out", str(out), "--lang", "en"]) == 0
    bo = json.loads((out / "students" / "bo.json").read_text(encoding="utf-8"))
    assert bo["diagnosis"].startswith('db2 (BP3, chapter 6 "Backpropagation"): db2 is')
    assert "lang" not in bo
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "<h2>Most common diagnoses</h2>" in page
    assert "2 students: 1 full mark, 1 partial, 0 errors; mean 7.5/10" in (
        capsys.readouterr().out
    )


def test_a_full_mark_student_still_hears_of_an_in_place_change_in_chinese():
    """The grader picks the in-place sentence out of a case's diagnosis by its catalog
    entry, in either language (not by English words)."""
    said = _zh("check.in_place", what=_zh("check.in_place_weights", key="W2"))
    assert said.startswith("你的函数原地修改了 权重 W2")
    case = dict(
        name="c",
        status="MATCH",
        score=10.0,
        max_score=10.0,
        lost=[],
        earned=[],
        diagnosis=[
            "你返回的每个量都与 refnet 的一致（4 行：dW2, db2, dW1, db1）",
            said,
        ],
        first_failure=None,
        error=None,
    )
    assert _student(dict(student="s", notes=[]), [case])["diagnosis"] == said
    assert not messages.matches("check.in_place", case["diagnosis"][0])


def test_the_chinese_sections_cited_are_the_chinese_chapters_headings():
    """A section the sentences cite by name exists under that name in the zh page."""
    ch10 = (ROOT / "docs" / "10-check-your-own.zh.md").read_text(encoding="utf-8")
    assert f"## {zh.MESSAGES['section.bp5']} {{#what-refnet-adds-for-it}}" in ch10
    ch7 = (ROOT / "docs" / "07-checking.zh.md").read_text(encoding="utf-8")
    assert "“多接近才算足够接近”" in zh.MESSAGES["check.kink_pinned"].replace("\n", "")
    assert "## 多接近才算足够接近：容差策略 {#how-close-is-close-enough" in ch7
