"""Findings of the reliability review that are about arguments, not files.

W5 (gradcheck arguments that made it meaningless), C1 (a summary allocated the weights,
a huge layout died in a MemoryError traceback), C3 (seeds were never validated). Each
test failed on the tree the review audited.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import refnet
from refnet import datasets

ROOT = Path(__file__).resolve().parents[1]


# --- W5: gradcheck -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_entries": 0}, ValueError, "max_entries: expected a positive int, got 0"),
        ({"max_entries": -1}, ValueError, "max_entries: expected a positive int"),
        ({"max_entries": 2.5}, TypeError, "max_entries: expected a positive int"),
        ({"step": 0}, ValueError, "step: expected a float > 0"),
        ({"step": float("nan")}, ValueError, "step: expected a finite float"),
        ({"rtol": -1}, ValueError, "rtol: expected a float >= 0"),
        ({"rtol": float("nan")}, ValueError, "rtol: expected a finite float"),
        ({"seed": -1}, ValueError, "seed: expected an int >= 0, got -1"),
    ],
)
def test_gradcheck_refuses_arguments_that_make_it_meaningless(kwargs, error, match):
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    with pytest.raises(error, match=match):
        refnet.gradcheck(net, X, np.zeros((5, 2)), "mse", **kwargs)


def test_gradcheck_with_one_entry_per_tensor_still_catches_a_wrong_gradient():
    """The review's case: dW1 three times too large passed with max_entries=0."""

    class Wrong(refnet.Network):
        def gradients(self, X, Y, loss="mse"):
            res = super().gradients(X, Y, loss)
            res.dW[0] = 3 * res.dW[0]
            return res

    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=0)
    wrong = Wrong(net.layers)
    X = np.random.default_rng(0).normal(size=(5, 3))
    Y = np.random.default_rng(1).normal(size=(5, 2))
    assert refnet.gradcheck(net, X, Y, "mse", max_entries=1).ok
    assert not refnet.gradcheck(wrong, X, Y, "mse", max_entries=1).ok


# --- C3: seeds ---------------------------------------------------------------------------


def _digits(seed):
    pytest.importorskip("sklearn")
    return datasets.digits(seed=seed)


@pytest.mark.parametrize(
    "call",
    [
        lambda seed: refnet.Network.build([3, 2], seed=seed),
        lambda seed: refnet.Dense(3, 2, seed=seed),
        _digits,
    ],
    ids=["build", "Dense", "digits"],
)
@pytest.mark.parametrize(
    "seed, error, match",
    [
        (-1, ValueError, r"seed: expected an int >= 0, got -1"),
        ("abc", TypeError, r"seed: expected an int >= 0, a numpy Generator or None, got str"),
        (1.5, TypeError, r"seed: expected .* got float 1.5"),
        (True, TypeError, r"seed: expected .* got bool"),
    ],
)
def test_bad_seeds_are_named(call, seed, error, match):
    with pytest.raises(error, match=match):
        call(seed)


def test_seeds_that_numpy_accepts_still_work():
    a = refnet.Network.build([3, 2], seed=np.int64(7)).get_weights()
    b = refnet.Network.build([3, 2], seed=np.random.default_rng(7)).get_weights()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# --- C1: memory before allocating ---------------------------------------------------------


def test_a_layout_beyond_free_memory_is_refused_before_allocating():
    with pytest.raises(ValueError, match=r"sizes: the weights of layout .* needs .* GiB") as info:
        refnet.Network.build([100_000, 100_000, 10])
    assert "memory available" in str(info.value)


