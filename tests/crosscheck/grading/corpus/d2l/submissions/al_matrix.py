"""Correct: the chapter's derivation for a minibatch of columns; [dJ/dW1, dJ/dW2]."""

import numpy as np


def backprop(params, X, Y, lambd=0.1):
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X
    h = np.maximum(z, 0)
    o = W2 @ h
    dJ_do = (o - Y) / n
    dJ_dW2 = dJ_do @ h.T + lambd * W2
    dJ_dh = W2.T @ dJ_do
    dJ_dz = dJ_dh * (z > 0)
    dJ_dW1 = dJ_dz @ X.T + lambd * W1
    return [dJ_dW1, dJ_dW2]
