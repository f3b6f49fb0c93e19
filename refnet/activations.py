"""Activation functions f(z) and their derivatives f'(z), side by side.

Every entry of the registry is one :class:`Activation`: its forward ``f(z)`` and its
derivative ``df(z, a)`` where ``a = f(z)`` is the cached output. Derivatives that
TensorFlow computes from the output (sigmoid, tanh, elu) are computed from ``a`` here
too, so both sides round the same way. Where f has a kink, the docstring states the
value used there; refnet follows TensorFlow everywhere.

The backward step of an activation is the vector-Jacobian product

    dL/dz = vjp(g, z, a)    with g = dL/da                             (BP2)

which for an elementwise f is ``g * f'(z)``. Softmax is not elementwise: its Jacobian
is diag(a) - a a^T per row, and its vjp is ``a * (g - sum(g * a))`` (SM1).

All functions keep the dtype of ``z``: float32 in, float32 out, and give finite
results without NumPy warnings for |z| up to 1e4 and far beyond (sigmoid(-1000) = 0);
only the z^2 and z^3 terms of gelu, gelu_tanh and softsign' overflow, once |z| nears
the square or cube root of the float's range (~1e12 in float32), where underflow to 0 is
the one floating-point event, as in TensorFlow.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


@dataclass(frozen=True)
class Activation:
    """One registry entry: ``f(z)`` and ``df(z, a)`` with ``a = f(z)``.

    ``smooth`` is False for functions with a kink (relu, leaky_relu): finite
    differences across the kink are meaningless and ``gradcheck`` skips them.
    ``elementwise`` is False only for softmax, whose backward pass is ``jvp``.
    ``negative_slope`` is the slope for z <= 0 of the leaky ReLUs (``leaky_relu``: 0.2;
    ``leaky_relu(0.3)``: 0.3), None for every other entry.
    """

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array, Array], Array] | None
    smooth: bool = True
    jvp: Callable[[Array, Array], Array] | None = None
    negative_slope: float | None = None
    # Whether f and df accept ``out=`` (an array of z's shape and dtype to write into):
    # the training path then reuses its buffers instead of allocating (docs/09-speed.md).
    f_takes_out: bool = field(init=False, repr=False, compare=False)
    df_takes_out: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "f_takes_out", _takes_out(self.f))
        object.__setattr__(self, "df_takes_out", _takes_out(self.df))

    @property
    def elementwise(self) -> bool:
        return self.jvp is None

    def forward(self, z: Array, out: Array | None = None) -> Array:
        """a = f(z) (FP2), written into ``out`` when given and f accepts it."""
        if out is not None and self.f_takes_out:
            return self.f(z, out=out)
        return self.f(z)

    def vjp(
        self,
        g: Array,
        z: Array,
        a: Array,
        out: Array | None = None,
        work: Array | None = None,
    ) -> Array:
        """dL/dz from g = dL/da: ``g * f'(z)``, or softmax's Jacobian product (BP2, SM1).

        ``out=g`` writes an elementwise f's product over g, saving an (n, n_l) array;
        only for a g that nothing else holds (the network passes its own). ``work``, an
        array of z's shape and dtype, receives f'(z) when df accepts ``out=``.
        """
        if self.jvp is not None:
            return self.jvp(g, a)
        if self.name == "linear":  # f'(z) = 1: skip the multiply, return g itself
            return g
        if work is not None and self.df_takes_out:
            fprime = self.df(z, a, out=work)
        else:
            fprime = self.df(z, a)
        return np.multiply(g, fprime, out=out)


def _takes_out(fn) -> bool:
    if fn is None:
        return False
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _const(z: Array, value: float) -> Array:
    """A scalar in z's dtype (np.where with Python floats would give float64)."""
    return z.dtype.type(value)


# ---------------------------------------------------------------------------------
# The table: each f sits directly above its derivative.
# ---------------------------------------------------------------------------------


def linear(z: Array) -> Array:
    """f(z) = z (AF1)."""
    return z


def linear_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = 1 (AF1)."""
    return np.ones_like(z)


def sigmoid(z: Array) -> Array:
    """f(z) = 1 / (1 + exp(-z)), evaluated without overflow (AF2).

    For z >= 0 this is 1 / (1 + exp(-z)); for z < 0 the algebraically equal
    exp(z) / (1 + exp(z)), so exp never sees a large positive argument. Both cases at
    once: exp(min(z, 0)) / (1 + exp(-|z|)) (no np.where, whose random branches cost
    more than a second exp).
    """
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.exp(np.minimum(z, _const(z, 0))) / (1 + e)


def sigmoid_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = a (1 - a) with a = sigmoid(z), from the output as TensorFlow does (AF2)."""
    a = sigmoid(z) if a is None else a
    return a * (1 - a)


