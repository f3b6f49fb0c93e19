"""Network and Dense: construction, weights in Keras order, initializers, the forward pass
(FP1, FP2) against a hand-written loop, dtype preservation and no mutation of the
caller's arrays.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import refnet
from refnet import activations, losses
from tests.conftest import (
    EXACT_RTOL,
    FLOAT32_RTOL,
    SAMPLE_STD_RTOL,
    assert_close,
    strict_numerics,
)

ROOT = Path(__file__).resolve().parents[2]


DTYPES = ["float32", "float64"]


# --- helpers --------------------------------------------------------------------------


def targets_for(loss: str, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Valid targets for ``loss``: int class ids for the cross-entropies, KL and the
    categorical hinge, -1/+1 labels for the hinges, else (n, k) reals."""
    if loss == "mse":
        return rng.normal(size=(n, k))
    if loss == "binary_cross_entropy":
        return rng.uniform(size=(n, k))
    if loss in ("hinge", "squared_hinge"):
        return rng.choice([-1.0, 1.0], size=(n, k))
    return rng.integers(0, k, size=n)


def forward_by_hand(weights, acts, X) -> np.ndarray:
    """a[L] by FP1/FP2 written out: a = f(a @ W + b) per layer."""
    a = X
    for (W, b), name in zip(zip(weights[::2], weights[1::2]), acts):
        a = activations.get(name).f(a @ W + b)  # (n, n_l)
    return a


def all_result_arrays(res) -> dict[str, np.ndarray]:
    """Every array of a Gradients result, labelled with the docs' 1-based layer numbers."""
    out = {"a0": res.a[0]}
    for l in range(len(res.dW)):
        for key, arr in (
            ("z", res.z),
            ("delta", res.delta),
            ("dW", res.dW),
            ("db", res.db),
        ):
            out[f"{key}{l + 1}"] = arr[l]
        out[f"a{l + 1}"] = res.a[l + 1]
    return out


# --- construction ---------------------------------------------------------------------


def test_build_matches_the_layer_constructor():
    net = refnet.Network.build([3, 5, 2], activations=["relu", "linear"], seed=0)
    same = refnet.Network([refnet.Dense(3, 5, "relu"), refnet.Dense(5, 2, "linear")])
    same.set_weights(net.get_weights())
    assert net.sizes == same.sizes == [3, 5, 2]
    assert net.activations == same.activations == ["relu", "linear"]
    X = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(net.forward(X), same.forward(X))


def test_build_defaults_relu_hidden_linear_output():
    net = refnet.Network.build("4-3-3-2")
    assert net.activations == ["relu", "relu", "linear"]
    assert refnet.Network.build([4, 2], "tanh").activations == ["tanh"]


def test_build_is_reproducible_from_the_seed():
    w1 = refnet.Network.build([4, 6, 3], seed=7).get_weights()
    w2 = refnet.Network.build([4, 6, 3], seed=7).get_weights()
    w3 = refnet.Network.build([4, 6, 3], seed=8).get_weights()
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(w1[0], w3[0])


def test_weights_in_keras_order_and_shapes():
    """[W1, b1, W2, b2, ...] with W[l] of shape (n_{l-1}, n_l) and b[l] of shape (n_l,)."""
    net = refnet.Network.build([3, 5, 2], seed=0)
    shapes = [w.shape for w in net.get_weights()]
    assert shapes == [(3, 5), (5,), (5, 2), (2,)]
    assert net.get_weights()[0] is not net.layers[0].W  # copies


def test_gradients_grads_follow_get_weights_order(rng):
    net = refnet.Network.build([3, 4, 2], seed=0)
    res = net.gradients(rng.normal(size=(5, 3)), rng.normal(size=(5, 2)), "mse")
    grads = res.grads()
    assert [g.shape for g in grads] == [w.shape for w in net.get_weights()]
    assert grads[0] is res.dW[0] and grads[1] is res.db[0] and grads[3] is res.db[1]


