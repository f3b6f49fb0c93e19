"""compare(net, X, Y, loss): refnet's backprop against TensorFlow's, tensor by tensor.

TensorFlow's side runs the Keras model's own layers under a tf.GradientTape, one layer
at a time, so every pre-activation is a tensor the tape can differentiate against:

    z[l] = a[l-1] @ W[l] + b[l]     layer.kernel, layer.bias          (FP1)
    a[l] = layer.activation(z[l])                                      (FP2)
    L    = keras loss object (dtype = the network's dtype)
    delta[l] = tape.gradient(L, z[l]),  dW[l], db[l] = tape.gradient(L, kernel, bias)

and the Keras model's own ``model(X)`` must reproduce the layer-by-layer output (row
``model(X)``), so the network compared really is the Keras model. refnet's side is
``net.gradients(X, Y, loss)``: a subclass that overrides it is checked as is.

Pitfalls handled here, with their measured size (each pinned by a test in
tests/test_crosscheck_pitfalls.py):

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
  (``tolerance.QUIRKS``, 1e-7) and a note in the report; every other network keeps TOL1.
- oneDNN (on by default on x86) reorders float32 sums: rounding, inside TOL1;
  ``TF_ENABLE_ONEDNN_OPTS=0`` switches it off.
- Cancellation: an entry much smaller than the terms summed into it (a linear output of
  1e-3 from terms of size 1, p - y of a confident softmax) carries the terms' rounding;
  TOL1 is measured against that magnitude (``tolerance.magnitudes``).
- A relu/leaky_relu mask flipping where z is within rounding of 0: refnet's and TF's z
  may land on opposite sides of the kink (z3[54, 37] = 5.1e-9 in a float32 network) and
  every delta below differs by O(1) (1e3 times the tolerance). :func:`kink_entries` finds
  such entries; TF is evaluated again with z pinned to refnet's value there (forward
  only, its gradients untouched), so both sides use one mask, and the report's notes name
  each entry. Correct code is never a FAIL for it.
- Out of scope: subnormal inputs (TF flushes them to zero).
"""

from __future__ import annotations

import math

import numpy as np

import refnet
from refnet.validation import check_input

from .keras_bridge import tf_and_keras, to_keras
from .keras_models import model_output, network_from_chain, read_chain
from .report import Report, Row
from .tolerance import C, compare_tensor, magnitudes, policy_rtol, quirk_rtol


def _keras_loss(name: str, Y, k: int, dtype: str, reduction="sum_over_batch_size"):
    """(keras loss object, targets as TF expects them) for a refnet loss name and Y.

    ``reduction`` is Keras' own argument ("sum_over_batch_size" or "sum", LS5).
    """
    _, keras = tf_and_keras()
    kw = {"dtype": dtype, "reduction": reduction}
    Y = np.asarray(Y)
    if name in ("mse", "binary_cross_entropy"):
        if Y.ndim == 1:  # (n,) -> (n, 1): never broadcast against (n, 1) to (n, n)
            Y = Y.reshape(-1, 1)
        Y = Y.astype(dtype)
        if name == "mse":
            return keras.losses.MeanSquaredError(**kw), Y
        return keras.losses.BinaryCrossentropy(from_logits=True, **kw), Y
    if name == "softmax_cross_entropy":
        if Y.ndim == 1:
            return (
                keras.losses.SparseCategoricalCrossentropy(from_logits=True, **kw),
                Y.astype(np.int64),
            )
        return keras.losses.CategoricalCrossentropy(from_logits=True, **kw), Y.astype(
            dtype
        )
    if name == "categorical_cross_entropy":
        if Y.ndim == 1:
            Y = np.eye(k, dtype=dtype)[Y.astype(np.int64)]  # class ids -> one-hot rows
        return keras.losses.CategoricalCrossentropy(from_logits=False, **kw), Y.astype(
            dtype
        )
    raise ValueError(
        f"loss: no Keras counterpart for {name!r}; expected one of {refnet.losses.names()}"
    )


