"""The TensorFlow/Keras oracle: ``to_keras(net)`` run layer by layer under a GradientTape.

    z[l] = a[l-1] @ W[l] + b[l]     layer.kernel, layer.bias          (FP1)
    a[l] = layer.activation(z[l])                                      (FP2)
    a~[l] = m[l] * a[l]             with dropout masks given: what layer l+1 reads
    L    = keras loss object (dtype = the network's dtype)
    delta[l] = tape.gradient(L, z[l]),  dW[l], db[l] = tape.gradient(L, kernel, bias)

and ``model(X)`` (the Keras model's own call) is returned as ``model_output`` so the
report can show that the layer-by-layer evaluation is the model. The protocol is in
``crosscheck/frameworks/__init__.py``; TF's pitfalls are listed below.

TensorFlow's pitfalls, handled here, in losses.py, bridge.py and crosscheck/kinks.py,
with their measured size (each pinned by a test in tests/crosscheck/frameworks/test_tf_oracle.py):

- Keras 3 losses compute in floatx (float32) unless given ``dtype``: ``Loss.__call__``
  converts y_pred to the loss's dtype, so a float64 output is silently downcast and the
  loss is ~3e-8 off. Every loss object is created with ``dtype=net.dtype``.
- A Dense layer built as float32 silently downcasts float64 input (float64 in, float32
  out, no error): ``to_keras`` builds every layer with the network's dtype behind an
  explicit ``keras.Input``; a given model of another dtype is refused (TypeError).
- Keras' softmax *and sigmoid* outputs carry ``_keras_logits``, so Keras'
  cross-entropies silently use the logits instead of the (clipped) probabilities: with a
  true-class probability of 4e-18 the loss is 20.0 instead of refnet's clipped 8.06. The
  attribute is dropped (``tf.identity``) so the loss sees what refnet's loss sees.
- MSE targets of shape (n,) against outputs (n, 1) are reshaped to (n, 1) explicitly,
  never broadcast to (n, n) (a naive ``reduce_mean((y - a)**2)`` is off by O(1)).
- int class ids go to SparseCategoricalCrossentropy(from_logits=True) for the softmax
  cross-entropy and become one-hot rows for the cross-entropy from probabilities.
- relu'(0) = 0, and TF's SigmoidGrad/TanhGrad work from the output y: y (1 - y) is 8e-4
  relative off the exact derivative at sigmoid(12) in float32, and exactly 0 at
  sigmoid(20). refnet does the same, bit for bit; compare checks against TF's gradients.
- TF's float64 leaky_relu keeps its slope as a float32 attribute (0.20000000298, 1.5e-8
  relative); TF's float64 gelu casts its constant through float32, 1/sqrt(2) for the exact
  form (values ~4e-9 off; it is this constant, not erfc's accuracy) and 0.044715 for the
  tanh form (~1e-9 off). Networks using them get their own stated rtol
  (the TF oracle's ``QUIRKS``, 1e-7) and a note in the report; every other network keeps TOL1.
- oneDNN (on by default on x86) reorders float32 sums: rounding, inside TOL1;
  ``TF_ENABLE_ONEDNN_OPTS=0`` switches it off.
- Cancellation: an entry much smaller than the terms summed into it (a linear output of
  1e-3 from terms of size 1, p - y of a confident softmax) carries the terms' rounding;
  TOL1 is measured against that magnitude (``tolerance.magnitudes``).
- A relu/leaky_relu mask flipping where z is within rounding of 0: refnet's and TF's z
  may land on opposite sides of the kink (z3[54, 37] = 5.1e-9 in a float32 network) and
  every delta below differs by O(1) (1e3 times the tolerance). ``crosscheck.kinks.kink_entries`` finds
  such entries; TF is evaluated again with z pinned to refnet's value there (forward
  only, its gradients untouched), so both sides use one mask, and the report's notes name
  each entry. Correct code is never a FAIL for it.
- Out of scope: subnormal inputs (TF flushes them to zero).
"""

