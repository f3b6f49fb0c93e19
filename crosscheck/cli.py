"""``python -m crosscheck`` / ``crosscheck``: the project's main job.

Runs the built-in matrix (crosscheck.matrix, plus the training rows of
crosscheck.training for each framework with a training slot), shows a progress bar, prints one summary
line per case (rows checked, worst error relative to scale max|got - ref| / max|ref|,
worst error relative to tolerance)
and the full table of every failing case; exits 1 on any mismatch, 0 otherwise.

    python -m crosscheck                                   # the built-in matrix
    python -m crosscheck --dtype float64 --loss mse        # a slice of it
    python -m crosscheck --layout 784-256-128-10 --activations relu,relu,linear \\
        --loss softmax_cross_entropy --dtype float32 --batch 64
    python -m crosscheck --keras model.keras --loss softmax_cross_entropy
    python -m crosscheck --json results.json
    python -m crosscheck --oracle tf,torch,jax             # the oracles (default: every
                                                           # installed one)
    python -m crosscheck mine mynet.py:backprop --layout 784-30-10 --activations sigmoid \\
        --loss mse --convention nielsen                  # your own backprop (mine/cli.py)

Every row shows refnet against each oracle (TensorFlow, PyTorch, JAX) and, with two or
more, the oracles against each other; when exactly one party (refnet or an oracle)
disagrees with all the others while they agree, the report names it as the odd one out.
With three oracles a table shows one column per oracle and the worst pair of oracles in
one more; ``-v`` shows every pair, as the JSON does. An oracle whose framework is not
installed is skipped with a one-line message.

oneDNN (on by default in TensorFlow on x86) reorders float32 sums; the tolerance covers
it. Set TF_ENABLE_ONEDNN_OPTS=0 to compare against TensorFlow's plain Eigen kernels.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import refnet
from refnet.files import write_json

from . import frameworks as oracles
from .check import NoOracleForMasks
from .matrix import (
    DTYPES,
    LOSSES,
    MORE_LOSSES,
    Case,
    builtin_matrix,
    make_data,
    output_activation,
    run_case,
)
from .training import training_frameworks, training_matrix


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crosscheck",
        description="Compare refnet's loss, output, every delta, dW and db with "
        "TensorFlow's, PyTorch's and JAX's (every installed one), over the built-in "
        "matrix or one given network.",
        epilog="Check your own backprop function instead: crosscheck mine --help; "
        "grade a class's: crosscheck grade --help",
    )
    p.add_argument(
        "--layout", help="one network instead of the matrix, e.g. 784-256-128-10"
    )
    p.add_argument(
        "--activations",
        help="comma-separated, one per layer (or one for all); without --layout: "
        "keep the matrix cases that use these activations",
    )
    p.add_argument(
        "--loss",
        choices=LOSSES + MORE_LOSSES,
        help="the loss (filters the matrix without --layout)",
    )
    p.add_argument("--dtype", choices=DTYPES, help="float32 or float64 (default: both)")
    p.add_argument(
        "--batch", type=int, help="batch size (default: the matrix's, 32 for --layout)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed for weights and data (default 0)"
    )
    p.add_argument(
        "--keras",
        metavar="PATH",
        help="crosscheck a saved .keras or .h5 model: a Sequential or single-chain "
        "Functional model of Input, Flatten, Dense (with or without bias), Activation, "
        "ReLU, LeakyReLU, Softmax and Dropout layers; the loss is --loss, else the one "
        "it was compiled with",
    )
    p.add_argument(
        "--oracle",
        metavar="NAMES",
        help=f"comma-separated oracles from {','.join(oracles.names())} (default: every "
        "installed one)",
    )
    p.add_argument("--json", metavar="PATH", help="also write every report as JSON")
    p.add_argument(
        "--force", action="store_true", help="replace an existing --json file"
    )
    p.add_argument("--no-training", action="store_true", help="skip the training rows")
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print every case's table, each pair of oracles in its own column",
    )
    return p


def _progress(items: list, desc: str):
    """tqdm on stderr when installed, else a plain counter line."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        yield from tqdm(items, desc=desc, unit="case", file=sys.stderr, leave=False)
        return
    for i, item in enumerate(items, start=1):
        print(f"\r{desc}: {i}/{len(items)}", end="", file=sys.stderr, flush=True)
        yield item
    print(file=sys.stderr)


