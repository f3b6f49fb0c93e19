"""Grade a class: every submission in its own sandboxed child, scored case by case.

For each student: the rubric's cases (crosscheck/grading/rubric.py) are built in the
rubric's convention by the grader, written to a file the child reads, and the child
(crosscheck/grading/child.py) only calls the student's function on them and sends back
what it returned (crosscheck/grading/transport.py: no pickle). The grader then replays each
returned value into ``check_backprop``, so the rows and the diagnosis are exactly
``crosscheck mine``'s, and scores them: a quantity earns its points when its row matches;
each lost point carries the sentence that explains it. The student's code never sees the
reference's numbers, the secret or another student's files (sandbox.run's ``hide``: the
class folder, the results folder and every other child's folder are hidden from each
child; its own folder, with a copy of the student's code and of the inputs, is kept).

Each student's result is written atomically to ``OUT/students/NAME.json`` as it finishes;
a run that was stopped continues where it stopped (a result is kept when the student's
files and the rubric's drawn cases are unchanged). The class result is returned and
written as ``OUT/grades.json``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone

import numpy as np
from threadpoolctl import threadpool_limits

from refnet.files import write_json

from ..messages import check_lang, language, matches, msg
from ..mine import conventions, sandbox
from ..mine.check import case_inputs, check_backprop
from . import submissions as found
from . import transport
from .rubric import Drawn, Rubric, read

__all__ = ["grade", "grade_one", "score_case"]

JOB = "crosscheck.grading.child:run_cases"
RESULT_VERSION = 1


def grade(
    submissions,
    rubric,
    *,
    out,
    workers: int | None = None,
    fresh: bool = False,
    progress: bool = False,
    single: bool = False,
    regrade=(),
    lang=None,
) -> dict:
    """Grade every submission in the folder ``submissions`` on ``rubric`` (a Rubric or
    the path of a rubric.toml); write each student's result under ``out`` and return
    the class result (chapter 12, "Grading a class", describes every field).

    ``single``: ``submissions`` is ONE student's folder (Gradescope's
    /autograder/submission), not a class. A stopped run goes on where it stopped: a
    student's result is kept while their files and the rubric (its cases, points,
    limits and forbid list) are unchanged; ``regrade`` names students graded again
    anyway, ``fresh`` regrades everyone.

    ``lang`` ("en" or "zh"; None: English): the language of every sentence in the
    results (the diagnosis, each lost point's why, the warnings). A result kept from a
    stopped run is kept only when it is in the same language (a result in Chinese
    records ``"lang": "zh"``)."""
    lang = check_lang(lang)
    rubric = rubric if isinstance(rubric, Rubric) else read(rubric)
    folder = _folder(submissions, "submissions")
    out = os.path.abspath(os.fspath(out))
    if workers is None:
        workers = os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers: expected an int >= 1, got {workers!r}")
    if _inside(out, folder):
        raise ValueError(
            f"out: {out!r} is inside the submissions folder {folder!r}; the results "
            f"would be graded as a student, choose a folder outside it"
        )
    students = _students(folder, rubric, single)
    regrade = _regrade(regrade, students)
    drawn = rubric.draw()
    fingerprint = rubric.fingerprint()
    _prepare(out, fingerprint, fresh)
    start = time.perf_counter()
    results: dict[str, dict] = {}
    todo = []
    for sub in students:
        again = fresh or sub.name in regrade
        kept = None if again else _kept(out, sub, fingerprint, lang)
        if kept is not None:
            results[sub.name] = kept
        else:
            todo.append(sub)
    kept = len(results)
    bar = _Progress(len(students), kept, progress)
    args = (drawn, rubric, (folder, out), fingerprint, lang)
    for sub, result in _run_all(todo, args, workers):
        write_json(_result_path(out, sub.name), result, "out")
        results[sub.name] = result
        bar.step(result)
    bar.close()
    graded = [results[name] for name in sorted(results)]
    cls = dict(
        title=rubric.title,
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        function=rubric.function,
        convention=rubric.convention,
        cases=[d.public() for d in drawn],
        max_score=float(sum(d.max_score for d in drawn)),
        students=graded,
        seconds=round(time.perf_counter() - start, 3),
        kept=kept,
        workers=workers,
        warnings=class_warnings(graded, lang),
        skipped=[] if single else _not_submissions(folder),
    )
    if lang != "en":
        cls["lang"] = lang
    write_json(os.path.join(out, "grades.json"), cls, "out")
    return cls


def _students(folder: str, rubric: Rubric, single: bool) -> list:
    """The submissions, or a ValueError when there are none."""
    if single:
        return [found.one(folder, rubric.function)]
    students = found.find(folder, rubric.function)
    if not students:
        raise ValueError(
            f"submissions: no submission in {folder!r}: expected .py files, .ipynb "
            f"notebooks or one folder per student"
            + (
                f"; it holds {', '.join(_not_submissions(folder)[:5])}"
                if _not_submissions(folder)
                else ""
            )
        )
    return students


def _regrade(names, students) -> set:
    """The students to grade again, each one checked to exist."""
    if isinstance(names, str):
        names = [names]
    known = {s.name for s in students}
    for name in names:
        if name not in known:
            raise ValueError(
                f"regrade: no student named {name!r}; the students are "
                f"{', '.join(sorted(known)[:20])}"
            )
    return set(names)


def _not_submissions(folder: str) -> list[str]:
    """The files of the class folder that are no submission (a .zip, a .pdf), to be
    named in the report, never silently dropped."""
    return sorted(
        name
        for name in os.listdir(folder)
        if not name.startswith((".", "_"))
        and os.path.isfile(os.path.join(folder, name))
        and os.path.splitext(name)[1] not in (".py", ".ipynb")
    )


def class_warnings(students: list[dict], lang=None) -> list[str]:
    """What looks like a mistake of the rubric rather than of the students: three or
    more students, all losing points first at the same place (in ``lang``)."""
    lost = [s for s in students if s["score"] < s["max_score"]]
    firsts = {s["first_failure"] for s in lost}
    if len(students) >= 3 and len(lost) == len(students) and len(firsts) == 1:
        (first,) = firsts
        with language(lang):
            return [msg("grade.rubric_warning", first=first)]
    return []


def _prepare(out: str, fingerprint: str, fresh: bool) -> None:
    """The results folder, made; a ValueError when it cannot be."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(
            f"out: expected a folder for the results, got the file {out!r}"
        )
    try:
        os.makedirs(os.path.join(out, "students"), exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"out: cannot create the results folder {out!r}: {exc}"
        ) from None
    _check_run(out, fingerprint, fresh)


