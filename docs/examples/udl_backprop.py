"""Understanding Deep Learning (Prince), notebook 7.2 (backpropagation), for a batch of
columns: all_weights[k] (D_{k+1}, D_k), all_biases[k] (D_{k+1}, 1), ReLU, the least
squares loss sum((f - y)^2) over the outputs and the samples, and the notebook's loop
over the layers backwards with all_dl_df, all_dl_dh.

    crosscheck mine docs/examples/udl_backprop.py:backward --layout 4-6-6-6-1 \\
        --activations relu,relu,relu,linear --loss mse --convention udl
"""

import numpy as np


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
        all_h[layer + 1] = all_f[layer].clip(0.0)
    all_f[K] = all_biases[K] + np.matmul(all_weights[K], all_h[K])
    return all_f[K], all_f, all_h


def backward(weights, X, Y):
    all_weights, all_biases = weights[::2], weights[1::2]
    net_output, all_f, all_h = forward_pass(X, all_weights, all_biases)
    K = len(all_weights) - 1
    all_dl_dweights = [None] * (K + 1)
    all_dl_dbiases = [None] * (K + 1)
    all_dl_df = [None] * (K + 1)
    all_dl_df[K] = 2 * (net_output - Y)
    for layer in range(K, -1, -1):
        # the notebook's one example; a batch of columns sums them
        all_dl_dbiases[layer] = np.sum(all_dl_df[layer], axis=1, keepdims=True)
        all_dl_dweights[layer] = np.matmul(all_dl_df[layer], all_h[layer].T)
        all_dl_dh = np.matmul(all_weights[layer].T, all_dl_df[layer])
        if layer > 0:
            all_dl_df[layer - 1] = indicator_function(all_f[layer - 1]) * all_dl_dh
    return [g for pair in zip(all_dl_dweights, all_dl_dbiases) for g in pair]
