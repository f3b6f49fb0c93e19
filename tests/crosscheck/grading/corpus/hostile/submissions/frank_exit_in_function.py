"""Calls sys.exit(0) inside backprop ("stop here while debugging"): exit code 0, yet an
ERROR in every case, never a pass."""

import sys

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    print("a1 looks like", a1.shape)
    sys.exit(0)
