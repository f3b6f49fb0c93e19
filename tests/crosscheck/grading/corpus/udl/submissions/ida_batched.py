"""Correct: forward_pass / backward_pass on the whole batch of columns; returns the loss,
the output, all_dl_df as the deltas and the gradients."""

import numpy as np


def ReLU(preactivation):
    return preactivation.clip(0.0)


def indicator_function(x):
    x_in = np.array(x)
    x_in[x_in > 0] = 1
    x_in[x_in <= 0] = 0
    return x_in


def forward_pass(net_input, all_weights, all_biases):
    K = len(all_weights) - 1
    all_f = [None] * (K + 1)
    all_h = [None] * (K + 1)
    all_h[0] = net_input
    for layer in range(K):
        all_f[layer] = all_biases[layer] + np.matmul(all_weights[layer], all_h[layer])
        all_h[layer + 1] = ReLU(all_f[layer])
    all_f[K] = all_biases[K] + np.matmul(all_weights[K], all_h[K])
    return all_f[K], all_f, all_h


def backprop(weights, X, Y):
    all_weights, all_biases = weights[::2], weights[1::2]
    net_output, all_f, all_h = forward_pass(X, all_weights, all_biases)
    K = len(all_weights) - 1
    all_dl_df = [None] * (K + 1)
    all_dl_df[K] = 2 * (net_output - Y)
    for layer in range(K, 0, -1):
        all_dl_dh = all_weights[layer].T @ all_dl_df[layer]
        all_dl_df[layer - 1] = indicator_function(all_f[layer - 1]) * all_dl_dh
    grads = []
    for layer in range(K + 1):
        grads.append(all_dl_df[layer] @ all_h[layer].T)
        grads.append(np.sum(all_dl_df[layer], axis=1, keepdims=True))
    return {
        "loss": np.sum((net_output - Y) * (net_output - Y)),
        "output": net_output,
        "deltas": all_dl_df,
        "grads": grads,
    }
