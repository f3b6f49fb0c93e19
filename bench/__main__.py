"""python -m bench: one training step of refnet against TensorFlow and the GEMM floor.

For every case (layout, batch, dtype) each backend is checked against refnet once, warmed
up, then timed in interleaved rounds (floor, refnet, TF eager, tf.function, XLA, and back)
so that load from other processes hits every backend alike. A backend's time is the
median over rounds; a ratio is the median over rounds of the per-round ratio. Only the
ratios within one run mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

import refnet.validation
from refnet.files import atomic_write

from . import cases as bc
from . import crossover as bench_map
from . import fit as bench_fit
from . import grading as bench_grading

HERE = Path(__file__).parent

LABELS = {
    "refnet": "refnet",
    "tf_eager": "TF eager",
    "tf_function": "tf.function",
    "tf_xla": "tf.function XLA",
    "floor": "GEMM floor",
}


# OpenBLAS' idle threads busy-wait for about 0.1 s after a call (its default thread
# timeout) and slow TensorFlow's thread pool down by up to 2x on two cores; TF's
# threads do the same to OpenBLAS. Before a backend of the other library is timed,
# the runner waits this long, then runs the step once untimed (which also wakes the
# library's sleeping threads: the first call after an idle spell can take 30 ms more).
SWITCH_PAUSE_S = 0.15


def _library(name: str) -> str:
    return "tf" if name in bc.TF_BACKENDS else "numpy"


def measure(
    steps: dict, rounds: int, sample_s: float, budget_s: float
) -> dict[str, list[float]]:
    """Seconds per call of each step, one sample per round: {backend: [sample, ...]}.

    Rounds are interleaved, alternating direction (floor, refnet, TF eager, tf.function,
    XLA, then back), so load from other processes hits every backend alike and refnet
    always sits next to the floor and to a TF variant. Each sample runs the step k times
    back to back after one untimed call, k chosen so a sample lasts about ``sample_s``;
    the number of rounds shrinks (to 3 at least) when one round would take more than
    ``budget_s / rounds``.
    """
    order = [name for name in ("floor", "refnet", *bc.TF_BACKENDS) if name in steps]
    single = {}
    for name in order:  # warm-up, and a first estimate of the cost
        steps[name].run()
        t0 = time.perf_counter()
        steps[name].run()
        single[name] = time.perf_counter() - t0
    k = {name: max(1, math.ceil(sample_s / max(t, 1e-7))) for name, t in single.items()}
    per_round = sum((k[name] + 1) * single[name] for name in steps) + SWITCH_PAUSE_S
    rounds = max(3, min(rounds, int(budget_s / per_round)))
    samples = {name: [] for name in order}
    gc.collect()
    previous = None
    for r in range(rounds):
        for name in order if r % 2 == 0 else reversed(order):
            run, n = steps[name].run, k[name]
            if previous is not None and _library(name) != _library(previous):
                time.sleep(SWITCH_PAUSE_S)
            previous = name
            run()
            gc.disable()
            t0 = time.perf_counter()
            for _ in range(n):
                run()
            t = time.perf_counter() - t0
            gc.enable()
            samples[name].append(t / n)
    return samples


def evaluate(case: bc.Case, samples: dict[str, list[float]]) -> dict:
    """Median times, and each ratio as the median over rounds of the per-round ratio.

    A per-round ratio compares samples taken seconds apart, so a burst of load from
    other processes that inflates both cancels. Returns the row's times, ratios and the
    targets that apply: {target: {ratio, limit, pass}}.
    """
    times = {name: statistics.median(s) for name, s in samples.items()}
    row = {
        "times": times,
        "min_times": {n: min(s) for n, s in samples.items()},
        "rounds": len(samples["refnet"]),
        "ratios": {},
        "targets": {},
    }

    def ratio(other: str) -> float:
        return statistics.median(
            r / o for r, o in zip(samples["refnet"], samples[other])
        )

    row["vs_refnet"] = {n: 1 / ratio(n) for n in samples if n != "refnet"}
    tf_times = {n: times[n] for n in bc.TF_BACKENDS if n in times}
    if "floor" in times:
        row["ratios"]["refnet/floor"] = ratio("floor")
    if tf_times:
        row["best_tf"] = min(tf_times, key=tf_times.get)
        row["ratios"]["refnet/best_tf"] = ratio(row["best_tf"])
    if "tf_function" in times:
        row["ratios"]["refnet/tf_function"] = ratio("tf_function")
    r = row["ratios"]
    if case.wide and "refnet/floor" in r:
        row["targets"]["floor"] = _target(r["refnet/floor"], bc.FLOOR_TARGET)
    if "refnet/best_tf" in r:
        row["targets"]["best_tf"] = _target(
            r["refnet/best_tf"], bc.TF_TARGET[case.dtype]
        )
    if case.small and "refnet/tf_function" in r:
        row["targets"]["small"] = _target(r["refnet/tf_function"], bc.SMALL_TARGET)
    return row


def _target(ratio: float, limit: float) -> dict:
    return {"ratio": ratio, "limit": limit, "pass": ratio <= limit}


def fmt_ratio(row: dict, ratio_key: str, target_key: str) -> str:
    r = row["ratios"].get(ratio_key)
    if r is None:
        return "-"
    t = row["targets"].get(target_key)
    if t is None:
        return f"{r:.2f}"
    return f"{r:.2f} {'pass' if t['pass'] else 'FAIL'} (<= {t['limit']:g})"


def table(rows: list[dict]) -> str:
    head = [
        "layout",
        "batch",
        "dtype",
        *[LABELS[b] for b in bc.BACKENDS],
        "refnet/floor",
        "refnet/best TF",
        "refnet/tf.function",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["layout"], str(row["batch"]), row["dtype"]]
        cells += [bc.fmt_time(row["times"].get(b)) for b in bc.BACKENDS]
        cells += [
            fmt_ratio(row, "refnet/floor", "floor"),
            fmt_ratio(row, "refnet/best_tf", "best_tf"),
            fmt_ratio(row, "refnet/tf_function", "small"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(rows: list[dict], path: Path) -> None:
    """Each backend's time per step over refnet's, one panel per dtype, log scale.

    Bars above 1 are slower than refnet. The ratios are medians of per-round ratios,
    as in the table.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dtypes = [d for d in bc.DTYPES if any(r["dtype"] == d for r in rows)]
    fig, axes = plt.subplots(
        len(dtypes), 1, figsize=(9, 3.2 * len(dtypes)), squeeze=False
    )
    others = [b for b in bc.BACKENDS if b != "refnet"]
    colors = {"floor": "0.6"}
    for ax, dtype in zip(axes[:, 0], dtypes):
        sub = [r for r in rows if r["dtype"] == dtype]
        width = 0.8 / len(others)
        for i, b in enumerate(others):
            xs = [j + (i - (len(others) - 1) / 2) * width for j in range(len(sub))]
            ys = [_vs_refnet(r, b) for r in sub]
            ax.bar(xs, ys, width, label=LABELS[b], color=colors.get(b))
        ax.axhline(1, color="k", lw=1)
        ax.set_yscale("log")
        ax.set_ylabel("time / refnet's time")
        ax.set_xticks(range(len(sub)))
        ax.set_xticklabels(
            [f"{r['layout']}\nbatch {r['batch']}" for r in sub], fontsize=7
        )
        ax.set_title(
            f"{dtype}: one forward + backward step (above 1: slower than refnet)",
            fontsize=9,
        )
        ax.legend(fontsize=7, ncol=len(others))
    fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, dpi=80, format="png"), "--plot")
    plt.close(fig)


