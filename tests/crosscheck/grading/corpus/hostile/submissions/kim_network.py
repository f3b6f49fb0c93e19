"""Tries the network ("upload my gradients to my server"): sockets to 127.0.0.1 and to
a public IP address (no name, so no DNS lookup that could outlast the limit), each with
a 1 s timeout, carrying on when they fail, as they must without a network. Graded on the
gradients it returns: full marks, within the time limit."""

import socket

import numpy as np


def phone_home():
    for host, port in (("127.0.0.1", 9), ("1.1.1.1", 80)):
        try:
            with socket.create_connection((host, port), timeout=1):
                print(f"connected to {host}:{port}")
        except OSError as exc:
            print(f"no connection to {host}:{port}: {exc}")


def backprop(weights, X, Y):
    phone_home()
    W1, b1, W2, b2 = weights
    a1 = np.tanh(X @ W1 + b1)
    a2 = a1 @ W2 + b2
    d2 = 2 * (a2 - Y) / Y.size
    d1 = (d2 @ W2.T) * (1 - a1**2)
    return [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]
