"""Activations: every registry entry's f'(z) (or softmax's JVP, SM1) against central
differences (FD1), the kink conventions, extreme inputs, dtypes, and user registration.

Parametrized over ``refnet.activations.names()``: a newly registered activation is
tested automatically.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnet
from refnet import activations
from tests.conftest import (
    EXACT_RTOL,
    FD_RTOL,
    FD_STEP,
    assert_close,
    central_difference,
    strict_numerics,
)

ALL = activations.names()
ELEMENTWISE = [n for n in ALL if activations.get(n).elementwise]
KINKED = [n for n in ALL if not activations.get(n).smooth]


# --- helpers --------------------------------------------------------------------------


def points_off_kinks(rng: np.random.Generator, shape=(4, 6)) -> np.ndarray:
    """Float64 test points in [-8, 8] at least 0.05 away from 0 (where relu-like f kink),
    plus the tails +-10, +-30 in the first row."""
    u = rng.uniform(-8, 8, size=shape)
    z = np.sign(u) * (0.05 + np.abs(u))
    z[0, :4] = [-30.0, -10.0, 10.0, 30.0]
    return z


def numeric_derivative(f, z: np.ndarray) -> np.ndarray:
    """Elementwise central difference (f(z + h) - f(z - h)) / 2h, h = FD_STEP max(1, |z|) (FD1)."""
    h = FD_STEP * np.maximum(1.0, np.abs(z))
    return (f(z + h) - f(z - h)) / (2 * h)


def numeric_vjp(f, g: np.ndarray, z: np.ndarray) -> np.ndarray:
    """d/dz of sum(g * f(z)), one entry at a time (works for softmax, not elementwise)."""
    z = z.copy()
    return central_difference(lambda: (g * f(z)).sum(), z)


@pytest.fixture
def private_registry(monkeypatch):
    """Register user activations into a copy of the registry, restored after the test."""
    monkeypatch.setattr(activations, "_REGISTRY", dict(activations._REGISTRY))


# --- derivatives against finite differences -------------------------------------------


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name, rng):
    """f'(z) = df(z, f(z)) against FD1 in float64, away from any kink (AF1..AF11)."""
    act = activations.get(name)
    z = points_off_kinks(rng)
    with strict_numerics():
        got = act.df(z, act.f(z))
    assert_close(got, numeric_derivative(act.f, z), FD_RTOL, f"{name}'(z)")


@pytest.mark.parametrize("name", ALL)
def test_vjp_matches_central_differences(name, rng):
    """dL/dz = vjp(g, z, a) against FD1 of sum(g * f(z)) (AF1..AF12, BP2; SM1 for softmax)."""
    act = activations.get(name)
    z = points_off_kinks(rng, shape=(3, 5))
    g = rng.normal(size=z.shape)
    with strict_numerics():
        got = act.vjp(g, z, act.f(z))
    assert_close(got, numeric_vjp(act.f, g, z), FD_RTOL, f"{name} vjp")


def test_softmax_vjp_equals_explicit_jacobian(rng):
    """SM1: a * (g - sum(g a)) equals g @ J with J = diag(a) - a a^T, per row (AF12)."""
    act = activations.get("softmax")
    z = rng.normal(scale=3.0, size=(4, 5))
    g = rng.normal(size=z.shape)
    a = act.f(z)
    # (n, k)
    want = np.stack([gi @ (np.diag(ai) - np.outer(ai, ai)) for gi, ai in zip(g, a)])
    assert_close(act.vjp(g, z, a), want, EXACT_RTOL, "softmax vjp vs diag(a) - a a^T")


def test_softmax_rows_sum_to_one(rng):
    """AF12: exp(z - max z) / sum exp(z - max z) is a probability row."""
    z = rng.normal(scale=10.0, size=(6, 7))
    a = activations.get("softmax").f(z)
    assert_close(a.sum(axis=1), np.ones(6), EXACT_RTOL, "softmax row sums")
    assert (a > 0).all()


# --- kink conventions -----------------------------------------------------------------


