"""os._exit(3) inside backprop: the process ends at once (no SystemExit to catch, no
finally blocks). Every case is an ERROR."""

import os

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    if not np.all(np.isfinite(X)):
        print("bad input")
    os._exit(3)
