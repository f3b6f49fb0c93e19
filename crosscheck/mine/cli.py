"""``crosscheck mine FILE.py:FUNC ...``: check your own backprop from the command line.

    crosscheck mine mynet.py:backprop --layout 784-30-10 --activations sigmoid \\
        --loss mse --convention nielsen

Each FILE.py:FUNC is checked in its own child process (crosscheck/mine/sandbox.py,
crosscheck/mine/child.py): the child imports FILE.py (running its top-level code, as
``python FILE.py`` would; FILE's folder is importable, after the standard library), calls
FUNC(weights, X, Y) on one batch and compares what it returns with refnet, in FUNC's
convention (crosscheck/mine/check.py). Whatever the file does (sys.exit, os._exit, a
segfault, a loop that never ends: ``--timeout``), it ends that file's check with an ERROR
line naming the cause, and the next file is checked. A child's address space is capped at
the machine's RAM (RLIMIT_AS, where the OS has it), so a runaway allocation is a
MemoryError in that file's report, not a machine swapping.

One file: the backprop-order table and the diagnosis (a file that cannot be imported is a
usage error). Several files (a teacher's thirty): one line each (MATCH, MISMATCH at the
first failing row, or ERROR and the cause) and a count. Exit 0 when every function
matches, 1 when one does not (or errors), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from dataclasses import dataclass

import refnet
from refnet.cli import in_flags
from refnet.files import write_json

from .. import frameworks
from ..matrix import DTYPES, LOSSES
from ..messages import LANGS, env_lang, language, msg
from . import conventions, sandbox
from .conventions import CHOICES, PRESETS

DEFAULT_TIMEOUT = 60.0
# check_backprop's argument names -> the flags that set them, for error messages
FLAGS = {
    "sizes": "--layout",
    "activations": "--activations",
    "loss": "--loss",
    "convention": "--convention",
    "dtype": "--dtype",
    "batch": "--batch",
    "seed": "--seed",
    "l2": "--l2",
    "use_bias": "--bias/--no-bias",
    **{axis: f"--{axis.replace('_', '-')}" for axis in CHOICES},
}


def _seconds(text: str) -> float:
    """--timeout's type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds, got {text!r}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crosscheck mine",
        description="Check your own backprop against refnet (and refnet against "
        "TensorFlow when it is installed). WARNING: this imports and runs each given "
        "Python file, with your permissions, exactly as `python FILE.py` would; only "
        "pass files you trust. Each file runs in its own child process, in a fresh "
        "temporary working folder, so a crash, sys.exit or a hang is an ERROR line for "
        "that file and the next file is checked.",
        epilog=f"Conventions (--convention): {', '.join(PRESETS)}; each one's shapes "
        "and exact loss are in chapter 10 of the docs (Check your own backprop, "
        "Conventions), and every axis can be overridden by its flag. FUNC(weights, X, "
        "Y) gets the weights (a list [W1, b1, W2, b2, ...] or a dict keyed W1, b1, ...) "
        "and one batch in that convention and returns the gradients in the same "
        "structure (or a dict with 'grads' and optionally 'loss', 'deltas', "
        "'output'). Exit status: 0 all match, 1 a mismatch or an error, 2 usage.",
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
    add_axis_flags(p)
    p.add_argument(
        "--l2", type=float, help="weight decay factor on every W (default 0)"
    )
    p.add_argument("--dtype", default="float64", choices=DTYPES)
    p.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    p.add_argument(
        "--seed", type=int, default=0, help="seed for weights and batch (default 0)"
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"wall-clock seconds each file gets, from import to report (default "
        f"{DEFAULT_TIMEOUT:g}); then it is stopped and reported as an ERROR",
    )
    p.add_argument("--json", metavar="PATH", help="also write every report as JSON")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --json file (refused by default)",
    )
    p.add_argument(
        "--no-frameworks",
        "--no-tensorflow",
        dest="no_tensorflow",
        action="store_true",
        help="skip checking refnet itself against the frameworks (--no-tensorflow is "
        "the older name)",
    )
    p.add_argument(
        "--oracle",
        metavar="NAMES",
        help="the frameworks refnet itself is checked against, comma-separated from "
        f"{','.join(frameworks.names())} (default: every installed one)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="with several files, print every table and the files' own output, not "
        "just the summary",
    )
    add_lang_flag(p)
    return p


