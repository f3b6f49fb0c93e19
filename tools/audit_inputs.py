"""Bad-input audit: try hand-written bad inputs on every public entry point and classify.

Each case is one call with one bad argument (the others valid). Outcomes:

- ``clear``: ValueError / TypeError / FileNotFoundError (or, at a CLI, exit 2) whose
  message starts with the argument's name (the flag, at a CLI): what was expected and what
  was received follow.
- ``unnamed``: such an error, but the message does not start with the argument's name.
- ``crash``: any other exception, or a CLI traceback.
- ``silent``: no error at all (the bad input was accepted).

    python tools/audit_inputs.py            # the figures, and every case that is not clear
    python tools/audit_inputs.py --all      # every case with its outcome

The same table as the reliability review's (bad inputs tried, clear errors, errors not
naming the argument, crashes, silent acceptances). tests/test_bad_inputs.py asserts that
every case is clear.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib.util
import io
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import refnet  # noqa: E402
from refnet import datasets, optimizers  # noqa: E402

NAN, INF = float("nan"), float("inf")

# Bad values by what the argument expects.
BAD_SIZE = [0, -1, 2.5, "3", None, True, [3], np.nan]  # a positive int
BAD_FLOAT_POS = [0, -0.1, NAN, INF, -INF, "0.1", None, True, [0.1], 1j]  # a float > 0
BAD_UNIT = [-0.1, 1.5, NAN, INF, "0.9", None, True, [0.9]]  # a float in [0, 1)
BAD_BOOL = [1, 0, "yes", None, 1.0]
BAD_SEED = [-1, "abc", 1.5, True, [1, -2], 1j]
BAD_NAME = [None, 3, "nope", ["relu"], b"relu"]
BAD_DTYPE = ["int32", "float16", None, 3, "complex128", "nope"]
BAD_PATH = [None, 3, 2.5, True, b"", ""]


def bad_X(n_in: int = 3):
    """Bad X for a network with n_in inputs."""
    return [
        None, "abc", 3.0, np.ones(n_in), np.ones((2, n_in + 1)), np.ones((0, n_in)),
        np.ones((2, n_in, 1)), np.full((2, n_in), NAN), np.full((2, n_in), INF),
        np.array([["a"] * n_in] * 2), np.ones((2, n_in), complex), [[1, 2], [3]],
        np.full((2, n_in), 1e300).tolist() if False else np.array([[1e39] * n_in], dtype=object),
        np.ones((2, n_in), dtype=object),
    ]  # fmt: skip


def cases() -> list[tuple[str, str, Callable[[], object]]]:
    """(area, argument name, call) for every bad input."""
    out = []

    def add(area, name, fn):
        out.append((area, name, fn))

    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])
    Y2 = np.random.default_rng(1).normal(size=(5, 2))

    # --- Python API: building -------------------------------------------------------------
    for v in BAD_SIZE + [10**30, [], [3], "3-x-2", "3--2", [[3, 2]]]:
        add("api", "sizes", lambda v=v: refnet.Network.build(v if isinstance(v, (list, str)) else [3, v]))
    for v in [5, ["relu"], ["relu", "nope"], [None, "linear"], ["relu"] * 3]:
        add("api", "activations", lambda v=v: refnet.Network.build([3, 4, 2], v))
    for v in ["nope", None, ["zeros"], 3]:
        add("api", "init", lambda v=v: refnet.Network.build([3, 4, 2], init=v))
    for v in BAD_SEED:
        add("api", "seed", lambda v=v: refnet.Network.build([3, 4, 2], seed=v))
    for v in BAD_DTYPE:
        add("api", "dtype", lambda v=v: refnet.Network.build([3, 4, 2], dtype=v))
    for v in BAD_SIZE + [10**30]:
        add("api", "n_in", lambda v=v: refnet.Dense(v, 2))
        add("api", "n_out", lambda v=v: refnet.Dense(2, v))
    for v in BAD_NAME:
        add("api", "activation", lambda v=v: refnet.Dense(2, 2, v))
    for v in [None, refnet.Dense(3, 3), [], [refnet.Dense(3, 4), refnet.Dense(5, 2)], [3]]:
        add("api", "layers", lambda v=v: refnet.Network(v))
    for v in BAD_SIZE + ["3-x"]:
        add("api", "sizes", lambda v=v: refnet.count_params(v if isinstance(v, str) else [3, v]))

    # --- Python API: forward, gradients, weights --------------------------------------------
    for v in bad_X():
        add("api", "X", lambda v=v: net.forward(v))
        add("api", "X", lambda v=v: net.gradients(v, y[:2], "softmax_cross_entropy"))
        add("api", "X", lambda v=v: net.predict(v))
    for v in [None, "a", y[:3], np.array([0, 1, 2, 0, 1]), np.array([-1, 0, 0, 0, 0]),
              np.array([0.5, 1, 1, 0, 1]), np.full(5, NAN), np.ones((5, 3)) / 3,
              np.full((5, 2), 0.7), np.array([[1, 0]] * 5, dtype=object)]:  # fmt: skip
        add("api", "Y", lambda v=v: net.gradients(X, v, "softmax_cross_entropy"))
    for v in [np.ones((5, 3)), np.full((5, 2), NAN), np.ones(5), "a", np.ones((4, 2))]:
        add("api", "Y", lambda v=v: net.gradients(X, v, "mse"))
    for v in [np.full((5, 2), 1.5), np.full((5, 2), -0.5)]:
        add("api", "Y", lambda v=v: net.gradients(X, v, "binary_cross_entropy"))
    for v in BAD_NAME:
        add("api", "loss", lambda v=v: net.gradients(X, Y2, v))
    for v in [None, 3, [np.ones((3, 4))], [np.ones((4, 3)), np.ones(4), np.ones((4, 2)), np.ones(2)],
              [np.full((3, 4), NAN), np.ones(4), np.ones((4, 2)), np.ones(2)],
              [np.ones((3, 4), str), np.ones(4), np.ones((4, 2)), np.ones(2)],
              [[[1], [2, 3]], np.ones(4), np.ones((4, 2)), np.ones(2)], np.ones((3, 4))]:  # fmt: skip
        add("api", "weights", lambda v=v: refnet.Network.build([3, 4, 2]).set_weights(v))

    # --- Python API: training ---------------------------------------------------------------
    def fit(**kw):
        args = {"epochs": 1, "batch_size": 2, "progress": False} | kw
        opt, x = args.pop("optimizer", "sgd"), args.pop("X", X)
        return refnet.Network.build([3, 4, 2], seed=0).fit(x, y, "softmax_cross_entropy", opt, **args)

    for v in BAD_SIZE:
        add("api", "epochs", lambda v=v: fit(epochs=v))
        add("api", "batch_size", lambda v=v: fit(batch_size=v))
    for v in BAD_SEED:
        add("api", "seed", lambda v=v: fit(seed=v))
    for v in [None, 3, "nope", object()]:
        add("api", "optimizer", lambda v=v: fit(optimizer=v))
    for v in [3, (X,), (X, y[:2]), (np.ones((5, 4)), y), "val"]:
        add("api", "validation_data", lambda v=v: fit(validation_data=v))
    for v in BAD_FLOAT_POS:
        add("api", "learning_rate", lambda v=v: optimizers.SGD(learning_rate=v))
        add("api", "learning_rate", lambda v=v: optimizers.Adam(learning_rate=v))
        add("api", "epsilon", lambda v=v: optimizers.RMSprop(epsilon=v))
    for v in BAD_UNIT:
        add("api", "momentum", lambda v=v: optimizers.SGD(momentum=v))
        add("api", "beta_1", lambda v=v: optimizers.Adam(beta_1=v))
        add("api", "beta_2", lambda v=v: optimizers.Adam(beta_2=v))
        add("api", "rho", lambda v=v: optimizers.RMSprop(rho=v))
    for v in BAD_BOOL:
        add("api", "nesterov", lambda v=v: optimizers.SGD(nesterov=v))
        add("api", "amsgrad", lambda v=v: optimizers.Adam(amsgrad=v))
    for v in [0, -1, NAN, INF]:
        add("api", "decay_steps", lambda v=v: optimizers.ExponentialDecay(0.1, v, 0.5))
    for kw, name in [({"step": 0}, "step"), ({"step": NAN}, "step"), ({"rtol": -1}, "rtol"),
                     ({"rtol": NAN}, "rtol"), ({"max_entries": 0}, "max_entries"),
                     ({"max_entries": 2.5}, "max_entries"), ({"seed": -1}, "seed")]:  # fmt: skip
        add("api", name, lambda kw=kw: refnet.gradcheck(net, X, y, "softmax_cross_entropy", **kw))
    add("api", "net", lambda: refnet.gradcheck("net", X, y))

    def shared_optimizer():  # W8: one optimizer object, a second net of the same shape
        opt = optimizers.Adam()
        fit(optimizer=opt)
        return fit(optimizer=opt)

    add("api", "optimizer", shared_optimizer)
    if importlib.util.find_spec("torch") is not None:  # C7: tensors NumPy cannot read
        import torch

        for t in [torch.ones(5, 3, dtype=torch.float64, requires_grad=True),
                  torch.ones(5, 3, dtype=torch.bfloat16)]:  # fmt: skip
            add("api", "X", lambda t=t: net.gradients(t, y, "softmax_cross_entropy"))
            add("api", "X", lambda t=t: fit(X=t))
        y_grad = torch.tensor(y, dtype=torch.float64, requires_grad=True)
        add("api", "Y", lambda: net.gradients(X, y_grad, "softmax_cross_entropy"))
        W_grad = torch.ones(3, 4, dtype=torch.float64, requires_grad=True)
        add("api", "weights", lambda: net.set_weights([W_grad] + net.get_weights()[1:]))

    # --- persistence and data ---------------------------------------------------------------
    tmp = Path(tempfile.mkdtemp(prefix="refnet-audit-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    text = tmp / "notes.txt"
    text.write_text("not a model")
    fifo = tmp / "pipe"
    os.mkfifo(fifo)  # stands for /dev/full: a special file must never be replaced
    for v in BAD_PATH + [tmp, fifo]:
        add("files", "path", lambda v=v: net.save(v))
    for v in BAD_PATH + [tmp / "absent.npz", text, tmp]:
        add("files", "path", lambda v=v: refnet.Network.load(v))
    for v in BAD_PATH + [tmp / "absent", text]:
        add("files", "path", lambda v=v: datasets.load_mnist(v))
    for v in BAD_DTYPE:
        add("files", "dtype", lambda v=v: datasets.load_mnist(tmp, dtype=v))
    if importlib.util.find_spec("sklearn") is not None:  # digits ship with scikit-learn
        for v in [0, 1, 1.5, -0.1, NAN, "0.2", None, True, 0.9999]:
            add("files", "test_size", lambda v=v: datasets.digits(test_size=v))
        for v in BAD_SEED:
            add("files", "seed", lambda v=v: datasets.digits(seed=v))
    return out


def cli_cases() -> list[tuple[str, str, list[str]]]:
    """(program, flag blamed, argv) for bad command lines."""
    out = []
    for flag, values in {
        "--layout": ["3-x-2", "0-2", "3", "abc"],
        "--activations": ["nope", "relu,relu,relu,relu,relu,relu"],
        "--loss": ["nope"],
        "--optimizer": ["nope"],
        "--learning-rate": ["0", "-1", "nan", "x"],
        "--epochs": ["0", "-1", "x"],
        "--batch-size": ["0", "-3", "x"],
        "--seed": ["-1", "x"],
        "--dtype": ["int32"],
        "--save": [tempfile.gettempdir(), "/nonexistent/m.npz", "/dev/null"],
        "--plot": [tempfile.gettempdir(), "/nonexistent/p.png"],
    }.items():
        for v in values:
            out.append(("refnet train", flag, ["train", "digits", flag, v, "--epochs", "1"]
                        if flag != "--epochs" else ["train", "digits", flag, v]))  # fmt: skip
    for v in ["3-x-2", "0-2", "3"]:
        out.append(("refnet summary", "layout", ["summary", v]))
    for v in ["nope", "relu,relu,relu"]:
        out.append(("refnet summary", "--activations", ["summary", "3-5-2", "--activations", v]))
    out.append(("refnet train", "--data", ["train", "mnist", "--data", "/nonexistent"]))
    return out


# Arguments whose errors rightly name a part: validation_data's X_val and Y_val.
PARTS = {"validation_data": {"X_val", "Y_val"}}


def classify_error(err: BaseException, name: str, value=None) -> str:
    if not isinstance(err, (ValueError, TypeError, FileNotFoundError, IsADirectoryError)):
        return "crash"
    message = str(err)
    names = {name, name.lstrip("-").replace("-", "_"), *PARTS.get(name, ())}
    head = re.match(r"^\W*([\w.-]+)", message)
    if head and head.group(1).split("[")[0] in names:
        return "clear"
    # a file's loader may start with the file itself ("/data/mnist.npz: not a valid ...")
    if isinstance(value, (str, os.PathLike)) and str(value) and message.startswith(str(value)):
        return "clear"
    return "unnamed"


def run_api(area, name, fn) -> tuple[str, str]:
    value = (fn.__defaults__ or (None,))[0]
    with warnings_ignored(), contextlib.redirect_stderr(io.StringIO()):
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - classifying is the point
            return classify_error(err, name, value), f"{type(err).__name__}: {err}"[:160]
    return "silent", "accepted"


def run_cli(program, flag, argv) -> tuple[str, str]:
    from refnet.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), warnings_ignored():
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        except Exception as exc:  # noqa: BLE001
            return "crash", f"{type(exc).__name__}: {exc}"[:160]
    message = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
    if code in (0, None):
        return "silent", "exit 0"
    if code != 2:
        return "crash", f"exit {code}: {message}"[:160]
    body = message.split("error: ", 1)[-1]
    bare = flag.lstrip("-")
    named = body.startswith((flag, f"argument {flag}", f"argument {bare}", bare))
    return ("clear" if named else "unnamed"), message[:160]


@contextlib.contextmanager
def warnings_ignored():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


def audit() -> list[tuple[str, str, str, str]]:
    """(area, argument, outcome, detail) for every case."""
    rows = [(area, name, *run_api(area, name, fn)) for area, name, fn in cases()]
    os.environ.setdefault("MPLBACKEND", "Agg")
    rows += [("cli", flag, *run_cli(p, flag, argv)) for p, flag, argv in cli_cases()]
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    rows = audit()
    by_area: dict[str, Counter] = {}
    for area, _, outcome, _ in rows:
        by_area.setdefault(area, Counter())[outcome] += 1
    print(f"{'area':<8}{'tried':>7}{'clear':>7}{'unnamed':>9}{'crash':>7}{'silent':>8}")
    total = Counter()
    for area, c in by_area.items():
        total += c
        print(f"{area:<8}{sum(c.values()):>7}{c['clear']:>7}{c['unnamed']:>9}{c['crash']:>7}{c['silent']:>8}")
    n = sum(total.values())
    print(f"{'total':<8}{n:>7}{total['clear']:>7}{total['unnamed']:>9}{total['crash']:>7}{total['silent']:>8}"
          f"   ({100 * total['clear'] / n:.0f} % clear)")  # fmt: skip
    for area, name, outcome, detail in rows:
        if args.all or outcome != "clear":
            print(f"  {outcome:<8}{area:<6}{name:<16}{detail}")
    return 0 if total["clear"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