def test_summary_of_a_huge_layout_allocates_nothing():
    """74.5 GiB of weights would be needed to build it; the table needs none. Run under
    a 4 GiB address-space limit: any attempt to allocate the weights would fail."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))\n"
        "from refnet.cli import main\n"
        "sys.exit(main(['summary', '100000-100000-10']))\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # PC1 by hand: 100000*100000 + 100000 + 100000*10 + 10
    assert f"Total params: {100000 * 100000 + 100000 + 100000 * 10 + 10:,}" in proc.stdout


def test_summary_function_matches_the_built_network():
    net = refnet.Network.build([3, 5, 2], ["tanh", "softmax"], dtype="float32")
    assert refnet.params.summary("3-5-2", ["tanh", "softmax"], "float32") == net.summary()
    with pytest.raises(ValueError, match=r"activations\[0\]: unknown name 'nope'"):
        refnet.params.summary("3-5-2", "nope")
    with pytest.raises(ValueError, match=r"activations\[1\]: unknown name 'nope'"):
        refnet.Network.build([3, 5, 2], ["relu", "nope"])
    with pytest.raises(ValueError, match="activations: expected 2"):
        refnet.params.summary("3-5-2", ["relu"])


# --- W1: crosscheck never passes garbage ---------------------------------------------------


def test_compare_tensor_never_passes_nan_or_inf():
    from crosscheck.tolerance import compare_tensor

    both = compare_tensor("dW1", np.array([1.0, np.nan]), np.array([1.0, np.nan]), 1e-6)
    assert not both.ok and both.verdict == "NONFINITE" and both.where == (1,)
    one = compare_tensor("dW1", np.array([1.0, np.inf]), np.array([1.0, 2.0]), 1e-6)
    assert not one.ok and one.verdict == "FAIL"
    fine = compare_tensor("dW1", np.array([1.0, 2.0]), np.array([1.0, 2.0]), 1e-6)
    assert fine.ok and fine.verdict == "ok"


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
        report = crosscheck.compare(net, np.full((4, 3), 1e308), np.zeros((4, 2)), "mse")
    assert not report.ok
    assert report.row("loss").verdict == "NONFINITE"
    assert "NONFINITE: both sides hold NaN or inf" in str(report)


# --- portable installs -----------------------------------------------------------------


@pytest.mark.parametrize(
    "platform, machine, expected",
    [
        ("linux", "x86_64", "tensorflow-cpu"),
        ("win32", "AMD64", "tensorflow-cpu"),
        ("darwin", "arm64", "tensorflow"),  # no tensorflow-cpu wheel for Apple silicon
        ("darwin", "x86_64", "tensorflow"),
        ("linux", "aarch64", "tensorflow"),
    ],
)
def test_the_tf_extra_picks_exactly_one_tensorflow_wheel_per_platform(
    platform, machine, expected
):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    requirements = pytest.importorskip("packaging.requirements")
    with open(ROOT / "pyproject.toml", "rb") as fh:
        extra = tomllib.load(fh)["project"]["optional-dependencies"]["tf"]
    env = {"sys_platform": platform, "platform_machine": machine}
    chosen = [
        r.name
        for r in map(requirements.Requirement, extra)
        if r.name.startswith("tensorflow") and (r.marker is None or r.marker.evaluate(env))
    ]
    assert chosen == [expected]


# --- tests that kill the mutants the review found surviving ---------------------------------


def test_the_builtin_matrix_covers_every_activation_and_loss():
    """A matrix that silently dropped an activation or a loss would still pass."""
    pytest.importorskip("tensorflow")
    from crosscheck.matrix import builtin_matrix

    cases = builtin_matrix()
    named = {a for c in cases for a in c.activations if "(" not in a}  # not leaky_relu(0.3)
    assert named == set(refnet.activations.names())
    assert {c.loss for c in cases} == set(refnet.losses.names())
    hidden = {a for c in cases for a in c.activations[:-1] if "(" not in a}
    assert hidden == set(refnet.activations.names())  # each one inside a network too
    unnormalised = [
        c for c in cases
        if c.loss == "categorical_cross_entropy" and c.activations[-1] != "softmax"
    ]
    assert {c.dtype for c in unnormalised} == {"float32", "float64"}


def test_the_builtin_matrix_covers_the_tutorials_keras_models():
    """Flatten (FL1), layers without bias and LeakyReLU's own slope, in both dtypes."""
    pytest.importorskip("tensorflow")
    from crosscheck.matrix import build_net, builtin_matrix, make_data

    cases = builtin_matrix()
    flat = [c for c in cases if c.input_shape == (28, 28)]
    no_bias = [c for c in cases if c.use_bias and not all(c.use_bias)]
    slope = [c for c in cases if "leaky_relu(0.3)" in c.activations]
    for found in (flat, no_bias, slope):
        assert {c.dtype for c in found} == {"float32", "float64"}
    net = build_net(no_bias[0])
    assert [layer.b is None for layer in net.layers] == [not b for b in no_bias[0].use_bias]
    assert make_data(flat[0])[0].shape == (flat[0].batch, 28, 28)


