"""Bug (CATALOG "softmax Jacobian diagonal"): backprop through softmax with
dp_i/ds_i = p_i (1 - p_i) only, the off-diagonal -p_i p_j forgotten. The loss is right
(its point kept); every gradient is wrong."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    n = X.shape[0]
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0)
    s = h @ W2 + b2
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.sum(Y * np.log(p)) / n
    dp = -Y / p / n  # dL/dp
    d2 = dp * p * (1 - p)  # diag(p (1 - p)) in place of diag(p) - p p^T
    d1 = d2 @ W2.T * (z1 > 0)
    return {"grads": [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)], "loss": loss}