def _run_all(todo: list, args: tuple, workers: int):
    """(submission, result) for each of ``todo`` as it finishes, ``workers`` at a time.
    On an interrupt (Ctrl-C) the submissions not started are dropped and the running
    ones end (their children are killed with their threads' sandboxes)."""
    drawn, rubric, hide, fingerprint, lang = args
    root = _scratch_root()
    with tempfile.TemporaryDirectory(prefix="run-", dir=root) as scratch:
        inputs = os.path.join(scratch, "inputs")
        write_inputs(drawn, inputs)
        pool = ThreadPoolExecutor(workers)
        try:
            with threadpool_limits(1):
                jobs = {
                    pool.submit(
                        _guarded,
                        sub,
                        drawn,
                        rubric,
                        inputs,
                        scratch,
                        (*hide, root),
                        fingerprint,
                        lang,
                    ): sub
                    for sub in todo
                }
                for job in as_completed(jobs):
                    yield jobs[job], job.result()
        except BaseException:  # Ctrl-C: no new child, and the running ones killed
            pool.shutdown(wait=False, cancel_futures=True)
            sandbox.kill_all()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _scratch_root() -> str:
    """The folder every grading run's temporary files go in (one per user): hidden
    from every child, so no child sees another run's or another child's files."""
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    root = os.path.join(tempfile.gettempdir(), f"crosscheck-grade-{uid}")
    os.makedirs(root, mode=0o700, exist_ok=True)
    return root


