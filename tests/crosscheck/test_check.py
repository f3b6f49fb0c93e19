"""crosscheck's API: weight transfer both ways, compare's report, assert_match, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck import cli  # noqa: E402
from crosscheck.bugs import BiasGradMean  # noqa: E402

ALL_ACTIVATIONS = list(crosscheck.frameworks.tf.bridge.ACTIVATIONS)

# Keras' .keras saving calls np.array(x, copy=False) on NumPy 2: its warning, not ours.
KERAS_SAVE_WARNING = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


# --- to_keras / from_keras -------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_keras_same_weights_dtype_and_output(dtype, rng):
    net = refnet.Network.build([784, 256, 128, 10], seed=1, dtype=dtype)
    model = crosscheck.to_keras(net)
    assert [w.dtype for w in model.get_weights()] == [np.dtype(dtype)] * 6
    for got, want in zip(model.get_weights(), net.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert model.count_params() == net.count_params() == 235146
    X = rng.uniform(size=(3, 784)).astype(dtype)
    out = model(X).numpy()
    assert out.dtype == dtype
    row = crosscheck.compare_tensor(
        "output", net.forward(X), out, crosscheck.policy_rtol(dtype, 784)
    )
    assert row.ok, row


def test_activation_table_covers_refnet():
    """The Keras table lists exactly refnet's built-in activations, and the matrix runs
    every one of them."""
    assert sorted(ALL_ACTIVATIONS) == refnet.activations.names()
    from crosscheck.matrix import HIDDEN

    assert sorted(HIDDEN + ("softmax",)) == refnet.activations.names()


@pytest.mark.parametrize("name", ALL_ACTIVATIONS)
def test_every_activation_maps_to_keras_and_back(name, rng):
    """Each refnet activation becomes one Keras function whose values match refnet's f."""
    net = refnet.Network.build([3, 4], [name], seed=0)
    model = crosscheck.to_keras(net)
    back = crosscheck.from_keras(model)
    assert back.activations == ["silu" if name == "swish" else name]
    for got, want in zip(back.get_weights(), net.get_weights()):
        np.testing.assert_array_equal(got, want)
    z = rng.normal(size=(5, 4)) * 3
    tf_a = model.layers[0].activation(tf.constant(z)).numpy()
    rtol = max(1e-14, crosscheck.frameworks.tf.oracle.QUIRKS.get(name, (0,))[0])
    np.testing.assert_allclose(
        tf_a, refnet.activations.get(name).f(z), rtol=rtol, atol=rtol
    )


def test_gelu_is_exact_and_gelu_tanh_approximate(rng):
    z = tf.constant(np.linspace(-3, 3, 13))
    exact = keras.activations.gelu(z, approximate=False).numpy()
    approx = keras.activations.gelu(z, approximate=True).numpy()
    model = crosscheck.to_keras(
        refnet.Network([refnet.Dense(1, 13, "gelu"), refnet.Dense(13, 13, "gelu_tanh")])
    )
    np.testing.assert_array_equal(model.layers[0].activation(z).numpy(), exact)
    np.testing.assert_array_equal(model.layers[1].activation(z).numpy(), approx)
    assert np.abs(exact - approx).max() > 1e-4


