"""Correct: imports its own package mynet (a subfolder with __init__.py)."""

from mynet import backward, forward


def backprop(weights, X, Y):
    return backward(weights, forward(weights, X), Y)
