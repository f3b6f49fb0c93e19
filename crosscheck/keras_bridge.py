"""Exact weight transfer between refnet and Keras: ``to_keras`` and ``from_keras``.

TensorFlow and Keras are imported lazily, once per process (:func:`tf_and_keras`), so
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

import os
import sys
import tempfile

import numpy as np

import refnet

_MODULES: dict = {}

# The refnet activations with a Keras counterpart (the table above).
ACTIVATIONS = (
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus",
    "softsign", "silu", "swish", "gelu", "gelu_tanh", "softmax",
)  # fmt: skip


# What TensorFlow 2.21 writes to the C-level stderr while it is imported, whatever
# TF_CPP_MIN_LOG_LEVEL says: absl's start-up line, the oneDNN notice (twice) and the
# CPU-feature notice. Only TF_ENABLE_ONEDNN_OPTS=0 prevents them, and that changes the
# float32 numbers being checked, so instead these lines are dropped while importing.
_TF_START_UP_NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "cpu_feature_guard.cc",
    "To enable the following instructions:",
)


def import_tensorflow_quietly():
    """Import tensorflow and keras with TF's start-up log lines kept off the terminal.

    File descriptor 2 points to a temporary file during the import; afterwards every
    line that is not one of the known start-up notices is written back to stderr, so a
    real error still shows. What TF logs later (after the import) is not filtered.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return sys.modules["tensorflow"], sys.modules["keras"]
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow as tf
        except ImportError as err:
            raise ImportError(
                f"crosscheck needs TensorFlow and Keras ({err}); install them with "
                "pip install 'refnet[tf]' (or pip install tensorflow keras)"
            ) from None
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
    for line in text.splitlines():
        if line.strip() and not any(noise in line for noise in _TF_START_UP_NOISE):
            print(line, file=sys.stderr)
    return tf, keras


def tf_and_keras():
    """(tensorflow, keras), imported on first use without TF's start-up log lines."""
    if not _MODULES:
        tf, keras = import_tensorflow_quietly()
        _MODULES["tf"], _MODULES["keras"] = tf, keras
        _register_gelu_tanh(keras)
    return _MODULES["tf"], _MODULES["keras"]


def _register_gelu_tanh(keras) -> None:
    """A named, serializable Keras activation for gelu's tanh approximation."""

    @keras.saving.register_keras_serializable(package="crosscheck", name="gelu_tanh")
    def gelu_tanh(x):
        """f(z) = z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2: keras gelu, approximate=True."""
        return keras.activations.gelu(x, approximate=True)

    _MODULES["gelu_tanh"] = gelu_tanh


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
        if name != "swish" and activation is keras_activation(
            name
        ):  # swish: silu's alias
            return name
    return None


def to_keras(net: refnet.Network, l2: float = 0.0):
    """A keras.Sequential with net's layout, activations, weights and dtype.

    ``l2 > 0`` gives every Dense layer ``kernel_regularizer=keras.regularizers.L2(l2)``:
    Keras then adds l2 * sum(W^2) per layer to the loss it trains on (LS6).

    Every layer is built with ``dtype=net.dtype`` behind an explicit
    ``keras.Input(dtype=net.dtype)``: a layer built as float32 would silently downcast
    float64 input. The kernels' dtype and values are asserted after the transfer. A layer
    without bias becomes ``Dense(use_bias=False)``; a net with an ``input_shape`` starts
    with ``keras.Input(input_shape)`` and ``Flatten()`` (row-major, FL1); a
    ``leaky_relu(SLOPE)`` layer becomes a linear Dense followed by
    ``keras.layers.LeakyReLU(negative_slope=SLOPE)`` (Keras has no activation function of
    another slope), which ``from_keras`` folds back.

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
    model = keras.Sequential(layers)
    model.set_weights(net.get_weights())
    dense = [k for k in model.layers if isinstance(k, keras.layers.Dense)]
    for l, (layer, klayer) in enumerate(zip(net.layers, dense), start=1):
        kernel = klayer.kernel.numpy()
        assert kernel.dtype == net.dtype, (
            f"layer {l}: Keras kernel dtype {kernel.dtype}, expected {net.dtype}"
        )
        assert np.array_equal(kernel, layer.W), f"layer {l}: weights changed in transfer"
        if layer.b is not None:
            bias = klayer.bias.numpy()
            assert bias.dtype == net.dtype and np.array_equal(bias, layer.b), (
                f"layer {l}: bias changed in transfer"
            )
    return model


def from_keras(model) -> refnet.Network:
    """A refnet.Network with model's layout, activations, weights, dtype and input shape.

    ``model`` is a keras.Sequential or a single-chain Functional model of InputLayer,
    Flatten, Dense (with or without bias), Activation, ReLU, LeakyReLU, Softmax and
    Dropout layers: activation layers are folded onto the linear Dense before them,
    Dropout is the identity (inference), a Flatten of an input of shape (28, 28) becomes
    the net's ``input_shape`` (crosscheck/keras_models.py has the details).

    Raises
    ------
    TypeError
        Not such a model, an unsupported layer (named by index, class and name), or a
        dtype other than float32/float64 (float16, bfloat16, mixed precision).
    ValueError
        An unbuilt model, a branch, an activation refnet lacks, an activation layer that
        cannot be folded, NaN/inf weights, or a Dense on a multi-axis input without
        Flatten.
    """
    from .keras_models import network_from_chain, read_chain

    return network_from_chain(read_chain(model))