def derivative_at(name: str, z0: float) -> float:
    """f'(z0) through the backward pass the network uses: vjp with g = 1."""
    act = activations.get(name)
    z = np.array([[z0]])
    return float(act.vjp(np.ones_like(z), z, act.f(z))[0, 0])


def test_relu_derivative_at_zero_is_zero_as_tensorflow():
    """AF4: f'(0) = 0, TensorFlow's convention (one tutorial uses 1; refnet follows TF)."""
    assert derivative_at("relu", 0.0) == 0.0
    assert derivative_at("relu", 1e-300) == 1.0
    assert derivative_at("relu", -1e-300) == 0.0


def test_leaky_relu_slope_and_derivative_at_zero():
    """AF5: slope 0.2 (Keras 3 default) for z <= 0, including the kink itself, as TF."""
    assert derivative_at("leaky_relu", 0.0) == 0.2
    assert derivative_at("leaky_relu", -3.0) == 0.2
    assert derivative_at("leaky_relu", 3.0) == 1.0
    f = activations.get("leaky_relu").f
    np.testing.assert_array_equal(f(np.array([-5.0, 0.0, 5.0])), [-1.0, 0.0, 5.0])


@pytest.mark.parametrize("slope", [0.3, 0.01, 0.0, 1.0, 1.5])
def test_leaky_relu_with_its_own_slope(slope):
    """AF5 with any slope >= 0 (keras.layers.LeakyReLU defaults to 0.3): values by hand,
    f'(0) = slope (TF's kink convention), and a name that survives a round trip."""
    act = activations.get(f"leaky_relu({slope})")
    assert act.negative_slope == slope and not act.smooth
    assert activations.get(act.name) is act
    z = np.array([[-4.0, -0.5, 0.0, 0.5, 4.0]])
    np.testing.assert_array_equal(act.f(z), [[-4 * slope, -0.5 * slope, 0.0, 0.5, 4.0]])
    assert derivative_at(act.name, 0.0) == slope
    assert derivative_at(act.name, -2.0) == slope
    assert derivative_at(act.name, 2.0) == 1.0
    z32 = z.astype(np.float32)
    assert (
        act.f(z32).dtype == np.float32 and act.df(z32, act.f(z32)).dtype == np.float32
    )


def test_leaky_relu_names():
    assert activations.get("leaky_relu(0.3)").name == "leaky_relu(0.3)"
    assert activations.get("leaky_relu(0.30)").name == "leaky_relu(0.3)"
    assert activations.get("leaky_relu(0.2)") is activations.get("leaky_relu")
    assert activations.leaky_relu_name(0.3) == "leaky_relu(0.3)"
    for bad in ["leaky_relu(-0.1)", "leaky_relu(nan)", "leaky_relu(x)", "leaky_relu()"]:
        with pytest.raises(ValueError, match="finite slope >= 0"):
            activations.get(bad)
    with pytest.raises(ValueError, match=r"leaky_relu\(SLOPE\)"):
        activations.get("leaky")
    net = refnet.Network.build([3, 4, 2], ["leaky_relu(0.3)", "linear"], seed=0)
    assert net.activations == ["leaky_relu(0.3)", "linear"]


@pytest.mark.parametrize(
    "name, from_output",
    [
        ("sigmoid", lambda a: a * (1 - a)),  # AF2
        ("tanh", lambda a: 1 - a * a),  # AF3
        ("elu", lambda a: np.where(a < 0, a + 1, 1.0)),  # AF6
    ],
)
def test_derivative_taken_from_the_output_as_tensorflow(name, from_output, rng):
    """AF2, AF3, AF6: f' is computed from the cached output a, as TF's SigmoidGrad,
    TanhGrad and EluGrad do, so both sides round the same way. Fed an a that is not
    f(z), df must follow a, not recompute f(z)."""
    z = rng.normal(size=(3, 4))
    a = activations.get(name).f(z) * (1 + 1e-3)  # deliberately not f(z)
    np.testing.assert_array_equal(activations.get(name).df(z, a), from_output(a))