def tf_backprop(
    model, X, Y, loss: str, reduction="sum_over_batch_size", pins=None
) -> dict:
    """Loss, output, every delta, dW and db (and dL/dX) of ``model`` by tf.GradientTape.

    The loss is Keras' compiled total: the loss object's value plus ``sum(model.losses)``,
    which holds every ``kernel_regularizer`` term (L2(l2): l2 * sum(W^2), LS6).

    Parameters
    ----------
    model : keras model
        Usually ``to_keras(net)``; any model ``from_keras`` reads (Flatten, Dropout and
        activation layers folded, ``keras_models.read_chain``).
    X : array (n, n_0)
        In the model's dtype, flattened row-major if the model takes (n, 28, 28).
    Y : array
        Targets as refnet takes them.
    loss : str
        A refnet loss name.
    reduction : str
        Keras' reduction, "sum_over_batch_size" (default) or "sum" (LS5).
    pins : list of (mask, values) or None per layer, optional
        Kink entries (see :func:`kink_entries`): z[l] takes ``values`` where ``mask``
        holds, through ``z + stop_gradient(values - z)``, so the forward pass uses those
        values (on refnet's side of the kink) while every gradient is TF's own.

    Returns
    -------
    dict with ``loss`` (float), ``output``, ``model_output`` (``model(X)``), lists
    ``z``, ``a`` (without a[0]), ``delta``, ``dW``, ``db`` (numpy arrays, 0-based lists
    like refnet's), ``dX`` (dL/dX, BP5) and ``y``, the targets as rows.
    """
    tf, _ = tf_and_keras()
    chain = read_chain(model)  # Dense layers, activations folded, Dropout/Flatten out
    dtype = chain.dtype
    k = chain.steps[-1].dense.kernel.shape[1]
    loss_fn, y = _keras_loss(loss, Y, k, np.dtype(dtype).name, reduction)
    x = tf.constant(X)  # (n, n_0): flattened row-major if the model takes (n, 28, 28)
    zs, acts, params, has_b = [], [], [], []
    with tf.GradientTape() as tape:
        tape.watch(x)
        a = x
        for l, step in enumerate(chain.steps):
            layer = step.dense
            z = tf.matmul(a, layer.kernel)  # (n, n_l)                    FP1
            if layer.use_bias:  # + b; Dense(use_bias=False): z = a @ W
                z = z + layer.bias
            if pins is not None and pins[l] is not None:
                mask, values = pins[l]
                z = z + tf.stop_gradient(tf.where(mask, values - z, tf.zeros_like(z)))
            tape.watch(z)
            a = step.fn(z)  # (n, n_l): its activation or the folded layer  FP2
            if hasattr(a, "_keras_logits"):
                a = tf.identity(a)  # drop Keras' logits shortcut: the loss sees a
            zs.append(z)
            acts.append(a)
            params += [layer.kernel] + ([layer.bias] if layer.use_bias else [])
            has_b.append(layer.use_bias)
        value = loss_fn(tf.constant(y), a)
        if model.losses:  # the kernel regularizers, as compiled training adds them
            value = value + tf.add_n(model.losses)
    grads = tape.gradient(value, zs + params + [x])
    n_layers = len(zs)

    def arr(t, like):  # a gradient the tape left as None is a zero gradient
        return np.zeros(tuple(like.shape), np.dtype(dtype)) if t is None else t.numpy()

    dW, db, it = [], [], iter(zip(grads[n_layers:-1], params))
    for bias in has_b:
        dW.append(arr(*next(it)))
        db.append(arr(*next(it)) if bias else None)  # no bias: no db (None)
    return {
        "loss": float(value.numpy()),
        "output": a.numpy(),
        "model_output": model_output(model, X, chain),
        "z": [z.numpy() for z in zs],
        "a": [t.numpy() for t in acts],
        "y": np.eye(k)[y]
        if y.ndim == 1
        else y,  # targets as rows, one-hot for class ids
        "delta": [arr(g, z) for g, z in zip(grads[:n_layers], zs)],
        "dW": dW,
        "db": db,
        "dX": arr(grads[-1], x),
    }


def kink_entries(net: refnet.Network, res, tf_z: list, rtol: float) -> list:
    """Per layer, the entries where refnet's and TF's z[l] straddle a kink within rounding.

    relu and leaky_relu switch their derivative at z = 0 (the mask is z > 0 on both
    sides). Where refnet's z and TF's z differ only by rounding (at most rtol times the
    magnitude |a[l-1]| @ |W| + |b| of the terms summed into it) yet lie on opposite sides
    of 0, the two masks differ there and every delta below differs by O(1): a difference
    of rounding, not of backprop. Returns, per layer, None or (mask, refnet's z).
    """
    pins = []
    for l, layer in enumerate(net.layers):
        if layer.activation.smooth or not layer.activation.elementwise:
            pins.append(None)
            continue
        z_ref = np.asarray(res.z[l], np.float64)
        z_tf = np.asarray(tf_z[l], np.float64)
        scale = np.abs(res.a[l]) @ np.abs(layer.W)  # (n, n_l)
        if layer.b is not None:
            scale += np.abs(layer.b)
        bound = rtol * (scale + scale.max(initial=0.0))
        mask = ((z_ref > 0) != (z_tf > 0)) & (np.abs(z_ref - z_tf) <= bound)
        pins.append((mask, np.asarray(res.z[l])) if mask.any() else None)
    return pins