from __future__ import annotations

import numpy as np

import refnet

from .bridge import to_keras
from .imports import tf_and_keras
from .losses import loss_and_targets
from .models import masked_call, model_output, read_chain  # Flatten, Dropout, folded

NAME = "tf"
LABEL = "TF"
FRAMEWORK = "TensorFlow"
PACKAGE = "tensorflow"

# Float64 TensorFlow ops whose constants pass through float32 (measured sizes, see
# tests/crosscheck/frameworks/test_tf_oracle.py). Value: the rtol floor for every row of a float64
# network that uses the activation.
QUIRKS: dict[str, tuple[float, str]] = {
    "leaky_relu": (
        1e-7,
        "TF keeps LeakyRelu's slope as a float32 attribute: 0.2 -> 0.20000000298 "
        "(relative 1.5e-8) even in float64",
    ),
    "gelu": (
        1e-7,
        "TF's float64 gelu casts 1/sqrt(2) through float32 (0.70710677, relative 1.7e-8; "
        "outputs differ by ~5e-9)",
    ),
    "gelu_tanh": (
        1e-7,
        "TF's float64 gelu(approximate=True) casts 0.044715 through float32 "
        "(relative 3.5e-8; outputs differ by ~1e-9)",
    ),
}


def quirk(activation: str) -> tuple[float, str]:
    """(rtol floor, why) of a float64 network using ``activation``: :data:`QUIRKS`, and
    for leaky_relu(SLOPE) the float32 attribute with that slope."""
    if activation.startswith("leaky_relu("):
        slope = float(activation[len("leaky_relu(") : -1])
        return QUIRKS["leaky_relu"][0], (
            "TF keeps LeakyRelu's slope as a float32 attribute: "
            f"{slope!r} -> {float(np.float32(slope))!r} even in float64"
        )
    return QUIRKS.get(activation, (0.0, ""))


def available() -> str | None:
    """None when TensorFlow and Keras import, else why not (one line)."""
    try:
        tf_and_keras()
    except ImportError as err:
        return str(err)
    return None


def describe() -> str:
    """The TensorFlow and Keras found: "TensorFlow 2.21.0 (CPU build), Keras 3.15.1"."""
    tf, keras = tf_and_keras()
    build = "CUDA build" if tf.test.is_built_with_cuda() else "CPU build"
    return f"TensorFlow {tf.__version__} ({build}), Keras {keras.__version__}"


def build(net: refnet.Network, l2: float = 0.0):
    """``to_keras(net, l2=l2)``: Dense layers with net's weights and dtype, L2 as Keras'
    ``kernel_regularizer`` (LS6)."""
    return to_keras(net, l2=l2)


def backprop(
    model, X, Y, loss: str, reduction="sum_over_batch_size", pins=None, masks=None
):
    """:func:`tf_backprop` of the model :func:`build` made (the protocol's backprop)."""
    return tf_backprop(model, X, Y, loss, reduction, pins, masks)


