"""Bad input: every public entry point raises ValueError/TypeError naming the argument,
with what was expected and what was received (docs/design.md, "Bad input").
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import refnet
from refnet import activations, datasets, losses
from tests.conftest import importorskip_torch


def net_3_4_2(dtype="float64"):
    return refnet.Network.build([3, 4, 2], ["relu", "linear"], seed=0, dtype=dtype)


X_OK = np.ones((2, 3))
Y_OK = np.zeros((2, 2))


def good_weights():
    return net_3_4_2().get_weights()


# (id, call, error type, regex the message must match: the argument name, expected, got)
# fmt: off
CASES = [
    # --- X ---
    ("X feature count", lambda n: n.gradients(np.ones((2, 4)), Y_OK), ValueError,
     r"X: expected 3 features per row, got shape \(2, 4\)"),
    ("X feature count, forward", lambda n: n.forward(np.ones((2, 4))), ValueError,
     r"X: expected 3 features"),
    ("X 1-D", lambda n: n.forward(np.ones(3)), ValueError,
     r"X: expected a 2-D array of shape \(n, 3\), got shape \(3,\)"),
    ("X ragged", lambda n: n.forward([[1, 2, 3], [1, 2]]), ValueError, r"X: expected a 2-D"),
    ("X empty batch", lambda n: n.gradients(np.ones((0, 3)), np.zeros((0, 2))), ValueError,
     r"X: expected at least one row, got an empty batch of shape \(0, 3\)"),
    ("X empty batch, forward", lambda n: n.forward(np.ones((0, 3))), ValueError,
     r"X: expected at least one row"),
    ("X NaN", lambda n: n.gradients([[1, np.nan, 1], [1, 1, 1]], Y_OK), ValueError,
     r"X: expected finite values, got NaN, inf or a value beyond float64's range"),
    ("X inf", lambda n: n.forward([[1, -np.inf, 1]]), ValueError, r"X: expected finite"),
    ("X beyond float32", lambda n: net_3_4_2("float32").forward([[1e300, 0, 0]]), ValueError,
     r"X: expected finite values, got NaN, inf or a value beyond float32's range"),
    ("X strings", lambda n: n.forward(np.array([["a", "b", "c"]])), TypeError,
     r"X: expected a real numeric array, got dtype <U1"),
    ("X object", lambda n: n.forward(np.array([[1, 2, 3]], dtype=object)), TypeError,
     r"X: expected a real numeric array, got dtype object"),
    ("X complex", lambda n: n.gradients(np.ones((2, 3), complex), Y_OK), TypeError,
     r"X: expected a real numeric array, got dtype complex128"),
    # --- Y ---
    ("Y rows != X rows", lambda n: n.gradients(X_OK, np.zeros((3, 2))), ValueError,
     r"Y: expected 2 rows to match X, got shape \(3, 2\)"),
    ("Y class ids count", lambda n: n.gradients(X_OK, [0, 1, 1], "softmax_cross_entropy"),
     ValueError, r"Y: expected 2 rows to match X"),
    ("Y class id too large", lambda n: n.gradients(X_OK, [0, 2], "softmax_cross_entropy"),
     ValueError, r"Y: class ids must lie in \[0, 1\] for 2 outputs, got values in \[0, 2\]"),
    ("Y class id negative",
     lambda n: n.gradients(X_OK, [-1, 0], "categorical_cross_entropy"), ValueError,
     r"Y: class ids must lie in \[0, 1\].*got values in \[-1, 0\]"),
    ("Y fractional class id",
     lambda n: n.gradients(X_OK, [0.0, 0.5], "softmax_cross_entropy"), ValueError,
     r"Y: 1-D targets are class ids and must be whole numbers"),
    ("Y one-hot width", lambda n: n.gradients(X_OK, np.eye(3)[:2], "softmax_cross_entropy"),
     ValueError, r"Y: expected shape \(2, 2\) to match the output, got \(2, 3\)"),
    ("Y rows not summing to 1",
     lambda n: n.gradients(X_OK, [[0.5, 0.4], [1, 0]], "softmax_cross_entropy"), ValueError,
     r"Y: expected one-hot or probability rows.*row sums in \[0\.9, 1\]"),
    ("Y negative probabilities",
     lambda n: n.gradients(X_OK, [[1.5, -0.5], [1, 0]], "categorical_cross_entropy"),
     ValueError, r"Y: expected one-hot or probability rows.*entries in \[-0\.5, 1\.5\]"),
    ("Y mse width", lambda n: n.gradients(X_OK, np.zeros(2)), ValueError,
     r"Y: expected shape \(2, 2\) to match the output, got \(2,\)"),
    ("Y NaN", lambda n: n.gradients(X_OK, [[1, np.nan], [1, 1]]), ValueError,
     r"Y: expected finite values, got NaN, inf"),
    ("Y inf", lambda n: n.gradients(X_OK, [[1, np.inf], [0, 1]], "binary_cross_entropy"),
     ValueError, r"Y: expected finite values"),
    ("Y NaN class id", lambda n: n.gradients(X_OK, [0, np.nan], "softmax_cross_entropy"),
     ValueError, r"Y: expected finite class ids, got NaN or inf"),
    ("Y binary out of [0, 1]",
     lambda n: n.gradients(X_OK, [[1, 2], [0, 1]], "binary_cross_entropy"), ValueError,
     r"Y: expected binary targets in \[0, 1\], got values in \[0(\.0)?, 2(\.0)?\]"),
    ("Y strings", lambda n: n.gradients(X_OK, np.array([["a", "b"], ["c", "d"]])), TypeError,
     r"Y: expected a numeric array, got dtype <U1"),
    ("Y complex", lambda n: n.gradients(X_OK, np.ones((2, 2), complex)), TypeError,
     r"Y: expected a numeric array, got dtype complex128"),
    ("Y object class ids",
     lambda n: n.gradients(X_OK, np.array([0, 1], dtype=object), "softmax_cross_entropy"),
     TypeError, r"Y: expected int class ids or probability rows, got dtype object"),
    ("Y beyond float32",
     lambda n: net_3_4_2("float32").gradients(X_OK, [[1e300, 0], [0, 0]]), ValueError,
     r"Y: expected finite values, got NaN, inf or a value beyond float32's range"),
    ("Y ragged", lambda n: n.gradients(X_OK, [[1, 2], [3]]), ValueError,
     r"Y: expected 2 rows to match X"),
    ("Y scalar", lambda n: n.gradients(X_OK, 1.0), ValueError,
     r"Y: expected 2 rows to match X, got shape \(\)"),
    # --- names ---
    ("unknown loss", lambda n: n.gradients(X_OK, Y_OK, "poisson"), ValueError,
     r"loss: unknown name 'poisson'; expected one of \[.*'mse'.*\]"),
    ("unknown loss in gradcheck", lambda n: refnet.gradcheck(n, X_OK, Y_OK, "poisson"),
     ValueError, r"loss: unknown name 'poisson'"),
    ("unknown activation", lambda n: refnet.Network.build([3, 2], ["swoosh"]), ValueError,
     r"activations\[0\]: unknown name 'swoosh'; expected one of \[.*'relu'.*\]"),
    ("unknown activation, Dense", lambda n: refnet.Dense(3, 2, "swoosh"), ValueError,
     r"activation: unknown name 'swoosh'"),
    ("unknown init", lambda n: refnet.Network.build([3, 2], init="orthogonal"), ValueError,
     r"init: unknown name 'orthogonal'; expected one of \[.*'glorot_uniform'.*\]"),
    # --- set_weights ---
    ("set_weights count", lambda n: n.set_weights(good_weights()[:3]), ValueError,
     r"weights: expected 4 arrays \[W1, b1, W2, b2\], got 3"),
    ("set_weights shape",
     lambda n: n.set_weights([np.ones((4, 3))] + good_weights()[1:]), ValueError,
     r"weights\[0\]: expected shape \(3, 4\), got \(4, 3\)"),
    ("set_weights bias shape",
     lambda n: n.set_weights(good_weights()[:3] + [np.ones(3)]), ValueError,
     r"weights\[3\]: expected shape \(2,\), got \(3,\)"),
    ("set_weights NaN",
     lambda n: n.set_weights([np.full((3, 4), np.nan)] + good_weights()[1:]), ValueError,
     r"weights\[0\]: expected finite values, got NaN, inf"),
    ("set_weights beyond float32",
     lambda n: net_3_4_2("float32").set_weights([np.full((3, 4), 1e300)] + good_weights()[1:]),
     ValueError, r"weights\[0\]: expected finite values.*beyond float32's range"),
    ("set_weights strings",
     lambda n: n.set_weights([np.full((3, 4), "w")] + good_weights()[1:]), TypeError,
     r"weights\[0\]: expected real numbers, got dtype <U1"),
    # --- sizes ---
    ("sizes zero", lambda n: refnet.Network.build([3, 0, 2]), ValueError,
     r"sizes\[1\]: expected a positive int, got 0"),
    ("sizes negative", lambda n: refnet.count_params([3, -4, 2]), ValueError,
     r"sizes\[1\]: expected a positive int, got -4"),
    ("sizes too few", lambda n: refnet.count_params([3]), ValueError,
     r"sizes: expected at least two sizes \(input and output\), got \[3\]"),
    ("sizes bad layout string", lambda n: refnet.count_params("3-x-2"), ValueError,
     r"sizes: expected a layout like '3-5-2', got '3-x-2'"),
    ("sizes float", lambda n: refnet.count_params([3, 2.5]), TypeError,
     r"sizes\[1\]: expected a positive int, got float 2.5"),
    ("sizes bool", lambda n: refnet.Network.build([3, True]), TypeError,
     r"sizes\[1\]: expected a positive int, got bool True"),
    ("sizes not a sequence", lambda n: refnet.count_params(5), TypeError,
     r"sizes: expected a sequence of ints like \[3, 5, 2\], got 5"),
    ("activations count", lambda n: refnet.Network.build([3, 4, 2], ["relu"]), ValueError,
     r"activations: expected 2 \(one per layer of \[3, 4, 2\]\), got 1"),
    ("Dense n_in", lambda n: refnet.Dense(0, 3), ValueError,
     r"n_in: expected a positive int, got 0"),
    ("Dense n_out", lambda n: refnet.Dense(3, "4"), TypeError,
     r"n_out: expected a positive int, got str '4'"),
    # --- dtypes ---
    ("dtype float16", lambda n: refnet.Network.build([3, 2], dtype="float16"), TypeError,
     r"dtype: expected 'float32' or 'float64', got 'float16'"),
    ("dtype int32", lambda n: refnet.Dense(3, 2, dtype="int32"), TypeError,
     r"dtype: expected 'float32' or 'float64', got 'int32'"),
    ("dtype nonsense", lambda n: refnet.Network.build([3, 2], dtype="float65"), TypeError,
     r"dtype: expected 'float32' or 'float64', got 'float65'"),
    ("dtype None", lambda n: refnet.Network.build([3, 2], dtype=None), TypeError,
     r"dtype: expected 'float32' or 'float64', got None"),
    # --- Network of mismatched layers ---
    ("layers widths", lambda n: refnet.Network([refnet.Dense(3, 5), refnet.Dense(4, 2)]),
     ValueError, r"layers\[1\]: expected n_in = 5 to match layers\[0\].n_out, got 4"),
    ("layers dtypes",
     lambda n: refnet.Network([refnet.Dense(3, 5), refnet.Dense(5, 2, dtype="float32")]),
     TypeError, r"layers\[1\]: expected dtype float64 like layers\[0\], got float32"),
    ("layers empty", lambda n: refnet.Network([]), ValueError,
     r"layers: expected at least one Dense layer, got none"),
    ("layers not Dense", lambda n: refnet.Network([refnet.Dense(3, 5), "dense"]), TypeError,
     r"layers\[1\]: expected refnet.Dense, got str"),
]
# fmt: on


@pytest.mark.parametrize(
    "call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_raises_a_named_error(call, error, message):
    """The right error and message, and nothing else on the way: no warning first."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error, match=message):
            call(net_3_4_2())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_failed_call_leaves_the_network_unchanged(dtype):
    net = net_3_4_2(dtype)
    before = net.get_weights()
    with pytest.raises(ValueError):
        net.set_weights(before[:3] + [np.full(2, np.nan)])
    for w, w0 in zip(net.get_weights(), before):
        np.testing.assert_array_equal(w, w0)