def _guarded(sub, drawn, rubric, inputs, scratch, hide, fingerprint, lang) -> dict:
    """grade_one, with a failure of the grader itself reported as this student's
    ERROR (naming the grader) instead of stopping the class."""
    try:
        return grade_one(sub, drawn, rubric, inputs, scratch, hide, fingerprint, lang)
    except Exception as exc:  # noqa: BLE001 (reported in the result)
        why = (
            f"the grader itself failed on this submission ({type(exc).__name__}: "
            f"{exc}); please report it"
        )
        # version 0: never kept by a resumed run
        return _all_error(dict(_base(sub, ""), sha256="", version=0), drawn, why)


def grade_one(
    sub,
    drawn,
    rubric: Rubric,
    inputs: str,
    scratch: str,
    hide,
    fingerprint="",
    lang=None,
):
    """One student's result (a dict, see the module docstring), its sentences in
    ``lang`` (None: English); never raises for anything the student's code does."""
    lang = check_lang(lang)
    base = _base(sub, fingerprint)
    if lang != "en":
        base["lang"] = lang
    if sub.note:
        base["notes"].append(sub.note)
    if sub.error:
        return _all_error(base, drawn, sub.error)
    # everything this child touches lives in its home: the folder that holds every
    # run's and every student's home is hidden from every child, each child's own kept
    home = tempfile.mkdtemp(prefix="student-", dir=scratch)
    try:
        code = _copy_in(sub, os.path.join(home, "code"))
        shutil.copytree(inputs, os.path.join(home, "inputs"))
        inputs = os.path.join(home, "inputs")
        outputs = os.path.join(home, "outputs")
        os.mkdir(outputs)
        payload = dict(
            source=code,
            kind=sub.kind,
            function=rubric.function,
            inputs=inputs,
            outputs=outputs,
            max_bytes=[_bound(case) for case in drawn],
            forbid=list(rubric.forbid),
        )
        limits = sandbox.Limits(
            timeout=rubric.timeout, cpu=rubric.timeout, memory=rubric.memory
        )
        outcome = sandbox.run(
            JOB,
            payload,
            limits=limits,
            env=sandbox.clean_env(home),
            network=False,
            hide=hide,
            home=home,
        )
        base.update(
            isolation=outcome.isolation,
            stdout=outcome.stdout,
            stderr=outcome.stderr,
            seconds=round(outcome.seconds, 3),
        )
        got = outcome.result if isinstance(outcome.result, dict) else {}
        base["notes"] += list(got.get("notes", []))
        if got.get("load_error"):
            failed = _all_error(base, drawn, got["load_error"])
            return _shown(failed, os.path.join(home, "code"), sub)
        died = None if outcome.ok else _cause(outcome, rubric, drawn)
        cases = []
        for i, case in enumerate(drawn):
            cases.append(_case_result(case, _sent(outputs, i, case), died, lang))
        return _shown(_student(base, cases), os.path.join(home, "code"), sub)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _base(sub, fingerprint: str) -> dict:
    """A student's result before any case: who, which files, which rubric."""
    return dict(
        student=sub.name,
        path=sub.path,
        kind=sub.kind,
        sha256=_digest(sub.root),
        rubric=fingerprint,
        version=RESULT_VERSION,
        notes=[],
        isolation="",
        stdout="",
        stderr="",
        seconds=0.0,
    )


# ---------------------------------------------------------------------------------
# The inputs, and what came back
# ---------------------------------------------------------------------------------


def write_inputs(drawn: list[Drawn], folder: str) -> None:
    """Every case's (weights, X, Y) in the students' convention: ``folder``/inputs.npz
    (keys "i/W1", "i/X", ...) and inputs.json (container and names per case)."""
    os.makedirs(folder, exist_ok=True)
    arrays, meta = {}, []
    for i, case in enumerate(drawn):
        weights, X, Y = case_inputs(
            case.sizes, case.activations, case.loss, **case.kwargs()
        )
        names = list(weights) if isinstance(weights, dict) else _names(case)
        values = weights.values() if isinstance(weights, dict) else weights
        for name, w in zip(names, values):
            arrays[f"{i}/{name}"] = w
        arrays[f"{i}/X"], arrays[f"{i}/Y"] = X, Y
        container = "dict" if isinstance(weights, dict) else "list"
        meta.append(dict(container=container, names=names))
    np.savez(os.path.join(folder, "inputs.npz"), **arrays)
    with open(os.path.join(folder, "inputs.json"), "w") as fh:
        json.dump(dict(cases=meta), fh)


