"""Bug (CATALOG "sigmoid' from z"): sigmoid_backward writes dA * Z * (1 - Z) from the
cache, where s = sigmoid(Z) belongs; the output layer's dZ3 is wrong and every gradient
with it: 0 points."""

import numpy as np


def sigmoid_backward(dA, cache):
    Z = cache
    return dA * Z * (1 - Z)


def relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ


def backprop(parameters, X, Y):
    L = len(parameters) // 2
    m = X.shape[1]
    A, caches = X, []
    for l in range(1, L + 1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        Z = W @ A + b
        caches.append((A, W, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(0, Z)
    dA = -(Y / A - (1 - Y) / (1 - A))
    grads = {}
    for l in range(L, 0, -1):
        A_prev, W, Z = caches[l - 1]
        dZ = sigmoid_backward(dA, Z) if l == L else relu_backward(dA, Z)
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = W.T @ dZ
    return grads
