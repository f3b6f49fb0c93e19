"""Correct, and well-behaved: a neighbour whose grade the others must not change."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]
