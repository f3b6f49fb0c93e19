"""Half of every gradient (losses.mse_grad lost the 2): 0 points."""

from losses import mse_grad
from nn import forward


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    h, out = forward(weights, X)
    d2 = mse_grad(out, Y)
    d1 = (d2 @ W2.T) * (1 - h**2)
    return [X.T @ d1, d1.sum(0), h.T @ d2, d2.sum(0)]
