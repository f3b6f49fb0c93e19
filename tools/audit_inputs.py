"""Bad-input audit: try hand-written bad inputs on every public entry point and classify.

Each case is one call with one bad argument (the others valid). Outcomes:

- ``clear``: ValueError / TypeError / FileNotFoundError (or, at a CLI, exit 2) whose
  message starts with the argument's name (the flag, at a CLI): what was expected and what
  was received follow.
- ``unnamed``: such an error, but the message does not start with the argument's name.
- ``crash``: any other exception, or a CLI traceback.
- ``silent``: no error at all (the bad input was accepted; for ``python -m bench``, the run
  got past its argument checks to where timing starts, which the audit stops).

A saved file must be refused with a ValueError naming the file, and no code from it may
run: every Lambda and pickle in the crafted files would create a marker file, and a case
after which the marker exists is a crash.

Areas: ``api``, ``files`` and ``cli`` (refnet's Python API, loaders and ``refnet`` CLI),
``crosscheck api`` (to_keras, from_keras, compare, assert_match, compare_training,
to_torch, from_torch, to_jax, from_jax, check_backprop), ``keras files``
(load_keras_file on pickles, Lambda layers in .keras and .h5 files, a Lambda or a module
path injected into config.json, zip bombs (config.json, weights), empty, truncated and
text files, a folder), ``crosscheck cli`` (``python -m crosscheck`` and ``crosscheck
mine``, with ``--keras`` on those files) and ``bench cli`` (``python -m bench``). The
TensorFlow, PyTorch and JAX cases are left out where the framework is absent.

    python tools/audit_inputs.py            # the figures, and every case that is not clear
    python tools/audit_inputs.py --all      # every case with its outcome

The same table as the reliability review's (bad inputs tried, clear errors, errors not
naming the argument, crashes, silent acceptances). tests/test_bad_inputs.py asserts that
every case is clear (781 cases with TensorFlow and PyTorch installed).
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
        None,
        "abc",
        3.0,
        np.ones(n_in),
        np.ones((2, n_in + 1)),
        np.ones((0, n_in)),
        np.ones((2, n_in, 1)),
        np.full((2, n_in), NAN),
        np.full((2, n_in), INF),
        np.array([["a"] * n_in] * 2),
        np.ones((2, n_in), complex),
        [[1, 2], [3]],
        np.full((2, n_in), 1e300).tolist()
        if False
        else np.array([[1e39] * n_in], dtype=object),
        np.ones((2, n_in), dtype=object),
    ]


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
        add(
            "api",
            "sizes",
            lambda v=v: refnet.Network.build(
                v if isinstance(v, (list, str)) else [3, v]
            ),
        )
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
    for v in [
        None,
        refnet.Dense(3, 3),
        [],
        [refnet.Dense(3, 4), refnet.Dense(5, 2)],
        [3],
    ]:
        add("api", "layers", lambda v=v: refnet.Network(v))
    for v in BAD_SIZE + ["3-x"]:
        add(
            "api",
            "sizes",
            lambda v=v: refnet.count_params(v if isinstance(v, str) else [3, v]),
        )

    # --- Python API: forward, gradients, weights --------------------------------------------
    for v in bad_X():
        add("api", "X", lambda v=v: net.forward(v))
        add("api", "X", lambda v=v: net.gradients(v, y[:2], "softmax_cross_entropy"))
        add("api", "X", lambda v=v: net.predict(v))
    for v in [
        None,
        "a",
        y[:3],
        np.array([0, 1, 2, 0, 1]),
        np.array([-1, 0, 0, 0, 0]),
        np.array([0.5, 1, 1, 0, 1]),
        np.full(5, NAN),
        np.ones((5, 3)) / 3,
        np.full((5, 2), 0.7),
        np.array([[1, 0]] * 5, dtype=object),
    ]:
        add("api", "Y", lambda v=v: net.gradients(X, v, "softmax_cross_entropy"))
    for v in [np.ones((5, 3)), np.full((5, 2), NAN), np.ones(5), "a", np.ones((4, 2))]:
        add("api", "Y", lambda v=v: net.gradients(X, v, "mse"))
    for v in [np.full((5, 2), 1.5), np.full((5, 2), -0.5)]:
        add("api", "Y", lambda v=v: net.gradients(X, v, "binary_cross_entropy"))
    for v in BAD_NAME:
        add("api", "loss", lambda v=v: net.gradients(X, Y2, v))
    for v in [
        None,
        3,
        [np.ones((3, 4))],
        [np.ones((4, 3)), np.ones(4), np.ones((4, 2)), np.ones(2)],
        [np.full((3, 4), NAN), np.ones(4), np.ones((4, 2)), np.ones(2)],
        [np.ones((3, 4), str), np.ones(4), np.ones((4, 2)), np.ones(2)],
        [[[1], [2, 3]], np.ones(4), np.ones((4, 2)), np.ones(2)],
        np.ones((3, 4)),
    ]:
        add(
            "api", "weights", lambda v=v: refnet.Network.build([3, 4, 2]).set_weights(v)
        )

    # --- Python API: training ---------------------------------------------------------------
    def fit(**kw):
        args = {"epochs": 1, "batch_size": 2, "progress": False} | kw
        opt, x = args.pop("optimizer", "sgd"), args.pop("X", X)
        return refnet.Network.build([3, 4, 2], seed=0).fit(
            x, y, "softmax_cross_entropy", opt, **args
        )

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
    for kw, name in [
        ({"step": 0}, "step"),
        ({"step": NAN}, "step"),
        ({"rtol": -1}, "rtol"),
        ({"rtol": NAN}, "rtol"),
        ({"max_entries": 0}, "max_entries"),
        ({"max_entries": 2.5}, "max_entries"),
        ({"seed": -1}, "seed"),
    ]:
        add(
            "api",
            name,
            lambda kw=kw: refnet.gradcheck(net, X, y, "softmax_cross_entropy", **kw),
        )
    add("api", "net", lambda: refnet.gradcheck("net", X, y))
    # issue 19: the schedules, dropout and the new losses' targets
    for v in [0, -1, NAN, INF, "5", None]:
        add("api", "decay_steps", lambda v=v: optimizers.InverseTimeDecay(0.1, v, 0.5))
        add("api", "total_steps", lambda v=v: optimizers.OneCycle(0.1, v))
    for v in [-0.5, NAN, "1", None, True]:
        add("api", "decay_rate", lambda v=v: optimizers.InverseTimeDecay(0.1, 5, v))
        add("api", "power", lambda v=v: optimizers.InverseTimeDecay(0.1, 5, 1, power=v))
    for v in [0.0, 1.0, -0.1, NAN, "0.3", None]:
        add("api", "pct_start", lambda v=v: optimizers.OneCycle(0.1, 10, pct_start=v))
    for v in ["cosine", ["cos"], None, 1]:
        add(
            "api",
            "anneal_strategy",
            lambda v=v: optimizers.OneCycle(0.1, 10, anneal_strategy=v),
        )
    for v in [1.0, -0.1, NAN, INF, "0.5", None, True, [0.5]]:
        add("api", "dropout", lambda v=v: refnet.Dense(3, 4, dropout=v))
        add("api", "dropout", lambda v=v: refnet.Network.build([3, 4, 2], dropout=v))
    dropping = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0, dropout=0.5)
    ones = np.ones((5, 4))
    for v in [
        [ones],
        [ones[:, :3], None],
        [ones * 3, None],
        [-ones * 2, None],
        [ones.astype(bool), None],  # keep flags, not the scaled mask 0 or 2
        "masks",
        -1,
        [np.full((5, 4), np.nan), None],
    ]:
        add(
            "api",
            "masks",
            lambda v=v: dropping.gradients(X, y, "softmax_cross_entropy", masks=v),
        )
    for loss, target in [
        ("hinge", np.full((5, 2), 0.5)),
        ("squared_hinge", np.array([[2.0, -1.0]] * 5)),
        ("kl_divergence", np.full((5, 2), -0.5)),
        ("categorical_hinge", np.array([0, 1, 2, 0, 1])),
    ]:
        add("api", "Y", lambda loss=loss, t=target: net.gradients(X, t, loss))

    def shared_optimizer():  # W8: one optimizer object, a second net of the same shape
        opt = optimizers.Adam()
        fit(optimizer=opt)
        return fit(optimizer=opt)

    add("api", "optimizer", shared_optimizer)
    if importlib.util.find_spec("torch") is not None:  # C7: tensors NumPy cannot read
        import torch

        for t in [
            torch.ones(5, 3, dtype=torch.float64, requires_grad=True),
            torch.ones(5, 3, dtype=torch.bfloat16),
        ]:
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
    for v in BAD_PATH + [tmp, fifo, tmp / ("a" * 5000 + ".npz"), str(tmp / "m\0.npz")]:
        add("files", "path", lambda v=v: net.save(v))
    # round three: masked arrays (their masked values would be used), an l2 that can
    # only overflow
    masked = np.ma.masked_invalid(np.where(X > 1, np.nan, X))
    add("api", "X", lambda: net.forward(masked))
    add("api", "X", lambda: net.gradients(masked, y, "softmax_cross_entropy"))
    add(
        "api",
        "Y",
        lambda: net.gradients(X, np.ma.array(y, mask=y > 0), "softmax_cross_entropy"),
    )
    add("api", "l2", lambda: net.gradients(X, y, "softmax_cross_entropy", l2=1e308))
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
    """(area, flag blamed, argv) for bad refnet command lines."""
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
        "--dropout": ["1", "-0.1", "nan", "x"],
        "--dtype": ["int32"],
        "--save": [tempfile.gettempdir(), "/nonexistent/m.npz", "/dev/null"],
        "--plot": [tempfile.gettempdir(), "/nonexistent/p.png"],
    }.items():
        for v in values:
            out.append(
                (
                    "cli",
                    flag,
                    ["train", "digits", flag, v, "--epochs", "1"]
                    if flag != "--epochs"
                    else ["train", "digits", flag, v],
                )
            )
    for v in ["3-x-2", "0-2", "3"]:
        out.append(("cli", "layout", ["summary", v]))
    for v in ["nope", "relu,relu,relu"]:
        out.append(("cli", "--activations", ["summary", "3-5-2", "--activations", v]))
    out.append(("cli", "--data", ["train", "mnist", "--data", "/nonexistent"]))
    return out


# ---------------------------------------------------------------------------------------
# crosscheck: the Python API, the saved Keras files, and the CLIs
# ---------------------------------------------------------------------------------------

HAS_TF = importlib.util.find_spec("tensorflow") is not None
HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_JAX = importlib.util.find_spec("jax") is not None
ORACLE = "torch" if HAS_TORCH else "tf"  # the quicker oracle for the CLI's base command


def _tmp() -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="refnet-audit-"))
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    return tmp


class CodeRan(RuntimeError):
    """Code from an untrusted file ran: the worst outcome, counted as a crash."""


def _refused_naming(path, fn, marker: Path):
    """Call fn; a ValueError must name the file, and the marker must not appear."""
    try:
        fn()
    except ValueError as err:
        if marker.exists():
            raise CodeRan(f"{path}: code from the file ran") from None
        if os.fspath(path) not in str(err):
            raise ValueError(f"(the file is not named) {err}") from None
        raise
    if marker.exists():
        raise CodeRan(f"{path}: code from the file ran")


def keras_fixtures(tmp: Path) -> dict[str, Path]:
    """Saved models and crafted files for the keras files and crosscheck cli areas.

    Every Lambda's function would create ``tmp/ran`` when called; ``marker`` is that path
    (removed after saving: Keras calls the Lambda while building the model)."""
    import json
    import pickle
    import zipfile

    from crosscheck.frameworks.tf.imports import tf_and_keras

    _, keras = tf_and_keras()
    marker = tmp / "ran"
    files = {"marker": marker}
    touch = eval(
        f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]"
    )

    def dense_model():
        return keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(2, name="dense1")]
        )

    files["ok"] = tmp / "ok.keras"
    dense_model().save(files["ok"])
    lam = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Lambda(touch, name="touch"),
            keras.layers.Dense(2),
        ]
    )
    files["lambda"] = tmp / "lambda.keras"
    lam.save(files["lambda"])
    files["lambda_h5"] = tmp / "lambda.h5"
    lam.save(files["lambda_h5"])
    conv = keras.Sequential(
        [
            keras.Input((4, 4, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    files["conv"] = tmp / "conv.keras"
    conv.save(files["conv"])
    marker.unlink(missing_ok=True)

    with zipfile.ZipFile(files["lambda"]) as z:
        # [0]: Input
        lambda_layer = json.loads(z.read("config.json"))["config"]["layers"][1]
    with zipfile.ZipFile(files["ok"]) as z:
        members = {name: z.read(name) for name in z.namelist()}
    config = json.loads(members["config.json"])

    def rezip(name: str, config_bytes: bytes) -> Path:
        path = tmp / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for member, data in members.items():
                z.writestr(member, config_bytes if member == "config.json" else data)
        return path

    injected = json.loads(json.dumps(config))
    injected["config"]["layers"].insert(1, lambda_layer)  # after the InputLayer
    files["inject_lambda"] = rezip("inject_lambda.keras", json.dumps(injected).encode())
    for i, (module, cls, cfg) in enumerate(
        [
            ("os", "system", f"touch {marker}"),
            (
                "builtins",
                "eval",
                f"__import__('pathlib').Path({str(marker)!r}).touch()",
            ),
            ("subprocess", "Popen", {"args": ["touch", str(marker)]}),
        ]
    ):
        bad = json.loads(json.dumps(config))
        layer = bad["config"]["layers"][-1]
        layer.update(module=module, class_name=cls, config=cfg, registered_name=None)
        files[f"inject_module{i}"] = rezip(
            f"inject_module{i}.keras", json.dumps(bad).encode()
        )
    # a zip bomb: a valid config.json padded to 80 MB, about 80 kB zipped
    files["bomb"] = rezip("bomb.keras", json.dumps(config).encode() + b" " * (80 << 20))
    files["weights_bomb"] = tmp / "weights_bomb.keras"  # 80 MB of zeros as the weights
    with zipfile.ZipFile(files["weights_bomb"], "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, bytes(80 << 20) if member.endswith(".h5") else data)

    class Touch:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    files["pickle"] = tmp / "pickle.keras"
    files["pickle"].write_bytes(pickle.dumps(Touch()))
    files["pickle_h5"] = tmp / "pickle.h5"
    files["pickle_h5"].write_bytes(pickle.dumps(Touch()))
    files["pickle_zip"] = tmp / "pickle_zip.keras"  # a zip whose config is a pickle
    with zipfile.ZipFile(files["pickle_zip"], "w") as z:
        z.writestr("config.json", pickle.dumps(Touch()))
        z.writestr("model.pkl", pickle.dumps(Touch()))
    files["empty"] = tmp / "empty.keras"
    files["empty"].write_bytes(b"")
    files["text"] = tmp / "notes.keras"
    files["text"].write_text("not a model\n")
    files["truncated"] = tmp / "truncated.keras"
    files["truncated"].write_bytes(files["ok"].read_bytes()[:300])
    files["folder"] = tmp / "folder.keras"
    files["folder"].mkdir()
    files["missing"] = tmp / "absent.keras"
    _round_three_fixtures(files, tmp)
    return files


def _round_three_fixtures(files: dict, tmp: Path) -> None:
    """A config nested 100,000 levels deep, one declaring Dense(units=1e9), and an
    uppercase .KERAS name: each refused before Keras reads it."""
    import json
    import zipfile

    def with_config(name: str, text: str) -> Path:
        out = tmp / name
        with zipfile.ZipFile(files["ok"]) as src, zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                data = text if info.filename == "config.json" else src.read(info)
                dst.writestr(info, data)
        return out

    files["deep"] = with_config("deep.keras", '{"a":' * 100_000 + "1" + "}" * 100_000)
    with zipfile.ZipFile(files["ok"]) as archive:
        config = json.loads(archive.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer.get("class_name") == "Dense":
            layer["config"]["units"] = 1_000_000_000
    files["huge"] = with_config("huge.keras", json.dumps(config))
    files["upper"] = tmp / "MODEL.KERAS"
    files["upper"].write_bytes(files["ok"].read_bytes())


def keras_file_cases(files: dict[str, Path]) -> list:
    from crosscheck.frameworks.tf.files import load_keras_file

    marker = files["marker"]
    return [
        (
            "keras files",
            "path",
            lambda p=files[key]: _refused_naming(p, lambda: load_keras_file(p), marker),
        )
        for key in [
            "pickle",
            "pickle_h5",
            "pickle_zip",
            "lambda",
            "lambda_h5",
            "inject_lambda",
            "inject_module0",
            "inject_module1",
            "inject_module2",
            "bomb",
            "weights_bomb",
            "empty",
            "text",
            "truncated",
            "folder",
            "missing",
            "deep",
            "huge",
            "upper",
        ]
    ]


def crosscheck_cases() -> list:
    """(area, argument, call) for the crosscheck Python API."""
    import crosscheck
    from crosscheck.mine import network_fn

    out = []

    def add(name, fn):
        out.append(("crosscheck api", name, fn))

    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    y = np.array([0, 1, 1, 0, 1])
    oracle = ORACLE

    def compare(**kw):
        args = {
            "net": net,
            "X": X,
            "Y": y,
            "loss": "softmax_cross_entropy",
            "oracle": oracle,
        } | kw
        return crosscheck.compare(args.pop("net"), args.pop("X"), args.pop("Y"), **args)

    for v in ["net", None, [np.ones((3, 4))]]:
        add("net", lambda v=v: compare(net=v))
    for v in [
        None,
        "abc",
        np.ones(3),
        np.ones((5, 4)),
        np.full((5, 3), NAN),
        np.ones((0, 3)),
    ]:
        add("X", lambda v=v: compare(X=v))
    for v in [y[:3], np.array([0, 1, 2, 0, 1]), np.full(5, NAN), "y"]:
        add("Y", lambda v=v: compare(Y=v))
    for v in ["nope", None, 3]:
        add("loss", lambda v=v: compare(loss=v))
    for v in [-1, 0, NAN, INF, 1e30, "1", None, True]:
        add("c", lambda v=v: compare(c=v))
    for v in [-1, NAN, INF, "0.1", [0.1]]:
        add("l2", lambda v=v: compare(l2=v))
    for v in [1, "yes", None]:
        add("dX", lambda v=v: compare(dX=v))
    for v in ["nope", 3, ("tf", "nope"), "", ()]:
        add("oracle", lambda v=v: compare(oracle=v))
    for v in ["no", 1, None]:
        add("quirks", lambda v=v: compare(quirks=v))
    add("net", lambda: crosscheck.assert_match("net", X, y, "softmax_cross_entropy"))
    add("loss", lambda: crosscheck.assert_match(net, X, y, "nope", oracle=oracle))
    add("c", lambda: crosscheck.assert_match(net, X, y, "softmax_cross_entropy", c=-1))

    def train(**kw):
        args = {
            "net": net,
            "X": X,
            "Y": y,
            "loss": "softmax_cross_entropy",
            "optimizer": optimizers.SGD(0.1),
            "steps": 2,
            "oracle": oracle,
        } | kw
        return crosscheck.compare_training(**args)

    for v in ["nope", None, 3, object(), optimizers.SGD]:
        add("optimizer", lambda v=v: train(optimizer=v))
    for v in [0, -1, 2.5, "3", None, True]:
        add("steps", lambda v=v: train(steps=v))
    for v in ["nope", None, 3]:
        add("gradients", lambda v=v: train(gradients=v))
    for v in [0, -3, 2.5, "2", True]:
        add("batch_size", lambda v=v: train(batch_size=v))
    for v in [1, "yes", None]:
        add("mirror", lambda v=v: train(mirror=v))
        add("convert", lambda v=v: train(convert=v))
    for v in ["nope", (), 3, "keras", ("tf", "nope")]:  # None: every installed one
        add("oracle", lambda v=v: train(oracle=v))
    add("net", lambda: train(net="net"))
    add("X", lambda: train(X=np.ones((5, 4))))
    add("Y", lambda: train(Y=y[:3]))
    add("loss", lambda: train(loss="nope"))

    fn = network_fn(refnet.Network, ["tanh", "linear"], "softmax_cross_entropy")

    def mine(**kw):
        args = {
            "fn": fn,
            "sizes": [3, 4, 2],
            "activations": ["tanh", "linear"],
            "loss": "softmax_cross_entropy",
            "tensorflow": False,
        } | kw
        return crosscheck.check_backprop(**args)

    for v in [None, "backprop", 3]:
        add("fn", lambda v=v: mine(fn=v))
    for v in ["3-x-2", [3], [3, 0, 2], None, [3, 2.5, 2]]:
        add("sizes", lambda v=v: mine(sizes=v))
    for v in ["nope", ["relu"] * 3, None, 3]:
        add("activations", lambda v=v: mine(activations=v))
    for v in ["nope", None]:
        add("loss", lambda v=v: mine(loss=v))
    for v in ["nope", None, 3]:
        add("convention", lambda v=v: mine(convention=v))
    for name, v in [
        ("samples", "diagonal"),
        ("weights_layout", "nope"),
        ("reduction", "max"),
        ("bias_shape", None),
        ("l2", -1),
        ("l2", NAN),
        ("l2", "0.1"),
        ("lr", 0.1),
    ]:
        add(name, lambda name=name, v=v: mine(**{name: v}))
    good_w = net.get_weights()
    for v in [
        "w",
        good_w[:2],
        [good_w[0].T, *good_w[1:]],
        [np.full((3, 4), NAN), *good_w[1:]],
    ]:
        add("weights", lambda v=v: mine(weights=v))
    for v in ["X", np.ones((8, 4)), np.full((8, 3), NAN)]:
        add("X", lambda v=v: mine(X=v, Y=np.zeros(8, int)))
    for v in [np.zeros(3, int), np.full(8, 5), "Y"]:
        add("Y", lambda v=v: mine(X=np.ones((8, 3)), Y=v))
    for v in ["int32", "float16", None]:
        add("dtype", lambda v=v: mine(dtype=v))
    for v in [0, -1, 2.5, "8", True]:
        add("batch", lambda v=v: mine(batch=v))
    for v in [-1, "abc", 1.5]:
        add("seed", lambda v=v: mine(seed=v))
    add("tensorflow", lambda: mine(tensorflow="yes"))
    for v in ["fr", "ZH", "zh_CN", "", 1]:
        add("lang", lambda v=v: mine(lang=v))
    for v in ["nope", (), 3, ("torch", "caffe")]:
        add("oracle", lambda v=v: mine(oracle=v))
    _grading_api_cases(add, fn)

    if HAS_TORCH:
        import torch

        nn = torch.nn
        for v in ["net", None, nn.Linear(3, 2)]:
            add("net", lambda v=v: crosscheck.to_torch(v))
        nan_linear = nn.Linear(3, 2)
        with torch.no_grad():
            nan_linear.weight.fill_(NAN)
        for v in [
            None,
            "module",
            nn.Linear(3, 2),
            nn.Sequential(nn.Conv2d(1, 2, 3)),
            nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)),
            nn.Sequential(nn.Linear(3, 4), nn.Linear(5, 2)),
            nn.Sequential(nn.Linear(3, 2).half()),
            nn.Sequential(),
            nn.Sequential(nn.ReLU(), nn.Linear(3, 2)),
            nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Tanh()),
            nn.Sequential(nan_linear),
            net,
        ]:
            add("module", lambda v=v: crosscheck.from_torch(v))
        for v in _odd_torch_modules(torch):
            add("module", lambda v=v: crosscheck.from_torch(v))

    if HAS_JAX:
        for v in ["net", None, [(np.ones((3, 2)), None)]]:
            add("net", lambda v=v: crosscheck.to_jax(v))
        good = [(np.ones((3, 4)), np.zeros(4)), (np.ones((4, 2)), None)]
        for v in [
            None,
            "params",
            np.ones((3, 2)),
            [],
            [(np.ones((3, 2)),)],
            [(np.ones(3), None)],
            [(np.ones((3, 2), int), None)],
            [(np.ones((3, 2)), np.ones(3))],
            [(np.full((3, 2), NAN), None)],
            [good[0], (np.ones((5, 2)), None)],
            [good[0], (np.ones((4, 2), np.float32), None)],
        ]:
            add("params", lambda v=v: crosscheck.from_jax(v, ["relu"] * 2))
        for v in ["relu", ["relu"], ["relu", "mish"], ["relu", 3], None]:
            add("activations", lambda v=v: crosscheck.from_jax(good, v))
        for v in [(2, 2), (0,), "3", (-3,)]:
            add(
                "input_shape",
                lambda v=v: crosscheck.from_jax(good, ["relu", "linear"], v),
            )

    if HAS_TF:
        from crosscheck.frameworks.tf.imports import tf_and_keras

        _, keras = tf_and_keras()
        for v in ["net", None]:
            add("net", lambda v=v: crosscheck.to_keras(v))
        for v in [-1, NAN, INF, "0.1"]:
            add("l2", lambda v=v: crosscheck.to_keras(net, l2=v))

        def seq(*layers, shape=(3,)):
            return keras.Sequential([keras.Input(shape), *layers])

        nan_model = crosscheck.to_keras(net)
        nan_model.set_weights([np.full_like(w, NAN) for w in net.get_weights()])
        other = crosscheck.to_keras(
            refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=1)
        )
        half = seq(keras.layers.Dense(2, dtype="float16"))
        mixed = seq(
            keras.layers.Dense(4, activation="tanh", dtype="mixed_float16"),
            keras.layers.Dense(2, dtype="mixed_float16"),
        )
        models = {
            "not a model": "model",
            "None": None,
            "a refnet net": net,
            "unbuilt": keras.Sequential([keras.layers.Dense(2)]),
            "Conv2D": seq(
                keras.layers.Conv2D(2, 2),
                keras.layers.Flatten(),
                keras.layers.Dense(2),
                shape=(4, 4, 1),
            ),
            "BatchNorm": seq(keras.layers.Dense(4), keras.layers.BatchNormalization()),
            "Lambda": seq(keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)),
            "NaN kernel": nan_model,
            "float16": half,
            "mixed_float16": mixed,
            "3-D input": seq(keras.layers.Dense(2), shape=(2, 3)),
        }
        for v in models.values():
            add("model", lambda v=v: crosscheck.from_keras(v))
        net32 = refnet.Network.build(
            [3, 4, 2], ["tanh", "linear"], seed=0, dtype="float32"
        )
        for v in [nan_model, other, mixed, "model", crosscheck.to_keras(net32)]:
            add("model", lambda v=v: compare(model=v, oracle="tf"))
    return out


def _odd_torch_modules(torch) -> list:
    """Round three: modules whose layers do not say what they compute, or have no
    usable weights (meta device, bfloat16, an uninitialised LazyLinear, no outputs)."""
    nn = torch.nn

    class Shifted(nn.Linear):
        def forward(self, x):
            return super().forward(x) + 2.0

    hooked = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    hooked[2].register_forward_hook(lambda m, inp, out: out * 1.1)
    return [
        nn.Sequential(Shifted(3, 2)),
        hooked,
        nn.Sequential(nn.Linear(3, 2, device="meta")),
        nn.Sequential(nn.Linear(3, 2).to(torch.bfloat16)),
        nn.Sequential(nn.LazyLinear(2)),
        nn.Sequential(nn.Linear(3, 0)),
    ]


def _grading_api_cases(add, fn) -> None:
    """crosscheck.grading: grade (a class folder, a rubric, the results folder) and
    assert_backprop; none may grade anyone."""
    from crosscheck.grading import assert_backprop, grade
    from crosscheck.grading.rubric import from_data

    tmp = _tmp() / "grading-api"
    (tmp / "hw").mkdir(parents=True, exist_ok=True)
    (tmp / "hw" / "ada.py").write_text("def backprop(weights, X, Y):\n    return []\n")
    (tmp / "file.txt").write_text("")
    rubric = from_data(
        dict(
            function="backprop",
            case=[dict(name="p", layout="3-4-2", activations="tanh", loss="mse")],
        )
    )

    def graded(**kw):
        args = dict(submissions=tmp / "hw", rubric=rubric, out=tmp / "out") | kw
        return grade(args.pop("submissions"), args.pop("rubric"), **args)

    for v in [None, 3, tmp / "absent", tmp / "file.txt"]:
        add("submissions", lambda v=v: graded(submissions=v))
    for v in [None, 3, tmp / "absent.toml", tmp / "file.txt"]:
        add("rubric", lambda v=v: graded(rubric=v))
    for v in [tmp / "file.txt", tmp / "hw" / "out"]:
        add("out", lambda v=v: graded(out=v))
    for v in [0, -1, 1.5, True, "2"]:
        add("workers", lambda v=v: graded(workers=v))
    for v in [None, "backprop", 3]:
        add("fn", lambda v=v: assert_backprop(v, [3, 4, 2], "tanh", "mse"))
    add("sizes", lambda: assert_backprop(fn, "3-x-2", "tanh", "mse"))


def crosscheck_cli_cases(tmp: Path, files: dict[str, Path] | None) -> list:
    """(area, flag blamed, argv) for python -m crosscheck and crosscheck mine."""
    out = []
    base = [
        "--layout",
        "3-4-2",
        "--dtype",
        "float64",
        "--batch",
        "4",
        "--oracle",
        ORACLE,
    ]

    def add(flag, argv):
        out.append(("crosscheck cli", flag, argv))

    def with_flag(flag, value):
        argv = list(base)
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
        return argv

    existing = tmp / "exists.json"
    existing.write_text("{}")
    for flag, values in {
        "--layout": ["3-x-2", "0-2", "3", ""],
        "--activations": ["nope", "relu,relu,relu", ","],
        "--loss": ["nope"],
        "--dtype": ["int32", "float16"],
        "--batch": ["0", "-1", "x"],
        "--seed": ["-1", "x", "1.5"],
        "--oracle": ["nope", "tf,nope", ",", ""],
        "--json": [str(tmp), "/nonexistent/r.json", str(existing), "/dev/null", ""],
    }.items():
        for v in values:
            add(flag, with_flag(flag, v))
    add("--activations", ["--activations", "nope", "--no-training"])  # a matrix filter
    add(
        "--batch",
        ["--batch", "0", "--dtype", "float64", "--loss", "mse", "--no-training"],
    )
    add("--keras", ["--keras", ""])
    add("--keras", ["--keras", str(tmp / "absent.keras")])
    add("--keras", ["--keras", str(tmp)])
    if files is not None:
        for key in [
            "text",
            "truncated",
            "empty",
            "conv",
            "lambda",
            "lambda_h5",
            "pickle",
            "inject_lambda",
            "inject_module0",
            "bomb",
        ]:
            add("--keras", ["--keras", str(files[key]), "--oracle", "tf"])
    mynet = tmp / "mynet.py"
    mynet.write_text(
        "import numpy as np\n\n\ndef backprop(weights, X, Y):\n"
        "    return [np.zeros_like(w) for w in weights]\n"
    )
    good = f"{mynet}:backprop"
    mine = [
        "mine",
        good,
        "--layout",
        "3-4-2",
        "--activations",
        "tanh,linear",
        "--loss",
        "mse",
        "--no-tensorflow",
    ]

    def mine_with(flag, value):
        argv = list(mine)
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
        return argv

    for target in [
        f"{tmp}/absent.py:backprop",
        f"{mynet}:nope",
        str(mynet),
        f"{tmp}:backprop",
        f"{existing}:backprop",
    ]:
        add(target, [mine[0], target, *mine[2:]])
    for flag, values in {
        "--layout": ["3-x-2", "3"],
        "--activations": ["nope", "relu,relu,relu"],
        "--loss": ["nope"],
        "--convention": ["nope", "Keras"],
        "--oracle": ["nope", "tf,nope", ","],
        "--samples": ["diagonal"],
        "--l2": ["-1", "nan", "x"],
        "--dtype": ["int32"],
        "--batch": ["0", "x"],
        "--seed": ["-1", "x"],
        "--json": [str(tmp), str(existing)],
        "--lang": ["fr", "zh_CN"],
    }.items():
        for v in values:
            add(flag, mine_with(flag, v))
    out += _grade_cases(tmp, mynet, existing)
    return out


def _grade_cases(tmp: Path, mynet: Path, existing: Path) -> list:
    """(area, flag blamed, argv) for crosscheck grade; none may grade anyone."""
    hw = tmp / "hw"
    hw.mkdir(exist_ok=True)
    (hw / "ada.py").write_text(mynet.read_text())
    rubrics = {
        "bad_toml": 'function = "backprop"\n[[case]\n',
        "no_case": 'function = "backprop"\n',
        "bad_points": 'function = "backprop"\n[[case]]\nname = "p"\nlayout = "3-4-2"\n'
        'activations = "tanh"\nloss = "mse"\npoints = { dV = 1 }\n',
        "no_secret": 'function = "backprop"\n[[case]]\nname = "h"\nhidden = true\n'
        'layout = "3-4-2"\nactivations = "tanh"\nloss = "mse"\n',
    }
    for name, text in rubrics.items():
        (tmp / f"{name}.toml").write_text(text)
    grade = ["grade", str(hw), "--function", "backprop", "--layout", "3-4-2"]
    grade += ["--activations", "tanh,linear", "--loss", "mse", "--secret", "s", "-q"]

    def grade_with(flag, value):
        argv = list(grade)
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
        return argv

    out = [
        ("crosscheck cli", "SUBMISSIONS", ["grade", str(tmp / "absent"), *grade[2:]])
    ]
    out.append(("crosscheck cli", "SUBMISSIONS", ["grade", str(mynet), *grade[2:]]))
    for flag, values in {
        "--function": ["not a name", "1st"],
        "--layout": ["3-x-2", "3"],
        "--activations": ["nope", "relu,relu,relu"],
        "--loss": ["nope"],
        "--convention": ["nope"],
        "--samples": ["diagonal"],
        "--batch": ["0", "x"],
        "--hidden": ["-1", "x"],
        "--workers": ["0", "x"],
        "--timeout": ["0", "x"],
        "--memory": ["lots", "-1 GB"],
        "--out": [str(existing), str(hw / "inside")],
        "--gradescope": [str(tmp), "/nonexistent/r.json"],
        "--lang": ["fr"],
    }.items():
        for v in values:
            out.append(("crosscheck cli", flag, grade_with(flag, v)))
    # a rubric replaces the network's flags: given alone, and once with one of them
    for v in [str(tmp / "absent.toml"), *(str(tmp / f"{n}.toml") for n in rubrics)]:
        out.append(("crosscheck cli", "--rubric", ["grade", str(hw), "--rubric", v]))
    rubric = ["--rubric", str(tmp / "no_case.toml")]
    out.append(("crosscheck cli", "--layout", [*grade, *rubric]))
    return out


def bench_cli_cases(tmp: Path) -> list:
    """(area, flag blamed, argv) for python -m bench; none may start timing."""
    import json

    out = []
    existing = tmp / "exists.json"
    existing.write_text("{}")
    no_rows = tmp / "no_rows.json"
    no_rows.write_text(json.dumps({"environment": {}, "rows": [], "fit": None}))
    bad_rows = tmp / "bad_rows.json"
    bad_rows.write_text(json.dumps({"environment": {}, "rows": [{"layout": "3-5-3"}]}))
    listing = tmp / "list.json"
    listing.write_text("[]")
    text = tmp / "notes.txt"
    text.write_text("not JSON")
    base = ["--quick", "--no-tf", "--only", "step", "--layout", "784-256-128-10"]

    def add(flag, *argv):
        out.append(("bench cli", flag, [*base, *argv]))

    for v in ["3-5-3", "abc", ""]:
        out.append(("bench cli", "--layout", ["--quick", "--no-tf", "--layout", v]))
    out.append(
        ("bench cli", "--layout", ["--quick", "--no-tf", "--save", "--layout", "3-5-3"])
    )
    for v in ["0", "-1", "x"]:
        add("--rounds", "--rounds", v)
        add("--threads", "--threads", v)
    add("--dtype", "--dtype", "int32")
    add("--only", "--only", "nope")
    for v in [str(tmp), "/nonexistent/r.json", str(existing), "/dev/null", ""]:
        add("--json", "--json", v)
    for v in [str(tmp), "/nonexistent/p.png", ""]:
        add("--plot", "--plot", v)
    add("--json", "--save", "--json", "/nonexistent/r.json")
    for v in [
        str(tmp / "absent.json"),
        str(text),
        str(no_rows),
        str(listing),
        str(bad_rows),
        str(tmp),
        "",
    ]:
        out.append(("bench cli", "--from-json", ["--from-json", v]))
    out.append(("bench cli", "--write-tables", ["--write-tables", str(text), *base]))
    out.append(
        (
            "bench cli",
            "--write-tables",
            [
                "--from-json",
                str(ROOT / "bench" / "results.json"),
                "--write-tables",
                str(tmp / "absent.md"),
            ],
        )
    )
    return out


# Arguments whose errors rightly name a part: validation_data's X_val and Y_val.
PARTS = {"validation_data": {"X_val", "Y_val"}}


def classify_error(err: BaseException, name: str, value=None) -> str:
    if not isinstance(
        err, (ValueError, TypeError, FileNotFoundError, IsADirectoryError)
    ):
        return "crash"
    message = str(err)
    names = {name, name.lstrip("-").replace("-", "_"), *PARTS.get(name, ())}
    head = re.match(r"^\W*([\w.-]+)", message)
    # "sizes[1]: ..." and "model.layers[0] (Dense 'd1'): ..." name a part of the argument
    if head and re.split(r"[\[.]", head.group(1))[0] in names:
        return "clear"
    # a file's loader may start with the file itself ("/data/mnist.npz: not a valid ...")
    if (
        isinstance(value, (str, os.PathLike))
        and str(value)
        and message.startswith(str(value))
    ):
        return "clear"
    return "unnamed"


def run_api(area, name, fn) -> tuple[str, str]:
    value = (fn.__defaults__ or (None,))[0]
    with warnings_ignored(), contextlib.redirect_stderr(io.StringIO()):
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - classifying is the point
            return classify_error(err, name, value), f"{type(err).__name__}: {err}"[
                :160
            ]
    return "silent", "accepted"


class TimingStarted(RuntimeError):
    """python -m bench went past its argument checks: the bad flag was accepted."""


def _programs():
    """area -> (program's main(argv), the prefix its error messages carry)."""
    import bench.__main__ as bench_main
    import crosscheck.cli
    import refnet.cli

    return {
        "cli": (refnet.cli.main, "refnet: "),
        "crosscheck cli": (crosscheck.cli.main, "crosscheck( mine| grade)?: "),
        "bench cli": (bench_main.main, "python -m bench: "),
    }


@contextlib.contextmanager
def no_timing():
    """python -m bench raises TimingStarted where it would start timing."""
    from unittest import mock

    import bench.__main__ as bench_main

    def refuse(*_, **__):
        raise TimingStarted("timing started: the bad flag was not refused")

    with (
        mock.patch.object(bench_main.bc, "set_threads", refuse),
        mock.patch.object(bench_main, "run_steps", refuse),
    ):
        yield


def run_cli(area, flag, argv, main=None, prefix="refnet: ") -> tuple[str, str]:
    """Run ``main(argv)`` in-process and classify its exit status and last stderr line."""
    if main is None:
        from refnet.cli import main
    err = io.StringIO()
    with (
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
        warnings_ignored(),
        no_timing(),
    ):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
        except TimingStarted as exc:
            return "silent", str(exc)
        except Exception as exc:  # noqa: BLE001
            return "crash", f"{type(exc).__name__}: {exc}"[:160]
    message = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
    if code in (0, None):
        return "silent", "exit 0"
    if code != 2:
        return "crash", f"exit {code}: {message}"[:160]
    body = re.sub(f"^{prefix}", "", message.split("error: ", 1)[-1])
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


def audit(areas=None) -> list[tuple[str, str, str, str]]:
    """(area, argument, outcome, detail) for every case (of ``areas``: None for all)."""
    want = (lambda area: True) if areas is None else (lambda area: area in areas)
    rows = [
        (area, name, *run_api(area, name, fn))
        for area, name, fn in cases()
        if want(area)
    ]
    os.environ.setdefault("MPLBACKEND", "Agg")
    programs = _programs()
    commands = [c for c in cli_cases() if want(c[0])]
    tmp = _tmp()
    files = (
        keras_fixtures(tmp)
        if HAS_TF and (want("keras files") or want("crosscheck cli"))
        else None
    )
    if want("crosscheck api"):
        rows += [(a, n, *run_api(a, n, fn)) for a, n, fn in crosscheck_cases()]
    if files is not None and want("keras files"):
        rows += [(a, n, *run_api(a, n, fn)) for a, n, fn in keras_file_cases(files)]
    if want("crosscheck cli"):
        commands += crosscheck_cli_cases(tmp, files)
    if want("bench cli"):
        commands += bench_cli_cases(tmp)
    marker = files["marker"] if files is not None else None
    for area, flag, argv in commands:
        outcome = run_cli(area, flag, argv, *programs[area])
        if marker is not None and marker.exists():  # a --keras file's code ran
            marker.unlink()
            outcome = ("crash", f"code from {argv[argv.index(flag) + 1]} ran")
        rows.append((area, flag, *outcome))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="print every case")
    args = parser.parse_args(argv)
    rows = audit()
    by_area: dict[str, Counter] = {}
    for area, _, outcome, _ in rows:
        by_area.setdefault(area, Counter())[outcome] += 1
    print(
        f"{'area':<16}{'tried':>7}{'clear':>7}{'unnamed':>9}{'crash':>7}{'silent':>8}"
    )
    total = Counter()
    for area, c in by_area.items():
        total += c
        print(
            f"{area:<16}{sum(c.values()):>7}{c['clear']:>7}{c['unnamed']:>9}{c['crash']:>7}{c['silent']:>8}"
        )
    n = sum(total.values())
    print(
        f"{'total':<16}{n:>7}{total['clear']:>7}{total['unnamed']:>9}{total['crash']:>7}{total['silent']:>8}"
        f"   ({100 * total['clear'] / n:.0f} % clear)"
    )
    for area, name, outcome, detail in rows:
        if args.all or outcome != "clear":
            print(f"  {outcome:<8}{area:<16}{name:<16}{detail}")
    return 0 if total["clear"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
