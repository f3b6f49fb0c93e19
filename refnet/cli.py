"""The ``refnet`` command line (also ``python -m refnet``).

refnet summary 784-256-128-10 --activations relu,relu,linear
"""

from __future__ import annotations

import argparse
import sys

from .network import Network


def _summary(args: argparse.Namespace) -> int:
    activations = args.activations.split(",") if args.activations else None
    net = Network.build(args.layout, activations, seed=0, dtype=args.dtype)
    print(net.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refnet", description="refnet: a fully connected network in NumPy."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    summary = commands.add_parser(
        "summary", help="print the layer table and parameter count of a layout"
    )
    summary.add_argument("layout", help="layer sizes, e.g. 784-256-128-10")
    summary.add_argument(
        "--activations", help="one per layer, comma separated (default relu..., linear)"
    )
    summary.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    summary.set_defaults(run=_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as err:
        parser.error(str(err))  # exits 2 with the message, no traceback


if __name__ == "__main__":
    sys.exit(main())