def tf_backprop(
    model, X, Y, loss: str, reduction="sum_over_batch_size", pins=None, masks=None
) -> dict:
    """Loss, output, every delta, dW and db (and dL/dX) of ``model`` by tf.GradientTape.

    The loss is Keras' compiled total: the loss object's value plus ``sum(model.losses)``,
    which holds every ``kernel_regularizer`` term (L2(l2): l2 * sum(W^2), LS6).

    Parameters
    ----------
    model : keras model
        Usually ``to_keras(net)``; with ``crosscheck.frameworks.tf.models``, any model it reads
        (Flatten, Dropout and activation layers folded, ``read_chain``).
    X : array (n, n_0)
        In the model's dtype, flattened row-major if the model takes (n, 28, 28).
    Y : array
        Targets as refnet takes them.
    loss : str
        A refnet loss name.
    reduction : str
        Keras' reduction, "sum_over_batch_size" (default) or "sum" (LS5).
    pins : list of (mask, values) or None per layer, optional
        Kink entries (see ``crosscheck.kinks.kink_entries``): z[l] takes ``values`` where ``mask``
        holds, through ``z + stop_gradient(values - z)``, so the forward pass uses those
        values (on refnet's side of the kink) while every gradient is TF's own.
    masks : list of (n, n_l) arrays or None per layer, optional
        Dropout in training mode with refnet's masks: the next layer reads m[l] * a[l],
        multiplied here explicitly, and the tape differentiates through it (BP6, BP7).
        ``model_output`` is then the model's own layers called in order with each
        Dropout layer replaced by that multiplication (:func:`masked_call`).

    Returns
    -------
    dict with ``loss`` (float), ``output``, ``model_output`` (``model(X)``), lists
    ``z``, ``a`` (without a[0]), ``delta``, ``dW``, ``db`` (numpy arrays, 0-based lists
    like refnet's), ``dX`` (dL/dX, BP5) and ``y``, the targets as rows.
    """
    tf, _ = tf_and_keras()
    chain = read_chain(model)  # Dense layers, activations folded, Dropout/Flatten out
    steps = [(step.dense, step.fn) for step in chain.steps]
    dtype = steps[0][0].kernel.dtype
    k = steps[-1][0].kernel.shape[1]
    loss_fn, y = loss_and_targets(loss, Y, k, np.dtype(dtype).name, reduction)
    x = tf.constant(X)
    zs, acts, params = [], [], []
    with tf.GradientTape() as tape:
        tape.watch(x)
        a = x
        for l, (layer, f) in enumerate(steps):
            z = tf.matmul(a, layer.kernel)  # (n, n_l)                        FP1
            if layer.bias is not None:  # Dense(use_bias=False) has no bias
                z = z + layer.bias
            if pins is not None and pins[l] is not None:
                mask, values = pins[l]
                z = z + tf.stop_gradient(tf.where(mask, values - z, tf.zeros_like(z)))
            tape.watch(z)
            a = f(z)  # (n, n_l): its activation or the folded layer        FP2
            if hasattr(a, "_keras_logits"):
                a = tf.identity(a)  # drop Keras' logits shortcut: the loss sees a
            zs.append(z)
            acts.append(a)
            params += [layer.kernel, layer.bias]  # a None bias: a None gradient
            if masks is not None and masks[l] is not None:
                a = a * tf.constant(masks[l])  # a~ = m * a, inverted dropout
        value = loss_fn(tf.constant(y), a)
        if model.losses:  # the kernel regularizers, as compiled training adds them
            value = value + tf.add_n(model.losses)
    watched = zs + [p for p in params if p is not None] + [x]
    it = iter(tape.gradient(value, watched))
    grads = (
        [next(it) for _ in zs]
        + [None if p is None else next(it) for p in params]
        + [next(it)]
    )
    n_layers = len(zs)

    def arr(t, like):  # a gradient the tape left as None is a zero gradient
        return np.zeros(tuple(like.shape), np.dtype(dtype)) if t is None else t.numpy()

    if masks is None or all(m is None for m in masks):
        own = model_output(model, X, chain)
    else:
        own = masked_call(model, X, chain, masks)
    return {
        "loss": float(value.numpy()),
        "output": a.numpy(),
        "model_output": own,
        "z": [z.numpy() for z in zs],
        "a": [t.numpy() for t in acts],
        # targets as rows, one-hot for class ids
        "y": np.eye(k)[y] if y.ndim == 1 else y,
        "delta": [arr(g, z) for g, z in zip(grads[:n_layers], zs)],
        "dW": [arr(g, p) for g, p in zip(grads[n_layers:-1:2], params[::2])],
        "db": [
            None if p is None else arr(g, p)
            for g, p in zip(grads[n_layers + 1 : -1 : 2], params[1::2])
        ],
        "dX": arr(grads[-1], x),
    }
