"""Bug (CATALOG "derivative dropped"): delta[l] = delta[l+1] @ W[l+1].T, the tanh'(z[l])
factor of BP2 forgotten in every hidden layer. dW3 and db3 stay right."""

import numpy as np


def backprop(weights, X, Y):
    Ws, bs = weights[::2], weights[1::2]
    acts = [X]
    for l in range(3):
        z = acts[-1] @ Ws[l] + bs[l]
        acts.append(z if l == 2 else np.tanh(z))
    delta = 2 * (acts[-1] - Y) / Y.size
    grads = []
    for l in (2, 1, 0):
        grads = [acts[l].T @ delta, delta.sum(axis=0)] + grads
        delta = delta @ Ws[l].T  # times tanh'(z) forgotten
    return grads