def test_unknown_names_list_every_registered_choice():
    with pytest.raises(ValueError) as act_info:
        activations.get("nope")
    with pytest.raises(ValueError) as loss_info:
        losses.get("nope")
    assert all(repr(n) in str(act_info.value) for n in activations.names())
    assert all(repr(n) in str(loss_info.value) for n in losses.names())


def test_valid_edge_inputs_are_accepted():
    """The boundary cases of the checks above are valid: one row, int and bool inputs,
    float class ids that are whole numbers, probability rows off by rounding."""
    net = net_3_4_2()
    assert net.forward([[1, 2, 3]]).shape == (1, 2)
    net.gradients(np.array([[True, False, True]]), [[0.0, 1.0]])
    net.gradients(X_OK, np.array([1.0, 0.0]), "softmax_cross_entropy")
    net.gradients(X_OK, [[0.1 + 0.2, 0.7], [0.3, 0.7]], "categorical_cross_entropy")


# --- torch tensors (C7): a clear TypeError naming the argument, with the fix ----------


def _torch_cases():
    torch = importorskip_torch()
    net = refnet.Network.build([3, 4, 2], seed=0)
    ids = [0, 1, 0, 1, 0]
    grad_x = torch.ones(5, 3, dtype=torch.float64, requires_grad=True)
    bf16_x = torch.ones(5, 3, dtype=torch.bfloat16)
    grad_y = torch.tensor([0.0, 1, 0, 1, 0], requires_grad=True)
    W1 = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    return (
        torch,
        net,
        [
            ("X", lambda: net.gradients(grad_x, ids, "softmax_cross_entropy")),
            ("X", lambda: net.gradients(bf16_x, ids, "softmax_cross_entropy")),
            ("X", lambda: net.predict(grad_x)),
            ("X", lambda: net.fit(grad_x, ids, "mse", "sgd", epochs=1, progress=False)),
            (
                "Y",
                lambda: net.gradients(np.ones((5, 3)), grad_y, "softmax_cross_entropy"),
            ),
            ("weights[0]", lambda: net.set_weights([W1] + net.get_weights()[1:])),
        ],
    )


