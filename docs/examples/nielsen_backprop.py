"""Nielsen-style backprop (Neural Networks and Deep Learning, network.py) for a whole
mini-batch: column vectors, w of shape (n_out, n_in), b of shape (n_out, 1), sigmoid
everywhere, cost C = sum over the batch of 1/2 ||a - y||^2.

    crosscheck mine docs/examples/nielsen_backprop.py:backprop --layout 784-30-10 \\
        --activations sigmoid --loss mse --convention nielsen
"""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def backprop(weights, X, Y):
    """nabla_w, nabla_b for the columns of X (n_0, n) and Y (n_L, n)."""
    ws, bs = weights[::2], weights[1::2]
    activation, activations, zs = X, [X], []
    for w, b in zip(ws, bs):
        z = w @ activation + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    delta = (activations[-1] - Y) * sigmoid_prime(zs[-1])
    nabla_w = [None] * len(ws)
    nabla_b = [None] * len(ws)
    nabla_w[-1] = delta @ activations[-2].T
    nabla_b[-1] = delta.sum(axis=1, keepdims=True)
    for l in range(2, len(ws) + 1):
        delta = (ws[-l + 1].T @ delta) * sigmoid_prime(zs[-l])
        nabla_w[-l] = delta @ activations[-l - 1].T
        nabla_b[-l] = delta.sum(axis=1, keepdims=True)
    return [g for pair in zip(nabla_w, nabla_b) for g in pair]