def _names(case: Drawn) -> list[str]:
    conv = conventions.get(case.convention, **case.overrides)
    return conv.weight_names(len(case.sizes) - 1)


def _bound(case: Drawn) -> int:
    """The most bytes a case's answer may take: 64 times the reference's arrays (a
    delta, a dW, an output per layer, in float64), and a megabyte."""
    per = sum(case.batch * w + w * v + w for w, v in zip(case.sizes, case.sizes[1:]))
    return 64 * 8 * (per + case.batch * case.sizes[0]) + 2**20


def _sent(outputs: str, i: int, case: Drawn):
    """What the child sent for case ``i``: the record, None when there is no file (the
    child ended before it), or why the file could not be read."""
    stem = os.path.join(outputs, str(i))
    if not os.path.exists(stem + ".json"):
        return None
    tree, why = transport.read(stem, _bound(case))
    return tree if why is None else why


def _case_result(case: Drawn, sent, died: str | None, lang: str = "en") -> dict:
    """The case's report and score from what the child sent (or why it sent nothing)."""
    if sent is None:  # no file: the child ended before this case
        return _error_case(case, died or "sent no result for this case")
    if isinstance(sent, str):
        return _error_case(case, f"its answer could not be read back: {sent}")
    if "error" in sent:
        return _error_case(case, sent["error"])
    report = replay(case, sent.get("returned"), sent.get("mutated") or {}, lang)
    return score_case(case, report)


def replay(case: Drawn, returned, mutated: dict, lang=None):
    """check_backprop on what the student's function returned, with its in-place
    changes made again to the arrays check_backprop gives, so its report is the one
    ``crosscheck mine`` would print (in ``lang``)."""

    def student(weights, X, Y):
        given = (
            dict(weights)
            if isinstance(weights, dict)
            else dict(zip(_names(case), weights))
        )
        given.update(X=X, Y=Y)
        for key, value in mutated.items():
            if key in given and np.shape(given[key]) == np.shape(value):
                given[key][...] = value
        return returned

    student.__name__ = case.name
    return check_backprop(
        student,
        case.sizes,
        case.activations,
        case.loss,
        tensorflow=False,
        lang=lang,
        **case.kwargs(),
    )


# ---------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------


def score_case(case: Drawn, report) -> dict:
    """A case's entry: status, points earned and lost (each with its sentence), the
    report's rows, table and diagnosis; its sentences in the report's language."""
    with language(report.lang):
        return _score_case(case, report)


def _score_case(case: Drawn, report) -> dict:
    if report.error is not None:
        return _error_case(case, report.error, report)
    rows = {r.name: r for r in report.rows}
    first = report.first_failure
    sentence = report.diagnosis[0] if report.diagnosis else ""
    earned, lost = [], []
    for quantity, points in case.points.items():
        row = rows.get(quantity)
        if row is not None and row.ok:
            earned.append(dict(quantity=quantity, points=points))
            continue
        if row is None:
            why = msg("grade.not_returned", quantity=quantity)
        elif first is not None and row.name == first.name:
            why = sentence
        elif _feeds(first.name):
            why = msg("grade.after_first", first=first.name, sentence=sentence)
        else:  # nothing before it feeds this row: a mistake of its own
            why = report.explained.get(row.name) or sentence
        lost.append(dict(quantity=quantity, points=points, why=why))
    lost.sort(key=lambda x: _order(report, x["quantity"]))
    return dict(
        _case_head(case, report),
        status="MATCH" if report.ok else "MISMATCH",
        score=float(sum(e["points"] for e in earned)),
        earned=earned,
        lost=lost,
        first_failure=None if first is None else first.name,
    )