def test_set_weights_copies_and_casts():
    net = refnet.Network.build([2, 3, 1], seed=0, dtype="float32")
    ws = [np.full((2, 3), 0.5), np.zeros(3), np.ones((3, 1)), np.array([2.0])]
    net.set_weights(ws)
    ws[0][0, 0] = 99.0  # the caller's array stays the caller's
    assert net.layers[0].W[0, 0] == 0.5
    assert all(w.dtype == np.float32 for w in net.get_weights())
    np.testing.assert_array_equal(net.forward(np.ones((1, 2))), [[3 * 1.0 + 2.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_set_weights_never_aliases_the_callers_arrays(dtype):
    """Same dtype (no cast needed) must still copy: later in-place updates of the
    net (an optimizer step) or of the caller's arrays do not leak across."""
    net = refnet.Network.build([2, 3, 1], seed=0, dtype=dtype)
    ws = [w + 1 for w in net.get_weights()]
    ws0 = [w.copy() for w in ws]
    net.set_weights(ws)
    for layer in net.layers:  # an in-place step on the net
        layer.W -= 0.5
        layer.b -= 0.5
    for w, w0 in zip(ws, ws0):
        np.testing.assert_array_equal(w, w0)
    ws[0][...] = 99.0  # the caller reuses its array
    assert not (net.layers[0].W == 99.0).any()


def test_count_params_and_summary():
    """PC1 by hand: 3-5-2 has (3*5 + 5) + (5*2 + 2) = 20 + 12 = 32."""
    net = refnet.Network.build([3, 5, 2], ["relu", "linear"], seed=0)
    assert net.count_params() == 32 == refnet.count_params([3, 5, 2])
    text = net.summary()
    for piece in ("dense (Dense)", "dense_1 (Dense)", "(None, 5)", "(None, 2)", "relu"):
        assert piece in text
    assert "Total params: 32" in text
    assert "20" in text.splitlines()[4] and "12" in text.splitlines()[5]


# --- initializers -----------------------------------------------------------------------


def test_glorot_uniform_range():
    """Keras: U(-r, r) with r = sqrt(6 / (fan_in + fan_out)); biases zero."""
    layer = refnet.Dense(300, 100, init="glorot_uniform", seed=0)
    r = math.sqrt(6 / 400)
    assert np.abs(layer.W).max() <= r
    assert np.abs(layer.W).max() > 0.95 * r  # the range is used, not a smaller one
    assert layer.W.std() == pytest.approx(r / math.sqrt(3), rel=SAMPLE_STD_RTOL)
    np.testing.assert_array_equal(layer.b, np.zeros(100))


@pytest.mark.parametrize(
    "init, limit",
    [
        ("glorot_uniform", math.sqrt(6 / (300 + 100))),
        ("he_uniform", math.sqrt(6 / 300)),  # Keras' HeUniform: sqrt(6 / fan_in)
    ],
)
def test_uniform_initializers_use_keras_limits(init, limit):
    """U(-r, r): every draw inside r, the largest near r, and std r / sqrt(3)."""
    W = refnet.Dense(300, 100, init=init, seed=0).W
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.95 * limit
    assert W.std() == pytest.approx(limit / math.sqrt(3), rel=SAMPLE_STD_RTOL)


def test_he_normal_is_truncated_at_two_std():
    """Keras: truncated normal with std sqrt(2 / fan_in) after truncation at 2 sigma."""
    layer = refnet.Dense(400, 300, init="he_normal", seed=0)
    target = math.sqrt(2 / 400)
    assert layer.W.std() == pytest.approx(target, rel=SAMPLE_STD_RTOL)
    assert np.abs(layer.W).max() <= 2 * target / 0.87962566103423978


def test_zeros_init_and_seeded_layers():
    assert not refnet.Dense(3, 4, init="zeros").W.any()
    np.testing.assert_array_equal(
        refnet.Dense(3, 4, seed=1).W, refnet.Dense(3, 4, seed=1).W
    )


# --- forward ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_matches_hand_loop_and_gradients(dtype, rng):
    """FP1 z = a W + b and FP2 a = f(z), layer by layer, against a hand-written loop."""
    net = refnet.Network.build(
        [4, 6, 5, 3], ["tanh", "sigmoid", "softmax"], seed=3, dtype=dtype
    )
    X = rng.normal(size=(7, 4)).astype(dtype)
    out = net.forward(X)
    assert out.dtype == np.dtype(dtype) and out.shape == (7, 3)
    want = forward_by_hand(net.get_weights(), net.activations, X)
    assert_close(
        out, want, EXACT_RTOL if dtype == "float64" else FLOAT32_RTOL, "forward"
    )
    res = net.gradients(X, rng.integers(0, 3, size=7), "categorical_cross_entropy")
    np.testing.assert_array_equal(res.a[-1], out)


def test_forward_casts_other_numeric_inputs_to_the_network_dtype():
    net = refnet.Network.build([2, 2], seed=0, dtype="float32")
    assert net.forward(np.array([[1, 2]])).dtype == np.float32
    assert net.forward(np.array([[1.0, 2.0]])).dtype == np.float32
    assert net.forward([[True, False]]).dtype == np.float32


# --- dtype preservation and no mutation -------------------------------------------------


@pytest.mark.parametrize("loss", losses.names())
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_result_array_keeps_the_network_dtype(dtype, loss, rng):
    """float32 in, float32 everywhere: z, a, delta, dW, db (no silent upcast)."""
    out_act = (
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear"
    )
    hidden = activations.names()  # every registered activation once, softmax included
    sizes = [3] + [4] * len(hidden) + [3]
    net = refnet.Network.build(sizes, hidden + [out_act], seed=1, dtype=dtype)
    X = rng.normal(size=(5, 3))  # float64 on purpose: the net's dtype wins, as in Keras
    res = net.gradients(X, targets_for(loss, rng, 5, 3), loss)
    for label, arr in all_result_arrays(res).items():
        assert arr.dtype == np.dtype(dtype), (
            f"{loss}: {label} is {arr.dtype}, expected {dtype}"
        )
    assert type(res.loss) is float
    assert [w.dtype for w in net.get_weights()] == [np.dtype(dtype)] * len(
        net.get_weights()
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", losses.names())
def test_never_mutates_the_callers_arrays(loss, dtype, rng):
    out_act = (
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear"
    )
    net = refnet.Network.build([3, 4, 3], ["relu", out_act], seed=2, dtype=dtype)
    X = rng.normal(size=(5, 3)).astype(dtype)
    Y = targets_for(loss, rng, 5, 3)
    ws = [w + 0.1 for w in net.get_weights()]
    X0, Y0, ws0 = X.copy(), Y.copy(), [w.copy() for w in ws]
    net.set_weights(ws)
    net.forward(X)
    net.gradients(X, Y, loss)
    refnet.gradcheck(net, X, Y, loss)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    for w, w0, now in zip(ws, ws0, net.get_weights()):
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(now, w0.astype(dtype))  # gradcheck left net alone


def test_gradients_match_between_dtypes(rng):
    """The float32 run is the float64 run rounded: agreement to float32 precision."""
    net64 = refnet.Network.build([5, 8, 4], ["tanh", "linear"], seed=4)
    net32 = refnet.Network.build([5, 8, 4], ["tanh", "linear"], seed=4, dtype="float32")
    X = rng.normal(size=(6, 5))
    Y = rng.integers(0, 4, size=6)
    r64 = net64.gradients(X, Y, "softmax_cross_entropy")
    r32 = net32.gradients(X, Y, "softmax_cross_entropy")
    assert r32.loss == pytest.approx(r64.loss, rel=FLOAT32_RTOL)
    for l in range(2):
        assert_close(
            r32.dW[l], r64.dW[l], FLOAT32_RTOL, f"dW{l + 1} float32 vs float64"
        )
        assert_close(
            r32.delta[l], r64.delta[l], FLOAT32_RTOL, f"delta{l + 1} float32 vs float64"
        )


@pytest.mark.parametrize("loss", losses.names())
@pytest.mark.parametrize("act", activations.names())
def test_extreme_but_valid_inputs_through_the_network(act, loss):
    """Hidden z of +-1000 and output logits of +-1e4: finite loss and gradients, no
    warning and no overflow/invalid operation anywhere in the backward pass."""
    out_act = (
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear"
    )
    net = refnet.Network.build([2, 2, 2], [act, out_act])
    net.set_weights(
        [
            [[1000.0, -1000.0], [0.0, 0.0]],
            [0.0, 0.0],
            [[10.0, -10.0], [-10.0, 10.0]],
            [0.0, 0.0],
        ]
    )
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [10.0, 0.0]])  # z1 = +-1000, +-1e4
    Y = targets_for(loss, np.random.default_rng(0), 3, 2)
    for dtype in DTYPES:
        typed = refnet.Network.build([2, 2, 2], [act, out_act], dtype=dtype)
        typed.set_weights(net.get_weights())
        with strict_numerics():
            res = typed.gradients(X, Y, loss)
        assert np.isfinite(res.loss), f"{act}/{loss}/{dtype}: loss {res.loss}"
        for label, arr in all_result_arrays(res).items():
            assert np.isfinite(arr).all(), f"{act}/{loss}/{dtype}: {label} = {arr}"


@pytest.mark.parametrize("loss", ["softmax_cross_entropy", "categorical_cross_entropy"])
def test_int_labels_equal_one_hot_labels_through_the_network(loss, rng):
    out_act = (
        "softmax"
        if loss in ("categorical_cross_entropy", "kl_divergence")
        else "linear"
    )
    net = refnet.Network.build([4, 5, 3], ["tanh", out_act], seed=6)
    X = rng.normal(size=(6, 4))
    labels = rng.integers(0, 3, size=6)
    by_id = net.gradients(X, labels, loss)
    by_row = net.gradients(X, np.eye(3)[labels], loss)
    assert by_id.loss == by_row.loss
    for l in range(2):
        np.testing.assert_array_equal(by_id.dW[l], by_row.dW[l], err_msg=f"dW{l + 1}")
        np.testing.assert_array_equal(
            by_id.delta[l], by_row.delta[l], err_msg=f"delta{l + 1}"
        )


def test_documented_aliasing_of_a0_and_linear_z():
    """M3: what the Gradients docstring says is shared, and what is not."""
    net = refnet.Network.build([3, 4, 2], ["relu", "linear"], seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    res = net.gradients(X, [0, 1, 0, 1, 0], "softmax_cross_entropy")
    assert res.a[0] is X  # float64 2-D X: no copy
    assert res.z[1] is res.a[2]  # the linear output layer
    assert not np.shares_memory(res.z[0], res.a[1])  # relu makes a new array
    X32 = X.astype(np.float32)  # another dtype: cast, so a copy
    res32 = net.gradients(X32, [0, 1, 0, 1, 0], "softmax_cross_entropy")
    assert not np.shares_memory(res32.a[0], X32)


def test_a0_is_a_view_of_an_x_given_in_the_input_shape():
    net = refnet.Network.build(
        [12, 4, 2], ["relu", "linear"], seed=0, input_shape=(3, 4)
    )
    X = np.random.default_rng(0).normal(size=(5, 3, 4))
    res = net.gradients(X, [0, 1, 0, 1, 0], "softmax_cross_entropy")
    assert res.a[0].shape == (5, 12) and np.shares_memory(res.a[0], X)
    np.testing.assert_array_equal(res.a[0][1], X[1].ravel())  # row-major (FL1)


def test_a_layout_beyond_free_memory_is_refused_before_allocating():
    with pytest.raises(
        ValueError, match=r"sizes: the weights of layout .* needs .* GiB"
    ) as info:
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
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # PC1 by hand: 100000*100000 + 100000 + 100000*10 + 10
    assert (
        f"Total params: {100000 * 100000 + 100000 + 100000 * 10 + 10:,}" in proc.stdout
    )


def test_summary_function_matches_the_built_network():
    net = refnet.Network.build([3, 5, 2], ["tanh", "softmax"], dtype="float32")
    assert (
        refnet.params.summary("3-5-2", ["tanh", "softmax"], "float32") == net.summary()
    )
    with pytest.raises(ValueError, match=r"activations\[0\]: unknown name 'nope'"):
        refnet.params.summary("3-5-2", "nope")
    with pytest.raises(ValueError, match=r"activations\[1\]: unknown name 'nope'"):
        refnet.Network.build([3, 5, 2], ["relu", "nope"])
    with pytest.raises(ValueError, match="activations: expected 2"):
        refnet.params.summary("3-5-2", ["relu"])


def test_network_and_weights_arguments_are_named():
    dense = refnet.Dense(3, 3)
    with pytest.raises(TypeError, match="layers: expected a sequence of refnet.Dense"):
        refnet.Network(None)
    with pytest.raises(TypeError, match="layers: expected a sequence of refnet.Dense"):
        refnet.Network(dense)
    with pytest.raises(
        ValueError, match=r"layers\[1\]: the same Dense object as layers\[0\]"
    ):
        refnet.Network([dense, dense])
    net = refnet.Network.build([3, 2], seed=0)
    with pytest.raises(TypeError, match="weights: expected a list of arrays"):
        net.set_weights(None)
    with pytest.raises(
        ValueError, match=r"weights\[0\]: expected an array of shape \(3, 2\)"
    ):
        net.set_weights([[[1, 2], [3]], np.zeros(2)])
    with pytest.raises(
        TypeError, match="activations: expected a name or one name per layer"
    ):
        refnet.Network.build([3, 2], activations=5)
    with pytest.raises(TypeError, match="init: expected a name"):
        refnet.Network.build([3, 2], init=["zeros"])