@pytest.mark.parametrize(
    "name, want",
    [
        # f'(0) by hand: sigmoid' = s(1-s) = 1/4; tanh' = 1 - 0 = 1; softplus' = sigmoid = 1/2;
        # softsign' = 1/(1+0)^2 = 1; silu' = s(1 + z(1-s)) = 1/2; gelu' = Phi(0) + 0 = 1/2;
        # elu' = 1 at 0 (TF uses the output: a + 1 = 1); linear' = 1.
        ("sigmoid", 0.25),
        ("tanh", 1.0),
        ("softplus", 0.5),
        ("softsign", 1.0),
        ("silu", 0.5),
        ("gelu", 0.5),
        ("gelu_tanh", 0.5),
        ("elu", 1.0),
        ("linear", 1.0),
    ],
)
def test_derivative_at_zero_by_hand(name, want):
    assert derivative_at(name, 0.0) == pytest.approx(want, abs=1e-15)


# --- extreme inputs and dtypes --------------------------------------------------------

EXTREME = [-1e4, -1000.0, -1.0, 0.0, 1.0, 1000.0, 1e4]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ALL)
def test_extreme_inputs_finite_without_warnings(name, dtype):
    """z = +-1000 and +-1e4: finite f and f' with no warning, overflow or invalid op."""
    act = activations.get(name)
    z = np.array([EXTREME, EXTREME[::-1]], dtype=dtype)
    with strict_numerics():
        a = act.f(z)
        delta = act.vjp(np.ones_like(z), z, a)
    assert np.isfinite(a).all(), f"{name}({z}) = {a}"
    assert np.isfinite(delta).all(), f"{name}'({z}) = {delta}"


@pytest.mark.parametrize(
    "name, z, want",
    [
        ("sigmoid", [-1000.0, 1000.0], [0.0, 1.0]),
        ("tanh", [-1000.0, 1000.0], [-1.0, 1.0]),
        ("softplus", [-1000.0, 1000.0], [0.0, 1000.0]),
        ("silu", [-1000.0, 1000.0], [0.0, 1000.0]),
        ("gelu", [-1000.0, 1000.0], [0.0, 1000.0]),
        ("elu", [-1000.0, 1000.0], [-1.0, 1000.0]),
        ("softmax", [-1000.0, 1000.0], [0.0, 1.0]),
    ],
)
def test_extreme_input_limits(name, z, want):
    """The limits by hand: sigmoid(-1000) = 0, softplus(1000) = 1000, elu(-inf) = -1, ..."""
    for dtype in ("float32", "float64"):
        with strict_numerics():
            got = activations.get(name).f(np.array([z], dtype=dtype))
        np.testing.assert_array_equal(got[0], np.array(want, dtype=dtype), err_msg=name)


@pytest.mark.parametrize("name", ALL)
def test_float32_in_float32_out(name, rng):
    """f, f' and the vjp keep float32 (no silent upcast from Python or float64 constants)."""
    act = activations.get(name)
    for z in (rng.normal(scale=3.0, size=(3, 4)), np.array([EXTREME])):
        z = z.astype(np.float32)
        a = act.f(z)
        assert a.dtype == np.float32, f"{name}: f gave {a.dtype}"
        if act.elementwise:
            df = act.df(z, a)
            assert df.dtype == np.float32, f"{name}: df gave {df.dtype}"
        g = np.ones_like(z)
        delta = act.vjp(g, z, a)
        assert delta.dtype == np.float32, f"{name}: vjp gave {delta.dtype}"


@pytest.mark.parametrize("name", ALL)
def test_does_not_mutate_its_input(name, rng):
    act = activations.get(name)
    z = rng.normal(size=(3, 4))
    g = rng.normal(size=(3, 4))
    z0, g0 = z.copy(), g.copy()
    act.vjp(g, z, act.f(z))
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(g, g0)


# --- the registry ---------------------------------------------------------------------


def test_registry_holds_the_design_entries():
    required = {"linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"}
    required |= {"softsign", "silu", "swish", "gelu", "gelu_tanh", "softmax"}
    assert required <= set(ALL)
    assert set(KINKED) == {"relu", "leaky_relu"}


