"""Bug (CATALOG "dW 1e-6 relative off (float64)"): a "stability" fudge on dW1, wrong in
its seventh digit. Caught in float64 (practice, hidden wider); in the float32 case 1e-6
relative is within float32's rounding, so that case keeps its dW1 point."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2, W3, b3 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = np.tanh(a1 @ W2 + b2)
    a3 = a2 @ W3 + b3
    d3 = 2 * (a3 - Y) / Y.size
    d2 = (d3 @ W3.T) * (1 - a2**2)
    d1 = (d2 @ W2.T) * (1 - a1**2)
    dW1 = (X.T @ d1) * (1 + 1e-6)  # "so it never underflows"
    return [dW1, d1.sum(0), a1.T @ d2, d2.sum(0), a2.T @ d3, d3.sum(0)]
