import numpy as np

print("utils loaded")


def tanh_prime_from_a(a):
    return 1 - a**2


def mean_squared_error_grad(a, y):
    return 2 * (a - y) / np.size(y)
