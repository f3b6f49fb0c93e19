"""deeplearning.ai, course 1 week 4 (L_model_forward / L_model_backward): the
``parameters`` dict {"W1", "b1", ...}, columns, W (n_l, n_{l-1}), b (n_l, 1), relu hidden
layers and a sigmoid output, cost -1/m sum(Y log AL + (1 - Y) log(1 - AL)). Returns
(cost, grads) with grads holding dA0 .. dA<L-1>, dW<l>, db<l>, as the assignment fills it.

    crosscheck mine docs/examples/deeplearning_ai_backprop.py:L_layer_step \\
        --layout 12-20-7-5-1 --activations relu,relu,relu,sigmoid \\
        --loss binary_cross_entropy --convention deeplearning.ai
"""

import numpy as np


def linear_activation_forward(A_prev, W, b, activation):
    Z = np.dot(W, A_prev) + b  # (n_l, m)
    A = np.maximum(0, Z) if activation == "relu" else 1 / (1 + np.exp(-Z))
    return A, ((A_prev, W, b), Z)


def L_model_forward(X, parameters):
    caches, A = [], X
    L = len(parameters) // 2
    for l in range(1, L + 1):
        activation = "relu" if l < L else "sigmoid"
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        A, cache = linear_activation_forward(A, W, b, activation)
        caches.append(cache)
    return A, caches


def compute_cost(AL, Y):
    m = Y.shape[1]
    cost = (1.0 / m) * (-np.dot(Y, np.log(AL).T) - np.dot(1 - Y, np.log(1 - AL).T))
    return np.squeeze(cost)


def linear_activation_backward(dA, cache, activation):
    (A_prev, W, b), Z = cache
    if activation == "relu":
        dZ = np.array(dA, copy=True)
        dZ[Z <= 0] = 0
    else:
        s = 1 / (1 + np.exp(-Z))
        dZ = dA * s * (1 - s)
    m = A_prev.shape[1]
    dW = 1.0 / m * np.dot(dZ, A_prev.T)  # (n_l, n_{l-1})
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)  # (n_l, 1)
    dA_prev = np.dot(W.T, dZ)  # no 1/m: that of m * cost
    return dA_prev, dW, db


def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA = dAL
    for l in reversed(range(L)):
        activation = "sigmoid" if l == L - 1 else "relu"
        dA, dW, db = linear_activation_backward(dA, caches[l], activation)
        grads["dA" + str(l)] = dA
        grads["dW" + str(l + 1)] = dW
        grads["db" + str(l + 1)] = db
    return grads


def L_layer_step(parameters, X, Y):
    """One iteration of L_layer_model: forward, cost, backward."""
    AL, caches = L_model_forward(X, parameters)
    cost = compute_cost(AL, Y)
    grads = L_model_backward(AL, Y, caches)
    return cost, grads
