"""Raises in every case: the student ran out of time."""


def backprop(weights, X, Y):
    raise NotImplementedError("ran out of time before the deadline, sorry")
