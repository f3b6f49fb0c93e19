"""Right gradients, but the objective returned is L, the regulariser s left out. The
loss earns no points in this rubric: full marks, yet status MISMATCH, and the headline
is the loss row's sentence."""

import numpy as np


def backprop(params, X, Y, lambd=0.1):
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = np.maximum(z, 0)
    o = W2 @ h
    L = np.sum(0.5 * (o - Y) ** 2) / n
    dJ_do = (o - Y) / n
    dJ_dz = (W2.T @ dJ_do) * (z > 0)
    grads = [dJ_dz @ X.T + lambd * W1, dJ_do @ h.T + lambd * W2]
    return {"grads": grads, "loss": L}
