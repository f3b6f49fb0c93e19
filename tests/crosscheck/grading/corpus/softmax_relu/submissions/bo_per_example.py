"""Correct: one example at a time with log-sum-exp; a dict of dW1.. and the loss."""

import math

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    g = {"dW1": 0 * W1, "db1": 0 * b1, "dW2": 0 * W2, "db2": 0 * b2}
    total = 0.0
    n = len(X)
    for x, y in zip(X, Y):
        z = x @ W1 + b1
        h = np.where(z > 0, z, 0.0)
        s = h @ W2 + b2
        m = max(s)
        lse = m + math.log(sum(math.exp(v - m) for v in s))
        total += lse - float(y @ s)
        ds = (np.exp(s - lse) - y) / n
        dz = (W2 @ ds) * (z > 0)
        g["dW2"] += np.outer(h, ds)
        g["db2"] += ds
        g["dW1"] += np.outer(x, dz)
        g["db1"] += dz
    g["loss"] = total / n
    return g
