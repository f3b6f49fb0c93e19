import numpy as np


def forward(weights, X):
    cache = [X]
    for l in range(0, len(weights), 2):
        z = cache[-1] @ weights[l] + weights[l + 1]
        cache.append(z if l == len(weights) - 2 else np.tanh(z))
    return cache


def backward(weights, cache, Y):
    delta = 2 * (cache[-1] - Y) / Y.size
    grads = []
    for l in range(len(weights) // 2 - 1, -1, -1):
        grads = [cache[l].T @ delta, delta.sum(axis=0)] + grads
        if l:
            delta = (delta @ weights[2 * l].T) * (1 - cache[l] ** 2)
    return grads
