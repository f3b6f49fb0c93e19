"""Checking *your own* backprop: ``check_backprop`` and ``crosscheck mine``.

check.py        check_backprop: your function against refnet, in your convention
conventions.py  the conventions (keras, nielsen, cs231n) and their constant factors
returned.py     reading what your function returns
diagnose.py     what is wrong, in words (hypotheses tested against the failing row)
cli.py          ``crosscheck mine FILE.py:FUNC ...``
"""

from .check import BackpropReport, check_backprop, network_fn

__all__ = ["BackpropReport", "check_backprop", "network_fn"]
