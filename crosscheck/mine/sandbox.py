"""Run one job in a child process, so that whatever it does cannot take the caller down.

``run("crosscheck.mine.child:check_target", payload, limits=Limits(timeout=60))``
starts ``sys.executable -I`` in a fresh temporary working folder, imports the job (a
trusted module:function), calls it with ``payload`` (JSON data) and hands back an
:class:`Outcome`: the job's return value (JSON data), or the cause in words when there
is none, plus the child's stdout and stderr, captured and truncated.

What the child can do, and what the caller sees (``Outcome.error``):

    in the child                         Outcome.error
    sys.exit(n), exit(), quit()          "called sys.exit(n)"
    os._exit(n)                          "the process exited (code n, as os._exit(n) does) without a result"
    an exception the job lets through    "raised ZeroDivisionError: ..." and its traceback
    a segfault, an abort, SIGKILL        "the process died with signal SIGSEGV (segmentation fault)"
    no end in ``timeout`` seconds        "did not return within 60 s"; the process group is killed

``Outcome.stage`` says what the job was doing then (``stage("importing a.py")`` in the
child), so the error can say "while importing a.py".

Limits, where the OS has them: a wall-clock ``timeout`` (seconds), ``cpu`` seconds
(RLIMIT_CPU; the child dies with SIGXCPU), ``memory`` bytes of address space (RLIMIT_AS;
an allocation beyond it is a MemoryError in the child) and ``output``, the characters of
stdout and of stderr kept (the first and the last half; the middle is cut).

The child's ``sys.path`` is the caller's without the working folder (and with
``-I``: no PYTHONPATH, no user site-packages), then the folders in ``path``, last: a
``json.py`` in the working folder or next to a student's file cannot shadow the standard
library. This isolates a mistake, not an attacker: the job runs with the caller's
permissions.

Isolation, where Linux allows it (``unshare``; probed once per process): with
``network=False`` the child runs in a user and network namespace of its own
(``unshare -rn``), so it has no network, not even 127.0.0.1; each folder in ``hide``
appears empty and read-only to it (a mount namespace with a tmpfs over each, behind a
second user namespace so the child cannot unmount them): other students' folders and
the grader's results. ``Outcome.isolation`` says what was done, or why it could not be:

    "network cut off (a Linux network namespace); 2 folders hidden"
    "the network could not be cut off: unshare -rn failed: unshare: ... Operation not permitted"

:func:`clean_env` is an environment without the caller's variables.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass

__all__ = ["Limits", "Outcome", "clean_env", "kill_all", "run", "stage"]

# The child's first lines, before anything else is imported: -I has already left the
# working folder, PYTHONPATH and user site-packages out of sys.path.
_BOOT = (
    "import json, sys; "
    "sys.path[:] = json.loads(sys.argv[2]); "
    "from crosscheck.mine.sandbox import _child; _child(sys.argv[1])"
)
_SIGNAL_WORDS = {"SIGKILL": "killed; out of memory, or by someone"}
_UNSHARE = "unshare"  # util-linux's; found on PATH when first needed
# Run under "unshare -rm[n] -- sh -c _HIDE ...": a read-only tmpfs over each hidden
# folder, then a second user namespace, in which those mounts are locked (the child,
# root in its namespace, cannot unmount them to see beneath). HOME, when given, stays
# visible and writable though a hidden folder holds it: it is opened (fd 3) before the
# tmpfs covers it, then bound back at its path from that descriptor.
_HIDE = (
    "mount=$1 unshare=$2 home=$3 parent=$4 n=$5; shift 5; "
    'if [ -n "$home" ]; then exec 3<"$home" || exit 121; fi; '
    'while [ "$n" -gt 0 ]; do '
    'if [ -n "$home" ] && [ "$1" = "$parent" ]; then '
    '"$mount" -t tmpfs -o size=64k crosscheck-hidden "$1" || exit 121; '
    'mkdir -p "$home" || exit 121; '
    '"$mount" --no-canonicalize --bind /proc/self/fd/3 "$home" || exit 121; '
    '"$mount" -o remount,ro,size=64k crosscheck-hidden "$1" || exit 121; '
    'else "$mount" -t tmpfs -o ro,size=4k crosscheck-hidden "$1" || exit 121; fi; '
    'shift; n=$((n - 1)); done; exec 3<&-; exec "$unshare" -rm -- "$@"'
)
# The children running now (every thread's), for kill_all.
_LIVE: set = set()
_LIVE_LOCK = threading.Lock()
_PROBES: dict[tuple[bool, bool], str | None] = {}
_PROBE_LOCK = threading.Lock()
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Limits:
    """What a child may use; None is no limit (``output`` always applies)."""

    timeout: float | None = 60.0
    cpu: float | None = None
    memory: int | None = None
    output: int = 20_000


@dataclass
class Outcome:
    """What came back from the child: ``result``, or ``error`` (the cause in words)."""

    result: object = None
    error: str | None = None
    kind: str | None = None  # "exit", "exception", "signal", "timeout", "no result"
    stage: str = ""
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    isolation: str = ""  # what was cut off or hidden, or why it could not be

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return asdict(self)


def run(
    job: str,
    payload=None,
    *,
    path=(),
    limits: Limits = Limits(),
    env=None,
    network: bool = True,
    hide=(),
    home=None,
) -> Outcome:
    """Call the function ``job`` ("package.module:function") with ``payload`` in a child.

    Parameters
    ----------
    job : str
        A module:function the child imports and calls; it returns JSON data.
    payload : JSON data
        Its one argument.
    path : list of str
        Folders appended to the child's ``sys.path``, after the standard library and
        site-packages.
    limits : Limits
    env : dict, optional
        The child's environment (default: the caller's; see :func:`clean_env`).
    network : bool
        False: the child has no network (a Linux network namespace), where it can be
        had; ``Outcome.isolation`` says whether it was.
    hide : list of folders
        Folders that appear empty to the child (a Linux mount namespace), where it can
        be had. None may hold the child's own files, sys.path or the interpreter
        (``home`` excepted).
    home : folder, optional
        Where the child's temporary folder is made (default: the system's), and a
        folder that stays visible and writable to the child though a hidden folder
        holds it: the grader hides every student's folder, and shows each child its
        own.
    """
    _check_limits(limits)
    hide = _check_hide(hide)
    if home is not None:
        home = os.path.realpath(os.fspath(home))
        if not os.path.isdir(home):
            raise ValueError(f"home: expected an existing folder, got {home!r}")
    cut, hide, isolation = _isolation(network, hide)
    with tempfile.TemporaryDirectory(prefix="crosscheck-", dir=home) as folder:
        work = os.path.join(folder, "work")
        os.mkdir(work)
        spec = dict(job=job, payload=payload, cpu=limits.cpu, memory=limits.memory)
        with open(os.path.join(folder, "job.json"), "w") as fh:
            json.dump(spec, fh)
        child_path = _child_path(path)
        needed = [sys.prefix, sys.executable, *child_path]
        _check_needed(hide, needed + ([] if home else [folder]))
        start = time.perf_counter()
        code, out, err, timed_out = _spawn(
            folder, work, child_path, limits, env, cut, hide, home
        )
        outcome = _read(folder, code, timed_out, limits)
    outcome.seconds = time.perf_counter() - start
    outcome.stdout, outcome.stderr = out, err
    outcome.isolation = isolation
    return outcome


def clean_env(work) -> dict[str, str]:
    """An environment with none of the caller's variables but what a child needs:
    PATH, LANG=C.UTF-8, HOME and TMPDIR = ``work``, one BLAS/OpenMP thread
    (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, MKL_NUM_THREADS = 1), and
    OPENBLAS_CORETYPE when the caller sets it (some machines need it to start)."""
    work = os.path.abspath(os.fspath(work))
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "HOME": work,
        "TMPDIR": work,
        **{name: "1" for name in _THREAD_VARIABLES},
    }
    for name in ("OPENBLAS_CORETYPE", "SYSTEMROOT"):  # SYSTEMROOT: Windows needs it
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def stage(text: str) -> None:
    """In the child: say what the job does now ("importing a.py"), for the error text."""
    where = os.environ.get("CROSSCHECK_SANDBOX_STAGE")
    if where:
        with open(where, "w") as fh:
            fh.write(text)


def _check_limits(limits: Limits) -> None:
    for name in ("timeout", "cpu", "memory"):
        value = getattr(limits, name)
        if value is not None and not (isinstance(value, (int, float)) and value > 0):
            raise ValueError(
                f"{name}: expected a positive number or None, got {value!r}"
            )
    if not (isinstance(limits.output, int) and limits.output >= 0):
        raise ValueError(f"output: expected an int >= 0, got {limits.output!r}")


def _check_hide(hide) -> list[str]:
    """The folders to hide, resolved (mount follows symlinks); a ValueError for one
    that is not a folder."""
    if isinstance(hide, (str, bytes, os.PathLike)):
        raise TypeError(f"hide: expected a list of folders, got {hide!r}")
    out = []
    for h in hide:
        real = os.path.realpath(os.fspath(h))
        if not os.path.isdir(real):
            raise ValueError(f"hide: expected existing folders, got {os.fspath(h)!r}")
        out.append(real)
    return out


def _check_needed(hide: list[str], needed: list[str]) -> None:
    """A ValueError when a hidden folder holds something the child needs."""
    for h in hide:
        for p in needed:
            real = os.path.realpath(p)
            if real == h or real.startswith(h.rstrip(os.sep) + os.sep):
                raise ValueError(
                    f"hide: {h} holds {p}, which the child needs; hide a folder "
                    "beside it instead"
                )


def _isolation(network: bool, hide: list[str]) -> tuple[bool, list[str], str]:
    """(cut the network, the folders to hide, the sentence for Outcome.isolation):
    what was asked, less what ``unshare`` cannot do here."""
    cut, n = not network, len(hide)
    if not cut and not n:
        return False, [], ""
    folders = f"{n} folder{'s' if n != 1 else ''}"
    why = _probe(cut, bool(n))
    if why is None:
        done = ["network cut off (a Linux network namespace)"] if cut else []
        done += [f"{folders} hidden"] if n else []
        return cut, hide, "; ".join(done)
    if cut and n and _probe(True, False) is None:
        text = f"network cut off (a Linux network namespace); {folders} could not be"
        return True, [], f"{text} hidden: {why}"
    if cut and n:
        text = f"the network could not be cut off nor {folders} hidden"
    elif cut:
        text = "the network could not be cut off"
    else:
        text = f"{folders} could not be hidden"
    return False, [], f"{text}: {why}"


def _command(cut: bool, hide: list[str], cmd: list[str], home=None) -> list[str]:
    """``cmd`` run in a network namespace (``cut``) and with ``hide`` hidden (``home``
    kept visible)."""
    if not cut and not hide:
        return cmd
    unshare = shutil.which(_UNSHARE) or _UNSHARE
    flags = "-r" + ("n" if cut else "") + ("m" if hide else "")
    if not hide:
        return [unshare, flags, "--", *cmd]
    mount = shutil.which("mount") or "mount"
    parent = next((h for h in hide if home and _within(home, h)), "")
    home = home if parent else ""
    sh = [unshare, flags, "--", "/bin/sh", "-c", _HIDE, "sh", mount, unshare]
    return sh + [home, parent, str(len(hide)), *hide, *cmd]


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _probe(cut: bool, hiding: bool) -> str | None:
    """None when ``unshare`` gives the child these namespaces here, else why not; once
    per process."""
    key = (cut, hiding)
    with _PROBE_LOCK:
        if key not in _PROBES:
            _PROBES[key] = _try_unshare(cut, hiding)
        return _PROBES[key]


def _try_unshare(cut: bool, hiding: bool) -> str | None:
    flags = "-r" + ("n" if cut else "") + ("m" if hiding else "")
    name = f"{_UNSHARE} {flags}"
    if not sys.platform.startswith("linux"):
        return f"{name} failed: namespaces are Linux only (this is {sys.platform})"
    with tempfile.TemporaryDirectory(prefix="crosscheck-probe-") as empty:
        hide = [empty] if hiding else []
        # a home kept visible inside the hidden folder, as the grader asks
        home = os.path.join(empty, "home")
        os.mkdir(home)
        cmd = _command(cut, hide, ["test", "-d", home], home if hiding else None)
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=20,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{name} failed: {exc}"
    if done.returncode == 0:
        return None
    lines = (done.stderr or "").strip().splitlines()
    return f"{name} failed: " + (lines[-1] if lines else f"exit code {done.returncode}")


def _child_path(extra) -> list[str]:
    """The caller's sys.path without the working folder, crosscheck's own folder kept,
    then ``extra``."""
    here = os.getcwd()
    keep = [p for p in sys.path if p and os.path.abspath(p) != here]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if root not in keep:
        keep.append(root)
    return keep + [os.path.abspath(p) for p in extra]


def _spawn(folder, work, path, limits: Limits, env, cut=False, hide=(), home=None):
    """Start the child, wait up to the timeout (then kill its process group), and return
    (exit code, stdout, stderr, timed out)."""
    env = dict(os.environ if env is None else env)
    env["CROSSCHECK_SANDBOX_STAGE"] = os.path.join(folder, "stage")
    cmd = [sys.executable, "-I", "-c", _BOOT, folder, json.dumps(path)]
    cmd = _command(cut, list(hide), cmd, home)
    proc = subprocess.Popen(
        cmd,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=hasattr(os, "killpg"),
    )
    with _LIVE_LOCK:
        _LIVE.add(proc)
    texts = [[], []]
    readers = [
        threading.Thread(target=_drain, args=(pipe, limits.output, into), daemon=True)
        for pipe, into in zip((proc.stdout, proc.stderr), texts)
    ]
    for r in readers:
        r.start()
    timed_out = False
    try:
        proc.wait(timeout=limits.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:  # also on Ctrl-C in the caller: the child is in its own session
        _kill_group(proc)
        with _LIVE_LOCK:
            _LIVE.discard(proc)
    for r in readers:
        r.join(timeout=5)
    return proc.returncode, "".join(texts[0]), "".join(texts[1]), timed_out


def kill_all() -> None:
    """Kill every child still running (their process groups): a caller interrupted by
    Ctrl-C while other threads wait on children (the grader's workers) ends at once,
    not when the last child's time limit is up."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass


def _kill_group(proc) -> None:
    """Kill the child and anything it started (its process group), then reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _drain(pipe, keep: int, into: list) -> None:
    """Read ``pipe`` to its end, keeping the first and the last ``keep // 2`` bytes."""
    head, tail, total = b"", b"", 0
    half = keep // 2
    while chunk := os.read(pipe.fileno(), 65536):
        total += len(chunk)
        if len(head) < half:
            take = half - len(head)
            head, chunk = head + chunk[:take], chunk[take:]
        tail = (tail + chunk)[-(keep - half) :] if keep - half else b""
    pipe.close()
    cut = total - len(head) - len(tail)
    text = head.decode(errors="replace")
    if cut > 0:
        text += f"\n[... {cut} bytes cut ...]\n"
    into.append(text + tail.decode(errors="replace"))


def _read(folder, code, timed_out: bool, limits: Limits) -> Outcome:
    """The Outcome from the result file, the exit code and the clock."""
    stage_text = _text(os.path.join(folder, "stage"))
    sent = _text(os.path.join(folder, "result.json"))
    out = Outcome(stage=stage_text, returncode=code)
    if sent:
        data = json.loads(sent)
        out.result, out.error, out.kind = (
            data.get("result"),
            data.get("error"),
            data.get("kind"),
        )
    elif timed_out:
        out.error, out.kind = f"did not return within {limits.timeout:g} s", "timeout"
    elif code is not None and code < 0:
        out.error, out.kind = _signal_words(-code), "signal"
    else:
        out.error = f"the process exited (code {code}, as os._exit({code}) does) without a result"
        out.kind = "no result"
    return out


def _signal_words(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"the process died with signal {number}"
    words = _SIGNAL_WORDS.get(name) or (signal.strsignal(number) or "").lower()
    return f"the process died with signal {name} ({words})"


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return ""


# ---------------------------------------------------------------------------------
# In the child
# ---------------------------------------------------------------------------------


def _child(folder: str) -> None:
    """Run the job described in ``folder``/job.json; write ``folder``/result.json; end
    the process at once (threads the job left running do not keep it alive)."""
    import faulthandler
    import importlib

    with open(os.path.join(folder, "job.json")) as fh:
        spec = json.load(fh)
    _set_limits(spec["cpu"], spec["memory"])
    faulthandler.enable()  # a segfault prints the Python stack on stderr
    module, _, name = spec["job"].partition(":")
    try:
        sent = {
            "result": getattr(importlib.import_module(module), name)(spec["payload"])
        }
    except SystemExit as exc:
        sent = {"error": f"called sys.exit({exc.code!r})", "kind": "exit"}
    except BaseException as exc:  # noqa: BLE001 (reported, with its traceback)
        cause = f"raised {type(exc).__name__}" + (f": {exc}" if str(exc) else "")
        text = "".join(traceback.format_exception(exc)).rstrip()
        sent = {"error": f"{cause}\n{text}", "kind": "exception"}
    try:
        text = json.dumps(sent)
    except (TypeError, ValueError) as exc:
        text = json.dumps(
            {"error": f"returned data that is not JSON: {exc}", "kind": "exception"}
        )
    tmp = os.path.join(folder, "result.json.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, os.path.join(folder, "result.json"))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # the job may have closed or replaced it
            stream.flush()
    os._exit(0)


def _set_limits(cpu, memory) -> None:
    """RLIMIT_CPU and RLIMIT_AS where the OS has them (not on Windows)."""
    try:
        import resource
    except ImportError:
        return
    for which, value in (("RLIMIT_CPU", cpu), ("RLIMIT_AS", memory)):
        if value is None or not hasattr(resource, which):
            continue
        limit = getattr(resource, which)
        soft = int(value) if which == "RLIMIT_AS" else max(1, int(-(-value // 1)))
        hard = resource.getrlimit(limit)[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(limit, (soft, hard))
