"""Reading a user's Keras model: the chain of layers refnet represents, its compiled loss,
and the file it was saved in.

A model is accepted when it is one chain (a ``keras.Sequential``, or a Functional model
whose every layer takes the previous layer's output) of:

    InputLayer            the input shape; a shape of more than one axis needs a Flatten
    Flatten               before the first Dense, row-major (channels_last) as Keras:
                          refnet's ``input_shape`` (FL1)
    Dense                 with or without bias (``use_bias=False``: refnet's b is None)
    Activation, ReLU,     folded onto the Dense before them, which must be linear: refnet
    LeakyReLU, Softmax    has one activation per layer (ReLU with default arguments only,
                          LeakyReLU with its own slope -> ``leaky_relu(SLOPE)``, Softmax
                          on the last axis only)
    Dropout               after a Dense (and its folded activation): that layer's
                          ``dropout`` rate (refnet applies it after the activation, as
                          this order does; ``refnet.dropout``). Elsewhere (on the input,
                          after the output layer, before an activation layer, a second
                          one, or with a noise_shape) refnet cannot represent it: it is
                          the identity at inference (``model(X, training=False)``), which
                          is what is checked, and the report's notes say so

The file and its compiled loss: crosscheck/frameworks/tf/files.py.

Anything else (Conv2D, BatchNormalization, RNNs, branches, several inputs, a nested
model) is refused with a TypeError/ValueError naming the layer (index, class, name) and
listing what is supported. So are float16/bfloat16 (and mixed-precision) models, a layer
whose dtype differs from the Dense layers' (it would cast the input), NaN/inf weights,
and a Dense acting on the last axis of a multi-axis input (no Flatten before it).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

import refnet

from ...tolerance import check_probe
from .bridge import ACTIVATIONS, refnet_activation_name
from .imports import tf_and_keras

SUPPORTED = (
    "a keras.Sequential or single-chain Functional model of InputLayer, Flatten (before "
    "the first Dense), Dense (with or without bias), Activation, ReLU (default "
    "arguments), LeakyReLU, Softmax (last axis) and Dropout layers"
)


@dataclass
class Step:
    """One refnet layer: a Keras Dense layer and the activation folded onto it."""

    dense: object  # the keras.layers.Dense
    activation: str  # the refnet activation name
    fn: object  # z -> a in TensorFlow: the Dense's own activation or the folded layer
    index: int  # the Dense's index in model.layers
    dropout: float = 0.0  # the rate of a Dropout right after it (and its activation)
    dropout_index: int | None = None  # that Dropout's index in model.layers


@dataclass
class Chain:
    """What a model computes, as refnet sees it.

    ``input_shape`` is one example's shape as the model takes it ((28, 28) or (784,));
    ``steps`` one :class:`Step` per Dense; ``notes`` what the report should say (Dropout
    layers taken as the identity, folded activation layers)."""

    input_shape: tuple
    dtype: np.dtype
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    model_layers: list = field(default_factory=list, repr=False)  # model.layers


def _where(i: int, layer) -> str:
    return f"model.layers[{i}] ({type(layer).__name__} {layer.name!r})"


def _unsupported(i: int, layer, why: str = "is not supported") -> TypeError:
    return TypeError(f"{_where(i, layer)} {why}; crosscheck reads {SUPPORTED}")


def _layers_of(model, keras) -> list:
    """model.layers, after checking the model is one chain with one input and output."""
    if isinstance(model, keras.Sequential):
        return list(model.layers)
    try:
        from keras.src.models.functional import Functional
    except ImportError:  # pragma: no cover - another Keras layout
        Functional = None
    is_functional = (
        isinstance(model, Functional)
        if Functional is not None
        else type(model).__name__ == "Functional"
    )
    if not is_functional:
        raise TypeError(
            f"model: expected a keras.Sequential or a Functional keras.Model, got "
            f"{type(model).__name__}"
            + (
                " (a subclassed Model's call() cannot be read)"
                if isinstance(model, keras.Model)
                else ""
            )
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"model: expected one input and one output, got {len(model.inputs)} inputs "
            f"and {len(model.outputs)} outputs; crosscheck reads {SUPPORTED}"
        )
    layers = list(model.layers)
    for i in range(1, len(layers)):
        try:
            chained = layers[i].input is layers[i - 1].output
        except (AttributeError, ValueError):  # several inbound nodes: a shared layer
            chained = False
        if not chained:
            raise ValueError(
                f"{_where(i, layers[i])}: not a single chain (its input is not the output "
                f"of model.layers[{i - 1}]: a branch, a merge or a shared layer); "
                f"crosscheck reads {SUPPORTED}"
            )
    if layers and model.outputs[0] is not layers[-1].output:
        raise ValueError(
            f"model: the output is not the last layer's; crosscheck reads {SUPPORTED}"
        )
    return layers


def _float_dtype(i: int, layer) -> np.dtype:
    """The layer's dtype, refusing float16/bfloat16 and mixed precision policies."""
    policy = layer.dtype_policy
    compute, variable = policy.compute_dtype, policy.variable_dtype
    if compute != variable or compute not in ("float32", "float64"):
        raise TypeError(
            f"{_where(i, layer)}: expected dtype float32 or float64, got dtype policy "
            f"{policy.name!r} (compute {compute}, variables {variable}); refnet computes "
            "in float32 or float64 only"
        )
    return np.dtype(compute)


