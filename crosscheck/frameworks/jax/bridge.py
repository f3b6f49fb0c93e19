"""Exact weight transfer between refnet and JAX: ``to_jax`` and ``from_jax``, and the
activation table.

JAX has no layer objects of its own (Flax is not needed): a network is a plain pytree,
a list with one ``(W, b)`` tuple per Dense layer, ``W`` of shape (n_in, n_out) as refnet's
and Keras', ``b`` of shape (n_out,) or None for a layer without bias, as jax arrays in the
network's dtype; the activations are a list of refnet names beside it, and
:func:`forward` computes z = a @ W + b, a = f(z) layer by layer (FP1, FP2).

    refnet                 JAX (:func:`jax_activation`)
    linear                 the identity
    sigmoid                jax.nn.sigmoid
    tanh                   jnp.tanh
    relu                   jax.nn.relu             (f'(0) = 0, as refnet and TensorFlow)
    leaky_relu             where(z > 0, z, 0.2 z)  (jax.nn.leaky_relu's default slope
                                                   is 0.01, and its z >= 0 test gives
                                                   f'(0) = 1 where refnet and TF give
                                                   the slope)
    leaky_relu(SLOPE)      where(z > 0, z, SLOPE z)
    elu                    jax.nn.elu(alpha=1.0)
    softplus               jax.nn.softplus         (logaddexp(z, 0): no threshold)
    softsign               jax.nn.soft_sign
    silu, swish            jax.nn.silu
    gelu                   jax.nn.gelu(approximate=False)  (JAX's default is the tanh
                                                   form: approximate=True)
    gelu_tanh              jax.nn.gelu(approximate=True)
    softmax                jax.nn.softmax(axis=-1)

float64 needs JAX's 64-bit mode (off by default: a float64 array would become float32).
``to_jax`` makes a float64 network's arrays inside ``with x64():``
(crosscheck/frameworks/jax/imports.py), so they hold the exact float64 weights; compute
with them inside such a block too (or with ``jax_enable_x64`` set), else JAX computes in
float32.
"""

from __future__ import annotations

import numpy as np

import refnet

from .. import check_transfer
from .imports import import_jax, x64_for


def _leaky(slope: float):
    """refnet's leaky ReLU (AF5): f'(0) = slope, as TensorFlow (z > 0, not z >= 0)."""
    jnp = import_jax().numpy

    def leaky_relu(z):
        return jnp.where(z > 0, z, z * jnp.asarray(slope, z.dtype))

    return leaky_relu


def jax_activation(name: str):
    """A JAX function computing refnet's activation ``name`` (any ``leaky_relu(SLOPE)``
    too); ValueError for a name without a JAX counterpart (a user-registered one)."""
    jax = import_jax()
    nn, jnp = jax.nn, jax.numpy
    table = {
        "linear": lambda z: z,
        "sigmoid": nn.sigmoid,
        "tanh": jnp.tanh,
        "relu": nn.relu,
        "elu": lambda z: nn.elu(z, alpha=1.0),
        "softplus": nn.softplus,
        "softsign": nn.soft_sign,
        "silu": nn.silu,
        "swish": nn.silu,
        "gelu": lambda z: nn.gelu(z, approximate=False),
        "gelu_tanh": lambda z: nn.gelu(z, approximate=True),
        "softmax": lambda z: nn.softmax(z, axis=-1),
    }
    if name in table:
        return table[name]
    try:
        slope = refnet.activations.get(name).negative_slope
    except (TypeError, ValueError):
        slope = None
    if slope is not None:
        return _leaky(float(slope))
    raise ValueError(
        f"activation: expected one of {[*table, 'leaky_relu', 'leaky_relu(SLOPE)']}, "
        f"got {name!r}"
    )


def activations_of(net: refnet.Network) -> list[str]:
    """The refnet activation name of each layer of ``net`` (what :func:`forward` takes)."""
    return [layer.activation.name for layer in net.layers]


def to_jax(net: refnet.Network) -> list:
    """``[(W, b), ...]``: net's weights as jax arrays in net's dtype, one tuple per layer
    (b None without bias); copied, and the transfer checked exactly (check_transfer).

    The activations are not part of the pytree: ``activations_of(net)`` lists them, and
    :func:`forward` runs both. A float64 net's arrays are made inside JAX's 64-bit
    scope, so they are float64; compute with them inside ``with x64():`` too.

    Raises
    ------
    TypeError
        If ``net`` is not a refnet.Network.
    ValueError
        If an activation has no JAX counterpart (a user-registered one).
    """
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    jax = import_jax()
    for l, name in enumerate(activations_of(net)):
        try:
            jax_activation(name)
        except ValueError as err:
            raise ValueError(
                f"net.layers[{l}]: activation {name!r} has no JAX counterpart; {err}"
            ) from None
    params = []
    with x64_for(net.dtype):
        for l, layer in enumerate(net.layers, start=1):
            W = jax.device_put(layer.W.copy())  # (jnp.array would compile)
            check_transfer(np.asarray(W), layer.W, f"layer {l}: W")
            b = None
            if layer.use_bias:
                b = jax.device_put(layer.b.copy())
                check_transfer(np.asarray(b), layer.b, f"layer {l}: b")
            params.append((W, b))
    return params


def forward(params, x, activations, masks=None):
    """The network's output on x (n, n_0): z = a @ W + b, a = f(z) per layer (FP1, FP2);
    ``masks`` (per layer None or an (n, n_l) array): dropout in training mode, the next
    layer reads m * a (BP6, BP7). Differentiable by jax.grad; for float64 call it inside
    ``with x64():``."""
    return layer_by_layer(params, x, activations, masks)[0]


