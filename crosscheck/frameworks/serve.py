"""A framework's worker process: ``python -m crosscheck.frameworks.serve FRAMEWORK``.

Started by :mod:`crosscheck.frameworks.workers`. Reads (target, args, kwargs) frames on
stdin, runs each, and writes ("ok", result), ("error", exception) or ("not sendable",
None) on the protocol stream until stdin closes. The protocol stream is the original stdout; the process's
own stdout is pointed at stderr, so whatever a framework prints cannot corrupt a frame.
faulthandler writes a crash's Python traceback to stderr, which the parent quotes.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import signal
import sys

from crosscheck.frameworks.workers import _read, _write, resolve

# Exceptions whose class the caller can rebuild without importing a framework.
_HOME = ("builtins", "refnet", "crosscheck", "numpy", "pickle", "importlib", "zipfile")


def _sendable(err: BaseException) -> BaseException:
    """``err`` when the caller can rebuild it without importing a framework (a torch or
    TensorFlow exception class would import that framework there), else the nearest
    builtin class of its MRO, its message prefixed with its own class name."""
    home = type(err).__module__.split(".")[0]
    if home not in _HOME:
        base = next(c for c in type(err).__mro__ if c.__module__ == "builtins")
        err = base(f"{type(err).__name__}: {err}")
    try:
        pickle.loads(pickle.dumps(err))
    except Exception:
        err = RuntimeError(f"{type(err).__name__}: {err}")
    return err


def serve(inp, out) -> None:
    while True:
        try:
            target, args, kwargs = _read(inp)
        except EOFError:
            return
        except Exception:  # arguments this process cannot rebuild (code in __main__)
            _write(out, ("not sendable", None))
            continue
        try:
            result = ("ok", resolve(target)(*args, **kwargs))
        except Exception as err:
            result = ("error", _sendable(err))
        _write(out, result)


def main() -> None:
    faulthandler.enable()
    # Ctrl-C in the caller's terminal reaches this process too: the caller decides
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() and C-level writes to fd 1 go to stderr from here on
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
