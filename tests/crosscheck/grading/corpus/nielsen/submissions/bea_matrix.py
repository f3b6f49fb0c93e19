"""Correct: the fully matrix-based mini-batch (chapter 2's problem), columns at once."""

import numpy as np


def backprop(params, X, Y):
    w1, b1, w2, b2 = params
    a1 = 1 / (1 + np.exp(-(w1 @ X + b1)))
    a2 = 1 / (1 + np.exp(-(w2 @ a1 + b2)))
    delta2 = (a2 - Y) * a2 * (1 - a2)
    delta1 = (w2.T @ delta2) * a1 * (1 - a1)
    return [
        delta1 @ X.T,
        delta1.sum(axis=1, keepdims=True),
        delta2 @ a1.T,
        delta2.sum(axis=1, keepdims=True),
    ]
