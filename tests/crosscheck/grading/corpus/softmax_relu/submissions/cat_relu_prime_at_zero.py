"""CATALOG "relu'(0) = 1": the mask written z1 >= 0. It differs from relu'(0) = 0 only
where z1 is exactly 0. The rubric cannot give X: every case's batch is drawn (normal X,
zero biases at glorot init, and check_backprop draws again while an entry lies within
rounding of the kink), so no z1 is ever 0 and this bug cannot show: full marks, MATCH.
crosscheck mine shows it on an X with zero rows (tests/crosscheck/mine)."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    n = X.shape[0]
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d2 = (p - Y) / n
    d1 = d2 @ W2.T * (z1 >= 0)
    return {
        "grads": [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)],
        "loss": -np.sum(Y * np.log(p)) / n,
    }