def _custom_cases(args) -> list[Case]:
    sizes = refnet.validation.check_sizes(args.layout, "--layout")
    depth = len(sizes) - 1
    loss = args.loss or "softmax_cross_entropy"
    if args.activations is not None:
        acts = args.activations.split(",")
        acts = acts * depth if len(acts) == 1 else acts
    else:
        acts = ["relu"] * (depth - 1) + [output_activation(loss)]
    if len(acts) != depth:
        raise ValueError(
            f"--activations: expected {depth} names (one per layer), got {len(acts)}"
        )
    _check_activations(acts)
    dtypes = [args.dtype] if args.dtype else DTYPES
    batch = args.batch or 32
    return [
        Case(tuple(sizes), tuple(acts), loss, dt, batch, args.seed) for dt in dtypes
    ]


def _check_activations(names) -> None:
    """Each name a refnet activation; ValueError naming --activations and the valid ones."""
    for name in names:
        try:
            refnet.activations.get(name)
        except (TypeError, ValueError) as err:
            raise ValueError(f"--activations: {err}") from None


def _matrix_cases(args) -> list[Case]:
    cases = builtin_matrix(args.seed)
    if args.loss:
        cases = [c for c in cases if c.loss == args.loss]
    if args.dtype:
        cases = [c for c in cases if c.dtype == args.dtype]
    if args.activations is not None:
        wanted = set(args.activations.split(","))
        _check_activations(wanted)
        cases = [c for c in cases if wanted & set(c.activations)]
    if args.batch:
        cases = [
            Case(c.layout, c.activations, c.loss, c.dtype, args.batch, c.seed)
            for c in cases
        ]
    return cases


def _keras_jobs(args) -> list:
    """One job: the saved model against the refnet network with its weights.

    The file is loaded with safe_mode=True (crosscheck/frameworks/tf/files.py); the loss is
    --loss, else the one the model was compiled with, else the one its output layer
    suggests; the report's notes say which and where it came from. X is drawn in the
    model's own input shape ((n, 28, 28) behind a Flatten) and flattened as the model
    flattens it."""
    import numpy as np

    from .check import compare

    files, models = oracles.slot("tf", "files"), oracles.slot("tf", "models")
    compiled_loss, load_keras_file = files.compiled_loss, files.load_keras_file
    saved_loss, network_from_chain, read_chain = (
        files.saved_loss,
        models.network_from_chain,
        models.read_chain,
    )

    model = load_keras_file(args.keras, "--keras")
    try:
        chain = read_chain(model)
        net = network_from_chain(chain)
    except (TypeError, ValueError) as err:
        raise type(err)(f"--keras: {args.keras}: {err}") from None
    labels = None
    if args.loss:
        loss, source = args.loss, "given by --loss"
    else:
        try:
            compiled = compiled_loss(saved_loss(args.keras, "--keras"))
        except ValueError as err:
            raise ValueError(
                f"--keras: {args.keras}: {err}; give --loss to choose one of {LOSSES + MORE_LOSSES}"
            ) from None
        if compiled is not None:
            loss, labels = compiled.name, compiled.labels
            source = f"from the model's compiled loss {compiled.source}"
            if loss == "categorical_cross_entropy" and net.activations[-1] == "softmax":
                source += (
                    " (LS3: the clipped probability loss; Keras' fit on a softmax "
                    "output differentiates the logits instead, LS2; the two agree "
                    "while no target probability is clipped to "
                    f"[{refnet.losses.CLIP_EPSILON:g}, 1 - {refnet.losses.CLIP_EPSILON:g}])"
                )
        else:
            loss = (
                "categorical_cross_entropy"
                if net.activations[-1] == "softmax"
                else "softmax_cross_entropy"
            )
            source = "the model was not compiled: chosen from its output layer (--loss to choose)"
    case = Case(
        tuple(net.sizes),
        tuple(net.activations),
        loss,
        net.dtype.name,
        args.batch or 32,
        args.seed,
    )
    X, Y = make_data(case)
    X = X.reshape((X.shape[0], *chain.input_shape))  # as the model takes it; compare
    k = net.sizes[-1]  # flattens it row-major, as the model's Flatten does (FL1)
    if labels == "ids" and Y.ndim == 2:
        Y = Y.argmax(axis=1)
    elif labels == "rows":
        Y = np.eye(k)[Y if Y.ndim == 1 else Y.argmax(axis=1)]
    form = "int class ids" if Y.ndim == 1 and loss != "mse" else f"shape {Y.shape}"
    note = f"loss: {loss}, {source}; Y: {form}; X: shape {X.shape}"

    def job():
        rep = compare(net, X, Y, loss, model=model, oracle=args.oracles)
        rep.notes.insert(0, note)
        rep.notes += [n for n in chain.notes if "folded" in n]
        return rep

    return [(f"{args.keras}: {case.label}", job)]


