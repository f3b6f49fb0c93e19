"""Forgot to hand in helpers.py: the import fails while loading, every case ERROR."""

import numpy as np
from helpers import tanh_prime


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    a1 = np.tanh(z1)
    d2 = 2 * (a1 @ W2 + b2 - Y) / Y.size
    d1 = d2 @ W2.T * tanh_prime(z1)
    return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0)]