def _feeds(name: str) -> bool:
    """Whether a wrong ``name`` makes the rows after it wrong too: the output and a
    delta feed everything backprop computes later; the loss value, a dW, a db and dX
    feed nothing."""
    return name == "output" or name.startswith("delta")


def _order(report, quantity: str) -> int:
    names = [r.name for r in report.rows]
    return names.index(quantity) if quantity in names else len(names)


def _case_head(case: Drawn, report=None) -> dict:
    title = f"hidden case {case.name!r}" if case.hidden else f"case {case.name!r}"
    if report is not None and not case.hidden:
        title = f"{title}: {report.title}"
    rows = [] if report is None else report.to_dict()["rows"]
    table = "" if report is None or not report.rows else report.table()
    return dict(
        name=case.name,
        hidden=case.hidden,
        title=title,
        max_score=case.max_score,
        rows=rows,
        table=table,
        diagnosis=[] if report is None else list(report.diagnosis),
        error=None,
    )


def _error_case(case: Drawn, why: str, report=None) -> dict:
    lost = [dict(quantity=q, points=p, why=why) for q, p in case.points.items()]
    return dict(
        _case_head(case, report),
        status="ERROR",
        score=0.0,
        earned=[],
        lost=lost,
        first_failure=None,
        error=why,
    )


def _student(base: dict, cases: list[dict]) -> dict:
    statuses = {c["status"] for c in cases}
    status = (
        "ERROR"
        if "ERROR" in statuses
        else "MISMATCH"
        if "MISMATCH" in statuses
        else "MATCH"
    )
    headline, first = "", None
    for c in cases:
        if c["lost"]:
            headline = c["lost"][0]["why"]
            where = "error" if c["status"] == "ERROR" else c["first_failure"]
            first = f"{c['name']}: {where or c['lost'][0]['quantity']}"
            break
    if not headline and status != "MATCH":
        c = next(c for c in cases if c["status"] != "MATCH")
        headline = (c["diagnosis"] or [""])[0]
        first = f"{c['name']}: {c['first_failure']}"
    if not headline:  # every point earned: still say what the student should know
        said = [
            s for c in cases for s in c["diagnosis"] if matches("check.in_place", s)
        ]
        headline = said[0] if said else ""
    errors = [c["error"] for c in cases if c["error"]]
    return dict(
        base,
        status=status,
        score=round(float(sum(c["score"] for c in cases)), 6),
        max_score=float(sum(c["max_score"] for c in cases)),
        first_failure=first,
        diagnosis=headline.splitlines()[0] if headline else "",
        error=errors[0] if errors else None,
        cases=cases,
    )


def _shown(result: dict, copy: str, sub) -> dict:
    """The result with the temporary copy's folder written as the student's own (a
    traceback names "alice/hw.py", not /tmp/crosscheck-grade-.../code/hw.py)."""
    own = f"{sub.name}/" if os.path.isdir(sub.root) else ""
    text = json.dumps(result).replace(json.dumps(copy + os.sep)[1:-1], own)
    return json.loads(text)


def _all_error(base: dict, drawn, why: str) -> dict:
    return _student(base, [_error_case(case, why) for case in drawn])


def _cause(outcome, rubric: Rubric, drawn=()) -> str:
    """The sandbox's error in words, with what the child was doing then (the case
    named as the rubric names it)."""
    cause = outcome.error or "ended without a result"
    if outcome.kind == "timeout":
        cause = f"did not return within {rubric.timeout:g} s (the time limit)"
    if outcome.kind == "signal" and "SIGXCPU" in cause:
        cause = (
            f"{cause}: it used more than {rubric.timeout:g} s of CPU (the time limit)"
        )
    if outcome.stage and outcome.kind in ("timeout", "signal", "no result", "exit"):
        stage = re.sub(
            r"on case (\d+)$",
            lambda m: f"{m[0]} ({_name(drawn, int(m[1]))})",
            outcome.stage,
        )
        cause = f"{cause} while {stage}"
    return cause


def _name(drawn, number: int) -> str:
    """Case ``number`` (from 1) as the rubric names it."""
    return repr(drawn[number - 1].name) if 0 < number <= len(drawn) else "?"


