"""Never returns: a loop "until the gradient converges" whose test can never be met
(CPU-bound). The 5 s wall-clock limit ends it; every case is an ERROR."""

import numpy as np


def backprop(weights, X, Y):
    W1, b1, W2, b2 = weights
    step, change = 0, 1.0
    while change > 0:  # change is never 0: an infinite loop
        step += 1
        change = 1.0 / (1 + step % 7)
    return [np.zeros_like(w) for w in weights]
