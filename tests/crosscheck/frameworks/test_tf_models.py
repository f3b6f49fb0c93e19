"""The Keras models the tutorials write, crosschecked from their saved files (issue 11).

Each pattern is built in Keras, compiled as the tutorials compile it, saved as ``.keras``
and legacy ``.h5``, and run through ``crosscheck --keras PATH`` (``cli.main``, plus a
real ``python -m crosscheck`` subprocess for the first pattern): exit 0 and PASS, the
compiled loss named. Expected values are TensorFlow's own (the model's ``model(X)`` and
tf.GradientTape); refusals must name the layer (index, class, name).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck import cli  # noqa: E402
from crosscheck.frameworks.tf.files import compiled_loss  # noqa: E402
from crosscheck.frameworks.tf.models import read_chain  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
L = keras.layers

# Keras' .keras saving calls np.array(x, copy=False) on NumPy 2 (its warning, not ours);
# .h5 saving warns that the format is legacy.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def save(model, folder, name):
    """The model saved as name.keras and name.h5; returns both paths."""
    paths = [folder / f"{name}.keras", folder / f"{name}.h5"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in paths:
            model.save(path)
    return paths


def tutorial_784_512_10():
    model = keras.Sequential(
        [
            keras.Input((784,)),
            L.Dense(512, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def flatten_256_128_10():
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            L.Flatten(),
            L.Dense(256, activation="relu"),
            L.Dense(128, activation="relu"),
            L.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def with_dropout():
    model = keras.Sequential(
        [
            keras.Input((28, 28)),
            L.Flatten(),
            L.Dense(32, activation="relu"),
            L.Dropout(0.2),
            L.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def separate_softmax():
    model = keras.Sequential(
        [
            keras.Input((12,)),
            L.Dense(16, activation="tanh"),
            L.Dense(5),
            L.Activation("softmax"),
        ]
    )
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def leaky_03():
    model = keras.Sequential(
        [keras.Input((12,)), L.Dense(16), L.LeakyReLU(negative_slope=0.3), L.Dense(4)]
    )
    model.compile(
        optimizer="sgd", loss=keras.losses.CategoricalCrossentropy(from_logits=True)
    )
    return model


def no_bias():
    model = keras.Sequential(
        [
            keras.Input((12,)),
            L.Dense(16, activation="relu", use_bias=False),
            L.Dense(6, use_bias=False),
            L.ReLU(),
            L.Dense(3),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


def functional_chain():
    inputs = keras.Input((4, 7))
    x = L.Flatten()(inputs)
    x = L.Dense(16, activation="sigmoid")(x)
    x = L.Dropout(0.5)(x)
    outputs = L.Dense(3)(x)
    model = keras.Model(inputs, outputs)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


PATTERNS = {
    "784-512-10 softmax rmsprop categorical_crossentropy": (
        tutorial_784_512_10,
        "784-512-10 relu,softmax categorical_cross_entropy",
        "compiled loss 'categorical_crossentropy'",
    ),
    "Flatten 256-128-10 sparse_categorical_crossentropy": (
        flatten_256_128_10,
        "784-256-128-10 relu,relu,softmax categorical_cross_entropy",
        "sparse_categorical_crossentropy",
    ),
    "Dropout": (
        with_dropout,
        "784-32-10 relu,softmax",
        "Dropout(rate=0.2) is the identity",
    ),
    "Activation(softmax) layer": (
        separate_softmax,
        "12-16-5 tanh,softmax categorical_cross_entropy",
        "Activation 'activation'",
    ),
    "LeakyReLU(0.3) layer": (
        leaky_03,
        "12-16-4 leaky_relu(0.3),linear softmax_cross_entropy",
        "from_logits=True",
    ),
    "use_bias=False": (no_bias, "12-16-6-3 relu,relu,linear mse", "'mse'"),
    "Functional chain": (
        functional_chain,
        "28-16-3 sigmoid,linear softmax_cross_entropy",
        "X: shape (8, 4, 7)",
    ),
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_tutorial_pattern_passes_from_keras_and_h5(pattern, tmp_path, capsys):
    build, label, note = PATTERNS[pattern]
    keras.utils.set_random_seed(0)
    for path in save(build(), tmp_path, "model"):
        code = cli.main(["--keras", str(path), "--batch", "8"])
        out = capsys.readouterr()
        assert code == 0, out.out + out.err
        assert label in out.out and note in out.out, out.out
        assert "note: loss: " in out.out and "PASS" in out.out
        assert "model(X)" in out.out


def test_python_dash_m_crosscheck_keras_and_h5(tmp_path):
    """The real command, as docs/10-check-your-own.md shows it, on both formats."""
    keras.utils.set_random_seed(0)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    for path in save(tutorial_784_512_10(), tmp_path, "tutorial"):
        proc = subprocess.run(
            [sys.executable, "-m", "crosscheck", "--keras", str(path), "--batch", "8"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "PASS: refnet matches TensorFlow" in proc.stdout
        assert "from the model's compiled loss" in proc.stdout
        # a softmax output: the note says refnet checks LS3 where Keras' fit uses LS2
        assert "LS3" in proc.stdout and "LS2" in proc.stdout


# --- what is read: flatten order, folded layers, compiled losses ------------------------


def test_flatten_is_row_major_on_a_non_square_input():
    """(4, 7): a column-major flatten would put X[i, 1, 0] at position 1, not 7. The
    Keras model's own output on (n, 4, 7) inputs is the reference."""
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [
            keras.Input((4, 7), dtype="float64"),
            L.Flatten(dtype="float64"),
            L.Dense(5, activation="tanh", dtype="float64"),
            L.Dense(3, dtype="float64"),
        ]
    )
    net = crosscheck.from_keras(model)
    assert net.input_shape == (4, 7)
    X = np.random.default_rng(0).normal(size=(6, 4, 7))
    want = model(X).numpy()
    np.testing.assert_allclose(net.forward(X), want, rtol=1e-12, atol=1e-14)
    column_major = net.forward(X.transpose(0, 2, 1).reshape(6, 28))
    assert not np.allclose(column_major, want, rtol=1e-3)
    assert crosscheck.compare(
        net, X, [0, 1, 2, 0, 1, 2], "softmax_cross_entropy", model=model, dX=True
    ).ok


