"""What ``crosscheck grade`` runs in each student's child process (started by
crosscheck/mine/sandbox.py, with its isolation).

:func:`run_cases` reads every case's inputs, loads the student's code, then calls FUNC
once per case, in order, and writes each case's outcome as soon as it has one, so a
crash, an exit or a hang later on leaves the earlier cases' results in place:

    INPUTS/inputs.json    {"cases": [{"container": "list"|"dict", "names": ["W1", "b1"]}]}
    INPUTS/inputs.npz     "{i}/W1", "{i}/b1", ..., "{i}/X", "{i}/Y"   (i from 0)
    OUTPUTS/{i}.json/.npz {"returned": what FUNC returned,
                           "mutated": {"W1": the array after the call, ...}}
                          (only the inputs the call changed in place), or
                          {"error": "raised ValueError: ...", with the traceback cut to
                          the student's frames}; written with crosscheck.grading.transport

It returns ``{"notes": [...], "load_error": None}``, or ``{"notes": [...],
"load_error": "why"}`` when the code cannot be loaded (it raised or called sys.exit while
importing, or defines no FUNC); then no case runs.
"""

from __future__ import annotations

import json
import linecache
import os
import sys
import traceback
import types

import numpy as np

from crosscheck.mine import sandbox
from crosscheck.mine.child import load_function

from . import transport
from .submissions import notebook_cells

__all__ = ["DEFAULT_MAX_BYTES", "run_cases"]

DEFAULT_MAX_BYTES = 256 * 2**20  # what one case may send back, unless the payload says
MAX_ERROR_CHARS = 20_000  # of a case's error text: the first and the last half kept


def run_cases(payload: dict) -> dict:
    """Run the student's FUNC on every case; see the module docstring.

    ``payload``: source (the student's file, absolute), kind ("py" or "ipynb"),
    function (FUNC), inputs and outputs (absolute folders), and optionally max_bytes
    (an int, or one per case: the most bytes of arrays a case may send back) and forbid
    (top-level module names the student's code may not import, e.g. "refnet").
    """
    source, function = payload["source"], payload["function"]
    cases = _read_inputs(payload["inputs"])  # before any of the student's code runs
    bounds = payload.get("max_bytes", DEFAULT_MAX_BYTES)
    if isinstance(bounds, int):
        bounds = [bounds] * len(cases)
    notes: list[str] = []
    _forbid(payload.get("forbid", ()))
    if payload["kind"] == "ipynb":
        fn = _load_notebook(source, function, notes)
    else:
        fn = load_function(source, function, notes)
    if isinstance(fn, dict):
        return {"notes": notes, "load_error": fn.get("load_error") or fn.get("error")}
    student = _StudentFrames(source)
    for i, (names, weights, X, Y) in enumerate(cases):
        sandbox.stage(f"calling {function} on case {i + 1}")
        record = _call(fn, names, weights, X, Y, student, bounds[i])
        stem = os.path.join(payload["outputs"], str(i))
        try:
            transport.write(stem, record, bounds[i])
        except transport.TransportError as exc:  # the bound, met by the JSON
            transport.write(stem, {"error": _cut(str(exc))}, max(bounds[i], 2**16))
    return {"notes": notes, "load_error": None}


class _Forbidden:
    """A meta path finder refusing the rubric's ``forbid`` modules (a policy for honest
    mistakes, such as calling refnet for the answer; not a wall against an attacker)."""

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top in self.names:
            raise ImportError(
                f"{fullname} may not be imported by a submission: the rubric's forbid "
                f"list holds {top!r}",
                name=fullname,
            )
        return None


def _forbid(names) -> None:
    """Make the modules ``names`` (top-level names) unimportable from here on: gone from
    sys.modules (this job keeps the objects it already holds) and refused by a finder
    ahead of the others."""
    names = set(names)
    if not names:
        return
    for key in list(sys.modules):
        if key.partition(".")[0] in names:
            del sys.modules[key]
    sys.meta_path.insert(0, _Forbidden(names))


def _read_inputs(folder: str) -> list[tuple]:
    """[(names, weights, X, Y)] per case, each array its own (fresh) copy."""
    with open(os.path.join(folder, "inputs.json"), encoding="utf-8") as fh:
        spec = json.load(fh)
    cases = []
    with np.load(os.path.join(folder, "inputs.npz"), allow_pickle=False) as npz:
        for i, case in enumerate(spec["cases"]):
            arrays = [np.array(npz[f"{i}/{name}"]) for name in case["names"]]
            if case["container"] == "dict":
                weights = dict(zip(case["names"], arrays))
            else:
                weights = arrays
            X, Y = np.array(npz[f"{i}/X"]), np.array(npz[f"{i}/Y"])
            cases.append((case["names"], weights, X, Y))
    return cases