def _vs_refnet(row: dict, backend: str) -> float:
    if backend in row.get("vs_refnet", {}):
        return row["vs_refnet"][backend]
    return row["times"].get(backend, math.nan) / row["times"]["refnet"]


def report(rows: list[dict], memory: list[dict], fit: dict | None = None) -> None:
    """Print the tables, the skipped backends, the memory check and the target count."""
    verdicts = []
    if rows:
        print(table(rows))
        print(step_notes(rows, memory))
        verdicts += [t["pass"] for r in rows for t in r["targets"].values()]
        verdicts += [m["pass"] for m in memory]
    if fit:
        print()
        verdicts += bench_fit.report(fit)
    print(f"targets: {sum(verdicts)} of {len(verdicts)} pass")


def step_notes(rows: list[dict], memory: list[dict]) -> str:
    """The skipped backends and the memory check, one line each."""
    lines = []
    skipped = {}
    for row in rows:
        for name, why in row["skipped"].items():
            skipped.setdefault(f"{name}: {why}", []).append(
                f"{row['layout']} batch {row['batch']} {row['dtype']}"
            )
    for why, ids in skipped.items():
        lines.append(f"skipped {why} ({', '.join(ids)})")
    for m in memory:
        lines.append(
            f"memory {m['case']}: peak {m['peak_bytes'] / 2**20:.2f} MiB during one step, "
            f"result holds {m['held_bytes'] / 2**20:.2f} MiB: ratio {m['ratio']:.2f} "
            f"{'pass' if m['pass'] else 'FAIL'} (<= {bc.MEMORY_TARGET})"
        )
    return "\n".join(lines)


