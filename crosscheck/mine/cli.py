"""``crosscheck mine FILE.py:FUNC ...``: check your own backprop from the command line.

    crosscheck mine mynet.py:backprop --layout 784-30-10 --activations sigmoid \\
        --loss mse --convention nielsen

imports each FILE.py (running its top-level code, as ``python FILE.py`` would), calls
FUNC(weights, X, Y) on one batch and compares what it returns with refnet, in FUNC's
convention (crosscheck/mine/check.py). One file: the backprop-order table and the diagnosis.
Several files (a teacher's thirty): one summary line each. Exit 0 when every function
matches, 1 when one does not (or raises), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import traceback

import refnet
from refnet.files import write_json

from ..matrix import DTYPES, LOSSES
from .check import check_backprop
from .conventions import CHOICES, PRESETS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crosscheck mine",
        description="Check your own backprop against refnet (and refnet against "
        "TensorFlow when it is installed). WARNING: this imports and runs each given "
        "Python file, with your permissions, exactly as `python FILE.py` would; only "
        "pass files you trust.",
        epilog="Conventions: keras = rows, W (n_in, n_out), b (n_out,), mean "
        "reductions; nielsen = columns, W (n_out, n_in), b (n_out, 1), cost summed over "
        "the batch, MSE as 1/2 ||a - y||^2; cs231n = rows, W (n_in, n_out), softmax loss "
        "averaged over the batch, plus --l2 REG * sum(W^2). FUNC(weights, X, Y) gets "
        "[W1, b1, W2, b2, ...] and one batch in that convention and returns the "
        "gradients in the same structure (or a dict with 'grads' and optionally "
        "'loss', 'deltas', 'output'). Exit status: 0 all match, 1 a mismatch, 2 usage.",
    )
    p.add_argument(
        "targets",
        nargs="+",
        metavar="FILE.py:FUNC",
        help="the file to import and the function in it to check",
    )
    p.add_argument("--layout", required=True, help="the layout, e.g. 784-30-10")
    p.add_argument(
        "--activations",
        required=True,
        help="one name for every layer, or comma-separated, one per layer",
    )
    p.add_argument("--loss", required=True, choices=LOSSES)
    p.add_argument("--convention", default="keras", choices=sorted(PRESETS))
    for axis, values in CHOICES.items():
        p.add_argument(
            f"--{axis.replace('_', '-')}",
            choices=values,
            dest=axis,
            help=f"override the convention's {axis}",
        )
    p.add_argument(
        "--l2", type=float, help="weight decay factor on every W (default 0)"
    )
    p.add_argument("--dtype", default="float64", choices=DTYPES)
    p.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed for weights and batch (default 0)"
    )
    p.add_argument("--json", metavar="PATH", help="also write every report as JSON")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --json file (refused by default)",
    )
    p.add_argument(
        "--no-tensorflow",
        action="store_true",
        help="skip checking refnet itself against TensorFlow",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with several files, print every table, not just the summary",
    )
    return p


class UsageError(ValueError):
    pass


def load_function(target: str):
    """FILE.py:FUNC -> the function, importing FILE.py (its top-level code runs)."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"{target}: expected FILE.py:FUNC, e.g. mynet.py:backprop")
    if not os.path.isfile(path):
        raise UsageError(f"{target}: no such file {path!r}")
    module_name = f"crosscheck_mine_{abs(hash(os.path.abspath(path)))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"{target}: {path!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = os.path.dirname(os.path.abspath(path))
    sys.path.insert(0, folder)  # so the file's own local imports work
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        tb = traceback.TracebackException.from_exception(exc)
        tb.stack = traceback.StackSummary.from_list(
            [
                f
                for f in tb.stack
                if os.path.abspath(f.filename) == os.path.abspath(path)
            ]
        )
        raise UsageError(
            f"{target}: importing {path} failed:\n" + "".join(tb.format()).rstrip()
        ) from None
    finally:
        sys.path.remove(folder)
    fn = getattr(module, name, None)
    if fn is None:
        found = sorted(
            k for k, v in vars(module).items() if callable(v) and not k.startswith("_")
        )
        raise UsageError(
            f"{target}: {path} defines no {name!r}; its functions: {found}"
        )
    if not callable(fn):
        raise UsageError(f"{target}: {name} is a {type(fn).__name__}, not a function")
    return fn


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    overrides = {axis: getattr(args, axis) for axis in CHOICES if getattr(args, axis)}
    if args.l2 is not None:
        overrides["l2"] = args.l2
    try:
        sizes = refnet.validation.check_sizes(args.layout, "--layout")
        acts = args.activations.split(",")
        if len(acts) == 1:
            acts = acts * (len(sizes) - 1)
        if len(acts) != len(sizes) - 1:
            raise UsageError(
                f"--activations: expected {len(sizes) - 1} names (one per "
                f"layer) or one for all, got {len(acts)}"
            )
        for name in acts:
            try:
                refnet.activations.get(name)
            except (TypeError, ValueError) as err:
                raise UsageError(f"--activations: {err}") from None
        refnet.validation.check_size(args.batch, "--batch")
        refnet.validation.check_output_folder(args.json, "--json", overwrite=args.force)
        functions = [(t, load_function(t)) for t in args.targets]
        kwargs = dict(
            convention=args.convention,
            dtype=args.dtype,
            batch=args.batch,
            seed=args.seed,
            **overrides,
        )
        # bad flags (an unknown activation, columns with a flat bias) fail here, once
        check_backprop(
            lambda w, X, Y: None, sizes, acts, args.loss, tensorflow=False, **kwargs
        )
    except (ValueError, TypeError) as exc:
        print(f"crosscheck mine: {exc}", file=sys.stderr)
        return 2

    reports = []
    for i, (target, fn) in enumerate(functions):
        # the same reference for all
        tf = False if args.no_tensorflow or i > 0 else None
        reports.append(
            (
                target,
                check_backprop(fn, sizes, acts, args.loss, tensorflow=tf, **kwargs),
            )
        )
    if len(reports) == 1:
        print(reports[0][1])
    else:
        width = max(len(t) for t, _ in reports)
        for target, rep in reports:
            if rep.ok:
                status = "ok"
            elif rep.error:
                status = f"ERROR {rep.error.splitlines()[0]}"
            else:
                status = f"FAIL at {rep.first_failure.name}: {rep.diagnosis[0]}"
            print(f"{target:<{width}}  {status}")
        first = reports[0][1]
        if first.reference is not None:
            print(first.diagnosis[-1].splitlines()[0])
        if args.verbose:
            for target, rep in reports:
                print(f"\n{target}\n{rep}")
        n_ok = sum(rep.ok for _, rep in reports)
        print(f"{n_ok} of {len(reports)} match")
    if args.json:
        write_json(
            args.json, [dict(rep.to_dict(), target=t) for t, rep in reports], "--json"
        )
    return 0 if all(rep.ok for _, rep in reports) else 1