def read_chain(model) -> Chain:
    """The :class:`Chain` of a Keras model, or a TypeError/ValueError naming what refnet
    cannot represent (see the module docstring)."""
    _, keras = tf_and_keras()
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"model: expected a keras.Sequential or Functional model, got {type(model).__name__}"
        )
    if not model.built:
        raise ValueError(
            "model: expected a built model (give it a keras.Input), got an unbuilt one"
        )
    layers = _layers_of(model, keras)
    try:
        inputs = model.inputs
        shape = tuple(inputs[0].shape[1:])
        in_dtype = inputs[0].dtype
    except (AttributeError, IndexError, TypeError, ValueError):
        raise ValueError(
            "model: expected a model with a known input (give it a keras.Input)"
        ) from None
    if not shape or any(s is None for s in shape):
        raise ValueError(
            f"model: expected an input of fixed shape, got (None, {', '.join(map(str, shape))})"
        )
    chain = Chain(
        input_shape=tuple(int(s) for s in shape), dtype=None, model_layers=layers
    )
    # a Dense may act on the input only once it is (n, n_0)
    reading = _Reading(chain, keras, flat=len(shape) == 1)
    readers = _readers(keras)
    for i, layer in enumerate(layers):
        reader = readers.get(type(layer))
        if reader is None:
            raise _unsupported(i, layer)
        reader(reading, i, layer)
    dtypes = reading.dtypes
    if not chain.steps:
        raise ValueError(
            f"model: expected at least one Dense layer, got none; crosscheck reads {SUPPORTED}"
        )
    first = chain.steps[0]
    dense_dtype = _float_dtype(first.index, first.dense)
    for i, layer, dt in dtypes:
        if dt != dense_dtype:
            raise TypeError(
                f"{_where(i, layer)}: dtype {dt.name}, but the first Dense is "
                f"{dense_dtype.name}; a {dt.name} layer casts its input to {dt.name} "
                "(build every layer with one dtype)"
            )
    if np.dtype(in_dtype) != dense_dtype:
        raise TypeError(
            f"model: the input is {in_dtype} and the Dense layers {dense_dtype.name}; "
            f"expected keras.Input(dtype={dense_dtype.name!r})"
        )
    if chain.steps[-1].dropout:  # refnet has no dropout on the output layer
        _uncarry(chain, "after the output layer")
    chain.dtype = dense_dtype
    return chain


