"""Bug: ds/dW1 = lambda W1 left out of dJ/dW1 (dJ/dW2 has its lambda W2): dW1's 2
points lost per case."""

import numpy as np


def backprop(params, X, Y, lambd=0.1):
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = np.maximum(z, 0)
    dJ_do = (W2 @ h - Y) / n
    dJ_dz = (W2.T @ dJ_do) * (z > 0)
    return [dJ_dz @ X.T, dJ_do @ h.T + lambd * W2]
