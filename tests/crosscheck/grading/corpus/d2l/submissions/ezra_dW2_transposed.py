"""Bug (CATALOG "dW transposed"): dJ/dW2 written h (dJ/do)^T, the transpose of W2's
shape: dW2's 2 points lost per case."""

import numpy as np


def backprop(params, X, Y, lambd=0.1):
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = np.maximum(z, 0)
    dJ_do = (W2 @ h - Y) / n
    dJ_dz = (W2.T @ dJ_do) * (z > 0)
    return [dJ_dz @ X.T + lambd * W1, h @ dJ_do.T + lambd * W2.T]
