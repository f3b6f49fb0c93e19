"""Correct gradients, but the loss (1 point per case) is not returned: 3 of 4 per case.
Every row it returned matches, so its status is MATCH with points lost."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    s = h @ W2 + b2
    e = np.exp(s - s.max(1, keepdims=True))
    d2 = (e / e.sum(1, keepdims=True) - Y) / len(X)
    d1 = (d2 @ W2.T) * (z1 > 0)
    return [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]
