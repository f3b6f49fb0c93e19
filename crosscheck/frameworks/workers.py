"""Each framework in its own process: the oracles' calls, run in one worker per framework.

Two frameworks' native libraries can crash each other in one process. Seen: with PyPI's
default (CUDA) torch beside tensorflow-cpu, ``torch.optim`` imports triton, whose
library segfaults once TensorFlow's is loaded; ``python -m crosscheck`` died without a
word. So every call into a framework goes through :func:`call`, which runs it in a
worker process that imports that framework and no other:

    call("torch", "crosscheck.frameworks:run_backprop", "torch", net, ...)

The worker (``python -m crosscheck.frameworks.serve``) is started on first use, reused for
every later call, and stopped when this process exits. Arguments and results cross as
pickles (networks, NumPy arrays, reports); an exception raised in the worker is raised
here with its type and message. When the worker dies (a segfault, an abort, a kill),
:class:`WorkerCrashed` names the framework, its build, the signal and the last lines
the worker wrote to stderr; the next call starts a fresh worker, up to
:data:`MAX_CRASHES` times.

``CROSSCHECK_ISOLATION=inline`` runs the calls in this process instead (a debugger in an
oracle, a test that patches one); the known conflicts are then not guarded.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ENV = "CROSSCHECK_ISOLATION"
MODES = ("process", "inline")
MAX_CRASHES = 3  # a framework whose worker died this often is not started again
_HEADER = struct.Struct("<Q")  # frame length, then the pickle

_WORKERS: dict[str, Worker] = {}
_LOCK = threading.Lock()  # guards _WORKERS; each Worker has its own lock for its pipe


class _NotSendable(Exception):
    """The call's arguments cannot be rebuilt in a worker process."""


class WorkerCrashed(RuntimeError):
    """A framework's worker process died during a call (the message says how)."""

    def __init__(self, framework: str, message: str):
        super().__init__(message)
        self.framework = framework

    def __reduce__(self):
        return (type(self), (self.framework, str(self)))


def mode() -> str:
    """ "process" (the default) or "inline", from the environment variable
    ``CROSSCHECK_ISOLATION``; ValueError naming it for anything else."""
    value = os.environ.get(ENV, "process").strip() or "process"
    if value not in MODES:
        raise ValueError(f"{ENV}: expected one of {list(MODES)}, got {value!r}")
    return value


def resolve(target: str):
    """The function "package.module:name" names."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def call(framework: str, target: str, *args, **kwargs):
    """``target(*args, **kwargs)`` in ``framework``'s worker (in this process when
    ``CROSSCHECK_ISOLATION=inline``); its result, or its exception raised here.

    Arguments the worker could not rebuild (a lambda, a class defined in ``__main__`` or
    in a function: pickles refer to code by its import path) are run in this process
    instead, as inline mode would."""
    if mode() == "inline":
        return resolve(target)(*args, **kwargs)
    try:
        return _worker(framework).call(target, args, kwargs)
    except _NotSendable:
        return resolve(target)(*args, **kwargs)


def _worker(framework: str) -> Worker:
    with _LOCK:
        if framework not in _WORKERS:
            _WORKERS[framework] = Worker(framework)
        return _WORKERS[framework]


def start(frameworks) -> None:
    """Start the workers of ``frameworks`` now, so their imports run side by side."""
    if mode() == "process":
        for name in frameworks:
            try:
                _worker(name).start()
            # given up on, or cannot start: its first call says so
            except WorkerCrashed:
                pass


def remember_build(framework: str, build: str) -> None:
    """The build a framework's worker reported (``describe``), named by later crashes."""
    if mode() == "process":
        _worker(framework).build = build


def stop_all() -> None:
    """Stop every worker (registered to run at exit)."""
    with _LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.stop()


atexit.register(stop_all)


def _frame(obj) -> bytes:
    """``obj`` pickled, behind its length."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(data)) + data


def _write(stream, obj) -> None:
    stream.write(_frame(obj))
    stream.flush()


def _read(stream):
    """The next object, or EOFError when the other side is gone."""
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _package_root() -> str:
    """The folder that holds the crosscheck package (the worker must import this copy)."""
    return str(Path(__file__).resolve().parents[2])


class Worker:
    """One framework's worker process: started on demand, restarted after a crash.

    One call at a time (a lock); a call interrupted while the worker is busy (Ctrl-C, a
    signal, a timeout raised in this process) kills the worker, so that its late answer
    can never be taken for the next call's."""

    def __init__(self, framework: str):
        self.framework = framework
        self.build = framework  # what crash messages name; describe() refines it
        self.proc: subprocess.Popen | None = None
        self.stderr = None
        self.crashes = 0
        self.last_crash = ""
        self.lock = threading.RLock()

    def start(self) -> None:
        with self.lock:
            if self.proc is None:
                self._spawn()

    def _spawn(self) -> None:
        if self.crashes >= MAX_CRASHES:
            raise WorkerCrashed(
                self.framework,
                f"{self.last_crash} (not started again after {self.crashes} crashes)",
            )
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_package_root(), env.get("PYTHONPATH")) if p
        )
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        self.stderr = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "crosscheck.frameworks.serve", self.framework],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=env,
            )
        except OSError as err:  # no interpreter to start (an embedded Python, say)
            self.stderr.close()
            self.crashes = MAX_CRASHES
            self.last_crash = (
                f"{self.framework} oracle: no worker process started ({err})"
            )
            raise WorkerCrashed(self.framework, self.last_crash) from None

    def call(self, target: str, args: tuple, kwargs: dict):
        try:
            request = _frame((target, args, kwargs))
        except (pickle.PicklingError, AttributeError, TypeError):
            raise _NotSendable from None
        with self.lock:
            self.start()
            try:
                self.proc.stdin.write(request)
                self.proc.stdin.flush()
                status, value = _read(self.proc.stdout)
            except (EOFError, BrokenPipeError, OSError):
                raise self._crashed(target) from None
            except BaseException:  # interrupted mid-call: its answer must not linger
                self.stop(kill=True)
                raise
        if status == "not sendable":  # the worker could not rebuild the arguments
            raise _NotSendable
        if status == "error":
            raise value
        return value

    def _crashed(self, target: str) -> WorkerCrashed:
        """The worker is gone: reap it, say how it ended, and forget it."""
        proc, self.proc = self.proc, None
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        if code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        tail = _tail(self.stderr)
        self.stderr.close()
        self.crashes += 1
        self.last_crash = (
            f"{self.build}: its worker process {how} during "
            f"{target.rpartition(':')[2]}"
            + (f"; its last output: {tail}" if tail else "")
        )
        return WorkerCrashed(self.framework, self.last_crash)

    def stop(self, kill: bool = False) -> None:
        """End the worker: close its stdin and let it exit, or kill it (a busy one)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if kill:
                raise OSError
            proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        if self.stderr is not None:
            self.stderr.close()


def _tail(stream, lines: int = 3, limit: int = 16000) -> str:
    """What a dead worker last wrote to stderr, in one line: faulthandler's "Fatal Python
    error" and the innermost frame it printed, else the last ``lines`` lines."""
    stream.flush()
    stream.seek(0, os.SEEK_END)
    stream.seek(max(0, stream.tell() - limit))
    text = stream.read().decode("utf-8", "replace")
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    fatal = [i for i, line in enumerate(kept) if line.startswith("Fatal Python error")]
    if fatal:
        after = kept[fatal[-1] :]
        frame = next((line for line in after if line.startswith("File ")), None)
        return " | ".join([after[0]] + ([frame] if frame else []))
    return " | ".join(kept[-lines:])
