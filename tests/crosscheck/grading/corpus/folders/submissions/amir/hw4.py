"""Correct: the main file builds layers from its helper module layers.py."""

from layers import Dense


def backprop(weights, X, Y):
    net = [
        Dense(weights[0], weights[1], "tanh"),
        Dense(weights[2], weights[3], "linear"),
    ]
    a = X
    for layer in net:
        a = layer.forward(a)
    grad = 2 * (a - Y) / Y.size
    for layer in reversed(net):
        grad = layer.backward(grad)
    return [g for layer in net for g in (layer.dW, layer.db)]