def layer_by_layer(params, x, activations, masks=None, tap=None):
    """(output, [z], [a]) of :func:`forward`, a = f(z) before any dropout mask as refnet's
    ``res.a``. ``tap(l, z)``, when given, returns what layer l (0-based) uses as its z:
    the oracle's pins and its handle on dL/dz go there."""
    zs, acts = [], []
    a = x
    for l, ((W, b), name) in enumerate(zip(params, activations)):
        z = a @ W if b is None else a @ W + b  # (n, n_l)                  FP1
        if tap is not None:
            z = tap(l, z)
        a = jax_activation(name)(z)  # (n, n_l)                           FP2
        zs.append(z)
        acts.append(a)
        if masks is not None and masks[l] is not None:
            a = a * masks[l]  # a~ = m * a                                 BP6
    return a, zs, acts


def _pair(params, l: int):
    """(W, b) of params[l] as NumPy arrays; TypeError/ValueError naming params[l]."""
    item = params[l]
    if not isinstance(item, (tuple, list)) or len(item) != 2:
        raise TypeError(
            f"params[{l}]: expected a (W, b) pair (b None without bias), got "
            f"{type(item).__name__}"
            + (f" of length {len(item)}" if isinstance(item, (tuple, list)) else "")
        )
    W = np.array(item[0])
    b = None if item[1] is None else np.array(item[1])
    for what, w, ndim in (("W", W, 2), ("b", b, 1)):
        if w is None:
            continue
        if w.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"params[{l}]: expected {what} of dtype float32 or float64, got "
                f"{w.dtype}"
            )
        if w.ndim != ndim or 0 in w.shape:
            raise ValueError(
                f"params[{l}]: expected {what} with {ndim} non-empty axes"
                + (" (n_in, n_out)" if what == "W" else " (n_out,)")
                + f", got shape {w.shape}"
            )
        if not np.isfinite(w).all():
            raise ValueError(
                f"params[{l}]: its {what} holds NaN or inf; refnet needs finite weights"
            )
    if b is not None and b.shape != (W.shape[1],):
        raise ValueError(
            f"params[{l}]: expected b of shape ({W.shape[1]},) to match W of shape "
            f"{W.shape}, got {b.shape}"
        )
    if b is not None and b.dtype != W.dtype:
        raise TypeError(
            f"params[{l}]: expected b in W's dtype {W.dtype}, got {b.dtype}"
        )
    return W, b


def from_jax(params, activations, input_shape=None) -> refnet.Network:
    """A refnet.Network with the weights of the pytree ``params`` (as :func:`to_jax`
    makes it: a list of ``(W, b)`` per layer, b None without bias) and the refnet
    activation names ``activations`` (one per layer, e.g. ``["relu", "softmax"]``).

    Weights are copied exactly, in their dtype (all float32 or all float64).
    ``input_shape`` (e.g. (28, 28), its product the first W's n_in): the net flattens
    its input as refnet's FL1; without it, X is already (n, n_in).

    Raises
    ------
    TypeError
        params not a list/tuple of (W, b) pairs, a non-float or mixed dtype, activations
        not a list of str.
    ValueError
        No layers, a count of activations other than of layers, an unknown activation,
        a W whose n_in is not the previous n_out, a b of the wrong shape, NaN/inf
        weights, or an input_shape that does not fit.
    """
    if not isinstance(params, (list, tuple)):
        raise TypeError(
            f"params: expected a list of (W, b) pairs, got {type(params).__name__}"
        )
    if not params:
        raise ValueError("params: expected at least one (W, b) pair, got none")
    pairs = [_pair(params, l) for l in range(len(params))]
    if isinstance(activations, str) or not isinstance(activations, (list, tuple)):
        raise TypeError(
            "activations: expected a list of refnet activation names, one per layer, "
            f"got {type(activations).__name__}"
        )
    if len(activations) != len(pairs):
        raise ValueError(
            f"activations: expected {len(pairs)} names (one per (W, b) in params), got "
            f"{len(activations)}"
        )
    for l, name in enumerate(activations):
        if not isinstance(name, str):
            raise TypeError(
                f"activations[{l}]: expected a refnet activation name (str), got "
                f"{type(name).__name__}"
            )
        try:
            refnet.activations.get(name)
        except ValueError as err:
            raise ValueError(f"activations[{l}]: {err}") from None
    for l in range(1, len(pairs)):
        if pairs[l][0].shape[0] != pairs[l - 1][0].shape[1]:
            raise ValueError(
                f"params[{l}]: expected W with n_in = {pairs[l - 1][0].shape[1]} (the "
                f"n_out of params[{l - 1}]), got shape {pairs[l][0].shape}"
            )
        if pairs[l][0].dtype != pairs[0][0].dtype:
            raise TypeError(
                f"params[{l}]: expected every layer in one dtype, got "
                f"{pairs[l][0].dtype} after {pairs[0][0].dtype}"
            )
    layers = [
        refnet.Dense(
            W.shape[0],
            W.shape[1],
            name,
            init="zeros",
            dtype=W.dtype,
            use_bias=b is not None,
        )
        for (W, b), name in zip(pairs, activations)
    ]
    net = refnet.Network(layers, input_shape=input_shape)
    net.set_weights([w for W, b in pairs for w in (W, b) if w is not None])
    return net