def test_the_training_report_keeps_each_tensors_worst_step():
    """A failing step must fail the row whichever step comes first (not the best step)."""
    pytest.importorskip("tensorflow")
    from crosscheck.training_report import Tracker

    w0 = [np.zeros((2, 2)), np.zeros(2)]
    ref = [np.ones((2, 2)), np.ones(2)]
    off = [np.ones((2, 2)) + 0.5, np.ones(2)]  # W1 wrong by 0.5: far beyond any rtol
    for bad_step in (1, 2):
        tracker = Tracker("update", w0, rtol=1e-12)
        for step in (1, 2):
            tracker.add(step, off if step == bad_step else ref, ref)
        rows = {r.name: r for r in tracker.rows()}
        assert not rows["update/W1"].ok
        assert rows["update/W1"].note.startswith(f"step {bad_step};")
        assert rows["update/b1"].ok


# --- no spurious FAIL at a kink --------------------------------------------------------------


def test_a_relu_mask_flipped_by_rounding_is_not_a_fail():
    """The review's reproducer: z3[54, 37] = 5.1e-9 lies within float32 rounding of relu's
    kink, refnet's and TF's z land on opposite sides, and every row from delta3 down was
    1e3 times over tolerance. Now both sides use one mask and the note names the entry."""
    pytest.importorskip("tensorflow")
    from crosscheck.matrix import Case, run_case

    case = Case(
        layout=(23, 13, 33, 64, 1, 1),
        activations=("silu", "silu", "relu", "linear", "linear"),
        loss="mse", dtype="float32", batch=55, seed=57727,
    )  # fmt: skip
    report = run_case(case)
    assert report.ok, str(report)
    assert any(n.startswith("kink: z3[54, 37]") for n in report.notes), report.notes


def test_kink_entries_only_pins_differences_of_rounding():
    pytest.importorskip("tensorflow")
    from crosscheck.kinks import kink_entries

    net = refnet.Network.build([2, 3], ["relu"], seed=0, dtype="float32")
    X = np.ones((1, 2), np.float32)
    res = net.gradients(X, np.zeros((1, 3)), "mse")
    z = res.z[0].copy()
    z[0] = [1e-9, 1e-3, -2e-9]
    res.z[0] = z
    tf_z = [np.array([[-1e-9, -1e-3, 1e-9]], np.float32)]
    (pin,) = kink_entries(net, res, tf_z, rtol=1e-6)
    # entries 0 and 2 straddle 0 by rounding; entry 1 differs by 2e-3: a real difference
    assert pin[0].tolist() == [[True, False, True]]


# --- C6, C7, W6, W9: arguments named ---------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 2.5}, TypeError, "batch_size: expected a positive int"),
        ({"batch_size": 0}, ValueError, "batch_size: expected a positive int"),
        ({"optimizer": "adam"}, None, None),  # a name gives Keras' defaults
        ({"optimizer": "nope"}, ValueError, "optimizer"),
    ],
)
def test_compare_training_arguments_are_named(kwargs, error, match):
    pytest.importorskip("tensorflow")
    from crosscheck.training import compare_training

    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(6, 3))
    args = {"optimizer": refnet.optimizers.SGD(0.1), "steps": 2} | kwargs
    if error is None:
        assert compare_training(net, X, np.zeros((6, 2)), "mse", **args).ok
    else:
        with pytest.raises(error, match=match):
            compare_training(net, X, np.zeros((6, 2)), "mse", **args)


@pytest.mark.parametrize("c", [-1, float("nan"), 1e30, 0])
def test_compare_refuses_a_meaningless_safety_factor(c):
    pytest.importorskip("tensorflow")
    import crosscheck

    net = refnet.Network.build([3, 2], seed=0)
    with pytest.raises(ValueError, match="c: expected a safety factor"):
        crosscheck.compare(net, np.ones((2, 3)), np.zeros((2, 2)), "mse", c=c)


