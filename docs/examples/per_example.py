"""A per-example loop in refnet's own (keras) convention: rows, W (n_in, n_out),
b (n_out,), tanh hidden layers, linear output, MSE averaged over outputs and batch.
``backprop_buggy`` is the same loop with one classic mistake.

    crosscheck mine docs/examples/per_example.py:backprop --layout 4-8-8-3 \\
        --activations tanh,tanh,linear --loss mse
"""

import numpy as np


def backprop(weights, X, Y, forget_derivative=False):
    Ws, bs = weights[::2], weights[1::2]
    n = X.shape[0]
    dW = [np.zeros_like(W) for W in Ws]
    db = [np.zeros_like(b) for b in bs]
    for x, y in zip(X, Y):  # one example at a time
        a, acts = x, [x]
        for l, (W, b) in enumerate(zip(Ws, bs)):
            z = a @ W + b
            a = z if l == len(Ws) - 1 else np.tanh(z)
            acts.append(a)
        delta = 2 * (a - y) / y.size  # d/da of mean_j (a_j - y_j)^2
        for l in reversed(range(len(Ws))):
            dW[l] += np.outer(acts[l], delta)
            db[l] += delta
            if l > 0:
                delta = Ws[l] @ delta
                if not forget_derivative:
                    delta = delta * (1 - acts[l] ** 2)  # tanh'(z) = 1 - a^2
    return [g / n for pair in zip(dW, db) for g in pair]  # the batch mean


def backprop_buggy(weights, X, Y):
    return backprop(weights, X, Y, forget_derivative=True)
