"""Correct: chapter 7's symbols beta_k, Omega_k, f_k, h_k; a dict dW<k>, db<k> and
dZ<k> (dl/df_k, the deltas)."""

import numpy as np


def backprop(weights, X, Y):
    Omega, beta = weights[::2], weights[1::2]
    h, f = [X], []
    for k, (Om, be) in enumerate(zip(Omega, beta)):
        f.append(be + Om @ h[-1])
        if k < len(Omega) - 1:
            h.append(np.where(f[-1] > 0, f[-1], 0.0))
    dl_df = 2 * (f[-1] - Y)
    grads = {}
    for k in range(len(Omega), 0, -1):
        grads[f"dZ{k}"] = dl_df
        grads[f"dW{k}"] = dl_df @ h[k - 1].T
        grads[f"db{k}"] = dl_df.sum(axis=1, keepdims=True)
        if k > 1:
            dl_df = (f[k - 2] > 0) * (Omega[k - 1].T @ dl_df)
    return grads