def _read_dense(chain: Chain, i: int, layer, flat: bool) -> None:
    if not flat:
        raise ValueError(
            f"{_where(i, layer)}: acts on the last axis of the {len(chain.input_shape)}-axis "
            f"input (None, {', '.join(map(str, chain.input_shape))}); refnet's Dense takes "
            "(n, n_0) rows: put a keras.layers.Flatten() before it"
        )
    kernel = layer.kernel.numpy()
    weights = [("kernel", kernel)]
    if layer.use_bias:
        weights.append(("bias", layer.bias.numpy()))
    for what, w in weights:
        if not np.isfinite(w).all():
            raise ValueError(
                f"{_where(i, layer)}: its {what} holds NaN or inf; refnet (and any "
                "comparison) needs finite weights"
            )
    name = refnet_activation_name(layer.activation)
    if name is None:
        raise ValueError(
            f"{_where(i, layer)}: activation {layer.activation!r} is not one refnet knows; "
            f"expected one of {list(ACTIVATIONS)} (Keras' default arguments)"
        )
    chain.steps.append(Step(layer, name, layer.activation, i))


@dataclass
class _Reading:
    """read_chain's state while it walks the layers."""

    chain: Chain
    keras: object
    flat: bool  # the input is (n, n_0) by now (given so, or after a Flatten)
    dtypes: list = field(default_factory=list)  # (index, layer, dtype) of float layers


def _readers(keras) -> dict:
    """Layer class -> how read_chain reads it (the supported layers, module docstring)."""
    L = keras.layers
    fold = {
        L.Activation: _activation,
        L.ReLU: _relu,
        L.LeakyReLU: _leaky_relu,
        L.Softmax: _softmax,
    }
    table = {
        L.InputLayer: lambda r, i, layer: None,
        L.Dense: _dense,
        L.Flatten: _flatten,
        L.Dropout: _dropout,
    }
    for cls, activation in fold.items():
        table[cls] = lambda r, i, layer, activation=activation: _fold(
            r, i, layer, activation(i, layer)
        )
    return table


def _dense(r: _Reading, i: int, layer) -> None:
    r.dtypes.append((i, layer, _float_dtype(i, layer)))
    _read_dense(r.chain, i, layer, r.flat)


def _flatten(r: _Reading, i: int, layer) -> None:
    r.dtypes.append((i, layer, _float_dtype(i, layer)))
    if r.chain.steps:
        raise _unsupported(i, layer, "after a Dense layer")
    if not r.flat and layer.data_format == "channels_first":  # moves axis 1 last
        raise _unsupported(i, layer, "with data_format='channels_first'")
    r.flat = True


def _dropout(r: _Reading, i: int, layer) -> None:
    """A Dropout right after a Dense (and its activation) is that layer's ``dropout``;
    one refnet cannot represent is the identity at inference, with a note."""
    r.dtypes.append((i, layer, _float_dtype(i, layer)))
    steps = r.chain.steps
    if not layer.rate:
        return
    if not steps:
        _identity_note(r.chain, (i, layer), "on the input")
    elif steps[-1].dropout:
        _identity_note(r.chain, (i, layer), "a second Dropout on one Dense")
    elif layer.noise_shape is not None:
        _identity_note(r.chain, (i, layer), "with a noise_shape (not elementwise)")
    else:
        steps[-1].dropout, steps[-1].dropout_index = float(layer.rate), i
        r.chain.notes.append(
            f"{_where(i, layer)}: Dropout(rate={layer.rate:g}) is the identity at "
            "inference (model(X, training=False)), which is what is checked (training "
            "mode: crosscheck.compare(net, X, Y, loss, masks=seed) with "
            f"net = from_keras(model)); it is refnet's dropout={layer.rate:g} on "
            f"{_where(steps[-1].index, steps[-1].dense)}"
        )


def _uncarry(chain: Chain, why: str) -> None:
    """The last step's Dropout is not refnet's after all: back to the identity."""
    step = chain.steps[-1]
    i = step.dropout_index
    layer = chain.model_layers[i]
    chain.notes = [n for n in chain.notes if not n.startswith(_where(i, layer))]
    step.dropout, step.dropout_index = 0.0, None
    _identity_note(chain, (i, layer), why)


