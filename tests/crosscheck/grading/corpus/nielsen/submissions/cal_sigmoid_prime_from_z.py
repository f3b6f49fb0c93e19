"""Bug (CATALOG "sigmoid' from z"): the hidden layer's sigmoid_prime(z) written
z * (1 - z), the output's a * (1 - a) right: dw2, db2 right (2 of 4 per case)."""

import numpy as np


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(z):
    return z * (1 - z)


def backprop(params, X, Y):
    w1, b1, w2, b2 = params
    z1 = w1 @ X + b1
    a1 = sigmoid(z1)
    a2 = sigmoid(w2 @ a1 + b2)
    delta2 = (a2 - Y) * a2 * (1 - a2)
    delta1 = (w2.T @ delta2) * sigmoid_prime(z1)
    return [
        delta1 @ X.T,
        delta1.sum(1, keepdims=True),
        delta2 @ a1.T,
        delta2.sum(1, keepdims=True),
    ]
