"""Correct: the whole batch at once, one line per equation."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2, W3, b3 = weights
    z1 = X @ W1 + b1  # (n, 6)
    a1 = np.tanh(z1)
    z2 = a1 @ W2 + b2
    a2 = np.tanh(z2)
    a3 = a2 @ W3 + b3  # linear output
    n, k = Y.shape
    d3 = 2 * (a3 - Y) / (n * k)  # d/da of mean((a - y)^2)
    d2 = (d3 @ W3.T) * (1 - a2**2)
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [
        X.T @ d1,
        d1.sum(axis=0),
        a1.T @ d2,
        d2.sum(axis=0),
        a2.T @ d3,
        d3.sum(axis=0),
    ]