def test_to_keras_round_trip_of_no_bias_flatten_and_leaky_slope():
    net = refnet.Network.build(
        [28, 6, 3],
        ["leaky_relu(0.3)", "softmax"],
        seed=0,
        input_shape=(4, 7),
        use_bias=[False, True],
    )
    model = crosscheck.to_keras(net)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "LeakyReLU", "Dense"]
    assert model.layers[1].use_bias is False and model.layers[2].negative_slope == 0.3
    back = crosscheck.from_keras(model)
    assert back.activations == net.activations and back.input_shape == (4, 7)
    assert [la.use_bias for la in back.layers] == [False, True]
    for a, b in zip(back.get_weights(), net.get_weights()):
        np.testing.assert_array_equal(a, b)
    X = np.random.default_rng(0).normal(size=(5, 4, 7))
    # TF keeps LeakyReLU's slope as a float32 attribute: 0.3 is 0.30000001192 (4e-8)
    np.testing.assert_allclose(net.forward(X), model(X).numpy(), rtol=1e-7)
    assert not np.allclose(net.forward(X), model(X).numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bias_less_net_against_tensorflow(dtype):
    net = refnet.Network.build(
        [7, 9, 8, 4],
        ["tanh", "relu", "linear"],
        seed=3,
        dtype=dtype,
        use_bias=[False, True, False],
    )
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 7)), rng.integers(0, 4, size=10)
    rep = crosscheck.compare(net, X, y, "softmax_cross_entropy", dX=True)
    assert rep.ok, str(rep)
    names = [r.name for r in rep.rows]
    assert "db2" in names and "db1" not in names and "db3" not in names
    assert {"dW1", "dW3", "delta1", "dX"} <= set(names)


