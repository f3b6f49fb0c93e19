"""CS231n-style two-layer net (assignment 1's TwoLayerNet.loss): the params dict, rows,
W (n_in, n_out), b (n_out,), class ids y of shape (N,), relu hidden layer, softmax loss
averaged over the batch plus reg * sum(W^2), returning (loss, grads) with grads a dict.

    crosscheck mine docs/examples/cs231n_two_layer.py:loss --layout 20-50-10 \\
        --activations relu,linear --loss softmax_cross_entropy --convention cs231n --l2 0.05
"""

import numpy as np

REG = 0.05


def loss(params, X, y):
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    N = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    scores = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    data_loss = -np.log(probs[np.arange(N), y]).mean()
    reg_loss = REG * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    grads = {"W2": hidden.T @ dscores + 2 * REG * W2, "b2": dscores.sum(axis=0)}
    dhidden = dscores @ W2.T
    dhidden[hidden <= 0] = 0
    grads["W1"] = X.T @ dhidden + 2 * REG * W1
    grads["b1"] = dhidden.sum(axis=0)
    return data_loss + reg_loss, grads
