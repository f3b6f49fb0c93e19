"""Placeholder until the crosscheck issue lands."""

import sys


def main(argv=None) -> int:
    print("crosscheck: not built yet", file=sys.stderr)
    return 1