def _identity_note(chain: Chain, at: tuple, why: str) -> None:
    """Note a Dropout refnet cannot carry: the identity at inference, what is checked."""
    i, layer = at
    chain.notes.append(
        f"{_where(i, layer)}: Dropout(rate={layer.rate:g}) {why} is the identity at "
        "inference (model(X, training=False)), which is what is checked; refnet's "
        "dropout (after a hidden layer's activation) cannot represent it"
    )


def _fold(r: _Reading, i: int, layer, activation: tuple[str, object]) -> None:
    """An activation layer folded onto the linear Dense before it."""
    name, fn = activation
    r.dtypes.append((i, layer, _float_dtype(i, layer)))
    chain = r.chain
    if not chain.steps:
        raise _unsupported(i, layer, "before the first Dense (on the input)")
    step = chain.steps[-1]
    if step.activation != "linear":
        raise ValueError(
            f"{_where(i, layer)} cannot be folded onto {_where(step.index, step.dense)}, "
            f"which already applies {step.activation!r}: refnet has one activation "
            "per layer (give that Dense activation='linear')"
        )
    step.activation, step.fn = name, fn
    if step.dropout:  # dropped before the activation: not refnet's m * f(z)
        _uncarry(chain, "before an activation layer")
    chain.notes.append(
        f"{_where(i, layer)}: folded onto {_where(step.index, step.dense)} as "
        f"refnet activation {name!r}"
    )


# Each activation layer's (refnet name, z -> a), or the refusal naming it.
def _activation(i: int, layer) -> tuple[str, object]:
    name = refnet_activation_name(layer.activation)
    if name is None:
        raise ValueError(
            f"{_where(i, layer)}: activation {layer.activation!r} is not one refnet "
            f"knows; expected one of {list(ACTIVATIONS)}"
        )
    return name, layer.activation


def _relu(i: int, layer) -> tuple[str, object]:
    if (
        layer.max_value is not None
        or float(layer.threshold) != 0.0
        or float(layer.negative_slope) != 0.0
    ):
        raise _unsupported(
            i,
            layer,
            f"with max_value={layer.max_value}, threshold={layer.threshold}, "
            f"negative_slope={layer.negative_slope} (only the defaults None, 0, 0 are "
            "refnet's relu)",
        )
    return "relu", layer


def _leaky_relu(i: int, layer) -> tuple[str, object]:
    return refnet.activations.leaky_relu_name(float(layer.negative_slope)), layer


def _softmax(i: int, layer) -> tuple[str, object]:
    axis = layer.axis
    if axis not in (-1, 1, [-1], (-1,), [1], (1,)):  # a Dense's output is (n, k)
        raise _unsupported(
            i, layer, f"with axis={axis} (refnet's softmax is on the last axis)"
        )
    return "softmax", layer


def chain_weights(chain: Chain) -> list[np.ndarray]:
    """[W1, b1, ...] of the chain (no b for a Dense without bias), as numpy copies."""
    out = []
    for step in chain.steps:
        out.append(step.dense.kernel.numpy().copy())
        if step.dense.use_bias:
            out.append(step.dense.bias.numpy().copy())
    return out


def network_from_chain(chain: Chain) -> refnet.Network:
    """The refnet.Network the chain computes, with its weights (checked finite)."""
    layers = []
    for step in chain.steps:
        n_in, n_out = step.dense.kernel.shape
        layers.append(
            refnet.Dense(
                int(n_in),
                int(n_out),
                step.activation,
                init="zeros",
                dtype=chain.dtype,
                use_bias=bool(step.dense.use_bias),
                dropout=step.dropout,
            )
        )
    net = refnet.Network(layers, input_shape=chain.input_shape)  # widths checked there
    net.set_weights(chain_weights(chain))
    return net


def model_output(model, x, chain: Chain | None = None) -> np.ndarray:
    """``model(X, training=False)`` with x of shape (n, n_0) given in the model's own
    input shape (a row-major reshape, undone by its Flatten)."""
    tf, _ = tf_and_keras()
    chain = read_chain(model) if chain is None else chain
    x = np.asarray(x)
    return np.asarray(
        model(tf.constant(x.reshape((x.shape[0], *chain.input_shape))), training=False)
    )