def _kink_notes(net: refnet.Network, pins: list, tf_z: list, res) -> list[str]:
    notes = []
    for l, pin in enumerate(pins, start=1):
        if pin is None:
            continue
        mask = pin[0]
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(mask)[:3]]
        shown = ", ".join(
            f"z{l}{list(w)}: refnet {res.z[l - 1][w]:.2g}, TF {tf_z[l - 1][w]:.2g}"
            for w in where
        )
        more = f" and {int(mask.sum()) - 3} more" if mask.sum() > 3 else ""
        notes.append(
            f"kink: {shown}{more} straddle {net.activations[l - 1]}'s kink at 0 within "
            "rounding; TF was evaluated on refnet's side of it (one shared mask), "
            "docs/07-checking.md"
        )
    return notes


def _check_model(net: refnet.Network, model):
    """The Keras model must compute net's function: net's dtype, layout, activations,
    biases and exactly net's weights (read through from_keras, NaN-safe). Returns the
    model's Chain (its input shape, for model(X))."""
    chain = read_chain(model)  # TypeError/ValueError naming what refnet cannot represent
    theirs = network_from_chain(chain)
    if theirs.dtype != net.dtype:
        raise TypeError(
            f"model: expected dtype {net.dtype.name} like net (a {theirs.dtype.name} layer "
            f"silently casts {net.dtype.name} input to {theirs.dtype.name}), got "
            f"{theirs.dtype.name}"
        )
    same = (
        theirs.sizes == net.sizes
        and theirs.activations == net.activations
        and [la.use_bias for la in theirs.layers] == [la.b is not None for la in net.layers]
    )
    weights, ours = theirs.get_weights(), net.get_weights()
    if not same or len(weights) != len(ours) or any(
        w.shape != o.shape or not np.array_equal(w, o, equal_nan=True)
        for w, o in zip(weights, ours)
    ):
        raise ValueError(
            f"model: expected exactly net's layers and weights ({net!r}), got {theirs!r} "
            "or other weights (use crosscheck.to_keras(net) or crosscheck.from_keras(model))"
        )
    return chain


