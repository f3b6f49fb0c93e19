"""Bug: the notebook's all_dl_dbiases[layer] = np.array(all_dl_df[layer]) run on a whole
batch, one column per example, never summed: every db lost (1.5 per case)."""

import numpy as np


def backprop(weights, X, Y):
    all_weights, all_biases = weights[::2], weights[1::2]
    K = len(all_weights) - 1
    all_f, all_h = [None] * (K + 1), [X]
    for layer in range(K + 1):
        all_f[layer] = all_biases[layer] + all_weights[layer] @ all_h[layer]
        all_h.append(all_f[layer].clip(0.0))
    all_dl_df = [None] * (K + 1)
    all_dl_dweights = [None] * (K + 1)
    all_dl_dbiases = [None] * (K + 1)
    all_dl_df[K] = 2 * (all_f[K] - Y)
    for layer in range(K, -1, -1):
        all_dl_dbiases[layer] = np.array(all_dl_df[layer])
        all_dl_dweights[layer] = all_dl_df[layer] @ all_h[layer].T
        if layer > 0:
            all_dl_df[layer - 1] = (all_f[layer - 1] > 0) * (
                all_weights[layer].T @ all_dl_df[layer]
            )
    grads = [g for pair in zip(all_dl_dweights, all_dl_dbiases) for g in pair]
    return {"grads": grads, "deltas": all_dl_df}
