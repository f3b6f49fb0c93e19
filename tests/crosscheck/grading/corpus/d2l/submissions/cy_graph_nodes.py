"""Correct: J and every node of figure 4.7.1's graph: dJ/do (dA2, dZ2), dJ/dh (dA1),
dJ/dz (dZ1), the output o."""

import numpy as np


def backprop(params, X, Y, lambd=0.1):
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = np.maximum(z, 0)
    o = W2 @ h
    J = np.sum(0.5 * (o - Y) ** 2) / n + lambd / 2 * (np.sum(W1**2) + np.sum(W2**2))
    dJ_do = (o - Y) / n
    dJ_dh = W2.T @ dJ_do
    dJ_dz = dJ_dh * (z > 0)
    grads = {
        "dA2": dJ_do,
        "dZ2": dJ_do,
        "dW2": dJ_do @ h.T + lambd * W2,
        "dA1": dJ_dh,
        "dZ1": dJ_dz,
        "dW1": dJ_dz @ X.T + lambd * W1,
    }
    return {"loss": J, "output": o, "grads": grads}