def add_lang_flag(p: argparse.ArgumentParser) -> None:
    """--lang: the language of the verdict lines and the diagnosis (crosscheck grade
    takes it too)."""
    p.add_argument(
        "--lang",
        choices=LANGS,
        help="the language of the verdicts and the diagnosis (default: Chinese when "
        "LC_ALL, LC_MESSAGES or LANG starts with zh, else English); the table is the "
        "same in both",
    )


def add_axis_flags(p: argparse.ArgumentParser) -> None:
    """The flags that override one axis of the convention (--samples, ..., --bias);
    crosscheck grade takes them too."""
    for axis, values in CHOICES.items():
        p.add_argument(
            f"--{axis.replace('_', '-')}",
            choices=values,
            dest=axis,
            help=f"override the convention's {axis}",
        )
    p.add_argument(
        "--bias",
        dest="use_bias",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="override the convention's use_bias: --no-bias, the network has no "
        "biases (FUNC gets and returns [W1, W2, ...]); --bias, every layer has one",
    )


class UsageError(ValueError):
    pass


@dataclass
class Result:
    """One file's check as the parent sees it: the summary line, the full text, the
    JSON entry, and what the child printed."""

    target: str
    ok: bool
    line: str
    text: str
    data: dict
    stdout: str = ""
    stderr: str = ""
    load_error: bool = False  # FILE could not be imported, or has no FUNC


def parse_target(target: str) -> tuple[str, str]:
    """FILE.py:FUNC -> (absolute path, FUNC); UsageError when malformed or not a file."""
    path, sep, name = target.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(f"{target}: expected FILE.py:FUNC, e.g. mynet.py:backprop")
    if not os.path.isfile(path):
        raise UsageError(f"{target}: no such file {path!r}")
    return os.path.abspath(path), name


def _arguments(args) -> tuple[list, list, dict]:
    """(sizes, activations, check_backprop's keyword arguments), checked where cheap;
    ValueError or TypeError naming the argument otherwise."""
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
    overrides = {axis: getattr(args, axis) for axis in CHOICES if getattr(args, axis)}
    if args.l2 is not None:
        overrides["l2"] = args.l2
    if args.use_bias is not None:
        overrides["use_bias"] = args.use_bias
    conventions.get(args.convention, **overrides)
    if args.oracle is not None:
        try:
            oracle = frameworks.wanted_names(args.oracle.split(","))
        except ValueError as err:
            raise UsageError(f"--oracle: {str(err).removeprefix('oracle: ')}") from None
        overrides["oracle"] = tuple(oracle)
    kwargs = dict(
        convention=args.convention,
        dtype=args.dtype,
        batch=args.batch,
        seed=args.seed,
        **overrides,
    )
    return sizes, acts, kwargs


