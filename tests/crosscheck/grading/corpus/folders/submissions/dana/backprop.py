"""Correct; its helper prints at import, and its __main__ block (a training run that
ends in sys.exit) must not run when the grader loads the file."""

import sys

import numpy as np
from utils import mean_squared_error_grad, tanh_prime_from_a


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = mean_squared_error_grad(a2, Y)
    d1 = d2 @ W2.T * tanh_prime_from_a(a1)
    return {"dW1": X.T @ d1, "db1": d1.sum(0), "dW2": a1.T @ d2, "db2": d2.sum(0)}


if __name__ == "__main__":
    print("training...")
    sys.exit(1)
