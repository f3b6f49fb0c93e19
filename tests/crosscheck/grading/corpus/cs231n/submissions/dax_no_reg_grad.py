"""Bug: the loss has reg * sum(W * W), the gradients forget 2 * reg * W. Loss and db
right, dW wrong: 2 of 4 per case."""

import numpy as np


def backprop(params, X, y, reg=0.05):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    N = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    scores = h @ W2 + b2
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean() + reg * (
        np.sum(W1**2) + np.sum(W2**2)
    )
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    dh = dscores @ W2.T
    dh[h <= 0] = 0
    return loss, {
        "W1": X.T @ dh,
        "b1": dh.sum(axis=0),
        "W2": h.T @ dscores,
        "b2": dscores.sum(axis=0),
    }
