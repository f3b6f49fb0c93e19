"""python -m bench --only grade: how long ``crosscheck grade`` takes for a class.

A class of 200 submissions (written here: right ones in three styles, two planted
mistakes, one that raises) is graded on a rubric of three cases (a practice case and two
hidden ones), with the default workers (the core count). Then the sandbox's own cost per
submission: a sample of the class graded one at a time (1 worker), against the same
submissions checked in this process (import, three check_backprop calls), in interleaved
rounds; the overhead is the median per-round difference over the sample's size (a new
Python with NumPy, the namespace, the files in and out).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import tempfile
import time

from crosscheck.grading import grade
from crosscheck.grading.rubric import from_data
from crosscheck.mine.check import case_inputs, check_backprop

RUBRIC = dict(
    title="bench: 200 submissions, 3 cases",
    function="backprop",
    secret="bench",
    case=[
        dict(
            name="practice", layout="8-16-4", activations=["tanh", "linear"], loss="mse"
        ),
        dict(
            name="hidden 1",
            hidden=True,
            layout=[8, [12, 20], 4],
            activations=["tanh", "linear"],
            loss="mse",
            batch=[8, 32],
        ),
        dict(
            name="hidden 2",
            hidden=True,
            layout=[8, [12, 20], [6, 10], 4],
            activations=["tanh", "tanh", "linear"],
            loss="mse",
            dtype=["float32", "float64"],
        ),
    ],
)

# keras convention: rows, W (n_in, n_out), b (n_out,), L = mean over n and k of (a - y)^2
_RIGHT_LOOP = """
import numpy as np

def backprop(weights, X, Y):
    Ws, bs = weights[0::2], weights[1::2]
    a = [X]
    for l, (W, b) in enumerate(zip(Ws, bs)):
        z = a[-1] @ W + b
        a.append(z if l == len(Ws) - 1 else np.tanh(z))
    delta = 2 * (a[-1] - Y) / Y.size
    grads = []
    for l in reversed(range(len(Ws))):
        grads = [a[l].T @ delta, delta.sum(axis=0)] + grads
        if l:
            delta = (delta @ Ws[l].T) * (1 - a[l] ** 2)
    return grads
"""
_VARIANTS = {
    "right": _RIGHT_LOOP,
    "right_dict": _RIGHT_LOOP.replace(
        "    return grads",
        '    return {"grads": grads, "loss": float(np.mean((a[-1] - Y) ** 2))}',
    ),
    "bias_mean": _RIGHT_LOOP.replace("delta.sum(axis=0)", "delta.mean(axis=0)"),
    "no_derivative": _RIGHT_LOOP.replace(" * (1 - a[l] ** 2)", ""),
    "raises": _RIGHT_LOOP.replace(
        "    Ws, bs =", "    raise ValueError('not done yet')\n    Ws, bs ="
    ),
}
_MIX = (
    ["right"] * 10
    + ["right_dict"] * 4
    + ["bias_mean"] * 3
    + ["no_derivative"] * 2
    + ["raises"]
)


def make_class(folder: str, n: int) -> None:
    """``n`` submissions, student_000.py ..., in the mix above."""
    os.makedirs(folder, exist_ok=True)
    for i in range(n):
        with open(os.path.join(folder, f"student_{i:03d}.py"), "w") as fh:
            fh.write(_VARIANTS[_MIX[i % len(_MIX)]])


def in_process(folder: str, names: list[str], rubric) -> None:
    """The same work without the sandbox: import each file, check each case."""
    drawn = rubric.draw()
    for name in names:
        spec = importlib.util.spec_from_file_location(
            "bench_student", os.path.join(folder, name)
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for case in drawn:
            weights, X, Y = case_inputs(
                case.sizes, case.activations, case.loss, **case.kwargs()
            )
            try:
                returned = module.backprop(weights, X, Y)
            except ValueError:
                continue
            check_backprop(
                lambda w, X, Y, r=returned: r,
                case.sizes,
                case.activations,
                case.loss,
                tensorflow=False,
                **case.kwargs(),
            )


def run(n: int = 200, sample: int = 20, rounds: int = 3) -> dict:
    """Time the class, then the sandbox's overhead per submission."""
    rubric = from_data(RUBRIC, source="bench")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        folder = os.path.join(tmp, "class")
        make_class(folder, n)
        t0 = time.perf_counter()
        result = grade(folder, rubric, out=os.path.join(tmp, "out"))
        class_s = time.perf_counter() - t0
        statuses = [s["status"] for s in result["students"]]
        small = os.path.join(tmp, "sample")
        make_class(small, sample)
        names = sorted(os.listdir(small))
        diffs, sandboxed, plain = [], [], []
        for r in range(rounds):
            order = ("sandbox", "plain") if r % 2 == 0 else ("plain", "sandbox")
            took = {}
            for what in order:
                t0 = time.perf_counter()
                if what == "sandbox":
                    out = os.path.join(tmp, f"out-{r}")
                    grade(small, rubric, out=out, workers=1)
                else:
                    in_process(small, names, rubric)
                took[what] = time.perf_counter() - t0
            sandboxed.append(took["sandbox"] / sample)
            plain.append(took["plain"] / sample)
            diffs.append((took["sandbox"] - took["plain"]) / sample)
    return dict(
        submissions=n,
        cases=len(rubric.cases),
        workers=result["workers"],
        class_seconds=round(class_s, 2),
        per_submission_seconds=round(class_s / n, 4),
        statuses={s: statuses.count(s) for s in sorted(set(statuses))},
        sample=sample,
        rounds=rounds,
        sandboxed_seconds=round(statistics.median(sandboxed), 4),
        in_process_seconds=round(statistics.median(plain), 4),
        overhead_seconds=round(statistics.median(diffs), 4),
        load_average=list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    )


def table(data: dict) -> str:
    return "\n".join(
        [
            f"crosscheck grade: {data['submissions']} submissions x {data['cases']} cases, "
            f"{data['workers']} workers: {data['class_seconds']:.1f} s "
            f"({data['per_submission_seconds'] * 1000:.0f} ms per submission); "
            f"statuses {data['statuses']}",
            f"one at a time, median of {data['rounds']} interleaved rounds of "
            f"{data['sample']}: sandboxed {data['sandboxed_seconds'] * 1000:.0f} ms, "
            f"in this process {data['in_process_seconds'] * 1000:.0f} ms; the sandbox "
            f"adds {data['overhead_seconds'] * 1000:.0f} ms per submission",
        ]
    )