def test_network_and_weights_arguments_are_named():
    dense = refnet.Dense(3, 3)
    with pytest.raises(TypeError, match="layers: expected a sequence of refnet.Dense"):
        refnet.Network(None)
    with pytest.raises(TypeError, match="layers: expected a sequence of refnet.Dense"):
        refnet.Network(dense)
    with pytest.raises(ValueError, match=r"layers\[1\]: the same Dense object as layers\[0\]"):
        refnet.Network([dense, dense])
    net = refnet.Network.build([3, 2], seed=0)
    with pytest.raises(TypeError, match="weights: expected a list of arrays"):
        net.set_weights(None)
    with pytest.raises(ValueError, match=r"weights\[0\]: expected an array of shape \(3, 2\)"):
        net.set_weights([[[1, 2], [3]], np.zeros(2)])
    with pytest.raises(TypeError, match="activations: expected a name or one name per layer"):
        refnet.Network.build([3, 2], activations=5)
    with pytest.raises(TypeError, match="init: expected a name"):
        refnet.Network.build([3, 2], init=["zeros"])


def test_digits_split_arguments():
    pytest.importorskip("sklearn")
    a = datasets.digits(test_size=np.float32(0.25))
    b = datasets.digits(test_size=0.25)
    np.testing.assert_array_equal(a[3], b[3])
    with pytest.raises(ValueError, match="test_size: 0.9999 leaves no training rows"):
        datasets.digits(test_size=0.9999)


def test_load_mnist_refuses_train_and_test_images_of_different_sizes(tmp_path):
    rng = np.random.default_rng(0)
    raw = {
        "x_train": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        "y_train": np.arange(4),
        "x_test": rng.integers(0, 256, (2, 20, 20), dtype=np.uint8),
        "y_test": np.arange(2),
    }
    np.savez(tmp_path / "mnist.npz", **raw)
    with pytest.raises(ValueError, match=r"images of one size, got \(28, 28\) and \(20, 20\)"):
        datasets.load_mnist(tmp_path / "mnist.npz")
    np.savez(tmp_path / "mnist.npz", **(raw | {"x_test": np.zeros((0, 28, 28), np.uint8), "y_test": np.zeros(0, int)}))
    with pytest.raises(ValueError, match=r"at least one image .* x_test, got shape \(0, 28, 28\)"):
        datasets.load_mnist(tmp_path / "mnist.npz")


# --- S5: output paths checked before the work ----------------------------------------------


def test_output_paths_are_checked_before_any_work(tmp_path):
    from refnet.validation import check_output_folder

    data = tmp_path / "mnist.npz"
    data.write_bytes(b"data")
    cases = [
        (tmp_path, "expected a file path, got the folder"),
        ("/dev/full", "expected a regular file path"),
        ("/proc/out.json", "cannot write in the folder '/proc'"),
        (tmp_path / "absent" / "m.npz", "expected an existing folder"),
    ]
    for path, match in cases:
        with pytest.raises(ValueError, match="^--save: ") as info:
            check_output_folder(str(path), "--save")
        assert match in str(info.value)
    with pytest.raises(ValueError, match="--save: .* is the input --data"):
        check_output_folder(str(data), "--save", inputs={"--data": str(data)})
    with pytest.raises(ValueError, match="--save: .* exists; refusing to overwrite"):
        check_output_folder(str(data), "--save", overwrite=False)
    check_output_folder(str(tmp_path / "new.npz"), "--save", overwrite=False)  # fine
    assert sorted(os.listdir(tmp_path)) == ["mnist.npz"]  # the probe left nothing


def test_crosscheck_json_never_overwrites_without_force(tmp_path, capsys):
    pytest.importorskip("tensorflow")
    from crosscheck import cli

    out = tmp_path / "r.json"
    out.write_text("yesterday's results")
    argv = ["--layout", "3-5-2", "--dtype", "float64", "--batch", "3", "--no-training",
            "--json", str(out)]  # fmt: skip
    assert cli.main(argv) == 2
    assert "--json" in capsys.readouterr().err
    assert out.read_text() == "yesterday's results"
    assert cli.main(argv + ["--force"]) == 0
    import json

    assert json.loads(out.read_text())["ok"] is True
    assert sorted(os.listdir(tmp_path)) == ["r.json"]  # no temporary file left


def test_a_schedule_that_fails_is_named_learning_rate():
    net = refnet.Network.build([3, 2], seed=0)
    res = net.gradients(np.ones((2, 3)), np.zeros((2, 2)), "mse")
    for schedule in (lambda: 0.1, lambda step: 1 / 0):
        opt = refnet.optimizers.SGD(learning_rate=schedule)
        with pytest.raises(TypeError, match="learning_rate: the schedule raised"):
            opt.apply(net, res)