def test_from_keras_reads_a_keras_built_model(rng):
    model = keras.Sequential(
        [
            keras.Input(shape=(5,)),
            keras.layers.Dense(7, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    net = crosscheck.from_keras(model)
    assert net.sizes == [5, 7, 3] and net.activations == ["relu", "softmax"]
    assert net.dtype == np.float32
    X = rng.normal(size=(4, 5)).astype(np.float32)
    assert crosscheck.compare(
        net, X, [0, 1, 2, 0], "categorical_cross_entropy", model=model
    ).ok


def test_from_keras_errors():
    with pytest.raises(TypeError, match="keras.Sequential"):
        crosscheck.from_keras("model.keras")
    norm = keras.Sequential(
        [
            keras.Input(shape=(3,)),
            keras.layers.Dense(4),
            keras.layers.LayerNormalization(),
        ]
    )
    with pytest.raises(
        TypeError, match=r"layers\[1\] \(LayerNormalization.*not supported"
    ):
        crosscheck.from_keras(norm)
    custom = keras.Sequential(
        [keras.Input(shape=(3,)), keras.layers.Dense(4, activation=lambda x: 2 * x)]
    )
    with pytest.raises(ValueError, match=r"layers\[0\].*activation"):
        crosscheck.from_keras(custom)
    relu6 = keras.Sequential(
        [keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu6")]
    )
    with pytest.raises(ValueError, match="expected one of"):
        crosscheck.from_keras(relu6)
    with pytest.raises(ValueError, match="built"):
        crosscheck.from_keras(keras.Sequential([keras.layers.Dense(4)]))


def test_to_keras_errors(monkeypatch):
    with pytest.raises(TypeError, match="refnet.Network"):
        crosscheck.to_keras([refnet.Dense(2, 2)])
    monkeypatch.setattr(
        refnet.activations, "_REGISTRY", dict(refnet.activations._REGISTRY)
    )
    refnet.activations.register("cube_for_test", lambda z: z**3, lambda z: 3 * z**2)
    net = refnet.Network([refnet.Dense(2, 2, "cube_for_test")])
    with pytest.raises(ValueError, match="no Keras counterpart"):
        crosscheck.to_keras(net)


# --- compare / assert_match ------------------------------------------------------------


def test_report_rows_order_and_table(rng):
    net = refnet.Network.build([3, 5, 4, 2], ["relu", "tanh", "linear"], seed=0)
    X = rng.normal(size=(6, 3))
    report = crosscheck.compare(net, X, [0, 1, 1, 0, 1, 0], "softmax_cross_entropy")
    names = [row.name for row in report.rows]
    assert names == ["loss", "output", "model(X)"] + [
        f"{q}{l}" for l in (3, 2, 1) for q in ("delta", "dW", "db")
    ]
    assert report.ok and report.first_failure is None
    text = str(report)
    for header in ("quantity", "max abs err", "rtol", "vs TF", "worst at"):
        assert header in text
    one = crosscheck.compare(
        net, X, [0, 1, 1, 0, 1, 0], "softmax_cross_entropy", oracle="tf"
    )
    assert "norm err" in str(one) and "vs TF" in str(one)
    assert "dW1" in text and "PASS" in text
    assert report.row("dW2").shape == (5, 4)
    row = report.row("delta3")
    assert row.max_abs_err <= row.atol + row.rtol * 1e3 and len(row.where) == 2


def test_compare_checks_the_subclass_gradients(rng):
    """compare calls net.gradients: a subclass's own (wrong) backprop is what is checked."""
    honest = refnet.Network.build([3, 5, 2], seed=0)
    net = BiasGradMean(honest.layers)
    X = rng.normal(size=(4, 3))
    report = crosscheck.compare(net, X, [0, 1, 1, 0], "softmax_cross_entropy")
    assert not report.ok and report.first_failure.name == "db2"
    assert "BiasGradMean" in report.title and "FAIL: first mismatch at db2" in str(
        report
    )
    with pytest.raises(AssertionError) as info:
        crosscheck.assert_match(net, X, [0, 1, 1, 0], "softmax_cross_entropy")
    assert "quantity" in str(info.value) and "db2" in str(info.value)
    assert crosscheck.assert_match(honest, X, [0, 1, 1, 0], "softmax_cross_entropy").ok


def test_compare_refuses_other_weights_and_bad_input(rng):
    net = refnet.Network.build([3, 5, 2], seed=0)
    other = crosscheck.to_keras(refnet.Network.build([3, 5, 2], seed=1))
    X = rng.normal(size=(4, 3))
    with pytest.raises(ValueError, match="weights"):
        crosscheck.compare(net, X, [0, 1, 1, 0], "softmax_cross_entropy", model=other)
    with pytest.raises(TypeError, match="net"):
        crosscheck.compare("net", X, [0, 1, 1, 0])
    with pytest.raises(ValueError, match="X"):
        crosscheck.compare(net, X[:, :2], [0, 1, 1, 0], "softmax_cross_entropy")
    with pytest.raises(ValueError, match="loss"):
        crosscheck.compare(net, X, [0, 1, 1, 0], "poisson")


def test_target_forms_int_ids_and_probability_rows(rng):
    """int ids take Keras' sparse path, probability rows the dense one: both agree."""
    net = refnet.Network.build([4, 6, 3], ["tanh", "linear"], seed=2)
    X = rng.normal(size=(5, 4))
    ids = rng.integers(0, 3, 5)
    assert crosscheck.compare(net, X, ids, "softmax_cross_entropy").ok
    assert crosscheck.compare(
        net, X, rng.dirichlet(np.ones(3), 5), "softmax_cross_entropy"
    ).ok
    soft = refnet.Network.build([4, 6, 3], ["tanh", "softmax"], seed=2)
    assert crosscheck.compare(soft, X, ids, "categorical_cross_entropy").ok
    assert crosscheck.compare(soft, X, np.eye(3)[ids], "categorical_cross_entropy").ok


def test_report_to_dict_is_json(rng):
    net = refnet.Network.build([3, 5, 2], seed=0)
    report = crosscheck.compare(
        net, rng.normal(size=(2, 3)), [0, 1], "softmax_cross_entropy"
    )
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["rows"][0]["name"] == "loss"


# --- the CLI -------------------------------------------------------------------------------


def test_cli_custom_layout_passes(capsys, tmp_path):
    out = tmp_path / "r.json"
    code = cli.main(
        [
            "--layout",
            "3-5-2",
            "--activations",
            "relu,linear",
            "--batch",
            "4",
            "--json",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "3-5-2 relu,linear softmax_cross_entropy float32" in text and "PASS" in text
    data = json.loads(out.read_text())
    assert data["ok"] and len(data["cases"]) == 2  # both dtypes
    assert {row["name"] for row in data["cases"][0]["rows"]} >= {
        "loss",
        "output",
        "delta1",
        "dW2",
        "db1",
    }


def test_cli_matrix_slice_passes(capsys):
    code = cli.main(
        ["--dtype", "float64", "--loss", "binary_cross_entropy", "--no-training"]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert (
        "binary_cross_entropy float64" in text
        and "float32" not in text.split("\n", 2)[2]
    )


def test_cli_summary_has_no_tol1_figure_for_quirk_rows_only(capsys):
    """A float64 leaky_relu network against TF has only quirk rows (own rtol): the
    summary's err/scale, which leaves them out, has nothing to show, not 0."""
    code = cli.main(
        [
            "--layout",
            "4-8-3",
            "--activations",
            "leaky_relu,linear",
            "--dtype",
            "float64",
            "--oracle",
            "tf",
        ]
    )
    summary = capsys.readouterr().out.strip().splitlines()[-2]
    assert code == 0
    assert "worst err/scale float64 - (quirk rows apart)" in summary, summary


def test_cli_exits_1_on_mismatch(capsys, monkeypatch):
    """A wrong backprop in the matrix: exit 1, the failing case's table is printed."""
    from crosscheck import matrix

    def buggy(case):
        net = refnet.Network.build(
            list(case.layout), list(case.activations), seed=case.seed, dtype=case.dtype
        )
        return BiasGradMean(net.layers)

    monkeypatch.setattr(matrix, "build_net", buggy)
    code = cli.main(["--layout", "3-5-2", "--dtype", "float64", "--batch", "4"])
    text = capsys.readouterr().out
    assert code == 1
    assert "FAIL at db2" in text and "first mismatch at db2" in text


@KERAS_SAVE_WARNING
def test_cli_keras_model(tmp_path, capsys):
    net = refnet.Network.build([6, 8, 3], ["gelu_tanh", "softmax"], seed=0)
    path = tmp_path / "m.keras"
    crosscheck.to_keras(net).save(path)
    code = cli.main(["--keras", str(path), "--batch", "5"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "6-8-3 gelu_tanh,softmax categorical_cross_entropy float64" in text


def test_cli_bad_options(capsys):
    assert cli.main(["--layout", "3-x-2"]) == 2
    assert cli.main(["--layout", "3-5-2", "--activations", "relu,nope"]) == 2
    assert cli.main(["--layout", "3-5-2", "--activations", "relu,relu,relu"]) == 2
    assert cli.main(["--layout", "3-5-2", "--batch", "0"]) == 2
    assert cli.main(["--layout", "3-5-2", "--json", "/nonexistent-dir/out.json"]) == 2
    err = capsys.readouterr().err
    assert "--layout" in err and "nope" in err and "--activations" in err
    assert "--batch: expected a positive int, got 0" in err
    assert "--json: expected an existing folder" in err
    with pytest.raises(SystemExit):
        cli.main(["--loss", "poisson"])


def test_python_dash_m_crosscheck(tmp_path):
    """The module entry point: exit 0 and the table on a passing network."""
    import sys

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "crosscheck",
            "--layout",
            "3-5-2",
            "--dtype",
            "float64",
            "--batch",
            "3",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "delta1" in proc.stdout and "PASS" in proc.stdout


def test_cli_plain_progress_without_tqdm(capsys, monkeypatch):
    """Without tqdm the progress is a plain counter on stderr."""

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm -> ImportError
    assert cli.main(["--layout", "2-3-2", "--batch", "2"]) == 0
    assert "crosscheck: 2/2" in capsys.readouterr().err


@KERAS_SAVE_WARNING
def test_cli_keras_bad_files(tmp_path, capsys):
    assert cli.main(["--keras", str(tmp_path / "missing.keras")]) == 2
    assert "--keras: expected a saved .keras or .h5 file" in capsys.readouterr().err
    norm = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(3),
            keras.layers.LayerNormalization(),
        ]
    )
    path = tmp_path / "norm.keras"
    norm.save(path)
    assert cli.main(["--keras", str(path)]) == 2
    assert "LayerNormalization" in capsys.readouterr().err


def test_crosscheck_reports_overflow_on_both_sides_as_nonfinite_not_pass():
    """The review's reproducer: inputs of 1e308 overflow in both refnet and TF."""
    pytest.importorskip("tensorflow")
    import crosscheck

    net = refnet.Network.build([3, 5, 2], ["linear", "linear"], seed=0)
    W = net.get_weights()
    W[0][:] = 1
    W[2][:] = 1
    net.set_weights(W)
    with np.errstate(over="ignore", invalid="ignore"):
        report = crosscheck.compare(
            net, np.full((4, 3), 1e308), np.zeros((4, 2)), "mse"
        )
    assert not report.ok
    assert report.row("loss").verdict == "NONFINITE"
    assert "NONFINITE: both sides hold NaN or inf" in str(report)


@pytest.mark.parametrize("c", [-1, float("nan"), 1e30, 0])
def test_compare_refuses_a_meaningless_safety_factor(c):
    pytest.importorskip("tensorflow")
    import crosscheck

    net = refnet.Network.build([3, 2], seed=0)
    with pytest.raises(ValueError, match="c: expected a safety factor"):
        crosscheck.compare(net, np.ones((2, 3)), np.zeros((2, 2)), "mse", c=c)
