"""Bug (CATALOG "bias gradient from the first row"): db = delta[0], the first sample's
delta where BP3 sums over the batch. Every dW is right (half the points)."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2, W3, b3 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    a3 = a2 @ W3 + b3
    d3 = 2 * (a3 - Y) / Y.size
    d2 = (d3 @ W3.T) * (1 - a2**2)
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [X.T @ d1, d1[0], a1.T @ d2, d2[0], a2.T @ d3, d3[0]]
