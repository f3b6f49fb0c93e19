"""Checking *your own* backprop: ``check_backprop`` and ``crosscheck mine``.

check.py        check_backprop: your function against refnet, in your convention
conventions.py  the conventions (keras, nielsen, cs231n) and their constant factors
returned.py     reading what your function returns
diagnose.py     what is wrong, in words (hypotheses tested against the failing row)
cli.py          ``crosscheck mine FILE.py:FUNC ...``: one child process per file
child.py        what runs in that child: import FILE, find FUNC, check_backprop
sandbox.py      run one job in a child process, with time, CPU and memory limits
"""

from .check import BackpropReport, check_backprop, network_fn

__all__ = ["BackpropReport", "check_backprop", "network_fn"]
