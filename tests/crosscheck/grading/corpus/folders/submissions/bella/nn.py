import numpy as np


def forward(weights, X):
    W1, b1, W2, b2 = weights
    h = np.tanh(X @ W1 + b1)
    return h, h @ W2 + b2
