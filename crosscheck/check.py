"""compare(net, X, Y, loss): refnet's backprop against TensorFlow's and PyTorch's.

Each oracle (``crosscheck/oracles/``: ``tensorflow.py``, ``pytorch.py``) builds the
identical network from ``net`` and runs it layer by layer, so every pre-activation is a
tensor its autodiff can differentiate against:

    z[l] = a[l-1] @ W[l] + b[l]                                        (FP1)
    a[l] = f_l(z[l])                                                   (FP2)
    L    = the loss with Keras' reductions, in the network's dtype
    delta[l] = dL/dz[l],  dW[l], db[l] = dL/dW[l], dL/db[l]

and the framework model's own call ``model(X)`` must reproduce the layer-by-layer output
(row ``model(X)``), so the network compared really is that model. refnet's side is
``net.gradients(X, Y, loss)``: a subclass that overrides it is checked as is.

With two oracles every row also compares the oracles with each other. Three parties
(refnet, TF, torch) then vote: when exactly one disagrees with the other two, the row
and the report name it as the odd one out. A refnet bug makes refnet the odd one out; a
framework quirk makes that framework the odd one out (docs/07-checking.md).

TensorFlow's pitfalls handled here and in ``oracles/tensorflow.py``, with their measured size (each pinned by a test in
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
from refnet.validation import check_bool, check_input

from . import oracles
from .keras_models import model_output, network_from_chain, read_chain
from .oracles import workers
from .oracles.tensorflow import _keras_loss, tf_backprop  # noqa: F401 (public names)
from .report import Report, Row, combine, crash_row
from .tolerance import C, compare_tensor, magnitudes, policy_rtol, quirk_rtol


def kink_entries(net: refnet.Network, res, tf_z: list, rtol: float) -> list:
    """Per layer, the entries where refnet's and an oracle's z[l] straddle a kink within
    rounding (``tf_z``: the oracle's z, TF's or torch's).

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
        b = getattr(layer, "b", None)
        scale = np.abs(res.a[l]) @ np.abs(layer.W)  # (n, n_l)
        if b is not None:
            scale = scale + np.abs(b)
        bound = rtol * (scale + scale.max(initial=0.0))
        mask = ((z_ref > 0) != (z_tf > 0)) & (np.abs(z_ref - z_tf) <= bound)
        pins.append((mask, np.asarray(res.z[l])) if mask.any() else None)
    return pins


def _kink_notes(
    net: refnet.Network, pins: list, tf_z: list, res, who: str = "TF"
) -> list[str]:
    notes = []
    for l, pin in enumerate(pins, start=1):
        if pin is None:
            continue
        mask = pin[0]
        where = [tuple(int(i) for i in idx) for idx in np.argwhere(mask)[:3]]
        shown = ", ".join(
            f"z{l}{list(w)}: refnet {res.z[l - 1][w]:.2g}, {who} {tf_z[l - 1][w]:.2g}"
            for w in where
        )
        more = f" and {int(mask.sum()) - 3} more" if mask.sum() > 3 else ""
        notes.append(
            f"kink: {shown}{more} straddle {net.activations[l - 1]}'s kink at 0 within "
            f"rounding; {who} was evaluated on refnet's side of it (one shared mask), "
            "docs/07-checking.md"
        )
    return notes


def _check_model(net: refnet.Network, model):
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
        and [la.b is None for la in theirs.layers] == [la.b is None for la in net.layers]
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
    return lambda x: model_output(model, x, chain), notes


def _run_pinned(name, net, l2, res, x, Y, loss_name, reduction, rtol):
    """Oracle ``name``'s backprop, run again with z pinned at kink entries until the
    masks agree (a few rounds: pinning layer l moves the z of the layers after it by
    rounding).

    Returns (the oracle's result, the pins, the oracle's unpinned z)."""
    out = oracles.backprop(name, net, l2, x, Y, loss_name, reduction)
    L = len(net.layers)
    pins, first_z = [None] * L, out["z"]
    for _ in range(L):
        found = kink_entries(net, res, out["z"], rtol)
        if all(p is None for p in found):
            break
        pins = [
            q if p is None else (p if q is None else (p[0] | q[0], p[1]))
            for p, q in zip(found, pins)
        ]
        out = oracles.backprop(name, net, l2, x, Y, loss_name, reduction, pins)
    return out, pins, first_z



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
    oracle=None,
    quirks: bool = True,
) -> Report:
    """Rows loss, output, model(X), then delta{l}, dW{l}, db{l} for l = L..1 (TOL1).

    Every row holds refnet against each oracle and, with several, the oracles against
    each other; a row passes when refnet agrees with every oracle.

    Parameters
    ----------
    net : refnet.Network
        Its ``gradients`` method (a subclass's override included) is what is checked.
        The oracles' networks are built from it (exact weights, net's dtype).
    X : array (n, n_0)
        Inputs, cast to net's dtype.
    Y : array
        Targets as ``net.gradients`` takes them.
    loss : str or refnet Loss
        A name from ``refnet.losses.names()``, or ``refnet.losses.get(name,
        reduction="sum")`` (Keras' "sum", LS5).
    model : keras model, optional
        A user's Keras model to check as well: it must have net's dtype and exactly
        net's weights, and its own ``model(X)`` is the row ``model(X)`` against each
        oracle's output. Without it that row is each framework model's own call.
    c : float
        The tolerance policy's safety factor C.
    l2 : float
        L2 weight decay: ``net.gradients(..., l2=l2)`` against l2 * sum(W^2) per layer
        in each oracle (LS6; Keras' ``kernel_regularizer=L2(l2)``). Keras casts l2
        through float32 even for float64 weights (``ops.cast(0.01, "float64")`` is
        0.0099999997764825820); refnet and every oracle are given that same value
        (mirrored, with a note).
    dX : bool
        Also compare ``res.dX`` with the oracles' dL/dX (row ``dX``, BP5), last.
    oracle : None, str or tuple of str
        "tf", "torch" or ("tf", "torch"); None: every installed oracle. One that is not
        installed is skipped with a note (ImportError when none is left).
    quirks : bool
        Give networks that use a quirky activation the oracle's stated rtol
        (``tolerance.ORACLE_QUIRKS``); False: strict TOL1 everywhere, so a quirk shows
        as a disagreement (docs/07-checking.md uses this to show triangulation).

    Returns
    -------
    Report
        ``report.ok``; ``report.first_failure`` names where a mismatch first shows
        (rows follow backprop's order: output layer first); ``report.odd_ones``.
    """
    if not isinstance(net, refnet.Network):
        raise TypeError(f"net: expected refnet.Network, got {type(net).__name__}")
    if isinstance(c, bool) or not isinstance(c, (int, float)) or not 0 < c < 1e6:
        raise ValueError(f"c: expected a safety factor in (0, 1e6), got {c!r}")
    dX, quirks = check_bool(dX, "dX"), check_bool(quirks, "quirks")
    notes = []
    loss_obj = refnet.losses.get(loss)
    loss_name, reduction = loss_obj.name, loss_obj.reduction
    if l2:  # the user's backprop, validated there
        l2 = refnet.validation.check_l2(l2)
        if float(np.float32(l2)) != l2:
            notes.append(
                f"l2 {l2!r} mirrored as Keras casts it, through float32: "
                f"{float(np.float32(l2))!r}"
            )
            l2 = float(np.float32(l2))
        res = net.gradients(X, Y, loss_obj, l2=l2)
    else:  # (an override without the l2 argument is still checked)
        res = net.gradients(X, Y, loss_obj)
    input_shape = getattr(net, "input_shape", None)  # a net that flattens its input
    if input_shape is None:
        x = check_input(X, net.sizes[0], net.dtype)
    else:  # (n, *input_shape) flattened row-major, as Keras' Flatten (FL1)
        x = check_input(X, net.sizes[0], net.dtype, "X", input_shape)
    # The oracles last: the user's arguments are checked even where no framework is.
    names, skipped = oracles.select(oracle)
    notes = skipped + notes
    if model is not None:  # it must hold net's exact function, checked first
        user_output, user_notes = _check_model(net, model)
        notes += user_notes

    L = len(net.layers)
    n = max(max(net.sizes), x.shape[0])
    policy = policy_rtol(net.dtype, n, L, c)
    many = len(names) > 1
    results, rtols, row_notes, crashed = {}, {}, {}, []
    for name in names:
        who = oracles.label(name)
        floor, quirk_notes = (
            quirk_rtol(net.dtype, net.activations, name) if quirks else (0.0, [])
        )
        rtols[name] = max(policy, floor)
        row_notes[name] = "quirk rtol" if floor > policy else ""
        notes = [f"{who}: {q}" if many else q for q in quirk_notes] + notes
        try:
            out, pins, first_z = _run_pinned(
                name, net, l2, res, x, Y, loss_name, reduction, rtols[name]
            )
        except workers.WorkerCrashed as err:  # an error row; the others go on
            crashed.append(crash_row(err, rtols[name]))
            continue
        notes = notes + _kink_notes(net, pins, first_z, res, who)
        results[name] = out
    title = _title(net, loss_name, reduction, l2, x, names, c, quirks)
    names = [name for name in names if name in results]
    if not names:  # every oracle crashed: nothing to compare with
        return Report(title, crashed, notes)
    ref = results[names[0]]
    layers = [(layer.W, layer.b, layer.activation) for layer in net.layers]
    M = magnitudes(layers, x, ref["z"], ref["a"], ref["y"], loss_name)
    if reduction == "sum":  # every quantity of the backward pass is n times larger
        M = {key: m * x.shape[0] for key, m in M.items()}
    if l2:  # L += l2 sum W^2, dW += 2 l2 W (LS6)
        M["loss"] = M["loss"] + sum(l2 * float(np.sum(W**2)) for W, _, _ in layers)
        for l, (W, _, _) in enumerate(layers, start=1):
            M[f"dW{l}"] = M[f"dW{l}"] + 2 * l2 * np.abs(W)
    if dX:  # dL/dX = delta[1] @ W[1].T (BP5), magnitude as one more BP2 step
        W1 = np.abs(np.asarray(net.layers[0].W, np.float64))
        M["dX"] = np.sqrt(np.square(M["delta1"]) @ np.square(W1).T)
    M["model(X)"] = M["output"]
    pairs = [(p, q) for i, p in enumerate(names) for q in names[i + 1 :]]

    def row(name, ours, theirs):
        """refnet's ``ours`` against each oracle's ``theirs(result)``; oracle pairs."""
        by_oracle = {
            o: compare_tensor(
                name, ours, theirs(results[o]), rtols[o], row_notes[o], M[name]
            )
            for o in names
        }
        by_pair = {
            (p, q): compare_tensor(
                name,
                theirs(results[q]),
                theirs(results[p]),
                max(rtols[p], rtols[q]),
                row_notes[p] or row_notes[q],
                M[name],
            )
            for p, q in pairs
        }
        return combine(name, by_oracle, by_pair)

    if model is not None:  # the user's Keras model, in its own input shape
        user_out = user_output(x)
        # against TF's output (one framework); without TF, against the others with
        # TF's quirk rtol, since the user's model is TF's
        floor = quirk_rtol(net.dtype, net.activations, "tf")[0] if quirks else 0.0
        model_rows = {
            o: compare_tensor(
                "model(X)", user_out, results[o]["output"], max(rtols[o], floor),
                "quirk rtol" if floor > policy else "", M["output"],
            )
            for o in (["tf"] if "tf" in names else names)
        }  # fmt: skip
    else:  # each framework model's own call against its layer-by-layer run
        model_rows = {
            o: compare_tensor(
                "model(X)", results[o]["model_output"], results[o]["output"],
                rtols[o], row_notes[o], M["output"],
            )
            for o in names
        }  # fmt: skip
    rows = [
        row("loss", np.float64(res.loss), lambda r: np.float64(r["loss"])),
        row("output", res.a[-1], lambda r: r["output"]),
        combine("model(X)", model_rows),
    ]
    for l in range(L, 0, -1):
        i = l - 1
        rows.append(row(f"delta{l}", res.delta[i], lambda r, i=i: r["delta"][i]))
        rows.append(row(f"dW{l}", res.dW[i], lambda r, i=i: r["dW"][i]))
        if net.layers[i].b is not None:  # a layer without bias has no db row
            rows.append(row(f"db{l}", res.db[i], lambda r, i=i: r["db"][i]))
        elif res.db[i] is not None:  # ... and a db for it is wrong
            rows.append(Row(f"db{l}", (), math.inf, math.inf, policy, math.nan, False,
                            None, math.inf, "a db for a layer without bias (expected None)"))  # fmt: skip
    if dX:  # (n, *input_shape) for a net with one: flattened like x
        got_dX = np.asarray(res.dX)
        got_dX = got_dX.reshape(got_dX.shape[0], -1) if got_dX.ndim > 2 else got_dX
        rows.append(row("dX", got_dX, lambda r: r["dX"]))
    return Report(title, crashed + rows, notes)


def _title(net, loss_name, reduction, l2, x, against, c, quirks) -> str:
    """The report's title: the network, the loss, the oracles and the tolerance."""
    sizes = "-".join(map(str, net.sizes))
    extras = (", reduction=sum" if reduction == "sum" else "") + (
        f", l2={l2:g}" if l2 else ""
    )
    against = ", ".join(oracles.label(o) for o in against)
    L = len(net.layers)
    n = max(max(net.sizes), x.shape[0])
    return (
        f"{type(net).__name__} {sizes} [{','.join(net.activations)}] {loss_name}{extras} "
        f"{net.dtype.name} batch {x.shape[0]} vs {against}: rtol = {c:g} * eps * "
        f"sqrt({n})" + (f" * {L}/4" if L > 4 else "") + ("" if quirks else ", no quirks")
    )


def assert_match(net: refnet.Network, X, Y, loss="mse", **kwargs) -> Report:
    """compare(...), raising AssertionError with the report's table on any mismatch."""
    report = compare(net, X, Y, loss, **kwargs)
    if not report.ok:
        raise AssertionError("refnet and its oracles disagree\n" + str(report))
    return report
