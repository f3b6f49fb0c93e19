"""d2l, chapter 4.7 (forward propagation, backward propagation, computational graphs):
columns, no bias, z = W1 x, h = phi(z) with phi = relu, o = W2 h; the loss l = 1/2 (o - y)^2
averaged over the minibatch, s = lambda/2 (||W1||^2 + ||W2||^2), J = L + s. Returns
[dJ/dW1, dJ/dW2], the chapter's last two equations.

    crosscheck mine docs/examples/d2l_backprop.py:backward --layout 20-64-10 \\
        --activations relu,linear --loss mse --convention d2l --l2 0.1
"""

import numpy as np

LAMBD = 0.1  # lambda of s; the command's --l2


def backward(params, X, Y):
    W1, W2 = params
    n = X.shape[1]
    z = W1 @ X  # (h, n)
    h = np.maximum(z, 0)
    o = W2 @ h  # (q, n)
    dJ_do = (o - Y) / n  # dL/do; the minibatch mean's 1/n
    dJ_dW2 = dJ_do @ h.T + LAMBD * W2  # dJ/do h^T + ds/dW2
    dJ_dh = W2.T @ dJ_do
    dJ_dz = dJ_dh * (z > 0)  # dJ/dh (.) phi'(z)
    dJ_dW1 = dJ_dz @ X.T + LAMBD * W1  # dJ/dz x^T + ds/dW1
    return [dJ_dW1, dJ_dW2]
