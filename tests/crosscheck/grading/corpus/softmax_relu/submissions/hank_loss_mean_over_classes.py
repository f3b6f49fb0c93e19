"""Right gradients, but the loss averaged over classes too (np.mean over an (n, k)
array): the loss is 1/k of the homework's, its point lost."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    s = h @ W2 + b2
    e = np.exp(s - s.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    loss = np.mean(-Y * np.log(p))  # should sum over classes, average over the batch
    d2 = (p - Y) / len(X)
    d1 = (d2 @ W2.T) * (z1 > 0)
    return {"grads": [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)], "loss": loss}
