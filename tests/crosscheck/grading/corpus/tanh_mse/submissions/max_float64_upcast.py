"""Bug (CATALOG "float32 computed in float64"): casts everything to float64 "for
accuracy"; right in the float64 cases, every gradient of the float32 case comes back
float64 (a dtype failure, all 6 points of that case)."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2, W3, b3 = (np.asarray(w, dtype=np.float64) for w in weights)
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    a1 = np.tanh(X @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    a3 = a2 @ W3 + b3
    d3 = 2 * (a3 - Y) / Y.size
    d2 = (d3 @ W3.T) * (1 - a2**2)
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [X.T @ d1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ d3, d3.sum(0)]