def test_unknown_activation_lists_the_choices():
    with pytest.raises(ValueError, match="activation: unknown name 'nope'") as info:
        activations.get("nope")
    for name in ALL:
        assert repr(name) in str(info.value)


def test_activation_name_must_be_a_string():
    with pytest.raises(TypeError, match="activation"):
        activations.get(3)


def test_register_with_one_argument_derivative(private_registry, rng):
    """A user's f(z) = z^3 with f'(z) = 3 z^2 given as df(z)."""
    act = activations.register("cube", lambda z: z**3, lambda z: 3 * z * z)
    assert activations.get("cube") is act and "cube" in activations.names()
    z = points_off_kinks(rng)
    g = rng.normal(size=z.shape)
    assert_close(act.vjp(g, z, act.f(z)), g * 3 * z**2, EXACT_RTOL, "cube vjp")


def test_register_with_two_argument_derivative(private_registry, rng):
    """A user's f(z) = exp(z) with f'(z) = a taken from the cached output."""
    act = activations.register("exp", np.exp, lambda z, a: a)
    z = rng.normal(size=(3, 4))
    g = rng.normal(size=z.shape)
    assert_close(act.vjp(g, z, act.f(z)), g * np.exp(z), EXACT_RTOL, "exp vjp")


def test_registered_activation_trains_through_a_network(private_registry, rng):
    """The network's backprop picks the user's derivative up: gradcheck passes."""
    activations.register("cube", lambda z: z**3, lambda z: 3 * z * z)
    net = refnet.Network.build([3, 4, 2], ["cube", "linear"], seed=1)
    X = rng.normal(size=(5, 3))
    Y = rng.normal(size=(5, 2))
    report = refnet.gradcheck(net, X, Y, "mse")
    assert report.ok, str(report)


def test_register_rejects_non_callables(private_registry):
    with pytest.raises(TypeError, match="f and df"):
        activations.register("bad", np.tanh, "not a function")
    with pytest.raises(TypeError, match="name"):
        activations.register("", np.tanh, lambda z: 1 - np.tanh(z) ** 2)


def test_register_with_ufunc_derivatives_never_writes_into_the_cached_output(
    private_registry, rng
):
    """np.cos as df(z, a) would be cos(z, out=a): a = sin(z) must stay sin(z) (W4)."""
    activations.register("sine", np.sin, np.cos)
    activations.register("absval", np.abs, np.sign)
    # f' = 1 here, a wrong but valid df
    activations.register("expo", np.exp, np.ones_like)
    X = rng.normal(size=(5, 3))
    for name, f, df in (
        ("sine", np.sin, np.cos),
        ("absval", np.abs, np.sign),
        ("expo", np.exp, np.ones_like),
    ):
        net = refnet.Network.build([3, 2], [name], seed=0)
        W, b = net.layers[0].W, net.layers[0].b
        z = X @ W + b  # computed here, independently of the network
        res = net.gradients(X, np.zeros((5, 2)), "mse")
        assert_close(res.a[-1], f(z), EXACT_RTOL, f"{name}: a = f(z)")
        delta = 2 * (f(z) - 0) / z.size * df(z)  # BP1 for mse, by hand
        assert_close(res.delta[-1], delta, EXACT_RTOL, f"{name}: delta")


def test_register_refuses_builtins_and_functions_that_change_shape_or_dtype(
    private_registry,
):
    with pytest.raises(ValueError, match="name: 'relu' is a built-in"):
        activations.register("relu", np.tanh, lambda z: 1 - np.tanh(z) ** 2)
    with pytest.raises(TypeError, match="f: expected .* dtype float32, got .* float64"):
        activations.register("up", lambda z: z.astype(np.float64), lambda z: z)
    with pytest.raises(
        TypeError, match=r"df: expected .* shape \(2, 3\) .*, got shape \(\)"
    ):
        activations.register("scalar", np.tanh, lambda z: 1.0)
    with pytest.raises(TypeError, match="df: calling it .* raised ZeroDivisionError"):
        activations.register("boom", np.tanh, lambda z: 1 / 0)
    assert activations.get("relu").f is not np.tanh