def _oracles(spec: str | None) -> tuple[list[str], list[str]]:
    """(oracle names, skip messages) for --oracle (None: every installed oracle)."""
    if spec is None:
        wanted = None
    else:
        wanted = [name.strip() for name in spec.split(",")]
        bad = [name for name in wanted if name not in oracles.names()]
        if bad or not all(wanted):
            raise ValueError(
                f"--oracle: expected a comma-separated list of {oracles.names()}, "
                f"got {spec!r}"
            )
    try:
        return oracles.select(wanted)
    except ImportError as err:  # none of them installed
        raise ValueError(f"--oracle: {err}") from None


def _training_jobs(names: list[str]) -> list:
    """The training rows: optimizer steps in refnet and the oracles, weights compared
    (a framework without a training slot is skipped with a one-line note)."""
    have, notes = training_frameworks(names)
    for note in notes:
        print(f"crosscheck: {note}", file=sys.stderr)
    return training_matrix(oracles=tuple(have))


def _worst_scaled(rows) -> float:
    """max over rows of max|got - ref| / max|ref| (shape failures apart)."""
    return max((r.scaled_err for r in rows if math.isfinite(r.scaled_err)), default=0.0)


def _fmt_ratio(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.3f}"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # crosscheck mine FILE.py:FUNC ...: check your own backprop
    if argv[:1] == ["mine"]:
        from .mine.cli import main as mine_main

        return mine_main(argv[1:])
    # crosscheck grade SUBMISSIONS ...: grade a class
    if argv[:1] == ["grade"]:
        from .grading.cli import main as grade_main

        return grade_main(argv[1:])
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    try:
        jobs = _jobs(args)
    except (ValueError, TypeError, OSError) as exc:
        print(f"crosscheck: {exc}", file=sys.stderr)
        return 2
    if not jobs:
        print("crosscheck: no case matches the options", file=sys.stderr)
        return 2
    results, unmasked = [], []
    for label, job in _progress(jobs, "crosscheck"):
        try:
            results.append((label, job()))
        except NoOracleForMasks:  # a dropout case, and no oracle here takes masks
            unmasked.append(label)
    if unmasked:
        print(
            f"crosscheck: {len(unmasked)} dropout case(s) skipped: no oracle that ran "
            "takes dropout masks",
            file=sys.stderr,
        )
    if not results:
        print("crosscheck: no case could be compared", file=sys.stderr)
        return 2
    failed = [(label, rep) for label, rep in results if not rep.ok]
    # one network: its tables
    single = args.layout is not None or args.keras is not None
    lines = _table(results)
    for label, rep in results if (args.verbose or single) else failed:
        lines += ["", rep.table(verbose=args.verbose)]
    lines += ["", _summary(results, failed, time.perf_counter() - start)]
    lines += _odd_ones(failed)
    lines.append(
        "FAIL" if failed else f"PASS: refnet matches {oracles.framework(args.oracles)}"
    )
    print("\n".join(lines))
    if args.json:
        payload = {
            "ok": not failed,
            "cases": [dict(rep.to_dict(), case=label) for label, rep in results],
        }
        write_json(args.json, payload, "--json")
    return 1 if failed else 0