def test_torch_tensors_that_numpy_cannot_read_are_named():
    torch, net, cases = _torch_cases()
    before = net.get_weights()
    for name, call in cases:
        with pytest.raises(TypeError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"{name}: expected an array NumPy can read"), message
        assert "Tensor" in message and ".detach()" in message, message
    assert all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))


def test_plain_torch_tensors_are_read_like_arrays():
    torch = importorskip_torch()
    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    ids = [0, 1, 0, 1, 0]
    want = net.gradients(X, ids, "softmax_cross_entropy")
    got = net.gradients(torch.from_numpy(X), torch.tensor(ids), "softmax_cross_entropy")
    assert got.loss == want.loss
    assert all(np.array_equal(g, w) for g, w in zip(got.dW, want.dW))


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
        (
            "abc",
            TypeError,
            r"seed: expected an int >= 0, a numpy Generator or None, got str",
        ),
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


# --- reliability round three: masked arrays, absurd l2, unwritable names -----------------


@pytest.mark.parametrize(
    "call",
    [
        lambda net, X, y: net.forward(X),
        lambda net, X, y: net.predict(X),
        lambda net, X, y: net.gradients(X, y, "softmax_cross_entropy"),
        lambda net, X, y: net.evaluate(X, y, "softmax_cross_entropy"),
        lambda net, X, y: net.fit(
            X, y, "softmax_cross_entropy", "sgd", epochs=1, progress=False
        ),
    ],
    ids=["forward", "predict", "gradients", "evaluate", "fit"],
)
def test_masked_arrays_are_refused_naming_the_argument(call):
    """A masked array's masked entries would be used as stored (here NaN): refused,
    with the two fixes, instead of an error about NaN the user had masked."""
    net = refnet.Network.build([3, 4, 2], seed=0)
    X = np.ma.masked_invalid(np.array([[1.0, np.nan, 2.0], [0.5, 1.0, -1.0]]))
    with pytest.raises(
        TypeError, match=r"X: a masked array \(numpy.ma\).*X.filled\(value\)"
    ):
        call(net, X, np.array([0, 1]))
    y = np.ma.array([0, 1], mask=[False, True])
    with pytest.raises(TypeError, match=r"masked array"):
        net.gradients(np.ones((2, 3)), y, "softmax_cross_entropy")


def test_an_l2_that_can_only_overflow_is_refused():
    net = refnet.Network.build([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"l2: expected at most 1e\+06 .* got 1e\+308"):
        net.gradients(np.ones((2, 3)), [0, 1], "softmax_cross_entropy", l2=1e308)
    # a large but finite decay still works
    assert np.isfinite(
        net.gradients(np.ones((2, 3)), [0, 1], "softmax_cross_entropy", l2=1e3).loss
    )


@pytest.mark.parametrize(
    "name, match",
    [
        (
            "a" * 5000 + ".npz",
            r"path: a file or folder name of 5004 bytes, longer than",
        ),
        ("m\0.npz", "path: a file path cannot hold a NUL byte"),
    ],
)
def test_unwritable_file_names_name_path(tmp_path, name, match):
    net = refnet.Network.build([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=match):
        net.save(tmp_path / name)
    assert list(tmp_path.iterdir()) == []
