"""Correct: one example at a time, gradients accumulated in loops, then averaged."""

import numpy as np


def backprop(weights, X, Y):
    Ws, bs = weights[0::2], weights[1::2]
    gW = [np.zeros_like(W) for W in Ws]
    gb = [np.zeros_like(b) for b in bs]
    n = len(X)
    for i in range(n):
        x, y = X[i], Y[i]
        h = [x]
        for l in range(3):
            z = h[-1] @ Ws[l] + bs[l]
            h.append(z if l == 2 else np.tanh(z))
        d = 2 * (h[3] - y) / len(y)
        for l in (2, 1, 0):
            for p in range(Ws[l].shape[0]):
                for q in range(Ws[l].shape[1]):
                    gW[l][p, q] += h[l][p] * d[q]
            gb[l] += d
            if l > 0:
                d = (Ws[l] @ d) * (1 - h[l] ** 2)
    return [g / n for pair in zip(gW, gb) for g in pair]