def _memory_limit() -> int | None:
    """The machine's RAM in bytes: a child asking for more address space gets a
    MemoryError instead of the machine swapping (None where unknown)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_in_child(target, path, name, payload, timeout) -> Result | str:
    """One file checked in its child: its Result, or the usage message (a str)."""
    limits = sandbox.Limits(timeout=timeout, memory=_memory_limit())
    payload = dict(payload, target=target, path=path, name=name)
    out = sandbox.run("crosscheck.mine.child:check_target", payload, limits=limits)
    got = out.result if isinstance(out.result, dict) else {}
    if "usage" in got:
        return got["usage"]
    if out.error is not None or "error" in got or "load_error" in got:
        cause = got.get("error") or got.get("load_error") or _cause(out, timeout)
        line = f"ERROR {cause.splitlines()[0]}"
        data = dict(
            target=target,
            verdict="ERROR",
            summary=line,
            ok=False,
            error=cause,
            rows=[],
            diagnosis=[cause],
        )
        return Result(
            target,
            ok=False,
            line=line,
            text=f"{target}\nERROR: {cause}",
            data=dict(data, stdout=out.stdout, stderr=out.stderr),
            stdout=out.stdout,
            stderr=out.stderr,
            load_error="load_error" in got,
        )
    return Result(
        target,
        ok=got["ok"],
        line=got["summary"],
        text=got["text"],
        data=dict(
            got["report"],
            target=target,
            verdict=got["summary"].split()[0],
            summary=got["summary"],
            stdout=out.stdout,
            stderr=out.stderr,
        ),
        stdout=out.stdout,
        stderr=out.stderr,
    )


def _cause(out: sandbox.Outcome, timeout: float) -> str:
    """The sandbox's error in the CLI's words: the flag of the time limit, the stage."""
    cause = out.error
    if out.kind == "timeout":
        cause = f"did not return within {timeout:g} s (--timeout)"
    if out.stage and out.kind in ("timeout", "signal", "no result"):
        cause = f"{cause} while {out.stage}"
    return cause


def _print_results(
    results: list[Result], verbose: bool, reference, lang: str = "en"
) -> None:
    if len(results) == 1:
        r = results[0]
        if r.stdout:
            print(r.stdout, end="" if r.stdout.endswith("\n") else "\n")
        if r.stderr:
            print(
                r.stderr, end="" if r.stderr.endswith("\n") else "\n", file=sys.stderr
            )
        print(r.text)
        if reference:
            print(f"- {reference['line']}")
        return
    width = max(len(r.target) for r in results)
    for r in results:
        print(f"{r.target:<{width}}  {r.line}")
    if reference:
        print(reference["line"])
    if verbose:
        for r in results:
            print(f"\n{r.text}")
            for name, text in (("stdout", r.stdout), ("stderr", r.stderr)):
                if text:
                    print(f"--- {r.target}: {name} ---\n{text.rstrip()}")
    n_ok = sum(r.ok for r in results)
    with language(lang):
        print(msg("mine.count", ok=n_ok, n=len(results)))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        sizes, acts, kwargs = _arguments(args)
        refnet.validation.check_output_folder(args.json, "--json", overwrite=args.force)
        targets = [(t, *parse_target(t)) for t in args.targets]
    except (ValueError, TypeError) as exc:
        return _usage(exc)
    lang = args.lang or env_lang()
    payload = dict(
        sizes=sizes, activations=acts, loss=args.loss, kwargs=kwargs, lang=lang
    )
    results = []
    for i, (target, path, name) in enumerate(targets):
        # the first child checks the arguments before any student code runs
        step = dict(payload, tensorflow=False, validate=i == 0)
        got = check_in_child(target, path, name, step, args.timeout)
        if isinstance(got, str):
            return _usage(got)
        if len(targets) == 1 and got.load_error:
            return _usage(f"{target}: {got.data['error']}")
        results.append(got)
    # refnet against the frameworks on the same network and batch, once, in its own child:
    # its time is no student's, and a student's crash never skips it
    reference = None if args.no_tensorflow else check_reference(payload)
    _print_results(results, args.verbose, reference, lang)
    if args.json:
        entries = [dict(r.data, reference=reference) for r in results]
        write_json(args.json, entries, "--json")
    reference_ok = reference is None or reference["ok"] is not False
    return 0 if all(r.ok for r in results) and reference_ok else 1


REFERENCE_TIMEOUT = 300.0  # TensorFlow's import and one compare, on a slow machine


def check_reference(payload: dict) -> dict | None:
    """refnet against every installed framework (or --oracle's) on the check's network
    and batch, in its own child: {"ok": bool or None, "line": str}, or None when no
    framework is installed."""
    wanted = payload["kwargs"].get("oracle") or frameworks.names()
    if not set(wanted) & set(frameworks.installed()):
        return None
    limits = sandbox.Limits(timeout=REFERENCE_TIMEOUT, memory=_memory_limit())
    out = sandbox.run("crosscheck.mine.child:check_reference", payload, limits=limits)
    if isinstance(out.result, dict) and "line" in out.result:
        return out.result
    cause = out.error or (out.result or {}).get("error", "no result")
    with language(payload.get("lang") or "en"):
        line = msg("mine.reference_unchecked", cause=cause)
    return {"ok": None, "line": line}


def _usage(message) -> int:
    """Print the message with the flag the user typed, and return 2."""
    print(f"crosscheck mine: {in_flags(str(message), FLAGS)}", file=sys.stderr)
    return 2
