"""What ``crosscheck mine`` runs in each file's child process (crosscheck/mine/sandbox.py).

:func:`check_target` checks the arguments once (when asked), imports FILE.py (its
top-level code runs), finds FUNC and calls :func:`check_backprop` on it. It returns JSON
data, one of:

    {"usage": "batch: ..."}                 the arguments are wrong (the CLI exits 2)
    {"load_error": "..."}                   FILE raised at import, or has no FUNC
    {"error": "called sys.exit(0) ..."}     FILE or FUNC ended the process, or
                                            check_backprop itself failed
    {"report": {...}, "text": "...", "ok": bool, "summary": "MATCH"}

and :func:`check_reference`, run once in a child of its own, checks refnet against the
installed frameworks on the same network and batch.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback

from ..messages import language, msg
from . import sandbox
from .check import BackpropReport, check_backprop, reference_check, reference_sentence


def check_target(payload: dict) -> dict:
    """Check FUNC of FILE.py in this process; see the module docstring.

    ``payload``: target (as typed), path (absolute), name (FUNC), sizes, activations,
    loss, kwargs (for check_backprop: convention, dtype, batch, seed, overrides),
    tensorflow (True, False or None), validate (check the arguments first) and lang
    (the sentences' language, "en" or "zh"; default "en").
    """
    args = (payload["sizes"], payload["activations"], payload["loss"])
    kwargs = payload["kwargs"]
    if payload.get("validate"):
        usage = _check_arguments(args, kwargs)
        if usage:
            return {"usage": usage}
    fn = load_function(payload["path"], payload["name"])
    if isinstance(fn, dict):
        return fn
    sandbox.stage(f"calling {payload['name']}")
    try:
        report = check_backprop(
            fn,
            *args,
            tensorflow=payload["tensorflow"],
            lang=payload.get("lang"),
            **kwargs,
        )
    except SystemExit as exc:
        return {"error": f"called sys.exit({exc.code!r}) while being called"}
    except Exception as exc:  # check_backprop's own failure, reported, not raised
        text = "".join(traceback.format_exception(exc)).rstrip()
        return {"error": f"check_backprop raised {type(exc).__name__}: {exc}\n{text}"}
    return {
        "report": report.to_dict(),
        "text": str(report),
        "ok": report.ok,
        "summary": summary(report),
    }


def check_reference(payload: dict) -> dict:
    """refnet against the installed frameworks on the check's network and batch:
    {"ok": bool, "line": the sentence (and the table when they disagree)}."""
    args = (payload["sizes"], payload["activations"], payload["loss"])
    sandbox.stage("checking refnet against the frameworks")
    report = reference_check(*args, **payload["kwargs"])
    line = reference_sentence(report, payload.get("lang") or "en")
    return {"ok": report.ok, "line": line}


def _check_arguments(args, kwargs) -> str | None:
    """The message of the ValueError or TypeError the arguments raise, else None: a
    dry run with a function that returns nothing (no user code runs)."""
    try:
        check_backprop(lambda w, X, Y: None, *args, tensorflow=False, **kwargs)
    except (ValueError, TypeError) as exc:
        return str(exc)
    except MemoryError as exc:
        return (
            f"batch: {kwargs.get('batch')} samples do not fit in memory "
            f"(MemoryError{': ' + str(exc) if str(exc) else ''}); choose a smaller one"
        )
    return None


def load_function(path: str, name: str, notes: list | None = None):
    """FUNC from FILE.py, importing it (its top-level code runs, its folder importable
    after the standard library); or {"load_error": why} when it cannot be had, or
    {"error": ...} when importing it called sys.exit.

    ``notes`` (the grader's): a list; then a file whose top-level code raises after
    FUNC was defined (a test left below it) still gives FUNC, and the failure is a note,
    as a notebook's failing cell is."""
    sandbox.stage(f"importing {os.path.basename(path)}")
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.append(folder)  # the student's helper modules, never before the stdlib
    spec = importlib.util.spec_from_file_location("crosscheck_mine_target", path)
    if spec is None or spec.loader is None:
        return {"load_error": f"{path!r} is not a Python file"}
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:
        return {"error": f"called sys.exit({exc.code!r}) while being imported"}
    except BaseException as exc:  # noqa: BLE001 (the user's code: shown, not raised)
        failure = _import_failure(path, exc)
        fn = getattr(module, name, None)
        if notes is None or not callable(fn) or not isinstance(exc, Exception):
            return {"load_error": failure}
        notes.append(
            f"{failure.splitlines()[0]}; {name} was defined before that line and is "
            f"graded"
        )
        return fn
    fn = getattr(module, name, None)
    if fn is None:
        found = sorted(
            k for k, v in vars(module).items() if callable(v) and not k.startswith("_")
        )
        return {"load_error": f"{path} defines no {name!r}; its functions: {found}"}
    if not callable(fn):
        return {"load_error": f"{name} is a {type(fn).__name__}, not a function"}
    return fn


def _import_failure(path: str, exc: BaseException) -> str:
    """ "importing FILE failed:" and the traceback, cut to the frames in FILE."""
    tb = traceback.TracebackException.from_exception(exc)
    here = os.path.abspath(path)
    tb.stack = traceback.StackSummary.from_list(
        [f for f in tb.stack if os.path.abspath(f.filename) == here]
    )
    cause = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
    hint = ""
    if tb.stack and tb.stack[-1].name == "<module>":
        hint = (
            "(the file's top-level code runs when it is imported: put tests and "
            'examples under if __name__ == "__main__":)\n'
        )
    text = "".join(tb.format()).rstrip()
    return f"importing {path} failed: {cause}\n{hint}" + text


def summary(report: BackpropReport) -> str:
    """One line: MATCH, MISMATCH at the first failing row, or ERROR and the cause."""
    if report.ok:
        return "MATCH"
    if report.error:
        return f"ERROR {report.error.splitlines()[0]}"
    if report.first_failure is not None:
        with language(report.lang):
            return msg(
                "mine.mismatch_at",
                name=report.first_failure.name,
                sentence=report.diagnosis[0],
            )
    return f"MISMATCH: {report.diagnosis[-1].splitlines()[0]}"  # refnet against TF
