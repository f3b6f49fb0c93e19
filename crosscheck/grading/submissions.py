"""Who handed in what: the students in a submissions folder, and the file that holds
each one's FUNC, found without running anything.

A submissions folder may hold, side by side:

    alice.py             a student's file, named by its stem
    bob.ipynb            a notebook, named by its stem
    carol/               a folder per student, named by the folder; inside (at any
      hw3/backprop.py    depth), the one .py or .ipynb whose code has ``def FUNC`` at
      notes.md           module level, found with ``ast``. None or several such files
                         is that student's error, naming the files.

Hidden files and folders (``.git``, ``.ipynb_checkpoints``), ``__pycache__``,
``__MACOSX`` (left by unzipping on macOS) and any other file are skipped. Two students
with one name (``alice.py`` and ``alice/``) are a ValueError naming both. Every file is
read with a size cap (:data:`MAX_FILE_BYTES`).

:func:`notebook_source` turns a notebook into Python: its code cells in order, with
IPython's magics (``%matplotlib inline``; a ``%%time`` cell as a whole) and shell
escapes (``!pip install ...``) left out, each one a note ("cell 3: skipped the magic
%matplotlib inline").
"""

from __future__ import annotations

import ast
import json
import os
import stat
from dataclasses import dataclass

__all__ = [
    "MAX_FILE_BYTES",
    "Submission",
    "find",
    "notebook_cells",
    "notebook_source",
    "read_bounded",
]

MAX_FILE_BYTES = 10 * 2**20  # 10 MiB: far above any handwritten backprop or notebook
MAX_FILES = 2000  # files looked at inside one student's folder
_SKIP = {"__pycache__", "__MACOSX", "node_modules", "site-packages"}
_KINDS = {".py": "py", ".ipynb": "ipynb"}


@dataclass(frozen=True)
class Submission:
    """One student's submission.

    name : the student, from the file's stem or the folder's name
    path : the absolute path of the file holding FUNC (None when ``error``)
    kind : "py" or "ipynb" (None when ``error``)
    root : the absolute path of what the student handed in (their file or folder)
    error : why FUNC's file could not be told, in words, or None
    note : what was chosen for the student, in words (a .py beside its notebook)
    """

    name: str
    path: str | None
    kind: str | None
    root: str
    error: str | None = None
    note: str | None = None


def find(folder, function: str, exclude=()) -> list[Submission]:
    """Every student in ``folder``, sorted by name.

    Parameters
    ----------
    folder : str or path
        The submissions folder.
    function : str
        FUNC, the name of the function each student wrote.
    exclude : iterable of paths
        Entries of ``folder`` to pass over (the grader's output folder, when it lies
        inside).

    Raises
    ------
    ValueError
        When ``folder`` is not a folder, ``function`` is not a Python name, or two
        entries name the same student.
    """
    root = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(root):
        raise ValueError(f"submissions: expected a folder, got {os.fspath(folder)!r}")
    if not (isinstance(function, str) and function.isidentifier()):
        raise ValueError(f"function: expected a Python name, got {function!r}")
    skip = {os.path.abspath(os.fspath(p)) for p in exclude}
    found: dict[str, Submission] = {}
    for entry in sorted(os.listdir(root)):
        path = os.path.join(root, entry)
        if _skipped(entry) or path in skip:
            continue
        if os.path.isdir(path):
            sub = _from_folder(entry, path, function)
        elif _regular(path) and os.path.splitext(entry)[1] in _KINDS:
            stem, ext = os.path.splitext(entry)
            sub = Submission(stem, path, _KINDS[ext], path)
        else:
            continue
        if sub.name in found:
            raise ValueError(
                f"submissions: two entries name the student {sub.name!r}: "
                f"{found[sub.name].root} and {sub.root}; rename or remove one"
            )
        found[sub.name] = sub
    return [found[name] for name in sorted(found)]


def one(folder, function: str, name: str | None = None) -> Submission:
    """``folder`` as ONE student's submission (Gradescope's /autograder/submission): its
    one file defining ``def FUNC``; named ``name`` or the folder's name."""
    folder = os.path.abspath(os.fspath(folder))
    if not os.path.isdir(folder):
        raise ValueError(f"submission: expected a folder, got {folder!r}")
    return _from_folder(name or os.path.basename(folder), folder, function)


def notebook_source(path) -> tuple[str, list[str]]:
    """(code, notes): the code cells of the notebook at ``path``, in order, joined into
    one Python source (each cell after a ``# cell N`` line), and a note for each magic
    or shell escape left out. Cells are numbered as they stand in the notebook, from 1,
    markdown cells included.

    Raises
    ------
    ValueError
        When the file is too large or is not a notebook.
    """
    cells, notes = notebook_cells(path)
    return "".join(f"# cell {n}\n{code}\n" for n, code in cells), notes


