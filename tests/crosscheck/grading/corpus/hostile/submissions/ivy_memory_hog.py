"""Allocates 50 GB "to cache every activation": beyond the 1 GiB address-space limit,
numpy raises a MemoryError in every case."""

import numpy as np


def backprop(weights, X, Y):
    cache = np.ones(50 * 10**9 // 8)  # 50 GB of float64
    W1, b1, W2, b2 = weights
    cache[:1] = 0
    return [np.zeros_like(w) for w in weights]