def tanh(z: Array, out: Array | None = None) -> Array:
    """f(z) = tanh(z) = 2 sigmoid(2z) - 1 (AF3)."""
    return np.tanh(z, out=out)


def tanh_prime(z: Array, a: Array | None = None, out: Array | None = None) -> Array:
    """f'(z) = 1 - a^2 with a = tanh(z), from the output as TensorFlow does (AF3)."""
    a = np.tanh(z) if a is None else a
    a2 = np.multiply(a, a, out=out)
    return np.subtract(1, a2, out=out)


def relu(z: Array, out: Array | None = None) -> Array:
    """f(z) = max(0, z) (AF4)."""
    return np.maximum(z, _const(z, 0), out=out)


def relu_prime(z: Array, a: Array | None = None, out: Array | None = None) -> Array:
    """f'(z) = 1 if z > 0 else 0. At the kink f'(0) = 0, as TensorFlow (and JAX) (AF4)."""
    if out is None:
        return (z > 0).astype(z.dtype)
    return np.greater(z, 0, out=out)  # True/False written as 1/0 in z's dtype


LEAKY_RELU_SLOPE = 0.2  # keras.activations.leaky_relu's default negative_slope


def leaky_relu(z: Array, slope: float = LEAKY_RELU_SLOPE) -> Array:
    """f(z) = z if z > 0 else slope z (slope 0.2, the Keras 3 default) (AF5).

    ``activations.get("leaky_relu(0.3)")`` is this f with slope 0.3 (the default of the
    layer ``keras.layers.LeakyReLU``)."""
    # slope <= 1: slope z > z exactly when z < 0 (max); slope > 1: the other way (min)
    s = _const(z, slope)
    return np.maximum(z, z * s) if slope <= 1 else np.minimum(z, z * s)


def leaky_relu_prime(
    z: Array, a: Array | None = None, slope: float = LEAKY_RELU_SLOPE
) -> Array:
    """f'(z) = 1 if z > 0 else slope. At the kink f'(0) = slope, as TensorFlow (AF5)."""
    if slope <= 1:
        return np.maximum(z > 0, _const(z, slope))  # max(1, slope) or max(0, slope)
    return np.where(z > 0, _const(z, 1), _const(z, slope))


def elu(z: Array) -> Array:
    """f(z) = z if z > 0 else exp(z) - 1 (alpha = 1, the Keras default) (AF6)."""
    return np.maximum(z, np.expm1(np.minimum(z, _const(z, 0))))  # exp(z) - 1 >= z


def elu_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = 1 if z > 0 else a + 1 = exp(z), from the output as TensorFlow; f'(0) = 1 (AF6)."""
    a = elu(z) if a is None else a
    # a + 1 < 1 exactly when z < 0; fmin ignores a NaN a and gives 1, as TF's where
    return np.fmin(a + 1, _const(z, 1))


def softplus(z: Array) -> Array:
    """f(z) = log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), stable for any z (AF7)."""
    return np.maximum(z, _const(z, 0)) + np.log1p(np.exp(-np.abs(z)))


def softplus_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = sigmoid(z) (AF7)."""
    return sigmoid(z)


def softsign(z: Array) -> Array:
    """f(z) = z / (1 + |z|) (AF8)."""
    return z / (1 + np.abs(z))


def softsign_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = 1 / (1 + |z|)^2 (AF8)."""
    d = 1 + np.abs(z)
    return 1 / (d * d)


def silu(z: Array) -> Array:
    """f(z) = z sigmoid(z) (also called swish) (AF9)."""
    return z * sigmoid(z)


def silu_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = s (1 + z (1 - s)) with s = sigmoid(z), TensorFlow's form (AF9)."""
    s = sigmoid(z)
    return s * (1 + z * (1 - s))


_erfc = np.vectorize(math.erfc, otypes=[np.float64])
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _std_normal_cdf(z: Array) -> Array:
    """Phi(z) = erfc(-z / sqrt(2)) / 2 (erfc keeps precision in the far left tail)."""
    return (0.5 * _erfc(-z * _SQRT_HALF)).astype(z.dtype)


