"""What ``crosscheck grade`` hands back: the terminal table, CSV, JSON and Gradescope's
``results.json``, each read from the class result (plain JSON data, the grading chapter's
schema: ``{"title", "cases", "students": [student results]}``).

- :func:`table`: one line per student (score, status, first failing row, diagnosis) and a
  count line, cut to the terminal's width.
- :func:`write_csv`: one row per student, one score column per case, for a spreadsheet.
- :func:`write_json`: the class result as it is.
- :func:`gradescope` / :func:`write_gradescope`: one ``results.json`` per submission in
  the format of Gradescope's autograder specification: one test per case, whose output
  is the lost points with the sentence explaining each.

Every file is written atomically (:func:`refnet.files.atomic_write`): a killed run leaves
the old file or the new one, never half of one.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import unicodedata

from refnet import files

from ..messages import check_lang, language, msg

STATUSES = ("MATCH", "MISMATCH", "ERROR")
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
CSV_COLUMNS = (
    "student",
    "score",
    "max_score",
    "status",
    "first_failure",
    "diagnosis",
    "error",
)
# a spreadsheet runs a cell that starts with one of these as a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ... except a plain negative number, which it shows as the number it is
_NEGATIVE = re.compile(r"-(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# the label a check's sentence starts with: 'dW2 (BP4, chapter 6 "Backpropagation"): ',
# in Chinese 'dW2（BP4，第 6 章“反向传播”）：' (crosscheck/messages/, "cite.*")
_ROW_LABEL = re.compile(
    r'[^\s()]+ \([^()"]*, chapter \d+ "[^"]*"\): '
    r"|[^\s()（）]+（[^（）“”]*，第 \d+ 章“[^“”]*”）："
)


def lang_of(data: dict, name: str = "result") -> str:
    """The language a class or student result was graded in: its "lang" ("zh"), or
    "en" when it has none (English results record no language)."""
    return check_lang(data.get("lang"), f"{name}['lang']")


def check_student(student, name: str = "student") -> dict:
    """``student`` if it is a student result (a dict with the fields the outputs read),
    else a TypeError/ValueError naming ``name``, what was expected and what was got."""
    if not isinstance(student, dict):
        raise TypeError(
            f"{name}: expected a student result (a dict with 'student', 'status', "
            f"'score', 'max_score', 'cases'), got {type(student).__name__}"
        )
    missing = [
        k
        for k in ("student", "status", "score", "max_score", "cases")
        if k not in student
    ]
    if missing:
        raise ValueError(
            f"{name}: a student result needs {missing}, got {sorted(student)}"
        )
    if not isinstance(student["student"], str) or not student["student"]:
        raise ValueError(
            f"{name}['student']: expected a name, got {student['student']!r}"
        )
    if student["status"] not in STATUSES:
        raise ValueError(
            f"{name}['status']: expected one of {STATUSES}, got {student['status']!r}"
        )
    for key in ("score", "max_score"):
        value = student[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(
                f"{name}[{key!r}]: expected a number, got {type(value).__name__}"
            )
        if not math.isfinite(value):
            raise ValueError(f"{name}[{key!r}]: expected a finite number, got {value}")
    if not isinstance(student["cases"], list):
        raise TypeError(
            f"{name}['cases']: expected a list of case results, got "
            f"{type(student['cases']).__name__}"
        )
    for i, case in enumerate(student["cases"]):
        where = f"{name}['cases'][{i}]"
        if not isinstance(case, dict) or not {"name", "score", "max_score"} <= set(
            case
        ):
            got = sorted(case) if isinstance(case, dict) else type(case).__name__
            raise ValueError(
                f"{where}: expected a case result (a dict with 'name', 'score', "
                f"'max_score'), got {got}"
            )
    return student


def check_result(result, name: str = "result") -> list[dict]:
    """The students of the class result ``result``, each checked (:func:`check_student`)."""
    if not isinstance(result, dict) or not isinstance(result.get("students"), list):
        got = type(result).__name__
        if isinstance(result, dict):
            got = f"a dict with keys {sorted(result)}"
        raise TypeError(
            f"{name}: expected a class result (a dict with a 'students' list, as "
            f"crosscheck.grading.grade returns), got {got}"
        )
    for key in ("warnings", "skipped"):
        value = result.get(key)
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise TypeError(
                f"{name}[{key!r}]: expected a list of strings, got {value!r:.80}"
            )
    kept = result.get("kept")
    if kept is not None and (
        isinstance(kept, bool) or not isinstance(kept, int) or kept < 0
    ):
        raise TypeError(
            f"{name}['kept']: expected a whole number of students >= 0, got {kept!r}"
        )
    return [
        check_student(s, f"{name}['students'][{i}]")
        for i, s in enumerate(result["students"])
    ]


def number(x: float) -> str:
    """A score as a teacher writes it: 8 not 8.0, 7.5, 0.25 (up to 4 decimals)."""
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def full_marks(student: dict) -> bool:
    return student["score"] >= student["max_score"] - 1e-9


# --- the terminal table ----------------------------------------------------------------


def counts(students: list[dict]) -> str:
    """``"7 students: 1 full mark, 4 partial, 2 errors; mean 6.2/10"``: an ERROR counts
    as an error whatever its score; a student without an error and without points is
    "with no points" (shown only when there is one)."""
    n = len(students)
    errors = sum(s["status"] == "ERROR" for s in students)
    full = sum(s["status"] != "ERROR" and full_marks(s) for s in students)
    zero = sum(
        s["status"] != "ERROR" and s["score"] <= 0 < s["max_score"] for s in students
    )
    partial = n - errors - full - zero
    parts = [
        msg("grade.full_mark" if full == 1 else "grade.full_marks", n=full),
        msg("grade.partial", n=partial),
    ]
    if zero:
        parts.append(msg("grade.no_points", n=zero))
    parts.append(msg("grade.error" if errors == 1 else "grade.errors", n=errors))
    text = msg(
        "grade.students_count" if n != 1 else "grade.student_count",
        n=n,
        parts=msg("grade.list_separator").join(parts),
    )
    if n:
        mean = sum(s["score"] for s in students) / n
        top = max(s["max_score"] for s in students)
        text += msg("grade.mean", mean=mean, top=number(top))
    return text


def printable(text) -> str:
    """``text`` on one line (each run of whitespace one space, NFC-normalised so an
    accent typed as a combining mark shows as one letter). A control character (a
    terminal escape a student's message may carry) is shown as its escape, never sent
    to the terminal."""
    text = unicodedata.normalize("NFC", " ".join(str(text).split()))
    return "".join(
        c.encode("unicode_escape").decode() if unicodedata.category(c)[0] == "C" else c
        for c in text
    )


def cut(text: str, width: int) -> str:
    """:func:`printable` ``text`` of at most ``width`` terminal columns
    (:func:`display_width`), ending in "..." if cut."""
    return _clip(printable(text), width)


def _char_width(c: str) -> int:
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def display_width(text: str) -> int:
    """The columns ``text`` takes in a terminal: a wide (Chinese, Japanese, Korean)
    character 2, a combining mark 0, any other 1."""
    return sum(_char_width(c) for c in text)


def _clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    room, used, end = max(width - 3, 0), 0, 0
    while end < len(text) and used + _char_width(text[end]) <= room:
        used += _char_width(text[end])
        end += 1
    return text[:end] + "..."


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def short_diagnosis(text: str) -> str:
    """``text`` without its leading row label ('dW2 (BP4, chapter 6
    "Backpropagation"): '), which the table's first-failure column already names."""
    match = _ROW_LABEL.match(text)
    return text[match.end() :] if match else text


def table(result, width: int = 100) -> str:
    """The terminal table: one line per student (name, score/max, status, first failing
    row, diagnosis without its row label), each cut to ``width`` terminal columns, then
    the count line, then the class's warnings and the files that were not graded."""
    students = check_result(result)
    if isinstance(width, bool) or not isinstance(width, int) or width < 40:
        raise ValueError(
            f"width: expected a whole number of columns >= 40, got {width!r}"
        )
    with language(lang_of(result)):
        return _table(result, students, width)


def _table(result, students: list[dict], width: int) -> str:
    head = ("student", "score", "status", "first failure")
    lines = [
        (
            cut(s["student"], 24),
            f"{number(s['score'])}/{number(s['max_score'])}",
            s["status"],
            cut(s.get("first_failure") or "-", 28),
            cut(short_diagnosis(printable(s.get("diagnosis") or "")), width),
        )
        for s in students
    ]
    sizes = [
        max([len(h)] + [display_width(line[i]) for line in lines])
        for i, h in enumerate(head)
    ]
    out = []
    for cells in [(*head, "diagnosis"), *lines]:
        left = "  ".join(_pad(c, w) for c, w in zip(cells, sizes))
        out.append(_clip(f"{left}  {cells[-1]}".rstrip(), width))
    out.append(counts(students))
    out += [
        msg("grade.warning", text=printable(w)) for w in result.get("warnings") or []
    ]
    if result.get("skipped"):
        names = ", ".join(printable(n) for n in result["skipped"])
        out.append(msg("grade.not_graded", names=names))
    return "\n".join(out)


# --- CSV and JSON ----------------------------------------------------------------------


def _cell(text) -> str:
    """A text cell a spreadsheet shows as text: one starting like a formula (but not a
    plain negative number) gets a "'"."""
    text = "" if text is None else str(text)
    if text.startswith(_FORMULA_START) and not _NEGATIVE.fullmatch(text):
        return "'" + text
    return text


def first_line(text) -> str:
    """The first non-blank line of ``text`` ("" for None): a traceback's message."""
    lines = ("" if text is None else str(text)).splitlines()
    return next((line.rstrip() for line in lines if line.strip()), "")


def case_names(result) -> list[str]:
    """The class's case names in rubric order (its "cases", else the students')."""
    names = [c["name"] for c in result.get("cases") or [] if isinstance(c, dict)]
    for student in result["students"]:
        names += [c["name"] for c in student["cases"] if c["name"] not in names]
    return names


def csv_text(result) -> str:
    """The CSV :func:`write_csv` writes, as a str."""
    students = check_result(result)
    names = case_names(result)
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow([*CSV_COLUMNS, *(_cell(n) for n in names)])
    for s in students:
        scores = {c["name"]: number(c["score"]) for c in s["cases"]}
        out.writerow(
            [
                _cell(s["student"]),
                number(s["score"]),
                number(s["max_score"]),
                s["status"],
                _cell(s.get("first_failure")),
                _cell(first_line(s.get("diagnosis"))),
                _cell(first_line(s.get("error"))),
                *(scores.get(n, "") for n in names),
            ]
        )
    return buf.getvalue()


def write_csv(result, path) -> None:
    """One row per student (student, score, max_score, status, first_failure,
    diagnosis, error), then one column per case with its score; UTF-8 with a byte-order
    mark (so Excel reads "josé" right), atomically. The diagnosis and the error keep
    their first line (a traceback stays in grades.json and the HTML report). A text
    cell that starts like a spreadsheet formula (=, +, -, @) gets a leading "'"; a plain
    negative number is left as it is."""
    data = csv_text(result).encode("utf-8-sig")
    files.atomic_write(path, lambda fh: fh.write(data), "path")


def write_json(result, path) -> None:
    """The class result as indented JSON, atomically."""
    check_result(result)
    files.write_json(path, result, "path")


# --- Gradescope ------------------------------------------------------------------------


def lost_groups(case: dict) -> list[tuple[float, list[str], str]]:
    """A case's lost points as (points, quantities, why), the quantities that lost
    theirs for the same reason (an error, say) in one group, in the case's order."""
    groups: list[tuple[float, list[str], str]] = []
    for lost in case.get("lost") or []:
        why = lost.get("why") or ""
        if groups and groups[-1][2] == why:
            points, names, _ = groups[-1]
            groups[-1] = (points + lost["points"], [*names, lost["quantity"]], why)
        else:
            groups.append((lost["points"], [lost["quantity"]], why))
    return groups


def _case_output(case: dict) -> str:
    """A case's text for the student: each lost point with its sentence; for a practice
    case also the check's title, its other sentences and its table. A hidden case shows
    no layout, batch or seed: only the lost points (or the error)."""
    lines = []
    if case.get("error"):
        lines.append(msg("grade.error_line", error=case["error"]))
    for points, names, why in lost_groups(case):
        if why != case.get("error"):
            names = ", ".join(names)
            lines.append(msg("grade.lost", points=number(points), names=names, why=why))
    if not lines:
        earned = ", ".join(e["quantity"] for e in case.get("earned") or [])
        lines.append(msg("grade.all_match", earned=earned) if earned else "ok")
    if not case.get("hidden"):
        whys = {x.get("why") for x in case.get("lost") or []} | {case.get("error")}
        extra = [d for d in case.get("diagnosis") or [] if d not in whys]
        lines += ["", *extra] if extra else []
        if case.get("table"):
            lines += ["", case.get("title") or "", case["table"]]
    return "\n".join(lines).strip("\n")


def _submission_output(student: dict) -> str:
    score = f"{number(student['score'])}/{number(student['max_score'])}"
    lines = [msg("grade.points", score=score, status=student["status"])]
    if student.get("first_failure"):
        lines.append(msg("grade.first_failing_row", where=student["first_failure"]))
    if student.get("diagnosis"):
        lines.append(student["diagnosis"])
    if student.get("error") and student["error"] != student.get("diagnosis"):
        lines.append(msg("grade.error_line", error=student["error"]))
    lines += [msg("report.note", note=n) for n in student.get("notes") or []]
    return "\n".join(lines)


def _visibility(value, name: str) -> str:
    if value not in VISIBILITIES:
        raise ValueError(f"{name}: expected one of {VISIBILITIES}, got {value!r}")
    return value


def gradescope(
    student,
    *,
    visibility: str = "visible",
    hidden_visibility: str = "visible",
    stdout_visibility: str = "hidden",
) -> dict:
    """Gradescope's ``results.json`` for ONE submission (a student result).

    One test per case, named after the case: ``score``, ``max_score``, ``status``
    ("passed" when the case matches with every point earned, else "failed") and an
    ``output`` listing the lost points, each with its sentence. A hidden case keeps its
    name and shows neither its layout nor its seed (nor the check's table); its
    visibility is ``hidden_visibility`` (e.g. "after_published" to show it only once
    grades are published). ``visibility`` and ``stdout_visibility`` are the submission's
    (Gradescope's values: "hidden", "after_due_date", "after_published", "visible").
    """
    check_student(student)
    with language(lang_of(student, "student")):
        return _gradescope(student, visibility, hidden_visibility, stdout_visibility)


def _gradescope(student, visibility, hidden_visibility, stdout_visibility) -> dict:
    visibility = _visibility(visibility, "visibility")
    hidden_visibility = _visibility(hidden_visibility, "hidden_visibility")
    stdout_visibility = _visibility(stdout_visibility, "stdout_visibility")
    tests = []
    for case in student["cases"]:
        passed = (
            case.get("status") == "MATCH" and case["score"] >= case["max_score"] - 1e-9
        )
        tests.append(
            {
                "name": case["name"],
                "score": float(case["score"]),
                "max_score": float(case["max_score"]),
                "status": "passed" if passed else "failed",
                "output": _case_output(case),
                "output_format": "text",
                "visibility": hidden_visibility if case.get("hidden") else "visible",
            }
        )
    out = {
        "score": float(student["score"]),
        "output": _submission_output(student),
        "output_format": "text",
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "tests": tests,
    }
    if isinstance(student.get("seconds"), (int, float)):
        out["execution_time"] = round(student["seconds"], 1)
    return out


def _folder_name(student: str) -> str:
    """``student`` as one folder name, or a ValueError (a name is never a path)."""
    if student in (".", "..") or "/" in student or "\0" in student or os.sep in student:
        raise ValueError(
            f"result['students']: a student's name must be one folder name, got "
            f"{student!r}"
        )
    return student


def write_gradescope(result, folder=None, *, path=None, **options) -> list[str]:
    """Gradescope's ``results.json`` for each student, atomically; the paths written.

    ``folder``: one ``folder/<student>/results.json`` per student. ``path``: for a class
    of one student (Gradescope's autograder grades one submission per run), that
    student's file at ``path``, e.g. ``/autograder/results/results.json``. ``options``
    go to :func:`gradescope` (visibility, hidden_visibility, stdout_visibility).
    """
    students = check_result(result)
    if (folder is None) == (path is None):
        raise ValueError(
            "write_gradescope: expected exactly one of folder= (one results.json per "
            f"student) and path= (a class of one student), got folder={folder!r}, "
            f"path={path!r}"
        )
    if path is not None:
        if len(students) != 1:
            raise ValueError(
                f"path: one results.json holds one submission; this class has "
                f"{len(students)} students (pass folder= instead)"
            )
        files.write_json(path, gradescope(students[0], **options), "path")
        return [files.check_path(path, "path")]
    folder = files.check_path(folder, "folder")
    # every name and option is checked before the first file is written
    todo = [(_folder_name(s["student"]), gradescope(s, **options)) for s in students]
    written = []
    for name, payload in todo:
        os.makedirs(os.path.join(folder, name), exist_ok=True)
        target = os.path.join(folder, name, "results.json")
        files.write_json(target, payload, "folder")
        written.append(target)
    return written
