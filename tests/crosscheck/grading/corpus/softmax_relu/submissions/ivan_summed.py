"""Wrong convention: the cost summed over the batch (no 1/n anywhere), loss and
gradients alike: everything n times the homework's, 0 points."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    s = h @ W2 + b2
    e = np.exp(s - s.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    d2 = p - Y
    d1 = (d2 @ W2.T) * (z1 > 0)
    grads = [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]
    return {"grads": grads, "loss": -np.sum(Y * np.log(p))}