def gelu(z: Array) -> Array:
    """f(z) = z Phi(z) = z erfc(-z / sqrt(2)) / 2: the exact form, Keras 3's default (AF10)."""
    return z * _std_normal_cdf(z)


def gelu_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = Phi(z) + z phi(z) with phi(z) = exp(-z^2 / 2) / sqrt(2 pi) (AF10)."""
    phi = np.exp(-0.5 * z * z) * _const(z, _INV_SQRT_2PI)
    return _std_normal_cdf(z) + z * phi


_GELU_C = math.sqrt(2 / math.pi)


def gelu_tanh(z: Array) -> Array:
    """f(z) = z (1 + tanh(u)) / 2 with u = sqrt(2/pi) (z + 0.044715 z^3): the tanh approximation (AF11)."""
    u = _const(z, _GELU_C) * (z + _const(z, 0.044715) * z * z * z)
    return 0.5 * z * (1 + np.tanh(u))


def gelu_tanh_prime(z: Array, a: Array | None = None) -> Array:
    """f'(z) = (1 + t) / 2 + z (1 - t^2) u'(z) / 2 with t = tanh(u), u' = sqrt(2/pi)(1 + 3 * 0.044715 z^2) (AF11)."""
    u = _const(z, _GELU_C) * (z + _const(z, 0.044715) * z * z * z)
    t = np.tanh(u)
    du = _const(z, _GELU_C) * (1 + _const(z, 3 * 0.044715) * z * z)
    return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * du


