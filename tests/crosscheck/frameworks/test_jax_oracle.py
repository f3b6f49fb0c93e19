"""The JAX oracle (crosscheck/frameworks/jax/): the whole built-in matrix against JAX in
both dtypes, JAX's quirks measured, x64 kept inside the oracle's own scope, the bridge's
exact round trip and its refusals, and gradients checked against values worked by hand
and finite differences (independent of refnet)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason='JAX is not installed: pip install "jax[cpu]"')

import crosscheck  # noqa: E402
import refnet  # noqa: E402
from crosscheck import matrix  # noqa: E402
from crosscheck.frameworks.jax import bridge, losses, oracle  # noqa: E402
from crosscheck.frameworks.jax.imports import x64  # noqa: E402

jnp = jax.numpy
EPS64 = float(np.finfo(np.float64).eps)


def _x64_on() -> bool:
    return bool(jax.config.jax_enable_x64)


# --- the whole matrix ---------------------------------------------------------------


def test_the_whole_builtin_matrix_passes_against_jax_in_both_dtypes():
    """Every case of ``python -m crosscheck``'s backprop matrix, in JAX's own worker
    process: the seed examples, every activation and loss, the tutorials' Keras models
    (X of shape (28, 28), layers without bias, leaky_relu(0.3)), L2, "sum", dX and
    training-mode dropout with refnet's masks."""
    cases = matrix.builtin_matrix()
    assert {c.dtype for c in cases} == {"float32", "float64"}
    for feature in (
        lambda c: c.l2 > 0,
        lambda c: c.reduction == "sum",
        lambda c: c.dX,
        lambda c: c.use_bias is not None and not all(c.use_bias),
        lambda c: c.input_shape == (28, 28),
        lambda c: c.input_shape is not None and c.dropout is not None,
        lambda c: "leaky_relu(0.3)" in c.activations,
        lambda c: c.dropout is not None,
    ):
        # each in both dtypes
        assert {c.dtype for c in cases if feature(c)} == {"float32", "float64"}
    failed = []
    for case in cases:
        report = matrix.run_case(case, oracle="jax")
        if not report.ok or not report.rows:
            failed.append(f"{case.label}\n{report}")
        for row in report.rows:
            assert set(row.oracles) <= {"jax"}, (case.label, row.name)
        if case.dX:
            assert "dX" in [row.name for row in report.rows]
    assert not failed, "\n\n".join(failed[:3])


# --- the protocol and its speed ------------------------------------------------------


def test_the_oracle_names_itself_and_is_registered():
    from crosscheck import frameworks

    assert "jax" in frameworks.names() and frameworks.get("jax") is oracle
    assert (oracle.NAME, oracle.LABEL, oracle.FRAMEWORK) == ("jax", "JAX", "JAX")
    assert oracle.available() is None
    assert re.fullmatch(r"JAX \S+, jaxlib \S+ \(CPU\)", oracle.describe())
    assert frameworks.slot("jax", "bridge") is bridge
    assert frameworks.slot("jax", "losses") is losses


