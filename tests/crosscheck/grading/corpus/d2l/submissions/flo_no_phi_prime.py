"""Bug (CATALOG "derivative dropped"): dJ/dz taken as dJ/dh, relu'(z) left out: dW1's
2 points lost per case."""

import numpy as np


def backprop(params, X, Y, lambd=0.1):
    W1, W2 = params
    n = X.shape[1]
    h = np.maximum(W1 @ X, 0)
    dJ_do = (W2 @ h - Y) / n
    dJ_dz = W2.T @ dJ_do
    return [dJ_dz @ X.T + lambd * W1, dJ_do @ h.T + lambd * W2]