def _jobs(args) -> list:
    """(label, callable returning a Report) for each case the flags ask for; the flags
    are checked first, so a bad one is named even where no framework is installed."""
    if args.batch is not None:
        refnet.validation.check_size(args.batch, "--batch")
    refnet.validation.rng_from(args.seed, "--seed")
    refnet.validation.check_output_folder(args.json, "--json", overwrite=args.force)
    if args.keras is not None:
        for flag in ("layout", "activations", "dtype"):  # the model decides these
            if getattr(args, flag) is not None:
                raise ValueError(
                    f"--{flag}: not used with --keras (the model gives its layout, "
                    "activations and dtype); drop it"
                )
        missing = oracles.get("tf").available()  # reading the file needs Keras
        if missing is not None:
            raise ValueError(f"--keras: {missing}")
    else:
        custom = args.layout is not None
        cases = _custom_cases(args) if custom else _matrix_cases(args)
    names, skipped = _oracles(args.oracle)
    for message in skipped + oracles.describe(names):  # the builds found, once
        print(f"crosscheck: {message}", file=sys.stderr)
    args.oracles = tuple(names)
    if args.keras is not None:
        return _keras_jobs(args)
    jobs = [(c.label, lambda c=c: run_case(c, names)) for c in cases]
    if not custom and not args.no_training:
        jobs += _training_jobs(names)
    return jobs


def _table(results) -> list[str]:
    """One line per case: rows, worst err/scale, worst err/tol, result."""
    width = max(len(label) for label, _ in results)
    head = f"{'case':<{width}}  {'rows':>4}  {'err/scale':>9}  {'err/tol':>7}  result"
    lines = [head, "-" * len(head)]
    for label, rep in results:
        status = "ok" if rep.ok else f"FAIL at {rep.first_failure.name}"
        if not rep.ok and rep.first_failure.odd:
            status += f", odd one out: {oracles.label(rep.first_failure.odd)}"
        lines.append(
            f"{label:<{width}}  {len(rep.rows):>4}  {_worst_scaled(rep.rows):>9.1e}  "
            f"{_fmt_ratio(rep.worst_ratio):>7}  {status}"
        )
    return lines


def _summary(results, failed, seconds: float) -> str:
    """cases, rows, failing; worst err/tol; worst err/scale per dtype; time."""
    n_rows = sum(len(rep.rows) for _, rep in results)
    by_dtype = {}  # dtype -> the rows compared at TOL1 (quirk rows have their own rtol)
    for _, rep in results:
        for dt in DTYPES:
            if dt in rep.title:
                by_dtype.setdefault(dt, []).extend(r for r in rep.rows if not r.note)
    # a dtype whose rows are all quirk rows has no TOL1 figure
    scaled = ", ".join(
        f"{dt} {_worst_scaled(rows):.1e}" if rows else f"{dt} -"
        for dt, rows in sorted(by_dtype.items())
    )
    return (
        f"{len(results)} case{'s' * (len(results) != 1)}, {n_rows} rows, {len(failed)} failing; worst err/tol "
        f"{_fmt_ratio(max(rep.worst_ratio for _, rep in results))}; worst err/scale "
        f"{scaled} (quirk rows apart); {seconds:.1f} s"
    )


def _odd_ones(failed) -> list[str]:
    """One line per party that is the odd one out in failing cases."""
    odd = {}
    for label, rep in failed:
        for party in rep.odd_ones:
            odd.setdefault(party, []).append(label)
    return [
        f"odd one out: {oracles.label(party)} in {len(labels)} failing case(s), "
        f"first {labels[0]}"
        for party, labels in odd.items()
    ]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