def test_one_program_per_case_and_a_repeat_reuses_it(monkeypatch):
    """jit compiles each case once (~0.1 s); the repeat is served from the cache and
    gives the same bits. The times are printed with -s, not asserted (a busy machine)."""
    net = refnet.Network.build([5, 9, 3], ["gelu", "linear"], seed=8, dtype="float32")
    X = np.random.default_rng(0).normal(size=(11, 5)).astype(np.float32)
    Y = np.arange(11) % 3
    compiled = []
    real = oracle._compile
    monkeypatch.setattr(oracle, "_compile", lambda *a: compiled.append(1) or real(*a))
    built = oracle.build(net)
    t0 = time.perf_counter()
    first = oracle.backprop(built, X, Y, "softmax_cross_entropy")
    t1 = time.perf_counter()
    again = oracle.backprop(built, X, Y, "softmax_cross_entropy")
    t2 = time.perf_counter()
    print(f"JAX oracle: first call {t1 - t0:.3f} s, repeat {t2 - t1:.4f} s")
    assert len(compiled) == 1
    for key in ("dW", "delta"):
        assert all(np.array_equal(a, b) for a, b in zip(first[key], again[key]))
    oracle.backprop(built, X[:4], Y[:4], "softmax_cross_entropy")  # a new shape
    assert len(compiled) == 2


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_compiler_options_change_only_rounding(dtype):
    """XLA's fast-compile options (COMPILER_OPTIONS) against its defaults, on a case
    with every kind of op (matmul, exp, erf, log, softmax): no fast-math, so the two
    differ by rounding only (LLVM's instruction choices), within 10 ulps of each
    tensor's scale."""
    net = refnet.Network.build(
        [4, 6, 5, 3], ["gelu", "softplus", "softmax"], seed=2, dtype=dtype
    )
    X = np.random.default_rng(1).normal(size=(7, 4)).astype(dtype)
    Y = np.random.default_rng(2).dirichlet(np.ones(3), size=7)
    fast = oracle.backprop(oracle.build(net), X, Y, "categorical_cross_entropy")
    saved = dict(oracle.COMPILER_OPTIONS)
    try:
        oracle.COMPILER_OPTIONS.clear()
        oracle._COMPILED.clear()
        plain = oracle.backprop(oracle.build(net), X, Y, "categorical_cross_entropy")
    finally:
        oracle.COMPILER_OPTIONS.update(saved)
        oracle._COMPILED.clear()
    eps = np.finfo(dtype).eps
    for key in ("delta", "dW", "z", "a"):
        for a, b in zip(fast[key], plain[key]):
            assert np.max(np.abs(a - b)) <= 10 * eps * np.max(np.abs(b)), key


# --- x64: only inside the oracle's own scope ------------------------------------------


def test_float64_needs_x64_and_the_scope_gives_it_back():
    """The quirk: without 64-bit mode a float64 array becomes float32 (each weight
    rounded, up to 2^-24 = 6e-8 relative); inside x64() it stays float64, and after
    the block the caller's setting is back."""
    w = np.random.default_rng(0).normal(size=1000)
    assert not _x64_on()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        as32 = np.asarray(jnp.asarray(w))
    assert as32.dtype == np.float32
    off = np.max(np.abs(as32 - w) / np.abs(w))
    assert 1e-8 < off <= 2.0**-24
    with x64():
        assert _x64_on() and jnp.asarray(w).dtype == np.float64
    assert not _x64_on()
    assert "6e-8" in oracle.X64


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_x64_is_not_left_enabled_after_a_backprop(isolation, monkeypatch):
    """compare(..., oracle="jax") on a float64 net, in a worker and inline (the oracle
    in this very process): JAX's flag is off afterwards, and the oracle did compute in
    float64 (its float64 rows pass at float64's TOL1)."""
    if isolation == "inline":
        monkeypatch.setenv("CROSSCHECK_ISOLATION", "inline")
    net = refnet.Network.build([3, 4, 2], ["tanh", "linear"], seed=1)
    X = np.random.default_rng(3).normal(size=(5, 3))
    Y = np.random.default_rng(4).normal(size=(5, 2))
    report = crosscheck.compare(net, X, Y, "mse", oracle="jax")
    assert report.ok and report.rows, str(report)
    assert not _x64_on()
    out = oracle.backprop(oracle.build(net), X, Y, "mse")  # here, directly
    assert out["dW"][0].dtype == np.float64 and not _x64_on()
    np.testing.assert_allclose(
        out["dW"][0], net.gradients(X, Y, loss="mse").dW[0], rtol=1e-13
    )


