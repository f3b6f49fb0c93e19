"""Right math, then a segfault through ctypes on the second call (reading address 0, as
a buggy C extension would). The first case's result was written before the crash and
keeps its 4 points; the second is an ERROR."""

import ctypes

import numpy as np

_calls = []


def backprop(weights, X, Y):
    _calls.append(1)
    if len(_calls) > 1:
        ctypes.string_at(0)  # SIGSEGV
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]