def notebook_cells(path) -> tuple[list[tuple[int, str]], list[str]]:
    """([(cell number, code)], notes), as :func:`notebook_source` without the join."""
    raw = read_bounded(path)
    try:
        nb = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: not a notebook (not JSON: {exc})") from None
    if not (isinstance(nb, dict) and isinstance(nb.get("cells"), list)):
        raise ValueError(
            f"{path}: not a notebook in the current format (no list of 'cells'); "
            "save it again from Jupyter"
        )
    cells, notes = [], []
    for number, cell in enumerate(nb["cells"], 1):
        if not (isinstance(cell, dict) and cell.get("cell_type") == "code"):
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            continue
        code, skipped = _strip_magics(source)
        notes += [f"cell {number}: skipped {what}" for what in skipped]
        if code.strip():
            cells.append((number, code))
    return cells, notes


def read_bounded(path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, or a ValueError when it holds more
    than ``limit`` bytes (never more than ``limit`` + 1 are read)."""
    path = os.fspath(path)
    if not _regular(path):
        raise ValueError(f"{path}: not a regular file")
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(
            f"{path}: more than {limit // 2**20} MiB; a submission's file is read "
            f"up to {limit} bytes"
        )
    return data


# ---------------------------------------------------------------------------------


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in _SKIP


def _regular(path: str) -> bool:
    """A regular file (a symlink to one counts; a fifo or a device never does)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _from_folder(name: str, folder: str, function: str) -> Submission:
    """The submission in a student's folder: its one file defining ``def FUNC``."""
    hits, others, count = [], [], 0
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d
            for d in dirs
            if not _skipped(d)
            and not os.path.exists(os.path.join(here, d, "pyvenv.cfg"))
        )
        for file in sorted(files):
            ext = os.path.splitext(file)[1]
            path = os.path.join(here, file)
            if _skipped(file) or ext not in _KINDS or not _regular(path):
                continue
            count += 1
            if count > MAX_FILES:
                return Submission(
                    name,
                    None,
                    None,
                    folder,
                    f"{name}/ holds more than {MAX_FILES} .py and .ipynb files; "
                    f"hand in the one that defines {function}",
                )
            why = _defines(path, _KINDS[ext], function)
            rel = os.path.relpath(path, folder)
            if why is None:
                hits.append((rel, path, _KINDS[ext]))
            else:
                others.append(rel if why == "no" else f"{rel} ({why})")
    if len(hits) == 1:
        rel, path, kind = hits[0]
        return Submission(name, path, kind, folder)
    scripts = [h for h in hits if h[2] == "py"]
    if len(hits) > 1 and len(scripts) == 1:
        # a notebook and the .py exported from it (a common upload): the .py
        rel, path, kind = scripts[0]
        others = [h[0] for h in hits if h[2] != "py"]
        verb = "defines" if len(others) == 1 else "define"
        left = "was" if len(others) == 1 else "were"
        note = (
            f"{rel} graded; {', '.join(others)} also {verb} {function} and {left} "
            f"left out"
        )
        return Submission(name, path, kind, folder, note=note)
    if hits:
        error = (
            f"{len(hits)} files in {name}/ define {function}: "
            f"{', '.join(h[0] for h in hits)}; keep one"
        )
    elif others:
        error = f"no file in {name}/ defines {function}: it holds {', '.join(others)}"
    else:
        error = f"{name}/ holds no .py or .ipynb file"
    return Submission(name, None, None, folder, error)


def _defines(path: str, kind: str, function: str) -> str | None:
    """None when the file's code has ``def FUNC`` at module level; else "no", or why it
    could not be read ("does not parse: invalid syntax, line 3")."""
    try:
        if kind == "ipynb":
            sources = [code for _, code in notebook_cells(path)[0]]
        else:
            sources = [read_bounded(path).decode("utf-8", errors="replace")]
    except ValueError as exc:
        return str(exc).removeprefix(f"{path}: ")
    parsed = False
    for source in sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError) as exc:
            if kind == "py":
                line = getattr(exc, "lineno", None)
                return f"does not parse: {getattr(exc, 'msg', exc)}" + (
                    f", line {line}" if line else ""
                )
            continue  # one broken cell: the others may still define it
        parsed = True
        if _top_level_def(tree.body, function):
            return None
    return "no" if parsed or not sources else "no cell parses"


def _top_level_def(body, function: str) -> bool:
    """``def FUNC`` among these statements, or inside their if/try/with blocks (code
    that runs at import), never inside another def or a class."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.name == function:
                return True
        elif isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
            blocks = [node.body, getattr(node, "orelse", [])]
            blocks += [getattr(node, "finalbody", [])]
            blocks += [h.body for h in getattr(node, "handlers", [])]
            if any(_top_level_def(b, function) for b in blocks):
                return True
    return False


def _strip_magics(source: str) -> tuple[str, list[str]]:
    """(code, [what was skipped]): a cell without IPython's magics and shell escapes.
    A skipped line becomes ``pass`` at its indent, so the blocks around it still parse."""
    lines = source.splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    if first.startswith("%%"):
        return "", [f"the whole cell, run by the cell magic {first}"]
    out, skipped = [], []
    for line in lines:
        text = line.lstrip()
        if text.startswith(("%", "!")):
            kind = "the magic" if text.startswith("%") else "the shell escape"
            skipped.append(f"{kind} {text.rstrip()}")
            out.append(line[: len(line) - len(text)] + "pass")
        else:
            out.append(line)
    return "\n".join(out), skipped