def masked_call(model, X, chain, masks) -> np.ndarray:
    """The model's own layers called in order on X (n, n_0), each Dropout layer replaced
    by the mask of the Dense before it: ``keras.layers.Dropout`` in training mode with
    refnet's mask instead of a random one, ``x * m`` (tests/crosscheck/test_dropout.py
    shows that is Keras' own convention). A Dropout refnet does not carry (the chain's
    notes) stays the identity, as in ``model(X, training=False)``."""
    tf, keras = tf_and_keras()
    carried = {s.dropout_index: l for l, s in enumerate(chain.steps) if s.dropout}
    x = tf.constant(np.asarray(X).reshape((len(X), *chain.input_shape)))
    for i, layer in enumerate(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.Dropout):
            l = carried.get(i)
            if l is not None and masks[l] is not None:
                x = x * tf.constant(masks[l])
            continue
        x = layer(x)
    return np.asarray(x)


def from_keras(model) -> refnet.Network:
    """A refnet.Network with model's layout, activations, weights, dtype and input shape.

    ``model`` is a keras.Sequential or a single-chain Functional model of InputLayer,
    Flatten, Dense (with or without bias), Activation, ReLU, LeakyReLU, Softmax and
    Dropout layers: activation layers are folded onto the linear Dense before them, a
    Dropout after a hidden Dense (and its activation) becomes that layer's ``dropout``
    (elsewhere it is the identity, at inference, and a UserWarning names it), a Flatten of an input of shape (28, 28) becomes
    the net's ``input_shape`` (this module's docstring has the details).

    Raises
    ------
    TypeError
        Not such a model, an unsupported layer (named by index, class and name), or a
        dtype other than float32/float64 (float16, bfloat16, mixed precision).
    ValueError
        An unbuilt model, a branch, an activation refnet lacks, an activation layer that
        cannot be folded, NaN/inf weights, or a Dense on a multi-axis input without
        Flatten; or a network that does not reproduce the model's own output on a probe
        batch (a custom layer's call, a Dense subclass).
    """
    chain = read_chain(model)
    net = network_from_chain(chain)
    dropped = [n for n in chain.notes if n.endswith("cannot represent it")]
    if dropped:  # the net is right at inference, but would train without them
        warnings.warn(
            "model: not carried over to the refnet network: " + "; ".join(dropped),
            UserWarning,
            stacklevel=2,
        )
    check_probe(
        lambda X: model(X, training=False),
        net,
        "model",
        "a layer subclass overriding call computes something its weights do not say",
    )
    return net


def check_user_model(net: refnet.Network, model):
    """The Keras model must compute net's function: net's dtype, layout, activations,
    biases and exactly net's weights (NaN-safe). Returns its output on x, a function."""
    chain = read_chain(model)  # TypeError/ValueError naming what refnet lacks
    theirs = network_from_chain(chain)
    if theirs.dtype != net.dtype:
        raise TypeError(
            f"model: expected dtype {net.dtype.name} like net (a {theirs.dtype.name} "
            f"layer silently casts {net.dtype.name} input to {theirs.dtype.name}), got "
            f"{theirs.dtype.name}"
        )
    same = (
        theirs.sizes == net.sizes
        and theirs.activations == net.activations
        and [la.b is None for la in theirs.layers]
        == [la.b is None for la in net.layers]
    )
    weights, ours = theirs.get_weights(), net.get_weights()
    if (
        not same
        or len(weights) != len(ours)
        or any(
            w.shape != o.shape or not np.array_equal(w, o, equal_nan=True)
            for w, o in zip(weights, ours)
        )
    ):
        raise ValueError(
            "model: expected exactly net's layers and weights (use "
            "crosscheck.to_keras(net) or crosscheck.from_keras(model))"
        )
    notes = [n for n in chain.notes if "Dropout" in n]

    def run(x, masks=None):  # with dropout masks: training mode with refnet's masks
        if masks is None:
            return model_output(model, x, chain)
        return masked_call(model, x, chain, masks)

    return run, notes