def softmax(z: Array) -> Array:
    """f(z)_j = exp(z_j - max z) / sum_k exp(z_k - max z), along the last axis (AF12)."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_jvp(g: Array, a: Array) -> Array:
    """dL/dz = a * (g - sum(g * a)) per row, with a = softmax(z), g = dL/da (SM1).

    The Jacobian of softmax is da_i/dz_j = a_i (delta_ij - a_j); contracted with g
    it never needs to be formed.
    """
    return a * (g - (g * a).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------

_REGISTRY: dict[str, Activation] = {}


def register(
    name: str, f: Callable, df: Callable, *, smooth: bool = True
) -> Activation:
    """Add an elementwise activation ``name`` with forward ``f(z)`` and derivative ``df``.

    ``df`` takes ``z`` alone, or ``(z, a)`` with ``a = f(z)`` the cached output when it
    is a Python function of exactly two positional parameters (or whose second is named
    ``a``). Anything else (a NumPy
    ufunc such as ``np.cos``, whose second argument would be ``out=``) is called as
    ``df(z)``, so the cached ``a`` is never written into. ``f`` and ``df`` are tried on
    a small float32 and float64 array: each must keep the shape and dtype of ``z``.
    Returns the new :class:`Activation`. Registering a user name again replaces it;
    the built-in names cannot be replaced (crosscheck maps them to Keras' own).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: expected a non-empty str, got {name!r}")
    if name in _BUILTIN:
        raise ValueError(
            f"name: {name!r} is a built-in activation and cannot be replaced; "
            "register yours under another name"
        )
    if not callable(f) or not callable(df):
        raise TypeError(
            f"f and df: expected callables, got {type(f).__name__} and {type(df).__name__}"
        )
    if not _takes_cached_output(df):
        one_arg = df
        df = lambda z, a=None: one_arg(z)  # noqa: E731
    entry = Activation(name, f, df, smooth=smooth)
    if _BUILTIN:  # the built-ins below are tested in tests/refnet/test_activations.py
        _probe(entry)
    _REGISTRY[name] = entry
    return entry


def _takes_cached_output(df: Callable) -> bool:
    """True for a Python function ``df(z, a)``: exactly two positional parameters, or a
    second one named ``a`` (later ones, such as ``out=``, having defaults)."""
    if not (inspect.isfunction(df) or inspect.ismethod(df)):
        return False
    params = inspect.signature(df).parameters.values()
    positional = [
        p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.kind is p.VAR_POSITIONAL for p in params) or len(positional) < 2:
        return False
    rest_default = all(p.default is not p.empty for p in positional[2:])
    return rest_default and (len(positional) == 2 or positional[1].name == "a")


def _probe(act: Activation) -> None:
    """f and df keep z's shape and dtype, for both float dtypes (checked once, here)."""
    for dtype in (np.float32, np.float64):
        z = np.linspace(-2, 2, 6, dtype=dtype).reshape(2, 3)
        for what, fn in (("f", lambda: act.f(z)), ("df", lambda: act.df(z, act.f(z)))):
            try:
                out = np.asarray(fn())
            except Exception as err:
                raise TypeError(
                    f"{what}: calling it on a {dtype.__name__} array of shape (2, 3) "
                    f"raised {type(err).__name__}: {err}"
                ) from None
            if out.shape != z.shape or out.dtype != z.dtype:
                raise TypeError(
                    f"{what}: expected an array of the input's shape (2, 3) and dtype "
                    f"{np.dtype(dtype).name}, got shape {out.shape} and dtype {out.dtype}"
                )


_BUILTIN: frozenset[str] = frozenset()


for _name, _f, _df, _smooth in [
    ("linear", linear, linear_prime, True),
    ("sigmoid", sigmoid, sigmoid_prime, True),
    ("tanh", tanh, tanh_prime, True),
    ("relu", relu, relu_prime, False),
    ("elu", elu, elu_prime, True),
    ("softplus", softplus, softplus_prime, True),
    ("softsign", softsign, softsign_prime, True),
    ("silu", silu, silu_prime, True),
    ("gelu", gelu, gelu_prime, True),
    ("gelu_tanh", gelu_tanh, gelu_tanh_prime, True),
]:
    register(_name, _f, _df, smooth=_smooth)
_REGISTRY["swish"] = Activation("swish", silu, silu_prime)  # Keras' alias of silu
_REGISTRY["softmax"] = Activation("softmax", softmax, None, jvp=softmax_jvp)
_REGISTRY["leaky_relu"] = Activation(
    "leaky_relu",
    leaky_relu,
    leaky_relu_prime,
    smooth=False,
    negative_slope=LEAKY_RELU_SLOPE,
)
_BUILTIN = frozenset(_REGISTRY)

# leaky_relu(SLOPE): the leaky ReLU with its own slope, made on first use by get().
_LEAKY_NAME = re.compile(r"leaky_relu\((.*)\)")
_LEAKY: dict[float, Activation] = {}


def leaky_relu_name(slope: float) -> str:
    """The activation name of the leaky ReLU with this slope: ``leaky_relu`` for 0.2,
    else ``leaky_relu(SLOPE)`` with the float's shortest repr (0.3 -> "leaky_relu(0.3)")."""
    slope = float(slope)
    return "leaky_relu" if slope == LEAKY_RELU_SLOPE else f"leaky_relu({slope!r})"


def _leaky(name: str, text: str) -> Activation:
    """The entry for ``leaky_relu(SLOPE)``: f and f' of AF5 with that slope."""
    try:
        slope = float(text)
    except ValueError:
        slope = math.nan
    if not (math.isfinite(slope) and slope >= 0):
        raise ValueError(
            f"activation: {name!r} needs a finite slope >= 0 in the parentheses, e.g. "
            "'leaky_relu(0.3)'"
        )
    if slope == LEAKY_RELU_SLOPE:
        return _REGISTRY["leaky_relu"]
    if slope not in _LEAKY:
        _LEAKY[slope] = Activation(
            leaky_relu_name(slope),
            functools.partial(leaky_relu, slope=slope),
            functools.partial(leaky_relu_prime, slope=slope),
            smooth=False,
            negative_slope=slope,
        )
    return _LEAKY[slope]


def names() -> list[str]:
    """The registered activation names, sorted."""
    return sorted(_REGISTRY)


def get(name: str | Activation) -> Activation:
    """Look up an activation by name; an :class:`Activation` passes through.

    ``leaky_relu(SLOPE)`` (e.g. ``"leaky_relu(0.3)"``, any finite slope >= 0) is the leaky
    ReLU of AF5 with that slope; its entry's name is :func:`leaky_relu_name` of it, so it
    survives ``Network.save``/``load`` and crosscheck's ``to_keras``/``from_keras``.
    Raises ValueError naming the valid choices for an unknown name.
    """
    if isinstance(name, Activation):
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation: expected a name (str), got {type(name).__name__}")
    if name in _REGISTRY:
        return _REGISTRY[name]
    match = _LEAKY_NAME.fullmatch(name.strip())
    if match:
        return _leaky(name, match.group(1))
    raise ValueError(
        f"activation: unknown name {name!r}; expected one of {names()}, or "
        "'leaky_relu(SLOPE)' for a leaky ReLU of another slope"
    )
