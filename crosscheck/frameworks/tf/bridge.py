"""Exact weight transfer from refnet to Keras: ``to_keras`` (``from_keras`` reads a model
back, in models.py).

TensorFlow and Keras are imported lazily, once per process (``imports.tf_and_keras``), so
``import crosscheck`` stays cheap and works without TensorFlow installed.

Every refnet activation maps to one Keras activation function:

    refnet        Keras
    linear        keras.activations.linear
    sigmoid       keras.activations.sigmoid
    tanh          keras.activations.tanh
    relu          keras.activations.relu          (tf.nn.relu: f'(0) = 0)
    leaky_relu    keras.activations.leaky_relu    (negative_slope 0.2)
    elu           keras.activations.elu           (alpha 1)
    softplus      keras.activations.softplus
    softsign      keras.activations.softsign
    silu, swish   keras.activations.silu          (swish is Keras' alias)
    gelu          keras.activations.gelu          (approximate=False: exact erf form)
    gelu_tanh     crosscheck>gelu_tanh            (keras gelu with approximate=True)
    softmax       keras.activations.softmax       (along the last axis)
"""

from __future__ import annotations

import refnet

from .. import check_transfer
from .imports import _MODULES, tf_and_keras

# The refnet activations with a Keras counterpart (the table above).
ACTIVATIONS = (
    "linear",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "gelu",
    "gelu_tanh",
    "softmax",
)


def keras_activation(name: str):
    """The Keras activation function for a refnet activation name."""
    _, keras = tf_and_keras()
    if name not in ACTIVATIONS:
        raise ValueError(
            f"activation: expected one of {list(ACTIVATIONS)}, got {name!r}"
        )
    if name == "gelu_tanh":
        return _MODULES["gelu_tanh"]
    if name == "swish":
        name = "silu"
    return keras.activations.get(name)


def refnet_activation_name(activation) -> str | None:
    """The refnet name of a Keras activation function, or None when refnet lacks it."""
    for name in ACTIVATIONS:
        # swish: silu's alias
        if name != "swish" and activation is keras_activation(name):
            return name
    return None


def to_keras(net: refnet.Network, l2: float = 0.0):
    """A keras.Sequential with net's layout, activations, weights and dtype.

    ``l2 > 0`` gives every Dense layer ``kernel_regularizer=keras.regularizers.L2(l2)``:
    Keras then adds l2 * sum(W^2) per layer to the loss it trains on (LS6).

    Every layer is built with ``dtype=net.dtype`` behind an explicit
    ``keras.Input(dtype=net.dtype)``: a layer built as float32 would silently downcast
    float64 input. The kernels' dtype and values are checked after the transfer. A layer
    without bias becomes ``Dense(use_bias=False)``; a net with an ``input_shape`` starts
    with ``keras.Input(input_shape)`` and ``Flatten()`` (row-major, FL1); a
    ``leaky_relu(SLOPE)`` layer becomes a linear Dense followed by
    ``keras.layers.LeakyReLU(negative_slope=SLOPE)`` (Keras has no activation function of
    another slope), which ``from_keras`` folds back. A layer with ``dropout=RATE`` is
    followed by ``keras.layers.Dropout(RATE)`` (after its LeakyReLU, if any): the
    identity in ``model(X)``, inverted dropout in ``model(X, training=True)`` and in
    ``fit``, as refnet's (``refnet.dropout``); ``from_keras`` reads it back onto the
    Dense.

    Raises
    ------
    TypeError
        If ``net`` is not a refnet.Network.
    ValueError
        If an activation has no Keras counterpart (a user-registered one).
    """
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    l2 = refnet.validation.check_l2(l2)
    _, keras = tf_and_keras()
    dtype = net.dtype.name
    input_shape = getattr(net, "input_shape", None)
    layers = [keras.Input(shape=input_shape or (net.sizes[0],), dtype=dtype)]
    if input_shape is not None:
        layers.append(keras.layers.Flatten(dtype=dtype, name="flatten"))
    for l, layer in enumerate(net.layers, start=1):
        name = layer.activation.name
        slope = layer.activation.negative_slope
        folded = None
        if slope is not None and name != "leaky_relu":  # leaky_relu(SLOPE)
            act = keras_activation("linear")
            folded = keras.layers.LeakyReLU(
                negative_slope=slope, dtype=dtype, name=f"leaky_relu{l}"
            )
        else:
            try:
                act = keras_activation(name)
            except ValueError:
                raise ValueError(
                    f"net.layers[{l - 1}]: activation {name!r} has no Keras counterpart; "
                    f"expected one of {list(ACTIVATIONS)} or leaky_relu(SLOPE)"
                ) from None
        reg = keras.regularizers.L2(l2) if l2 else None
        layers.append(
            keras.layers.Dense(
                layer.n_out,
                activation=act,
                use_bias=layer.b is not None,
                dtype=dtype,
                name=f"dense{l}",
                kernel_regularizer=reg,
            )
        )
        if folded is not None:
            layers.append(folded)
        if layer.dropout:  # after the activation, as refnet applies it (BP7)
            layers.append(
                keras.layers.Dropout(layer.dropout, dtype=dtype, name=f"dropout{l}")
            )
    model = keras.Sequential(layers)
    model.set_weights(net.get_weights())
    dense = [k for k in model.layers if isinstance(k, keras.layers.Dense)]
    for l, (layer, klayer) in enumerate(zip(net.layers, dense), start=1):
        check_transfer(klayer.kernel.numpy(), layer.W, f"layer {l}: W")
        if layer.b is not None:
            check_transfer(klayer.bias.numpy(), layer.b, f"layer {l}: b")
    return model