# ---------------------------------------------------------------------------------
# Files: the student's copy, resuming, the run's fingerprint
# ---------------------------------------------------------------------------------


def _folder(path, name: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a folder path, got {type(path).__name__}")
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise ValueError(f"{name}: expected a folder of submissions, got {path!r}")
    return path


def _inside(path: str, folder: str) -> bool:
    return os.path.commonpath([path, folder]) == folder


def _copy_in(sub, dest: str) -> str:
    """The student's file or folder copied to ``dest``; the path of its code there."""
    if os.path.isdir(sub.root):
        shutil.copytree(sub.root, dest, symlinks=True)
        return os.path.join(dest, os.path.relpath(sub.path, sub.root))
    os.mkdir(dest)
    shutil.copy(sub.path, dest)
    return os.path.join(dest, os.path.basename(sub.path))


def _digest(root: str) -> str:
    """sha256 over the student's files (names and contents), for resuming."""
    h = hashlib.sha256()
    paths = [root]
    if os.path.isdir(root):
        paths = sorted(
            os.path.join(d, f)
            for d, _, files in os.walk(root)
            for f in files
            if "__pycache__" not in d
        )
    for p in paths:
        h.update(os.path.relpath(p, os.path.dirname(root)).encode() + b"\0")
        try:
            with open(p, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            h.update(b"unreadable")
    return h.hexdigest()


def _result_path(out: str, name: str) -> str:
    return os.path.join(out, "students", f"{name}.json")


def _kept(out: str, sub, fingerprint: str, lang: str = "en") -> dict | None:
    """A finished result of an earlier run, when it still holds (and is in
    ``lang``)."""
    try:
        with open(_result_path(out, sub.name), encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    same = (
        isinstance(data, dict)
        and data.get("version") == RESULT_VERSION
        and data.get("rubric") == fingerprint
        and data.get("sha256") == _digest(sub.root)
        and data.get("lang", "en") == lang
    )
    return data if same else None


def _check_run(out: str, fingerprint: str, fresh: bool) -> None:
    """OUT/run.json holds the rubric's fingerprint: results of another rubric or secret
    are never mixed in (fresh: they are removed)."""
    path = os.path.join(out, "run.json")
    try:
        with open(path, encoding="utf-8") as fh:
            old = json.load(fh).get("rubric")
    except (OSError, ValueError, AttributeError):
        old = None
    if old not in (None, fingerprint):
        if not fresh:
            raise ValueError(
                f"out: {out!r} holds results graded on another rubric, secret or limits "
                f"(timeout, memory, forbid); regrade everyone into it (fresh=True; "
                f"--fresh at the command line), or choose another folder"
            )
    if fresh or old != fingerprint:
        students = os.path.join(out, "students")
        for name in os.listdir(students):
            if name.endswith(".json"):
                os.remove(os.path.join(students, name))
        # the last run's class files would describe the old grades until this run ends
        for name in ("grades.json", "grades.csv", "report.html"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(out, name))
        shutil.rmtree(os.path.join(out, "gradescope"), ignore_errors=True)
    write_json(path, dict(rubric=fingerprint), "out")


class _Progress:
    """A one-line progress bar on stderr (only when asked, e.g. at a terminal)."""

    def __init__(self, total: int, done: int, show: bool):
        self.total, self.done, self.show = total, done, show
        self.errors, self.start = 0, time.perf_counter()
        self.lock = threading.Lock()
        self._draw()

    def step(self, result: dict) -> None:
        with self.lock:
            self.done += 1
            self.errors += result["status"] == "ERROR"
            self._draw()

    def _draw(self) -> None:
        if not self.show or not self.total:
            return
        width = 30
        filled = width * self.done // self.total
        text = (
            f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {self.done}/"
            f"{self.total}  {self.errors} errors  {time.perf_counter() - self.start:.0f} s"
        )
        sys.stderr.write(text)
        sys.stderr.flush()

    def close(self) -> None:
        if self.show and self.total:
            sys.stderr.write("\n")
