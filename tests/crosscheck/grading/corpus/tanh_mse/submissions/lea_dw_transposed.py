"""Bug (CATALOG "dW transposed"): dW = delta.T @ a_prev, shape (n_out, n_in). dW1 and
dW3 have the wrong shape; dW2 (square) has the right shape and the transposed values.
Every db is right (half the points)."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2, W3, b3 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    a3 = a2 @ W3 + b3
    d3 = 2 * (a3 - Y) / Y.size
    d2 = (d3 @ W3.T) * (1 - a2**2)
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [d1.T @ X, d1.sum(0), d2.T @ a1, d2.sum(0), d3.T @ a2, d3.sum(0)]