def test_a_caller_with_x64_on_keeps_it_and_float32_stays_float32():
    jax.config.update("jax_enable_x64", True)
    try:
        net = refnet.Network.build([3, 2], ["sigmoid"], seed=0, dtype="float32")
        X = np.ones((2, 3), np.float32)
        out = oracle.backprop(oracle.build(net), X, np.ones((2, 2)), "mse")
        assert _x64_on()
        assert out["dW"][0].dtype == out["z"][0].dtype == np.float32
    finally:
        jax.config.update("jax_enable_x64", False)


# --- JAX's quirks, measured -----------------------------------------------------------


def test_gelu_default_is_the_tanh_form_off_the_exact_one_by_4_7e_4():
    with x64():
        z = np.linspace(-8, 8, 160001)
        default = np.asarray(jax.nn.gelu(z))
        exact = np.asarray(jax.nn.gelu(z, approximate=False))
        ours = np.asarray(bridge.jax_activation("gelu")(z))
    gap = np.max(np.abs(default - exact))
    assert 4.7e-4 < gap < 4.8e-4  # at z = -2.70
    # the tanh form; the tails are rounding only
    np.testing.assert_allclose(
        default, refnet.activations.gelu_tanh(z), rtol=1e-12, atol=16 * EPS64
    )
    assert np.array_equal(ours, exact)  # the table passes approximate=False
    np.testing.assert_allclose(
        exact, refnet.activations.gelu(z), rtol=1e-14, atol=4 * EPS64
    )
    assert "4.7e-4" in oracle.QUIRKS["gelu"][1]


def test_leaky_relu_default_slope_is_0_01_and_its_kink_gradient_1():
    """jax.nn.leaky_relu: slope 0.01 (Keras and refnet: 0.2) and f'(0) = 1 (its z >= 0
    test); the table's leaky_relu has refnet's and TensorFlow's f'(0) = slope."""
    assert float(jax.nn.leaky_relu(-1.0)) == pytest.approx(-0.01)
    assert float(jax.grad(jax.nn.leaky_relu)(0.0)) == 1.0
    ours = bridge.jax_activation("leaky_relu")
    assert float(ours(jnp.float32(-1.0))) == pytest.approx(-0.2)
    assert float(jax.grad(ours)(0.0)) == pytest.approx(0.2)
    assert float(jax.grad(bridge.jax_activation("leaky_relu(0.3)"))(0.0)) == (
        pytest.approx(0.3)
    )
    assert refnet.activations.leaky_relu_prime(np.zeros(1))[0] == 0.2  # refnet's f'(0)
    assert "0.01" in oracle.QUIRKS["leaky_relu"][1]


def test_the_kink_gradients_are_tensorflows():
    """jnp.clip passes 1/2 at a bound (lax.max splits a tie); losses.clip passes 1 as
    tf.clip_by_value; max splits a tie evenly as tf.reduce_max; where(m >= 0, m, 0)
    passes 1 at m = 0 as tf.maximum(m, 0)."""
    assert float(jax.grad(lambda x: jnp.clip(x, 0.0, 1.0))(1.0)) == 0.5
    assert float(jax.grad(lambda x: losses.clip(x, 0.0, 1.0))(1.0)) == 1.0
    assert float(jax.grad(lambda x: losses.clip(x, 0.0, 1.0))(1.5)) == 0.0
    g = jax.grad(lambda v: v.max())(jnp.array([2.0, 2.0, 1.0]))
    assert np.array_equal(np.asarray(g), [0.5, 0.5, 0.0])
    # hinge at the kink s a = 1: dL/da = -s / (n k) (active side), worked by hand
    a, y = jnp.array([[1.0, -1.0]]), jnp.array([[1.0, 0.0]])
    g = jax.grad(lambda a: losses.jax_loss("hinge")(a, y))(a)
    assert np.array_equal(np.asarray(g), [[-0.5, 0.5]])