def _call(fn, names, weights, X, Y, student, max_bytes: int) -> dict:
    """{"returned", "mutated"} or {"error"} for one call of ``fn``."""
    arrays = [weights[n] for n in names] if isinstance(weights, dict) else weights
    given = {**dict(zip(names, arrays)), "X": X, "Y": Y}
    saved = {key: a.copy() for key, a in given.items()}
    try:
        got = fn(weights, X, Y)
    except SystemExit as exc:
        return {"error": _cut(f"called sys.exit({exc.code!r})")}
    except BaseException as exc:  # noqa: BLE001 (the student's error: reported)
        return {"error": _cut(student.failure(exc))}
    got = _plain(got, 0)
    try:
        transport.encode(got, max_bytes, name="returned")
    except transport.TransportError as exc:
        return {"error": _cut(f"returned something that cannot be read back: {exc}")}
    mutated = {
        key: np.array(a, copy=True)
        for key, a in given.items()
        if _changed(saved[key], a)
    }
    return {"returned": got, "mutated": mutated}


def _cut(text: str, keep: int = MAX_ERROR_CHARS) -> str:
    """``text``, or its first and last ``keep // 2`` characters around a mark."""
    if len(text) <= keep:
        return text
    cut = len(text) - keep
    return f"{text[: keep // 2]}\n[... {cut} characters cut ...]\n{text[-keep // 2 :]}"


def _changed(before: np.ndarray, after: np.ndarray) -> bool:
    if before.shape != after.shape or before.dtype != after.dtype:
        return True
    return not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")


def _plain(x, depth: int):
    """Array-likes (a torch tensor, a jax array, np.matrix) as numpy arrays, as
    ``crosscheck mine`` reads them; anything it cannot convert stays, for transport to
    name."""
    if depth > transport.MAX_DEPTH:
        return x
    if isinstance(x, dict):
        return {k: _plain(v, depth + 1) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and type(x) in (list, tuple):
        return type(x)(_plain(v, depth + 1) for v in x)
    if type(x) is not np.ndarray and hasattr(x, "__array__") and not np.isscalar(x):
        try:
            return np.asarray(x)
        except Exception:  # noqa: BLE001 (transport names the type instead)
            return x
    return x


class _StudentFrames:
    """Cuts a traceback to the frames in the student's code: the file, its folder's
    other modules, a notebook's cells."""

    def __init__(self, source: str):
        self.source = os.path.abspath(source)
        self.folder = os.path.dirname(self.source) + os.sep

    def __contains__(self, filename: str) -> bool:
        path = os.path.abspath(filename)
        return path.startswith(self.folder) or filename.startswith(self.source)

    def failure(self, exc: BaseException) -> str:
        """ "raised ValueError: ..." and the traceback, cut to the student's frames."""
        tb = traceback.TracebackException.from_exception(exc)
        tb.stack = traceback.StackSummary.from_list(
            [f for f in tb.stack if f.filename in self]
        )
        cause = "".join(traceback.format_exception_only(exc)).strip().splitlines()[-1]
        return f"raised {cause}\n" + "".join(tb.format()).rstrip()


def _load_notebook(source: str, function: str, notes: list[str]):
    """FUNC from the notebook's code cells, run in order in a fresh module; a cell that
    raises is a note and the next cells still run (as when a test cell at the end
    fails). Returns FUNC, or {"load_error": why}."""
    base = os.path.basename(source)
    try:
        cells, skipped = notebook_cells(source)
    except ValueError as exc:
        return {"load_error": str(exc)}
    notes += skipped
    folder = os.path.dirname(source)
    if folder not in sys.path:
        sys.path.append(folder)  # the student's helper modules, after the stdlib
    module = types.ModuleType("crosscheck_grade_notebook")
    module.__file__ = source
    sys.modules[module.__name__] = module  # dataclasses and pickle look it up
    student = _StudentFrames(source)
    failed = []
    for number, code in cells:
        sandbox.stage(f"running {base} cell {number}")
        filename = f"{source} (cell {number})"
        lines = code.splitlines(keepends=True)
        linecache.cache[filename] = (len(code), None, lines, filename)
        try:
            exec(compile(code, filename, "exec"), module.__dict__)  # noqa: S102
        except SystemExit as exc:
            return {
                "load_error": f"cell {number} called sys.exit({exc.code!r}) "
                f"while {base} was being run"
            }
        except BaseException as exc:  # noqa: BLE001 (the student's code: reported)
            why = student.failure(exc).splitlines()[0].removeprefix("raised ")
            notes.append(f"cell {number} raised {why}; the cells after it still ran")
            failed.append(number)
    fn = getattr(module, function, None)
    if callable(fn):
        return fn
    found = sorted(
        k
        for k, v in vars(module).items()
        if callable(v) and not k.startswith("_") and not isinstance(v, types.ModuleType)
    )
    why = (
        f"{base} defines no {function!r}"
        if fn is None
        else f"{function} is a {type(fn).__name__}, not a function"
    )
    if failed:
        why += f" (cells {', '.join(map(str, failed))} raised)"
    return {"load_error": f"{why}; its functions: {found}"}