# The tables in docs/09-speed.md sit between these markers;
# ``--from-json FILE --write-tables docs/09-speed.md`` rewrites them from a run's JSON.
MARKERS = {
    "step": ("<!-- bench:step -->", "<!-- /bench:step -->"),
    "fit": ("<!-- bench:fit -->", "<!-- /bench:fit -->"),
    "map": ("<!-- bench:map -->", "<!-- /bench:map -->"),
}


# The Chinese page's words for the blocks' sentences and the column heads of the map
# and fit tables (the step table keeps the English heads, as the bench prints them).
ZH = {
    "Each backend's step read as g x floor + c x N:": "把每个后端的一步解读为 g x 下限 + c x N：",
    "width": "宽度",
    "batch": "批量",
    "GEMM floor": "GEMM 下限",
    "fastest framework": "最快的框架",
    "refnet/fastest": "refnet/最快",
    "backend": "后端",
    "per-call cost c": "每次调用的开销 c",
    "effective calls per step N": "每步的等效调用次数 N",
    "GEMM time / NumPy floor g": "GEMM 时间 / NumPy 下限 g",
    "layout": "网络结构",
    "optimizer": "优化器",
    "refnet samples/s": "refnet 样本/秒",
    "Keras samples/s": "Keras 样本/秒",
    "fit step": "fit 步",
    "floor 1 thread": "下限（1 个线程）",
    "floor all cores": "下限（所有核）",
    "fit/best floor": "fit/最佳下限",
    "step loop/best floor": "步循环/最佳下限",
    "fit/step loop": "fit/步循环",
    "fit/old policy": "fit/旧策略",
    "busy/quiet": "繁忙/空闲",
    "busy fit/old policy": "繁忙 fit/旧策略",
}


def _zh_head(table_md: str) -> str:
    """A table's head row in the Chinese page's words (cells without one unchanged)."""
    head, rest = table_md.split("\n", 1)
    cells = [c.strip() for c in head.strip("|").split("|")]
    return "| " + " | ".join(ZH.get(c, c) for c in cells) + " |\n" + rest


