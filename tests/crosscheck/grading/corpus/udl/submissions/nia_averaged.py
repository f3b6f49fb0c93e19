"""Wrong convention: divides by the batch size, though the least squares loss sums over
it; deltas not returned: 0 points."""

import numpy as np


def backprop(weights, X, Y):
    all_weights, all_biases = weights[::2], weights[1::2]
    m = X.shape[1]
    h, f = [X], []
    for k, (W, b) in enumerate(zip(all_weights, all_biases)):
        f.append(W @ h[-1] + b)
        h.append(np.maximum(f[-1], 0))
    d = 2 * (f[-1] - Y) / m
    grads = []
    for k in range(len(all_weights) - 1, -1, -1):
        grads = [d @ h[k].T, d.sum(axis=1, keepdims=True)] + grads
        if k:
            d = (all_weights[k].T @ d) * (f[k - 1] > 0)
    return grads
