"""Correct: any depth, caches zs and activations, returns grads, loss, deltas, output."""

import numpy as np


def tanh_prime(z):
    return 1 - np.tanh(z) ** 2


def backprop(weights, X, Y):
    Ws, bs = weights[::2], weights[1::2]
    zs, acts = [], [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W + b
        zs.append(z)
        acts.append(z if l == len(Ws) - 1 else np.tanh(z))
    out = acts[-1]
    deltas = [None] * len(Ws)
    deltas[-1] = 2 * (out - Y) / Y.size
    for l in range(len(Ws) - 2, -1, -1):
        deltas[l] = (deltas[l + 1] @ Ws[l + 1].T) * tanh_prime(zs[l])
    grads = []
    for l, d in enumerate(deltas):
        grads += [acts[l].T @ d, d.sum(axis=0)]
    return {
        "grads": grads,
        "loss": np.mean((out - Y) ** 2),
        "deltas": deltas,
        "output": out,
    }