def markdown_blocks(data: dict, lang: str = "en") -> dict[str, str]:
    """{"step": table + notes, "fit": table + GEMM peak, "map": tables} of a run's
    JSON, as Markdown; ``lang="zh"`` for the Chinese page (docs/09-speed.zh.md)."""
    zh = lang == "zh"
    blocks = {}
    if data.get("map"):
        m = data["map"]
        tables = [bench_map.table(m), bench_map.model_table(m)]
        intro = "Each backend's step read as g x floor + c x N:"
        if zh:
            tables, intro = [_zh_head(t) for t in tables], ZH[intro]
        blocks["map"] = tables[0] + f"\n\n{intro}\n\n" + tables[1]
    if data.get("rows"):
        notes = step_notes(data["rows"], data.get("memory", []))
        blocks["step"] = table(data["rows"]) + (
            f"\n\n```\n{notes}\n```" if notes else ""
        )
    if data.get("fit"):
        fit = data["fit"]
        p = fit["gemm_peak"]
        if zh:
            peak = (
                f"GEMM 峰值（float32 的 1024^3 矩阵乘积）：使用 BLAS 默认的 "
                f"{p['threads']} 个线程时为 {p['gflops']:.1f} GFLOP/s，使用 1 个线程时为 "
                f"{p['gflops_1_thread']:.1f} GFLOP/s。GFLOP/s：一步中矩阵乘积的运算量除以"
                "整个 fit 步的时间。"
            )
        else:
            peak = (
                f"GEMM peak (float32 1024^3 product): {p['gflops']:.1f} GFLOP/s with "
                f"BLAS' default {p['threads']} threads, {p['gflops_1_thread']:.1f} "
                "GFLOP/s with 1. GFLOP/s: the step's matrix products over the whole fit "
                "step's time."
            )
        fit_table = bench_fit.table(fit)
        blocks["fit"] = (_zh_head(fit_table) if zh else fit_table) + "\n\n" + peak
    return blocks


def write_tables(path: Path, blocks: dict[str, str]) -> list[str]:
    """Replace the marked blocks of ``path`` (atomically); returns the names replaced."""
    text = path.read_text()
    done = []
    for name, body in blocks.items():
        start, end = MARKERS[name]
        i, j = text.find(start), text.find(end)
        if i < 0 or j < i:
            continue
        text = text[: i + len(start)] + "\n" + body + "\n" + text[j:]
        done.append(name)
    if done:
        _write_atomic(path, text)
    return done