def test_every_activation_name_has_a_jax_function_and_refnet_values():
    z = np.linspace(-4, 4, 81)
    with x64():
        for name in refnet.activations.names() + ["leaky_relu(0.3)"]:
            got = np.asarray(bridge.jax_activation(name)(jnp.asarray(z)))
            want = refnet.activations.get(name).f(z)
            np.testing.assert_allclose(got, want, rtol=1e-14, atol=4 * EPS64)  # near 0
    with pytest.raises(ValueError, match="activation: expected one of"):
        bridge.jax_activation("mish")


# --- the bridge -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_round_trip_is_exact_with_bias_less_layers(dtype):
    net = refnet.Network.build(
        [12, 9, 6, 1],
        ["gelu", "leaky_relu(0.3)", "linear"],
        seed=4,
        dtype=dtype,
        use_bias=[False, True, False],
        input_shape=(3, 4),
    )
    before = [w.copy() for w in net.get_weights()]
    params = crosscheck.to_jax(net)
    assert [b is None for _, b in params] == [True, False, True]
    assert all(W.dtype == dtype for W, _ in params)  # even outside the x64 scope
    back = crosscheck.from_jax(params, bridge.activations_of(net), input_shape=(3, 4))
    assert back.dtype == net.dtype and back.input_shape == (3, 4)
    assert [layer.use_bias for layer in back.layers] == [False, True, False]
    assert bridge.activations_of(back) == ["gelu", "leaky_relu(0.3)", "linear"]
    for got, want, was in zip(back.get_weights(), net.get_weights(), before):
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert np.array_equal(want, was)  # net untouched
    X = np.random.default_rng(0).normal(size=(5, 12)).astype(dtype)
    with x64():
        out = np.asarray(bridge.forward(params, X, bridge.activations_of(net)))
    assert out.dtype == dtype
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(out, net.forward(X), rtol=rtol, atol=0)
    np.asarray(params[1][0])  # a copy: changing the net later changes no jax array
    net.layers[1].W[...] = 0
    assert np.array_equal(np.asarray(params[1][0]), before[1])


def _params(widths=(3, 4, 2), dtype=np.float64):
    rng = np.random.default_rng(0)
    return [
        (rng.normal(size=(a, b)).astype(dtype), np.zeros(b, dtype))
        for a, b in zip(widths, widths[1:])
    ]


@pytest.mark.parametrize(
    "args, kind, name",
    [
        ((np.ones((3, 2)), ["relu"]), TypeError, "params"),
        (([], []), ValueError, "params"),
        (([(np.ones((3, 2)),)], ["relu"]), TypeError, r"params\[0\]"),
        (([(np.ones(3), None)], ["relu"]), ValueError, r"params\[0\]"),
        (([(np.ones((3, 2), int), None)], ["relu"]), TypeError, r"params\[0\]"),
        (([(np.ones((3, 2)), np.ones(3))], ["relu"]), ValueError, r"params\[0\]"),
        (([(np.full((3, 2), np.nan), None)], ["relu"]), ValueError, r"params\[0\]"),
        ((_params((3, 4, 2))[:1] + _params((5, 2)), ["relu", "linear"]), ValueError,
         r"params\[1\]"),
        ((_params()[:1] + _params((4, 2), np.float32), ["relu", "linear"]), TypeError,
         r"params\[1\]"),
        ((_params(), "relu"), TypeError, "activations"),
        ((_params(), ["relu"]), ValueError, "activations"),
        ((_params(), ["relu", "mish"]), ValueError, r"activations\[1\]"),
        ((_params(), ["relu", 3]), TypeError, r"activations\[1\]"),
    ],
)  # fmt: skip
def test_from_jax_refuses_bad_input_naming_the_argument(args, kind, name):
    with pytest.raises(kind, match=f"^{name}: "):
        crosscheck.from_jax(*args)


