"""A framework's worker process: ``python -m crosscheck.frameworks.serve FRAMEWORK``.

Started by :mod:`crosscheck.frameworks.workers`. Reads (target, args, kwargs) frames on
stdin, runs each, and writes ("ok", result) or ("error", exception) on the protocol
stream until stdin closes. The protocol stream is the original stdout; the process's
own stdout is pointed at stderr, so whatever a framework prints cannot corrupt a frame.
faulthandler writes a crash's Python traceback to stderr, which the parent quotes.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import sys

from crosscheck.frameworks.workers import _read, _write, resolve


def _picklable(err: BaseException) -> BaseException:
    """``err`` when it survives a pickle round trip, else a RuntimeError saying it."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        return RuntimeError(f"{type(err).__name__}: {err}")


def serve(inp, out) -> None:
    while True:
        try:
            target, args, kwargs = _read(inp)
        except EOFError:
            return
        except Exception as err:  # a request this process cannot unpickle
            _write(out, ("error", _picklable(err)))
            continue
        try:
            result = ("ok", resolve(target)(*args, **kwargs))
        except Exception as err:
            result = ("error", _picklable(err))
        _write(out, result)


def main() -> None:
    faulthandler.enable()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() and C-level writes to fd 1 go to stderr from here on
    sys.stdout = sys.stderr
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