def compare(
    net: refnet.Network,
    X,
    Y,
    loss="mse",
    *,
    model=None,
    c: float = C,
    l2: float = 0.0,
    dX: bool = False,
) -> Report:
    """Rows loss, output, model(X), then delta{l}, dW{l}, db{l} for l = L..1 (TOL1).

    Parameters
    ----------
    net : refnet.Network
        Its ``gradients`` method (a subclass's override included) is what is checked.
    X : array (n, n_0)
        Inputs, cast to net's dtype.
    Y : array
        Targets as ``net.gradients`` takes them.
    loss : str or refnet Loss
        A name from ``refnet.losses.names()``, or ``refnet.losses.get(name,
        reduction="sum")`` (Keras' "sum", LS5).
    model : keras model, optional
        A user's Keras model that must compute net's function: ``from_keras(model)``
        must give net's layers and exactly net's weights (NaN-safe), else ValueError.
        TensorFlow's side is always built from net (``to_keras(net, l2=l2)``); the
        model's own ``model(X, training=False)`` (X in its input shape) is the row
        ``model(X)`` against that side's output, so the report proves the user's model
        is the same function. Dropout layers are the identity there (a note says so).
    c : float
        The tolerance policy's safety factor C.
    l2 : float
        L2 weight decay: ``net.gradients(..., l2=l2)`` against Keras'
        ``kernel_regularizer=L2(l2)`` on every layer (LS6). Keras casts l2 through
        float32 even for float64 weights (``ops.cast(0.01, "float64")`` is
        0.0099999997764825820); refnet is given that same value (mirrored, with a note).
    dX : bool
        Also compare ``res.dX`` with the tape's dL/dX (row ``dX``, BP5), last.

    Returns
    -------
    Report
        ``report.ok``; ``report.first_failure`` names where a mismatch first shows
        (rows follow backprop's order: output layer first).
    """
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c < 1e6:
        raise ValueError(f"c: expected a safety factor in (0, 1e6), got {c!r}")
    loss_obj = refnet.losses.get(loss)
    loss_name, reduction = loss_obj.name, loss_obj.reduction
    notes = []
    if l2:  # the user's backprop, validated there
        l2 = refnet.network.check_l2(l2)
        if float(np.float32(l2)) != l2:
            notes.append(
                f"l2 {l2!r} mirrored as Keras casts it, through float32: "
                f"{float(np.float32(l2))!r}"
            )
            l2 = float(np.float32(l2))
        res = net.gradients(X, Y, loss_obj, l2=l2)
    else:  # (an override without the l2 argument is still checked)
        res = net.gradients(X, Y, loss_obj)
    x = check_input(X, net.sizes[0], net.dtype, "X", getattr(net, "input_shape", None))
    user_model = model
    if user_model is not None:  # it must hold net's exact function, checked first
        user_chain = _check_model(net, user_model)
    model = to_keras(net, l2=l2)  # the oracle is built from net
    tf_res = tf_backprop(model, x, Y, loss_name, reduction)

    L = len(net.layers)
    n = max(max(net.sizes), x.shape[0])
    rtol = policy_rtol(net.dtype, n, L, c)
    floor, quirk_notes = quirk_rtol(net.dtype, net.activations)
    notes = quirk_notes + notes
    note = ""
    if floor > rtol:
        rtol, note = floor, "quirk rtol"
    # Entries of z within rounding of a kink, on opposite sides in refnet and TF: TF runs
    # again with those entries on refnet's side, so the masks agree (a few rounds, since
    # pinning layer l moves the z of the layers after it by rounding).
    pins, tf_z = [None] * L, tf_res["z"]
    for _ in range(L):
        found = kink_entries(net, res, tf_res["z"], rtol)
        if all(p is None for p in found):
            break
        pins = [
            q if p is None else (p if q is None else (p[0] | q[0], p[1]))
            for p, q in zip(found, pins)
        ]
        tf_res = tf_backprop(model, x, Y, loss_name, reduction, pins)
    notes = notes + _kink_notes(net, pins, tf_z, res)
    if user_model is not None:  # the user's own model(X), in its input shape, inference
        tf_res["model_output"] = model_output(user_model, x, user_chain)
        notes += [n for n in user_chain.notes if "Dropout" in n]
    layers = [(layer.W, layer.b, layer.activation) for layer in net.layers]
    M = magnitudes(layers, x, tf_res["z"], tf_res["a"], tf_res["y"], loss_name)
    if reduction == "sum":  # every quantity of the backward pass is n times larger
        M = {key: m * x.shape[0] for key, m in M.items()}
    if l2:  # L += l2 sum W^2, dW += 2 l2 W (LS6)
        M["loss"] = M["loss"] + sum(l2 * float(np.sum(W**2)) for W, _, _ in layers)
        for l, (W, _, _) in enumerate(layers, start=1):
            M[f"dW{l}"] = M[f"dW{l}"] + 2 * l2 * np.abs(W)

    def row(name, got, ref):
        return compare_tensor(name, got, ref, rtol, note, M[name])

    rows = [
        row("loss", np.float64(res.loss), np.float64(tf_res["loss"])),
        row("output", res.a[-1], tf_res["output"]),
        compare_tensor(
            "model(X)",
            tf_res["model_output"],
            tf_res["output"],
            rtol,
            note,
            M["output"],
        ),
    ]
    for l in range(L, 0, -1):
        i = l - 1
        rows.append(row(f"delta{l}", res.delta[i], tf_res["delta"][i]))
        rows.append(row(f"dW{l}", res.dW[i], tf_res["dW"][i]))
        if net.layers[i].b is not None:  # no db row for a layer without bias
            rows.append(row(f"db{l}", res.db[i], tf_res["db"][i]))
        elif res.db[i] is not None:  # a db for a layer that has no b is wrong
            rows.append(Row(f"db{l}", (), math.inf, math.inf, rtol, math.nan, False,
                            None, math.inf, "a db for a layer without bias (expected None)"))  # fmt: skip
    if dX:  # dL/dX = delta[1] @ W[1].T (BP5), magnitude as one more BP2 step
        W1 = np.abs(np.asarray(net.layers[0].W, np.float64))
        m_dX = np.sqrt(np.square(M["delta1"]) @ np.square(W1).T)
        got_dX = np.asarray(res.dX)  # (n, *input_shape) for a net with one: flatten
        got_dX = got_dX.reshape(got_dX.shape[0], -1) if got_dX.ndim > 2 else got_dX
        rows.append(compare_tensor("dX", got_dX, tf_res["dX"], rtol, note, m_dX))
    sizes = "-".join(map(str, net.sizes))
    extras = (", reduction=sum" if reduction == "sum" else "") + (
        f", l2={l2:g}" if l2 else ""
    )
    title = (
        f"{type(net).__name__} {sizes} [{','.join(net.activations)}] {loss_name}{extras} "
        f"{net.dtype.name} batch {x.shape[0]}: rtol = {c:g} * eps * sqrt({n})"
        + (f" * {L}/4" if L > 4 else "")
    )
    return Report(title, rows, notes)


def assert_match(net: refnet.Network, X, Y, loss="mse", **kwargs) -> Report:
    """compare(...), raising AssertionError with the report's table on any mismatch."""
    report = compare(net, X, Y, loss, **kwargs)
    if not report.ok:
        raise AssertionError("refnet and TensorFlow disagree\n" + str(report))
    return report