def test_from_jax_refuses_an_input_shape_that_does_not_fit_and_to_jax_a_non_net(
    monkeypatch,
):
    # a private copy of the registry: the activation must not outlive this test
    monkeypatch.setattr(
        refnet.activations, "_REGISTRY", dict(refnet.activations._REGISTRY)
    )
    with pytest.raises(ValueError, match="^input_shape: "):
        crosscheck.from_jax(_params(), ["relu", "linear"], input_shape=(2, 2))
    with pytest.raises(TypeError, match="^net: expected refnet.Network"):
        crosscheck.to_jax(_params())
    refnet.activations.register("cube_jax_test", lambda z: z**3, lambda z: 3 * z**2)
    net = refnet.Network.build([2, 2], ["cube_jax_test"])
    with pytest.raises(ValueError, match=r"^net.layers\[0\]: activation 'cube_jax"):
        crosscheck.to_jax(net)


# --- independent checks of the gradients ----------------------------------------------


def test_one_layer_mse_gradient_against_the_formula_worked_by_hand():
    """z = X W + b, L = 1/(n k) sum (z - Y)^2 (Keras' MSE, linear output):
    dL/dz = 2 (z - Y) / (n k), dW = X^T dL/dz, db = column sums, dX = dL/dz W^T;
    with L2 0.1: dW + 2 * 0.1 W."""
    rng = np.random.default_rng(7)
    net = refnet.Network.build([4, 3], ["linear"], seed=5)
    W, b = net.layers[0].W, net.layers[0].b + 0.25
    net.layers[0].b[...] = b
    X, Y = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    out = oracle.backprop(oracle.build(net, l2=0.1), X, Y, "mse")
    dz = 2 * (X @ W + b - Y) / (6 * 3)
    np.testing.assert_allclose(out["delta"][0], dz, rtol=1e-14)
    np.testing.assert_allclose(out["dW"][0], X.T @ dz + 0.2 * W, rtol=1e-13)
    np.testing.assert_allclose(out["db"][0], dz.sum(axis=0), rtol=1e-13)
    np.testing.assert_allclose(out["dX"], dz @ W.T, rtol=1e-13)
    want = np.mean((X @ W + b - Y) ** 2) + 0.1 * np.sum(W * W)
    assert out["loss"] == pytest.approx(want, rel=1e-14)


def test_deltas_against_central_differences_of_the_loss():
    """delta[0] of a tanh-softplus-softmax net with categorical CE and "sum": each entry
    against (L(z + h) - L(z - h)) / 2h, L computed here in NumPy from z[0] on."""
    net = refnet.Network.build([3, 5, 4, 3], ["tanh", "softplus", "softmax"], seed=9)
    rng = np.random.default_rng(9)
    X, Y = rng.normal(size=(4, 3)), rng.dirichlet(np.ones(3), size=4)
    out = oracle.backprop(oracle.build(net), X, Y, "categorical_cross_entropy", "sum")
    (W2, b2), (W3, b3) = [(layer.W, layer.b) for layer in net.layers[1:]]

    def loss_from(z1):
        a2 = np.logaddexp(np.tanh(z1) @ W2 + b2, 0)
        z3 = a2 @ W3 + b3
        p = np.exp(z3 - z3.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return -np.sum(Y * np.log(np.clip(p, 1e-7, 1 - 1e-7)))

    z1, h = out["z"][0], 1e-6
    fd = np.zeros_like(z1)
    for idx in np.ndindex(*z1.shape):
        step = np.zeros_like(z1)
        step[idx] = h
        fd[idx] = (loss_from(z1 + step) - loss_from(z1 - step)) / (2 * h)
    np.testing.assert_allclose(out["delta"][0], fd, rtol=1e-7, atol=1e-9)
    assert out["loss"] == pytest.approx(loss_from(z1), rel=1e-13)


def test_import_crosscheck_does_not_import_jax():
    """to_jax/from_jax are exported, and jax is imported on their first use only."""
    code = (
        "import sys, crosscheck; crosscheck.to_jax, crosscheck.from_jax; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'optax')]; "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[3]
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