def test_a_made_up_db_for_a_layer_without_bias_fails_compare():
    class FakeZeros(refnet.Network):
        def gradients(self, X, Y, loss="mse", l2=0.0, *, out=None):
            res = super().gradients(X, Y, loss)
            res.db = [np.zeros(layer.n_out) for layer in self.layers]
            return res

    net = refnet.Network.build([3, 4, 2], seed=0, use_bias=False)
    rep = crosscheck.compare(
        FakeZeros(net.layers), np.ones((2, 3)), [0, 1], "softmax_cross_entropy"
    )
    assert not rep.ok and rep.first_failure.name == "db2"


def test_leaky_slope_quirk_in_float64():
    """TF keeps the slope as a float32 attribute: 0.3 -> 0.30000001192 (4e-8 relative);
    the quirk rtol (1e-7) and a note cover it; float32 needs no quirk."""
    net = refnet.Network.build([5, 6, 3], ["leaky_relu(0.3)", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(8, 5))
    rep = crosscheck.compare(net, X, np.arange(8) % 3, "softmax_cross_entropy")
    assert rep.ok and any("0.30000001192" in n for n in rep.notes), rep.notes


@pytest.mark.parametrize(
    "loss, want",
    [
        ("categorical_crossentropy", ("categorical_cross_entropy", "rows")),
        ("sparse_categorical_crossentropy", ("categorical_cross_entropy", "ids")),
        ("mse", ("mse", "values")),
        ("mean_squared_error", ("mse", "values")),
        (
            lambda: keras.losses.CategoricalCrossentropy(from_logits=True),
            ("softmax_cross_entropy", "rows"),
        ),
        (
            lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            ("softmax_cross_entropy", "ids"),
        ),
        (lambda: keras.losses.MeanSquaredError(), ("mse", "values")),
        (
            lambda: keras.losses.BinaryCrossentropy(from_logits=True),
            ("binary_cross_entropy", "values"),
        ),
        (
            lambda: keras.losses.categorical_crossentropy,
            ("categorical_cross_entropy", "rows"),
        ),
        ("kl_divergence", ("kl_divergence", "rows")),
        (lambda: keras.losses.Hinge(), ("hinge", "values")),
        ("squared_hinge", ("squared_hinge", "values")),
        (lambda: keras.losses.CategoricalHinge(), ("categorical_hinge", "rows")),
    ],
)
def test_compiled_loss_mapping(loss, want):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    model.compile(loss=loss() if callable(loss) and not isinstance(loss, str) else loss)
    got = compiled_loss(model)
    assert (got.name, got.labels) == want


@pytest.mark.parametrize(
    "loss, match",
    [
        ("binary_crossentropy", "from probabilities"),
        ("poisson", "no counterpart"),
        (
            lambda: keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
            "label_smoothing",
        ),
        (lambda: keras.losses.MeanSquaredError(reduction="sum"), "reduction 'sum'"),
    ],
)
def test_a_compiled_loss_refnet_cannot_represent_exits_2_and_suggests_loss(
    loss, match, tmp_path, capsys
):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    model.compile(loss=loss() if callable(loss) else loss)
    path = tmp_path / "m.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    assert cli.main(["--keras", str(path)]) == 2
    err = capsys.readouterr().err
    assert match in err and "give --loss" in err, err
    assert cli.main(["--keras", str(path), "--loss", "mse", "--batch", "4"]) == 0
    assert "loss: mse, given by --loss" in capsys.readouterr().out


# --- refusals name the layer ---------------------------------------------------------------


def _seq(*layers, shape=(6,)):
    return keras.Sequential([keras.Input(shape), *layers])


REFUSED = {
    "Conv2D": (
        lambda: _seq(L.Conv2D(2, 3), L.Flatten(), L.Dense(2), shape=(5, 5, 1)),
        r"model\.layers\[0\] \(Conv2D 'conv2d\w*'\) is not supported",
    ),
    "BatchNormalization": (
        lambda: _seq(L.Dense(4), L.BatchNormalization(), L.Dense(2)),
        r"model\.layers\[1\] \(BatchNormalization '\w+'\) is not supported",
    ),
    "LSTM": (
        lambda: _seq(L.LSTM(3), L.Dense(2), shape=(4, 2)),
        r"model\.layers\[0\] \(LSTM '\w+'\) is not supported",
    ),
    "ReLU max_value": (
        lambda: _seq(L.Dense(4), L.ReLU(max_value=6.0), L.Dense(2)),
        r"model\.layers\[1\] \(ReLU '\w+'\) with max_value=6.0",
    ),
    "ReLU threshold": (
        lambda: _seq(L.Dense(4), L.ReLU(threshold=0.5), L.Dense(2)),
        r"model\.layers\[1\] \(ReLU '\w+'\) with .*threshold=0.5",
    ),
    "ReLU negative_slope": (
        lambda: _seq(L.Dense(4), L.ReLU(negative_slope=0.1), L.Dense(2)),
        r"model\.layers\[1\] \(ReLU '\w+'\) with .*negative_slope=0.1",
    ),
    "Softmax axis": (
        lambda: _seq(L.Dense(4), L.Reshape((2, 2)), L.Softmax(axis=1), shape=(6,)),
        r"model\.layers\[1\] \(Reshape '\w+'\) is not supported",
    ),
    "Softmax axis 1": (
        lambda: _seq(L.Dense(4), L.Softmax(axis=0)),
        r"model\.layers\[1\] \(Softmax '\w+'\) with axis=0",
    ),
    "unfoldable": (
        lambda: _seq(L.Dense(4, activation="relu"), L.Activation("softmax")),
        r"model\.layers\[1\] \(Activation '\w+'\) cannot be folded onto "
        r"model\.layers\[0\] \(Dense '\w+'\), which already applies 'relu'",
    ),
    "activation on the input": (
        lambda: _seq(L.Activation("relu"), L.Dense(2)),
        r"model\.layers\[0\] \(Activation '\w+'\) before the first Dense",
    ),
    "3-D input without Flatten": (
        lambda: _seq(L.Dense(3), shape=(2, 4)),
        r"model\.layers\[0\] \(Dense '\w+'\): acts on the last axis "
        r"of the 2-axis input \(None, 2, 4\).*Flatten",
    ),
    "Flatten after a Dense": (
        lambda: _seq(L.Dense(4), L.Flatten(), L.Dense(2)),
        r"model\.layers\[1\] \(Flatten '\w+'\) .*after a Dense layer",
    ),
    "Flatten channels_first": (
        lambda: _seq(L.Flatten(data_format="channels_first"), L.Dense(2), shape=(3, 4)),
        r"model\.layers\[0\] \(Flatten '\w+'\) with data_format='channels_first'",
    ),
    "float16": (
        lambda: _seq(L.Dense(3, dtype="float16")),
        r"model\.layers\[0\] \(Dense '\w+'\): expected dtype float32 or float64, "
        r"got dtype policy 'float16'",
    ),
    "mixed_float16": (
        lambda: _seq(L.Dense(3, dtype="mixed_float16")),
        r"model\.layers\[0\] \(Dense '\w+'\): .*'mixed_float16' \(compute "
        r"float16, variables float32\)",
    ),
    "Flatten float32 in a float64 model": (
        lambda: keras.Sequential(
            [
                keras.Input((2, 3), dtype="float64"),
                L.Flatten(),
                L.Dense(2, dtype="float64"),
            ]
        ),
        r"model\.layers\[0\] \(Flatten '\w+'\): dtype float32, but the first Dense is float64",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refusals_name_the_layer(case):
    build, match = REFUSED[case]
    with pytest.raises((TypeError, ValueError), match=match):
        crosscheck.from_keras(build())


def test_refusal_lists_what_is_supported_at_the_cli(tmp_path, capsys):
    model = _seq(L.Dense(4), L.BatchNormalization(), L.Dense(2))
    path = tmp_path / "bn.keras"
    model.save(path)
    assert cli.main(["--keras", str(path)]) == 2
    err = capsys.readouterr().err
    assert "model.layers[1] (BatchNormalization" in err
    assert "Flatten" in err and "Dropout" in err and "LeakyReLU" in err


def test_branches_and_several_inputs_are_refused():
    a = keras.Input((4,))
    h = L.Dense(3)(a)
    merged = L.Add()([h, L.Dense(3)(a)])
    with pytest.raises(
        ValueError, match=r"model\.layers\[\d\] \(\w+ '\w+'\): not a single chain"
    ):
        crosscheck.from_keras(keras.Model(a, merged))
    b = keras.Input((4,))
    two = keras.Model([a, b], L.Dense(2)(L.Concatenate()([a, b])))
    with pytest.raises(ValueError, match="one input and one output, got 2 inputs"):
        crosscheck.from_keras(two)
    inner = _seq(L.Dense(3), shape=(4,))
    with pytest.raises(TypeError, match=r"model\.layers\[0\] \(Sequential '\w+'\)"):
        crosscheck.from_keras(keras.Sequential([keras.Input((4,)), inner]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_kernels_are_refused_naming_the_layer(bad):
    model = _seq(L.Dense(4), L.Dense(2))
    kernel = model.layers[1].kernel.numpy()
    kernel[0, 0] = bad
    model.layers[1].kernel.assign(kernel)
    with pytest.raises(
        ValueError,
        match=r"model\.layers\[1\] \(Dense '\w+'\): its kernel holds NaN or inf",
    ):
        crosscheck.from_keras(model)
    net = refnet.Network.build([6, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"model\.layers\[1\]"):  # not "net's weights"
        crosscheck.compare(
            net, np.ones((2, 6)), [0, 1], "softmax_cross_entropy", model=model
        )


def test_compare_with_a_model_holding_other_weights_is_refused():
    net = refnet.Network.build([6, 4, 2], seed=0)
    other = crosscheck.to_keras(refnet.Network.build([6, 4, 2], seed=1))
    with pytest.raises(ValueError, match="expected exactly net's layers and weights"):
        crosscheck.compare(
            net, np.ones((2, 6)), [0, 1], "softmax_cross_entropy", model=other
        )


def test_a_user_model_that_differs_from_its_weights_fails_at_model_X():
    """The model(X) row is the user's own model: a model computing another function with
    the same Dense weights (here a Dropout run in training mode would; we use a subclass
    of Dense that doubles its output) must not pass."""

    class Doubled(L.Dense):
        def call(self, inputs):
            return 2 * super().call(inputs)

    net = refnet.Network.build([6, 4], ["linear"], seed=0)
    model = crosscheck.to_keras(net)
    odd = keras.Sequential(
        [keras.Input((6,), dtype="float64"), Doubled(4, dtype="float64")]
    )
    odd.set_weights(model.get_weights())
    with pytest.raises(TypeError, match=r"model\.layers\[0\] \(Doubled"):
        crosscheck.compare(
            net, np.ones((2, 6)), [0, 1], "softmax_cross_entropy", model=odd
        )


# --- files ---------------------------------------------------------------------------------


def test_truncated_and_non_zip_files_name_the_file(tmp_path, capsys):
    model = tutorial_784_512_10()
    good, good_h5 = save(model, tmp_path, "good")
    cut = tmp_path / "cut.keras"
    cut.write_bytes(good.read_bytes()[:1000])
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"not a zip file")
    junk_h5 = tmp_path / "junk.h5"
    junk_h5.write_bytes(b"not hdf5 at all")
    cut_h5 = tmp_path / "cut.h5"
    cut_h5.write_bytes(good_h5.read_bytes()[:3000])
    no_config = tmp_path / "no_config.keras"
    with zipfile.ZipFile(no_config, "w") as archive:
        archive.writestr("hello.txt", "hi")
    bad_json = tmp_path / "bad_json.keras"
    with zipfile.ZipFile(bad_json, "w") as archive:
        archive.writestr("config.json", "{not json")
        archive.writestr("metadata.json", "{}")
    for path in (cut, junk, junk_h5, cut_h5, no_config, bad_json):
        assert cli.main(["--keras", str(path)]) == 2
        err = capsys.readouterr().err
        assert (
            f"--keras: {str(path)!r}" in err and "not a readable Keras file" in err
        ), err
        assert "File not found" not in err
    other = tmp_path / "model.pt"
    other.write_bytes(b"x")
    assert cli.main(["--keras", str(other)]) == 2
    assert "expected a .keras or .h5 file" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_safe_mode_holds_even_after_enable_unsafe_deserialization(
    suffix, tmp_path, capsys
):
    """A Lambda layer is refused even after keras.config.enable_unsafe_deserialization()
    in-process (for .keras files, load_model(safe_mode=True) alone would load it)."""
    from keras.src.backend.common import global_state

    model = keras.Sequential([keras.Input((3,)), L.Lambda(lambda x: x * 2), L.Dense(2)])
    path = tmp_path / f"lambda{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    saved = global_state.get_global_attribute("safe_mode_saving")
    keras.config.enable_unsafe_deserialization()
    try:
        assert cli.main(["--keras", str(path)]) == 2
        # restored
        assert global_state.get_global_attribute("safe_mode_saving") is False
    finally:
        global_state.set_global_attribute("safe_mode_saving", saved)
    err = capsys.readouterr().err
    assert f"lambda{suffix}" in err and "Lambda" in err and "safe mode" in err, err


def test_softmax_on_axis_1_of_a_dense_output_is_the_last_axis():
    model = _seq(L.Dense(4), L.Softmax(axis=1))
    assert crosscheck.from_keras(model).activations == ["softmax"]


def test_read_chain_notes_dropout_and_folding():
    chain = read_chain(with_dropout())
    assert chain.input_shape == (28, 28)
    assert [s.activation for s in chain.steps] == ["relu", "softmax"]
    assert any(
        "Dropout(rate=0.2) is the identity at inference" in n for n in chain.notes
    )


def test_training_rows_of_a_net_with_input_shape_and_no_bias():
    """compare_training's tape side feeds Keras the model's own input shape."""
    net = refnet.Network.build(
        [6, 5, 3],
        ["tanh", "linear"],
        seed=0,
        input_shape=(2, 3),
        use_bias=[False, True],
    )
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 2, 3)), rng.integers(0, 3, size=8)
    rep = crosscheck.compare_training(
        net,
        X,
        y,
        "softmax_cross_entropy",
        refnet.optimizers.Adam(0.01),
        steps=3,
        gradients="both",
    )
    assert rep.ok, str(rep)


@pytest.mark.parametrize(
    "flag, value",
    [("--layout", "3-2"), ("--activations", "relu"), ("--dtype", "float64")],
)
def test_flags_the_model_decides_are_refused_with_keras(flag, value, tmp_path, capsys):
    """--keras reads layout, activations and dtype from the model: a flag saying
    otherwise would be silently ignored, so it is refused, naming the flag."""
    model = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    assert cli.main(["--keras", str(path), "--loss", "mse", flag, value]) == 2
    assert capsys.readouterr().err.startswith(
        f"crosscheck: {flag}: not used with --keras"
    )


def _with_config(good: Path, folder: Path, name: str, config_text: str) -> Path:
    """A copy of the .keras file ``good`` whose config.json is ``config_text``."""
    out = folder / name
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = config_text if info.filename == "config.json" else src.read(info)
            dst.writestr(info, data)
    return out


def test_a_deeply_nested_config_is_refused_naming_the_file(tmp_path, capsys):
    """100,000 levels of nesting would end in a RecursionError inside json or Keras."""
    import h5py

    good, good_h5 = save(_seq(L.Dense(3)), tmp_path, "good")
    deep_text = '{"a":' * 100_000 + "1" + "}" * 100_000
    deep = _with_config(good, tmp_path, "deep.keras", deep_text)
    fairly = _with_config(
        good, tmp_path, "fairly.keras", '{"a":' * 500 + "1" + "}" * 500
    )
    # the legacy .h5 keeps its config in an attribute
    deep_h5 = tmp_path / "deep.h5"
    deep_h5.write_bytes(good_h5.read_bytes())
    with h5py.File(deep_h5, "r+") as fh:
        fh.attrs["model_config"] = deep_text
    for path, says in (
        (deep, "deeper than Python can read"),
        (fairly, "500 levels deep"),
        (deep_h5, "deeper than Python can read"),
    ):
        assert cli.main(["--keras", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"--keras: {str(path)!r}" in err and says in err, err


def test_a_layer_declared_past_memory_is_refused_before_keras_allocates(tmp_path):
    """A 1 kB .keras declaring Dense(units=1e9) is refused from its config, and the
    process never grows by the gigabytes Keras would allocate (peak RSS measured)."""
    import json

    good, _ = save(_seq(L.Dense(3)), tmp_path, "good")
    with zipfile.ZipFile(good) as archive:
        config = json.loads(archive.read("config.json"))
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "Dense":
            layer["config"]["units"] = 1_000_000_000
    huge = _with_config(good, tmp_path, "huge.keras", json.dumps(config))
    script = textwrap.dedent(f"""
        import resource
        from crosscheck.frameworks.tf import files
        files.tf_and_keras()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            files.load_keras_file({str(huge)!r})
        except ValueError as err:
            print("refused:", err)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print("grew_kib", after - before)
    """)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert "refused: path:" in run.stdout and "more than the" in run.stdout, (
        run.stdout + run.stderr[-2000:]
    )
    grew = int(run.stdout.split("grew_kib")[1])
    assert grew < 100 * 1024, f"peak RSS grew by {grew} KiB"


def test_an_uppercase_extension_is_refused_with_the_reason(tmp_path, capsys):
    good, _ = save(_seq(L.Dense(3)), tmp_path, "good")
    upper = tmp_path / "MODEL.KERAS"
    upper.write_bytes(good.read_bytes())
    assert cli.main(["--keras", str(upper)]) == 2
    assert "Keras reads only lowercase '.keras' file names" in capsys.readouterr().err


def test_a_model_whose_call_differs_from_its_layers_is_refused_by_from_keras():
    """A Sequential subclass whose call scales the output: its layers say one thing,
    the model computes another; the probe batch shows it."""

    class Scaled(keras.Sequential):
        def call(self, x, training=None):
            return super().call(x, training=training) * 1.1

    model = Scaled([keras.Input((3,)), L.Dense(4, activation="tanh"), L.Dense(2)])
    with pytest.raises(
        ValueError, match=r"model: the converted network does not reproduce"
    ):
        crosscheck.from_keras(model)


@pytest.mark.parametrize(
    "loss, activation",
    [("kl_divergence", "softmax"), ("hinge", "tanh"), ("categorical_hinge", None)],
)
def test_a_model_compiled_with_kl_or_a_hinge_is_checked_with_it(
    loss, activation, tmp_path, capsys
):
    """LS7-LS10 from a saved model's compiled loss: crosscheck --keras runs refnet's loss
    of the same name against Keras' own, and passes."""
    model = keras.Sequential(
        [
            keras.Input((4,)),
            L.Dense(5, activation="relu"),
            L.Dense(3, activation=activation),
        ]
    )
    model.compile(loss=loss)
    path = tmp_path / "m.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    assert cli.main(["--keras", str(path), "--batch", "6"]) == 0
    assert f"loss: {loss}, from the model's compiled loss" in capsys.readouterr().out
