"""``crosscheck grade SUBMISSIONS``: grade a class's backprops.

    crosscheck grade hw3/ --rubric rubric.toml
    crosscheck grade hw3/ --function backprop --convention nielsen --layout 4-6-3 \\
        --activations sigmoid --loss mse

SUBMISSIONS holds one .py file or notebook per student, or one folder per student. Each
one runs in its own sandboxed child (crosscheck/grading/grade.py); the results go to
``--out`` (default: SUBMISSIONS-grades beside it): one JSON file per student as it
finishes (a stopped run continues where it stopped), grades.json, grades.csv,
report.html and gradescope/NAME/results.json. The terminal shows one line per student.
Exit 0 when every submission was graded (whatever the scores), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

import refnet.validation
from refnet.cli import in_flags

from ..matrix import DTYPES, LOSSES
from ..messages import env_lang
from ..mine.cli import FLAGS as MINE_FLAGS
from ..mine.cli import _seconds, add_axis_flags, add_lang_flag
from ..mine.conventions import CHOICES, PRESETS
from . import html, outputs
from .grade import grade
from .rubric import from_arguments, parse_bytes, read

FLAGS = {
    **MINE_FLAGS,
    "layout": "--layout",
    "hidden": "--hidden",
    "workers": "--workers",
    "out": "--out",
    "submissions": "SUBMISSIONS",
    "memory": "--memory",
    "timeout": "--timeout",
    "function": "--function",
    "submission": "SUBMISSIONS",
    "regrade": "--regrade",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="crosscheck grade",
        description="Grade a class's backprop functions against refnet: each "
        "submission runs in its own child process (time, CPU and memory limits, a "
        "fresh working folder, no network where Linux allows it, the other students' "
        "folders hidden), on practice and hidden cases, and is scored per quantity "
        "with the diagnosis that explains each lost point. It still runs the students' "
        "code with your permissions: chapter 12 of the docs (Grading a class) says "
        "what the sandbox does and does not protect against.",
    )
    p.add_argument(
        "submissions",
        metavar="SUBMISSIONS",
        nargs="?",
        help="the class's folder (with --gradescope: one student's submission folder)",
    )
    p.add_argument(
        "--rubric",
        metavar="RUBRIC.toml",
        help="the cases, their points and the secret the hidden ones are drawn from; "
        "without it, give --function, --layout, --activations and --loss",
    )
    p.add_argument("--function", help="the function every submission defines")
    p.add_argument("--layout", help="the layout, e.g. 784-30-10")
    p.add_argument(
        "--activations",
        help="one name for every layer, or one per layer, comma-separated",
    )
    p.add_argument("--loss", choices=LOSSES)
    p.add_argument("--convention", choices=sorted(PRESETS), help="default keras")
    add_axis_flags(p)
    add_lang_flag(p)
    p.add_argument("--l2", type=float, help="weight decay factor on every W")
    p.add_argument("--dtype", choices=DTYPES, help="default float64")
    p.add_argument("--batch", type=int, help="batch size (default 8)")
    p.add_argument(
        "--hidden",
        type=int,
        help="hidden cases besides the practice one, without --rubric (default 2)",
    )
    p.add_argument(
        "--secret",
        help="the text hidden cases are drawn from, without --rubric (default: a new "
        "random one per results folder)",
    )
    p.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="wall-clock (and CPU) seconds per submission, all its cases (default: "
        "the rubric's, else 60)",
    )
    p.add_argument(
        "--memory",
        metavar="BYTES",
        help="address space per submission, e.g. '2 GiB' (default: the rubric's, else 2 GiB)",
    )
    p.add_argument(
        "--out", metavar="DIR", help="the results folder (default: SUBMISSIONS-grades)"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="submissions graded at once (default: the core count)",
    )
    p.add_argument(
        "--regrade",
        metavar="NAME",
        action="append",
        default=[],
        help="grade this student again though their result was kept (repeatable)",
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="regrade every submission (default: keep the results of a stopped run)",
    )
    p.add_argument(
        "--gradescope",
        metavar="RESULTS.json",
        help="SUBMISSIONS is ONE student's submission (Gradescope's "
        "/autograder/submission): grade it and write Gradescope's results.json here "
        "(e.g. /autograder/results/results.json)",
    )
    p.add_argument(
        "--practice",
        action="store_true",
        help="print the crosscheck mine command of each practice case, to hand to the "
        "students; grade nothing",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


class UsageError(ValueError):
    pass


def _rubric(args):
    """The rubric from --rubric, or from the flags."""
    overrides = {axis: getattr(args, axis) for axis in CHOICES if getattr(args, axis)}
    if args.l2 is not None:
        overrides["l2"] = args.l2
    if args.use_bias is not None:
        overrides["use_bias"] = args.use_bias
    if args.rubric:
        ignored = [flag for flag, given in _network_flags(args) if given]
        if ignored:
            raise UsageError(
                f"{ignored[0]}: not used with --rubric (the rubric sets the cases, "
                f"their network and the secret); drop it, or drop --rubric"
            )
        try:
            rubric = read(args.rubric)
        except ValueError as exc:
            raise UsageError(f"--rubric: {str(exc).removeprefix('rubric: ')}") from None
        if args.function:
            rubric.function = args.function
        if args.timeout:
            rubric.timeout = args.timeout
        if args.memory:
            rubric.memory = parse_bytes(args.memory, "--memory")
        return rubric
    missing = [
        f"--{k}"
        for k in ("function", "layout", "activations", "loss")
        if not getattr(args, k)
    ]
    if missing:
        raise UsageError(
            f"{', '.join(missing)}: required without --rubric (or give --rubric RUBRIC.toml)"
        )
    acts = args.activations.split(",")
    extra = {}
    if args.timeout:
        extra["timeout"] = args.timeout
    if args.memory:
        extra["memory"] = parse_bytes(args.memory, "--memory")
    return from_arguments(
        args.function,
        args.layout,
        acts[0] if len(acts) == 1 else acts,
        args.loss,
        convention=args.convention or "keras",
        hidden=2 if args.hidden is None else args.hidden,
        secret=args.secret or _secret(args),
        dtype=args.dtype or "float64",
        batch=8 if args.batch is None else args.batch,
        **extra,
        **overrides,
    )


def _network_flags(args) -> list[tuple[str, bool]]:
    """(flag, given) for the flags a rubric file replaces."""
    flags = [
        (f"--{name.replace('_', '-')}", getattr(args, name) is not None)
        for name in ("layout", "activations", "loss", "convention", "dtype", "batch")
    ]
    flags += [("--hidden", args.hidden is not None), ("--secret", bool(args.secret))]
    flags += [("--l2", args.l2 is not None), ("--bias", args.use_bias is not None)]
    flags += [(f"--{a.replace('_', '-')}", bool(getattr(args, a))) for a in CHOICES]
    return flags


def _secret(args) -> str:
    """A random secret kept in the results folder, so a resumed run draws the same
    hidden cases."""
    out = _out(args)
    path = os.path.join(out, "secret")
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError:
        pass
    os.makedirs(out, exist_ok=True)
    secret = os.urandom(16).hex()
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(secret + "\n")
    return secret


def _out(args) -> str:
    return args.out or os.path.abspath(args.submissions).rstrip(os.sep) + "-grades"


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    out = None
    try:
        if args.practice:
            if not args.rubric and not args.secret:
                args.secret = "-"  # practice cases draw nothing from it
            print(practice_commands(_rubric(args)))
            return 0
        if not args.submissions or not os.path.isdir(args.submissions):
            raise UsageError(
                f"SUBMISSIONS: expected a folder of submissions, got {args.submissions!r}"
            )
        rubric = _rubric(args)
        out = _out(args)
        if args.gradescope:
            refnet.validation.check_output_folder(
                args.gradescope, "--gradescope", overwrite=True
            )
        result = grade(
            args.submissions,
            rubric,
            out=out,
            workers=args.workers,
            fresh=args.fresh,
            progress=not args.quiet and sys.stderr.isatty(),
            single=bool(args.gradescope),
            regrade=args.regrade,
            lang=args.lang or env_lang(),
        )
    except (ValueError, TypeError) as exc:
        print(f"crosscheck grade: {in_flags(str(exc), FLAGS)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\ncrosscheck grade: interrupted; every finished student's result is kept "
            f"in {out or 'the results folder'}: run the same command again to go on",
            file=sys.stderr,
        )
        return 130
    outputs.write_csv(result, os.path.join(out, "grades.csv"))
    html.write_html(result, os.path.join(out, "report.html"))
    if args.gradescope:
        outputs.write_gradescope(result, path=args.gradescope)
    else:
        outputs.write_gradescope(result, os.path.join(out, "gradescope"))
    # at a terminal, its width; into a file or a pipe, whole sentences
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 200
    print(outputs.table(result, width=max(40, width)))
    print(f"results: {out} (grades.csv, grades.json, report.html, gradescope/)")
    return 0


def practice_commands(rubric) -> str:
    """The ``crosscheck mine`` command of each practice case: what the students run
    to check themselves on exactly the cases they see."""
    lines = []
    for case in rubric.draw():
        if case.hidden:
            continue
        words = [
            f"crosscheck mine FILE.py:{rubric.function}",
            f"--layout {'-'.join(map(str, case.sizes))}",
            f"--activations {','.join(case.activations)}",
            f"--loss {case.loss}",
            f"--convention {case.convention}",
        ]
        for axis, value in case.overrides.items():
            if axis == "use_bias":
                words.append("--bias" if value else "--no-bias")
            else:
                words.append(f"--{axis.replace('_', '-')} {value}")
        if case.dtype != "float64":
            words.append(f"--dtype {case.dtype}")
        if case.batch != 8:
            words.append(f"--batch {case.batch}")
        if case.seed != 0:
            words.append(f"--seed {case.seed}")
        lines.append(f"# {case.name} ({case.max_score:g} points)\n" + " ".join(words))
    hidden = sum(case.hidden for case in rubric.draw())
    if hidden:
        lines.append(f"# and {hidden} hidden case(s), drawn from the secret")
    return "\n".join(lines)
