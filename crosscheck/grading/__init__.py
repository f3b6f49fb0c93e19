"""Grading a class: ``crosscheck grade`` runs each student's backprop in its own sandboxed
child, on practice and hidden cases, and scores it per quantity with the diagnosis that
explains each lost point (chapter 12, "Grading a class").

>>> import numpy as np
>>> def mine(weights, X, Y):      # keras convention: rows, W (n_in, n_out), mean MSE
...     W1, b1 = weights
...     a = X @ W1 + b1
...     delta = 2 * (a - Y) / a.size
...     return [X.T @ delta, delta.sum(axis=0)]
>>> report = assert_backprop(mine, [3, 2], "linear", "mse")
>>> report.ok
True
"""

from __future__ import annotations

from ..mine.check import BackpropReport, check_backprop
from .grade import grade
from .rubric import Rubric, from_arguments, read

__all__ = ["Rubric", "assert_backprop", "from_arguments", "grade", "read"]


def assert_backprop(fn, sizes, activations, loss, **kwargs) -> BackpropReport:
    """check_backprop as an assertion, for a test cell (nbgrader, otter-grader) or a
    test: the report when every row matches, else AssertionError whose message is the
    diagnosis, then the table. Takes check_backprop's arguments; refnet is not checked
    against the frameworks unless ``tensorflow=True`` is passed."""
    kwargs.setdefault("tensorflow", False)
    report = check_backprop(fn, sizes, activations, loss, **kwargs)
    if not report.ok:
        lines = report.diagnosis or [report.error or "the check failed"]
        body = report.error if report.error and not report.rows else report.table()
        raise AssertionError("\n".join(lines) + "\n\n" + body)
    return report