def known_layouts() -> list[str]:
    return sorted({layout for layout, _ in bc.SIZES} | set(bench_fit.LAYOUTS))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time one forward + backward step (relu hidden layers, linear output, "
        "softmax cross-entropy) in refnet, TensorFlow (eager, tf.function, XLA) and the "
        "bare GEMM floor, and refnet.fit against its floor and Keras' Model.fit; print "
        "ratios and pass/fail per target. Writes nothing unless asked (--json, --plot, "
        "--save).",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="fewer rounds, skip 4096-4096-10 (about 1.5 min)",
    )
    p.add_argument(
        "--only",
        choices=("step", "fit", "map", "grade"),
        help="only the gradients-step section, only the fit section, 'grade' (crosscheck "
        "grade on a class of 200 submissions with 3 cases, and the sandbox's overhead per "
        "submission; --save writes bench/grading.json), or the crossover "
        "map (784-w-w-10 float32 SGD step, widths x batches, against TF eager, "
        "tf.function, PyTorch and JAX where installed; only run when asked; --json and "
        "--plot then write the map's JSON and heat map, --save bench/map.json and "
        "docs/img/crossover_map.png)",
    )
    p.add_argument(
        "--widths",
        help="map: hidden widths, comma-separated (default "
        + ",".join(map(str, bench_map.WIDTHS))
        + ")",
    )
    p.add_argument(
        "--batches",
        help="map: batch sizes, comma-separated (default "
        + ",".join(map(str, bench_map.BATCHES))
        + ")",
    )
    p.add_argument(
        "--busy",
        action="store_true",
        help="fit section: also time fit with one competing busy process (interleaved "
        "with quiet rounds) against the policy before the measured one, target "
        f"busy fit/old policy <= {bench_fit.OLD_TARGET:g}",
    )
    p.add_argument(
        "--dtype",
        choices=bc.DTYPES,
        action="append",
        help="only this dtype (repeatable; the fit section is float32)",
    )
    p.add_argument(
        "--layout",
        action="append",
        help="only this layout, e.g. 784-256-128-10 (repeatable; one of "
        + ", ".join(known_layouts())
        + ")",
    )
    p.add_argument(
        "--no-tf",
        action="store_true",
        help="refnet and the floors only (no TF, no Keras)",
    )
    p.add_argument(
        "--rounds", type=int, help="timing rounds per case (default 5 quick, 15 full)"
    )
    p.add_argument(
        "--threads",
        type=int,
        help="threads for BLAS and for TF's pools (default: theirs)",
    )
    p.add_argument("--json", help="write the results to this JSON file")
    p.add_argument("--plot", help="write a PNG plot here")
    p.add_argument(
        "--lang",
        choices=("en", "zh"),
        default="en",
        help="language of the crossover map's labels (zh: Chinese, needs the font "
        "Noto Sans CJK SC; with --save: docs/img/crossover_map.zh.png). Redraw it from "
        "the saved run: --from-json bench/map.json --plot docs/img/crossover_map.zh.png "
        "--lang zh --force",
    )
    p.add_argument(
        "--force", action="store_true", help="replace an existing --json/--plot file"
    )
    p.add_argument(
        "--save",
        action="store_true",
        help="write bench/results.json and bench/bench.png (tracked files: the source "
        "of chapter 9's tables)",
    )
    p.add_argument(
        "--from-json",
        metavar="PATH",
        help="print the tables (and --plot) of an earlier run's JSON; time nothing",
    )
    p.add_argument(
        "--write-tables",
        metavar="FILE",
        action="append",
        help="with --from-json: rewrite the tables between the bench markers of FILE "
        "(e.g. docs/09-speed.md; repeatable)",
    )
    args = p.parse_args(argv)
    if args.save and args.only == "grade":
        args.json = args.json or str(HERE / "grading.json")
    elif args.save and args.only == "map":
        args.json = args.json or str(HERE / "map.json")
        end = "" if args.lang == "en" else f".{args.lang}"
        args.plot = args.plot or str(
            HERE.parent / "docs" / "img" / f"crossover_map{end}.png"
        )
    elif args.save:
        args.json = args.json or str(HERE / "results.json")
        args.plot = args.plot or str(HERE / "bench.png")
    try:  # a bad argument fails now, not after minutes of timing
        for value, name in [(args.rounds, "--rounds"), (args.threads, "--threads")]:
            if value is not None:
                refnet.validation.check_size(value, name)
        # --save rewrites the tracked files: asked for
        replace = args.force or args.save
        refnet.validation.check_output_folder(args.json, "--json", overwrite=replace)
        refnet.validation.check_output_folder(args.plot, "--plot", overwrite=replace)
        unknown = sorted(set(args.layout or []) - set(known_layouts()))
        if unknown:
            raise ValueError(
                f"--layout: unknown {', '.join(unknown)}; expected one of "
                f"{', '.join(known_layouts())}"
            )
        if args.from_json == "":
            raise ValueError(
                "--from-json: expected a results file path, got an empty one"
            )
        if args.lang != "en":  # the font, before minutes of timing
            bench_map.figure_lang().rc(args.lang)
        args.widths = _grid(args.widths, "--widths", bench_map.WIDTHS)
        args.batches = _grid(args.batches, "--batches", bench_map.BATCHES)
        if args.write_tables and args.from_json is None:
            raise ValueError(
                "--write-tables: needs --from-json (a run's JSON to print)"
            )
        for path in args.write_tables or []:
            if not Path(path).is_file():
                raise ValueError(f"--write-tables: no such file {path!r}")
    except (TypeError, ValueError, RuntimeError) as err:
        p.error(str(err))
    if args.from_json is not None:
        try:
            data = load_results(Path(args.from_json))
        except ValueError as err:
            p.error(str(err))
        try:
            return replay(
                data, args.from_json, args.plot, args.write_tables or [], args.lang
            )
        # a hand-edited file
        except (
            KeyError,
            TypeError,
            IndexError,
            AttributeError,
        ) as err:
            p.error(
                f"--from-json: {args.from_json!r} is not a results file written by python "
                f"-m bench --json ({type(err).__name__}: {err} in its rows)"
            )

    rounds = args.rounds or (5 if args.quick else 15)
    sample_s, budget_s = (0.02, 1.5) if args.quick else (0.05, 8.0)
    bc.set_threads(args.threads)
    env = bc.environment(with_tf=not args.no_tf)
    if args.only == "map":
        return run_map(args, env, argv)
    if args.only == "grade":
        data = bench_grading.run()
        print(bench_grading.table(data))
        if args.json:
            data = dict(_run_header(argv, env), **data)
            _write_atomic(Path(args.json), json.dumps(data, indent=1) + "\n")
        return 0
    header(env, rounds)
    rows, memory, fit = [], [], None
    if args.only != "fit":
        rows, memory = run_steps(args, rounds, sample_s, budget_s)
    if args.only != "step":
        fit_layouts = [x for x in args.layout or [] if x in bench_fit.LAYOUTS]
        if not args.layout or fit_layouts:
            fit = bench_fit.run_all(
                fit_layouts,
                rounds=max(3, rounds // 2),
                with_keras=not args.no_tf,
                busy=args.busy,
                log=lambda msg: print(msg, file=sys.stderr),
            )
    print()
    report(rows, memory, fit)

    if args.json:
        out = {
            **_run_header(argv, env),
            "rows": rows,
            "memory": memory,
            "fit": fit,
            "targets": {
                "floor": bc.FLOOR_TARGET,
                "best_tf": bc.TF_TARGET,
                "small": bc.SMALL_TARGET,
                "memory": bc.MEMORY_TARGET,
                "fit_loop": bench_fit.LOOP_TARGET,
                "fit_keras": bench_fit.KERAS_TARGET,
                "fit_old_policy": bench_fit.OLD_TARGET,
            },
        }
        _write_atomic(Path(args.json), json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.plot and rows:
        plot(rows, Path(args.plot))
        print(f"wrote {args.plot}")
    return 0


def _grid(text: str | None, flag: str, default) -> list[int]:
    """--widths/--batches: positive ints, comma-separated (None: the default grid)."""
    if text is None:
        return list(default)
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(
            f"{flag}: expected positive ints separated by commas, got {text!r}"
        ) from None
    for v in values:
        refnet.validation.check_size(v, flag)
    return values


def run_map(args, env: dict, argv) -> int:
    """The crossover map section (--only map): time, print, write what was asked."""
    print(
        f"numpy {env['numpy']}, {bc.describe_blas(env)}; {env['cpu_count']} CPUs; "
        f"load average {_load_average()}"
    )
    frameworks = [f for f in bench_map.FRAMEWORKS if not (args.no_tf and "tf" in f)]
    data = bench_map.run_map(
        args.widths,
        args.batches,
        rounds=args.rounds or (3 if args.quick else 5),
        sample_s=0.01 if args.quick else 0.02,
        frameworks=frameworks,
        log=lambda msg: print(msg, file=sys.stderr),
    )
    if args.no_tf:
        data["skipped"].update(
            dict.fromkeys(
                [f for f in bench_map.FRAMEWORKS if "tf" in f], "disabled (--no-tf)"
            )
        )
    print()
    bench_map.report(data)
    if args.json:
        out = {
            **_run_header(argv, env),
            "map": data,
        }
        _write_atomic(Path(args.json), json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.plot:
        bench_map.plot(data, Path(args.plot), args.lang)
        print(f"wrote {args.plot}")
    return 0


def run_steps(args, rounds: int, sample_s: float, budget_s: float):
    """The gradients-step section: every case's rows and the memory check."""
    selected = [
        c
        for c in bc.cases(args.quick, args.dtype or bc.DTYPES)
        if not args.layout or c.layout in args.layout
    ]
    rows = []
    for case in selected:
        t0 = time.perf_counter()
        steps, skipped = bc.all_steps(case, with_tf=not args.no_tf)
        skipped.update(bc.check(case, steps))
        samples = measure(steps, rounds, sample_s, budget_s)
        row = {
            "layout": case.layout,
            "batch": case.batch,
            "dtype": case.dtype,
            "skipped": skipped,
            **evaluate(case, samples),
        }
        row["floor_gflops"] = case.flops / row["times"]["floor"] / 1e9
        rows.append(row)
        print(
            f"  {case.id}: checked, timed in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
    memory = []
    if not args.layout or bc.MEMORY_CASE[0] in args.layout:
        for dtype in args.dtype or bc.DTYPES:
            case = bc.Case(*bc.MEMORY_CASE, dtype)
            peak, held = bc.memory(case)
            t = _target(peak / held, bc.MEMORY_TARGET)
            memory.append(
                {"case": case.id, "peak_bytes": peak, "held_bytes": held, **t}
            )
    return rows, memory


def _run_header(argv, env: dict) -> dict:
    """What every JSON this CLI writes starts with: the command, the environment and
    the load average when it ended."""
    return {
        "command": "python -m bench "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "environment": env,
        "load_average": _load_average(),
    }


def _load_average():
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    data = text.encode()
    atomic_write(path, lambda fh: fh.write(data), "--json")


def header(env: dict, rounds: int) -> None:
    print(
        f"numpy {env['numpy']}, {bc.describe_blas(env)}; {env['cpu_count']} CPUs; "
        f"OPENBLAS_CORETYPE={env.get('OPENBLAS_CORETYPE', '?')}"
    )
    if isinstance(env.get("tensorflow"), str) and "tf_onednn_enabled" in env:
        print(
            f"tensorflow {env['tensorflow']}, oneDNN enabled: {env['tf_onednn_enabled']} "
            f"(TF_ENABLE_ONEDNN_OPTS={env['TF_ENABLE_ONEDNN_OPTS']})"
        )
    print(
        f"step = forward + backward, relu hidden layers, linear output, loss {bc.LOSS}; "
        f"median of interleaved rounds (up to {rounds})"
    )


def load_results(path: Path) -> dict:
    """An earlier run's JSON; ValueError saying what is wrong with a missing or bad file."""
    if not path.is_file():
        raise ValueError(f"--from-json: no such file {str(path)!r}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"--from-json: {str(path)!r} is not JSON ({err})") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("environment"), dict)
        or not (
            isinstance(data.get("rows"), list)
            and (data["rows"] or data.get("fit"))
            or isinstance(data.get("map"), dict)
        )
    ):
        raise ValueError(
            f"--from-json: {str(path)!r} is not a results file written by "
            "python -m bench --json (expected 'environment' and 'rows' or 'fit')"
        )
    return data


def replay(
    data: dict, source: str, plot_path: str | None, write: list[str], lang: str = "en"
) -> int:
    """The tables of an earlier run, from its JSON; optionally into marked files (lang:
    of the map's plot)."""
    print(f"from {source}: {data.get('command', '?')}")
    if data.get("map"):
        bench_map.report(data["map"])
        if plot_path:
            bench_map.plot(data["map"], Path(plot_path), lang)
            print(f"wrote {plot_path}")
    if data.get("rows") or data.get("fit"):
        rounds = max([r["rounds"] for r in data["rows"]] or [0])
        header(data["environment"], rounds)
        print()
        report(data["rows"], data.get("memory", []), data.get("fit"))
        if plot_path and data["rows"]:
            plot(data["rows"], Path(plot_path))
            print(f"wrote {plot_path}")
    for path in write:
        # the Chinese page (NAME.zh.md) gets its own words around the same numbers
        zh = Path(path).name.endswith(".zh.md")
        done = write_tables(Path(path), markdown_blocks(data, "zh" if zh else "en"))
        print(f"wrote the {' and '.join(done) or 'no'} table(s) into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
